"""The runner process: one active per projection, woken by notifications."""

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from wellbeing.persistence.database import PostgresDatabase
from wellbeing.persistence.runtime import Runtime
from wellbeing.projections.engine import (
    BeforeCommit,
    Projection,
    ProjectionError,
    advisory_key,
    catch_up,
)

logger = logging.getLogger(__name__)
# Writers notify this channel on commit; the timeout is only a safety net.
EVENTS_CHANNEL = "wellbeing_events"
WAIT_SECONDS = 5.0
# How often an idle runner looks whether it has been asked to stop.
STOP_CHECK_SECONDS = 0.5
STANDBY_SECONDS = 1.0
# Batches between checks for a request to stop, while catching up a backlog.
BATCHES_PER_ROUND = 10
# Test hook, read by runner processes only: when set to a path (a FIFO), the
# runner writes the position it is about to commit there after applying a
# batch and before committing it, then waits to be killed. It lets a test
# kill a runner in the middle of a batch; nothing else sets it.
PAUSE_ENV = "LEDGER_TEST_PAUSE_BEFORE_COMMIT"

ShouldStop = Callable[[], bool]


def run_projection(
    runtime: Runtime,
    projection: Projection,
    *,
    should_stop: ShouldStop = lambda: False,
    retry_seconds: float = 1.0,
    retry_limit: float = 30.0,
) -> None:
    """Keep one projection current until told to stop.

    On PostgreSQL a session advisory lock makes this the one active runner;
    a second runner waits as a standby and takes over when the first ends.
    After any error the runner logs its reason and starts again, waiting a
    little longer each time up to `retry_limit` seconds. Raises
    ProjectionError on the embedded store, which has no runner processes.
    """
    database = runtime.database
    if not isinstance(database, PostgresDatabase):
        raise ProjectionError("runner processes are for PostgreSQL")
    pause = _pause_hook()
    delay = retry_seconds
    while not should_stop():
        started = time.monotonic()
        try:
            _serve(runtime, database, projection, should_stop, pause)
        # A runner outlives any failure of a batch, a connection or the
        # server: it reports the reason and tries again.
        except Exception as error:  # noqa: BLE001
            if time.monotonic() - started > retry_limit:
                delay = retry_seconds
            logger.exception(
                "projection runner failed name=%s reason=%s retry_seconds=%.1f",
                projection.name,
                type(error).__name__,
                delay,
            )
            _wait(delay, should_stop)
            delay = min(delay * 2, retry_limit)


def _serve(
    runtime: Runtime,
    database: PostgresDatabase,
    projection: Projection,
    should_stop: ShouldStop,
    pause: BeforeCommit | None,
) -> None:
    with psycopg.connect(database.url, autocommit=True) as connection:
        if not _become_active(connection, database, projection, should_stop):
            return
        logger.info("projection active name=%s", projection.name)
        connection.execute("LISTEN " + EVENTS_CHANNEL)
        due, idle = True, 0.0
        while not should_stop():
            if due:
                read = catch_up(
                    runtime,
                    projection,
                    max_batches=BATCHES_PER_ROUND,
                    before_commit=pause,
                )
                if read:
                    logger.debug(
                        "projection read name=%s events=%d", projection.name, read
                    )
                    continue
                idle = 0.0
            woken = list(connection.notifies(timeout=STOP_CHECK_SECONDS, stop_after=1))
            idle += STOP_CHECK_SECONDS
            due = bool(woken) or idle >= WAIT_SECONDS


def _become_active(
    connection: psycopg.Connection[tuple[object, ...]],
    database: PostgresDatabase,
    projection: Projection,
    should_stop: ShouldStop,
) -> bool:
    key = advisory_key(database, "runner", projection.name)
    waiting = False
    while not should_stop():
        row = connection.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
        if row and row[0]:
            return True
        if not waiting:
            logger.info("projection standby name=%s", projection.name)
            waiting = True
        _wait(STANDBY_SECONDS, should_stop)
    return False


def _wait(seconds: float, should_stop: ShouldStop) -> None:
    deadline = time.monotonic() + seconds
    while not should_stop():
        left = deadline - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(left, 0.2))


def _pause_hook() -> BeforeCommit | None:
    path = os.environ.get(PAUSE_ENV)
    if not path:
        return None

    def pause(reached: int) -> None:
        Path(path).write_text(f"{reached}\n", encoding="ascii")
        threading.Event().wait()

    return pause
