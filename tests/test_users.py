"""Staff users on both stores: registering, roles, and erasure."""

import logging
from uuid import UUID, uuid4

import pytest
from raw_scan import found, raw_bytes

from wellbeing.aggregates.base import Conflict, NotAllowed
from wellbeing.aggregates.personal import ERASED
from wellbeing.aggregates.user import (
    ANALYST,
    AUDITOR,
    DATA_PROTECTION_OFFICER,
    User,
    UserErased,
)
from wellbeing.commands.actor import Actor
from wellbeing.commands.history import history
from wellbeing.commands.loading import load
from wellbeing.commands.teams import (
    InviteMember,
    JoinTeam,
    RegisterTeam,
    invite_member,
    join_team,
    load_team,
    register_team,
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
from wellbeing.errors import InputError
from wellbeing.persistence.runtime import Runtime


class Person:
    """A fictional member of staff whose name and e-mail appear nowhere else."""

    def __init__(self) -> None:
        tag = uuid4().hex[:10]
        self.email = f"canarymail{tag}@example.org"
        self.name = f"Canaryname{tag}"

    def needles(self) -> list[bytes]:
        return [self.email.encode(), self.name.encode()]


def register(runtime: Runtime, actor: Actor, person: Person) -> UUID:
    created = create_user(runtime, CreateUser(actor, person.email, person.name))
    return UUID(str(created["id"]))


def wrapped_key(runtime: Runtime, subject_id: UUID) -> bytes:
    with runtime.database.transaction() as tx:
        param = str(subject_id) if tx.dialect == "sqlite" else subject_id
        tx.execute("SELECT wrapped FROM subject_keys WHERE subject_id = %s", (param,))
        row = tx.fetchone()
    return b"" if row is None else bytes(row[0])


# Registering.


def test_created_user_reads_back_their_email_and_name(
    runtime: Runtime, actor: Actor
) -> None:
    person = Person()

    user_id = register(runtime, actor, person)

    user = load(runtime, User, user_id)
    assert (user.email, user.name) == (person.email, person.name)


def test_same_email_twice_gives_the_same_user(runtime: Runtime, actor: Actor) -> None:
    person = Person()
    first = register(runtime, actor, person)

    second = register(runtime, actor, person)

    assert second == first


def test_email_differing_only_in_case_gives_the_same_user(
    runtime: Runtime, actor: Actor
) -> None:
    person = Person()
    first = register(runtime, actor, person)

    again = create_user(runtime, CreateUser(actor, person.email.upper()))

    assert UUID(str(again["id"])) == first


def test_invalid_email_is_refused_naming_the_field_not_the_value(
    runtime: Runtime, actor: Actor
) -> None:
    value = f"canary{uuid4().hex[:10]} at example.org"

    with pytest.raises(InputError) as refused:
        create_user(runtime, CreateUser(actor, value))

    assert str(refused.value).startswith("email:")
    assert value not in str(refused.value)


# Roles.


@pytest.mark.parametrize("role", [AUDITOR, DATA_PROTECTION_OFFICER])
def test_granted_service_role_is_held(
    runtime: Runtime, actor: Actor, role: str
) -> None:
    user_id = register(runtime, actor, Person())

    grant_role(runtime, GrantRole(actor, user_id, role))

    assert load(runtime, User, user_id).service_roles == [role]


@pytest.mark.parametrize("role", [AUDITOR, DATA_PROTECTION_OFFICER])
def test_revoked_service_role_is_no_longer_held(
    runtime: Runtime, actor: Actor, role: str
) -> None:
    user_id = register(runtime, actor, Person())
    grant_role(runtime, GrantRole(actor, user_id, role))

    revoke_role(runtime, RevokeRole(actor, user_id, role))

    assert load(runtime, User, user_id).service_roles == []


def test_granting_a_held_role_again_writes_no_event(
    runtime: Runtime, actor: Actor
) -> None:
    user_id = register(runtime, actor, Person())
    grant_role(runtime, GrantRole(actor, user_id, AUDITOR))
    before = load(runtime, User, user_id).version

    grant_role(runtime, GrantRole(actor, user_id, AUDITOR))

    assert load(runtime, User, user_id).version == before


def test_unknown_service_role_is_refused(runtime: Runtime, actor: Actor) -> None:
    user_id = register(runtime, actor, Person())

    with pytest.raises(Conflict):
        grant_role(runtime, GrantRole(actor, user_id, "superuser"))


def test_granted_analyst_holds_the_partner(runtime: Runtime, actor: Actor) -> None:
    user_id = register(runtime, actor, Person())

    grant_role(runtime, GrantRole(actor, user_id, ANALYST, "headstart-kernow"))

    assert load(runtime, User, user_id).partner_roles == ["headstart-kernow"]


def test_revoked_analyst_no_longer_holds_the_partner(
    runtime: Runtime, actor: Actor
) -> None:
    user_id = register(runtime, actor, Person())
    grant_role(runtime, GrantRole(actor, user_id, ANALYST, "headstart-kernow"))

    revoke_role(runtime, RevokeRole(actor, user_id, ANALYST, "headstart-kernow"))

    assert load(runtime, User, user_id).partner_roles == []


def test_analyst_without_a_partner_is_refused(runtime: Runtime, actor: Actor) -> None:
    user_id = register(runtime, actor, Person())

    with pytest.raises(Conflict):
        grant_role(runtime, GrantRole(actor, user_id, ANALYST))


def test_analyst_of_an_unknown_partner_is_refused(
    runtime: Runtime, actor: Actor
) -> None:
    user_id = register(runtime, actor, Person())

    with pytest.raises(Conflict):
        grant_role(runtime, GrantRole(actor, user_id, ANALYST, "acme-analytics"))


# Erasure.


def test_erased_user_reads_as_the_erased_marker(runtime: Runtime, actor: Actor) -> None:
    user_id = register(runtime, actor, Person())

    erase_user(runtime, EraseUser(actor, user_id))

    user = load(runtime, User, user_id)
    assert user.email is ERASED
    assert user.name is ERASED


def test_erased_users_history_reads_as_erased(runtime: Runtime, actor: Actor) -> None:
    user_id = register(runtime, actor, Person())

    erase_user(runtime, EraseUser(actor, user_id))

    records = history(runtime, user_id)
    assert records[0]["fields"]["email"] == {"erased": True}
    assert records[0]["fields"]["name"] == {"erased": True}
    assert records[-1]["event"] == "wellbeing:UserPersonalDataErased"


def test_other_user_is_untouched_by_an_erasure(runtime: Runtime, actor: Actor) -> None:
    kept = Person()
    kept_id = register(runtime, actor, kept)
    gone_id = register(runtime, actor, Person())

    erase_user(runtime, EraseUser(actor, gone_id))

    user = load(runtime, User, kept_id)
    assert (user.email, user.name) == (kept.email, kept.name)


def test_erased_user_can_no_longer_act(runtime: Runtime, actor: Actor) -> None:
    user_id = register(runtime, actor, Person())
    erase_user(runtime, EraseUser(actor, user_id))

    with pytest.raises(NotAllowed):
        register_team(runtime, RegisterTeam(Actor(user_id), "Penwith", "908", "4002"))


def test_erased_user_loses_their_roles(runtime: Runtime, actor: Actor) -> None:
    user_id = register(runtime, actor, Person())
    grant_role(runtime, GrantRole(actor, user_id, DATA_PROTECTION_OFFICER))

    erase_user(runtime, EraseUser(actor, user_id))

    assert load(runtime, User, user_id).service_roles == []


def test_erased_user_cannot_be_granted_a_role(runtime: Runtime, actor: Actor) -> None:
    user_id = register(runtime, actor, Person())
    erase_user(runtime, EraseUser(actor, user_id))

    with pytest.raises(UserErased):
        grant_role(runtime, GrantRole(actor, user_id, AUDITOR))


def test_erased_user_cannot_accept_a_pending_invitation(
    runtime: Runtime, actor: Actor
) -> None:
    team_id = register_team(runtime, RegisterTeam(actor, "Penwith", "908", "4002"))
    person = Person()
    invited = invite_member(
        runtime, InviteMember(actor, team_id, person.email, "practitioner")
    )
    user_id = UUID(invited["id"])
    erase_user(runtime, EraseUser(actor, user_id))

    with pytest.raises(NotAllowed):
        join_team(runtime, JoinTeam(Actor(user_id), team_id))


def test_events_caused_by_an_erased_user_keep_their_actor_id(
    runtime: Runtime, actor: Actor
) -> None:
    user_id = register(runtime, actor, Person())
    team_id = register_team(
        runtime, RegisterTeam(Actor(user_id), "Penwith", "908", "4002")
    )

    erase_user(runtime, EraseUser(actor, user_id))

    actors = [record["actor_id"] for record in history(runtime, team_id)]
    assert actors == [str(user_id), str(user_id)]
    assert load_team(runtime, team_id).name == "Penwith"


def test_erasing_a_user_twice_is_harmless(runtime: Runtime, actor: Actor) -> None:
    user_id = register(runtime, actor, Person())
    erase_user(runtime, EraseUser(actor, user_id))

    again = erase_user(runtime, EraseUser(actor, user_id))

    erasures = [
        e
        for e in runtime.ledger.events.get(user_id)
        if type(e).__name__ == "PersonalDataErased"
    ]
    assert again["already_erased"] is True
    assert len(erasures) == 1


def test_erased_users_email_no_longer_finds_them(
    runtime: Runtime, actor: Actor
) -> None:
    person = Person()
    user_id = register(runtime, actor, person)
    erase_user(runtime, EraseUser(actor, user_id))

    again = register(runtime, actor, person)

    assert again != user_id


def test_no_byte_of_the_erased_user_remains_in_the_store(
    runtime: Runtime, actor: Actor, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    gone, kept = Person(), Person()
    gone_id = register(runtime, actor, gone)
    kept_id = register(runtime, actor, kept)
    data_key = runtime.keys.for_reading(gone_id)
    assert isinstance(data_key, bytes)
    wrapped = wrapped_key(runtime, gone_id)
    assert wrapped

    erase_user(runtime, EraseUser(actor, gone_id))

    haystack = raw_bytes(runtime)
    needles = [*gone.needles(), data_key, wrapped]
    assert found(haystack, needles) == []
    assert found(caplog.text.encode(), needles) == []
    assert found(haystack, [wrapped_key(runtime, kept_id)]) != []
