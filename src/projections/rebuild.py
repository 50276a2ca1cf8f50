"""Rebuilding a projection afresh beside the live one, then switching."""

import logging

from wellbeing.persistence.database import Tx
from wellbeing.persistence.runtime import Runtime
from wellbeing.projections.engine import (
    REBUILD_SUFFIX,
    Projection,
    catch_up,
    create_tables,
    drop_tables,
    ensure_tables,
    identifier,
    live_names,
    position,
    read_batch,
    rebuild_names,
    set_position,
)

logger = logging.getLogger(__name__)


def rebuild(runtime: Runtime, projection: Projection) -> int:
    """Build new tables from the first event while writes go on, then swap.

    The swap takes the live position's lock, so the live runner pauses for
    the last few events only; the result equals incremental maintenance.
    Returns the position the rebuilt projection reached.
    """
    ensure_tables(runtime, projection)
    tracking = projection.name + "#rebuild"
    fresh = rebuild_names(projection)
    with runtime.database.transaction() as tx:
        drop_tables(tx, fresh)
        create_tables(tx, projection, fresh)
        tx.execute("DELETE FROM projection_positions WHERE name = %s", (tracking,))
        tx.execute(
            "INSERT INTO projection_positions (name, position) VALUES (%s, 0)",
            (tracking,),
        )
    catch_up(runtime, projection, tracking_name=tracking, names=fresh)
    return _switch(runtime, projection, tracking, fresh)


def _switch(
    runtime: Runtime, projection: Projection, tracking: str, fresh: dict[str, str]
) -> int:
    live = live_names(projection)
    with runtime.database.transaction() as tx:
        position(tx, projection.name, lock=True)
        reached = position(tx, tracking, lock=True) or 0
        while True:
            last, wanted = read_batch(runtime, tx, reached, 2000, projection.topics)
            if last == reached:
                break
            if wanted:
                projection.apply(tx, fresh, wanted)
            reached = last
        drop_tables(tx, live)
        for name, real in fresh.items():
            tx.execute("ALTER TABLE " + identifier(real) + " RENAME TO " + live[name])
            _rename_indexes(tx, live[name])
        set_position(tx, projection.name, reached)
        tx.execute("DELETE FROM projection_positions WHERE name = %s", (tracking,))
    logger.info("projection rebuilt name=%s position=%d", projection.name, reached)
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
