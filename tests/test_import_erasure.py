"""Erasure reaches the blind indexes and import runs: a raw canary scan."""

import logging
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import pytest
from people import make_canary
from pupil_files import (
    event_count,
    permanent_upn,
    pupil,
    pupils,
    reasons,
    run_import,
    school,
    statuses,
    temporary_upn,
    write_census,
)
from raw_scan import found, raw_bytes

from wellbeing.commands.actor import Actor
from wellbeing.commands.erasure import EraseParticipant, erase_participant
from wellbeing.commands.import_report import ImportReport
from wellbeing.persistence.blind_index import BlindIndex
from wellbeing.persistence.erasure import ERASERS
from wellbeing.persistence.runtime import Runtime


@dataclass
class Imported:
    """Two canary pupils imported twice; `gone` had a temporary UPN replaced."""

    gone_id: UUID
    kept_id: UUID
    gone_needles: list[bytes]
    kept_digests: list[bytes]


def _import_canaries(runtime: Runtime, actor: Actor, folder: Path) -> Imported:
    team_id = school(runtime, actor, tags=True)
    gone_names, kept_names = make_canary(1), make_canary(2)
    gone = pupil(901, fsm="1", sen="K").but(
        surname=gone_names.surname,
        forename=gone_names.forename,
        upn=temporary_upn(901),
    )
    kept = pupil(902, sen="E").but(
        surname=kept_names.surname, forename=kept_names.forename
    )
    first = run_import(
        runtime, actor, team_id, write_census(folder / "a.csv", [gone, kept])
    )
    replaced = gone.but(upn=permanent_upn(901), former_upn=temporary_upn(901))
    run_import(
        runtime, actor, team_id, write_census(folder / "b.csv", [replaced, kept])
    )
    index = BlindIndex(runtime.keys, team_id)
    gone_id, kept_id = (row.participant_id for row in first.rows)
    assert gone_id is not None and kept_id is not None
    return Imported(
        gone_id=gone_id,
        kept_id=kept_id,
        gone_needles=[
            gone.surname.encode(),
            gone.forename.encode(),
            permanent_upn(901).encode(),
            temporary_upn(901).encode(),
            index.upn_digest(permanent_upn(901)),
            index.upn_digest(temporary_upn(901)),
            index.names_digest(gone.surname, gone.forename, gone.date_of_birth),
        ],
        kept_digests=[
            index.upn_digest(permanent_upn(902)),
            index.names_digest(kept.surname, kept.forename, kept.date_of_birth),
        ],
    )


def _rows_naming(runtime: Runtime, participant_id: UUID) -> int:
    with runtime.database.transaction() as tx:
        param = str(participant_id) if tx.dialect == "sqlite" else participant_id
        tx.execute(
            "SELECT count(*) FROM import_rows WHERE participant_id = %s", (param,)
        )
        row = tx.fetchone()
    return int(row[0]) if row else 0


def test_import_runs_are_in_the_erasure_registry() -> None:
    assert {"blind-index", "import-runs"} <= set(ERASERS)


def test_no_canary_or_digest_of_the_erased_pupil_remains(
    runtime: Runtime,
    actor: Actor,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    imported = _import_canaries(runtime, actor, tmp_path)
    assert found(raw_bytes(runtime), imported.gone_needles[4:]) != []

    erase_participant(runtime, EraseParticipant(actor, imported.gone_id))

    haystack = raw_bytes(runtime)
    assert found(haystack, imported.gone_needles) == []
    assert found(caplog.text.encode(), imported.gone_needles) == []
    assert found(haystack, imported.kept_digests) == imported.kept_digests


def test_import_rows_naming_the_erased_pupil_are_scrubbed(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    imported = _import_canaries(runtime, actor, tmp_path)
    assert _rows_naming(runtime, imported.gone_id) == 2

    erase_participant(runtime, EraseParticipant(actor, imported.gone_id))

    assert _rows_naming(runtime, imported.gone_id) == 0
    assert _rows_naming(runtime, imported.kept_id) == 2


def test_erased_pupil_is_not_matched_by_a_later_file(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    imported = _import_canaries(runtime, actor, tmp_path)
    erase_participant(runtime, EraseParticipant(actor, imported.gone_id))
    team_rows = write_census(tmp_path / "c.csv", [pupil(901)])

    report = run_import(runtime, actor, _team_of(runtime, imported.kept_id), team_rows)

    assert report.rows[0].status == "new"
    assert report.rows[0].participant_id != imported.gone_id


def test_finished_file_again_rejects_the_row_of_an_erased_pupil(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    path = write_census(tmp_path / "census.csv", pupils(3))
    first = run_import(runtime, actor, team_id, path)
    _erase_row(runtime, actor, first, 2)

    again = run_import(runtime, actor, team_id, path)

    assert again.already_imported
    assert statuses(again) == {1: "unchanged", 2: "rejected", 3: "unchanged"}
    assert reasons(again) == {2: ["participant-erased:upn"]}


def test_finished_file_again_registers_nobody_for_an_erased_pupil(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    path = write_census(tmp_path / "census.csv", pupils(3))
    first = run_import(runtime, actor, team_id, path)
    _erase_row(runtime, actor, first, 2)
    events = event_count(runtime)

    again = run_import(runtime, actor, team_id, path)

    assert again.rows[1].participant_id is None
    assert event_count(runtime) == events


def test_erased_pupil_matched_by_names_is_rejected_on_the_names_column(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    path = write_census(tmp_path / "census.csv", pupils(2, upn=False))
    first = run_import(runtime, actor, team_id, path)
    _erase_row(runtime, actor, first, 1)

    again = run_import(runtime, actor, team_id, path)

    assert reasons(again) == {1: ["participant-erased:surname"]}


def _erase_row(
    runtime: Runtime, actor: Actor, report: ImportReport, number: int
) -> None:
    participant_id = report.rows[number - 1].participant_id
    assert participant_id is not None
    erase_participant(runtime, EraseParticipant(actor, participant_id))


def _team_of(runtime: Runtime, participant_id: UUID) -> UUID:
    with runtime.database.transaction() as tx:
        param = str(participant_id) if tx.dialect == "sqlite" else participant_id
        tx.execute(
            "SELECT team_id FROM participant_index WHERE participant_id = %s", (param,)
        )
        row = tx.fetchone()
    assert row is not None
    return UUID(str(row[0]))
