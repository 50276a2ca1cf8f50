"""The team's roll around an import: who left, and the names index it needs."""

import logging
from collections.abc import Iterable
from datetime import date
from functools import partial
from uuid import UUID

from wellbeing.aggregates.participant import Participant
from wellbeing.commands.import_matching import names_digest_of
from wellbeing.commands.loading import load
from wellbeing.commands.retry import with_retries
from wellbeing.errors import InputError
from wellbeing.persistence.blind_index import BlindIndex
from wellbeing.persistence.database import Tx
from wellbeing.persistence.participants import set_left_on
from wellbeing.persistence.runtime import Runtime
from wellbeing.persistence.team_roll import on_roll, without_names_digest

logger = logging.getLogger(__name__)
# Above this share of the roll, --full-roster asks before marking pupils as
# having left: a file cut short or of the wrong year group looks like this.
LEAVING_SHARE = 0.25
_CHUNK = 500


class ConfirmationRequired(InputError):  # noqa: N818 (named for what is missing)
    """Too many pupils would be marked as having left to go on unasked."""

    code = "confirmation-required"

    def __init__(self, leaving: int, on_roll: int) -> None:
        super().__init__(
            f"{leaving} of {on_roll} pupils on roll would be marked as having"
            " left; confirm to go on (--yes)"
        )
        self.leaving = leaving
        self.on_roll = on_roll


def leavers(
    runtime: Runtime, team_id: UUID, present: set[UUID]
) -> tuple[list[UUID], int]:
    """Pupils on roll whom no row of the file named, and the size of the roll."""
    with runtime.database.transaction() as tx:
        roll = on_roll(tx, team_id)
    return [pid for pid in roll if pid not in present], len(roll)


def mark_left(
    runtime: Runtime,
    actor_id: UUID,
    participant_ids: list[UUID],
    on: date,
    batch_size: int,
) -> int:
    """Archive pupils as having left (never erased); returns how many."""
    left = 0
    for start in range(0, len(participant_ids), batch_size):
        chunk = participant_ids[start : start + batch_size]
        left += with_retries(partial(_leave, runtime, actor_id, chunk, on))
    logger.info("pupils marked as left count=%d", left)
    return left


def _leave(runtime: Runtime, actor_id: UUID, chunk: list[UUID], on: date) -> int:
    runtime.keys.prefetch(chunk)
    leaving = []
    for participant_id in chunk:
        participant = load(runtime, Participant, participant_id)
        if participant.erased:
            continue
        participant.leave(actor_id, on)
        if participant.pending_events:
            leaving.append(participant)

    def mirror(tx: Tx) -> None:
        for participant in leaving:
            set_left_on(tx, participant.id, participant.left_on)

    runtime.writer.commit(*leaving, extra=mirror)
    return len(leaving)


def heal_names_index(runtime: Runtime, index: BlindIndex) -> int:
    """Index the names of pupils registered before the names index was kept.

    Returns how many were added. Without this, a file without UPNs would
    register those pupils a second time.
    """
    with runtime.database.transaction() as tx:
        missing = without_names_digest(tx, index.team_id)
    for start in range(0, len(missing), _CHUNK):
        _index_names(runtime, index, missing[start : start + _CHUNK])
    if missing:
        logger.info(
            "names index healed team_id=%s count=%d", index.team_id, len(missing)
        )
    return len(missing)


def _index_names(runtime: Runtime, index: BlindIndex, chunk: Iterable[UUID]) -> None:
    ids = list(chunk)
    runtime.keys.prefetch(ids)
    rows = []
    for participant_id in ids:
        digest = names_digest_of(index, load(runtime, Participant, participant_id))
        if digest is not None:
            rows.append((digest, participant_id))
    with runtime.database.transaction() as tx:
        # Another import may have healed some of them a moment ago.
        still_missing = set(without_names_digest(tx, index.team_id))
        index.add_names(tx, [(d, p) for d, p in rows if p in still_missing])
