"""Running a command once per client-supplied key."""

from collections.abc import Callable
from typing import Any
from uuid import UUID

import orjson

from wellbeing.aggregates.base import Conflict
from wellbeing.commands.actor import Actor
from wellbeing.persistence.command_results import CommandResults
from wellbeing.persistence.database import UniqueViolation
from wellbeing.persistence.runtime import Runtime

Result = dict[str, Any]


class IdempotencyKeyReused(Conflict):
    """The key was used before for a different command."""

    code = "idempotency-key-reused"


class IdempotencyKeyInFlight(Conflict):
    """The first request with this key is still running; retry shortly."""

    code = "idempotency-key-in-flight"


def run_once(
    runtime: Runtime,
    key: str,
    actor: Actor,
    command: object,
    work: Callable[[], Result],
) -> Result:
    """Run work once for key; a repeat returns the first result.

    The same key with another command, or from another user, raises
    IdempotencyKeyReused. Results must hold ids only.
    """
    results = CommandResults(runtime.keys)
    fingerprint = results.fingerprint(_command_bytes(command))
    stored_key = results.row_key(key)
    # Claim the key before the work, so a repeat that arrives while the
    # first request runs is told to wait rather than run the command again.
    try:
        with runtime.database.transaction() as tx:
            results.store(tx, stored_key, actor.user_id, fingerprint, None, [])
    except UniqueViolation:
        with runtime.database.transaction() as tx:
            earlier = results.find(tx, stored_key)
        if earlier is None:
            raise IdempotencyKeyInFlight("the first request has not finished") from None
        return _repeat(earlier, actor, fingerprint)
    try:
        result = work()
    except BaseException:
        with runtime.database.transaction() as tx:
            results.release(tx, stored_key)
        raise
    with runtime.database.transaction() as tx:
        results.complete(tx, stored_key, result, _subjects(result))
    return result


def _repeat(
    earlier: tuple[UUID, str, Result | None], actor: Actor, fingerprint: str
) -> Result:
    actor_id, stored_fingerprint, result = earlier
    if actor_id != actor.user_id or stored_fingerprint != fingerprint:
        raise IdempotencyKeyReused("the idempotency key was used for another request")
    if result is None:
        raise IdempotencyKeyInFlight("the first request has not finished")
    return result


def _command_bytes(command: object) -> bytes:
    fields = {k: v for k, v in vars(command).items() if k != "actor"}
    return type(command).__name__.encode() + orjson.dumps(
        fields, default=str, option=orjson.OPT_SORT_KEYS
    )


def _subjects(result: Result) -> list[UUID]:
    found: list[UUID] = []
    for value in result.values():
        try:
            found.append(UUID(str(value)))
        except ValueError:
            continue
    return found
