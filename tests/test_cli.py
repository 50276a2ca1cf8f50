"""The real `wellbeing` console script, run in a subprocess on SQLite.

Each call starts a Python process (about 0.3 s here), so the tests that only
read or add members share one school, built once for the module.
"""

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
import pytest
from people import Canary, make_canary, write_template_file

UUID_PATTERN = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)
DETAILS = {
    "id",
    "surname",
    "forename",
    "middle_names",
    "date_of_birth",
    "sex",
    "year_group",
}


def wellbeing(
    folder: Path, *args: str, **settings: str
) -> subprocess.CompletedProcess[str]:
    """Run the console script in folder (no .env there) with its own data."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WELLBEING_")}
    env["WELLBEING_DATA_DIR"] = str(folder / "data")
    env.update({f"WELLBEING_{name.upper()}": v for name, v in settings.items()})
    return subprocess.run(
        [sys.executable, "-m", "wellbeing.cli.main", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def json_of(folder: Path, *args: str) -> Any:
    """Run a command with --json that must succeed, and parse what it prints."""
    done = wellbeing(folder, *args, "--json")
    assert done.returncode == 0, done.stderr
    return orjson.loads(done.stdout)


def new_id(folder: Path, *args: str) -> str:
    printed = json_of(folder, *args)
    assert UUID_PATTERN.match(printed["id"])
    return str(printed["id"])


@dataclass
class School:
    folder: Path
    team_id: str
    pupils: list[Canary]


@pytest.fixture(scope="module")
def school(tmp_path_factory: pytest.TempPathFactory) -> School:
    """A team with two imported pupils; tests here add members, never pupils."""
    folder = tmp_path_factory.mktemp("school")
    pupils = [make_canary(1), make_canary(2)]
    census = write_template_file(folder / "pupils.csv", pupils)
    team_id = new_id(
        folder, "teams", "create", "Trelawny", "--la", "908", "--estab", "2001"
    )
    json_of(folder, "import", str(census), "--team", team_id, "--commit")
    return School(folder, team_id, pupils)


def walk(value: Any) -> Iterator[Any]:
    """Every key and value inside a parsed JSON document."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)
    else:
        yield value


def test_teams_create_prints_the_new_id(tmp_path: Path) -> None:
    done = wellbeing(
        tmp_path,
        "teams",
        "create",
        "Penwith",
        "--la",
        "908",
        "--estab",
        "4002",
        "--json",
    )

    assert done.returncode == 0, done.stderr
    assert list(orjson.loads(done.stdout)) == ["id"]
    assert UUID_PATTERN.match(orjson.loads(done.stdout)["id"])


def test_import_with_commit_reports_every_pupil_as_new(tmp_path: Path) -> None:
    census = write_template_file(
        tmp_path / "pupils.csv", [make_canary(1), make_canary(2)]
    )
    team_id = new_id(
        tmp_path, "teams", "create", "Penwith", "--la", "908", "--estab", "4002"
    )

    report = json_of(tmp_path, "import", str(census), "--team", team_id, "--commit")

    assert report["committed"] is True
    assert report["summary"] == {"new": 2, "updated": 0, "unchanged": 0, "rejected": 0}
    assert all(UUID(row["participant_id"]) for row in report["rows"])


def test_participants_list_gives_details_and_never_the_upn(school: School) -> None:
    done = wellbeing(
        school.folder, "participants", "list", "--team", school.team_id, "--json"
    )

    listed = orjson.loads(done.stdout)
    items = {item["surname"]: item for item in listed["items"]}
    first = school.pupils[0]
    assert done.returncode == 0, done.stderr
    assert sorted(items) == sorted(p.surname for p in school.pupils)
    assert all(set(item) >= DETAILS for item in items.values())
    assert items[first.surname]["forename"] == first.forename
    assert items[first.surname]["date_of_birth"] == first.date_of_birth.isoformat()
    assert items[first.surname]["sex"] == "F"
    upns = {p.upn for p in school.pupils}
    assert upns.isdisjoint(str(part) for part in walk(listed))
    assert not any(upn in done.stdout for upn in upns)


def test_stats_counts_teams_and_participants(school: School) -> None:
    counts = json_of(school.folder, "stats")

    assert counts["teams"] == 1
    assert counts["participants"] == len(school.pupils)


def test_users_create_prints_the_new_id(tmp_path: Path) -> None:
    printed = json_of(tmp_path, "users", "create", "jenna@example.org")

    assert UUID_PATTERN.match(printed["id"])


def test_teams_invite_prints_the_invitees_id(school: School) -> None:
    printed = json_of(
        school.folder,
        "teams",
        "invite",
        school.team_id,
        "morwenna@example.org",
        "--role",
        "practitioner",
    )

    assert UUID_PATTERN.match(printed["id"])
    assert printed["team_id"] == school.team_id


def test_teams_join_as_the_invitee_prints_the_team_id(school: School) -> None:
    invitee = new_id(
        school.folder,
        "teams",
        "invite",
        school.team_id,
        "demelza@example.org",
        "--role",
        "admin",
    )

    joined = json_of(school.folder, "teams", "join", school.team_id, "--as", invitee)

    assert joined["id"] == school.team_id


def test_tags_define_prints_the_team_id(school: School) -> None:
    printed = json_of(
        school.folder, "tags", "define", school.team_id, "FSM", "eligible", "ever-6"
    )

    assert printed["id"] == school.team_id


def test_teams_agree_prints_the_team_id(school: School) -> None:
    printed = json_of(
        school.folder,
        "teams",
        "agree",
        school.team_id,
        "headstart-kernow",
        "--from",
        "2024-09-01",
        "--until",
        "2025-08-31",
    )

    assert printed["id"] == school.team_id


def test_acting_as_a_user_without_rights_fails_naming_no_personal_data(
    school: School,
) -> None:
    address = "canarystaff7f3e@example.org"
    stranger = new_id(school.folder, "users", "create", address, "--name", "Kitto")

    done = wellbeing(
        school.folder,
        "participants",
        "list",
        "--team",
        school.team_id,
        "--as",
        stranger,
    )

    personal = [address, "Kitto"]
    personal += [v for p in school.pupils for v in (p.surname, p.forename, p.upn)]
    assert done.returncode != 0
    assert done.stdout == ""
    assert done.stderr.startswith("wellbeing: ")
    assert [value for value in personal if value in done.stderr] == []


def test_invalid_database_url_exits_78_naming_the_setting(tmp_path: Path) -> None:
    done = wellbeing(tmp_path, "stats", database_url="mysql://db.example.org/ledger")

    assert done.returncode == 78
    assert "WELLBEING_DATABASE_URL" in done.stderr


def test_demo_prints_the_figures(tmp_path: Path) -> None:
    done = wellbeing(tmp_path, "demo")

    figures = dict(re.findall(r"^(teams|participants)\s+(\d+)$", done.stdout, re.M))
    assert done.returncode == 0, done.stderr
    assert sorted(figures) == ["participants", "teams"]
    assert int(figures["teams"]) > 0
    assert int(figures["participants"]) > 0


def test_erasing_a_user_twice_says_so_the_second_time(tmp_path: Path) -> None:
    user_id = new_id(tmp_path, "users", "create", "twice@example.test")

    first = wellbeing(tmp_path, "erase", "user", user_id)
    second = wellbeing(tmp_path, "erase", "user", user_id)

    assert first.stdout.strip() == f"user {user_id} erased"
    assert second.stdout.strip() == f"user {user_id} was already erased"
