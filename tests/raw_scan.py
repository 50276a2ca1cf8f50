"""Reading every byte a store keeps, to prove what is and is not there."""

from pathlib import Path

import psycopg
from psycopg import sql

from wellbeing.persistence.runtime import Runtime


def raw_bytes(runtime: Runtime) -> bytes:
    """Every byte of the SQLite file and its WAL, or every PostgreSQL row."""
    if runtime.database.dialect == "sqlite":
        path = runtime.settings.sqlite_path
        parts = [path, Path(f"{path}-wal")]
        return b"".join(p.read_bytes() for p in parts if p.exists())
    return _postgres_rows(runtime)


def _postgres_rows(runtime: Runtime) -> bytes:
    schema = runtime.database.schema  # type: ignore[attr-defined]
    url = runtime.database.url  # type: ignore[attr-defined]
    chunks: list[bytes] = []
    with psycopg.connect(url) as connection:
        tables = connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (schema,),
        ).fetchall()
        for (table,) in tables:
            query = sql.SQL("SELECT t::text FROM {}.{} t").format(
                sql.Identifier(schema), sql.Identifier(table)
            )
            chunks.extend(text.encode() for (text,) in connection.execute(query))
    return b"\n".join(chunks)


def found(haystack: bytes, needles: list[bytes]) -> list[bytes]:
    """Needles present as bytes, or as the hex PostgreSQL prints bytea in."""
    return [n for n in needles if n in haystack or n.hex().encode() in haystack.lower()]
