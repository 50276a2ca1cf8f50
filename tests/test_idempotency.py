"""Commands run once per client-supplied key, across restarts and erasure."""

import contextlib
import threading
from uuid import UUID, uuid4

import pytest
from conftest import StoreFactory
from people import make_canary
from raw_scan import found, raw_bytes

from wellbeing.aggregates.base import NotAllowed
from wellbeing.commands.actor import Actor
from wellbeing.commands.idempotency import IdempotencyKeyReused, Result, run_once
from wellbeing.commands.teams import RegisterTeam, register_team
from wellbeing.commands.users import CreateUser, EraseUser, create_user, erase_user
from wellbeing.errors import WellbeingError
from wellbeing.persistence.command_results import CommandResults
from wellbeing.persistence.event_store import EVENTS_TABLE
from wellbeing.persistence.runtime import Runtime, open_runtime


def register_once(runtime: Runtime, key: str, command: RegisterTeam) -> Result:
    return run_once(
        runtime,
        key,
        command.actor,
        command,
        lambda: {"id": str(register_team(runtime, command))},
    )


def create_once(runtime: Runtime, key: str, command: CreateUser) -> Result:
    return run_once(
        runtime, key, command.actor, command, lambda: create_user(runtime, command)
    )


def count(runtime: Runtime, table: str) -> int:
    # Table names come from this module, never from input.
    with runtime.database.transaction() as tx:
        tx.execute("SELECT count(*) FROM " + table)
        row = tx.fetchone()
    assert row is not None
    return int(row[0])


def event_count(runtime: Runtime) -> int:
    return count(runtime, EVENTS_TABLE[runtime.database.dialect])


def stored_keys(runtime: Runtime, key: str) -> int:
    stored = CommandResults(runtime.keys).row_key(key)
    with runtime.database.transaction() as tx:
        tx.execute("SELECT count(*) FROM command_results WHERE key = %s", (stored,))
        row = tx.fetchone()
    assert row is not None
    return int(row[0])


def registered_teams(runtime: Runtime) -> int:
    table = EVENTS_TABLE[runtime.database.dialect]
    with runtime.database.transaction() as tx:
        # The table name is the library's own, from a fixed mapping.
        tx.execute(
            "SELECT count(*) FROM " + table + " WHERE topic = %s",
            ("wellbeing:TeamRegistered",),
        )
        row = tx.fetchone()
    assert row is not None
    return int(row[0])


def new_email() -> str:
    return f"canarymail{uuid4().hex[:10]}@example.org"


def test_repeat_with_the_same_key_returns_the_first_result(
    runtime: Runtime, actor: Actor
) -> None:
    command = RegisterTeam(actor, "Penwith", "908", "4002")
    first = register_once(runtime, "key-1", command)

    repeat = register_once(runtime, "key-1", command)

    assert repeat == first


def test_repeat_with_the_same_key_writes_nothing_new(
    runtime: Runtime, actor: Actor
) -> None:
    command = RegisterTeam(actor, "Penwith", "908", "4002")
    register_once(runtime, "key-1", command)
    before = (event_count(runtime), count(runtime, "command_results"))

    register_once(runtime, "key-1", command)

    assert (event_count(runtime), count(runtime, "command_results")) == before


def test_another_key_runs_the_command_again(runtime: Runtime, actor: Actor) -> None:
    command = RegisterTeam(actor, "Penwith", "908", "4002")
    first = register_once(runtime, "key-1", command)

    second = register_once(runtime, "key-2", command)

    assert second != first


def test_same_key_with_another_command_is_refused(
    runtime: Runtime, actor: Actor
) -> None:
    register_once(runtime, "key-1", RegisterTeam(actor, "Penwith", "908", "4002"))
    other = RegisterTeam(actor, "Penwith", "908", "4003")

    with pytest.raises(IdempotencyKeyReused):
        register_once(runtime, "key-1", other)


def test_same_key_with_another_command_writes_nothing(
    runtime: Runtime, actor: Actor
) -> None:
    register_once(runtime, "key-1", RegisterTeam(actor, "Penwith", "908", "4002"))
    before = event_count(runtime)

    with pytest.raises(IdempotencyKeyReused):
        register_once(runtime, "key-1", RegisterTeam(actor, "Other", "908", "4003"))

    assert event_count(runtime) == before


def test_same_key_from_another_actor_is_refused(runtime: Runtime, actor: Actor) -> None:
    founder = Actor(
        UUID(str(create_user(runtime, CreateUser(actor, new_email()))["id"]))
    )
    register_once(runtime, "key-1", RegisterTeam(actor, "Penwith", "908", "4002"))

    with pytest.raises(IdempotencyKeyReused):
        register_once(runtime, "key-1", RegisterTeam(founder, "Penwith", "908", "4002"))


def test_refused_command_leaves_its_key_unused(runtime: Runtime, actor: Actor) -> None:
    stranger = Actor(uuid4())
    with pytest.raises(NotAllowed):
        register_once(
            runtime, "key-1", RegisterTeam(stranger, "Penwith", "908", "4002")
        )

    register_once(runtime, "key-1", RegisterTeam(actor, "Penwith", "908", "4002"))

    assert stored_keys(runtime, "key-1") == 1


def test_key_survives_a_restart(stores: StoreFactory, actor: Actor) -> None:
    command = RegisterTeam(actor, "Penwith", "908", "4002")
    before_restart = open_runtime(stores.settings())
    first = register_once(before_restart, "key-1", command)
    before_restart.close()
    after_restart = open_runtime(stores.settings())

    try:
        repeat = register_once(after_restart, "key-1", command)
        events = event_count(after_restart)
    finally:
        after_restart.close()

    assert repeat == first
    assert events == 1


def test_stored_result_holds_no_email(runtime: Runtime, actor: Actor) -> None:
    address = new_email()

    create_once(runtime, "key-1", CreateUser(actor, address, "Canaryname"))

    with runtime.database.transaction() as tx:
        tx.execute("SELECT * FROM command_results")
        rows = repr(tx.fetchall()).encode()
    assert found(rows, [address.encode(), b"Canaryname"]) == []
    assert found(raw_bytes(runtime), [address.encode()]) == []


def test_the_clients_key_is_kept_only_as_an_hmac(
    runtime: Runtime, actor: Actor
) -> None:
    canary = make_canary(73)

    create_once(runtime, canary.upn, CreateUser(actor, new_email()))

    with runtime.database.transaction() as tx:
        tx.execute("SELECT key FROM command_results")
        keys = [str(row[0]) for row in tx.fetchall()]
    assert keys == [CommandResults(runtime.keys).row_key(canary.upn)]
    assert found(raw_bytes(runtime), [canary.upn.encode()]) == []


def test_erasing_a_user_deletes_the_results_naming_them(
    runtime: Runtime, actor: Actor
) -> None:
    created = create_once(runtime, "key-1", CreateUser(actor, new_email()))

    erase_user(runtime, EraseUser(actor, UUID(str(created["id"]))))

    assert stored_keys(runtime, "key-1") == 0


def test_erasing_a_user_keeps_results_naming_others(
    runtime: Runtime, actor: Actor
) -> None:
    gone = create_once(runtime, "key-gone", CreateUser(actor, new_email()))
    create_once(runtime, "key-kept", CreateUser(actor, new_email()))

    erase_user(runtime, EraseUser(actor, UUID(str(gone["id"]))))

    assert stored_keys(runtime, "key-kept") == 1


def test_repeat_sent_while_the_first_is_running_registers_one_team(
    runtime: Runtime, actor: Actor
) -> None:
    command = RegisterTeam(actor, "Penwith", "908", "4002")
    # Both requests are let into the command together; an implementation that
    # holds the second one back makes the first wait out the timeout instead.
    both_running = threading.Barrier(2, timeout=1.0)

    def work() -> Result:
        with contextlib.suppress(threading.BrokenBarrierError):
            both_running.wait()
        return {"id": str(register_team(runtime, command))}

    def send() -> None:
        with contextlib.suppress(WellbeingError):
            run_once(runtime, "key-1", actor, command, work)

    requests = [threading.Thread(target=send) for _ in range(2)]
    for request in requests:
        request.start()
    for request in requests:
        request.join(30)

    assert registered_teams(runtime) == 1
