"""Opens the stores a process needs from its settings, and closes them."""

import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.application import Application

import wellbeing.aggregates  # noqa: F401  (explicit topics must be registered)
import wellbeing.persistence.stores  # noqa: F401  (erasers must be registered)
from wellbeing.crypto import Kek, KekNotConfigured, KeyRing
from wellbeing.errors import ConfigurationError
from wellbeing.persistence.database import (
    Database,
    PostgresDatabase,
    SqliteDatabase,
    postgres_parts,
)
from wellbeing.persistence.event_store import EventReader, EventWriter
from wellbeing.persistence.keys import SubjectKeys
from wellbeing.persistence.mapper import SealingMapper
from wellbeing.persistence.migrations import upgrade
from wellbeing.settings import Settings

logger = logging.getLogger(__name__)


class Ledger(Application[UUID]):
    """The event-sourced application; writes go through EventWriter."""

    name = "wellbeing"

    def __init__(self, env: dict[str, str], keys: SubjectKeys) -> None:
        self._keys = keys
        super().__init__(env)

    def construct_mapper(self) -> SealingMapper:
        return SealingMapper(self._keys)


@dataclass
class Runtime:
    """Everything a command needs: settings, database, keys, events."""

    settings: Settings
    database: Database
    keys: SubjectKeys
    ledger: Ledger
    writer: EventWriter
    reader: EventReader

    @property
    def mapper(self) -> SealingMapper:
        mapper = self.ledger.mapper
        assert isinstance(mapper, SealingMapper)
        return mapper

    def close(self) -> None:
        self.ledger.close()
        self.database.close()


def open_runtime(settings: Settings, *, need_kek: bool = True) -> Runtime:
    """Open the store named by the settings and apply pending migrations.

    need_kek=False opens a process that reads sealed fields as markers.
    Raises ConfigurationError when PostgreSQL is used without a KEK.
    """
    database, env = _open_database(settings)
    try:
        upgrade(database)
        keyring = load_keyring(settings, required=need_kek)
        keys = SubjectKeys(database, keyring)
        ledger = Ledger(env, keys)
    except BaseException:
        database.close()
        raise
    return Runtime(
        settings,
        database,
        keys,
        ledger,
        EventWriter(database, ledger.mapper),
        EventReader(database, ledger.mapper),
    )


def _open_database(settings: Settings) -> tuple[Database, dict[str, str]]:
    if settings.is_sqlite:
        path = settings.sqlite_path
        path.parent.mkdir(parents=True, exist_ok=True)
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(path),
            "SQLITE_LOCK_TIMEOUT": "30",
        }
        return SqliteDatabase(path), env
    parts = postgres_parts(settings.database_url)
    conninfo = _conninfo(parts)
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": parts["dbname"],
        "POSTGRES_HOST": parts["host"],
        "POSTGRES_PORT": parts["port"],
        "POSTGRES_USER": parts["user"],
        "POSTGRES_PASSWORD": parts["password"],
        "POSTGRES_SCHEMA": parts["schema"],
        "POSTGRES_POOL_SIZE": str(settings.pool_size),
        "POSTGRES_MAX_OVERFLOW": "0",
    }
    database = PostgresDatabase(conninfo, parts["schema"], settings.pool_size)
    return database, env


def _conninfo(parts: dict[str, str]) -> str:
    items: dict[str, Any] = {
        "dbname": parts["dbname"],
        "host": parts["host"],
        "port": parts["port"],
        "user": parts["user"],
    }
    if parts["password"]:
        items["password"] = parts["password"]
    return " ".join(f"{k}={_quote(str(v))}" for k, v in items.items())


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def load_keyring(settings: Settings, *, required: bool) -> KeyRing | None:
    """The configured KEKs; on SQLite one is made in the data folder if none.

    Raises ConfigurationError for an unreadable KEK, and KekNotConfigured on
    PostgreSQL when required and none is set.
    """
    text = settings.kek
    if text is None and settings.kek_file is not None:
        text = _read_kek_file(settings.kek_file)
    if text is None and settings.is_sqlite:
        text = _embedded_kek(settings.data_dir, create=required)
    if text is None:
        if required:
            raise KekNotConfigured(
                "WELLBEING_KEK or WELLBEING_KEK_FILE must be set for PostgreSQL"
            )
        return None
    try:
        current = Kek.from_text(text)
        previous = tuple(Kek.from_text(t) for t in settings.kek_previous)
    except ValueError as error:
        raise ConfigurationError(
            f"WELLBEING_KEK or WELLBEING_KEK_PREVIOUS is unreadable: {error}"
        ) from None
    return KeyRing(current, previous)


def _read_kek_file(path: Path) -> str:
    try:
        return path.read_text("ascii").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigurationError(
            f"WELLBEING_KEK_FILE cannot be read: {type(error).__name__}"
        ) from None


def _embedded_kek(data_dir: Path, *, create: bool) -> str | None:
    path = data_dir / "kek"
    if path.exists():
        return _read_kek_file(path)
    if not create:
        return None
    data_dir.mkdir(parents=True, exist_ok=True)
    text = Kek.generate().to_text()
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # Another process made it a moment ago.
        return _read_kek_file(path)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(text + "\n")
    print(
        f"wellbeing: generated a key-encryption key at {path}; back it up,"
        " without it no personal data can be read",
        file=sys.stderr,
    )
    return text
