"""Snapshots through their commands: start, answer, complete, discard, groups."""

from datetime import date, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from erasure_fixtures import Pair, erase, import_pair
from people import make_canary, write_template_file

from wellbeing.aggregates.base import NotAllowed, NotFound
from wellbeing.aggregates.instrument import AnswersIncomplete, InvalidAnswer
from wellbeing.aggregates.participant import ParticipantErased
from wellbeing.aggregates.snapshot import (
    COMPLETED,
    DISCARDED,
    STARTED,
    Snapshot,
    SnapshotClosed,
)
from wellbeing.aggregates.team import PRACTITIONER
from wellbeing.commands.actor import Actor
from wellbeing.commands.import_participants import (
    ImportParticipants,
    import_participants,
)
from wellbeing.commands.loading import load
from wellbeing.commands.participant_life import LeaveTeam, leave_team
from wellbeing.commands.snapshots import (
    CompleteSnapshot,
    DiscardSnapshot,
    InstrumentUnavailable,
    ParticipantLeft,
    RecordAnswers,
    StartGroupSnapshots,
    StartSnapshot,
    complete_snapshot,
    discard_snapshot,
    record_answers,
    show_snapshot,
    start_group,
    start_snapshot,
    today,
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
from wellbeing.persistence.event_store import EVENTS_TABLE
from wellbeing.persistence.runtime import Runtime

INSTRUMENT = "wellbeing-check"

# Answers on the 0-3 scale of the shipped wellbeing-check. An item marked R
# is a reverse item and counts as 3 - value. Each subdomain's score is the
# mean of its items, rounded half up to two decimals.
ANSWERS = {
    # mood: 1, 3, R2 -> 1, 0; 5 / 4 = 1.25
    "mood-1": 1,
    "mood-2": 3,
    "mood-3": 2,
    "mood-4": 0,
    # calm: R0 -> 3, 1, R1 -> 2; 6 / 3 = 2.00
    "calm-1": 0,
    "calm-2": 1,
    "calm-3": 1,
    # temper: 3, R3 -> 0, 1; 4 / 3 = 1.333... -> 1.33
    "temper-1": 3,
    "temper-2": 3,
    "temper-3": 1,
    # friends: 2, 2, R0 -> 3, 3; 10 / 4 = 2.50
    "friends-1": 2,
    "friends-2": 2,
    "friends-3": 0,
    "friends-4": 3,
    # adults: 0, 1, 1; 2 / 3 = 0.666... -> 0.67
    "adults-1": 0,
    "adults-2": 1,
    "adults-3": 1,
    # belonging: 3, R1 -> 2, 3; 8 / 3 = 2.666... -> 2.67
    "belonging-1": 3,
    "belonging-2": 1,
    "belonging-3": 3,
    # confidence: 2, 0, R2 -> 1; 3 / 3 = 1.00
    "confidence-1": 2,
    "confidence-2": 0,
    "confidence-3": 2,
    # coping: 1, 3, R3 -> 0, 2; 6 / 4 = 1.50
    "coping-1": 1,
    "coping-2": 3,
    "coping-3": 3,
    "coping-4": 2,
}
COMPREHENSIVE_SCORES = {
    "mood": 1.25,
    "calm": 2.0,
    "temper": 1.33,
    "friends": 2.5,
    "adults": 0.67,
    "belonging": 2.67,
    "confidence": 1.0,
    "coping": 1.5,
}
# The universal kind asks the first item of each subdomain; calm-1 is the
# only reverse one among them (R0 -> 3).
UNIVERSAL = {key: value for key, value in ANSWERS.items() if key.endswith("-1")}
UNIVERSAL_SCORES = {
    "mood": 1.0,
    "calm": 3.0,
    "temper": 3.0,
    "friends": 2.0,
    "adults": 0.0,
    "belonging": 3.0,
    "confidence": 2.0,
    "coping": 1.0,
}


def email() -> str:
    return f"staff-{uuid4().hex[:12]}@example.org"


def member(runtime: Runtime, actor: Actor, team_id: UUID) -> Actor:
    invited = invite_member(
        runtime, InviteMember(actor, team_id, email(), PRACTITIONER)
    )
    colleague = Actor(UUID(invited["id"]))
    join_team(runtime, JoinTeam(colleague, team_id))
    return colleague


def practitioner_elsewhere(runtime: Runtime, actor: Actor) -> Actor:
    other = register_team(runtime, RegisterTeam(actor, "Elsewhere", "908", "2003"))
    return member(runtime, actor, other)


def plain_user(runtime: Runtime, actor: Actor) -> Actor:
    return Actor(UUID(str(create_user(runtime, CreateUser(actor, email()))["id"])))


def pupil_elsewhere(runtime: Runtime, actor: Actor, folder: Path) -> UUID:
    """A pupil of a second school."""
    team_id = register_team(runtime, RegisterTeam(actor, "Elsewhere", "908", "2004"))
    path = write_template_file(folder / "elsewhere.csv", [make_canary(3)])
    report = import_participants(
        runtime, ImportParticipants(actor, team_id, path, commit=True)
    )
    participant_id = report.rows[0].participant_id
    assert participant_id is not None
    return participant_id


def outcomes(result: dict[str, object]) -> list[dict[str, str]]:
    reported = result["outcomes"]
    assert isinstance(reported, list)
    return reported


def start(
    runtime: Runtime, actor: Actor, participant_id: UUID, kind: str = "comprehensive"
) -> UUID:
    started = start_snapshot(
        runtime, StartSnapshot(actor, participant_id, INSTRUMENT, kind)
    )
    return UUID(str(started["id"]))


def answer(
    runtime: Runtime, actor: Actor, snapshot_id: UUID, answers: dict[str, int]
) -> dict[str, object]:
    return record_answers(runtime, RecordAnswers(actor, snapshot_id, answers))


def event_count(runtime: Runtime) -> int:
    with runtime.database.transaction() as tx:
        # The table name comes from a fixed mapping, never from input.
        tx.execute("SELECT count(*) FROM " + EVENTS_TABLE[runtime.database.dialect])
        row = tx.fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture
def pair(runtime: Runtime, actor: Actor, tmp_path: Path) -> Pair:
    return import_pair(runtime, actor, tmp_path)


def test_started_snapshot_records_instrument_version_and_kind(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    snapshot_id = start(runtime, actor, pair.gone_id, "universal")

    snapshot = load(runtime, Snapshot, snapshot_id)
    assert snapshot.participant_id == pair.gone_id
    assert snapshot.team_id == pair.team_id
    assert (snapshot.instrument, snapshot.instrument_version) == (INSTRUMENT, 1)
    assert snapshot.kind == "universal"


def test_started_snapshot_is_open_and_unanswered(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    snapshot_id = start(runtime, actor, pair.gone_id)

    snapshot = load(runtime, Snapshot, snapshot_id)
    assert snapshot.status == STARTED
    assert snapshot.answers == {}
    assert snapshot.scores is None


def test_snapshot_is_dated_today_unless_told(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    snapshot_id = start(runtime, actor, pair.gone_id)

    assert load(runtime, Snapshot, snapshot_id).taken_on == today()


def test_snapshot_keeps_the_date_it_was_taken(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    taken = date(2026, 3, 2)

    started = start_snapshot(
        runtime, StartSnapshot(actor, pair.gone_id, INSTRUMENT, "universal", taken)
    )

    assert load(runtime, Snapshot, UUID(str(started["id"]))).taken_on == taken


def test_snapshot_dated_after_tomorrow_is_refused(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    later = today() + timedelta(days=2)

    with pytest.raises(InputError, match="taken_on"):
        start_snapshot(
            runtime, StartSnapshot(actor, pair.gone_id, INSTRUMENT, "universal", later)
        )


def test_snapshot_with_an_unknown_instrument_is_refused(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    with pytest.raises(InputError, match="instrument"):
        start_snapshot(
            runtime, StartSnapshot(actor, pair.gone_id, "no-such-check", "universal")
        )


def test_snapshot_of_an_unknown_kind_is_refused(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    with pytest.raises(InputError, match="kind"):
        start_snapshot(runtime, StartSnapshot(actor, pair.gone_id, INSTRUMENT, "short"))


def test_snapshot_of_a_pupil_who_left_is_refused(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    leave_team(runtime, LeaveTeam(actor, pair.gone_id, date(2026, 7, 20)))

    with pytest.raises(ParticipantLeft):
        start(runtime, actor, pair.gone_id)


def test_snapshot_of_an_erased_pupil_is_refused(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    erase(runtime, actor, pair.gone_id)

    with pytest.raises(ParticipantErased):
        start(runtime, actor, pair.gone_id)


def test_snapshot_of_an_unknown_pupil_is_not_found(
    runtime: Runtime, actor: Actor
) -> None:
    with pytest.raises(NotFound):
        start(runtime, actor, uuid4())


def test_answers_saved_in_several_calls_are_all_kept(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    snapshot_id = start(runtime, actor, pair.gone_id)

    answer(runtime, actor, snapshot_id, {"mood-1": 1, "mood-2": 3})
    answer(runtime, actor, snapshot_id, {"calm-1": 0})

    snapshot = load(runtime, Snapshot, snapshot_id)
    assert snapshot.answers == {"mood-1": 1, "mood-2": 3, "calm-1": 0}


def test_later_answer_to_an_item_replaces_the_earlier(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    snapshot_id = start(runtime, actor, pair.gone_id)
    answer(runtime, actor, snapshot_id, {"mood-1": 1})

    answer(runtime, actor, snapshot_id, {"mood-1": 3})

    assert load(runtime, Snapshot, snapshot_id).answers == {"mood-1": 3}


def test_recording_counts_the_items_of_the_kind_answered(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    snapshot_id = start(runtime, actor, pair.gone_id, "universal")

    recorded = answer(runtime, actor, snapshot_id, {"mood-1": 1, "calm-1": 2})

    assert (recorded["answered"], recorded["of"]) == (2, 8)


def test_answer_off_the_scale_is_refused_naming_the_item(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    snapshot_id = start(runtime, actor, pair.gone_id)

    with pytest.raises(InvalidAnswer) as refused:
        answer(runtime, actor, snapshot_id, {"mood-1": 4})

    assert (refused.value.item_id, refused.value.reason) == ("mood-1", "not-on-scale")


def test_answer_that_is_not_a_whole_number_is_refused(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    snapshot_id = start(runtime, actor, pair.gone_id)

    with pytest.raises(InvalidAnswer):
        answer(runtime, actor, snapshot_id, {"mood-1": True})


def test_answer_to_an_unknown_item_is_refused(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    snapshot_id = start(runtime, actor, pair.gone_id)

    with pytest.raises(InvalidAnswer) as refused:
        answer(runtime, actor, snapshot_id, {"mood-9": 1})

    assert refused.value.reason == "unknown-item"


def test_universal_snapshot_refuses_an_item_it_does_not_ask(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    snapshot_id = start(runtime, actor, pair.gone_id, "universal")

    with pytest.raises(InvalidAnswer) as refused:
        answer(runtime, actor, snapshot_id, {"mood-2": 1})

    assert refused.value.item_id == "mood-2"


def test_refused_answers_write_nothing(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    snapshot_id = start(runtime, actor, pair.gone_id)
    before = event_count(runtime)

    with pytest.raises(InvalidAnswer):
        answer(runtime, actor, snapshot_id, {"mood-1": 1, "mood-2": 7})

    assert event_count(runtime) == before


def test_comprehensive_scores_match_hand_computation(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    snapshot_id = start(runtime, actor, pair.gone_id, "comprehensive")
    answer(runtime, actor, snapshot_id, ANSWERS)

    completed = complete_snapshot(runtime, CompleteSnapshot(actor, snapshot_id))

    assert completed["scores"] == COMPREHENSIVE_SCORES


def test_universal_scores_match_hand_computation(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    snapshot_id = start(runtime, actor, pair.gone_id, "universal")
    answer(runtime, actor, snapshot_id, UNIVERSAL)

    completed = complete_snapshot(runtime, CompleteSnapshot(actor, snapshot_id))

    assert completed["scores"] == UNIVERSAL_SCORES


def test_completed_snapshot_holds_its_scores(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    snapshot_id = start(runtime, actor, pair.gone_id, "universal")
    answer(runtime, actor, snapshot_id, UNIVERSAL)

    complete_snapshot(runtime, CompleteSnapshot(actor, snapshot_id))

    snapshot = load(runtime, Snapshot, snapshot_id)
    assert snapshot.status == COMPLETED
    assert snapshot.scores == UNIVERSAL_SCORES


def test_shown_snapshot_gives_answers_and_scores(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    snapshot_id = start(runtime, actor, pair.gone_id, "universal")
    answer(runtime, actor, snapshot_id, UNIVERSAL)
    complete_snapshot(runtime, CompleteSnapshot(actor, snapshot_id))

    shown = show_snapshot(runtime, actor, snapshot_id)

    assert shown["answers"] == UNIVERSAL
    assert shown["scores"] == UNIVERSAL_SCORES


def test_completing_with_unanswered_items_is_refused_naming_them(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    snapshot_id = start(runtime, actor, pair.gone_id, "universal")
    answer(runtime, actor, snapshot_id, {"mood-1": 1})

    with pytest.raises(AnswersIncomplete) as refused:
        complete_snapshot(runtime, CompleteSnapshot(actor, snapshot_id))

    assert "calm-1" in refused.value.missing
    assert "mood-1" not in refused.value.missing


def test_completed_snapshot_takes_no_more_answers(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    snapshot_id = start(runtime, actor, pair.gone_id, "universal")
    answer(runtime, actor, snapshot_id, UNIVERSAL)
    complete_snapshot(runtime, CompleteSnapshot(actor, snapshot_id))

    with pytest.raises(SnapshotClosed):
        answer(runtime, actor, snapshot_id, {"mood-1": 0})


def test_completing_twice_is_refused(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    snapshot_id = start(runtime, actor, pair.gone_id, "universal")
    answer(runtime, actor, snapshot_id, UNIVERSAL)
    complete_snapshot(runtime, CompleteSnapshot(actor, snapshot_id))

    with pytest.raises(SnapshotClosed):
        complete_snapshot(runtime, CompleteSnapshot(actor, snapshot_id))


def test_discarded_snapshot_is_discarded(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    snapshot_id = start(runtime, actor, pair.gone_id)

    discard_snapshot(runtime, DiscardSnapshot(actor, snapshot_id))

    assert load(runtime, Snapshot, snapshot_id).status == DISCARDED


def test_discarded_snapshot_cannot_be_completed(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    snapshot_id = start(runtime, actor, pair.gone_id)
    discard_snapshot(runtime, DiscardSnapshot(actor, snapshot_id))

    with pytest.raises(SnapshotClosed):
        complete_snapshot(runtime, CompleteSnapshot(actor, snapshot_id))


def test_snapshot_of_an_instrument_version_not_loaded_cannot_be_scored(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    snapshot = Snapshot(
        actor_id=actor.user_id,
        participant_id=pair.gone_id,
        team_id=pair.team_id,
        instrument=INSTRUMENT,
        instrument_version=99,
        kind="universal",
        taken_on=today(),
    )
    runtime.writer.commit(snapshot)

    with pytest.raises(InstrumentUnavailable):
        complete_snapshot(runtime, CompleteSnapshot(actor, snapshot.id))


def test_answers_for_an_erased_pupil_are_refused(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    snapshot_id = start(runtime, actor, pair.gone_id)
    erase(runtime, actor, pair.gone_id)

    with pytest.raises(ParticipantErased):
        answer(runtime, actor, snapshot_id, {"mood-1": 1})


def test_group_start_gives_each_pupil_a_snapshot(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    ids = (pair.gone_id, pair.kept_id)

    started = start_group(
        runtime, StartGroupSnapshots(actor, ids, INSTRUMENT, "universal")
    )

    reported = outcomes(started)
    assert [o["participant_id"] for o in reported] == [str(i) for i in ids]
    snapshots = [load(runtime, Snapshot, UUID(o["snapshot_id"])) for o in reported]
    assert [s.participant_id for s in snapshots] == list(ids)


def test_group_start_reports_a_refusal_and_starts_the_others(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    leave_team(runtime, LeaveTeam(actor, pair.gone_id, date(2026, 7, 20)))
    ids = (pair.gone_id, pair.kept_id)

    started = start_group(
        runtime, StartGroupSnapshots(actor, ids, INSTRUMENT, "universal")
    )

    gone, kept = outcomes(started)
    assert gone == {"participant_id": str(pair.gone_id), "error": "participant-left"}
    assert "snapshot_id" in kept


def test_group_start_reports_a_pupil_of_another_team_as_not_found(
    runtime: Runtime, actor: Actor, pair: Pair, tmp_path: Path
) -> None:
    colleague = member(runtime, actor, pair.team_id)
    stranger = pupil_elsewhere(runtime, actor, tmp_path)
    ids = (stranger, pair.kept_id)

    started = start_group(
        runtime, StartGroupSnapshots(colleague, ids, INSTRUMENT, "universal")
    )

    assert [o.get("error") for o in outcomes(started)] == ["not-found", None]


def test_group_start_names_each_pupil_once(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    ids = (pair.gone_id, pair.gone_id)

    started = start_group(
        runtime, StartGroupSnapshots(actor, ids, INSTRUMENT, "universal")
    )

    assert len(outcomes(started)) == 1


def test_group_start_with_an_unknown_instrument_starts_nothing(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    before = event_count(runtime)

    with pytest.raises(InputError, match="instrument"):
        start_group(
            runtime,
            StartGroupSnapshots(actor, (pair.gone_id,), "no-such-check", "universal"),
        )

    assert event_count(runtime) == before


def test_practitioner_of_the_team_starts_a_snapshot(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    colleague = member(runtime, actor, pair.team_id)

    snapshot_id = start(runtime, colleague, pair.gone_id)

    assert load(runtime, Snapshot, snapshot_id).participant_id == pair.gone_id


def test_practitioner_of_another_team_cannot_start_a_snapshot(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    outsider = practitioner_elsewhere(runtime, actor)

    with pytest.raises(NotFound):
        start(runtime, outsider, pair.gone_id)


def test_practitioner_of_another_team_cannot_answer(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    snapshot_id = start(runtime, actor, pair.gone_id)
    outsider = practitioner_elsewhere(runtime, actor)

    with pytest.raises(NotFound, match="snapshot"):
        answer(runtime, outsider, snapshot_id, {"mood-1": 1})


def test_practitioner_of_another_team_cannot_complete(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    snapshot_id = start(runtime, actor, pair.gone_id, "universal")
    answer(runtime, actor, snapshot_id, UNIVERSAL)
    outsider = practitioner_elsewhere(runtime, actor)

    with pytest.raises(NotFound):
        complete_snapshot(runtime, CompleteSnapshot(outsider, snapshot_id))


def test_practitioner_of_another_team_cannot_discard(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    snapshot_id = start(runtime, actor, pair.gone_id)
    outsider = practitioner_elsewhere(runtime, actor)

    with pytest.raises(NotFound):
        discard_snapshot(runtime, DiscardSnapshot(outsider, snapshot_id))


def test_practitioner_of_another_team_cannot_see_a_snapshot(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    snapshot_id = start(runtime, actor, pair.gone_id)
    outsider = practitioner_elsewhere(runtime, actor)

    with pytest.raises(NotFound):
        show_snapshot(runtime, outsider, snapshot_id)


def test_plain_user_cannot_start_a_snapshot(
    runtime: Runtime, actor: Actor, pair: Pair
) -> None:
    stranger = plain_user(runtime, actor)

    with pytest.raises((NotFound, NotAllowed)):
        start(runtime, stranger, pair.gone_id)


def test_plain_user_cannot_answer(runtime: Runtime, actor: Actor, pair: Pair) -> None:
    snapshot_id = start(runtime, actor, pair.gone_id)
    stranger = plain_user(runtime, actor)

    with pytest.raises((NotFound, NotAllowed)):
        answer(runtime, stranger, snapshot_id, {"mood-1": 1})
