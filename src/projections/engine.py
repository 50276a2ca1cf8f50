"""Projections: events in batches, view changes and position in one tx."""

import hashlib
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from weakref import WeakKeyDictionary

from wellbeing.errors import WellbeingError
from wellbeing.persistence.database import PostgresDatabase, Tx
from wellbeing.projections.log import EventLog, Notification

if TYPE_CHECKING:
    from wellbeing.persistence.runtime import Runtime

logger = logging.getLogger(__name__)

# Measured with a variant of benchmarks/projections.py over 200,000 events:
# 38,000 events/s in batches of 500, 45,000 in batches of 1,000 or 2,000 and
# 49,000 in batches of 8,000, while a batch holds the embedded store's write
# lock for as long as it runs.
BATCH_SIZE = 2000
REBUILD_SUFFIX = "_next"
# Every committed position change is announced here, so that a reader can
# wait for a view to reach an event without polling.
POSITIONS_CHANNEL = "wellbeing_projections"
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_VERSIONS_TABLE = {
    "sqlite": "CREATE TABLE IF NOT EXISTS projection_versions"
    " (name TEXT PRIMARY KEY, version INTEGER NOT NULL)",
    "postgres": "CREATE TABLE IF NOT EXISTS projection_versions"
    " (name text PRIMARY KEY, version integer NOT NULL)",
}
# Projections whose tables were checked in this process, per database.
_READY: "WeakKeyDictionary[Any, set[str]]" = WeakKeyDictionary()

BeforeCommit = Callable[[int], None]


class ProjectionError(WellbeingError):
    """A projection cannot run as asked."""

    code = "projection"


@dataclass(frozen=True)
class Table:
    """A view table; DDL names it `{table}` so rebuilds can use another name.

    `key` and `columns` (each with its PostgreSQL type) are what bulk writes
    need; a table made by hand may leave them empty.
    """

    name: str
    sqlite: tuple[str, ...]
    postgres: tuple[str, ...]
    key: str = ""
    columns: tuple[tuple[str, str], ...] = ()


_TYPES = {"TEXT": "text", "INTEGER": "bigint"}


def view_table(name: str, columns: str, key: str, *indexed: str) -> Table:
    """A table keyed by `key`, with an index on each `indexed` column.

    Columns are `name TEXT` or `name INTEGER`; INTEGER becomes bigint on
    PostgreSQL, as event positions need.
    """
    typed: list[tuple[str, str]] = []
    for column in columns.split(","):
        column_name, kind = column.split()
        typed.append((identifier(column_name), _TYPES[kind]))
    statements = ["CREATE TABLE {table} (" + columns + ", PRIMARY KEY (" + key + "))"]
    for column in indexed:
        statements.append(
            "CREATE INDEX {table}_by_"
            + identifier(column)
            + " ON {table} ("
            + identifier(column)
            + ")"
        )
    postgres = [s.replace(" INTEGER", " bigint") for s in statements]
    return Table(
        name, tuple(statements), tuple(postgres), identifier(key), tuple(typed)
    )


class Projection(Protocol):
    """A read model fed from the event log.

    `version` names the layout of its tables: a process that finds tables of
    another version drops them and builds them again from the first event.
    """

    name: str
    version: int
    topics: frozenset[str]
    tables: tuple[Table, ...]

    def apply(
        self, tx: Tx, names: dict[str, str], batch: Sequence[Notification]
    ) -> None:
        """Apply a batch of events; `names` maps table names to real ones."""


def advisory_key(database: PostgresDatabase, purpose: str, name: str) -> int:
    """A PostgreSQL advisory lock key for one purpose, projection and schema."""
    text = f"wellbeing {purpose} {database.schema} {name}"
    return int.from_bytes(
        hashlib.sha256(text.encode()).digest()[:8], "big", signed=True
    )


def identifier(name: str) -> str:
    """A table name fit to put in SQL text; raises ValueError otherwise."""
    if not _IDENTIFIER.match(name):
        raise ValueError("not a plain lower-case identifier")
    return name


def live_names(projection: Projection) -> dict[str, str]:
    return {t.name: identifier(t.name) for t in projection.tables}


def rebuild_names(
    projection: Projection, suffix: str = REBUILD_SUFFIX
) -> dict[str, str]:
    """Names for a build beside the live tables; each use has its own suffix."""
    return {t.name: identifier(t.name + suffix) for t in projection.tables}


def create_tables(tx: Tx, projection: Projection, names: dict[str, str]) -> None:
    for table in projection.tables:
        for statement in getattr(table, tx.dialect):
            tx.execute(statement.format(table=names[table.name], **names))


def drop_tables(tx: Tx, names: dict[str, str]) -> None:
    for real in names.values():
        tx.execute("DROP TABLE IF EXISTS " + identifier(real))


def every_name(tables: Sequence[Table]) -> list[str]:
    """The live and the rebuild name of each table."""
    return [t.name for t in tables] + [t.name + REBUILD_SUFFIX for t in tables]


def existing_tables(tx: Tx, names: Sequence[str]) -> list[str]:
    """Those of the named tables that exist in the current schema."""
    if tx.dialect == "postgres":
        # Looked up by name, as a scan of the catalog grows slow on a server
        # where many schemas come and go, and erasure runs this.
        tx.execute(
            "SELECT name FROM unnest(%s::text[]) AS name"
            " WHERE to_regclass(name) IS NOT NULL",
            (list(names),),
        )
    else:
        tx.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    present = {str(row[0]) for row in tx.fetchall()}
    return [identifier(name) for name in names if name in present]


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
    if tx.dialect == "postgres":
        tx.execute("SELECT pg_notify(%s, %s)", (POSITIONS_CHANNEL, name))


def start_tracking(tx: Tx, name: str) -> None:
    """A position row at zero for `name`, replacing any row it had."""
    tx.execute("DELETE FROM projection_positions WHERE name = %s", (name,))
    tx.execute(
        "INSERT INTO projection_positions (name, position) VALUES (%s, 0)", (name,)
    )


def record_version(tx: Tx, projection: Projection) -> None:
    tx.execute(_VERSIONS_TABLE[tx.dialect])
    tx.execute("DELETE FROM projection_versions WHERE name = %s", (projection.name,))
    tx.execute(
        "INSERT INTO projection_versions (name, version) VALUES (%s, %s)",
        (projection.name, projection.version),
    )


def ensure_tables(runtime: "Runtime", projection: Projection) -> None:
    """Create the live tables and the position row on first use.

    Tables of another version are dropped and made afresh at position zero,
    so the next catch-up builds them from the first event.
    """
    ready = _READY.setdefault(runtime.database, set())
    if projection.name in ready:
        return
    with runtime.database.transaction() as tx:
        if tx.dialect == "postgres":
            # Self-exclusive, so two processes never create the same tables;
            # it waits only for batches that are committing a position.
            tx.execute("LOCK TABLE projection_positions IN SHARE ROW EXCLUSIVE MODE")
        tx.execute(_VERSIONS_TABLE[tx.dialect])
        tx.execute(
            "SELECT version FROM projection_versions WHERE name = %s",
            (projection.name,),
        )
        row = tx.fetchone()
        # Views made before versions were recorded have the first layout.
        found = int(row[0]) if row else 1
        tracked = position(tx, projection.name) is not None
        if not tracked or found != projection.version:
            _make_afresh(tx, projection, had_tables=tracked)
            if tracked:
                logger.warning(
                    "projection reset name=%s from_version=%d to_version=%d",
                    projection.name,
                    found,
                    projection.version,
                )
    ready.add(projection.name)


def _make_afresh(tx: Tx, projection: Projection, *, had_tables: bool) -> None:
    names = live_names(projection)
    if had_tables:
        drop_tables(tx, names)
    create_tables(tx, projection, names)
    start_tracking(tx, projection.name)
    record_version(tx, projection)


def forget_tables(runtime: "Runtime") -> None:
    """Make this process check the tables again at the next catch-up."""
    _READY.pop(runtime.database, None)


def catch_up(
    runtime: "Runtime",
    projection: Projection,
    *,
    tracking_name: str | None = None,
    names: dict[str, str] | None = None,
    batch_size: int = BATCH_SIZE,
    max_batches: int | None = None,
    before_commit: BeforeCommit | None = None,
) -> int:
    """Process every event not yet seen; returns how many were read.

    Each batch's view changes and its new position commit together, so a
    crash loses or repeats nothing; the position row is locked for the
    batch, so two processes never apply the same batch. `before_commit`
    is called with the new position just before each batch commits.
    Raises ProjectionError when the tracking name has no position.
    """
    ensure_tables(runtime, projection)
    tracking = tracking_name or projection.name
    tables = names or live_names(projection)
    log = EventLog(runtime)
    seen = batches = 0
    while max_batches is None or batches < max_batches:
        with runtime.database.transaction() as tx:
            start = position(tx, tracking, lock=True)
            if start is None:
                raise ProjectionError(f"projection {tracking} has no position")
            batch = log.read(tx, start, batch_size, projection.topics)
            if batch.last == start:
                break
            if batch.events:
                projection.apply(tx, tables, batch.events)
            set_position(tx, tracking, batch.last)
            if before_commit is not None:
                before_commit(batch.last)
        seen += batch.read
        batches += 1
    return seen
