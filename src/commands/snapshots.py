"""Snapshots: start, answer in several saves, complete, discard; groups."""

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from uuid import UUID

from wellbeing.aggregates.base import Conflict
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


class ParticipantLeft(Conflict):
    """The participant has left the team; no new assessments."""

    code = "participant-left"


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


def _today() -> date:
    return datetime.now(UTC).date()


def start_snapshot(runtime: Runtime, command: StartSnapshot) -> Result:
    instruments = load_instruments()
    instrument = instruments.get(command.instrument)
    if instrument is None:
        raise InputError("instrument: no such instrument")
    if command.kind not in KINDS:
        raise InputError("kind: must be universal or comprehensive")
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
        taken_on=command.taken_on or _today(),
    )
    runtime.writer.commit(snapshot)
    return {"id": str(snapshot.id)}


def load_snapshot(runtime: Runtime, actor: Actor, snapshot_id: UUID) -> Snapshot:
    """A snapshot the actor may work on; outsiders are told it does not exist."""
    snapshot = load(runtime, Snapshot, snapshot_id)
    load_visible(runtime, actor, snapshot.participant_id, "record-snapshot")
    return snapshot


def record_answers(runtime: Runtime, command: RecordAnswers) -> Result:
    def work() -> Result:
        snapshot = load_snapshot(runtime, command.actor, command.snapshot_id)
        instrument = load_instruments()[snapshot.instrument]
        instrument.check_answers(command.answers)
        snapshot.record(command.actor.user_id, dict(command.answers))
        runtime.writer.commit(snapshot)
        answered = snapshot.answers if isinstance(snapshot.answers, dict) else {}
        kind_items = {item.id for item in instrument.items_for(snapshot.kind)}
        return {
            "id": str(snapshot.id),
            "answered": len(kind_items & set(answered)),
            "of": len(kind_items),
        }

    return with_retries(work)


def complete_snapshot(runtime: Runtime, command: CompleteSnapshot) -> Result:
    def work() -> Result:
        snapshot = load_snapshot(runtime, command.actor, command.snapshot_id)
        instrument = load_instruments()[snapshot.instrument]
        scores = instrument.score(snapshot.answers, snapshot.kind)
        snapshot.complete(command.actor.user_id, scores)
        runtime.writer.commit(snapshot)
        return {"id": str(snapshot.id), "status": snapshot.status, "scores": scores}

    return with_retries(work)


def discard_snapshot(runtime: Runtime, command: DiscardSnapshot) -> Result:
    def work() -> Result:
        snapshot = load_snapshot(runtime, command.actor, command.snapshot_id)
        snapshot.discard(command.actor.user_id)
        runtime.writer.commit(snapshot)
        return {"id": str(snapshot.id), "status": snapshot.status}

    return with_retries(work)


def start_group(runtime: Runtime, command: StartGroupSnapshots) -> Result:
    """Start one snapshot per participant; a refusal for one stops no other."""
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
    return {"outcomes": outcomes}


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
