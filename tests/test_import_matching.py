"""Matching file rows to a team's pupils, on both stores."""

from datetime import date
from pathlib import Path

from pupil_files import (
    CENSUS,
    event_count,
    permanent_upn,
    pupil,
    pupils,
    reasons,
    roll,
    run_import,
    school,
    statuses,
    temporary_upn,
    write_census,
)

from wellbeing.commands.actor import Actor
from wellbeing.persistence.runtime import Runtime


def test_dry_run_reports_every_row_and_stores_nothing(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    path = write_census(tmp_path / "census.csv", pupils(3))

    report = run_import(runtime, actor, team_id, path, commit=False)

    assert statuses(report) == {1: "new", 2: "new", 3: "new"}
    assert not report.committed
    assert roll(runtime, team_id) == []


def test_commit_registers_each_pupil_once(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    path = write_census(tmp_path / "census.csv", pupils(3))

    report = run_import(runtime, actor, team_id, path)

    registered = roll(runtime, team_id)
    assert report.summary()["new"] == 3
    assert [p.surname for p in registered] == [
        f"Fictionalsurname{n}" for n in (1, 2, 3)
    ]
    assert [p.reference for p in registered] == [1, 2, 3]
    assert [row.participant_id for row in report.rows] == [p.id for p in registered]


def test_finished_file_again_changes_nothing(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    path = write_census(tmp_path / "census.csv", pupils(3))
    run_import(runtime, actor, team_id, path)
    events = event_count(runtime)

    again = run_import(runtime, actor, team_id, path)

    assert again.already_imported
    assert set(statuses(again).values()) == {"unchanged"}
    assert event_count(runtime) == events
    assert len(roll(runtime, team_id)) == 3


def test_changed_details_are_updated_and_the_rest_unchanged(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    first = pupils(2)
    run_import(runtime, actor, team_id, write_census(tmp_path / "a.csv", first))
    second = [first[0], first[1].but(surname="Renamedsurname", year_group="6")]

    report = run_import(
        runtime, actor, team_id, write_census(tmp_path / "b.csv", second)
    )

    assert statuses(report) == {1: "unchanged", 2: "updated"}
    changed = roll(runtime, team_id)[1]
    assert (changed.surname, changed.year_group) == ("Renamedsurname", "6")


def test_blank_cell_does_not_clear_a_value(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    one = pupil(1, middle_names="Fictionalmiddle", year_group="4")
    run_import(runtime, actor, team_id, write_census(tmp_path / "a.csv", [one]))
    without_year = [column for column in CENSUS if column != "NCyearActual"]
    blanked = one.but(middle_names=None, sex="M")

    report = run_import(
        runtime,
        actor,
        team_id,
        write_census(tmp_path / "b.csv", [blanked], without_year),
    )

    kept = roll(runtime, team_id)[0]
    assert statuses(report) == {1: "updated"}
    assert (kept.middle_names, kept.year_group, kept.sex) == (
        "Fictionalmiddle",
        "4",
        "M",
    )


def test_rows_match_by_upn_in_any_column_order(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    people = pupils(2)
    run_import(runtime, actor, team_id, write_census(tmp_path / "a.csv", people))
    reordered = write_census(tmp_path / "b.csv", people[::-1], CENSUS[::-1])

    report = run_import(runtime, actor, team_id, reordered)

    assert statuses(report) == {1: "unchanged", 2: "unchanged"}
    assert len(roll(runtime, team_id)) == 2


def test_column_map_names_the_headers(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    path = write_census(tmp_path / "census.csv", pupils(1))
    text = path.read_text().replace("Surname", "Nom").replace("UPN,", "Pupil no,", 1)
    path.write_text(text, encoding="utf-8")

    report = run_import(
        runtime,
        actor,
        team_id,
        path,
        column_map={"surname": "Nom", "upn": "Pupil no"},
    )

    assert statuses(report) == {1: "new"}
    assert roll(runtime, team_id)[0].upn == pupil(1).upn


def test_duplicate_upn_in_one_file_names_the_first_row(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    twice = [pupil(1), pupil(2), pupil(3, upn=False).but(upn=pupil(1).upn)]
    path = write_census(tmp_path / "census.csv", twice)

    report = run_import(runtime, actor, team_id, path)

    assert reasons(report) == {3: ["duplicate-upn-of-row-1:upn"]}
    assert len(roll(runtime, team_id)) == 2


def test_invalid_upn_is_rejected_with_its_reason_and_column(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    wrong = pupil(2).upn
    assert wrong is not None
    bad = pupil(2).but(upn=("B" if wrong[0] == "A" else "A") + wrong[1:])
    path = write_census(tmp_path / "census.csv", [pupil(1), bad])

    report = run_import(runtime, actor, team_id, path)

    assert reasons(report) == {2: ["wrong-check-letter:upn"]}
    assert statuses(report) == {1: "new", 2: "rejected"}


def test_unknown_la_code_is_a_warning_not_a_rejection(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    odd = pupil(1).but(upn=permanent_upn(1, la="998"))

    report = run_import(
        runtime, actor, team_id, write_census(tmp_path / "c.csv", [odd])
    )

    assert report.rows[0].status == "new"
    assert report.rows[0].warnings == ["unknown-la-code:upn"]


def test_temporary_upn_replaced_by_permanent_keeps_matching_both(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    temporary = pupil(1, upn=False).but(upn=temporary_upn(1))
    permanent = pupil(1).but(former_upn=temporary_upn(1))
    run_import(runtime, actor, team_id, write_census(tmp_path / "a.csv", [temporary]))

    replaced = run_import(
        runtime, actor, team_id, write_census(tmp_path / "b.csv", [permanent])
    )
    by_old = run_import(
        runtime,
        actor,
        team_id,
        write_census(tmp_path / "c.csv", [temporary.but(year_group="6")]),
    )
    by_new = run_import(
        runtime,
        actor,
        team_id,
        write_census(tmp_path / "d.csv", [pupil(1).but(year_group="7")]),
    )

    (only,) = roll(runtime, team_id)
    assert statuses(replaced) == {1: "updated"}
    assert (only.upn, only.former_upns) == (pupil(1).upn, [temporary_upn(1)])
    assert statuses(by_old) == statuses(by_new) == {1: "updated"}
    assert only.year_group == "7"


def test_permanent_upn_of_another_pupil_is_refused_never_merged(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    holder = pupil(1)
    temporary = pupil(2, upn=False).but(upn=temporary_upn(2))
    first = write_census(tmp_path / "a.csv", [holder, temporary])
    run_import(runtime, actor, team_id, first)
    clash = temporary.but(upn=holder.upn, former_upn=temporary_upn(2))

    report = run_import(
        runtime, actor, team_id, write_census(tmp_path / "b.csv", [clash])
    )

    assert statuses(report) == {1: "rejected"}
    assert reasons(report) == {1: ["upn-of-other-participant:upn"]}
    kept = roll(runtime, team_id)
    assert [p.upn for p in kept] == [holder.upn, temporary_upn(2)]


def test_former_upn_that_was_replaced_since_is_refused(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    start = pupil(1, upn=False).but(upn=temporary_upn(1))
    run_import(runtime, actor, team_id, write_census(tmp_path / "a.csv", [start]))
    moved = pupil(1).but(former_upn=temporary_upn(1))
    run_import(runtime, actor, team_id, write_census(tmp_path / "b.csv", [moved]))
    other = pupil(1).but(upn=pupil(7).upn, former_upn=temporary_upn(1))

    report = run_import(
        runtime, actor, team_id, write_census(tmp_path / "c.csv", [other])
    )

    assert reasons(report) == {1: ["former-upn-superseded:former_upn"]}
    assert roll(runtime, team_id)[0].upn == pupil(1).upn


def test_permanent_upn_is_not_replaced_by_a_temporary_one(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    run_import(runtime, actor, team_id, write_census(tmp_path / "a.csv", [pupil(1)]))
    backwards = pupil(1).but(upn=temporary_upn(1), former_upn=pupil(1).upn)

    report = run_import(
        runtime, actor, team_id, write_census(tmp_path / "b.csv", [backwards])
    )

    assert reasons(report) == {1: ["permanent-upn-kept:upn"]}
    assert roll(runtime, team_id)[0].upn == pupil(1).upn


def test_row_without_upn_is_rejected_once_the_team_has_upns(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    run_import(runtime, actor, team_id, write_census(tmp_path / "a.csv", pupils(1)))
    path = write_census(tmp_path / "b.csv", [pupil(2, upn=False)])

    report = run_import(runtime, actor, team_id, path)

    assert reasons(report) == {1: ["missing-value:upn"]}


def test_team_without_upns_matches_by_names_and_birth_date(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    people = pupils(3, upn=False)
    run_import(runtime, actor, team_id, write_census(tmp_path / "a.csv", people))
    later = [p.but(year_group="6", surname=p.surname.upper()) for p in people]

    report = run_import(
        runtime, actor, team_id, write_census(tmp_path / "b.csv", later)
    )

    assert set(statuses(report).values()) == {"updated"}
    assert len(roll(runtime, team_id)) == 3


def test_allow_missing_upn_matches_by_names_in_a_team_with_upns(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    run_import(runtime, actor, team_id, write_census(tmp_path / "a.csv", pupils(2)))
    without = [pupil(1, upn=False).but(year_group="6")]

    report = run_import(
        runtime,
        actor,
        team_id,
        write_census(tmp_path / "b.csv", without),
        allow_missing_upn=True,
    )

    assert statuses(report) == {1: "updated"}
    assert roll(runtime, team_id)[0].year_group == "6"


def test_several_pupils_with_those_names_make_the_row_ambiguous(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    namesake = pupil(2).but(surname=pupil(1).surname, forename=pupil(1).forename)
    namesake = namesake.but(date_of_birth=pupil(1).date_of_birth)
    run_import(
        runtime, actor, team_id, write_census(tmp_path / "a.csv", [pupil(1), namesake])
    )

    report = run_import(
        runtime,
        actor,
        team_id,
        write_census(tmp_path / "b.csv", [pupil(1, upn=False)]),
        allow_missing_upn=True,
    )

    assert statuses(report) == {1: "ambiguous"}
    assert reasons(report) == {1: ["several-pupils-match:surname"]}
    assert report.rows[0].participant_id is None


def test_pupil_registered_without_upn_gets_it_from_a_later_file(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    run_import(
        runtime, actor, team_id, write_census(tmp_path / "a.csv", pupils(2, upn=False))
    )

    report = run_import(
        runtime, actor, team_id, write_census(tmp_path / "b.csv", pupils(2))
    )

    assert set(statuses(report).values()) == {"updated"}
    assert [p.upn for p in roll(runtime, team_id)] == [pupil(1).upn, pupil(2).upn]


def test_one_pupil_named_by_two_rows_is_refused_on_the_second(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    run_import(
        runtime, actor, team_id, write_census(tmp_path / "a.csv", pupils(1, upn=False))
    )
    # The first row gives the UPN, the second names the same pupil without it.
    rows = [pupil(1), pupil(1, upn=False)]

    report = run_import(
        runtime,
        actor,
        team_id,
        write_census(tmp_path / "b.csv", rows),
        allow_missing_upn=True,
    )

    assert statuses(report) == {1: "updated", 2: "rejected"}
    assert reasons(report) == {2: ["same-pupil-as-row-1:surname"]}
    assert len(roll(runtime, team_id)) == 1


def test_a_upn_in_a_name_column_is_rejected_without_echo(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    stray = permanent_upn(90)
    people = [pupil(1), pupil(2).but(surname=stray), pupil(3).but(forename=stray)]
    path = write_census(tmp_path / "shifted.csv", people)

    report = run_import(runtime, actor, team_id, path)

    assert statuses(report) == {1: "new", 2: "rejected", 3: "rejected"}
    assert reasons(report)[2] == ["upn-in-name-column:surname"]
    assert reasons(report)[3] == ["upn-in-name-column:forename"]
    assert stray not in repr(report.rows)
    assert len(roll(runtime, team_id)) == 1


def test_a_name_shaped_like_a_upn_but_invalid_is_kept(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    # Thirteen characters with digits in the middle, but no valid check
    # letter: an odd name, not a UPN.
    odd = "Z" + permanent_upn(91)[1:]
    path = write_census(tmp_path / "odd.csv", [pupil(1).but(surname=odd)])

    report = run_import(runtime, actor, team_id, path)

    assert statuses(report) == {1: "new"}


def test_an_unusual_date_of_birth_is_a_warning_not_a_rejection(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    team_id = school(runtime, actor)
    slip = pupil(1).but(date_of_birth=date(1890, 3, 1))
    people = [slip, pupil(2)]
    path = write_census(tmp_path / "ages.csv", people)

    report = run_import(runtime, actor, team_id, path, today=date(2026, 1, 5))

    assert statuses(report) == {1: "new", 2: "new"}
    warned = {r.number: r.warnings for r in report.rows}
    assert "unusual-date-of-birth:date_of_birth" in warned[1]
    assert "unusual-date-of-birth:date_of_birth" not in warned[2]
