"""Usage figures from the usage view: totals and breakdowns, no key needed."""

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from wellbeing.persistence.runtime import Runtime
from wellbeing.projections.engine import catch_up, identifier, live_names
from wellbeing.projections.periods import PERIODS
from wellbeing.projections.usage import UsageProjection

Fact = tuple[str, str, str, dict[str, str]]
ENTITIES = ("teams", "users", "participants", "snapshots", "programs")


def _rows(runtime: Runtime, statement: str) -> list[tuple[Any, ...]]:
    with runtime.database.transaction() as tx:
        tx.execute(statement)
        rows: list[tuple[Any, ...]] = tx.fetchall()
    return rows


def usage_report(
    runtime: Runtime, team_ids: Iterable[str] | None = None
) -> dict[str, Any]:
    """The usage figures, for all teams or only the given ones.

    The view is brought up to date first, as on the embedded store no runner
    process does it; on PostgreSQL this finds little or nothing to do.
    """
    projection = UsageProjection()
    catch_up(runtime, projection)
    names = live_names(projection)
    teams = _rows(runtime, "SELECT team_id, la_code, at FROM " + names["usage_teams"])
    wanted = None if team_ids is None else set(team_ids)

    def keep(team: str) -> bool:
        return wanted is None or team in wanted

    la_of = {t: la for t, la, _ in teams if keep(t)}
    facts: dict[str, list[Fact]] = {
        "teams": [(t, t, at, {}) for t, _, at in teams if keep(t)],
        "participants": _facts(runtime, names["usage_participants"], keep),
        "snapshots": _facts(runtime, names["usage_snapshots"], keep, "kind, status"),
        "programs": _facts(runtime, names["usage_programs"], keep, "status"),
    }
    users = _rows(runtime, "SELECT user_id, at FROM " + names["usage_users"])
    agreements = _rows(
        runtime,
        "SELECT team_id, partner, starts, ends FROM " + names["usage_agreements"],
    )
    return _report(facts, len(users) if wanted is None else None, la_of, agreements)


def _facts(
    runtime: Runtime, table: str, keep: Callable[[str], bool], extra: str = ""
) -> list[Fact]:
    names = [identifier(c.strip()) for c in extra.split(",")] if extra else []
    columns = "".join(", " + name for name in names)
    rows = _rows(runtime, "SELECT 1, team_id, at" + columns + " FROM " + table)
    return [
        (str(row[0]), row[1], row[2], dict(zip(names, row[3:], strict=True)))
        for row in rows
        if keep(row[1])
    ]


def _report(
    facts: dict[str, list[tuple[str, str, str, dict[str, str]]]],
    users: int | None,
    la_of: dict[str, str],
    agreements: list[tuple[Any, ...]],
) -> dict[str, Any]:
    snapshots = facts["snapshots"]
    programs = facts["programs"]
    report: dict[str, Any] = {
        "teams": len(facts["teams"]),
        "users": users,
        "participants": len(facts["participants"]),
        "snapshots": {
            "total": len(snapshots),
            "by_kind": dict(Counter(f[3]["kind"] for f in snapshots)),
            "by_status": dict(Counter(f[3]["status"] for f in snapshots)),
        },
        "programs": {
            "total": len(programs),
            "by_status": dict(Counter(f[3]["status"] for f in programs)),
        },
    }
    report["by_team"] = _breakdown(facts, lambda team: [team], "team_id")
    report["by_la"] = _breakdown(facts, lambda team: [la_of.get(team, "")], "la_code")
    partners = _partners_of(agreements)
    report["by_partner"] = _breakdown(
        facts, lambda team: partners.get(team, []), "partner"
    )
    report["by_period"] = {
        kind: _by_period(facts, period) for kind, period in PERIODS.items()
    }
    return report


def _partners_of(agreements: list[tuple[Any, ...]]) -> dict[str, list[str]]:
    partners: dict[str, list[str]] = {}
    for team, partner, _starts, _ends in agreements:
        names = partners.setdefault(team, [])
        names.append(partner)
        # HQ receives through Kernow, so Kernow's agreement counts for both.
        if partner == "headstart-kernow" and "headstart-hq" not in names:
            names.append("headstart-hq")
    return partners


def _breakdown(
    facts: dict[str, list[tuple[str, str, str, dict[str, str]]]],
    groups: Any,
    label: str,
) -> list[dict[str, Any]]:
    table: dict[str, Counter[str]] = {}
    for entity, rows in facts.items():
        for _, team, _, _ in rows:
            for group in groups(team):
                table.setdefault(group, Counter())[entity] += 1
    return [
        {label: group, **{e: counts.get(e, 0) for e in ENTITIES if e != "users"}}
        for group, counts in sorted(table.items())
    ]


def _by_period(
    facts: dict[str, list[tuple[str, str, str, dict[str, str]]]], period: Any
) -> list[dict[str, Any]]:
    table: dict[str, Counter[str]] = {}
    for entity, rows in facts.items():
        for _, _, at, _ in rows:
            table.setdefault(period(date.fromisoformat(at)), Counter())[entity] += 1
    return [
        {"period": name, **{e: counts.get(e, 0) for e in ENTITIES if e != "users"}}
        for name, counts in sorted(table.items())
    ]


def teams_with_agreements(runtime: Runtime) -> list[str]:
    """Teams that have, or had, a sharing agreement, from a current view."""
    projection = UsageProjection()
    catch_up(runtime, projection)
    table = live_names(projection)["usage_agreements"]
    return sorted(
        {str(row[0]) for row in _rows(runtime, "SELECT team_id FROM " + table)}
    )
