"""Teams: registering, members and invitations, sharing, tag vocabularies."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from uuid import UUID

from wellbeing.aggregates.team import ADMIN, Team, check_role
from wellbeing.commands.actor import Actor
from wellbeing.commands.authorization import authorize, roles_of
from wellbeing.commands.loading import load
from wellbeing.commands.retry import with_retries
from wellbeing.commands.users import find_or_register_user
from wellbeing.errors import InputError
from wellbeing.persistence.database import Tx
from wellbeing.persistence.email_index import set_membership
from wellbeing.persistence.runtime import Runtime

Result = dict[str, str]


@dataclass(frozen=True)
class RegisterTeam:
    """Register a school by name, LA code and DfE establishment number."""

    actor: Actor
    name: str
    la_code: str
    estab: str


@dataclass(frozen=True)
class RenameTeam:
    actor: Actor
    team_id: UUID
    name: str


@dataclass(frozen=True)
class InviteMember:
    actor: Actor
    team_id: UUID
    email: str
    role: str


@dataclass(frozen=True)
class JoinTeam:
    """Accept an invitation; the actor is the invited user."""

    actor: Actor
    team_id: UUID


@dataclass(frozen=True)
class ChangeMemberRole:
    actor: Actor
    team_id: UUID
    user_id: UUID
    role: str


@dataclass(frozen=True)
class RemoveMember:
    actor: Actor
    team_id: UUID
    user_id: UUID


@dataclass(frozen=True)
class AgreeSharing:
    actor: Actor
    team_id: UUID
    partner: str
    starts: date
    ends: date | None = None


@dataclass(frozen=True)
class WithdrawSharing:
    actor: Actor
    team_id: UUID
    partner: str
    on: date


@dataclass(frozen=True)
class DefineTags:
    actor: Actor
    team_id: UUID
    taxonomy: str
    tags: tuple[str, ...]


@dataclass(frozen=True)
class RetireTag:
    actor: Actor
    team_id: UUID
    taxonomy: str
    tag: str


def load_team(runtime: Runtime, team_id: UUID) -> Team:
    return load(runtime, Team, team_id)


def register_team(runtime: Runtime, command: RegisterTeam) -> UUID:
    authorize(runtime, command.actor, "register-team")
    name = command.name.strip()
    if not name or len(name) > 200:
        raise InputError("name: a team needs a name of at most 200 characters")
    if not (command.la_code.isdigit() and len(command.la_code) == 3):
        raise InputError("la_code: must be three digits")
    if not (command.estab.isdigit() and len(command.estab) == 4):
        raise InputError("estab: must be four digits")
    team = Team(
        actor_id=command.actor.user_id,
        name=name,
        la_code=command.la_code,
        estab=command.estab,
    )
    founder = None if command.actor.is_operator else command.actor.user_id
    if founder is not None:
        team.add_founder(command.actor.user_id, founder, _now())
    runtime.writer.commit(team, extra=_mirror(team, [founder] if founder else []))
    return team.id


def _now() -> datetime:
    return datetime.now(UTC)


def _mirror(team: Team, user_ids: list[UUID]) -> Callable[[Tx], None]:
    """Keep the membership lookup in step with the team, in the same tx."""

    def write(tx: Tx) -> None:
        for user_id in user_ids:
            member = team.members.get(user_id)
            set_membership(
                tx,
                team.id,
                user_id,
                member.role if member else None,
                member.joined if member else False,
            )

    return write


def _change_team(
    runtime: Runtime,
    actor: Actor,
    team_id: UUID,
    action: str,
    change: Callable[[Team], list[UUID]],
) -> Result:
    """Load, authorise, change and store a team, retrying on conflicts."""

    def work() -> None:
        team = load_team(runtime, team_id)
        authorize(runtime, actor, action, team)
        touched = change(team)
        runtime.writer.commit(team, extra=_mirror(team, touched))

    with_retries(work)
    return {"id": str(team_id)}


def rename_team(runtime: Runtime, command: RenameTeam) -> Result:
    name = command.name.strip()
    if not name or len(name) > 200:
        raise InputError("name: a team needs a name of at most 200 characters")

    def change(team: Team) -> list[UUID]:
        if team.name != name:
            team.rename(actor_id=command.actor.user_id, name=name)
        return []

    return _change_team(runtime, command.actor, command.team_id, "rename-team", change)


def invite_member(runtime: Runtime, command: InviteMember) -> Result:
    """Invite by e-mail; the invitee's user id and key exist from this moment."""
    team = load_team(runtime, command.team_id)
    authorize(runtime, command.actor, "invite-member", team)
    check_role(command.role)
    user_id = find_or_register_user(runtime, command.actor, command.email, None)

    def change(team: Team) -> list[UUID]:
        team.invite(command.actor.user_id, user_id, command.role, _now())
        return [user_id]

    _change_team(runtime, command.actor, command.team_id, "invite-member", change)
    return {"id": str(user_id), "team_id": str(command.team_id)}


def join_team(runtime: Runtime, command: JoinTeam) -> Result:
    """Only the invited user may accept, and only while not erased."""
    roles_of(runtime, command.actor)

    def work() -> None:
        team = load_team(runtime, command.team_id)
        team.join(command.actor.user_id, command.actor.user_id, _now())
        runtime.writer.commit(team, extra=_mirror(team, [command.actor.user_id]))

    with_retries(work)
    return {"id": str(command.team_id)}


def change_member_role(runtime: Runtime, command: ChangeMemberRole) -> Result:
    def change(team: Team) -> list[UUID]:
        team.change_role(command.actor.user_id, command.user_id, command.role)
        return [command.user_id]

    return _change_team(
        runtime, command.actor, command.team_id, "change-member-role", change
    )


def remove_member(runtime: Runtime, command: RemoveMember) -> Result:
    def change(team: Team) -> list[UUID]:
        team.remove(command.actor.user_id, command.user_id)
        return [command.user_id]

    return _change_team(
        runtime, command.actor, command.team_id, "remove-member", change
    )


def agree_sharing(runtime: Runtime, command: AgreeSharing) -> Result:
    def change(team: Team) -> list[UUID]:
        team.agree(command.actor.user_id, command.partner, command.starts, command.ends)
        return []

    return _change_team(
        runtime, command.actor, command.team_id, "agree-sharing", change
    )


def withdraw_sharing(runtime: Runtime, command: WithdrawSharing) -> Result:
    def change(team: Team) -> list[UUID]:
        team.withdraw(command.actor.user_id, command.partner, command.on)
        return []

    return _change_team(
        runtime, command.actor, command.team_id, "withdraw-sharing", change
    )


def define_tags(runtime: Runtime, command: DefineTags) -> Result:
    taxonomy = command.taxonomy.strip()
    tags = [t.strip() for t in command.tags if t.strip()]
    if not taxonomy or len(taxonomy) > 64:
        raise InputError("taxonomy: needs a name of at most 64 characters")
    if any(len(t) > 64 for t in tags):
        raise InputError("tags: each tag is at most 64 characters")

    def change(team: Team) -> list[UUID]:
        team.define_tags(command.actor.user_id, taxonomy, tags)
        return []

    return _change_team(runtime, command.actor, command.team_id, "define-tags", change)


def retire_tag(runtime: Runtime, command: RetireTag) -> Result:
    def change(team: Team) -> list[UUID]:
        team.retire_tag(command.actor.user_id, command.taxonomy, command.tag)
        return []

    return _change_team(runtime, command.actor, command.team_id, "retire-tag", change)


def team_summary(team: Team) -> dict[str, object]:
    """A team as its members see it; ids and roles, no personal field."""
    return {
        "id": str(team.id),
        "name": team.name,
        "la_code": team.la_code,
        "estab": team.estab,
        "members": [
            {"user_id": str(u), "role": m.role, "joined": m.joined}
            for u, m in sorted(team.members.items(), key=lambda item: str(item[0]))
        ],
        "agreements": [
            {
                "partner": a.partner,
                "from": a.starts.isoformat(),
                "until": a.ends.isoformat() if a.ends else None,
            }
            for a in team.agreements.values()
        ],
        "tags": {
            taxonomy: sorted(t for t, live in tags.items() if live)
            for taxonomy, tags in team.taxonomies.items()
        },
        "admins": sum(1 for m in team.members.values() if m.role == ADMIN),
    }
