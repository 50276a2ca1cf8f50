"""The subject-key table: one wrapped data key per person, and tombstones."""

import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from wellbeing.aggregates.personal import ERASED, SEALED, Redacted
from wellbeing.crypto import (
    KekNotConfigured,
    KeyMissing,
    KeyRing,
    new_data_key,
)
from wellbeing.errors import WellbeingError
from wellbeing.persistence.bulk import array_literal
from wellbeing.persistence.database import Database, Tx

# How often a process looks for erasures made by other processes; a key
# erased elsewhere stops opening here within this many seconds.
TOMBSTONE_POLL_SECONDS = 0.5
# The tombstone check in the same statement keeps a racing erasure from
# being undone by a key created a moment later.
_INSERT_KEY = (
    "INSERT INTO subject_keys (subject_id, kind, kek_id, wrapped, created_at)"
    " SELECT %s, %s, %s, %s, %s WHERE NOT EXISTS"
    " (SELECT 1 FROM erased_subjects WHERE subject_id = %s)"
    " ON CONFLICT (subject_id) DO NOTHING"
)


class SubjectErased(WellbeingError):
    """New personal data was offered for a person who has been erased."""

    code = "subject-erased"


class SubjectKeys:
    """Creates, caches, opens and destroys subject keys.

    A cached key is dropped the moment this process erases it, and within
    TOMBSTONE_POLL_SECONDS of another process erasing it. A generation counter
    stops a read that fetched a key just before an erasure from putting the
    key back in the cache.
    """

    def __init__(self, database: Database, keyring: KeyRing | None) -> None:
        self.database = database
        self.keyring = keyring
        self._cache: dict[UUID, bytes] = {}
        self._lock = threading.Lock()
        self._generation = 0
        self._seen_tombstone = 0
        self._checked_at = 0.0

    def _uuid(self, value: Any) -> UUID:
        return value if isinstance(value, UUID) else UUID(str(value))

    def _param(self, subject_id: UUID) -> Any:
        return str(subject_id) if self.database.dialect == "sqlite" else subject_id

    def require_keyring(self) -> KeyRing:
        if self.keyring is None:
            raise KekNotConfigured("no KEK is configured (set WELLBEING_KEK)")
        return self.keyring

    def for_writing(self, subject_id: UUID, kind: str) -> bytes:
        """The subject's key, created on first use exactly once.

        Raises SubjectErased if the subject has a tombstone.
        """
        self._poll_tombstones()
        cached = self._cache.get(subject_id)
        if cached is not None:
            return cached
        keyring = self.require_keyring()
        generation = self._generation
        with self.database.transaction() as tx:
            found = self._fetch(tx, subject_id)
            if found is None:
                self._insert(tx, subject_id, kind, keyring)
                found = self._fetch(tx, subject_id)
        if found is None or isinstance(found, Redacted):
            raise SubjectErased("the person has been erased")
        self._remember(subject_id, found, generation)
        return found

    def ensure(self, subjects: dict[UUID, str]) -> None:
        """Create and cache keys for many subjects in one transaction.

        A subject with a tombstone gets no key; writing for it then raises
        SubjectErased in for_writing.
        """
        self._poll_tombstones()
        wanted = [s for s in subjects if s not in self._cache]
        if not wanted:
            return
        keyring = self.require_keyring()
        generation = self._generation
        with self.database.transaction() as tx:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                # Most subjects here are new, so a key is offered for each
                # at once; only those that had one already are read back.
                found = self._create_many(tx, chunk, subjects, keyring)
                rest = [s for s in chunk if s not in found]
                if rest:
                    found.update(self._fetch_many(tx, rest, keyring))
                for subject_id, key in found.items():
                    self._remember(subject_id, key, generation)

    def _fetch_many(
        self, tx: Tx, chunk: list[UUID], keyring: KeyRing
    ) -> dict[UUID, bytes]:
        marks = ",".join(["%s"] * len(chunk))
        tx.execute(
            "SELECT subject_id, kek_id, wrapped FROM subject_keys"
            " WHERE subject_id IN (" + marks + ")",
            [self._param(s) for s in chunk],
        )
        return {
            self._uuid(subject): keyring.find(kek_id).unwrap(
                self._uuid(subject), bytes(wrapped)
            )
            for subject, kek_id, wrapped in tx.fetchall()
        }

    def _create_many(
        self, tx: Tx, chunk: list[UUID], kinds: dict[UUID, str], keyring: KeyRing
    ) -> dict[UUID, bytes]:
        """Offer a fresh key for each subject; returns the keys stored.

        A subject that has a key already, or a tombstone, keeps what it has
        and is left out of the answer.
        """
        kek = keyring.current
        fresh = {subject_id: new_data_key() for subject_id in chunk}
        wrapped = [kek.wrap(s, key) for s, key in fresh.items()]
        if tx.dialect == "postgres":
            stored = self._insert_returning(tx, chunk, kinds, kek.id, wrapped)
        else:
            stored = self._insert_each(tx, chunk, kinds, kek.id, wrapped)
        return {subject_id: fresh[subject_id] for subject_id in stored}

    def _insert_returning(
        self,
        tx: Tx,
        chunk: list[UUID],
        kinds: dict[UUID, str],
        kek_id: str,
        wrapped: list[bytes],
    ) -> list[UUID]:
        # One statement for the whole chunk: measured here, a pipeline of
        # single inserts and the reads around it took most of the key time
        # of an import.
        tx.execute(
            "INSERT INTO subject_keys (subject_id, kind, kek_id, wrapped,"
            " created_at) SELECT n.s, n.k, %s, n.w, %s FROM"
            " unnest(%s::uuid[], %s::text[], %s::bytea[]) AS n(s, k, w)"
            " WHERE NOT EXISTS (SELECT 1 FROM erased_subjects e"
            " WHERE e.subject_id = n.s)"
            " ON CONFLICT (subject_id) DO NOTHING RETURNING subject_id",
            (
                kek_id,
                self._now(),
                array_literal("uuid", chunk),
                array_literal("text", [kinds[s] for s in chunk]),
                array_literal("bytea", wrapped),
            ),
        )
        return [self._uuid(row[0]) for row in tx.fetchall()]

    def _insert_each(
        self,
        tx: Tx,
        chunk: list[UUID],
        kinds: dict[UUID, str],
        kek_id: str,
        wrapped: list[bytes],
    ) -> list[UUID]:
        stored = []
        now = self._now()
        for subject_id, sealed_key in zip(chunk, wrapped, strict=True):
            tx.execute(
                _INSERT_KEY + " RETURNING subject_id",
                (
                    self._param(subject_id),
                    kinds[subject_id],
                    kek_id,
                    sealed_key,
                    now,
                    self._param(subject_id),
                ),
            )
            if tx.fetchone() is not None:
                stored.append(subject_id)
        return stored

    def for_reading(self, subject_id: UUID) -> bytes | Redacted:
        """The subject's key, ERASED after erasure, SEALED without a KEK.

        Raises KeyMissing when there is neither a key nor a tombstone, and
        WrongKek when the key does not open under the configured KEKs.
        """
        self._poll_tombstones()
        cached = self._cache.get(subject_id)
        if cached is not None:
            return cached
        generation = self._generation
        found = self._look_up(subject_id)
        if found is None:
            raise KeyMissing("a subject has no key and no erasure record")
        if isinstance(found, bytes):
            self._remember(subject_id, found, generation)
        return found

    def prefetch(self, subject_ids: Iterable[UUID]) -> None:
        """Load many keys in one query, for reads over many people."""
        wanted = [s for s in subject_ids if s not in self._cache]
        if not wanted or self.keyring is None:
            return
        generation = self._generation
        with self.database.transaction() as tx:
            for start in range(0, len(wanted), 500):
                chunk = [self._param(s) for s in wanted[start : start + 500]]
                marks = ",".join(["%s"] * len(chunk))
                tx.execute(
                    "SELECT subject_id, kek_id, wrapped FROM subject_keys"
                    " WHERE subject_id IN (" + marks + ")",
                    chunk,
                )
                for subject, kek_id, wrapped in tx.fetchall():
                    subject_id = self._uuid(subject)
                    key = self.keyring.find(kek_id).unwrap(subject_id, bytes(wrapped))
                    self._remember(subject_id, key, generation)

    def _look_up(self, subject_id: UUID) -> bytes | Redacted | None:
        """As _fetch, in one statement outside a transaction: a request that
        opens a person's fields for the first time waits for one round trip.
        """
        rows = self.database.query(
            "SELECT k.kek_id, k.wrapped, e.subject_id FROM (SELECT %s AS id) AS s"
            " LEFT JOIN subject_keys k ON k.subject_id = s.id"
            " LEFT JOIN erased_subjects e ON e.subject_id = s.id",
            (self._param(subject_id),),
        )
        kek_id, wrapped, erased = rows[0]
        if wrapped is not None:
            if self.keyring is None:
                return SEALED
            return self.keyring.find(kek_id).unwrap(subject_id, bytes(wrapped))
        return ERASED if erased is not None else None

    def _fetch(self, tx: Tx, subject_id: UUID) -> bytes | Redacted | None:
        tx.execute(
            "SELECT kek_id, wrapped FROM subject_keys WHERE subject_id = %s",
            (self._param(subject_id),),
        )
        row = tx.fetchone()
        if row is not None:
            if self.keyring is None:
                return SEALED
            return self.keyring.find(row[0]).unwrap(subject_id, bytes(row[1]))
        tx.execute(
            "SELECT 1 FROM erased_subjects WHERE subject_id = %s",
            (self._param(subject_id),),
        )
        return ERASED if tx.fetchone() is not None else None

    def _insert(self, tx: Tx, subject_id: UUID, kind: str, keyring: KeyRing) -> None:
        wrapped = keyring.current.wrap(subject_id, new_data_key())
        tx.execute(
            _INSERT_KEY,
            (
                self._param(subject_id),
                kind,
                keyring.current.id,
                wrapped,
                self._now(),
                self._param(subject_id),
            ),
        )

    def _now(self) -> Any:
        now = datetime.now(UTC)
        return now.isoformat() if self.database.dialect == "sqlite" else now

    def _remember(self, subject_id: UUID, key: bytes, generation: int) -> None:
        with self._lock:
            if generation == self._generation:
                self._cache[subject_id] = key

    def evict(self, subject_id: UUID) -> None:
        with self._lock:
            self._generation += 1
            self._cache.pop(subject_id, None)

    def _poll_tombstones(self) -> None:
        now = time.monotonic()
        if now - self._checked_at < TOMBSTONE_POLL_SECONDS:
            return
        self._checked_at = now
        rows = self.database.query(
            "SELECT seq, subject_id FROM erased_subjects WHERE seq > %s ORDER BY seq",
            (self._seen_tombstone,),
        )
        for seq, subject in rows:
            self.evict(self._uuid(subject))
            self._seen_tombstone = max(self._seen_tombstone, int(seq))

    def destroy(self, tx: Tx, subject_id: UUID, kind: str) -> bool:
        """Write the tombstone and delete the wrapped key, in tx.

        Returns False when the subject was erased already. The caller
        evicts after commit and clears freed bytes.
        """
        tx.execute(
            "SELECT 1 FROM erased_subjects WHERE subject_id = %s",
            (self._param(subject_id),),
        )
        if tx.fetchone() is not None:
            return False
        tx.execute(
            "INSERT INTO erased_subjects (subject_id, kind, erased_at)"
            " VALUES (%s, %s, %s)",
            (self._param(subject_id), kind, self._now()),
        )
        tx.execute(
            "DELETE FROM subject_keys WHERE subject_id = %s",
            (self._param(subject_id),),
        )
        return True

    def is_erased(self, subject_id: UUID) -> bool:
        with self.database.transaction() as tx:
            tx.execute(
                "SELECT 1 FROM erased_subjects WHERE subject_id = %s",
                (self._param(subject_id),),
            )
            return tx.fetchone() is not None
