"""Events: written with the rows that go with them, and read back as aggregates."""

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, cast
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Mapper, StoredEvent
from psycopg import sql

from wellbeing.aggregates.base import Conflict
from wellbeing.persistence.database import (
    Database,
    PostgresDatabase,
    PostgresTx,
    Tx,
    UniqueViolation,
)

# The library names the table after the application on PostgreSQL and uses
# one fixed name on SQLite.
EVENTS_TABLE = {"postgres": "wellbeing_events", "sqlite": "stored_events"}

Extra = Callable[[Tx], None]
# Commands store a few events at a time: those are sent with the lock and
# the COMMIT in one round trip. Larger batches (imports) go by COPY, which
# pipeline mode cannot carry.
_PIPELINED = 20


class VersionConflict(Conflict):
    """Another writer stored a new version of the aggregate first."""

    code = "version-conflict"


class EventWriter:
    """Stores events as the library does, plus the caller's own rows.

    On PostgreSQL the events table is locked in EXCLUSIVE mode for the insert,
    as the library does, so notification ids rise in commit order (an insert
    rolled back on a conflict leaves a gap, which readers allow for), and
    the library's channel is notified so that runners wake up. The
    caller's rows are written first, so the lock is held only for the insert.
    """

    def __init__(self, database: Database, mapper: Mapper[UUID]) -> None:
        self.database = database
        self.mapper = mapper

    def commit(self, *aggregates: Aggregate, extra: Extra | None = None) -> int:
        """Store the aggregates' pending events; returns how many.

        Raises VersionConflict when another writer got there first; nothing
        is written then.
        """
        stored = self.prepare(*aggregates)
        self.commit_stored(stored, extra)
        return len(stored)

    def prepare(self, *aggregates: Aggregate) -> list[StoredEvent]:
        """Take the aggregates' pending events and seal them for commit_stored."""
        events = [e for a in aggregates for e in a.collect_events()]
        prepare = getattr(self.mapper, "prepare_keys", None)
        if prepare is not None and len(events) > 1:
            prepare(events)
        return [self.mapper.to_stored_event(e) for e in events]

    def commit_stored(self, stored: Sequence[StoredEvent], extra: Extra | None) -> None:
        database = self.database
        if isinstance(database, PostgresDatabase) and 0 < len(stored) <= _PIPELINED:
            try:
                database.commit_pipelined(extra, partial(_insert_few, stored=stored))
            except UniqueViolation as error:
                raise VersionConflict("the record changed; try again") from error
            return
        with self.database.transaction() as tx:
            if extra is not None:
                extra(tx)
            if stored:
                self._insert(tx, stored)

    def _insert(self, tx: Tx, stored: Sequence[StoredEvent]) -> None:
        try:
            if isinstance(tx, PostgresTx):
                _insert_postgres(tx, stored)
            else:
                tx.executemany(
                    "INSERT INTO stored_events VALUES (%s, %s, %s, %s)",
                    [
                        (_hex(s.originator_id), s.originator_version, s.topic, s.state)
                        for s in stored
                    ],
                )
        except UniqueViolation as error:
            raise VersionConflict("the record changed; try again") from error


_COPY_EVENTS = sql.SQL(
    "COPY wellbeing_events (originator_id, originator_version, topic, state)"
    " FROM STDIN (FORMAT BINARY)"
)


_LOCK_EVENTS = "LOCK TABLE wellbeing_events IN EXCLUSIVE MODE"
_INSERT_EVENT = (
    "INSERT INTO wellbeing_events (originator_id, originator_version, topic, state)"
    " VALUES (%s, %s, %s, %s)"
)
# The same insert, notifying the library's channel as NOTIFY would: one
# statement where two would each cost a command a few tenths of a millisecond.
_INSERT_EVENT_AND_NOTIFY = (
    "INSERT INTO wellbeing_events (originator_id, originator_version, topic, state)"
    " SELECT %s, %s, %s, %s FROM (SELECT pg_notify('wellbeing_events', '')) AS n"
)


def _insert_few(tx: PostgresTx, stored: Sequence[StoredEvent]) -> None:
    tx.execute(_LOCK_EVENTS)
    for place, event in enumerate(stored):
        tx.execute(
            _INSERT_EVENT if place else _INSERT_EVENT_AND_NOTIFY,
            (event.originator_id, event.originator_version, event.topic, event.state),
        )


def _insert_postgres(tx: PostgresTx, stored: Sequence[StoredEvent]) -> None:
    tx.execute(_LOCK_EVENTS)
    tx.execute("NOTIFY wellbeing_events")
    # COPY sends a batch as one stream that the server parses in bulk:
    # measured here, a fraction of the time of a pipeline of single inserts
    # for the 500 events of an import batch.
    tx.copy_rows(
        _COPY_EVENTS,
        ("uuid", "int8", "text", "bytea"),
        ((s.originator_id, s.originator_version, s.topic, s.state) for s in stored),
    )


def _hex(originator_id: Any) -> str:
    return originator_id.hex if isinstance(originator_id, UUID) else str(originator_id)


# {marks} is one %s per id; the ids themselves are always bound.
_HISTORY = {
    "postgres": "SELECT originator_id, originator_version, topic, state"
    " FROM wellbeing_events WHERE originator_id IN ({marks})"
    " ORDER BY originator_id, originator_version",
    "sqlite": "SELECT originator_id, originator_version, topic, state"
    " FROM stored_events WHERE originator_id IN ({marks})"
    " ORDER BY originator_id, originator_version",
}
# The roll keeps ids as text with hyphens on SQLite, the events as bare hex.
_WITH_TEAM = {
    "postgres": "SELECT originator_id, originator_version, topic, state"
    " FROM wellbeing_events WHERE originator_id IN ({marks})"
    " OR originator_id = (SELECT team_id FROM participant_index"
    " WHERE participant_id = %s)"
    " ORDER BY originator_id, originator_version",
    "sqlite": "SELECT originator_id, originator_version, topic, state"
    " FROM stored_events WHERE originator_id IN ({marks})"
    " OR originator_id = (SELECT replace(team_id, '-', '') FROM participant_index"
    " WHERE participant_id = %s)"
    " ORDER BY originator_id, originator_version",
}


class EventReader:
    """Rebuilds aggregates from their events in one query each.

    The library's repository reads each history inside a transaction of its
    own, three round trips where one statement needs one; every request
    loads two or three aggregates, so the difference shows in its latency.
    """

    def __init__(self, database: Database, mapper: Mapper[UUID]) -> None:
        self.database = database
        self.mapper = mapper

    def aggregate(self, aggregate_id: UUID) -> Aggregate | None:
        """The aggregate as its events make it now; None if it has none."""
        return self.aggregates([aggregate_id]).get(aggregate_id)

    def aggregates(self, aggregate_ids: Sequence[UUID]) -> dict[UUID, Aggregate]:
        """Several aggregates from one query; those with no events are left out."""
        dialect = self.database.dialect
        keys: list[Any] = [
            i if dialect == "postgres" else i.hex for i in dict.fromkeys(aggregate_ids)
        ]
        if not keys:
            return {}
        marks = ", ".join(["%s"] * len(keys))
        return self._built(
            self.database.query(_HISTORY[dialect].format(marks=marks), keys)
        )

    def with_team(self, participant_id: UUID, *others: UUID) -> dict[UUID, Aggregate]:
        """A participant, their team (found by the team roll) and `others`,
        from one query: a command on a pupil needs all three.

        The team is left out when the roll does not name it; the caller
        then loads it by the participant's team id.
        """
        dialect = self.database.dialect
        ids: list[Any] = [
            i if dialect == "postgres" else i.hex
            for i in dict.fromkeys((participant_id, *others))
        ]
        marks = ", ".join(["%s"] * len(ids))
        statement = _WITH_TEAM[dialect].format(marks=marks)
        roll_key: Any = participant_id if dialect == "postgres" else str(participant_id)
        return self._built(self.database.query(statement, [*ids, roll_key]))

    def _built(self, rows: list[tuple[Any, ...]]) -> dict[UUID, Aggregate]:
        built: dict[UUID, Any] = {}
        for originator_id, version, topic, state in rows:
            stored = StoredEvent(
                originator_id=originator_id,
                originator_version=int(version),
                topic=str(topic),
                state=bytes(state),
            )
            event: Any = self.mapper.to_domain_event(stored)
            built[event.originator_id] = event.mutate(built.get(event.originator_id))
        return cast(dict[UUID, Aggregate], built)


def holds_events(database: Database) -> bool:
    """Whether the store has any event at all."""
    table = EVENTS_TABLE[database.dialect]
    return bool(database.query("SELECT 1 FROM " + table + " LIMIT 1"))
