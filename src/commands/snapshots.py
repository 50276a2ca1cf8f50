"""Snapshots: start, answer in several saves, complete, discard; groups."""

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from wellbeing.aggregates.base import Conflict, NotFound
from wellbeing.aggregates.instrument import Instrument, InvalidAnswer
from wellbeing.aggregates.participant import Participant
from wellbeing.aggregates.snapshot import KINDS, Snapshot
from wellbeing.commands.actor import Actor
from wellbeing.commands.instrument_files import load_instruments
from wellbeing.commands.loading import load
from wellbeing.commands.participants import load_visible, shown
from wellbeing.commands.retry import with_retries
from wellbeing.errors import InputError, WellbeingError
from wellbeing.persistence.runtime import Runtime

logger = logging.getLogger(__name__)
Result = dict[str, object]

# A school in the United Kingdom is up to an hour ahead of UTC, so its "today"
# may already be tomorrow here; one day of slack accepts that and nothing more.
_CLOCK_SLACK = timedelta(days=1)


class ParticipantLeft(Conflict):
    """The participant has left the team; no new assessments or programs."""

    code = "participant-left"


class InstrumentUnavailable(Conflict):
    """The snapshot's instrument version is no longer loaded, so it cannot score."""

    code = "instrument-unavailable"


@dataclass(frozen=True)
class StartSnapshot:
    actor: Actor
    participant_id: UUID
    instrument: str
    kind: str
    taken_on: date | None = None


@dataclass(frozen=True)
class RecordAnswers:
    actor: Actor
    snapshot_id: UUID
    answers: dict[str, int]


@dataclass(frozen=True)
class CompleteSnapshot:
    actor: Actor
    snapshot_id: UUID


@dataclass(frozen=True)
class DiscardSnapshot:
    actor: Actor
    snapshot_id: UUID


@dataclass(frozen=True)
class StartGroupSnapshots:
    """Start the same instrument for a class: one outcome per participant."""

    actor: Actor
    participant_ids: tuple[UUID, ...]
    instrument: str
    kind: str
    taken_on: date | None = None


def today() -> date:
    return datetime.now(UTC).date()


def check_not_future(value: date, name: str) -> date:
    """Refuse a date after today, allowing for a school's time zone."""
    if value > today() + _CLOCK_SLACK:
        raise InputError(f"{name}: must not be after today")
    return value


def _chosen_instrument(name: str, kind: str) -> Instrument:
    instrument = load_instruments().get(name)
    if instrument is None:
        raise InputError("instrument: no such instrument")
    if kind not in KINDS:
        raise InputError("kind: must be universal or comprehensive")
    return instrument


def start_snapshot(runtime: Runtime, command: StartSnapshot) -> Result:
    """Start an assessment of a current pupil; raises ParticipantLeft after
    leaving and ParticipantErased after erasure."""
    instrument = _chosen_instrument(command.instrument, command.kind)
    taken_on = check_not_future(command.taken_on or today(), "taken_on")
    participant = load_visible(
        runtime, command.actor, command.participant_id, "record-snapshot"
    )
    participant.check_not_erased()
    if participant.left_on is not None:
        raise ParticipantLeft("participant has left the team")
    snapshot = Snapshot(
        actor_id=command.actor.user_id,
        participant_id=participant.id,
        team_id=participant.team_id,
        instrument=instrument.name,
        instrument_version=instrument.version,
        kind=command.kind,
        taken_on=taken_on,
    )
    runtime.writer.commit(snapshot)
    return {"id": str(snapshot.id), "participant_id": str(participant.id)}


def load_snapshot(runtime: Runtime, actor: Actor, snapshot_id: UUID) -> Snapshot:
    """A snapshot the actor may work on; outsiders are told it does not exist."""
    return _load_with_participant(runtime, actor, snapshot_id)[0]


def _load_with_participant(
    runtime: Runtime, actor: Actor, snapshot_id: UUID
) -> tuple[Snapshot, Participant]:
    snapshot = load(runtime, Snapshot, snapshot_id)
    try:
        participant = load_visible(
            runtime, actor, snapshot.participant_id, "record-snapshot"
        )
    except NotFound:
        raise NotFound("snapshot not found") from None
    return snapshot, participant


def instrument_of(snapshot: Snapshot) -> Instrument:
    """The instrument and version the snapshot was started with."""
    instrument = load_instruments().get(snapshot.instrument)
    if instrument is None or instrument.version != snapshot.instrument_version:
        raise InstrumentUnavailable("the snapshot's instrument version is not loaded")
    return instrument


def _check_asked(instrument: Instrument, kind: str, answers: Mapping[str, int]) -> None:
    # Answers to items the kind does not ask would be health data collected
    # for no score, so a universal snapshot takes universal items only.
    asked = {item.id for item in instrument.items_for(kind)}
    instrument.check_answers(answers)
    for item_id in answers:
        if item_id not in asked:
            raise InvalidAnswer(item_id, "unknown-item")


def record_answers(runtime: Runtime, command: RecordAnswers) -> Result:
    """Record any subset of answers; raises InvalidAnswer naming the item."""

    def work() -> Result:
        snapshot, participant = _load_with_participant(
            runtime, command.actor, command.snapshot_id
        )
        participant.check_readable()
        snapshot.check_open()
        instrument = instrument_of(snapshot)
        _check_asked(instrument, snapshot.kind, command.answers)
        snapshot.record(command.actor.user_id, dict(command.answers))
        runtime.writer.commit(snapshot)
        answered = snapshot.answers if isinstance(snapshot.answers, dict) else {}
        asked = {item.id for item in instrument.items_for(snapshot.kind)}
        return {
            "id": str(snapshot.id),
            "participant_id": str(snapshot.participant_id),
            "answered": len(asked & set(answered)),
            "of": len(asked),
        }

    return with_retries(work)


def complete_snapshot(runtime: Runtime, command: CompleteSnapshot) -> Result:
    """Score the answers with the snapshot's instrument; raises
    AnswersIncomplete naming the unanswered items."""

    def work() -> Result:
        snapshot, participant = _load_with_participant(
            runtime, command.actor, command.snapshot_id
        )
        participant.check_readable()
        snapshot.check_open()
        instrument = instrument_of(snapshot)
        scores = instrument.score(snapshot.answers, snapshot.kind)
        snapshot.complete(command.actor.user_id, scores)
        runtime.writer.commit(snapshot)
        return {
            "id": str(snapshot.id),
            "participant_id": str(snapshot.participant_id),
            "status": snapshot.status,
            "scores": scores,
        }

    return with_retries(work)


def discard_snapshot(runtime: Runtime, command: DiscardSnapshot) -> Result:
    """Discard an open snapshot; its answers stay in the history."""

    def work() -> Result:
        snapshot, participant = _load_with_participant(
            runtime, command.actor, command.snapshot_id
        )
        participant.check_not_erased()
        snapshot.discard(command.actor.user_id)
        runtime.writer.commit(snapshot)
        return {
            "id": str(snapshot.id),
            "participant_id": str(snapshot.participant_id),
            "status": snapshot.status,
        }

    return with_retries(work)


def start_group(runtime: Runtime, command: StartGroupSnapshots) -> Result:
    """Start one snapshot per participant; a refusal for one stops no other.

    A wrong instrument or kind is refused once for the whole group.
    """
    _chosen_instrument(command.instrument, command.kind)
    outcomes: list[dict[str, str]] = []
    for participant_id in dict.fromkeys(command.participant_ids):
        single = StartSnapshot(
            command.actor,
            participant_id,
            command.instrument,
            command.kind,
            command.taken_on,
        )
        try:
            started = start_snapshot(runtime, single)
        except WellbeingError as error:
            outcomes.append(
                {"participant_id": str(participant_id), "error": error.code}
            )
            continue
        outcomes.append(
            {"participant_id": str(participant_id), "snapshot_id": str(started["id"])}
        )
    started_count = sum(1 for outcome in outcomes if "snapshot_id" in outcome)
    logger.info(
        "group snapshots started=%d refused=%d",
        started_count,
        len(outcomes) - started_count,
    )
    return {"outcomes": outcomes}


def show_snapshot(runtime: Runtime, actor: Actor, snapshot_id: UUID) -> Result:
    """The snapshot with its answers and scores, or their markers."""
    return snapshot_view(load_snapshot(runtime, actor, snapshot_id), with_answers=True)


def snapshot_view(snapshot: Snapshot, *, with_answers: bool) -> dict[str, object]:
    view: dict[str, object] = {
        "id": str(snapshot.id),
        "participant_id": str(snapshot.participant_id),
        "team_id": str(snapshot.team_id),
        "instrument": snapshot.instrument,
        "instrument_version": snapshot.instrument_version,
        "kind": snapshot.kind,
        "taken_on": snapshot.taken_on.isoformat(),
        "status": snapshot.status,
        "scores": shown(snapshot.scores),
    }
    if with_answers:
        view["answers"] = shown(snapshot.answers)
    return view
