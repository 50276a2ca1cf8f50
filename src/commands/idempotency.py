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
    with runtime.database.transaction() as tx:
        earlier = results.find(tx, key)
    if earlier is not None:
        return _repeat(earlier, actor, fingerprint)
    result = work()
    try:
        with runtime.database.transaction() as tx:
            results.store(
                tx, key, actor.user_id, fingerprint, result, _subjects(result)
            )
    except UniqueViolation:
        with runtime.database.transaction() as tx:
            raced = results.find(tx, key)
        assert raced is not None
        return _repeat(raced, actor, fingerprint)
    return result


def _repeat(
    earlier: tuple[UUID, str, Result], actor: Actor, fingerprint: str
) -> Result:
    actor_id, stored_fingerprint, result = earlier
    if actor_id != actor.user_id or stored_fingerprint != fingerprint:
        raise IdempotencyKeyReused("the idempotency key was used for another request")
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
