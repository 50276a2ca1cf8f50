"""Audit: any aggregate's history and state as at a time, and verification."""

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from wellbeing.aggregates.base import NotFound
from wellbeing.aggregates.personal import personal_fields
from wellbeing.commands.actor import Actor
from wellbeing.commands.authorization import authorize
from wellbeing.commands.history import event_record
from wellbeing.commands.participants import shown
from wellbeing.persistence.event_store import EVENTS_TABLE
from wellbeing.persistence.runtime import Runtime
from wellbeing.projections.engine import (
    catch_up,
    create_tables,
    drop_tables,
    ensure_tables,
    live_names,
    rebuild_names,
)
from wellbeing.projections.registry import all_projections

_WITHHELD = ("upn", "former_upns")


def audit_history(
    runtime: Runtime, actor: Actor, aggregate_id: UUID
) -> list[dict[str, Any]]:
    """Every event of one aggregate with actor and time; UPNs withheld."""
    authorize(runtime, actor, "read-audit")
    events = list(runtime.ledger.events.get(aggregate_id))
    if not events:
        raise NotFound("no such record")
    return [event_record(e, reveal_upn=False) for e in events]


def state_at(
    runtime: Runtime, actor: Actor, aggregate_id: UUID, at: datetime
) -> dict[str, Any]:
    """The aggregate as it stood at a moment, from its events up to then."""
    authorize(runtime, actor, "read-audit")
    events: list[Any] = list(runtime.ledger.events.get(aggregate_id))
    versions = [e.originator_version for e in events if e.timestamp <= at]
    if not versions:
        raise NotFound("the record did not exist at that time")
    aggregate: Any = runtime.ledger.repository.get(aggregate_id, version=versions[-1])
    return {
        "id": str(aggregate_id),
        "type": type(aggregate).__name__,
        "version": aggregate.version,
        "state": _state(aggregate),
    }


def _state(aggregate: Any) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for name, value in vars(aggregate).items():
        if name.startswith("_"):
            continue
        if name in _WITHHELD:
            state[name] = {"withheld": True} if value else value
        else:
            state[name] = _plain(value)
    return state


def _plain(value: Any) -> Any:
    if isinstance(value, UUID | datetime):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {k: _plain(getattr(value, k)) for k in value.__dataclass_fields__}
    return shown(value)


def aggregate_ids(runtime: Runtime) -> Iterator[UUID]:
    table = EVENTS_TABLE[runtime.database.dialect]
    statements = {
        "stored_events": "SELECT DISTINCT originator_id FROM stored_events",
        "wellbeing_events": "SELECT DISTINCT originator_id FROM wellbeing_events",
    }
    with runtime.database.transaction() as tx:
        tx.execute(statements[table])
        rows = tx.fetchall()
    for (value,) in rows:
        yield value if isinstance(value, UUID) else UUID(hex=str(value))


def verify(runtime: Runtime, actor: Actor) -> dict[str, Any]:
    """Replay every aggregate and rebuild every projection aside; report
    each aggregate that fails to load and each view that differs.
    """
    authorize(runtime, actor, "read-audit")
    failures: list[dict[str, str]] = []
    count = 0
    for aggregate_id in aggregate_ids(runtime):
        count += 1
        try:
            aggregate: Any = runtime.ledger.repository.get(aggregate_id)
            _check_marks(aggregate)
        except AggregateNotFoundError:
            failures.append({"id": str(aggregate_id), "error": "not-found"})
        except Exception as error:  # noqa: BLE001 (reported, never raised)
            failures.append({"id": str(aggregate_id), "error": type(error).__name__})
    views = {name: _compare(runtime, p) for name, p in all_projections().items()}
    return {"aggregates": count, "failures": failures, "views": views}


def _check_marks(aggregate: Any) -> None:
    for event_class in type(aggregate).__dict__.values():
        if isinstance(event_class, type):
            personal_fields(event_class)


def _compare(runtime: Runtime, projection: Any) -> dict[str, Any]:
    ensure_tables(runtime, projection)
    catch_up(runtime, projection)
    # A suffix of its own, so a verification never collides with a rebuild.
    fresh = rebuild_names(projection, "_verify")
    tracking = projection.name + "#verify"
    with runtime.database.transaction() as tx:
        drop_tables(tx, fresh)
        create_tables(tx, projection, fresh)
        tx.execute("DELETE FROM projection_positions WHERE name = %s", (tracking,))
        tx.execute(
            "INSERT INTO projection_positions (name, position) VALUES (%s, 0)",
            (tracking,),
        )
    catch_up(runtime, projection, tracking_name=tracking, names=fresh)
    differences: dict[str, int] = {}
    live = live_names(projection)
    with runtime.database.transaction() as tx:
        for name in live:
            missing = _count(tx, fresh[name], live[name])
            extra = _count(tx, live[name], fresh[name])
            if missing or extra:
                differences[name] = missing + extra
        drop_tables(tx, fresh)
        tx.execute("DELETE FROM projection_positions WHERE name = %s", (tracking,))
    return {"equal": not differences, "differing_rows": differences}


def _count(tx: Any, left: str, right: str) -> int:
    # Rows the left table has that the right lacks; tables come from code.
    tx.execute(
        "SELECT count(*) FROM (SELECT * FROM "
        + left
        + " EXCEPT SELECT * FROM "
        + right
        + ") AS differing"
    )
    row = tx.fetchone()
    return int(row[0]) if row else 0
