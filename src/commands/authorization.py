"""Who may do what: one permission table, checked for every command."""

from collections.abc import Iterable
from uuid import UUID

from wellbeing.aggregates.base import NotAllowed, NotFound
from wellbeing.aggregates.team import ADMIN, PRACTITIONER, Team
from wellbeing.aggregates.user import AUDITOR, User
from wellbeing.commands.actor import Actor
from wellbeing.persistence.runtime import Runtime

OPERATOR = "operator"
STAFF_USER = "user"
TEAM_ADMIN = "team-admin"
TEAM_PRACTITIONER = "practitioner"
ANALYST = "analyst"
DPO = "data-protection-officer"
ROLES = (OPERATOR, STAFF_USER, TEAM_ADMIN, TEAM_PRACTITIONER, ANALYST, AUDITOR, DPO)

_STAFF = frozenset({OPERATOR, TEAM_ADMIN, TEAM_PRACTITIONER})
_ADMINS = frozenset({OPERATOR, TEAM_ADMIN})

# The operator may do everything; every other role is listed per action.
# Team roles count only for the team the command is about.
PERMISSIONS: dict[str, frozenset[str]] = {
    "create-user": frozenset({OPERATOR}),
    "grant-role": frozenset({OPERATOR}),
    "revoke-role": frozenset({OPERATOR}),
    "erase-user": frozenset({OPERATOR, DPO}),
    # Any registered member of staff may register a school and becomes its
    # first admin.
    "register-team": frozenset({OPERATOR, STAFF_USER}),
    "rename-team": _ADMINS,
    "invite-member": _ADMINS,
    "change-member-role": _ADMINS,
    "remove-member": _ADMINS,
    "agree-sharing": _ADMINS,
    "withdraw-sharing": _ADMINS,
    "define-tags": _ADMINS,
    "retire-tag": _ADMINS,
    "read-team": _STAFF | {AUDITOR},
    "import-participants": _STAFF,
    "list-participants": _STAFF,
    "show-participant": _STAFF | {AUDITOR, DPO},
    "record-snapshot": _STAFF,
    "manage-program": _STAFF,
    "correct-participant": _STAFF,
    "erase-participant": frozenset({OPERATOR, TEAM_ADMIN, DPO}),
    "run-retention": frozenset({OPERATOR, DPO}),
    "subject-access": frozenset({OPERATOR, DPO}),
    "read-audit": frozenset({OPERATOR, AUDITOR}),
    "read-stats": frozenset({OPERATOR, TEAM_ADMIN, ANALYST}),
    "rotate-keys": frozenset({OPERATOR}),
}

# Roles that see a team's records without belonging to it; anyone else who is
# not a member is told the team does not exist, so ids reveal nothing.
_CROSS_TEAM = frozenset({OPERATOR, AUDITOR, DPO})


def roles_of(
    runtime: Runtime,
    actor: Actor,
    team: Team | None = None,
    *,
    user: User | None = None,
) -> set[str]:
    """The actor's roles, with team roles for the given team only.

    `user` may lend the actor's user aggregate, loaded by the caller.
    """
    if actor.is_operator:
        return {OPERATOR}
    user = user or _user(runtime, actor.user_id)
    roles = {STAFF_USER, *user.service_roles}
    if user.partner_roles:
        roles.add(ANALYST)
    if team is not None:
        team_role = team.role_of(actor.user_id)
        if team_role == ADMIN:
            roles.add(TEAM_ADMIN)
        elif team_role == PRACTITIONER:
            roles.add(TEAM_PRACTITIONER)
    return roles


def authorize(
    runtime: Runtime,
    actor: Actor,
    action: str,
    team: Team | None = None,
    *,
    user: User | None = None,
) -> set[str]:
    """Raise NotFound for an outsider to the team, NotAllowed for a bad role.

    `user` may lend the actor's user aggregate, loaded by the caller.
    """
    allowed = PERMISSIONS[action]
    roles = roles_of(runtime, actor, team, user=user)
    if team is not None and not _may_see(runtime, actor, team, roles, user):
        raise NotFound("team not found")
    if not roles & allowed:
        raise NotAllowed(f"not allowed to {action}")
    return roles


def _may_see(
    runtime: Runtime,
    actor: Actor,
    team: Team,
    roles: Iterable[str],
    user: User | None,
) -> bool:
    held = set(roles)
    if held & _CROSS_TEAM or team.role_of(actor.user_id) is not None:
        return True
    if ANALYST in held:
        found = user or _user(runtime, actor.user_id)
        return any(team.has_agreement(p) for p in found.partner_roles)
    return False


def _user(runtime: Runtime, user_id: UUID) -> User:
    user = runtime.reader.aggregate(user_id)
    if not isinstance(user, User) or user.erased:
        raise NotAllowed("unknown user")
    return user
