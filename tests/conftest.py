"""Shared fixtures: every behaviour test runs on SQLite and on PostgreSQL."""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from wellbeing.commands.actor import Actor, operator
from wellbeing.crypto import Kek
from wellbeing.persistence.runtime import Runtime, open_runtime
from wellbeing.settings import Settings

DEFAULT_POSTGRES = "postgresql://root@127.0.0.1:5432/test"
STORES = ("sqlite", "postgres")


def postgres_url() -> str:
    return os.environ.get("WELLBEING_TEST_DATABASE_URL", DEFAULT_POSTGRES)


def _postgres_reachable() -> str | None:
    try:
        with psycopg.connect(postgres_url(), connect_timeout=3):
            return None
    except psycopg.OperationalError as error:
        return type(error).__name__


@pytest.fixture(scope="session")
def postgres_available() -> None:
    problem = _postgres_reachable()
    if problem is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL is unreachable in CI: {problem}")
    pytest.skip(f"PostgreSQL is unreachable: {problem}")


@pytest.fixture
def kek() -> Kek:
    return Kek.generate()


class StoreFactory:
    """Makes settings for a fresh, isolated store of one kind."""

    def __init__(self, kind: str, tmp_path: Path, kek: Kek) -> None:
        self.kind = kind
        self.tmp_path = tmp_path
        self.kek = kek
        self.schemas: list[str] = []

    def settings(
        self, kek: Kek | None = None, *, without_kek: bool = False, **overrides: object
    ) -> Settings:
        data_dir = self.tmp_path / "data"
        if self.kind == "sqlite":
            url = f"sqlite:///{data_dir / 'test.sqlite3'}"
        else:
            if not self.schemas:
                self.schemas.append("t_" + uuid.uuid4().hex[:16])
            url = f"{postgres_url()}?schema={self.schemas[0]}"
        values: dict[str, object] = {
            "database_url": url,
            "data_dir": data_dir,
            "kek": None if without_kek else (kek or self.kek).to_text(),
        }
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]

    def drop(self) -> None:
        for schema in self.schemas:
            with psycopg.connect(postgres_url(), autocommit=True) as connection:
                connection.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                        sql.Identifier(schema)
                    )
                )


@pytest.fixture(params=STORES)
def stores(
    request: pytest.FixtureRequest, tmp_path: Path, kek: Kek
) -> Iterator[StoreFactory]:
    if request.param == "postgres":
        request.getfixturevalue("postgres_available")
    factory = StoreFactory(request.param, tmp_path, kek)
    yield factory
    factory.drop()


@pytest.fixture
def runtime(stores: StoreFactory) -> Iterator[Runtime]:
    opened = open_runtime(stores.settings())
    yield opened
    opened.close()


@pytest.fixture
def actor() -> Actor:
    return operator()


@pytest.fixture
def dfe_data() -> Path:
    folder = os.environ.get("WELLBEING_DFE_DATA")
    if not folder:
        pytest.skip("WELLBEING_DFE_DATA is not set")
    return Path(folder)
