"""Rebuilding a projection afresh beside the live one, then switching."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from wellbeing.persistence.database import PostgresDatabase, Tx
from wellbeing.persistence.runtime import Runtime
from wellbeing.projections.engine import (
    BATCH_SIZE,
    REBUILD_SUFFIX,
    Projection,
    ProjectionError,
    advisory_key,
    catch_up,
    create_tables,
    drop_tables,
    ensure_tables,
    identifier,
    live_names,
    position,
    rebuild_names,
    record_version,
    set_position,
    start_tracking,
)
from wellbeing.projections.log import EventLog

logger = logging.getLogger(__name__)


def rebuild(runtime: Runtime, projection: Projection) -> int:
    """Build new tables from the first event while writes go on, then swap.

    The live view keeps serving and its runner keeps working until the
    swap, which holds the live position's lock only to apply the events
    that came in meanwhile; the result equals incremental maintenance.
    Returns the position the rebuilt projection reached. On PostgreSQL
    raises ProjectionError when another rebuild of it is under way.
    """
    ensure_tables(runtime, projection)
    tracking = projection.name + "#rebuild"
    fresh = rebuild_names(projection)
    with _only_rebuild(runtime, projection.name):
        with runtime.database.transaction() as tx:
            drop_tables(tx, fresh)
            create_tables(tx, projection, fresh)
            start_tracking(tx, tracking)
        read = catch_up(runtime, projection, tracking_name=tracking, names=fresh)
        logger.info("projection rebuilt aside name=%s events=%d", projection.name, read)
        return _switch(runtime, projection, tracking, fresh)


@contextmanager
def _only_rebuild(runtime: Runtime, name: str) -> Iterator[None]:
    database = runtime.database
    if not isinstance(database, PostgresDatabase):
        # One writer at a time on the embedded store; a rebuild is run by hand.
        yield
        return
    key = advisory_key(database, "rebuild", name)
    with psycopg.connect(database.url, autocommit=True) as connection:
        row = connection.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
        if not (row and row[0]):
            raise ProjectionError(f"a rebuild of {name} is under way")
        yield


def _switch(
    runtime: Runtime, projection: Projection, tracking: str, fresh: dict[str, str]
) -> int:
    live = live_names(projection)
    log = EventLog(runtime)
    with runtime.database.transaction() as tx:
        position(tx, projection.name, lock=True)
        reached = position(tx, tracking, lock=True) or 0
        while True:
            batch = log.read(tx, reached, BATCH_SIZE, projection.topics)
            if batch.last == reached:
                break
            if batch.events:
                projection.apply(tx, fresh, batch.events)
            reached = batch.last
        drop_tables(tx, live)
        for name, real in fresh.items():
            tx.execute("ALTER TABLE " + identifier(real) + " RENAME TO " + live[name])
            _rename_indexes(tx, live[name])
        set_position(tx, projection.name, reached)
        tx.execute("DELETE FROM projection_positions WHERE name = %s", (tracking,))
        record_version(tx, projection)
    logger.info("projection switched name=%s position=%d", projection.name, reached)
    return reached


def _rename_indexes(tx: Tx, table: str) -> None:
    """Give the renamed table's indexes the names a fresh build would use.

    Index names are unique per schema, so leaving the rebuild's names in
    place would make the next rebuild collide with them.
    """
    if tx.dialect == "postgres":
        tx.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s"
            " AND schemaname = current_schema()",
            (table,),
        )
        for (index,) in tx.fetchall():
            if REBUILD_SUFFIX in index:
                renamed = identifier(index.replace(REBUILD_SUFFIX, "", 1))
                tx.execute("ALTER INDEX " + identifier(index) + " RENAME TO " + renamed)
        return
    tx.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
        " AND tbl_name = %s AND sql IS NOT NULL",
        (table,),
    )
    for index, statement in tx.fetchall():
        if REBUILD_SUFFIX in index:
            tx.execute("DROP INDEX " + identifier(index))
            tx.execute(
                str(statement).replace(index, index.replace(REBUILD_SUFFIX, "", 1), 1)
            )
