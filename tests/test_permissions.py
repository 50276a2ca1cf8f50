"""Every role against every action of the permission table, through commands.

Each row of the matrix builds one world (a team with an admin and a
practitioner, a Kernow agreement, one pupil, and a user of every other role)
and performs the action through the real command function as one role.

The matrix runs on SQLite only. Roles are decided from the aggregates, the
same on both stores, and its 182 rows took about 7 s on SQLite against 41 s on
PostgreSQL here (a fresh schema and world per row). The test of an admin of
another team asking for the team's pupils runs on both stores.
"""

import argparse
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from itertools import product
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from people import make_canary, write_template_file

from wellbeing.aggregates.base import NotAllowed, NotFound
from wellbeing.aggregates.team import ADMIN, PRACTITIONER
from wellbeing.aggregates.user import AUDITOR
from wellbeing.cli.staff import cmd_teams_show
from wellbeing.commands.actor import Actor, operator
from wellbeing.commands.audit import audit_history
from wellbeing.commands.authorization import (
    ANALYST,
    DPO,
    OPERATOR,
    PERMISSIONS,
    ROLES,
    STAFF_USER,
    TEAM_ADMIN,
    TEAM_PRACTITIONER,
)
from wellbeing.commands.erasure import EraseParticipant, erase_participant
from wellbeing.commands.import_participants import (
    ImportParticipants,
    import_participants,
)
from wellbeing.commands.keys import rotate_keys
from wellbeing.commands.participant_life import CorrectDetails, correct_details
from wellbeing.commands.participants import list_participants, show_participant
from wellbeing.commands.programs import (
    SnapshotNotCompleted,
    StartProgram,
    start_program,
)
from wellbeing.commands.reports import usage_for
from wellbeing.commands.retention import run_retention
from wellbeing.commands.snapshots import StartSnapshot, start_snapshot
from wellbeing.commands.subject_access import subject_access_report
from wellbeing.commands.teams import (
    AgreeSharing,
    ChangeMemberRole,
    DefineTags,
    InviteMember,
    JoinTeam,
    RegisterTeam,
    RemoveMember,
    RenameTeam,
    RetireTag,
    WithdrawSharing,
    agree_sharing,
    change_member_role,
    define_tags,
    invite_member,
    join_team,
    register_team,
    remove_member,
    rename_team,
    retire_tag,
    withdraw_sharing,
)
from wellbeing.commands.users import (
    CreateUser,
    EraseUser,
    GrantRole,
    RevokeRole,
    create_user,
    erase_user,
    grant_role,
    revoke_role,
)
from wellbeing.persistence.event_store import EVENTS_TABLE
from wellbeing.persistence.runtime import Runtime

SEPTEMBER = date(2024, 9, 1)
INSTRUMENT = "wellbeing-check"
SQLITE_ONLY = pytest.mark.parametrize("stores", ["sqlite"], indirect=True)


@dataclass
class World:
    """One school and one person of every role, built afresh for each test."""

    runtime: Runtime
    folder: Path
    actors: dict[str, Actor]
    team_id: UUID
    participant_id: UUID
    target_id: UUID

    @property
    def operator(self) -> Actor:
        return self.actors[OPERATOR]


def fresh_email() -> str:
    return f"staff-{uuid4().hex[:12]}@example.org"


def new_user(runtime: Runtime, by: Actor) -> Actor:
    return Actor(UUID(str(create_user(runtime, CreateUser(by, fresh_email()))["id"])))


def build_world(runtime: Runtime, folder: Path) -> World:
    boss = operator()
    admin, analyst, auditor, dpo, plain, target = (
        new_user(runtime, boss) for _ in range(6)
    )
    team_id = register_team(runtime, RegisterTeam(admin, "Trelawny", "908", "2001"))
    invited = invite_member(
        runtime, InviteMember(admin, team_id, fresh_email(), PRACTITIONER)
    )
    practitioner = Actor(UUID(invited["id"]))
    join_team(runtime, JoinTeam(practitioner, team_id))
    define_tags(runtime, DefineTags(admin, team_id, "FSM", ("eligible",)))
    agree_sharing(runtime, AgreeSharing(admin, team_id, "headstart-kernow", SEPTEMBER))
    grant_role(runtime, GrantRole(boss, auditor.user_id, AUDITOR))
    grant_role(runtime, GrantRole(boss, dpo.user_id, DPO))
    grant_role(runtime, GrantRole(boss, analyst.user_id, ANALYST, "headstart-kernow"))
    pupils = write_template_file(folder / "world.csv", [make_canary(1)])
    report = import_participants(
        runtime, ImportParticipants(admin, team_id, pupils, commit=True)
    )
    participant_id = report.rows[0].participant_id
    assert participant_id is not None
    actors = {
        OPERATOR: boss,
        STAFF_USER: plain,
        TEAM_ADMIN: admin,
        TEAM_PRACTITIONER: practitioner,
        ANALYST: analyst,
        AUDITOR: auditor,
        DPO: dpo,
    }
    return World(runtime, folder, actors, team_id, participant_id, target.user_id)


@pytest.fixture
def world(runtime: Runtime, tmp_path: Path) -> World:
    return build_world(runtime, tmp_path)


# Each action arranges what it needs as the operator, then returns the act
# that the role under test performs.
Act = Callable[[Actor], object]
Arrange = Callable[[World], Act]


def create_user_act(w: World) -> Act:
    return lambda a: create_user(w.runtime, CreateUser(a, fresh_email()))


def grant_role_act(w: World) -> Act:
    return lambda a: grant_role(w.runtime, GrantRole(a, w.target_id, AUDITOR))


def revoke_role_act(w: World) -> Act:
    grant_role(w.runtime, GrantRole(w.operator, w.target_id, AUDITOR))
    return lambda a: revoke_role(w.runtime, RevokeRole(a, w.target_id, AUDITOR))


def erase_user_act(w: World) -> Act:
    return lambda a: erase_user(w.runtime, EraseUser(a, w.target_id))


def register_team_act(w: World) -> Act:
    return lambda a: register_team(
        w.runtime, RegisterTeam(a, "Another School", "908", "2002")
    )


def rename_team_act(w: World) -> Act:
    return lambda a: rename_team(w.runtime, RenameTeam(a, w.team_id, "Renamed"))


def invite_member_act(w: World) -> Act:
    return lambda a: invite_member(
        w.runtime, InviteMember(a, w.team_id, fresh_email(), PRACTITIONER)
    )


def change_member_role_act(w: World) -> Act:
    member = w.actors[TEAM_PRACTITIONER].user_id
    return lambda a: change_member_role(
        w.runtime, ChangeMemberRole(a, w.team_id, member, ADMIN)
    )


def remove_member_act(w: World) -> Act:
    member = w.actors[TEAM_PRACTITIONER].user_id
    return lambda a: remove_member(w.runtime, RemoveMember(a, w.team_id, member))


def agree_sharing_act(w: World) -> Act:
    return lambda a: agree_sharing(
        w.runtime, AgreeSharing(a, w.team_id, "headstart-hq", SEPTEMBER)
    )


def withdraw_sharing_act(w: World) -> Act:
    last_day = date(2025, 8, 31)
    return lambda a: withdraw_sharing(
        w.runtime, WithdrawSharing(a, w.team_id, "headstart-kernow", last_day)
    )


def define_tags_act(w: World) -> Act:
    return lambda a: define_tags(
        w.runtime, DefineTags(a, w.team_id, "Pupil Premium", ("eligible",))
    )


def retire_tag_act(w: World) -> Act:
    return lambda a: retire_tag(w.runtime, RetireTag(a, w.team_id, "FSM", "eligible"))


def read_team_act(w: World) -> Act:
    # Reading a team is checked by the command line's `teams show` only.
    def act(a: Actor) -> object:
        args = argparse.Namespace(
            team_id=w.team_id,
            as_user=None if a.is_operator else a.user_id,
            json=True,
        )
        return cmd_teams_show(w.runtime.settings, args)

    return act


def import_participants_act(w: World) -> Act:
    pupils = write_template_file(w.folder / "more.csv", [make_canary(2)])
    return lambda a: import_participants(
        w.runtime, ImportParticipants(a, w.team_id, pupils, commit=True)
    )


def list_participants_act(w: World) -> Act:
    return lambda a: list_participants(w.runtime, a, w.team_id)


def show_participant_act(w: World) -> Act:
    return lambda a: show_participant(w.runtime, a, w.participant_id)


def record_snapshot_act(w: World) -> Act:
    return lambda a: start_snapshot(
        w.runtime, StartSnapshot(a, w.participant_id, INSTRUMENT, "universal")
    )


def manage_program_act(w: World) -> Act:
    started = start_snapshot(
        w.runtime, StartSnapshot(w.operator, w.participant_id, INSTRUMENT, "universal")
    )
    snapshot_id = UUID(str(started["id"]))

    def act(a: Actor) -> object:
        # The actor is authorised before the snapshot's state is checked, so
        # an open snapshot is refused only to those who may manage programs.
        try:
            return start_program(w.runtime, StartProgram(a, snapshot_id))
        except SnapshotNotCompleted:
            return None

    return act


def correct_participant_act(w: World) -> Act:
    return lambda a: correct_details(
        w.runtime, CorrectDetails(a, w.participant_id, {"forename": "Corrected"})
    )


def erase_participant_act(w: World) -> Act:
    return lambda a: erase_participant(w.runtime, EraseParticipant(a, w.participant_id))


def run_retention_act(w: World) -> Act:
    settings = replace(w.runtime.settings, retention_years=5)
    runtime = replace(w.runtime, settings=settings)
    return lambda a: run_retention(runtime, a, date(2030, 1, 1))


def subject_access_act(w: World) -> Act:
    return lambda a: subject_access_report(w.runtime, a, w.participant_id)


def read_audit_act(w: World) -> Act:
    return lambda a: audit_history(w.runtime, a, w.team_id)


def read_stats_act(w: World) -> Act:
    return lambda a: usage_for(w.runtime, a)


def rotate_keys_act(w: World) -> Act:
    return lambda a: rotate_keys(w.runtime, a)


@dataclass(frozen=True)
class Action:
    arrange: Arrange
    # Whether the command is about the world's team, so that a user with no
    # link to the team is told it does not exist.
    team_scoped: bool


ACTIONS: dict[str, Action] = {
    "create-user": Action(create_user_act, team_scoped=False),
    "grant-role": Action(grant_role_act, team_scoped=False),
    "revoke-role": Action(revoke_role_act, team_scoped=False),
    "erase-user": Action(erase_user_act, team_scoped=False),
    "register-team": Action(register_team_act, team_scoped=False),
    "rename-team": Action(rename_team_act, team_scoped=True),
    "invite-member": Action(invite_member_act, team_scoped=True),
    "change-member-role": Action(change_member_role_act, team_scoped=True),
    "remove-member": Action(remove_member_act, team_scoped=True),
    "agree-sharing": Action(agree_sharing_act, team_scoped=True),
    "withdraw-sharing": Action(withdraw_sharing_act, team_scoped=True),
    "define-tags": Action(define_tags_act, team_scoped=True),
    "retire-tag": Action(retire_tag_act, team_scoped=True),
    "read-team": Action(read_team_act, team_scoped=True),
    "import-participants": Action(import_participants_act, team_scoped=True),
    "list-participants": Action(list_participants_act, team_scoped=True),
    "show-participant": Action(show_participant_act, team_scoped=True),
    "record-snapshot": Action(record_snapshot_act, team_scoped=True),
    "manage-program": Action(manage_program_act, team_scoped=True),
    "correct-participant": Action(correct_participant_act, team_scoped=True),
    "erase-participant": Action(erase_participant_act, team_scoped=True),
    "run-retention": Action(run_retention_act, team_scoped=False),
    "subject-access": Action(subject_access_act, team_scoped=True),
    "read-audit": Action(read_audit_act, team_scoped=False),
    "read-stats": Action(read_stats_act, team_scoped=False),
    "rotate-keys": Action(rotate_keys_act, team_scoped=False),
}

# Roles that see the world's team although the command may be refused: its
# members, the analyst through the Kernow agreement, and the service roles.
SEES_THE_TEAM = frozenset(ROLES) - {STAFF_USER}


# Rows of the matrix that fail because of a known bug, each with its cause.
# Pairs of role and action whose check is known to be wrong, with the
# reason; each becomes a strict xfail so that a fix is noticed.
KNOWN_BUGS: dict[tuple[str, str], str] = {}


def held(role: str) -> frozenset[str]:
    """Every member of staff is a staff user as well as their other roles."""
    return frozenset({role}) if role == OPERATOR else frozenset({role, STAFF_USER})


def allowed(role: str, action: str) -> bool:
    return bool(held(role) & PERMISSIONS[action])


def action_for(name: str) -> Action:
    found = ACTIONS.get(name)
    if found is None:
        pytest.fail(f"the permission table's action {name!r} has no test callable")
    return found


def matrix(*, allowed_rows: bool) -> list[object]:
    rows: list[object] = []
    for role, action in product(ROLES, PERMISSIONS):
        if allowed(role, action) != allowed_rows:
            continue
        bug = KNOWN_BUGS.get((role, action))
        marks = [pytest.mark.xfail(strict=True, reason=bug)] if bug else []
        rows.append(pytest.param(role, action, marks=marks, id=f"{role}-{action}"))
    return rows


def event_count(runtime: Runtime) -> int:
    table = EVENTS_TABLE[runtime.database.dialect]
    with runtime.database.transaction() as tx:
        # The table name is the library's own, from a fixed mapping.
        tx.execute("SELECT count(*) FROM " + table)
        row = tx.fetchone()
    assert row is not None
    return int(row[0])


def test_every_action_in_the_table_has_a_callable() -> None:
    assert sorted(set(PERMISSIONS) - set(ACTIONS)) == []
    assert sorted(set(ACTIONS) - set(PERMISSIONS)) == []


@SQLITE_ONLY
@pytest.mark.parametrize(("role", "action"), matrix(allowed_rows=True))
def test_allowed_role_is_not_refused(world: World, role: str, action: str) -> None:
    act = action_for(action).arrange(world)

    try:
        act(world.actors[role])
    except (NotAllowed, NotFound) as error:
        pytest.fail(f"{role} was refused {action}: {type(error).__name__}")


@SQLITE_ONLY
@pytest.mark.parametrize(("role", "action"), matrix(allowed_rows=False))
def test_refused_role_is_refused(world: World, role: str, action: str) -> None:
    chosen = action_for(action)
    act = chosen.arrange(world)
    hidden = chosen.team_scoped and role not in SEES_THE_TEAM

    with pytest.raises(NotFound if hidden else NotAllowed):
        act(world.actors[role])


def admin_elsewhere(w: World) -> Actor:
    """The admin of another team, with no link to the world's team."""
    admin = new_user(w.runtime, w.operator)
    register_team(w.runtime, RegisterTeam(admin, "Elsewhere", "908", "2003"))
    return admin


def test_admin_of_another_team_is_told_the_pupil_list_does_not_exist(
    world: World,
) -> None:
    outsider = admin_elsewhere(world)
    before = event_count(world.runtime)

    with pytest.raises(NotFound):
        list_participants(world.runtime, outsider, world.team_id)

    assert event_count(world.runtime) == before


@SQLITE_ONLY
@pytest.mark.parametrize(
    "action", [name for name, action in ACTIONS.items() if action.team_scoped]
)
def test_admin_of_another_team_is_told_the_team_does_not_exist(
    world: World, action: str
) -> None:
    outsider = admin_elsewhere(world)
    act = action_for(action).arrange(world)
    before = event_count(world.runtime)

    with pytest.raises(NotFound):
        act(outsider)

    assert event_count(world.runtime) == before


def test_analyst_figures_cover_the_team_that_shares_with_their_partner(
    world: World,
) -> None:
    figures = usage_for(world.runtime, world.actors[ANALYST])

    assert figures["teams"] == 1
    assert figures["participants"] == 1
