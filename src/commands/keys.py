"""KEK rotation: re-wrap every live subject key under the current KEK."""

import logging
from dataclasses import dataclass
from uuid import UUID

from wellbeing.commands.actor import Actor
from wellbeing.commands.authorization import authorize
from wellbeing.persistence.runtime import Runtime

logger = logging.getLogger(__name__)
BATCH = 500


@dataclass(frozen=True)
class RotationResult:
    rewrapped: int
    remaining: int
    kek_id: str


def rotate_keys(runtime: Runtime, actor: Actor) -> RotationResult:
    """Re-wrap keys not under the current KEK, a batch per transaction.

    Events are untouched. Each batch commits on its own, so a crash loses
    nothing and running again carries on. When no key remains under an older
    KEK, that KEK can be retired from WELLBEING_KEK_PREVIOUS.
    """
    authorize(runtime, actor, "rotate-keys")
    keyring = runtime.keys.require_keyring()
    current = keyring.current
    rewrapped = 0
    while True:
        with runtime.database.transaction() as tx:
            tx.execute(
                "SELECT subject_id, kek_id, wrapped FROM subject_keys"
                " WHERE kek_id <> %s LIMIT %s",
                (current.id, BATCH),
            )
            rows = tx.fetchall()
            for subject, kek_id, wrapped in rows:
                subject_id = UUID(str(subject))
                key = keyring.find(kek_id).unwrap(subject_id, bytes(wrapped))
                tx.execute(
                    "UPDATE subject_keys SET kek_id = %s, wrapped = %s"
                    " WHERE subject_id = %s AND kek_id = %s",
                    (current.id, current.wrap(subject_id, key), subject, kek_id),
                )
        rewrapped += len(rows)
        if len(rows) < BATCH:
            break
    logger.info("keys rotated count=%d kek_id=%s", rewrapped, current.id)
    return RotationResult(rewrapped, _remaining(runtime, current.id), current.id)


def _remaining(runtime: Runtime, kek_id: str) -> int:
    with runtime.database.transaction() as tx:
        tx.execute("SELECT count(*) FROM subject_keys WHERE kek_id <> %s", (kek_id,))
        row = tx.fetchone()
    return int(row[0]) if row else 0
