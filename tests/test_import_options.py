"""Tags, encodings, --strict and --full-roster, on both stores."""

import unicodedata
from datetime import date
from pathlib import Path

import pytest
from pupil_files import (
    CENSUS,
    pupil,
    pupils,
    reasons,
    roll,
    run_import,
    school,
    statuses,
    write_census,
)

from wellbeing.commands.actor import Actor
from wellbeing.commands.import_participants import ConfirmationRequired
from wellbeing.commands.pupil_file import PupilFileInvalid
from wellbeing.persistence.participants import left_before
from wellbeing.persistence.runtime import Runtime

TODAY = date(2026, 3, 2)


def test_tag_in_the_vocabulary_is_recorded_at_registration(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor, tags=True)
    path = write_census(tmp_path / "a.csv", [pupil(1, fsm="1", sen="k")])

    report = run_import(runtime, actor, team_id, path)

    assert roll(runtime, team_id)[0].tags == {"FSM": ["1"], "SEN provision": ["K"]}
    assert report.rows[0].warnings == []


def test_tag_outside_the_vocabulary_is_a_warning_not_a_rejection(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor, tags=True)
    path = write_census(tmp_path / "a.csv", [pupil(1, fsm="1", sen="X")])

    report = run_import(runtime, actor, team_id, path)

    assert statuses(report) == {1: "new"}
    assert report.rows[0].warnings == ["tag-not-in-vocabulary:sen-provision"]
    assert roll(runtime, team_id)[0].tags == {"FSM": ["1"]}


def test_later_file_moves_the_pupil_to_another_tag(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor, tags=True)
    run_import(
        runtime, actor, team_id, write_census(tmp_path / "a.csv", [pupil(1, sen="K")])
    )

    report = run_import(
        runtime, actor, team_id, write_census(tmp_path / "b.csv", [pupil(1, sen="E")])
    )

    assert statuses(report) == {1: "updated"}
    assert roll(runtime, team_id)[0].tags == {"SEN provision": ["E"]}


def test_tag_column_without_a_taxonomy_is_a_file_warning(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    path = write_census(tmp_path / "a.csv", [pupil(1, fsm="1")])

    report = run_import(runtime, actor, team_id, path)

    assert "no-taxonomy-for-column:fsm" in report.warnings
    assert roll(runtime, team_id)[0].tags == {}


def test_windows_1252_file_is_read_and_said_so(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    accented = pupil(1, forename="Zoë", surname="Fictionalcoeur-Renée")
    path = write_census(tmp_path / "a.csv", [accented], encoding="windows-1252")

    report = run_import(runtime, actor, team_id, path)

    stored = roll(runtime, team_id)[0]
    assert report.encoding == "windows-1252"
    assert "windows-1252-fallback" in report.warnings
    assert (stored.forename, stored.surname) == ("Zoë", "Fictionalcoeur-Renée")
    assert "\ufffd" not in stored.surname + stored.forename


def test_names_are_stored_in_nfc(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    decomposed = unicodedata.normalize("NFD", "Zoë")
    path = write_census(tmp_path / "a.csv", [pupil(1, forename=decomposed)])

    run_import(runtime, actor, team_id, path)

    assert roll(runtime, team_id)[0].forename == unicodedata.normalize("NFC", "Zoë")


def test_undecodable_name_is_rejected_never_stored_with_a_replacement(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    path = write_census(tmp_path / "a.csv", pupils(2))
    raw = path.read_bytes().replace(b"Fictionalforename2", b"Fictional\x81forename")
    path.write_bytes(raw)

    report = run_import(runtime, actor, team_id, path)

    assert reasons(report) == {2: ["bad-encoding:forename"]}
    assert len(roll(runtime, team_id)) == 1


def test_strict_refuses_the_whole_file_for_one_bad_row(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    people = [*pupils(2), pupil(3).but(upn="A123")]
    path = write_census(tmp_path / "a.csv", people)

    report = run_import(runtime, actor, team_id, path, strict=True)

    assert report.refused
    assert not report.committed
    assert reasons(report) == {3: ["wrong-length:upn"]}
    assert roll(runtime, team_id) == []


def test_strict_stores_a_clean_file(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    path = write_census(tmp_path / "a.csv", pupils(2))

    report = run_import(runtime, actor, team_id, path, strict=True)

    assert report.committed and not report.refused
    assert len(roll(runtime, team_id)) == 2


def test_full_roster_marks_missing_pupils_as_left_never_erased(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    run_import(runtime, actor, team_id, write_census(tmp_path / "a.csv", pupils(4)))

    report = run_import(
        runtime,
        actor,
        team_id,
        write_census(tmp_path / "b.csv", pupils(3)),
        full_roster=True,
        today=TODAY,
    )

    fourth = roll(runtime, team_id)[3]
    assert report.leavers == [fourth.id]
    assert fourth.left_on == TODAY and not fourth.erased
    assert fourth.surname == pupil(4).surname
    assert left_before(runtime.database, date(2026, 3, 3)) == [fourth.id]


def test_default_mode_marks_nobody_as_left(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    run_import(runtime, actor, team_id, write_census(tmp_path / "a.csv", pupils(4)))

    report = run_import(
        runtime, actor, team_id, write_census(tmp_path / "b.csv", pupils(1))
    )

    assert report.leavers == []
    assert all(p.left_on is None for p in roll(runtime, team_id))


def test_full_roster_asks_before_more_than_a_quarter_leave(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    run_import(runtime, actor, team_id, write_census(tmp_path / "a.csv", pupils(4)))
    half = write_census(tmp_path / "b.csv", pupils(2))

    with pytest.raises(ConfirmationRequired) as refused:
        run_import(runtime, actor, team_id, half, full_roster=True, today=TODAY)

    assert (refused.value.leaving, refused.value.on_roll) == (2, 4)
    assert all(p.left_on is None for p in roll(runtime, team_id))


def test_full_roster_with_confirmation_marks_them_left(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    run_import(runtime, actor, team_id, write_census(tmp_path / "a.csv", pupils(4)))
    half = write_census(tmp_path / "b.csv", pupils(2))

    report = run_import(
        runtime,
        actor,
        team_id,
        half,
        full_roster=True,
        confirm_leavers=True,
        today=TODAY,
    )

    assert len(report.leavers) == 2
    assert [p.left_on for p in roll(runtime, team_id)] == [None, None, TODAY, TODAY]


def test_full_roster_dry_run_only_reports_who_would_leave(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    run_import(runtime, actor, team_id, write_census(tmp_path / "a.csv", pupils(4)))

    report = run_import(
        runtime,
        actor,
        team_id,
        write_census(tmp_path / "b.csv", pupils(1)),
        commit=False,
        full_roster=True,
    )

    assert (len(report.leavers), report.on_roll) == (3, 4)
    assert all(p.left_on is None for p in roll(runtime, team_id))


def test_pupil_on_a_rejected_row_is_not_marked_as_left(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    run_import(runtime, actor, team_id, write_census(tmp_path / "a.csv", pupils(4)))
    path = write_census(tmp_path / "b.csv", pupils(4))
    path.write_text(path.read_text().replace("05/05/2015", "31/02/2015"), "utf-8")

    report = run_import(runtime, actor, team_id, path, full_roster=True, today=TODAY)

    assert reasons(report) == {4: ["invalid-date:date_of_birth"]}
    assert report.leavers == []


def test_pupil_who_left_rejoins_when_a_full_roster_lists_them(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    run_import(runtime, actor, team_id, write_census(tmp_path / "a.csv", pupils(4)))
    run_import(
        runtime,
        actor,
        team_id,
        write_census(tmp_path / "b.csv", pupils(3)),
        full_roster=True,
        today=TODAY,
    )

    report = run_import(
        runtime,
        actor,
        team_id,
        write_census(tmp_path / "c.csv", pupils(4), CENSUS[::-1]),
        full_roster=True,
        today=TODAY,
    )

    assert statuses(report)[4] == "updated"
    assert all(p.left_on is None for p in roll(runtime, team_id))


def test_file_without_a_required_column_is_refused_naming_it(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    columns = [column for column in CENSUS if column != "DOB"]
    path = write_census(tmp_path / "a.csv", pupils(1), columns)

    with pytest.raises(PupilFileInvalid) as refused:
        run_import(runtime, actor, team_id, path)

    assert (refused.value.reason, refused.value.column) == (
        "missing-column",
        "date_of_birth",
    )
    assert pupil(1).surname not in str(refused.value)


def test_row_without_a_required_value_is_rejected_naming_the_column(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    path = write_census(tmp_path / "a.csv", [pupil(1), pupil(2, forename="")])

    report = run_import(runtime, actor, team_id, path)

    assert reasons(report) == {2: ["missing-value:forename"]}
