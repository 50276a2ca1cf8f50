"""The runner process: one active per projection, woken by notifications."""

import hashlib
import logging
import time
from collections.abc import Callable

import psycopg

from wellbeing.persistence.database import PostgresDatabase
from wellbeing.persistence.runtime import Runtime
from wellbeing.projections.engine import Projection, catch_up

logger = logging.getLogger(__name__)
WAIT_SECONDS = 5.0
RETRY_SECONDS = 2.0


def _lock_key(name: str) -> int:
    digest = hashlib.sha256(b"wellbeing projection " + name.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def run_projection(
    runtime: Runtime,
    projection: Projection,
    *,
    should_stop: Callable[[], bool] = lambda: False,
) -> None:
    """Keep one projection current until told to stop.

    On PostgreSQL a session advisory lock makes this the one active runner;
    a second runner waits as a standby and takes over when the first dies.
    Errors are logged with their reason and the runner starts again.
    """
    database = runtime.database
    if not isinstance(database, PostgresDatabase):
        raise TypeError("runner processes are for PostgreSQL")
    while not should_stop():
        try:
            _serve(runtime, database, projection, should_stop)
        except (psycopg.Error, OSError) as error:
            logger.warning(
                "projection runner restarting name=%s reason=%s",
                projection.name,
                type(error).__name__,
            )
            time.sleep(RETRY_SECONDS)


def _serve(
    runtime: Runtime,
    database: PostgresDatabase,
    projection: Projection,
    should_stop: Callable[[], bool],
) -> None:
    with psycopg.connect(
        database.url, autocommit=True, options=f"-c search_path={database.schema}"
    ) as connection:
        while not should_stop():
            row = connection.execute(
                "SELECT pg_try_advisory_lock(%s)", (_lock_key(projection.name),)
            ).fetchone()
            if row and row[0]:
                break
            logger.info("projection standby name=%s", projection.name)
            time.sleep(1.0)
        else:
            return
        logger.info("projection active name=%s", projection.name)
        connection.execute("LISTEN wellbeing_events")
        while not should_stop():
            catch_up(runtime, projection)
            for _ in connection.notifies(timeout=WAIT_SECONDS, stop_after=1):
                pass
