"""Idempotency-Key on POST: a retry gets the first answer, a reuse a 409.

Answers are kept in the command-results store, which erasure reaches. A
key is claimed before the work runs, as `run_once` does, and given back
if the work fails, so the client may retry. The stored body holds ids,
statuses and counts only, and every id in it is listed as a subject, so
erasing that person deletes the row. Keys are scoped to the calling user.
"""

from collections.abc import Callable, Iterable
from contextlib import suppress
from typing import Annotated, Any, TypeVar
from uuid import UUID

import orjson
from fastapi import Header
from pydantic import BaseModel

from wellbeing.commands.actor import Actor
from wellbeing.commands.idempotency import (
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
)
from wellbeing.persistence.command_results import CommandResults
from wellbeing.persistence.database import UniqueViolation
from wellbeing.persistence.runtime import Runtime

M = TypeVar("M", bound=BaseModel)

KeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=128,
        pattern=r"^[\x21-\x7e]+$",
        description="Any printable ASCII string; a retry with the same key and"
        " body gets the first answer, the same key with another body a 409.",
    ),
]


def once(
    runtime: Runtime,
    actor: Actor,
    key: str | None,
    request: dict[str, Any],
    model: type[M],
    work: Callable[[], M],
    *,
    subjects: Iterable[UUID] = (),
    secret: frozenset[str] = frozenset(),
) -> M:
    """Run work once per key; `secret` fields are answered once, never kept.

    `request` names the operation and carries what makes two requests the
    same (path ids and the parsed body); it is kept only as an HMAC.
    """
    if key is None:
        return work()
    results = CommandResults(runtime.keys)
    fingerprint = results.fingerprint(
        orjson.dumps(request, default=str, option=orjson.OPT_SORT_KEYS)
    )
    stored_key = results.row_key(f"api:{actor.user_id}:{key}")
    # The key is claimed before the work, so a retry that arrives while the
    # first request runs is told so rather than doing the work again.
    try:
        with runtime.database.transaction() as tx:
            results.store(tx, stored_key, actor.user_id, fingerprint, None, [])
    except UniqueViolation:
        with runtime.database.transaction() as tx:
            earlier = results.find(tx, stored_key)
        return _replay(earlier, fingerprint, model)
    try:
        answer = work()
    except BaseException:
        with runtime.database.transaction() as tx:
            results.release(tx, stored_key)
        raise
    body = answer.model_dump(mode="json", exclude=set(secret))
    named = sorted({*subjects, *ids_in(body)}, key=str)
    with runtime.database.transaction() as tx:
        results.complete(tx, stored_key, {"body": body}, named)
    return answer


def _replay(
    earlier: tuple[UUID, str, dict[str, Any] | None] | None,
    fingerprint: str,
    model: type[M],
) -> M:
    if earlier is None:
        raise IdempotencyKeyInFlight("the first request has not finished")
    _, stored_fingerprint, stored = earlier
    if stored_fingerprint != fingerprint:
        raise IdempotencyKeyReused("the idempotency key was used for another request")
    if stored is None:
        raise IdempotencyKeyInFlight("the first request has not finished")
    return model.model_validate(stored["body"])


def ids_in(value: object) -> set[UUID]:
    """Every UUID written anywhere in a JSON value."""
    found: set[UUID] = set()
    if isinstance(value, dict):
        for item in value.values():
            found |= ids_in(item)
    elif isinstance(value, list):
        for item in value:
            found |= ids_in(item)
    elif isinstance(value, str) and len(value) == 36:
        with suppress(ValueError):
            found.add(UUID(value))
    return found
