"""Runner processes on PostgreSQL: one active, crashes, restarts, standby.

Runners are started as `wellbeing project usage` without a KEK, as in
production. Tests wait on the tracked position (each batch notifies it) or
on the runner's own log lines, never on the clock.
"""

import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from conftest import StoreFactory
from test_projections_world import (
    add_history,
    count,
    head,
    new_pupil,
    new_team,
    tracked,
    wait_for_position,
)

from wellbeing.commands.actor import Actor
from wellbeing.crypto import Kek
from wellbeing.persistence.database import Tx
from wellbeing.persistence.runtime import Runtime, open_runtime
from wellbeing.projections.engine import ProjectionError, catch_up
from wellbeing.projections.log import Notification
from wellbeing.projections.runner import PAUSE_ENV, run_projection
from wellbeing.projections.usage import UsageProjection
from wellbeing.settings import Settings

ACTIVE = "projection active name=usage"
STANDBY = "projection standby name=usage"


@pytest.fixture
def pg(postgres_available: None, tmp_path: Path, kek: Kek) -> Iterator[StoreFactory]:
    factory = StoreFactory("postgres", tmp_path, kek)
    yield factory
    factory.drop()


@pytest.fixture
def runtime(pg: StoreFactory) -> Iterator[Runtime]:
    opened = open_runtime(pg.settings())
    yield opened
    opened.close()


class Runner:
    """`wellbeing project NAME` in a subprocess, its log lines in a queue."""

    started: list["Runner"] = []

    def __init__(self, settings: Settings, *args: str, pause: Path | None = None):
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("WELLBEING_") and k != PAUSE_ENV
        }
        env["WELLBEING_DATABASE_URL"] = settings.database_url
        env["WELLBEING_DATA_DIR"] = str(settings.data_dir)
        env["WELLBEING_LOG_LEVEL"] = "INFO"
        if pause is not None:
            env[PAUSE_ENV] = str(pause)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "wellbeing.cli.main", "project", *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        Runner.started.append(self)

    def _read(self) -> None:
        assert self.process.stderr is not None
        with self.process.stderr:
            for line in self.process.stderr:
                self.lines.put(line)

    def wait_for(self, text: str, timeout: float = 60.0) -> str:
        """The first log line holding `text`; fails after `timeout`."""
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                pytest.fail(f"runner never logged {text!r}: {self.seen}")
            self.seen.append(line)
            if text in line:
                return line

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


@pytest.fixture(autouse=True)
def no_runner_left() -> Iterator[None]:
    yield
    for runner in Runner.started:
        if runner.process.poll() is None:
            runner.kill()
        runner.reader.join(timeout=30)
    Runner.started.clear()


class Fifo:
    """A named pipe the paused runner writes to; read in a thread."""

    def __init__(self, path: Path) -> None:
        os.mkfifo(path)
        self.path = path
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        with self.path.open(encoding="ascii") as pipe:
            self.lines.put(pipe.readline())

    def get(self, timeout: float = 60.0) -> str:
        return self.lines.get(timeout=timeout)


def no_kek(pg: StoreFactory) -> Settings:
    return pg.settings(without_kek=True)


def test_runner_killed_in_the_middle_of_a_batch_resumes_with_exact_counts(
    pg: StoreFactory, runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = new_team(runtime, actor)
    before = add_history(runtime, actor, team_id, pupils=100, snapshots_each=2)
    catch_up(runtime, UsageProjection())
    committed = tracked(runtime, "usage")
    after = add_history(runtime, actor, team_id, pupils=300, snapshots_each=3)
    fifo = Fifo(tmp_path / "paused")
    paused = Runner(no_kek(pg), "usage", pause=fifo.path)

    about_to_commit = int(fifo.get())
    paused.kill()

    assert committed is not None and about_to_commit > committed
    assert tracked(runtime, "usage") == committed
    assert count(runtime, "usage_snapshots") == before.snapshots
    restarted = Runner(no_kek(pg), "usage")
    wait_for_position(runtime, "usage", head(runtime))
    assert (
        count(runtime, "usage_participants") == before.participants + after.participants
    )
    assert count(runtime, "usage_snapshots") == before.snapshots + after.snapshots
    assert restarted.stop() == 0


def test_second_runner_waits_as_standby_and_takes_over(
    pg: StoreFactory, runtime: Runtime, actor: Actor
) -> None:
    team_id = new_team(runtime, actor)
    first = Runner(no_kek(pg), "usage")
    first.wait_for(ACTIVE)
    second = Runner(no_kek(pg), "usage")
    second.wait_for(STANDBY)

    history = add_history(runtime, actor, team_id, pupils=50, snapshots_each=2)
    wait_for_position(runtime, "usage", head(runtime))
    assert count(runtime, "usage_snapshots") == history.snapshots
    assert ACTIVE not in "".join(second.seen)
    first.kill()
    second.wait_for(ACTIVE)
    more = add_history(runtime, actor, team_id, pupils=20, snapshots_each=1)
    wait_for_position(runtime, "usage", head(runtime))

    assert count(runtime, "usage_participants") == history.participants + 20
    assert count(runtime, "usage_snapshots") == history.snapshots + more.snapshots
    assert second.stop() == 0


def test_runner_wakes_on_each_new_event(
    pg: StoreFactory, runtime: Runtime, actor: Actor
) -> None:
    team_id = new_team(runtime, actor)
    runner = Runner(no_kek(pg), "usage")
    runner.wait_for(ACTIVE)

    for reference in range(1, 4):
        new_pupil(runtime, actor, team_id, reference)
        wait_for_position(runtime, "usage", head(runtime), timeout=4.0)

    assert count(runtime, "usage_participants") == 3
    assert runner.stop() == 0


def test_project_without_a_name_runs_every_projection(
    pg: StoreFactory, runtime: Runtime, actor: Actor
) -> None:
    team_id = new_team(runtime, actor)
    new_pupil(runtime, actor, team_id, 1)
    runner = Runner(no_kek(pg))

    for name in ("usage", "exports", "roster"):
        wait_for_position(runtime, name, head(runtime))

    assert count(runtime, "roster_participants") == 1
    assert runner.stop() == 0


def test_rebuild_from_the_command_line(
    pg: StoreFactory, runtime: Runtime, actor: Actor
) -> None:
    team_id = new_team(runtime, actor)
    add_history(runtime, actor, team_id, pupils=5, snapshots_each=1)

    done = Runner(no_kek(pg), "usage", "--rebuild")

    assert done.process.wait(timeout=60) == 0
    assert tracked(runtime, "usage") == head(runtime)
    assert count(runtime, "usage_snapshots") == 5


class FailingOnce(UsageProjection):
    """Fails its first batch, then works and says so."""

    def __init__(self) -> None:
        self.failed = False
        self.worked = threading.Event()

    def apply(
        self, tx: Tx, names: dict[str, str], batch: Sequence[Notification]
    ) -> None:
        if not self.failed:
            self.failed = True
            raise RuntimeError("the first batch fails")
        super().apply(tx, names, batch)
        self.worked.set()


def test_runner_logs_the_reason_of_a_failure_and_starts_again(
    runtime: Runtime, actor: Actor, caplog: pytest.LogCaptureFixture
) -> None:
    new_team(runtime, actor)
    projection = FailingOnce()
    stop = threading.Event()
    thread = threading.Thread(
        target=run_projection,
        args=(runtime, projection),
        kwargs={"should_stop": stop.is_set, "retry_seconds": 0.01},
    )
    thread.start()

    worked = projection.worked.wait(timeout=60)
    stop.set()
    thread.join(timeout=60)

    assert worked
    assert "projection runner failed name=usage reason=RuntimeError" in caplog.text
    assert count(runtime, "usage_teams") == 1


@pytest.fixture
def embedded(tmp_path: Path, kek: Kek) -> StoreFactory:
    return StoreFactory("sqlite", tmp_path, kek)


def test_runner_is_for_postgres_only(embedded: StoreFactory) -> None:
    opened = open_runtime(embedded.settings())
    try:
        with pytest.raises(ProjectionError):
            run_projection(opened, UsageProjection())
    finally:
        opened.close()


def test_project_on_the_embedded_store_catches_up_and_ends(
    embedded: StoreFactory, actor: Actor
) -> None:
    opened = open_runtime(embedded.settings())
    new_team(opened, actor)

    done = Runner(embedded.settings(), "usage")

    assert done.process.wait(timeout=60) == 0
    assert tracked(opened, "usage") == head(opened)
    opened.close()
