"""Finding a staff user by e-mail through a blind index, and memberships."""

import hashlib
import hmac
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from wellbeing.persistence.database import Tx
from wellbeing.persistence.erasure import register_eraser
from wellbeing.persistence.keys import SubjectKeys

_INDEX_SUBJECT = uuid5(NAMESPACE_URL, "urn:wellbeing-ledger:email-index")


def _param(tx: Tx, value: UUID) -> Any:
    return str(value) if tx.dialect == "sqlite" else value


class EmailIndex:
    """HMACs of normalised e-mail addresses under one service key."""

    def __init__(self, keys: SubjectKeys) -> None:
        self._key = keys.for_writing(_INDEX_SUBJECT, "service-index")

    def digest(self, email: str) -> bytes:
        normal = email.strip().casefold().encode("utf-8")
        return hmac.new(self._key, b"email\x00" + normal, hashlib.sha256).digest()

    def find(self, tx: Tx, email: str) -> UUID | None:
        tx.execute(
            "SELECT user_id FROM email_index WHERE digest = %s", (self.digest(email),)
        )
        row = tx.fetchone()
        return None if row is None else UUID(str(row[0]))

    def add(self, tx: Tx, email: str, user_id: UUID) -> None:
        """Raises UniqueViolation when the address belongs to someone already."""
        tx.execute(
            "INSERT INTO email_index (digest, user_id) VALUES (%s, %s)",
            (self.digest(email), _param(tx, user_id)),
        )


@register_eraser("email-index", "email_index")
def erase_email_row(tx: Tx, subject_id: UUID) -> None:
    tx.execute("DELETE FROM email_index WHERE user_id = %s", (_param(tx, subject_id),))


def set_membership(
    tx: Tx, team_id: UUID, user_id: UUID, role: str | None, joined: bool
) -> None:
    """Mirror one member of a team; role None removes the row."""
    tx.execute(
        "DELETE FROM team_members WHERE team_id = %s AND user_id = %s",
        (_param(tx, team_id), _param(tx, user_id)),
    )
    if role is not None:
        tx.execute(
            "INSERT INTO team_members (team_id, user_id, role, joined)"
            " VALUES (%s, %s, %s, %s)",
            (_param(tx, team_id), _param(tx, user_id), role, joined),
        )


def teams_of(tx: Tx, user_id: UUID) -> list[UUID]:
    tx.execute(
        "SELECT team_id FROM team_members WHERE user_id = %s AND joined = %s"
        " ORDER BY team_id",
        (_param(tx, user_id), True),
    )
    return [UUID(str(row[0])) for row in tx.fetchall()]
