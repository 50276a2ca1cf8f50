"""Usage figures from the usage view: totals and breakdowns, no key needed."""

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from wellbeing.persistence.runtime import Runtime
from wellbeing.projections.engine import catch_up, live_names
from wellbeing.projections.periods import PERIODS
from wellbeing.projections.usage import UsageProjection

ENTITIES = ("teams", "users", "participants", "snapshots", "programs")
KERNOW, HQ = "headstart-kernow", "headstart-hq"


@dataclass(frozen=True)
class Fact:
    """`count` records of one entity, of one team, on one day."""

    entity: str
    team_id: str
    day: str
    count: int
    kind: str | None = None
    status: str | None = None


@dataclass
class Tally:
    """The figures of one group: a team, an LA, a partner or a period."""

    counts: Counter[str] = field(default_factory=Counter)
    users: set[str] = field(default_factory=set)
    snapshot_kinds: Counter[str] = field(default_factory=Counter)
    snapshot_statuses: Counter[str] = field(default_factory=Counter)
    program_statuses: Counter[str] = field(default_factory=Counter)

    def add(self, fact: Fact) -> None:
        self.counts[fact.entity] += fact.count
        if fact.entity == "snapshots":
            self.snapshot_kinds[str(fact.kind)] += fact.count
            self.snapshot_statuses[str(fact.status)] += fact.count
        elif fact.entity == "programs":
            self.program_statuses[str(fact.status)] += fact.count

    def figures(self) -> dict[str, Any]:
        shown: dict[str, Any] = {e: self.counts.get(e, 0) for e in ENTITIES}
        if self.users:
            shown["users"] = len(self.users)
        shown["snapshots_by_kind"] = dict(sorted(self.snapshot_kinds.items()))
        shown["snapshots_by_status"] = dict(sorted(self.snapshot_statuses.items()))
        shown["programs_by_status"] = dict(sorted(self.program_statuses.items()))
        return shown


@dataclass
class _View:
    teams: dict[str, tuple[str, str, str]]
    users: dict[str, str]
    members: list[tuple[str, str]]
    facts: list[Fact]
    partners: dict[str, list[str]]


def usage_report(
    runtime: Runtime, team_ids: Iterable[str] | None = None
) -> dict[str, Any]:
    """The usage figures, for all teams or only the given ones.

    Totals of teams, users, participants, snapshots (by kind and status) and
    programs sit at the top; breakdowns by team, LA, partner and period
    (month, term, academic year) beside them. Without a team filter `users`
    counts every registered user; with one, the members of those teams.

    The view is brought up to date first: on the embedded store no runner
    process does it, and on PostgreSQL this finds little or nothing to do.
    """
    projection = UsageProjection()
    catch_up(runtime, projection)
    view = _read(runtime, live_names(projection))
    wanted = None if team_ids is None else {str(t) for t in team_ids}
    if wanted is not None:
        view = _only(view, wanted)
    return _report(view, all_users=wanted is None)


def _read(runtime: Runtime, names: dict[str, str]) -> _View:
    with runtime.database.transaction() as tx:
        tx.execute("SELECT team_id, name, la_code, at FROM " + names["usage_teams"])
        teams = {str(t): (str(n), str(la), str(at)) for t, n, la, at in tx.fetchall()}
        tx.execute("SELECT user_id, at FROM " + names["usage_users"])
        users = {str(u): str(at) for u, at in tx.fetchall()}
        tx.execute(
            "SELECT team_id, user_id FROM "
            + names["usage_members"]
            + " WHERE joined = 1"
        )
        members = [(str(t), str(u)) for t, u in tx.fetchall()]
        tx.execute(
            "SELECT team_id, at, count(*) FROM "
            + names["usage_participants"]
            + " GROUP BY team_id, at"
        )
        facts = [Fact("participants", t, at, n) for t, at, n in tx.fetchall()]
        tx.execute(
            "SELECT team_id, at, kind, status, count(*) FROM "
            + names["usage_snapshots"]
            + " GROUP BY team_id, at, kind, status"
        )
        facts += [Fact("snapshots", *row) for row in _counted(tx.fetchall())]
        tx.execute(
            "SELECT team_id, at, NULL, status, count(*) FROM "
            + names["usage_programs"]
            + " GROUP BY team_id, at, status"
        )
        facts += [Fact("programs", *row) for row in _counted(tx.fetchall())]
        tx.execute("SELECT team_id, partner FROM " + names["usage_agreements"])
        partners = _partners_of(tx.fetchall())
    facts += [Fact("teams", team, at, 1) for team, (_, _, at) in teams.items()]
    return _View(teams, users, members, facts, partners)


def _counted(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Rows (team, day, kind, status, n) in the order of Fact's fields."""
    return [
        (str(t), str(day), int(n), kind, status) for t, day, kind, status, n in rows
    ]


def _partners_of(rows: list[tuple[Any, ...]]) -> dict[str, list[str]]:
    partners: dict[str, list[str]] = {}
    for team, partner in rows:
        names = partners.setdefault(str(team), [])
        # HQ receives through Kernow, so Kernow's agreement counts for both.
        for name in (partner, HQ) if partner == KERNOW else (partner,):
            if name not in names:
                names.append(name)
    return partners


def _only(view: _View, wanted: set[str]) -> _View:
    members = [(t, u) for t, u in view.members if t in wanted]
    visible = {u for _, u in members}
    return _View(
        {t: v for t, v in view.teams.items() if t in wanted},
        {u: at for u, at in view.users.items() if u in visible},
        members,
        [f for f in view.facts if f.team_id in wanted],
        {t: p for t, p in view.partners.items() if t in wanted},
    )


def _report(view: _View, *, all_users: bool) -> dict[str, Any]:
    total = Tally()
    for fact in view.facts:
        total.add(fact)
    figures = total.figures()
    report: dict[str, Any] = {
        "teams": figures["teams"],
        "users": len(view.users) if all_users else len({u for _, u in view.members}),
        "participants": figures["participants"],
        "snapshots": {
            "total": figures["snapshots"],
            "by_kind": figures["snapshots_by_kind"],
            "by_status": figures["snapshots_by_status"],
        },
        "programs": {
            "total": figures["programs"],
            "by_status": figures["programs_by_status"],
        },
    }
    report["by_team"] = _by_team(view)
    report["by_la"] = _grouped(view, lambda t: [view.teams[t][1]], "la_code")
    report["by_partner"] = _grouped(view, lambda t: view.partners.get(t, []), "partner")
    report["by_period"] = {
        kind: _by_period(view, period) for kind, period in PERIODS.items()
    }
    return report


def _grouped(
    view: _View, groups: Callable[[str], list[str]], label: str
) -> list[dict[str, Any]]:
    tallies: dict[str, Tally] = {}
    for fact in view.facts:
        if fact.team_id in view.teams:
            for group in groups(fact.team_id):
                tallies.setdefault(group, Tally()).add(fact)
    for team, user in view.members:
        if team in view.teams:
            for group in groups(team):
                tallies.setdefault(group, Tally()).users.add(user)
    return [{label: g, **t.figures()} for g, t in sorted(tallies.items())]


def _by_team(view: _View) -> list[dict[str, Any]]:
    rows = _grouped(view, lambda t: [t], "team_id")
    for row in rows:
        name, la_code, _ = view.teams[row["team_id"]]
        row["name"] = name
        row["la_code"] = la_code
    return sorted(rows, key=lambda r: (r["name"], r["team_id"]))


def _by_period(view: _View, period: Callable[[date], str]) -> list[dict[str, Any]]:
    tallies: dict[str, Tally] = {}
    for fact in view.facts:
        tallies.setdefault(period(date.fromisoformat(fact.day)), Tally()).add(fact)
    for at in view.users.values():
        tallies.setdefault(period(date.fromisoformat(at)), Tally()).counts["users"] += 1
    return [{"period": p, **t.figures()} for p, t in sorted(tallies.items())]


def teams_with_agreements(runtime: Runtime) -> list[str]:
    """Teams that have, or had, a sharing agreement with any partner."""
    projection = UsageProjection()
    catch_up(runtime, projection)
    with runtime.database.transaction() as tx:
        tx.execute(
            "SELECT DISTINCT team_id FROM "
            + live_names(projection)["usage_agreements"]
            + " ORDER BY team_id"
        )
        return [str(row[0]) for row in tx.fetchall()]
