"""Erasing a person: the event, the key, and every derived copy."""

import logging
import time
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from wellbeing.aggregates.base import NotFound
from wellbeing.aggregates.participant import Participant
from wellbeing.aggregates.team import Team
from wellbeing.commands.actor import Actor
from wellbeing.commands.authorization import authorize
from wellbeing.commands.loading import load
from wellbeing.commands.retry import with_retries
from wellbeing.persistence import tokens
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
    team_id, _, _ = _participant_facts(runtime, command.participant_id)
    try:
        authorize(
            runtime, command.actor, "erase-participant", load(runtime, Team, team_id)
        )
    except NotFound:
        raise NotFound("participant not found") from None

    def append_event() -> bool:
        _, last_version, erased = _participant_facts(runtime, command.participant_id)
        if erased:
            return True
        event = Participant.PersonalDataErased(  # type: ignore[attr-defined]
            originator_id=command.participant_id,
            originator_version=last_version + 1,
            timestamp=Participant.Event.create_timestamp(),
            actor_id=command.actor.user_id,
        )
        runtime.writer.commit_stored([runtime.mapper.to_stored_event(event)], None)
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


def _participant_facts(
    runtime: Runtime, participant_id: UUID
) -> tuple[UUID, int, bool]:
    """Team, last version and erased flag, read without replaying the history.

    Erasure must take the same time for a pupil with ten events as for one
    with ten thousand, so it reads only the first and the last event, and
    opens no sealed field.
    """
    recorder = runtime.ledger.recorder
    first = recorder.select_events(participant_id, limit=1)
    if not first or first[0].topic != REGISTERED:
        raise NotFound("participant not found")
    registered: Any = runtime.mapper.decode(first[0], open_fields=False)
    last = recorder.select_events(participant_id, desc=True, limit=1)[0]
    return registered.team_id, last.originator_version, last.topic == ERASED_TOPIC


REGISTERED = "wellbeing:ParticipantRegistered"
ERASED_TOPIC = "wellbeing:ParticipantPersonalDataErased"


def destroy_subject(runtime: Runtime, subject_id: UUID, kind: str) -> None:
    """Tombstone and delete the key, delete derived rows, then clear the bytes."""
    with runtime.database.transaction() as tx:
        runtime.keys.destroy(tx, subject_id, kind)
        run_erasers(tx, subject_id)
    runtime.keys.evict(subject_id)
    # A request that read an erased user's token just before the commit
    # must not keep it: the tokens' eraser forgot them before, this after.
    tokens.remembered.forget_all()
    clear_freed_bytes(runtime)


def clear_freed_bytes(runtime: Runtime) -> None:
    """Make deleted rows unrecoverable from the database files.

    SQLite zeroes deleted content (secure_delete) and a truncating checkpoint
    empties the WAL. On PostgreSQL the key table and the blind indexes are
    vacuumed at once: a dead key row is the person's data key (KEK-wrapped),
    and a dead index row still matches a guessed UPN or e-mail under a live
    index key. The other stores hold ids or sealed copies only, useless once
    the key is gone, and autovacuum reclaims them; vacuuming them too made an
    erasure take about ten times as long. WAL segments and backups may hold
    the wrapped key until the KEK is rotated.
    """
    if runtime.database.dialect == "sqlite":
        runtime.database.maintenance("PRAGMA wal_checkpoint(TRUNCATE)")
        return
    wanted = [t for t in erased_tables() if t in VACUUMED_AT_ONCE]
    runtime.database.maintenance("VACUUM " + ", ".join(wanted))


VACUUMED_AT_ONCE = frozenset({"subject_keys", "upn_index", "name_index", "email_index"})
