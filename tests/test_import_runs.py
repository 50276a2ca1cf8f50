"""Import runs: recorded, interrupted, resumed, raced, on both stores."""

import hashlib
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pupil_files import (
    pupils,
    roll,
    run_import,
    school,
    statuses,
    write_census,
)

from wellbeing.commands import import_participants as importer
from wellbeing.commands.actor import Actor
from wellbeing.commands.import_participants import list_import_runs
from wellbeing.commands.import_report import ImportReport
from wellbeing.persistence.import_runs import ImportRuns
from wellbeing.persistence.runtime import Runtime


class Crash(Exception):
    """Stands for a process stopping in the middle of an import."""


def _crash_on_batch(monkeypatch: pytest.MonkeyPatch, number: int) -> None:
    real = importer.plan_batch
    calls = {"count": 0}

    def planned(*args: Any) -> Any:
        calls["count"] += 1
        if calls["count"] == number:
            raise Crash
        return real(*args)

    monkeypatch.setattr(importer, "plan_batch", planned)


def _rows_table(runtime: Runtime) -> list[tuple[Any, ...]]:
    with runtime.database.transaction() as tx:
        tx.execute("SELECT * FROM import_rows ORDER BY row_number")
        rows = tx.fetchall()
        tx.execute("SELECT * FROM import_runs")
        return rows + tx.fetchall()


def test_commit_records_a_finished_run_with_its_counts(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    path = write_census(
        tmp_path / "a.csv", [*pupils(2), pupils(1, start=3)[0].but(upn="X")]
    )

    report = run_import(runtime, actor, team_id, path)

    (run,) = list_import_runs(runtime, actor, team_id)
    assert run["run_id"] == str(report.run_id)
    assert (run["status"], run["rows"], run["new"], run["rejected"]) == (
        "finished",
        3,
        2,
        1,
    )


def test_dry_run_records_no_run(runtime: Runtime, actor: Actor, tmp_path: Path) -> None:
    team_id = school(runtime, actor)

    run_import(
        runtime,
        actor,
        team_id,
        write_census(tmp_path / "a.csv", pupils(2)),
        commit=False,
    )

    assert list_import_runs(runtime, actor, team_id) == []


def test_interrupted_run_shows_as_interrupted(
    runtime: Runtime, actor: Actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    team_id = school(runtime, actor)
    path = write_census(tmp_path / "a.csv", pupils(10))
    _crash_on_batch(monkeypatch, 2)

    with pytest.raises(Crash):
        run_import(runtime, actor, team_id, path, batch_size=4)

    (run,) = list_import_runs(runtime, actor, team_id)
    assert (run["status"], run["new"]) == ("interrupted", 4)
    assert len(roll(runtime, team_id)) == 4


def test_running_the_file_again_completes_the_interrupted_run(
    runtime: Runtime, actor: Actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    team_id = school(runtime, actor)
    path = write_census(tmp_path / "a.csv", pupils(10))
    _crash_on_batch(monkeypatch, 2)
    with pytest.raises(Crash):
        run_import(runtime, actor, team_id, path, batch_size=4)
    monkeypatch.undo()

    report = run_import(runtime, actor, team_id, path, batch_size=4)

    (run,) = list_import_runs(runtime, actor, team_id)
    assert report.resumed
    assert set(statuses(report).values()) == {"new"}
    assert (run["status"], run["rows"], run["new"]) == ("finished", 10, 10)
    upns = [p.upn for p in roll(runtime, team_id)]
    assert upns == [p.upn for p in pupils(10)]


def test_silent_run_shows_as_interrupted(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    runs = ImportRuns(runtime.keys, team_id)
    with runtime.database.transaction() as tx:
        run, _ = runs.start_or_resume(tx, "f" * 64, actor.user_id, False)
    later = run.heartbeat_at + timedelta(minutes=2)

    now = list_import_runs(runtime, actor, team_id, now=run.heartbeat_at)
    after = list_import_runs(runtime, actor, team_id, now=later)

    assert (now[0]["status"], after[0]["status"]) == ("running", "interrupted")


def test_same_file_with_other_options_is_another_run(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    path = write_census(tmp_path / "a.csv", pupils(2))
    run_import(runtime, actor, team_id, path)

    again = run_import(runtime, actor, team_id, path, full_roster=True)

    assert not again.already_imported
    assert set(statuses(again).values()) == {"unchanged"}
    assert len(list_import_runs(runtime, actor, team_id)) == 2


def test_fingerprint_is_a_keyed_hash_of_the_team(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    path = write_census(tmp_path / "a.csv", pupils(2))
    first, second = school(runtime, actor), school(runtime, actor)

    prints = [
        ImportRuns(runtime.keys, t).fingerprint(path, b"") for t in (first, second)
    ]

    plain = hashlib.sha256(path.read_bytes()).hexdigest()
    assert plain not in prints
    assert prints[0] != prints[1]


def test_runs_and_row_outcomes_hold_no_names_or_upns(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    people = pupils(3)
    bad = people[2].but(date_of_birth=people[2].date_of_birth.replace(year=2099))
    run_import(
        runtime, actor, team_id, write_census(tmp_path / "a.csv", [*people[:2], bad])
    )

    stored = repr(_rows_table(runtime))

    for person in people:
        assert person.surname not in stored
        assert person.forename not in stored
        assert str(person.upn) not in stored
    assert "invalid-date:date_of_birth" in stored


def _race(runtime: Runtime, actor: Actor, team_id: Any, *paths: Path) -> list[Any]:
    """Import the files at the same moment, one thread each."""
    barrier = threading.Barrier(len(paths))
    outcomes: list[Any] = []

    def one(path: Path) -> None:
        barrier.wait()
        try:
            outcomes.append(run_import(runtime, actor, team_id, path, batch_size=7))
        except Exception as error:  # noqa: BLE001 (reported by the assertion)
            outcomes.append(error)

    threads = [threading.Thread(target=one, args=(path,)) for path in paths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_two_imports_of_one_file_at_once_register_each_pupil_once(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    path = write_census(tmp_path / "a.csv", pupils(40))

    outcomes = _race(runtime, actor, team_id, path, path)

    assert all(isinstance(o, ImportReport) for o in outcomes), outcomes
    upns = sorted(str(p.upn) for p in roll(runtime, team_id))
    assert upns == sorted(str(p.upn) for p in pupils(40))
    references = [p.reference for p in roll(runtime, team_id)]
    assert references == list(range(1, 41))


def test_two_imports_without_upns_at_once_register_each_pupil_once(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    path = write_census(tmp_path / "a.csv", pupils(30, upn=False))

    outcomes = _race(runtime, actor, team_id, path, path)

    assert all(isinstance(o, ImportReport) for o in outcomes), outcomes
    surnames = sorted(p.surname for p in roll(runtime, team_id))
    assert surnames == sorted(p.surname for p in pupils(30))


def test_two_files_naming_the_same_pupils_at_once_register_each_once(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    first = write_census(tmp_path / "a.csv", pupils(40))
    second = write_census(tmp_path / "b.csv", pupils(40)[::-1])

    outcomes = _race(runtime, actor, team_id, first, second)

    assert all(isinstance(o, ImportReport) for o in outcomes), outcomes
    assert len(list_import_runs(runtime, actor, team_id)) == 2
    upns = sorted(str(p.upn) for p in roll(runtime, team_id))
    assert upns == sorted(str(p.upn) for p in pupils(40))
