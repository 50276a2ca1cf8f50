"""Reading usage figures and partner exports, with their permissions."""

from collections.abc import Iterator
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from wellbeing.aggregates.base import NotAllowed, NotFound
from wellbeing.aggregates.team import Team
from wellbeing.aggregates.user import User
from wellbeing.commands.actor import Actor
from wellbeing.commands.authorization import ANALYST, OPERATOR, TEAM_ADMIN, roles_of
from wellbeing.commands.instrument_files import load_instruments
from wellbeing.persistence.email_index import teams_of
from wellbeing.persistence.runtime import Runtime
from wellbeing.projections.partner_export import PARTNERS, export_rows
from wellbeing.projections.usage_report import teams_with_agreements, usage_report


def usage_for(
    runtime: Runtime,
    actor: Actor,
    *,
    la: str | None = None,
    team: UUID | None = None,
) -> dict[str, Any]:
    """All figures for the operator and analysts of a partner's teams; a team
    admin sees the teams they administer. `la` and `team` narrow the figures;
    a team the actor cannot see raises NotFound.
    """
    visible = _visible_teams(runtime, actor)
    if la is None and team is None:
        return usage_report(runtime, visible)
    if team is not None and visible is not None and str(team) not in visible:
        raise NotFound("team not found")
    rows = usage_report(runtime, visible)["by_team"]
    chosen = [
        row["team_id"]
        for row in rows
        if (la is None or row.get("la_code") == la)
        and (team is None or row["team_id"] == str(team))
    ]
    return usage_report(runtime, chosen)


def _visible_teams(runtime: Runtime, actor: Actor) -> list[str] | None:
    """The teams whose figures the actor may read; None means all of them."""
    if actor.is_operator:
        return None
    roles = roles_of(runtime, actor)
    if ANALYST in roles:
        return _partner_teams(runtime, actor)
    admin_of = [
        str(t) for t in _member_teams(runtime, actor) if _is_admin(runtime, actor, t)
    ]
    if not admin_of:
        raise NotAllowed("not allowed to read-stats")
    return admin_of


def downloadable(runtime: Runtime, actor: Actor) -> list[str]:
    """The partners whose export the actor may download."""
    if actor.is_operator:
        return list(PARTNERS)
    user: object = runtime.ledger.repository.get(actor.user_id)
    if not isinstance(user, User) or user.erased:
        return []
    return [p for p in PARTNERS if p in user.partner_roles]


def _member_teams(runtime: Runtime, actor: Actor) -> list[UUID]:
    with runtime.database.transaction() as tx:
        return teams_of(tx, actor.user_id)


def _is_admin(runtime: Runtime, actor: Actor, team_id: UUID) -> bool:
    team: object = runtime.ledger.repository.get(team_id)
    return isinstance(team, Team) and TEAM_ADMIN in roles_of(runtime, actor, team)


def _partner_teams(runtime: Runtime, actor: Actor) -> list[str]:
    user: object = runtime.ledger.repository.get(actor.user_id)
    partners = user.partner_roles if isinstance(user, User) else []
    team_ids = teams_with_agreements(runtime)
    visible = []
    for team_id in team_ids:
        try:
            team: object = runtime.ledger.repository.get(UUID(team_id))
        except AggregateNotFoundError:
            continue
        if isinstance(team, Team) and any(team.has_agreement(p) for p in partners):
            visible.append(team_id)
    return visible


def partner_rows(
    runtime: Runtime, actor: Actor, partner: str
) -> Iterator[dict[str, Any]]:
    """Export rows for the operator or an analyst of that very partner."""
    if not actor.is_operator:
        user: object = runtime.ledger.repository.get(actor.user_id)
        if not isinstance(user, User) or partner not in user.partner_roles:
            raise NotAllowed("not allowed to read this partner's export")
    elif OPERATOR not in roles_of(runtime, actor):
        raise NotAllowed("not allowed to read this partner's export")
    return export_rows(runtime, partner)


def export_subdomains() -> list[str]:
    """Score columns: every subdomain of every shipped instrument, in order."""
    names: list[str] = []
    for instrument in load_instruments().values():
        for item in instrument.items:
            if item.subdomain not in names:
                names.append(item.subdomain)
    return names
