"""A pupil's life in a team through its commands, on both stores."""

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from erasure_fixtures import Pair, erase, import_pair
from people import Canary, make_canary, write_template_file
from raw_scan import found, raw_bytes

from wellbeing.aggregates.base import NotAllowed, NotFound
from wellbeing.aggregates.participant import (
    Participant,
    ParticipantErased,
    UpnConflict,
)
from wellbeing.aggregates.team import PRACTITIONER
from wellbeing.aggregates.upn import InvalidUpn, check_letter
from wellbeing.commands.actor import Actor
from wellbeing.commands.history import history
from wellbeing.commands.import_participants import (
    ImportParticipants,
    import_participants,
)
from wellbeing.commands.loading import load
from wellbeing.commands.participant_life import (
    AssignUpn,
    CorrectDetails,
    LeaveTeam,
    RejoinTeam,
    ReplaceUpn,
    SetSharingObjection,
    TagParticipant,
    UpnTaken,
    assign_upn,
    correct_details,
    leave_team,
    rejoin_team,
    replace_upn,
    set_sharing_objection,
    tag_participant,
)
from wellbeing.commands.participants import show_participant
from wellbeing.commands.snapshots import today
from wellbeing.commands.subject_access import subject_access_report
from wellbeing.commands.teams import (
    DefineTags,
    InviteMember,
    JoinTeam,
    RegisterTeam,
    RetireTag,
    define_tags,
    invite_member,
    join_team,
    register_team,
    retire_tag,
)
from wellbeing.commands.users import CreateUser, create_user
from wellbeing.errors import InputError
from wellbeing.persistence.event_store import EVENTS_TABLE
from wellbeing.persistence.participants import left_before
from wellbeing.persistence.runtime import Runtime

LEFT_ON = date(2026, 7, 20)


def temporary_upn(serial: int) -> str:
    """A temporary UPN: eleven digits and a letter after the check letter."""
    body = f"99910{serial:06d}A"
    return check_letter(body) + body


def permanent_upn(serial: int) -> str:
    body = f"99920{serial:07d}"
    return check_letter(body) + body


def email() -> str:
    return f"staff-{uuid4().hex[:12]}@example.org"


def practitioner_elsewhere(runtime: Runtime, actor: Actor) -> Actor:
    other = register_team(runtime, RegisterTeam(actor, "Elsewhere", "908", "2003"))
    invited = invite_member(runtime, InviteMember(actor, other, email(), PRACTITIONER))
    outsider = Actor(UUID(invited["id"]))
    join_team(runtime, JoinTeam(outsider, other))
    return outsider


def plain_user(runtime: Runtime, actor: Actor) -> Actor:
    return Actor(UUID(str(create_user(runtime, CreateUser(actor, email()))["id"])))


def import_people(
    runtime: Runtime, actor: Actor, team_id: UUID, path: Path, people: list[Canary]
) -> list[tuple[str, UUID | None]]:
    """Each row's status and participant, in file order."""
    report = import_participants(
        runtime,
        ImportParticipants(
            actor,
            team_id,
            write_template_file(path, people),
            commit=True,
            allow_missing_upn=True,
        ),
    )
    return [(row.status, row.participant_id) for row in report.rows]


def pupil_with_upn(
    runtime: Runtime, actor: Actor, pair: Pair, folder: Path, upn: str
) -> tuple[Canary, UUID]:
    person = replace(make_canary(7), upn=upn)
    [(_, participant_id)] = import_people(
        runtime, actor, pair.team_id, folder / "one.csv", [person]
    )
    assert participant_id is not None
    return person, participant_id


def event_count(runtime: Runtime) -> int:
    with runtime.database.transaction() as tx:
        # The table name comes from a fixed mapping, never from input.
        tx.execute("SELECT count(*) FROM " + EVENTS_TABLE[runtime.database.dialect])
        row = tx.fetchone()
    assert row is not None
    return int(row[0])


def participant(runtime: Runtime, participant_id: UUID) -> Participant:
    return load(runtime, Participant, participant_id)


@pytest.fixture
def pair(runtime: Runtime, actor: Actor, tmp_path: Path) -> Pair:
    return import_pair(runtime, actor, tmp_path)


@pytest.fixture
def vocabulary(runtime: Runtime, actor: Actor, pair: Pair) -> Pair:
    define_tags(runtime, DefineTags(actor, pair.team_id, "FSM", ("eligible", "ever-6")))
    return pair


def test_registered_pupils_get_consecutive_internal_references(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    references = [
        participant(runtime, pupil).reference for pupil in (pair.gone_id, pair.kept_id)
    ]

    assert references == [1, 2]


def test_pupil_registered_later_gets_the_next_reference(
    runtime: Runtime, actor: Actor, pair: Pair, tmp_path: Path
) -> None:
    _, later = pupil_with_upn(runtime, actor, pair, tmp_path, permanent_upn(1))

    assert participant(runtime, later).reference == 3


def test_shown_pupil_gives_the_reference_and_never_the_upn(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    shown = show_participant(runtime, actor, pair.gone_id)

    assert shown["reference"] == 1
    assert shown["has_upn"] is True
    assert pair.gone.upn not in repr(shown)


def test_corrected_surname_is_kept(runtime: Runtime, actor: Actor, pair: Pair) -> None:
    correct_details(
        runtime, CorrectDetails(actor, pair.gone_id, {"surname": "Trevithick"})
    )

    assert participant(runtime, pair.gone_id).surname == "Trevithick"


def test_corrected_date_of_birth_is_kept(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    born = date(2015, 2, 3)

    correct_details(
        runtime, CorrectDetails(actor, pair.gone_id, {"date_of_birth": born})
    )

    assert participant(runtime, pair.gone_id).date_of_birth == born


def test_correction_trims_the_text(runtime: Runtime, actor: Actor, pair: Pair) -> None:
    correct_details(
        runtime, CorrectDetails(actor, pair.gone_id, {"forename": "  Jory "})
    )

    assert participant(runtime, pair.gone_id).forename == "Jory"


def test_corrected_sex_is_upper_case(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    correct_details(runtime, CorrectDetails(actor, pair.gone_id, {"sex": "m"}))

    assert participant(runtime, pair.gone_id).sex == "M"


def test_empty_middle_names_clear_them(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    correct_details(
        runtime, CorrectDetails(actor, pair.gone_id, {"middle_names": "Loveday"})
    )

    correct_details(runtime, CorrectDetails(actor, pair.gone_id, {"middle_names": ""}))

    assert participant(runtime, pair.gone_id).middle_names == ""


def test_correction_to_the_same_value_writes_no_event(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    before = event_count(runtime)

    correct_details(
        runtime, CorrectDetails(actor, pair.gone_id, {"surname": pair.gone.surname})
    )

    assert event_count(runtime) == before


def test_correcting_an_unknown_field_is_refused_naming_it(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    with pytest.raises(InputError, match="^upn:"):
        correct_details(
            runtime, CorrectDetails(actor, pair.gone_id, {"upn": pair.kept.upn})
        )


def test_empty_surname_is_refused(runtime: Runtime, actor: Actor, pair: Pair) -> None:
    with pytest.raises(InputError, match="^surname:"):
        correct_details(runtime, CorrectDetails(actor, pair.gone_id, {"surname": " "}))


def test_surname_that_is_not_text_is_refused(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    with pytest.raises(InputError, match="^surname:"):
        correct_details(runtime, CorrectDetails(actor, pair.gone_id, {"surname": 7}))


def test_date_of_birth_that_is_not_a_date_is_refused(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    with pytest.raises(InputError, match="^date_of_birth:"):
        correct_details(
            runtime,
            CorrectDetails(actor, pair.gone_id, {"date_of_birth": "2015-02-03"}),
        )


def test_date_of_birth_in_the_future_is_refused(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    later = today() + timedelta(days=30)

    with pytest.raises(InputError, match="^date_of_birth:"):
        correct_details(
            runtime, CorrectDetails(actor, pair.gone_id, {"date_of_birth": later})
        )


def test_correcting_an_erased_pupil_is_refused(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    erase(runtime, actor, pair.gone_id)

    with pytest.raises(ParticipantErased):
        correct_details(
            runtime, CorrectDetails(actor, pair.gone_id, {"surname": "Other"})
        )


def test_corrected_surname_matches_a_later_row_without_upn(
    runtime: Runtime, actor: Actor, pair: Pair, tmp_path: Path
) -> None:
    person, pupil = pupil_with_upn(runtime, actor, pair, tmp_path, "")
    correct_details(runtime, CorrectDetails(actor, pupil, {"surname": "Trevithick"}))
    corrected = replace(person, surname="Trevithick")

    rows = import_people(
        runtime, actor, pair.team_id, tmp_path / "again.csv", [corrected]
    )

    assert rows == [("unchanged", pupil)]


def test_corrected_date_of_birth_matches_a_later_row_without_upn(
    runtime: Runtime, actor: Actor, pair: Pair, tmp_path: Path
) -> None:
    person, pupil = pupil_with_upn(runtime, actor, pair, tmp_path, "")
    born = person.date_of_birth - timedelta(days=1)
    correct_details(runtime, CorrectDetails(actor, pupil, {"date_of_birth": born}))
    corrected = replace(person, date_of_birth=born)

    rows = import_people(
        runtime, actor, pair.team_id, tmp_path / "again.csv", [corrected]
    )

    assert rows == [("unchanged", pupil)]


def test_names_before_a_correction_no_longer_match_the_pupil(
    runtime: Runtime, actor: Actor, pair: Pair, tmp_path: Path
) -> None:
    person, pupil = pupil_with_upn(runtime, actor, pair, tmp_path, "")
    correct_details(runtime, CorrectDetails(actor, pupil, {"surname": "Trevithick"}))

    # A second pupil makes this file differ from the one that registered
    # the first, which would otherwise be replayed as already imported.
    [(status, matched), _] = import_people(
        runtime, actor, pair.team_id, tmp_path / "old.csv", [person, make_canary(8)]
    )

    assert status == "new"
    assert matched != pupil


def test_practitioner_of_another_team_cannot_correct(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    outsider = practitioner_elsewhere(runtime, actor)

    with pytest.raises(NotFound):
        correct_details(
            runtime, CorrectDetails(outsider, pair.gone_id, {"surname": "Other"})
        )


def test_plain_user_cannot_correct(runtime: Runtime, actor: Actor, pair: Pair) -> None:
    stranger = plain_user(runtime, actor)

    with pytest.raises((NotFound, NotAllowed)):
        correct_details(
            runtime, CorrectDetails(stranger, pair.gone_id, {"surname": "Other"})
        )


def test_assigned_upn_is_held(
    runtime: Runtime, actor: Actor, pair: Pair, tmp_path: Path
) -> None:
    _, pupil = pupil_with_upn(runtime, actor, pair, tmp_path, "")
    upn = permanent_upn(2)

    assign_upn(runtime, AssignUpn(actor, pupil, upn))

    assert participant(runtime, pupil).upn == upn


def test_assigned_upn_is_held_in_canonical_form(
    runtime: Runtime, actor: Actor, pair: Pair, tmp_path: Path
) -> None:
    _, pupil = pupil_with_upn(runtime, actor, pair, tmp_path, "")
    upn = permanent_upn(2)

    assign_upn(runtime, AssignUpn(actor, pupil, f" {upn.lower()}\u200b"))

    assert participant(runtime, pupil).upn == upn


def test_assigned_upn_matches_the_pupil_in_a_later_import(
    runtime: Runtime, actor: Actor, pair: Pair, tmp_path: Path
) -> None:
    person, pupil = pupil_with_upn(runtime, actor, pair, tmp_path, "")
    upn = permanent_upn(2)
    assign_upn(runtime, AssignUpn(actor, pupil, upn))

    rows = import_people(
        runtime, actor, pair.team_id, tmp_path / "again.csv", [replace(person, upn=upn)]
    )

    assert rows == [("unchanged", pupil)]


def test_assigning_a_second_upn_is_refused(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    with pytest.raises(UpnConflict):
        assign_upn(runtime, AssignUpn(actor, pair.gone_id, permanent_upn(2)))


def test_invalid_upn_is_refused_without_echoing_it(
    runtime: Runtime, actor: Actor, pair: Pair, tmp_path: Path
) -> None:
    _, pupil = pupil_with_upn(runtime, actor, pair, tmp_path, "")
    wrong = "Z" + permanent_upn(2)[1:]

    with pytest.raises(InvalidUpn) as refused:
        assign_upn(runtime, AssignUpn(actor, pupil, wrong))

    assert wrong not in str(refused.value)


def test_upn_of_another_pupil_of_the_team_is_refused(
    runtime: Runtime, actor: Actor, pair: Pair, tmp_path: Path
) -> None:
    _, pupil = pupil_with_upn(runtime, actor, pair, tmp_path, "")

    with pytest.raises(UpnTaken):
        assign_upn(runtime, AssignUpn(actor, pupil, pair.kept.upn))


def test_refused_upn_writes_nothing(
    runtime: Runtime, actor: Actor, pair: Pair, tmp_path: Path
) -> None:
    _, pupil = pupil_with_upn(runtime, actor, pair, tmp_path, "")
    before = event_count(runtime)

    with pytest.raises(UpnTaken):
        assign_upn(runtime, AssignUpn(actor, pupil, pair.kept.upn))

    assert event_count(runtime) == before
    assert participant(runtime, pupil).upn is None


def test_temporary_upn_replaced_by_a_permanent_one_is_kept_as_former(
    runtime: Runtime, actor: Actor, pair: Pair, tmp_path: Path
) -> None:
    temporary = temporary_upn(1)
    _, pupil = pupil_with_upn(runtime, actor, pair, tmp_path, temporary)

    replace_upn(runtime, ReplaceUpn(actor, pupil, permanent_upn(2)))

    replaced = participant(runtime, pupil)
    assert replaced.upn == permanent_upn(2)
    assert replaced.former_upns == [temporary]


def test_a_replaced_upn_is_withheld_from_history_and_subject_access(
    runtime: Runtime, actor: Actor, pair: Pair, tmp_path: Path
) -> None:
    temporary = temporary_upn(1)
    _, pupil = pupil_with_upn(runtime, actor, pair, tmp_path, temporary)
    replace_upn(runtime, ReplaceUpn(actor, pupil, permanent_upn(2)))

    audit = repr(history(runtime, pupil))
    report = repr(subject_access_report(runtime, actor, pupil))

    for text in (audit, report):
        assert temporary not in text
        assert permanent_upn(2) not in text
    assert "'former': {'withheld': True}" in audit


def test_former_upn_still_matches_the_pupil_in_a_later_import(
    runtime: Runtime, actor: Actor, pair: Pair, tmp_path: Path
) -> None:
    person, pupil = pupil_with_upn(runtime, actor, pair, tmp_path, temporary_upn(1))
    replace_upn(runtime, ReplaceUpn(actor, pupil, permanent_upn(2)))

    rows = import_people(runtime, actor, pair.team_id, tmp_path / "old.csv", [person])

    assert rows == [("unchanged", pupil)]


def test_former_upn_is_stored_sealed(
    runtime: Runtime, actor: Actor, pair: Pair, tmp_path: Path
) -> None:
    temporary = temporary_upn(1)
    _, pupil = pupil_with_upn(runtime, actor, pair, tmp_path, temporary)

    replace_upn(runtime, ReplaceUpn(actor, pupil, permanent_upn(2)))

    needles = [temporary.encode(), permanent_upn(2).encode()]
    assert found(raw_bytes(runtime), needles) == []


def test_permanent_upn_is_not_replaced_by_a_temporary_one(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    with pytest.raises(UpnConflict):
        replace_upn(runtime, ReplaceUpn(actor, pair.gone_id, temporary_upn(1)))


def test_replacing_a_upn_never_held_is_refused(
    runtime: Runtime, actor: Actor, pair: Pair, tmp_path: Path
) -> None:
    _, pupil = pupil_with_upn(runtime, actor, pair, tmp_path, "")

    with pytest.raises(UpnConflict):
        replace_upn(runtime, ReplaceUpn(actor, pupil, permanent_upn(2)))


def test_replacing_with_another_pupils_former_upn_is_refused(
    runtime: Runtime, actor: Actor, pair: Pair, tmp_path: Path
) -> None:
    former = permanent_upn(1)
    _, pupil = pupil_with_upn(runtime, actor, pair, tmp_path, former)
    replace_upn(runtime, ReplaceUpn(actor, pupil, permanent_upn(2)))

    with pytest.raises(UpnTaken):
        replace_upn(runtime, ReplaceUpn(actor, pair.gone_id, former))


def test_tag_from_the_vocabulary_is_kept(
    runtime: Runtime, actor: Actor, vocabulary: Pair
) -> None:
    tag_participant(
        runtime, TagParticipant(actor, vocabulary.gone_id, "FSM", "eligible")
    )

    assert participant(runtime, vocabulary.gone_id).tags == {"FSM": ["eligible"]}


def test_tag_outside_the_vocabulary_is_refused(
    runtime: Runtime, actor: Actor, vocabulary: Pair
) -> None:
    with pytest.raises(InputError, match="^tag:"):
        tag_participant(
            runtime, TagParticipant(actor, vocabulary.gone_id, "FSM", "never")
        )


def test_retired_tag_is_refused(
    runtime: Runtime, actor: Actor, vocabulary: Pair
) -> None:
    retire_tag(runtime, RetireTag(actor, vocabulary.team_id, "FSM", "ever-6"))

    with pytest.raises(InputError, match="^tag:"):
        tag_participant(
            runtime, TagParticipant(actor, vocabulary.gone_id, "FSM", "ever-6")
        )


def test_untagged_pupil_loses_the_tag(
    runtime: Runtime, actor: Actor, vocabulary: Pair
) -> None:
    pupil = vocabulary.gone_id
    tag_participant(runtime, TagParticipant(actor, pupil, "FSM", "eligible"))

    tag_participant(
        runtime, TagParticipant(actor, pupil, "FSM", "eligible", remove=True)
    )

    assert participant(runtime, pupil).tags == {"FSM": []}


def test_retired_tag_can_still_be_taken_off(
    runtime: Runtime, actor: Actor, vocabulary: Pair
) -> None:
    pupil = vocabulary.gone_id
    tag_participant(runtime, TagParticipant(actor, pupil, "FSM", "ever-6"))
    retire_tag(runtime, RetireTag(actor, vocabulary.team_id, "FSM", "ever-6"))

    tag_participant(runtime, TagParticipant(actor, pupil, "FSM", "ever-6", remove=True))

    assert participant(runtime, pupil).tags == {"FSM": []}


def test_tagging_twice_writes_one_event(
    runtime: Runtime, actor: Actor, vocabulary: Pair
) -> None:
    tagging = TagParticipant(actor, vocabulary.gone_id, "FSM", "eligible")
    tag_participant(runtime, tagging)
    before = event_count(runtime)

    tag_participant(runtime, tagging)

    assert event_count(runtime) == before


def test_objection_to_sharing_is_recorded(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    set_sharing_objection(runtime, SetSharingObjection(actor, pair.gone_id, True))

    assert participant(runtime, pair.gone_id).objects_to_sharing is True


def test_withdrawn_objection_is_recorded(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    set_sharing_objection(runtime, SetSharingObjection(actor, pair.gone_id, True))

    set_sharing_objection(runtime, SetSharingObjection(actor, pair.gone_id, False))

    assert participant(runtime, pair.gone_id).objects_to_sharing is False


def test_withdrawing_an_objection_never_made_writes_nothing(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    before = event_count(runtime)

    set_sharing_objection(runtime, SetSharingObjection(actor, pair.gone_id, False))

    assert event_count(runtime) == before


def test_pupil_who_left_is_archived_not_erased(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    leave_team(runtime, LeaveTeam(actor, pair.gone_id, LEFT_ON))

    left = participant(runtime, pair.gone_id)
    assert left.left_on == LEFT_ON
    assert (left.erased, left.surname) == (False, pair.gone.surname)


def test_leaving_again_keeps_the_first_date_for_retention(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    leave_team(runtime, LeaveTeam(actor, pair.gone_id, LEFT_ON))

    leave_team(runtime, LeaveTeam(actor, pair.gone_id, date(2020, 1, 6)))

    assert participant(runtime, pair.gone_id).left_on == LEFT_ON
    assert left_before(runtime.database, date(2021, 1, 1)) == []


def test_leaving_after_tomorrow_is_refused(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    later = today() + timedelta(days=2)

    with pytest.raises(InputError, match="^on:"):
        leave_team(runtime, LeaveTeam(actor, pair.gone_id, later))


def test_pupil_who_left_is_listed_for_retention(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    leave_team(runtime, LeaveTeam(actor, pair.gone_id, LEFT_ON))

    assert left_before(runtime.database, LEFT_ON + timedelta(days=1)) == [pair.gone_id]


def test_rejoined_pupil_is_current_again(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    leave_team(runtime, LeaveTeam(actor, pair.gone_id, LEFT_ON))

    rejoin_team(runtime, RejoinTeam(actor, pair.gone_id))

    assert participant(runtime, pair.gone_id).left_on is None
    assert left_before(runtime.database, LEFT_ON + timedelta(days=1)) == []


def test_practitioner_of_another_team_cannot_archive(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    outsider = practitioner_elsewhere(runtime, actor)

    with pytest.raises(NotFound):
        leave_team(runtime, LeaveTeam(outsider, pair.gone_id, LEFT_ON))


def test_practitioner_of_another_team_cannot_tag(
    runtime: Runtime, actor: Actor, vocabulary: Pair
) -> None:
    outsider = practitioner_elsewhere(runtime, actor)

    with pytest.raises(NotFound):
        tag_participant(
            runtime, TagParticipant(outsider, vocabulary.gone_id, "FSM", "eligible")
        )


def test_practitioner_of_another_team_cannot_assign_a_upn(
    runtime: Runtime, actor: Actor, pair: Pair, tmp_path: Path
) -> None:
    _, pupil = pupil_with_upn(runtime, actor, pair, tmp_path, "")
    outsider = practitioner_elsewhere(runtime, actor)

    with pytest.raises(NotFound):
        assign_upn(runtime, AssignUpn(outsider, pupil, permanent_upn(2)))


def test_plain_user_cannot_record_an_objection(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    stranger = plain_user(runtime, actor)

    with pytest.raises((NotFound, NotAllowed)):
        set_sharing_objection(
            runtime, SetSharingObjection(stranger, pair.gone_id, True)
        )
