"""Usage figures: totals and breakdowns by team, LA, partner and period."""

import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
import pytest
from conftest import StoreFactory
from test_projections_world import (
    new_program,
    new_pupil,
    new_snapshot,
    new_team,
    scores,
)

from wellbeing.aggregates.team import Team
from wellbeing.aggregates.user import User
from wellbeing.commands.actor import Actor
from wellbeing.commands.erasure import EraseParticipant, erase_participant
from wellbeing.commands.loading import load
from wellbeing.persistence.runtime import Runtime, open_runtime
from wellbeing.projections.rebuild import rebuild
from wellbeing.projections.usage import UsageProjection
from wellbeing.projections.usage_report import usage_report

KERNOW, HQ = "headstart-kernow", "headstart-hq"


@dataclass
class Schools:
    trelawny: UUID
    porthleven: UUID
    zennor: UUID
    pupil_ids: list[UUID]


def schools(runtime: Runtime, actor: Actor) -> Schools:
    """Three teams: Trelawny (LA 908, Kernow), Porthleven (909, HQ), Zennor
    (908, no agreement); three users, six pupils, five snapshots, two
    programs."""
    trelawny = new_team(
        runtime, actor, "Trelawny", "908", [(KERNOW, date(2024, 9, 1), None)]
    )
    porthleven = new_team(
        runtime, actor, "Porthleven", "909", [(HQ, date(2024, 9, 1), None)]
    )
    zennor = new_team(runtime, actor, "Zennor", "908")
    _staff(runtime, actor, trelawny, porthleven)
    a = [new_pupil(runtime, actor, trelawny, n) for n in (1, 2, 3)]
    b = [new_pupil(runtime, actor, porthleven, n) for n in (1, 2)]
    c = [new_pupil(runtime, actor, zennor, 1)]
    done = new_snapshot(runtime, actor, a[0], date(2024, 10, 3), completed=scores(2))
    new_program(runtime, actor, a[0], done, closed=True)
    new_snapshot(
        runtime, actor, a[1], date(2024, 11, 5), kind="universal", discarded=True
    )
    new_snapshot(runtime, actor, a[2], date(2025, 1, 6), kind="universal")
    done = new_snapshot(runtime, actor, b[0], date(2025, 4, 1), completed=scores(3))
    new_program(runtime, actor, b[0], done)
    new_snapshot(
        runtime, actor, c[0], date(2024, 8, 31), kind="universal", completed=scores(1)
    )
    return Schools(trelawny, porthleven, zennor, [p.id for p in a + b + c])


def _staff(runtime: Runtime, actor: Actor, trelawny: UUID, porthleven: UUID) -> None:
    now = datetime.now(UTC)
    joined, invited, founder = (
        User(actor_id=actor.user_id, email=f"{n}@example.org", name=n)
        for n in ("joined", "invited", "founder")
    )
    first = load(runtime, Team, trelawny)
    first.invite(actor.user_id, joined.id, "practitioner", now)
    first.join(joined.id, joined.id, now)
    first.invite(actor.user_id, invited.id, "practitioner", now)
    second = load(runtime, Team, porthleven)
    second.add_founder(actor.user_id, founder.id, now)
    runtime.writer.commit(joined, invited, founder, first, second)


def counts(row: dict[str, Any]) -> tuple[int, ...]:
    return tuple(
        row[k] for k in ("teams", "users", "participants", "snapshots", "programs")
    )


def test_totals_count_each_kind_of_record(runtime: Runtime, actor: Actor) -> None:
    schools(runtime, actor)

    report = usage_report(runtime)

    assert (report["teams"], report["users"], report["participants"]) == (3, 3, 6)
    assert report["snapshots"] == {
        "total": 5,
        "by_kind": {"comprehensive": 2, "universal": 3},
        "by_status": {"completed": 3, "discarded": 1, "started": 1},
    }
    assert report["programs"] == {"total": 2, "by_status": {"active": 1, "closed": 1}}


def test_by_team_counts_members_who_joined(runtime: Runtime, actor: Actor) -> None:
    made = schools(runtime, actor)

    rows = {r["name"]: r for r in usage_report(runtime)["by_team"]}

    assert counts(rows["Trelawny"]) == (1, 1, 3, 3, 1)
    assert counts(rows["Porthleven"]) == (1, 1, 2, 1, 1)
    assert counts(rows["Zennor"]) == (1, 0, 1, 1, 0)
    assert rows["Trelawny"]["team_id"] == str(made.trelawny)
    assert rows["Trelawny"]["la_code"] == "908"
    assert rows["Trelawny"]["snapshots_by_status"] == {
        "completed": 1,
        "discarded": 1,
        "started": 1,
    }


def test_by_la_adds_up_the_teams_of_each_authority(
    runtime: Runtime, actor: Actor
) -> None:
    schools(runtime, actor)

    rows = {r["la_code"]: r for r in usage_report(runtime)["by_la"]}

    assert counts(rows["908"]) == (2, 1, 4, 4, 1)
    assert counts(rows["909"]) == (1, 1, 2, 1, 1)
    assert rows["908"]["snapshots_by_kind"] == {"comprehensive": 1, "universal": 3}


def test_by_partner_counts_kernow_teams_for_hq_too(
    runtime: Runtime, actor: Actor
) -> None:
    schools(runtime, actor)

    rows = {r["partner"]: r for r in usage_report(runtime)["by_partner"]}

    assert set(rows) == {KERNOW, HQ}
    assert counts(rows[KERNOW]) == (1, 1, 3, 3, 1)
    assert counts(rows[HQ]) == (2, 2, 5, 4, 2)
    assert rows[HQ]["programs_by_status"] == {"active": 1, "closed": 1}


def test_by_period_places_snapshots_by_the_day_taken(
    runtime: Runtime, actor: Actor
) -> None:
    schools(runtime, actor)

    periods = usage_report(runtime)["by_period"]

    def snapshots(kind: str) -> dict[str, int]:
        return {r["period"]: r["snapshots"] for r in periods[kind] if r["snapshots"]}

    assert snapshots("academic_year") == {"2023/24": 1, "2024/25": 4}
    assert snapshots("term") == {
        "2023/24 summer": 1,
        "2024/25 autumn": 2,
        "2024/25 spring": 1,
        "2024/25 summer": 1,
    }
    assert snapshots("month") == {
        "2024-08": 1,
        "2024-10": 1,
        "2024-11": 1,
        "2025-01": 1,
        "2025-04": 1,
    }


def test_by_period_counts_users_when_they_registered(
    runtime: Runtime, actor: Actor
) -> None:
    schools(runtime, actor)
    today = datetime.now(UTC).date()

    periods = usage_report(runtime)["by_period"]["month"]

    users = {r["period"]: r["users"] for r in periods if r["users"]}
    assert sum(users.values()) == 3
    assert set(users) <= {f"{today.year}-{today.month:02d}", _previous_month(today)}


def _previous_month(day: date) -> str:
    # An event stored just before midnight UTC on the 1st is counted in
    # English time, which may still be the previous month in winter.
    year, month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
    return f"{year}-{month:02d}"


def test_chosen_teams_only(runtime: Runtime, actor: Actor) -> None:
    made = schools(runtime, actor)

    report = usage_report(runtime, [str(made.porthleven)])

    assert (report["teams"], report["users"], report["participants"]) == (1, 1, 2)
    assert report["snapshots"]["total"] == 1
    assert [r["name"] for r in report["by_team"]] == ["Porthleven"]
    assert [r["partner"] for r in report["by_partner"]] == [HQ]


def test_renamed_team_shows_its_new_name(runtime: Runtime, actor: Actor) -> None:
    made = schools(runtime, actor)
    team = load(runtime, Team, made.zennor)
    team.rename(actor.user_id, "Zennor Primary")
    runtime.writer.commit(team)

    names = [r["name"] for r in usage_report(runtime)["by_team"]]

    assert names == ["Porthleven", "Trelawny", "Zennor Primary"]


def test_figures_are_the_same_after_an_erasure(runtime: Runtime, actor: Actor) -> None:
    made = schools(runtime, actor)
    before = usage_report(runtime)

    erase_participant(runtime, EraseParticipant(actor, made.pupil_ids[0]))

    assert usage_report(runtime) == before


def test_figures_are_the_same_after_a_rebuild(runtime: Runtime, actor: Actor) -> None:
    made = schools(runtime, actor)
    erase_participant(runtime, EraseParticipant(actor, made.pupil_ids[3]))
    before = usage_report(runtime)

    rebuild(runtime, UsageProjection())

    assert usage_report(runtime) == before


def test_figures_need_no_kek(stores: StoreFactory, actor: Actor) -> None:
    writing = open_runtime(stores.settings())
    schools(writing, actor)
    expected = usage_report(writing)
    writing.close()
    reading = open_runtime(stores.settings(without_kek=True), need_kek=False)
    try:
        assert reading.keys.keyring is None
        assert usage_report(reading) == expected
    finally:
        reading.close()


def wellbeing(settings: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WELLBEING_")}
    env.update({f"WELLBEING_{k}": v for k, v in settings.items()})
    return subprocess.run(
        [sys.executable, "-m", "wellbeing.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def filled(stores: StoreFactory, actor: Actor, tmp_path: Path) -> dict[str, str]:
    """A store with the three schools, and settings to reach it without a KEK."""
    runtime = open_runtime(stores.settings())
    schools(runtime, actor)
    runtime.close()
    settings = stores.settings(without_kek=True)
    return {"DATABASE_URL": settings.database_url, "DATA_DIR": str(tmp_path / "other")}


def test_stats_json_has_the_totals_at_the_top_and_breakdowns_beside(
    filled: dict[str, str],
) -> None:
    done = wellbeing(filled, "stats", "--json")

    assert done.returncode == 0, done.stderr
    report = orjson.loads(done.stdout)
    assert list(report)[:5] == [
        "teams",
        "users",
        "participants",
        "snapshots",
        "programs",
    ]
    assert {"by_team", "by_la", "by_partner", "by_period"} <= set(report)
    assert report["participants"] == 6
    assert set(report["by_period"]) == {"month", "term", "academic_year"}


def test_stats_prints_a_table(filled: dict[str, str]) -> None:
    done = wellbeing(filled, "stats")

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["what", "count"]
    assert ["participants", "6"] in [line.split() for line in lines]
    assert ["908", "2", "1", "4", "4", "1"] in [line.split() for line in lines]


def test_renewed_and_withdrawn_agreements_replace_the_old_terms(
    runtime: Runtime, actor: Actor
) -> None:
    team_id = new_team(runtime, actor, agreements=[(KERNOW, date(2023, 9, 1), None)])
    usage_report(runtime)
    team = load(runtime, Team, team_id)
    team.agree(actor.user_id, KERNOW, date(2024, 9, 1), None)
    team.withdraw(actor.user_id, KERNOW, date(2025, 7, 31))
    runtime.writer.commit(team)

    report = usage_report(runtime)

    assert [r["partner"] for r in report["by_partner"]] == [HQ, KERNOW]
    with runtime.database.transaction() as tx:
        tx.execute("SELECT partner, starts, ends FROM usage_agreements")
        assert tx.fetchall() == [(KERNOW, "2024-09-01", "2025-07-31")]
