"""`wellbeing demo` runs against PostgreSQL as well as the embedded store."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from conftest import postgres_url
from psycopg import sql

from wellbeing.crypto import Kek


@pytest.mark.usefixtures("postgres_available")
def test_demo_runs_on_postgresql_and_writes_both_exports(tmp_path: Path) -> None:
    schema = "demo_" + uuid.uuid4().hex[:12]
    env = {
        **os.environ,
        "WELLBEING_DATA_DIR": str(tmp_path),
        "WELLBEING_DATABASE_URL": f"{postgres_url()}?schema={schema}",
        "WELLBEING_KEK": Kek.generate().to_text(),
    }
    try:
        done = _demo(env, tmp_path)
        again = _demo(env, tmp_path)
    finally:
        with psycopg.connect(postgres_url(), autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    sql.Identifier(schema)
                )
            )

    assert done.returncode == 0, done.stderr
    assert "store: PostgreSQL" in done.stdout
    exports = tmp_path / "demo" / "exports"
    kernow = (exports / "headstart-kernow.csv").read_text("utf-8-sig")
    assert len(kernow.splitlines()) > 1
    assert (exports / "headstart-hq-statistics.csv").exists()
    assert f"WELLBEING_DATABASE_URL='{postgres_url()}?schema={schema}'" in done.stdout
    assert env["WELLBEING_KEK"] not in done.stdout
    assert again.returncode != 0
    assert "needs an empty store" in again.stderr


def _demo(env: dict[str, str], folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wellbeing.cli.main", "demo"],
        env=env,
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
