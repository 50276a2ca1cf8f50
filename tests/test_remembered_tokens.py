"""A token's user is remembered for a second, and forgotten on revocation."""

from uuid import UUID

from wellbeing.commands.actor import Actor
from wellbeing.commands.users import CreateUser, create_user
from wellbeing.persistence import tokens
from wellbeing.persistence.runtime import Runtime


def issued(runtime: Runtime, actor: Actor) -> tuple[UUID, UUID, str]:
    user_id = UUID(str(create_user(runtime, CreateUser(actor, "t@example.test"))["id"]))
    with runtime.database.transaction() as tx:
        token_id, secret = tokens.issue(tx, user_id, actor.user_id)
    tokens.remembered.forget_all()
    return user_id, token_id, secret


def test_a_token_looked_up_is_remembered(runtime: Runtime, actor: Actor) -> None:
    user_id, _, secret = issued(runtime, actor)
    assert tokens.remembered_user(secret) is None

    found = tokens.user_of(runtime.database, secret)

    assert found == user_id
    assert tokens.remembered_user(secret) == user_id


def test_revoking_forgets_at_once(runtime: Runtime, actor: Actor) -> None:
    _, token_id, secret = issued(runtime, actor)
    tokens.user_of(runtime.database, secret)

    with runtime.database.transaction() as tx:
        tokens.revoke(tx, token_id)

    assert tokens.remembered_user(secret) is None
    assert tokens.user_of(runtime.database, secret) is None


def test_erasing_the_user_forgets_at_once(runtime: Runtime, actor: Actor) -> None:
    user_id, _, secret = issued(runtime, actor)
    tokens.user_of(runtime.database, secret)

    with runtime.database.transaction() as tx:
        tokens.erase_tokens(tx, user_id)

    assert tokens.remembered_user(secret) is None


def test_an_entry_older_than_a_second_is_not_answered() -> None:
    now = [100.0]
    memory = tokens.RememberedTokens(clock=lambda: now[0])
    user_id = UUID(int=7)
    memory.put(b"digest", user_id, memory.generation)
    assert memory.get(b"digest") == user_id

    now[0] += tokens.REMEMBER_SECONDS + 0.01

    assert memory.get(b"digest") is None


def test_a_lookup_that_began_before_a_forget_is_not_remembered() -> None:
    memory = tokens.RememberedTokens()
    began = memory.generation

    memory.forget_all()
    memory.put(b"digest", UUID(int=8), began)

    assert memory.get(b"digest") is None
