"""A batch stored while the next is read: conflicts, failures, and order."""

import threading
from collections.abc import Sequence
from pathlib import Path

import pytest
from eventsourcing.persistence import StoredEvent
from pupil_files import pupils, roll, run_import, school, statuses, write_census

from wellbeing.commands.actor import Actor
from wellbeing.commands.import_commits import BatchCommits, BatchNotStored
from wellbeing.commands.import_participants import list_import_runs
from wellbeing.persistence.database import DatabaseError
from wellbeing.persistence.event_store import EventWriter, Extra, VersionConflict
from wellbeing.persistence.runtime import Runtime


class FailingWriter(EventWriter):
    """Fails the chosen commits of many events, then writes as usual."""

    def __init__(self, writer: EventWriter, failures: dict[int, Exception]) -> None:
        super().__init__(writer.database, writer.mapper)
        self.failures = failures
        self.batches = 0

    def commit_stored(self, stored: Sequence[StoredEvent], extra: Extra | None) -> None:
        if len(stored) > 1:
            self.batches += 1
            failure = self.failures.get(self.batches)
            if failure is not None:
                raise failure
        super().commit_stored(stored, extra)


def test_a_batch_that_met_a_conflict_is_stored_again(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    path = write_census(tmp_path / "a.csv", pupils(30))
    runtime.writer = FailingWriter(runtime.writer, {2: VersionConflict("raced")})

    report = run_import(runtime, actor, team_id, path, batch_size=10)

    assert set(statuses(report).values()) == {"new"}
    upns = sorted(str(p.upn) for p in roll(runtime, team_id))
    assert upns == sorted(str(p.upn) for p in pupils(30))
    assert [p.reference for p in roll(runtime, team_id)] == list(range(1, 31))


def test_a_batch_of_updates_that_met_a_conflict_updates_each_pupil(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    run_import(runtime, actor, team_id, write_census(tmp_path / "a.csv", pupils(30)))
    moved = [p.but(year_group="6") for p in pupils(30)]
    path = write_census(tmp_path / "b.csv", moved)
    runtime.writer = FailingWriter(runtime.writer, {2: VersionConflict("raced")})

    report = run_import(runtime, actor, team_id, path, batch_size=10)

    assert set(statuses(report).values()) == {"updated"}
    assert {p.year_group for p in roll(runtime, team_id)} == {"6"}


def test_a_batch_that_never_gets_through_ends_the_import(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    path = write_census(tmp_path / "a.csv", pupils(30))
    always = {n: VersionConflict("raced") for n in range(2, 40)}
    runtime.writer = FailingWriter(runtime.writer, always)

    with pytest.raises(BatchNotStored):
        run_import(runtime, actor, team_id, path, batch_size=10)

    assert len(roll(runtime, team_id)) == 10
    assert list_import_runs(runtime, actor, team_id)[0]["status"] == "interrupted"


def test_a_failed_batch_interrupts_the_run_and_a_rerun_completes_it(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    path = write_census(tmp_path / "a.csv", pupils(30))
    writer = runtime.writer
    runtime.writer = FailingWriter(writer, {3: DatabaseError("gone")})

    with pytest.raises(DatabaseError):
        run_import(runtime, actor, team_id, path, batch_size=10)
    interrupted = list_import_runs(runtime, actor, team_id)[0]["status"]
    runtime.writer = writer
    report = run_import(runtime, actor, team_id, path, batch_size=10)

    assert interrupted == "interrupted"
    assert report.resumed
    assert len(roll(runtime, team_id)) == 30


def test_settling_raises_what_the_batch_raised() -> None:
    commits = BatchCommits()

    def fail() -> None:
        raise DatabaseError("gone")

    commits.submit(fail, redo=lambda: None)

    with pytest.raises(DatabaseError):
        commits.settle()
    commits.close()


def test_abandoning_waits_without_raising() -> None:
    done: list[str] = []
    commits = BatchCommits()

    def fail() -> None:
        done.append("ran")
        raise DatabaseError("gone")

    commits.submit(fail, redo=lambda: None)
    commits.abandon()

    assert done == ["ran"]
    commits.settle()
    commits.close()


class ThreadNotingWriter(EventWriter):
    """Notes which thread stored each batch."""

    def __init__(self, writer: EventWriter) -> None:
        super().__init__(writer.database, writer.mapper)
        # The threads themselves are kept, so no two can share an identity.
        self.threads: set[threading.Thread] = set()

    def commit_stored(self, stored: Sequence[StoredEvent], extra: Extra | None) -> None:
        if len(stored) > 1:
            self.threads.add(threading.current_thread())
        super().commit_stored(stored, extra)


def test_imports_share_the_committing_threads(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    # A SQLite connection stays open per thread until the store closes, so
    # a thread per import would leave a connection behind each one.
    writer = ThreadNotingWriter(runtime.writer)
    runtime.writer = writer

    for number in range(4):
        team_id = school(runtime, actor)
        path = write_census(tmp_path / f"{number}.csv", pupils(20))
        run_import(runtime, actor, team_id, path, batch_size=5)

    assert 1 <= len(writer.threads) <= 2
    assert threading.current_thread() not in writer.threads
