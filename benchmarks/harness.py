"""Shared helpers for the benchmark scripts: stores, machine, printing."""

import os
import platform
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

from wellbeing.crypto import Kek
from wellbeing.persistence.runtime import Runtime, open_runtime
from wellbeing.settings import Settings

DEFAULT_POSTGRES = "postgresql://root@127.0.0.1:5432/test"


def machine() -> str:
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}"


@contextmanager
def fresh_store(kind: str, postgres_url: str) -> Iterator[Runtime]:
    """A throw-away store: a temporary SQLite file or a PostgreSQL schema."""
    folder = Path(tempfile.mkdtemp(prefix="wellbeing-bench-"))
    schema = "bench_" + uuid.uuid4().hex[:12]
    if kind == "sqlite":
        url = f"sqlite:///{folder / 'bench.sqlite3'}"
    else:
        url = f"{postgres_url}?schema={schema}"
    settings = Settings(database_url=url, data_dir=folder, kek=Kek.generate().to_text())
    runtime = open_runtime(settings)
    try:
        yield runtime
    finally:
        runtime.close()
        shutil.rmtree(folder, ignore_errors=True)
        if kind == "postgres":
            with psycopg.connect(postgres_url, autocommit=True) as connection:
                connection.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                        sql.Identifier(schema)
                    )
                )


def line(label: str, value: float, unit: str, note: str = "", digits: int = 1) -> None:
    print(f"  {label:<44} {value:>12,.{digits}f} {unit:<10} {note}".rstrip())
