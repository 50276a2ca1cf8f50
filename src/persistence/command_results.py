"""Results of idempotent commands, kept by client-supplied key.

A stored result holds ids only. The fingerprint of a command, and the
client's key itself, are HMACs under a service key, not plain hashes,
because either may carry personal data. Rows that name an erased person
are deleted by erasure.
"""

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import orjson

from wellbeing.persistence.database import Tx
from wellbeing.persistence.erasure import register_eraser
from wellbeing.persistence.keys import SubjectKeys

_FINGERPRINT_SUBJECT = uuid5(NAMESPACE_URL, "urn:wellbeing-ledger:idempotency")


class CommandResults:
    def __init__(self, keys: SubjectKeys) -> None:
        self.keys = keys

    def fingerprint(self, command_bytes: bytes) -> str:
        key = self.keys.for_writing(_FINGERPRINT_SUBJECT, "service-index")
        return hmac.new(key, command_bytes, hashlib.sha256).hexdigest()

    def row_key(self, key: str) -> str:
        """The key as the table keeps it, for the other methods: a client
        chooses its keys and may put anything in one, so only their HMAC is
        stored. Call it outside a transaction: it may read the service key.
        """
        return "k1:" + self.fingerprint(b"idempotency-key\x00" + key.encode())

    def find(self, tx: Tx, key: str) -> tuple[UUID, str, dict[str, Any] | None] | None:
        """The key's actor, fingerprint and result; the result is None while
        the first request is still running.
        """
        tx.execute(
            "SELECT actor_id, fingerprint, result FROM command_results WHERE key = %s",
            (key,),
        )
        row = tx.fetchone()
        if row is None:
            return None
        return UUID(str(row[0])), str(row[1]), orjson.loads(bytes(row[2]))

    def store(
        self,
        tx: Tx,
        key: str,
        actor_id: UUID,
        fingerprint: str,
        result: dict[str, Any] | None,
        subject_ids: list[UUID],
    ) -> None:
        """Raises UniqueViolation when another request claimed the key first."""
        sqlite = tx.dialect == "sqlite"
        now = datetime.now(UTC)
        tx.execute(
            "INSERT INTO command_results (key, actor_id, fingerprint, result,"
            " subject_ids, created_at) VALUES (%s, %s, %s, %s, %s, %s)",
            (
                key,
                str(actor_id) if sqlite else actor_id,
                fingerprint,
                orjson.dumps(result),
                " ".join(str(s) for s in subject_ids),
                now.isoformat() if sqlite else now,
            ),
        )

    def complete(
        self, tx: Tx, key: str, result: dict[str, Any], subject_ids: list[UUID]
    ) -> None:
        tx.execute(
            "UPDATE command_results SET result = %s, subject_ids = %s WHERE key = %s",
            (
                orjson.dumps(result),
                " ".join(str(s) for s in subject_ids),
                key,
            ),
        )

    def release(self, tx: Tx, key: str) -> None:
        """Give up a claim whose command failed, so the client may retry."""
        tx.execute(
            "DELETE FROM command_results WHERE key = %s AND result = %s",
            (key, b"null"),
        )


@register_eraser("command-results", "command_results")
def erase_command_results(tx: Tx, subject_id: UUID) -> None:
    tx.execute(
        "DELETE FROM command_results WHERE subject_ids LIKE %s",
        (f"%{subject_id}%",),
    )
