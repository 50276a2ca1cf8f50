"""Connections to the project's own tables on SQLite or PostgreSQL."""

import contextlib
import re
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool, PoolTimeout

from wellbeing.errors import WellbeingError

Dialect = Literal["sqlite", "postgres"]
Params = Sequence[Any] | None
_PLACEHOLDER = re.compile(r"%s")


class DatabaseError(WellbeingError):
    """The database failed or refused a statement."""

    code = "database"


class DatabaseBusy(DatabaseError):
    """No connection could be had in time; the caller may retry later."""

    code = "database-busy"


class UniqueViolation(DatabaseError):
    """A row with the same unique key exists already."""

    code = "conflict"


class Tx(Protocol):
    """One open transaction; SQL uses %s placeholders on both dialects."""

    dialect: Dialect

    def execute(self, sql: str, params: Params = None) -> None: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    def fetchone(self) -> tuple[Any, ...] | None: ...

    def fetchall(self) -> list[tuple[Any, ...]]: ...


class SqliteTx:
    dialect: Dialect = "sqlite"

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._cursor = connection.cursor()

    def execute(self, sql: str, params: Params = None) -> None:
        try:
            self._cursor.execute(_PLACEHOLDER.sub("?", sql), tuple(params or ()))
        except sqlite3.IntegrityError as error:
            raise UniqueViolation("a row with that key exists already") from error

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        try:
            self._cursor.executemany(_PLACEHOLDER.sub("?", sql), rows)
        except sqlite3.IntegrityError as error:
            raise UniqueViolation("a row with that key exists already") from error

    def fetchone(self) -> tuple[Any, ...] | None:
        row = self._cursor.fetchone()
        return None if row is None else tuple(row)

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._cursor.fetchall()]


class PostgresTx:
    dialect: Dialect = "postgres"

    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self._cursor = connection.cursor()

    def execute(self, sql: str, params: Params = None) -> None:
        try:
            self._cursor.execute(sql.encode(), params)
        except psycopg.errors.UniqueViolation as error:
            raise UniqueViolation("a row with that key exists already") from error

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        try:
            self._cursor.executemany(sql.encode(), rows)
        except psycopg.errors.UniqueViolation as error:
            raise UniqueViolation("a row with that key exists already") from error

    def copy_rows(
        self, statement: sql.SQL, types: Sequence[str], rows: Iterable[Any]
    ) -> None:
        """Send rows through COPY ... FROM STDIN (FORMAT BINARY).

        Raises UniqueViolation as an insert of the same rows would.
        """
        try:
            with self._cursor.copy(statement) as copy:
                copy.set_types(types)
                for row in rows:
                    copy.write_row(row)
        except psycopg.errors.UniqueViolation as error:
            raise UniqueViolation("a row with that key exists already") from error

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._cursor.fetchone()

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._cursor.fetchall()


class Database(Protocol):
    """Transactions on the project's tables, whatever the engine."""

    dialect: Dialect

    def transaction(self) -> Any: ...

    def query(self, statement: str, params: Params = None) -> list[tuple[Any, ...]]:
        """Run one read-only statement on its own and return its rows."""
        ...

    def maintenance(self, statement: str) -> None: ...

    def close(self) -> None: ...


class SqliteDatabase:
    """One SQLite file; every connection zeroes what it deletes."""

    dialect: Dialect = "sqlite"

    def __init__(self, path: Path, timeout: float = 30.0) -> None:
        self.path = path
        self._timeout = timeout
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if connection is None:
            connection = open_sqlite(self.path, self._timeout)
            self._local.conn = connection
            with self._lock:
                self._all.append(connection)
        return connection

    @contextmanager
    def transaction(self) -> Iterator[SqliteTx]:
        connection = self._connection()
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield SqliteTx(connection)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    @contextmanager
    def reading(self) -> Iterator[SqliteTx]:
        connection = self._connection()
        connection.execute("BEGIN")
        try:
            yield SqliteTx(connection)
        finally:
            connection.execute("ROLLBACK")

    def query(self, statement: str, params: Params = None) -> list[tuple[Any, ...]]:
        with self.reading() as tx:
            tx.execute(statement, params)
            return tx.fetchall()

    def maintenance(self, statement: str) -> None:
        self._connection().execute(statement).fetchall()

    def close(self) -> None:
        with self._lock:
            for connection in self._all:
                connection.close()
            self._all.clear()
        self._local = threading.local()


def open_sqlite(path: Path, timeout: float) -> sqlite3.Connection:
    """Open with WAL, secure_delete and a busy timeout, in autocommit mode."""
    connection = sqlite3.connect(
        path, timeout=timeout, isolation_level=None, check_same_thread=False
    )
    connection.execute("PRAGMA secure_delete=ON")
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA foreign_keys=ON")
    return connection


class PostgresDatabase:
    """A psycopg pool whose connections use one schema."""

    dialect: Dialect = "postgres"

    def __init__(self, url: str, schema: str, pool_size: int = 10) -> None:
        self.url = url
        self.schema = schema
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))
            )
        self.pool = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            kwargs={"options": f"-c search_path={schema}"},
            timeout=10.0,
            open=True,
            configure=_configure_postgres,
        )

    @contextmanager
    def transaction(self) -> Iterator[PostgresTx]:
        try:
            with self.pool.connection() as connection, connection.transaction():
                yield PostgresTx(connection)
        except PoolTimeout as error:
            raise DatabaseBusy("no database connection was free in time") from error

    def reading(self) -> Any:
        return self.transaction()

    def query(self, statement: str, params: Params = None) -> list[tuple[Any, ...]]:
        """Run one read-only statement in autocommit mode: one round trip,
        where a transaction around it would take three.
        """
        try:
            with self.pool.connection() as connection:
                connection.autocommit = True
                try:
                    return connection.execute(statement.encode(), params).fetchall()
                finally:
                    connection.autocommit = False
        except PoolTimeout as error:
            raise DatabaseBusy("no database connection was free in time") from error

    def commit_pipelined(
        self,
        work: Callable[[PostgresTx], None] | None,
        last: Callable[[PostgresTx], None],
    ) -> None:
        """Run `work` in a transaction, then `last`'s statements and COMMIT
        in one round trip.

        Whatever `last` locks is then held only while the server runs it and
        commits, never while this process waits for its turn to run Python
        again, which under many concurrent requests is most of the time.
        `last` may not read results. Raises UniqueViolation for a duplicate
        key in either part.
        """
        try:
            with self.pool.connection() as connection:
                tx = PostgresTx(connection)
                try:
                    if work is not None:
                        work(tx)
                    with connection.pipeline():
                        last(tx)
                        connection.commit()
                except psycopg.errors.UniqueViolation as error:
                    _roll_back(connection)
                    raise UniqueViolation(
                        "a row with that key exists already"
                    ) from error
                except BaseException:
                    _roll_back(connection)
                    raise
        except PoolTimeout as error:
            raise DatabaseBusy("no database connection was free in time") from error

    def maintenance(self, statement: str) -> None:
        """Run a statement outside a transaction, as VACUUM must be."""
        try:
            with self.pool.connection() as connection:
                connection.autocommit = True
                try:
                    connection.execute(statement.encode())
                finally:
                    connection.autocommit = False
        except PoolTimeout as error:
            raise DatabaseBusy("no database connection was free in time") from error

    def close(self) -> None:
        self.pool.close()


def _roll_back(connection: psycopg.Connection[Any]) -> None:
    # A connection that broke mid-write cannot roll back; the pool discards
    # it, and the error that broke it is the one to report.
    with contextlib.suppress(psycopg.Error):
        connection.rollback()


def _configure_postgres(connection: psycopg.Connection[Any]) -> None:
    connection.execute("SET idle_in_transaction_session_timeout = '30s'")
    # A writer waits this long at most for the events table's lock: set once
    # per connection rather than in every write, which is one statement less
    # for each command.
    connection.execute("SET lock_timeout = '30s'")
    connection.commit()


def postgres_parts(url: str) -> dict[str, str]:
    """Split a postgresql:// URL into the parts the event store library reads."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    return {
        "dbname": unquote(parts.path.lstrip("/")) or "postgres",
        "host": parts.hostname or "127.0.0.1",
        "port": str(parts.port or 5432),
        "user": unquote(parts.username or "postgres"),
        "password": unquote(parts.password or ""),
        "schema": query.get("schema", ["public"])[0],
    }
