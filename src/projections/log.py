"""Reading the event log in batches, never passing an event still to commit.

Writers on PostgreSQL take the events table's EXCLUSIVE lock to insert, so
notification ids are handed out in commit order and a reader never sees a
later id before an earlier one has committed. A gap in the ids is then an
insert that rolled back. A writer that skipped the lock could leave a gap
that fills in later, so before passing a gap the reader waits, with a short
timeout, for every transaction writing to the table to end. On SQLite one
writer at a time holds the database lock, and row ids follow commit order.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psycopg
from eventsourcing.persistence import StoredEvent

from wellbeing.persistence.database import Tx

if TYPE_CHECKING:
    from wellbeing.persistence.runtime import Runtime

logger = logging.getLogger(__name__)

# The library's SQLite table has no integer primary key, so positions are
# its rowids; VACUUM may renumber those, after which every projection of the
# embedded store must be rebuilt. Nothing in the product runs VACUUM there.
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
# How long a reader waits for writers in flight before it stops short of a
# gap and tries again at the next batch.
GAP_WAIT = "2s"


@dataclass(frozen=True)
class Notification:
    """One event with its position in the log."""

    position: int
    event: Any


@dataclass(frozen=True)
class Batch:
    """Events read after a position: `last` is the position to record."""

    last: int
    read: int
    events: list[Notification]


class EventLog:
    """Reads batches of decoded events; personal fields stay sealed."""

    def __init__(self, runtime: "Runtime") -> None:
        self.runtime = runtime
        # Every id up to here is committed or will never be.
        self.settled_up_to = 0

    def read(self, tx: Tx, after: int, limit: int, topics: frozenset[str]) -> Batch:
        """Events after `after`, those of `topics` decoded (all when empty)."""
        rows = self._fetch(tx, after, limit)
        if tx.dialect == "postgres":
            rows = self._settled(tx, after, limit, rows)
        if not rows:
            return Batch(after, 0, [])
        decode = self.runtime.mapper.decode
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
            event = decode(stored, open_fields=False)
            wanted.append(Notification(int(notification_id), event))
        return Batch(int(rows[-1][0]), len(rows), wanted)

    @staticmethod
    def _fetch(tx: Tx, after: int, limit: int) -> list[tuple[Any, ...]]:
        tx.execute(_READ[tx.dialect], (after, limit))
        return tx.fetchall()

    def _settled(
        self, tx: Tx, after: int, limit: int, rows: list[tuple[Any, ...]]
    ) -> list[tuple[Any, ...]]:
        gap = _first_gap(after, rows)
        if gap is None or gap <= self.settled_up_to:
            return rows
        self._wait_for_writers()
        # A new statement sees what committed while the reader waited.
        rows = self._fetch(tx, after, limit)
        gap = _first_gap(after, rows)
        if gap is None or gap <= self.settled_up_to:
            return rows
        logger.info("event log gap unsettled notification_id=%d", gap)
        return [row for row in rows if int(row[0]) < gap]

    def _wait_for_writers(self) -> None:
        # SHARE mode conflicts with every lock a writer holds on the table,
        # so it is granted once the transactions writing to it have ended;
        # it is let go at once, in its own short transaction.
        try:
            with self.runtime.database.transaction() as other:
                other.execute("SET LOCAL lock_timeout = '" + GAP_WAIT + "'")
                other.execute("LOCK TABLE wellbeing_events IN SHARE MODE")
                other.execute(
                    "SELECT coalesce(max(notification_id), 0) FROM wellbeing_events"
                )
                row = other.fetchone()
        except psycopg.errors.LockNotAvailable:
            return
        self.settled_up_to = int(row[0]) if row else 0


def _first_gap(after: int, rows: Sequence[tuple[Any, ...]]) -> int | None:
    """The first id missing between `after` and the last row read."""
    expected = after + 1
    for row in rows:
        notification_id = int(row[0])
        if notification_id != expected:
            return expected
        expected += 1
    return None
