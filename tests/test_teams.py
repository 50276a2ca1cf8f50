"""Team commands on both stores: members, invitations, sharing and tags."""

from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from wellbeing.aggregates.base import Conflict, NotFound
from wellbeing.aggregates.team import (
    ADMIN,
    PRACTITIONER,
    InvitationExpired,
    LastAdmin,
    Team,
    UnknownPartner,
    UnknownRole,
)
from wellbeing.aggregates.user import User
from wellbeing.commands.actor import Actor
from wellbeing.commands.loading import load
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
    load_team,
    register_team,
    remove_member,
    rename_team,
    retire_tag,
    withdraw_sharing,
)
from wellbeing.commands.users import CreateUser, create_user
from wellbeing.errors import InputError
from wellbeing.persistence.email_index import EmailIndex, teams_of
from wellbeing.persistence.runtime import Runtime

SEPTEMBER = date(2024, 9, 1)
AUGUST = date(2025, 8, 31)


def email(label: str) -> str:
    return f"{label}-{uuid4().hex[:10]}@example.org"


def staff(runtime: Runtime, actor: Actor, label: str = "staff") -> Actor:
    created = create_user(runtime, CreateUser(actor, email(label)))
    return Actor(UUID(str(created["id"])))


def school(runtime: Runtime, actor: Actor) -> tuple[UUID, Actor]:
    """A team registered by a member of staff, who is its only admin."""
    admin = staff(runtime, actor, "admin")
    team_id = register_team(
        runtime, RegisterTeam(admin, "Trelawny Primary", "908", "2001")
    )
    return team_id, admin


def invite(runtime: Runtime, team_id: UUID, admin: Actor, role: str) -> Actor:
    invited = invite_member(runtime, InviteMember(admin, team_id, email(role), role))
    return Actor(UUID(invited["id"]))


def colleague(runtime: Runtime, team_id: UUID, admin: Actor, role: str) -> Actor:
    member = invite(runtime, team_id, admin, role)
    join_team(runtime, JoinTeam(member, team_id))
    return member


def memberships(runtime: Runtime, user_id: UUID) -> list[UUID]:
    with runtime.database.transaction() as tx:
        return teams_of(tx, user_id)


def agreed(runtime: Runtime, actor: Actor, partner: str, ends: date | None) -> Team:
    team_id, admin = school(runtime, actor)
    agree_sharing(runtime, AgreeSharing(admin, team_id, partner, SEPTEMBER, ends))
    return load_team(runtime, team_id)


# Registering and renaming.


def test_registered_team_keeps_its_name_and_codes(
    runtime: Runtime, actor: Actor
) -> None:
    team_id = register_team(
        runtime, RegisterTeam(actor, "  Penwith Academy ", "908", "4002")
    )

    team = load_team(runtime, team_id)
    assert (team.name, team.la_code, team.estab) == ("Penwith Academy", "908", "4002")


def test_team_with_a_malformed_la_code_is_refused_naming_the_field(
    runtime: Runtime, actor: Actor
) -> None:
    command = RegisterTeam(actor, "Penwith Academy", "90", "4002")

    with pytest.raises(InputError, match="^la_code:"):
        register_team(runtime, command)


def test_team_registered_by_the_operator_has_no_members(
    runtime: Runtime, actor: Actor
) -> None:
    team_id = register_team(runtime, RegisterTeam(actor, "Penwith", "908", "4002"))

    assert load_team(runtime, team_id).members == {}


def test_staff_user_registering_a_team_becomes_its_admin(
    runtime: Runtime, actor: Actor
) -> None:
    founder = staff(runtime, actor)

    team_id = register_team(runtime, RegisterTeam(founder, "Penwith", "908", "4002"))

    assert load_team(runtime, team_id).role_of(founder.user_id) == ADMIN


def test_team_registered_by_a_staff_user_appears_in_their_teams(
    runtime: Runtime, actor: Actor
) -> None:
    founder = staff(runtime, actor)

    team_id = register_team(runtime, RegisterTeam(founder, "Penwith", "908", "4002"))

    assert memberships(runtime, founder.user_id) == [team_id]


def test_renamed_team_has_the_new_name(runtime: Runtime, actor: Actor) -> None:
    team_id, admin = school(runtime, actor)

    rename_team(runtime, RenameTeam(admin, team_id, "Trelawny Community Primary"))

    assert load_team(runtime, team_id).name == "Trelawny Community Primary"


def test_renaming_to_the_same_name_writes_no_event(
    runtime: Runtime, actor: Actor
) -> None:
    team_id, admin = school(runtime, actor)
    before = load_team(runtime, team_id).version

    rename_team(runtime, RenameTeam(admin, team_id, "Trelawny Primary"))

    assert load_team(runtime, team_id).version == before


# Invitations and members.


def test_invitation_registers_the_invitee_at_once(
    runtime: Runtime, actor: Actor
) -> None:
    team_id, admin = school(runtime, actor)
    address = email("invitee")

    invited = invite_member(
        runtime, InviteMember(admin, team_id, address, PRACTITIONER)
    )

    assert load(runtime, User, UUID(invited["id"])).email == address


def test_invitee_is_not_a_member_before_joining(runtime: Runtime, actor: Actor) -> None:
    team_id, admin = school(runtime, actor)

    invitee = invite(runtime, team_id, admin, PRACTITIONER)

    team = load_team(runtime, team_id)
    assert team.members[invitee.user_id].joined is False
    assert team.role_of(invitee.user_id) is None
    assert memberships(runtime, invitee.user_id) == []


def test_invitee_who_joins_holds_the_invited_role(
    runtime: Runtime, actor: Actor
) -> None:
    team_id, admin = school(runtime, actor)
    invitee = invite(runtime, team_id, admin, PRACTITIONER)

    join_team(runtime, JoinTeam(invitee, team_id))

    assert load_team(runtime, team_id).role_of(invitee.user_id) == PRACTITIONER
    assert memberships(runtime, invitee.user_id) == [team_id]


def test_invitation_can_be_accepted_on_the_seventh_day(
    runtime: Runtime, actor: Actor
) -> None:
    team_id, admin = school(runtime, actor)
    invitee = invite(runtime, team_id, admin, PRACTITIONER)
    team = load_team(runtime, team_id)
    invited_at = team.members[invitee.user_id].invited_at

    team.join(invitee.user_id, invitee.user_id, invited_at + timedelta(days=7))

    assert team.role_of(invitee.user_id) == PRACTITIONER


def test_invitation_expires_after_seven_days(runtime: Runtime, actor: Actor) -> None:
    team_id, admin = school(runtime, actor)
    invitee = invite(runtime, team_id, admin, PRACTITIONER)
    team = load_team(runtime, team_id)
    later = datetime.now(UTC) + timedelta(days=8)

    with pytest.raises(InvitationExpired):
        team.join(invitee.user_id, invitee.user_id, later)


def test_joining_without_an_invitation_is_not_found(
    runtime: Runtime, actor: Actor
) -> None:
    team_id, _ = school(runtime, actor)
    stranger = staff(runtime, actor, "stranger")

    with pytest.raises(NotFound):
        join_team(runtime, JoinTeam(stranger, team_id))


def test_inviting_with_an_unknown_role_is_refused(
    runtime: Runtime, actor: Actor
) -> None:
    team_id, admin = school(runtime, actor)
    command = InviteMember(admin, team_id, email("head"), "headteacher")

    with pytest.raises(UnknownRole):
        invite_member(runtime, command)


def test_invitation_refused_for_its_role_registers_no_user(
    runtime: Runtime, actor: Actor
) -> None:
    team_id, admin = school(runtime, actor)
    address = email("head")

    with pytest.raises(UnknownRole):
        invite_member(runtime, InviteMember(admin, team_id, address, "headteacher"))

    with runtime.database.transaction() as tx:
        assert EmailIndex(runtime.keys).find(tx, address) is None


def test_admin_changes_a_members_role(runtime: Runtime, actor: Actor) -> None:
    team_id, admin = school(runtime, actor)
    member = colleague(runtime, team_id, admin, PRACTITIONER)

    change_member_role(runtime, ChangeMemberRole(admin, team_id, member.user_id, ADMIN))

    assert load_team(runtime, team_id).role_of(member.user_id) == ADMIN


def test_changing_to_an_unknown_role_is_refused(runtime: Runtime, actor: Actor) -> None:
    team_id, admin = school(runtime, actor)
    member = colleague(runtime, team_id, admin, PRACTITIONER)
    command = ChangeMemberRole(admin, team_id, member.user_id, "governor")

    with pytest.raises(UnknownRole):
        change_member_role(runtime, command)


def test_last_admin_cannot_be_demoted(runtime: Runtime, actor: Actor) -> None:
    team_id, admin = school(runtime, actor)
    command = ChangeMemberRole(admin, team_id, admin.user_id, PRACTITIONER)

    with pytest.raises(LastAdmin):
        change_member_role(runtime, command)


def test_last_admin_cannot_be_removed(runtime: Runtime, actor: Actor) -> None:
    team_id, admin = school(runtime, actor)

    with pytest.raises(LastAdmin):
        remove_member(runtime, RemoveMember(admin, team_id, admin.user_id))


def test_refused_demotion_of_the_last_admin_writes_nothing(
    runtime: Runtime, actor: Actor
) -> None:
    team_id, admin = school(runtime, actor)
    before = load_team(runtime, team_id).version

    with pytest.raises(LastAdmin):
        change_member_role(
            runtime, ChangeMemberRole(admin, team_id, admin.user_id, PRACTITIONER)
        )

    assert load_team(runtime, team_id).version == before


def test_admin_can_be_demoted_while_another_admin_remains(
    runtime: Runtime, actor: Actor
) -> None:
    team_id, admin = school(runtime, actor)
    deputy = colleague(runtime, team_id, admin, ADMIN)

    change_member_role(
        runtime, ChangeMemberRole(deputy, team_id, admin.user_id, PRACTITIONER)
    )

    assert load_team(runtime, team_id).role_of(admin.user_id) == PRACTITIONER


def test_invited_admin_can_be_demoted_while_a_joined_admin_remains(
    runtime: Runtime, actor: Actor
) -> None:
    team_id, admin = school(runtime, actor)
    invitee = invite(runtime, team_id, admin, ADMIN)

    change_member_role(
        runtime, ChangeMemberRole(admin, team_id, invitee.user_id, PRACTITIONER)
    )

    assert load_team(runtime, team_id).members[invitee.user_id].role == PRACTITIONER


def test_removed_member_is_no_longer_in_the_team(
    runtime: Runtime, actor: Actor
) -> None:
    team_id, admin = school(runtime, actor)
    member = colleague(runtime, team_id, admin, PRACTITIONER)

    remove_member(runtime, RemoveMember(admin, team_id, member.user_id))

    assert member.user_id not in load_team(runtime, team_id).members
    assert memberships(runtime, member.user_id) == []


def test_removing_someone_who_is_not_a_member_is_not_found(
    runtime: Runtime, actor: Actor
) -> None:
    team_id, admin = school(runtime, actor)
    stranger = staff(runtime, actor, "stranger")

    with pytest.raises(NotFound):
        remove_member(runtime, RemoveMember(admin, team_id, stranger.user_id))


# Sharing agreements.


def test_agreement_with_an_end_covers_its_dates_only(
    runtime: Runtime, actor: Actor
) -> None:
    team = agreed(runtime, actor, "headstart-kernow", AUGUST)

    assert team.shares_with("headstart-kernow", SEPTEMBER)
    assert team.shares_with("headstart-kernow", AUGUST)
    assert not team.shares_with("headstart-kernow", SEPTEMBER - timedelta(days=1))
    assert not team.shares_with("headstart-kernow", AUGUST + timedelta(days=1))


def test_agreement_without_an_end_is_open_ended(runtime: Runtime, actor: Actor) -> None:
    team = agreed(runtime, actor, "headstart-kernow", None)

    assert team.shares_with("headstart-kernow", date(2040, 1, 1))


def test_agreement_ending_before_it_starts_is_refused(
    runtime: Runtime, actor: Actor
) -> None:
    team_id, admin = school(runtime, actor)
    command = AgreeSharing(admin, team_id, "headstart-kernow", AUGUST, SEPTEMBER)

    with pytest.raises(Conflict):
        agree_sharing(runtime, command)


def test_agreement_with_an_unknown_partner_is_refused(
    runtime: Runtime, actor: Actor
) -> None:
    team_id, admin = school(runtime, actor)
    command = AgreeSharing(admin, team_id, "acme-analytics", SEPTEMBER)

    with pytest.raises(UnknownPartner):
        agree_sharing(runtime, command)


def test_withdrawn_agreement_stops_sharing_after_the_date(
    runtime: Runtime, actor: Actor
) -> None:
    team_id, admin = school(runtime, actor)
    agree_sharing(runtime, AgreeSharing(admin, team_id, "headstart-kernow", SEPTEMBER))
    last_day = date(2025, 3, 31)

    withdraw_sharing(
        runtime, WithdrawSharing(admin, team_id, "headstart-kernow", last_day)
    )

    team = load_team(runtime, team_id)
    assert team.shares_with("headstart-kernow", last_day)
    assert not team.shares_with("headstart-kernow", last_day + timedelta(days=1))


def test_withdrawing_an_agreement_never_made_is_not_found(
    runtime: Runtime, actor: Actor
) -> None:
    team_id, admin = school(runtime, actor)
    command = WithdrawSharing(admin, team_id, "headstart-kernow", SEPTEMBER)

    with pytest.raises(NotFound):
        withdraw_sharing(runtime, command)


def test_kernow_agreement_covers_headstart_hq(runtime: Runtime, actor: Actor) -> None:
    team = agreed(runtime, actor, "headstart-kernow", AUGUST)

    assert team.shares_with("headstart-hq", SEPTEMBER)
    assert not team.shares_with("headstart-hq", AUGUST + timedelta(days=1))


def test_hq_agreement_does_not_cover_kernow(runtime: Runtime, actor: Actor) -> None:
    team = agreed(runtime, actor, "headstart-hq", None)

    assert team.shares_with("headstart-hq", SEPTEMBER)
    assert not team.shares_with("headstart-kernow", SEPTEMBER)


# Tag vocabularies.


def test_defined_tags_are_in_use(runtime: Runtime, actor: Actor) -> None:
    team_id, admin = school(runtime, actor)

    define_tags(runtime, DefineTags(admin, team_id, "FSM", ("eligible", "ever-6")))

    team = load_team(runtime, team_id)
    assert team.tag_in_use("FSM", "eligible")
    assert team.tag_in_use("FSM", "ever-6")


def test_defining_known_tags_again_writes_no_event(
    runtime: Runtime, actor: Actor
) -> None:
    team_id, admin = school(runtime, actor)
    command = DefineTags(admin, team_id, "FSM", ("eligible", "ever-6"))
    define_tags(runtime, command)
    before = load_team(runtime, team_id).version

    define_tags(runtime, command)

    assert load_team(runtime, team_id).version == before


def test_adding_a_tag_to_a_taxonomy_keeps_the_others(
    runtime: Runtime, actor: Actor
) -> None:
    team_id, admin = school(runtime, actor)
    define_tags(runtime, DefineTags(admin, team_id, "SEN", ("K",)))

    define_tags(runtime, DefineTags(admin, team_id, "SEN", ("K", "E")))

    team = load_team(runtime, team_id)
    assert team.taxonomies["SEN"] == {"K": True, "E": True}


def test_retired_tag_is_no_longer_in_use(runtime: Runtime, actor: Actor) -> None:
    team_id, admin = school(runtime, actor)
    define_tags(runtime, DefineTags(admin, team_id, "FSM", ("eligible", "ever-6")))

    retire_tag(runtime, RetireTag(admin, team_id, "FSM", "ever-6"))

    team = load_team(runtime, team_id)
    assert not team.tag_in_use("FSM", "ever-6")
    assert team.tag_in_use("FSM", "eligible")


def test_retiring_an_unknown_tag_is_not_found(runtime: Runtime, actor: Actor) -> None:
    team_id, admin = school(runtime, actor)

    with pytest.raises(NotFound):
        retire_tag(runtime, RetireTag(admin, team_id, "FSM", "eligible"))


def test_defining_a_retired_tag_again_puts_it_back_in_use(
    runtime: Runtime, actor: Actor
) -> None:
    team_id, admin = school(runtime, actor)
    define_tags(runtime, DefineTags(admin, team_id, "FSM", ("eligible",)))
    retire_tag(runtime, RetireTag(admin, team_id, "FSM", "eligible"))

    define_tags(runtime, DefineTags(admin, team_id, "FSM", ("eligible",)))

    assert load_team(runtime, team_id).tag_in_use("FSM", "eligible")
