"""API bearer tokens: random secrets kept only as SHA-256 digests.

A token is 256 random bits, so a plain digest cannot be reversed by
guessing; it names no person. Erasing a user deletes the user's tokens.
"""

import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from wellbeing.persistence.database import Database, Tx
from wellbeing.persistence.erasure import register_eraser

PREFIX = "wbl_"


@dataclass(frozen=True)
class TokenRow:
    """A stored token, without its secret."""

    seq: int
    token_id: UUID
    user_id: UUID
    issued_by: UUID
    created_at: str
    revoked: bool


def _param(tx: Tx, value: UUID) -> Any:
    return str(value) if tx.dialect == "sqlite" else value


def _now(tx: Tx) -> Any:
    now = datetime.now(UTC)
    return now.isoformat(timespec="microseconds") if tx.dialect == "sqlite" else now


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8")).digest()


def issue(tx: Tx, user_id: UUID, issued_by: UUID) -> tuple[UUID, str]:
    """Store a new token's digest; returns its id and the secret, shown once."""
    token_id = uuid4()
    secret = PREFIX + secrets.token_urlsafe(32)
    tx.execute(
        "INSERT INTO api_tokens (token_id, digest, user_id, issued_by, created_at)"
        " VALUES (%s, %s, %s, %s, %s)",
        (
            _param(tx, token_id),
            digest(secret),
            _param(tx, user_id),
            _param(tx, issued_by),
            _now(tx),
        ),
    )
    return token_id, secret


class RememberedTokens:
    """Which user a live token acted for a moment ago, by the token's digest.

    Most requests then need no query to know their caller. An entry lasts
    REMEMBER_SECONDS; revoking a token or erasing a user in this process
    forgets every entry once before the change and again after its commit,
    so a token revoked in another process stops working here within that
    time. A generation counter keeps a lookup that read the token's row
    before a forget from remembering it after.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[bytes, tuple[UUID, float]] = {}
        self.generation = 0

    def get(self, token_digest: bytes) -> UUID | None:
        with self._lock:
            entry = self._entries.get(token_digest)
        if entry is None or self._clock() - entry[1] > REMEMBER_SECONDS:
            return None
        return entry[0]

    def put(self, token_digest: bytes, user_id: UUID, generation: int) -> None:
        """Remember a lookup that began at `generation`, unless a forget
        came since."""
        with self._lock:
            if generation != self.generation:
                return
            if len(self._entries) >= REMEMBER_MOST:
                self._entries.clear()
            self._entries[token_digest] = (user_id, self._clock())

    def forget_all(self) -> None:
        with self._lock:
            self.generation += 1
            self._entries.clear()


REMEMBER_SECONDS = 1.0
REMEMBER_MOST = 10_000
remembered = RememberedTokens()


def remembered_user(secret: str) -> UUID | None:
    """The user a token acted for within the last second; no query."""
    return remembered.get(digest(secret))


def user_of(database: Database, secret: str) -> UUID | None:
    """The user a live token acts for, or None for an unknown or revoked one."""
    token_digest = digest(secret)
    generation = remembered.generation
    rows = database.query(
        "SELECT user_id FROM api_tokens WHERE digest = %s AND revoked_at IS NULL",
        (token_digest,),
    )
    if not rows:
        return None
    user_id = UUID(str(rows[0][0]))
    remembered.put(token_digest, user_id, generation)
    return user_id


_COLUMNS = "seq, token_id, user_id, issued_by, created_at, revoked_at"


def _row(values: tuple[Any, ...]) -> TokenRow:
    seq, token_id, user_id, issued_by, created_at, revoked_at = values
    created = created_at if isinstance(created_at, str) else created_at.isoformat()
    return TokenRow(
        int(seq),
        UUID(str(token_id)),
        UUID(str(user_id)),
        UUID(str(issued_by)),
        created,
        revoked_at is not None,
    )


def find(tx: Tx, token_id: UUID) -> TokenRow | None:
    tx.execute(
        "SELECT " + _COLUMNS + " FROM api_tokens WHERE token_id = %s",
        (_param(tx, token_id),),
    )
    row = tx.fetchone()
    return None if row is None else _row(row)


def page(tx: Tx, user_id: UUID, after: int, limit: int) -> list[TokenRow]:
    """Tokens that act for the user or that the user issued, oldest first."""
    tx.execute(
        "SELECT " + _COLUMNS + " FROM api_tokens"
        " WHERE (user_id = %s OR issued_by = %s) AND seq > %s"
        " ORDER BY seq LIMIT %s",
        (_param(tx, user_id), _param(tx, user_id), after, limit),
    )
    return [_row(values) for values in tx.fetchall()]


def revoke(tx: Tx, token_id: UUID) -> None:
    """Revoke in tx; the caller calls remembered.forget_all() after commit."""
    remembered.forget_all()
    tx.execute(
        "UPDATE api_tokens SET revoked_at = %s"
        " WHERE token_id = %s AND revoked_at IS NULL",
        (_now(tx), _param(tx, token_id)),
    )


@register_eraser("api-tokens", "api_tokens")
def erase_tokens(tx: Tx, subject_id: UUID) -> None:
    remembered.forget_all()
    tx.execute("DELETE FROM api_tokens WHERE user_id = %s", (_param(tx, subject_id),))
