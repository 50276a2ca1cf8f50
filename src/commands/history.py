"""An aggregate's history as plain data: for audit and subject access."""

from typing import Any
from uuid import UUID

from wellbeing.aggregates.personal import personal_fields
from wellbeing.commands.participants import shown
from wellbeing.persistence.runtime import Runtime

_HIDDEN_FIELDS = frozenset({"originator_topic"})


def event_record(event: Any, *, reveal_upn: bool) -> dict[str, Any]:
    """One event with its actor, time and fields; a UPN only if revealed."""
    marked = personal_fields(type(event))
    fields: dict[str, Any] = {}
    for name, value in vars(event).items():
        if name in _HIDDEN_FIELDS or name in (
            "originator_id",
            "originator_version",
            "timestamp",
            "actor_id",
        ):
            continue
        # Decided by the stable field id, not the attribute: a replaced UPN
        # travels as `former`, sealed under `participant.former_upn`.
        if not reveal_upn and name in marked and _is_upn(marked[name]):
            fields[name] = {"withheld": True} if value is not None else None
            continue
        fields[name] = _plain(value)
    return {
        "event": getattr(type(event), "TOPIC", type(event).__qualname__),
        "version": event.originator_version,
        "at": event.timestamp.isoformat(),
        "actor_id": str(event.actor_id),
        "fields": fields,
    }


def _is_upn(field_id: str) -> bool:
    return field_id.rsplit(".", 1)[-1].startswith(("upn", "former_upn"))


def _plain(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return shown(value)


def history(
    runtime: Runtime, aggregate_id: UUID, *, reveal_upn: bool = False
) -> list[dict[str, Any]]:
    events = runtime.ledger.events.get(aggregate_id)
    return [event_record(e, reveal_upn=reveal_upn) for e in events]
