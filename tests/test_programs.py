"""Programs through their commands: started from a snapshot, reviewed, closed."""

from datetime import date
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from erasure_fixtures import Pair, import_pair

from wellbeing.aggregates.base import NotAllowed, NotFound
from wellbeing.aggregates.instrument import (
    CatalogueEntryUnknown,
    UnknownPart,
    WrongPart,
)
from wellbeing.aggregates.program import ACTIVE, CLOSED, Program, ProgramClosed
from wellbeing.aggregates.team import PRACTITIONER
from wellbeing.commands.actor import Actor
from wellbeing.commands.instrument_files import load_instruments
from wellbeing.commands.loading import load
from wellbeing.commands.participant_life import LeaveTeam, leave_team
from wellbeing.commands.programs import (
    NOTE_LIMIT,
    CloseProgram,
    ReviewProgram,
    SnapshotNotCompleted,
    SnapshotOfAnotherParticipant,
    StartProgram,
    close_program,
    review_program,
    show_program,
    start_program,
)
from wellbeing.commands.snapshots import (
    CompleteSnapshot,
    DiscardSnapshot,
    ParticipantLeft,
    RecordAnswers,
    StartSnapshot,
    complete_snapshot,
    discard_snapshot,
    record_answers,
    start_snapshot,
)
from wellbeing.commands.teams import (
    InviteMember,
    JoinTeam,
    RegisterTeam,
    invite_member,
    join_team,
    register_team,
)
from wellbeing.commands.users import CreateUser, create_user
from wellbeing.errors import InputError
from wellbeing.persistence.runtime import Runtime

INSTRUMENT = "wellbeing-check"
CHOSEN = {
    "safety": ["safety-calm-space"],
    "advice": ["advice-worry-time", "advice-wind-down"],
    "activities": ["activity-slow-breathing"],
}


def answers() -> dict[str, int]:
    """Every subdomain scores 3.0 but adults (0.0) and confidence (1.0)."""
    best = {i.id: 0 if i.reverse else 3 for i in load_instruments()[INSTRUMENT].items}
    # adults-1 to 3 are plain items; confidence-3 is reverse (R2 -> 1).
    best.update({"adults-1": 0, "adults-2": 0, "adults-3": 0})
    best.update({"confidence-1": 1, "confidence-2": 1, "confidence-3": 2})
    return best


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


def open_snapshot(runtime: Runtime, actor: Actor, participant_id: UUID) -> UUID:
    started = start_snapshot(
        runtime, StartSnapshot(actor, participant_id, INSTRUMENT, "comprehensive")
    )
    return UUID(str(started["id"]))


def completed_snapshot(runtime: Runtime, actor: Actor, participant_id: UUID) -> UUID:
    snapshot_id = open_snapshot(runtime, actor, participant_id)
    record_answers(runtime, RecordAnswers(actor, snapshot_id, answers()))
    complete_snapshot(runtime, CompleteSnapshot(actor, snapshot_id))
    return snapshot_id


def start(
    runtime: Runtime,
    actor: Actor,
    snapshot_id: UUID,
    items: dict[str, list[str]] | None = None,
    note: str | None = None,
) -> UUID:
    started = start_program(runtime, StartProgram(actor, snapshot_id, items, note))
    return UUID(str(started["id"]))


@pytest.fixture
def pair(runtime: Runtime, actor: Actor, tmp_path: Path) -> Pair:
    return import_pair(runtime, actor, tmp_path)


@pytest.fixture
def snapshot_id(runtime: Runtime, actor: Actor, pair: Pair) -> UUID:
    return completed_snapshot(runtime, actor, pair.gone_id)


def test_program_from_a_completed_snapshot_is_active(
    runtime: Runtime, actor: Actor, pair: Pair, snapshot_id: UUID
) -> None:
    program_id = start(runtime, actor, snapshot_id, CHOSEN)

    program = load(runtime, Program, program_id)
    assert program.status == ACTIVE
    assert (program.participant_id, program.snapshot_id) == (pair.gone_id, snapshot_id)
    assert program.team_id == pair.team_id


def test_program_keeps_the_items_chosen_in_three_parts(
    runtime: Runtime, actor: Actor, snapshot_id: UUID
) -> None:
    program_id = start(runtime, actor, snapshot_id, CHOSEN)

    assert load(runtime, Program, program_id).items == CHOSEN


def test_program_lists_every_part_even_when_one_is_empty(
    runtime: Runtime, actor: Actor, snapshot_id: UUID
) -> None:
    program_id = start(runtime, actor, snapshot_id, {"advice": ["advice-worry-time"]})

    items = load(runtime, Program, program_id).items
    assert items == {"safety": [], "advice": ["advice-worry-time"], "activities": []}


def test_program_keeps_an_entry_chosen_twice_once(
    runtime: Runtime, actor: Actor, snapshot_id: UUID
) -> None:
    twice = {"advice": ["advice-worry-time", "advice-worry-time"]}

    program_id = start(runtime, actor, snapshot_id, twice)

    assert load(runtime, Program, program_id).items["advice"] == ["advice-worry-time"]


def test_program_without_items_takes_entries_suited_to_the_lowest_scores(
    runtime: Runtime, actor: Actor, snapshot_id: UUID
) -> None:
    program_id = start(runtime, actor, snapshot_id)

    # The lowest scores are adults (0.0) and confidence (1.0): the first two
    # catalogue entries of each part suited to either of them.
    assert load(runtime, Program, program_id).items == {
        "safety": ["safety-named-adult", "safety-morning-check-in"],
        "advice": ["advice-talk-at-home", "advice-praise-effort"],
        "activities": ["activity-class-job", "activity-wins-diary"],
    }


def test_program_keeps_its_first_note(
    runtime: Runtime, actor: Actor, snapshot_id: UUID
) -> None:
    program_id = start(runtime, actor, snapshot_id, CHOSEN, "  Meets Mrs Kitto weekly ")

    assert load(runtime, Program, program_id).notes == ["Meets Mrs Kitto weekly"]


def test_blank_note_is_not_kept(
    runtime: Runtime, actor: Actor, snapshot_id: UUID
) -> None:
    program_id = start(runtime, actor, snapshot_id, CHOSEN, "   ")

    assert load(runtime, Program, program_id).notes == []


def test_note_over_the_limit_is_refused(
    runtime: Runtime, actor: Actor, snapshot_id: UUID
) -> None:
    with pytest.raises(InputError, match="note"):
        start(runtime, actor, snapshot_id, CHOSEN, "x" * (NOTE_LIMIT + 1))


def test_program_from_an_open_snapshot_is_refused(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    snapshot_id = open_snapshot(runtime, actor, pair.gone_id)

    with pytest.raises(SnapshotNotCompleted):
        start(runtime, actor, snapshot_id, CHOSEN)


def test_program_from_a_discarded_snapshot_is_refused(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    snapshot_id = open_snapshot(runtime, actor, pair.gone_id)
    discard_snapshot(runtime, DiscardSnapshot(actor, snapshot_id))

    with pytest.raises(SnapshotNotCompleted):
        start(runtime, actor, snapshot_id, CHOSEN)


def test_program_from_another_participants_snapshot_is_refused(
    runtime: Runtime, actor: Actor, pair: Pair, snapshot_id: UUID
) -> None:
    command = StartProgram(actor, snapshot_id, CHOSEN, participant_id=pair.kept_id)

    with pytest.raises(SnapshotOfAnotherParticipant):
        start_program(runtime, command)


def test_program_naming_the_snapshots_own_participant_starts(
    runtime: Runtime, actor: Actor, pair: Pair, snapshot_id: UUID
) -> None:
    command = StartProgram(actor, snapshot_id, CHOSEN, participant_id=pair.gone_id)

    started = start_program(runtime, command)

    assert started["participant_id"] == str(pair.gone_id)


def test_program_for_a_pupil_who_left_is_refused(
    runtime: Runtime, actor: Actor, pair: Pair, snapshot_id: UUID
) -> None:
    leave_team(runtime, LeaveTeam(actor, pair.gone_id, date(2026, 7, 20)))

    with pytest.raises(ParticipantLeft):
        start(runtime, actor, snapshot_id, CHOSEN)


def test_program_from_an_unknown_snapshot_is_not_found(
    runtime: Runtime, actor: Actor
) -> None:
    with pytest.raises(NotFound):
        start(runtime, actor, uuid4(), CHOSEN)


def test_entry_chosen_for_the_wrong_part_is_refused(
    runtime: Runtime, actor: Actor, snapshot_id: UUID
) -> None:
    with pytest.raises(WrongPart):
        start(runtime, actor, snapshot_id, {"safety": ["advice-worry-time"]})


def test_entry_missing_from_the_catalogue_is_refused(
    runtime: Runtime, actor: Actor, snapshot_id: UUID
) -> None:
    with pytest.raises(CatalogueEntryUnknown):
        start(runtime, actor, snapshot_id, {"safety": ["safety-no-such-entry"]})


def test_unknown_part_is_refused_even_when_empty(
    runtime: Runtime, actor: Actor, snapshot_id: UUID
) -> None:
    with pytest.raises(UnknownPart):
        start(runtime, actor, snapshot_id, {**CHOSEN, "homework": []})


def test_program_with_no_entries_is_refused(
    runtime: Runtime, actor: Actor, snapshot_id: UUID
) -> None:
    with pytest.raises(InputError, match="items"):
        start(runtime, actor, snapshot_id, {"safety": [], "advice": []})


def test_review_replaces_the_items_and_adds_the_note(
    runtime: Runtime, actor: Actor, snapshot_id: UUID
) -> None:
    program_id = start(runtime, actor, snapshot_id, CHOSEN, "Started")
    fewer = {"activities": ["activity-lunch-club"]}

    review_program(runtime, ReviewProgram(actor, program_id, fewer, "Calmer now"))

    program = load(runtime, Program, program_id)
    assert program.items == {"safety": [], "advice": [], **fewer}
    assert program.notes == ["Started", "Calmer now"]


def test_review_without_items_keeps_them(
    runtime: Runtime, actor: Actor, snapshot_id: UUID
) -> None:
    program_id = start(runtime, actor, snapshot_id, CHOSEN)

    review_program(runtime, ReviewProgram(actor, program_id, note="No change"))

    assert load(runtime, Program, program_id).items == CHOSEN


def test_reviews_are_counted(runtime: Runtime, actor: Actor, snapshot_id: UUID) -> None:
    program_id = start(runtime, actor, snapshot_id, CHOSEN)
    review_program(runtime, ReviewProgram(actor, program_id))

    reviewed = review_program(runtime, ReviewProgram(actor, program_id))

    assert reviewed["reviews"] == 2


def test_closed_program_keeps_its_last_note(
    runtime: Runtime, actor: Actor, snapshot_id: UUID
) -> None:
    program_id = start(runtime, actor, snapshot_id, CHOSEN)

    close_program(runtime, CloseProgram(actor, program_id, "Goals met"))

    program = load(runtime, Program, program_id)
    assert program.status == CLOSED
    assert program.notes == ["Goals met"]


def test_closed_program_takes_no_review(
    runtime: Runtime, actor: Actor, snapshot_id: UUID
) -> None:
    program_id = start(runtime, actor, snapshot_id, CHOSEN)
    close_program(runtime, CloseProgram(actor, program_id))

    with pytest.raises(ProgramClosed):
        review_program(runtime, ReviewProgram(actor, program_id, note="Late"))


def test_closing_twice_is_refused(
    runtime: Runtime, actor: Actor, snapshot_id: UUID
) -> None:
    program_id = start(runtime, actor, snapshot_id, CHOSEN)
    close_program(runtime, CloseProgram(actor, program_id))

    with pytest.raises(ProgramClosed):
        close_program(runtime, CloseProgram(actor, program_id))


def test_shown_program_gives_items_and_notes(
    runtime: Runtime, actor: Actor, snapshot_id: UUID
) -> None:
    program_id = start(runtime, actor, snapshot_id, CHOSEN, "Started")

    shown = show_program(runtime, actor, program_id)

    assert (shown["items"], shown["notes"]) == (CHOSEN, ["Started"])


def test_practitioner_of_another_team_cannot_start_a_program(
    runtime: Runtime, actor: Actor, snapshot_id: UUID
) -> None:
    outsider = practitioner_elsewhere(runtime, actor)

    with pytest.raises(NotFound, match="snapshot"):
        start(runtime, outsider, snapshot_id, CHOSEN)


def test_practitioner_of_another_team_cannot_review(
    runtime: Runtime, actor: Actor, snapshot_id: UUID
) -> None:
    program_id = start(runtime, actor, snapshot_id, CHOSEN)
    outsider = practitioner_elsewhere(runtime, actor)

    with pytest.raises(NotFound, match="program"):
        review_program(runtime, ReviewProgram(outsider, program_id, note="Nosy"))


def test_practitioner_of_another_team_cannot_close(
    runtime: Runtime, actor: Actor, snapshot_id: UUID
) -> None:
    program_id = start(runtime, actor, snapshot_id, CHOSEN)
    outsider = practitioner_elsewhere(runtime, actor)

    with pytest.raises(NotFound):
        close_program(runtime, CloseProgram(outsider, program_id))


def test_practitioner_of_another_team_cannot_see_a_program(
    runtime: Runtime, actor: Actor, snapshot_id: UUID
) -> None:
    program_id = start(runtime, actor, snapshot_id, CHOSEN)
    outsider = practitioner_elsewhere(runtime, actor)

    with pytest.raises(NotFound):
        show_program(runtime, outsider, program_id)


def test_plain_user_cannot_start_a_program(
    runtime: Runtime, actor: Actor, snapshot_id: UUID
) -> None:
    stranger = plain_user(runtime, actor)

    with pytest.raises((NotFound, NotAllowed)):
        start(runtime, stranger, snapshot_id, CHOSEN)


def test_plain_user_cannot_review(
    runtime: Runtime, actor: Actor, snapshot_id: UUID
) -> None:
    program_id = start(runtime, actor, snapshot_id, CHOSEN)
    stranger = plain_user(runtime, actor)

    with pytest.raises((NotFound, NotAllowed)):
        review_program(runtime, ReviewProgram(stranger, program_id))
