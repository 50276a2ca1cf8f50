"""Erasing a person: the event, the key, and every derived copy."""

import logging
import time
from dataclasses import dataclass
from uuid import UUID

from wellbeing.aggregates.participant import Participant
from wellbeing.commands.actor import Actor
from wellbeing.commands.loading import load
from wellbeing.commands.participants import load_visible
from wellbeing.commands.retry import with_retries
from wellbeing.persistence.erasure import erased_tables, run_erasers
from wellbeing.persistence.runtime import Runtime

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EraseParticipant:
    """Erase one participant's personal data from the whole history."""

    actor: Actor
    participant_id: UUID


@dataclass(frozen=True)
class ErasureResult:
    subject_id: UUID
    already_erased: bool
    seconds: float


def erase_participant(runtime: Runtime, command: EraseParticipant) -> ErasureResult:
    """Append PersonalDataErased, destroy the key, run every eraser.

    Idempotent: a second call finds the event and the tombstone in place and
    still runs the erasers, so an erasure interrupted half-way completes.
    """
    started = time.perf_counter()
    load_visible(runtime, command.actor, command.participant_id, "erase-participant")

    def append_event() -> bool:
        participant = load(runtime, Participant, command.participant_id)
        if participant.erased:
            return True
        participant.erase(actor_id=command.actor.user_id)
        runtime.writer.commit(participant)
        return False

    already = with_retries(append_event)
    destroy_subject(runtime, command.participant_id, "participant")
    seconds = time.perf_counter() - started
    logger.info(
        "participant erased participant_id=%s already=%s",
        command.participant_id,
        already,
    )
    return ErasureResult(command.participant_id, already, seconds)


def destroy_subject(runtime: Runtime, subject_id: UUID, kind: str) -> None:
    """Tombstone and delete the key, delete derived rows, then clear the bytes."""
    with runtime.database.transaction() as tx:
        runtime.keys.destroy(tx, subject_id, kind)
        run_erasers(tx, subject_id)
    runtime.keys.evict(subject_id)
    clear_freed_bytes(runtime)


def clear_freed_bytes(runtime: Runtime) -> None:
    """Make deleted rows unrecoverable from the database files.

    SQLite zeroes deleted content (secure_delete) and a truncating checkpoint
    empties the WAL. PostgreSQL's VACUUM frees the dead key rows; WAL segments
    and backups may still hold them, KEK-wrapped, until the KEK is rotated.
    """
    if runtime.database.dialect == "sqlite":
        runtime.database.maintenance("PRAGMA wal_checkpoint(TRUNCATE)")
        return
    with runtime.database.transaction() as tx:
        tx.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema()"
        )
        present = {str(row[0]) for row in tx.fetchall()}
    for table in erased_tables():
        if table in present:
            runtime.database.maintenance("VACUUM " + table)
