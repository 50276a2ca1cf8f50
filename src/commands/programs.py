"""Programs: started from a completed snapshot, reviewed, closed."""

from dataclasses import dataclass
from uuid import UUID

from wellbeing.aggregates.base import Conflict, NotFound
from wellbeing.aggregates.instrument import UnknownPart
from wellbeing.aggregates.participant import Participant
from wellbeing.aggregates.program import PARTS, Program
from wellbeing.aggregates.snapshot import COMPLETED, Snapshot
from wellbeing.commands.actor import Actor
from wellbeing.commands.instrument_files import load_catalogue, load_instruments
from wellbeing.commands.loading import load
from wellbeing.commands.participants import load_visible, shown
from wellbeing.commands.retry import with_retries
from wellbeing.commands.snapshots import ParticipantLeft
from wellbeing.errors import InputError
from wellbeing.persistence.runtime import Runtime

Result = dict[str, object]
NOTE_LIMIT = 4000


class SnapshotNotCompleted(Conflict):
    """A program starts only from a completed snapshot."""

    code = "snapshot-not-completed"


class SnapshotOfAnotherParticipant(Conflict):
    """The snapshot named for a program is not the participant's own."""

    code = "snapshot-of-another-participant"


@dataclass(frozen=True)
class StartProgram:
    """Start a program; without items, the catalogue's suggestions are used.

    With participant_id, the snapshot must be that participant's.
    """

    actor: Actor
    snapshot_id: UUID
    items: dict[str, list[str]] | None = None
    note: str | None = None
    participant_id: UUID | None = None


@dataclass(frozen=True)
class ReviewProgram:
    actor: Actor
    program_id: UUID
    items: dict[str, list[str]] | None = None
    note: str | None = None


@dataclass(frozen=True)
class CloseProgram:
    actor: Actor
    program_id: UUID
    note: str | None = None


def _check_items(items: dict[str, list[str]]) -> dict[str, list[str]]:
    """Every part present, each entry from the catalogue and in its own part."""
    catalogue = load_catalogue(load_instruments())
    for part, entries in items.items():
        if part not in PARTS:
            raise UnknownPart(part)
        for entry in entries:
            catalogue.check_choice(part, entry)
    checked = {part: list(dict.fromkeys(items.get(part, []))) for part in PARTS}
    if not any(checked.values()):
        raise InputError("items: choose at least one catalogue entry")
    return checked


def _check_note(note: str | None) -> str | None:
    if note is None:
        return None
    if len(note) > NOTE_LIMIT:
        raise InputError(f"note: at most {NOTE_LIMIT} characters")
    return note.strip() or None


def suggested_items(snapshot: Snapshot) -> dict[str, list[str]]:
    """Catalogue entries suited to the snapshot's lowest-scoring subdomains."""
    catalogue = load_catalogue(load_instruments())
    scores = snapshot.scores if isinstance(snapshot.scores, dict) else {}
    lowest = sorted(scores, key=lambda name: scores[name])[:2]
    suited = catalogue.suited_to(lowest)
    return {part: [e.id for e in suited if e.part == part][:2] for part in PARTS}


def start_program(runtime: Runtime, command: StartProgram) -> Result:
    """Start from the participant's completed snapshot.

    Raises SnapshotNotCompleted, SnapshotOfAnotherParticipant, ParticipantLeft
    and ParticipantErased; an outsider to the team gets NotFound.
    """
    snapshot = load(runtime, Snapshot, command.snapshot_id)
    participant = _visible(runtime, command.actor, snapshot.participant_id, "snapshot")
    if command.participant_id not in (None, snapshot.participant_id):
        raise SnapshotOfAnotherParticipant("the snapshot is another participant's")
    participant.check_readable()
    if participant.left_on is not None:
        raise ParticipantLeft("participant has left the team")
    if snapshot.status != COMPLETED:
        raise SnapshotNotCompleted("the snapshot is not completed")
    items = command.items if command.items is not None else suggested_items(snapshot)
    program = Program(
        actor_id=command.actor.user_id,
        participant_id=snapshot.participant_id,
        team_id=snapshot.team_id,
        snapshot_id=snapshot.id,
        items=_check_items(items),
        note=_check_note(command.note),
    )
    runtime.writer.commit(program)
    return {"id": str(program.id), "participant_id": str(participant.id)}


def _visible(
    runtime: Runtime, actor: Actor, participant_id: UUID, kind: str
) -> Participant:
    # Saying "participant not found" about a snapshot or program id would
    # tell an outsider whose record it is.
    try:
        return load_visible(runtime, actor, participant_id, "manage-program")
    except NotFound:
        raise NotFound(f"{kind} not found") from None


def _load_program(
    runtime: Runtime, actor: Actor, program_id: UUID
) -> tuple[Program, Participant]:
    program = load(runtime, Program, program_id)
    participant = _visible(runtime, actor, program.participant_id, "program")
    return program, participant


def review_program(runtime: Runtime, command: ReviewProgram) -> Result:
    """Record a review with a note and the items as they now stand."""
    items = _check_items(command.items) if command.items is not None else None
    note = _check_note(command.note)

    def work() -> Result:
        program, participant = _load_program(runtime, command.actor, command.program_id)
        participant.check_readable()
        program.review(command.actor.user_id, items, note)
        runtime.writer.commit(program)
        return {
            "id": str(program.id),
            "participant_id": str(program.participant_id),
            "reviews": program.reviews,
        }

    return with_retries(work)


def close_program(runtime: Runtime, command: CloseProgram) -> Result:
    """Close a program with an optional last note."""
    note = _check_note(command.note)

    def work() -> Result:
        program, participant = _load_program(runtime, command.actor, command.program_id)
        participant.check_readable()
        program.close(command.actor.user_id, note)
        runtime.writer.commit(program)
        return {
            "id": str(program.id),
            "participant_id": str(program.participant_id),
            "status": program.status,
        }

    return with_retries(work)


def show_program(runtime: Runtime, actor: Actor, program_id: UUID) -> Result:
    """The program with its items and notes, or their markers."""
    return program_view(_load_program(runtime, actor, program_id)[0])


def program_view(program: Program) -> dict[str, object]:
    return {
        "id": str(program.id),
        "participant_id": str(program.participant_id),
        "snapshot_id": str(program.snapshot_id),
        "status": program.status,
        "reviews": program.reviews,
        "items": shown(program.items),
        "notes": shown(program.notes),
    }
