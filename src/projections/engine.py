"""Projections: events in batches, view changes and position in one tx."""

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from eventsourcing.persistence import StoredEvent

from wellbeing.persistence.database import Tx

if TYPE_CHECKING:
    from wellbeing.persistence.runtime import Runtime

logger = logging.getLogger(__name__)
BATCH_SIZE = 2000
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
REBUILD_SUFFIX = "_next"


@dataclass(frozen=True)
class Notification:
    """One event with its position in the log."""

    position: int
    event: Any


@dataclass(frozen=True)
class Table:
    """A view table; DDL names it `{table}` so rebuilds can use another name."""

    name: str
    sqlite: tuple[str, ...]
    postgres: tuple[str, ...]


class Projection(Protocol):
    """A read model fed from the event log."""

    name: str
    topics: frozenset[str]
    tables: tuple[Table, ...]

    def apply(
        self, tx: Tx, names: dict[str, str], batch: Sequence[Notification]
    ) -> None:
        """Apply a batch of events; `names` maps table names to real ones."""


def identifier(name: str) -> str:
    """A table name fit to put in SQL text; raises ValueError otherwise."""
    if not _IDENTIFIER.match(name):
        raise ValueError("not a plain lower-case identifier")
    return name


def live_names(projection: Projection) -> dict[str, str]:
    return {t.name: identifier(t.name) for t in projection.tables}


def rebuild_names(projection: Projection) -> dict[str, str]:
    return {t.name: identifier(t.name + REBUILD_SUFFIX) for t in projection.tables}


def create_tables(tx: Tx, projection: Projection, names: dict[str, str]) -> None:
    for table in projection.tables:
        for statement in getattr(table, tx.dialect):
            tx.execute(statement.format(table=names[table.name], **names))


def drop_tables(tx: Tx, names: dict[str, str]) -> None:
    for real in names.values():
        tx.execute("DROP TABLE IF EXISTS " + identifier(real))


def position(tx: Tx, name: str, *, lock: bool = False) -> int | None:
    """The tracked position; on PostgreSQL `lock` serialises catch-ups."""
    statement = "SELECT position FROM projection_positions WHERE name = %s"
    if lock and tx.dialect == "postgres":
        statement += " FOR UPDATE"
    tx.execute(statement, (name,))
    row = tx.fetchone()
    return None if row is None else int(row[0])


def set_position(tx: Tx, name: str, value: int) -> None:
    tx.execute(
        "UPDATE projection_positions SET position = %s WHERE name = %s",
        (value, name),
    )


def ensure_tables(runtime: "Runtime", projection: Projection) -> None:
    """Create the live tables and the position row on first use."""
    with runtime.database.transaction() as tx:
        if position(tx, projection.name) is not None:
            return
        if tx.dialect == "postgres":
            tx.execute("LOCK TABLE projection_positions IN EXCLUSIVE MODE")
            if position(tx, projection.name) is not None:
                return
        create_tables(tx, projection, live_names(projection))
        tx.execute(
            "INSERT INTO projection_positions (name, position) VALUES (%s, 0)",
            (projection.name,),
        )


_READ = {
    "sqlite": (
        "SELECT rowid, originator_id, originator_version, topic, state"
        " FROM stored_events WHERE rowid > %s ORDER BY rowid LIMIT %s"
    ),
    "postgres": (
        "SELECT notification_id, originator_id, originator_version, topic, state"
        " FROM wellbeing_events WHERE notification_id > %s"
        " ORDER BY notification_id LIMIT %s"
    ),
}


def read_batch(
    runtime: "Runtime", tx: Tx, after: int, limit: int, topics: frozenset[str]
) -> tuple[int, list[Notification]]:
    """Events after a position; returns the last position read and the
    events whose topic the projection wants (others are skipped, not lost).
    """
    tx.execute(_READ[tx.dialect], (after, limit))
    rows = tx.fetchall()
    if not rows:
        return after, []
    wanted: list[Notification] = []
    for notification_id, originator_id, version, topic, state in rows:
        if topics and topic not in topics:
            continue
        stored = StoredEvent(
            originator_id=originator_id,
            originator_version=int(version),
            topic=str(topic),
            state=bytes(state),
        )
        event = runtime.mapper.decode(stored, open_fields=False)
        wanted.append(Notification(int(notification_id), event))
    return int(rows[-1][0]), wanted


def catch_up(
    runtime: "Runtime",
    projection: Projection,
    *,
    tracking_name: str | None = None,
    names: dict[str, str] | None = None,
    batch_size: int = BATCH_SIZE,
    max_batches: int | None = None,
) -> int:
    """Process every event not yet seen; returns how many were read.

    Each batch's view changes and its new position commit together, so a
    crash loses or repeats nothing. Notification ids are given out under a
    table lock in commit order, so a position never passes an event that
    is still to commit.
    """
    ensure_tables(runtime, projection)
    tracking = tracking_name or projection.name
    tables = names or live_names(projection)
    seen = batches = 0
    while max_batches is None or batches < max_batches:
        with runtime.database.transaction() as tx:
            start = position(tx, tracking, lock=True)
            if start is None:
                raise LookupError(f"projection {tracking} has no position")
            last, wanted = read_batch(runtime, tx, start, batch_size, projection.topics)
            if last == start:
                break
            if wanted:
                projection.apply(tx, tables, wanted)
            set_position(tx, tracking, last)
        seen += last - start
        batches += 1
    return seen
