"""Programs: started from a completed snapshot, reviewed, closed."""

from dataclasses import dataclass
from uuid import UUID

from wellbeing.aggregates.base import Conflict
from wellbeing.aggregates.program import PARTS, Program
from wellbeing.aggregates.snapshot import COMPLETED, Snapshot
from wellbeing.commands.actor import Actor
from wellbeing.commands.instrument_files import load_catalogue, load_instruments
from wellbeing.commands.loading import load
from wellbeing.commands.participants import load_visible, shown
from wellbeing.commands.retry import with_retries
from wellbeing.errors import InputError
from wellbeing.persistence.runtime import Runtime

Result = dict[str, object]


class SnapshotNotCompleted(Conflict):
    """A program starts only from a completed snapshot."""

    code = "snapshot-not-completed"


@dataclass(frozen=True)
class StartProgram:
    actor: Actor
    snapshot_id: UUID
    items: dict[str, list[str]] | None = None
    note: str | None = None


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
    catalogue = load_catalogue(load_instruments())
    checked: dict[str, list[str]] = {}
    for part, entries in items.items():
        if part not in PARTS:
            raise InputError(f"items: unknown part {part!r}")
        for entry in entries:
            catalogue.check_choice(part, entry)
        checked[part] = list(dict.fromkeys(entries))
    return {part: checked.get(part, []) for part in PARTS}


def _check_note(note: str | None) -> str | None:
    if note is not None and len(note) > 4000:
        raise InputError("note: at most 4000 characters")
    return note.strip() or None if note is not None else None


def suggested_items(snapshot: Snapshot) -> dict[str, list[str]]:
    """Catalogue entries suited to the snapshot's lowest-scoring subdomains."""
    catalogue = load_catalogue(load_instruments())
    scores = snapshot.scores if isinstance(snapshot.scores, dict) else {}
    lowest = sorted(scores, key=lambda name: scores[name])[:2]
    suited = catalogue.suited_to(lowest)
    return {part: [e.id for e in suited if e.part == part][:2] for part in PARTS}


def start_program(runtime: Runtime, command: StartProgram) -> Result:
    snapshot = load(runtime, Snapshot, command.snapshot_id)
    participant = load_visible(
        runtime, command.actor, snapshot.participant_id, "manage-program"
    )
    participant.check_not_erased()
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
    return {"id": str(program.id)}


def _load_program(runtime: Runtime, actor: Actor, program_id: UUID) -> Program:
    program = load(runtime, Program, program_id)
    load_visible(runtime, actor, program.participant_id, "manage-program")
    return program


def review_program(runtime: Runtime, command: ReviewProgram) -> Result:
    items = _check_items(command.items) if command.items is not None else None
    note = _check_note(command.note)

    def work() -> Result:
        program = _load_program(runtime, command.actor, command.program_id)
        program.review(command.actor.user_id, items, note)
        runtime.writer.commit(program)
        return {"id": str(program.id), "reviews": program.reviews}

    return with_retries(work)


def close_program(runtime: Runtime, command: CloseProgram) -> Result:
    note = _check_note(command.note)

    def work() -> Result:
        program = _load_program(runtime, command.actor, command.program_id)
        program.close(command.actor.user_id, note)
        runtime.writer.commit(program)
        return {"id": str(program.id), "status": program.status}

    return with_retries(work)


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
