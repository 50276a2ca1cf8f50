"""Erasing a pupil shreds the answers, scores and program notes about them."""

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from conftest import StoreFactory
from erasure_fixtures import Pair, erase, import_pair
from raw_scan import found, raw_bytes

from wellbeing.aggregates.participant import ParticipantErased
from wellbeing.aggregates.personal import ERASED, SEALED
from wellbeing.aggregates.program import Program
from wellbeing.aggregates.snapshot import COMPLETED, STARTED, Snapshot
from wellbeing.commands.actor import Actor
from wellbeing.commands.history import history
from wellbeing.commands.instrument_files import load_instruments
from wellbeing.commands.loading import load
from wellbeing.commands.programs import (
    CloseProgram,
    ReviewProgram,
    StartProgram,
    close_program,
    review_program,
    show_program,
    start_program,
)
from wellbeing.commands.snapshots import (
    CompleteSnapshot,
    DiscardSnapshot,
    RecordAnswers,
    StartSnapshot,
    complete_snapshot,
    discard_snapshot,
    record_answers,
    show_snapshot,
    start_snapshot,
)
from wellbeing.persistence.runtime import Runtime, open_runtime

INSTRUMENT = "wellbeing-check"
ITEMS = {
    "safety": ["safety-named-adult"],
    "advice": ["advice-help-signal"],
    "activities": ["activity-wins-diary"],
}


@dataclass
class Records:
    """A pupil's health records, and another pupil's that must stay whole."""

    pair: Pair
    completed_id: UUID
    in_progress_id: UUID
    program_id: UUID
    kept_snapshot_id: UUID
    notes: list[str]

    def needles(self) -> list[bytes]:
        return [note.encode() for note in self.notes]


def every_answer() -> dict[str, int]:
    return {item.id: 2 for item in load_instruments()[INSTRUMENT].items}


def completed(runtime: Runtime, actor: Actor, participant_id: UUID) -> UUID:
    snapshot_id = started(runtime, actor, participant_id)
    record_answers(runtime, RecordAnswers(actor, snapshot_id, every_answer()))
    complete_snapshot(runtime, CompleteSnapshot(actor, snapshot_id))
    return snapshot_id


def started(runtime: Runtime, actor: Actor, participant_id: UUID) -> UUID:
    result = start_snapshot(
        runtime, StartSnapshot(actor, participant_id, INSTRUMENT, "comprehensive")
    )
    return UUID(str(result["id"]))


def health_records(runtime: Runtime, actor: Actor, folder: Path) -> Records:
    pair = import_pair(runtime, actor, folder)
    notes = [f"Canarynote{uuid4().hex}", f"Canaryreview{uuid4().hex}"]
    completed_id = completed(runtime, actor, pair.gone_id)
    program = start_program(runtime, StartProgram(actor, completed_id, ITEMS, notes[0]))
    program_id = UUID(str(program["id"]))
    review_program(runtime, ReviewProgram(actor, program_id, ITEMS, notes[1]))
    in_progress_id = started(runtime, actor, pair.gone_id)
    record_answers(runtime, RecordAnswers(actor, in_progress_id, {"mood-1": 3}))
    kept_snapshot_id = completed(runtime, actor, pair.kept_id)
    return Records(
        pair, completed_id, in_progress_id, program_id, kept_snapshot_id, notes
    )


@pytest.fixture
def records(runtime: Runtime, actor: Actor, tmp_path: Path) -> Records:
    return health_records(runtime, actor, tmp_path)


@pytest.fixture
def erased(runtime: Runtime, actor: Actor, records: Records) -> Records:
    erase(runtime, actor, records.pair.gone_id)
    return records


@pytest.fixture
def keyless(stores: StoreFactory, records: Records) -> Iterator[Runtime]:
    """A second process on the same store with no KEK at all."""
    opened = open_runtime(stores.settings(without_kek=True), need_kek=False)
    yield opened
    opened.close()


def test_completed_snapshot_of_an_erased_pupil_reads_as_erased(
    runtime: Runtime, erased: Records
) -> None:
    snapshot = load(runtime, Snapshot, erased.completed_id)

    assert snapshot.status == COMPLETED
    assert snapshot.answers is ERASED
    assert snapshot.scores is ERASED


def test_snapshot_in_progress_of_an_erased_pupil_reads_as_erased(
    runtime: Runtime, erased: Records
) -> None:
    snapshot = load(runtime, Snapshot, erased.in_progress_id)

    assert snapshot.status == STARTED
    assert snapshot.answers is ERASED


def test_program_of_an_erased_pupil_reads_as_erased(
    runtime: Runtime, erased: Records
) -> None:
    program = load(runtime, Program, erased.program_id)

    assert program.items is ERASED
    assert program.notes is ERASED
    assert program.reviews == 1


def test_every_past_version_of_the_records_loads_without_error(
    runtime: Runtime, erased: Records
) -> None:
    ids = (erased.completed_id, erased.in_progress_id, erased.program_id)
    versions = [(i, v) for i in ids for v in range(1, len(_events(runtime, i)) + 1)]

    loaded = [runtime.ledger.repository.get(i, version=v) for i, v in versions]

    assert [record.version for record in loaded] == [v for _, v in versions]


def test_shown_records_of_an_erased_pupil_carry_erased_markers(
    runtime: Runtime, actor: Actor, erased: Records
) -> None:
    snapshot = show_snapshot(runtime, actor, erased.completed_id)
    program = show_program(runtime, actor, erased.program_id)

    marker = {"erased": True}
    assert (snapshot["answers"], snapshot["scores"]) == (marker, marker)
    assert (program["items"], program["notes"]) == (marker, marker)


def test_history_of_an_erased_pupils_snapshot_shows_erased_fields(
    runtime: Runtime, erased: Records
) -> None:
    records = history(runtime, erased.completed_id)

    fields = {r["event"]: r["fields"] for r in records}
    assert fields["wellbeing:SnapshotAnswersRecorded"]["answers"] == {"erased": True}
    assert fields["wellbeing:SnapshotCompleted"]["scores"] == {"erased": True}


def test_other_pupils_snapshot_is_untouched(runtime: Runtime, erased: Records) -> None:
    snapshot = load(runtime, Snapshot, erased.kept_snapshot_id)

    assert snapshot.answers == every_answer()
    assert isinstance(snapshot.scores, dict)


def test_erased_pupils_snapshot_takes_no_answers(
    runtime: Runtime, actor: Actor, erased: Records
) -> None:
    with pytest.raises(ParticipantErased):
        record_answers(
            runtime, RecordAnswers(actor, erased.in_progress_id, {"calm-1": 1})
        )


def test_erased_pupils_snapshot_cannot_be_completed(
    runtime: Runtime, actor: Actor, erased: Records
) -> None:
    with pytest.raises(ParticipantErased):
        complete_snapshot(runtime, CompleteSnapshot(actor, erased.in_progress_id))


def test_erased_pupils_snapshot_cannot_be_discarded(
    runtime: Runtime, actor: Actor, erased: Records
) -> None:
    with pytest.raises(ParticipantErased):
        discard_snapshot(runtime, DiscardSnapshot(actor, erased.in_progress_id))


def test_erased_pupils_program_takes_no_review(
    runtime: Runtime, actor: Actor, erased: Records
) -> None:
    with pytest.raises(ParticipantErased):
        review_program(runtime, ReviewProgram(actor, erased.program_id, note="Late"))


def test_erased_pupils_program_cannot_be_closed(
    runtime: Runtime, actor: Actor, erased: Records
) -> None:
    with pytest.raises(ParticipantErased):
        close_program(runtime, CloseProgram(actor, erased.program_id))


def test_erased_pupils_snapshot_gives_no_program(
    runtime: Runtime, actor: Actor, erased: Records
) -> None:
    with pytest.raises(ParticipantErased):
        start_program(runtime, StartProgram(actor, erased.completed_id, ITEMS))


def test_health_data_is_never_stored_in_clear(
    runtime: Runtime, records: Records
) -> None:
    # Item ids appear only as keys of the sealed answers.
    needles = [*records.needles(), b"belonging-2", b"coping-4"]

    assert found(raw_bytes(runtime), needles) == []


def test_no_byte_of_the_erased_pupils_health_data_remains(
    runtime: Runtime,
    actor: Actor,
    records: Records,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    show_program(runtime, actor, records.program_id)
    gone_id, kept_id = records.pair.gone_id, records.pair.kept_id
    data_key = runtime.keys.for_reading(gone_id)
    assert isinstance(data_key, bytes)
    wrapped = _wrapped_key(runtime, gone_id)

    erase(runtime, actor, gone_id)

    haystack = raw_bytes(runtime)
    gone = [*records.needles(), data_key, wrapped]
    assert found(haystack, gone) == []
    assert found(caplog.text.encode(), gone) == []
    assert found(haystack, [_wrapped_key(runtime, kept_id)]) != []


def test_process_without_a_kek_reads_health_data_as_sealed(
    keyless: Runtime, records: Records
) -> None:
    snapshot = load(keyless, Snapshot, records.completed_id)
    program = load(keyless, Program, records.program_id)

    assert (snapshot.answers, snapshot.scores) == (SEALED, SEALED)
    assert (program.items, program.notes) == (SEALED, SEALED)


def _events(runtime: Runtime, aggregate_id: UUID) -> list[Any]:
    return list(runtime.ledger.events.get(aggregate_id))


def _wrapped_key(runtime: Runtime, subject_id: UUID) -> bytes:
    with runtime.database.transaction() as tx:
        param = str(subject_id) if tx.dialect == "sqlite" else subject_id
        tx.execute("SELECT wrapped FROM subject_keys WHERE subject_id = %s", (param,))
        row = tx.fetchone()
    return b"" if row is None else bytes(row[0])
