"""Rebuilding a view aside while writes go on gives the incremental result."""

import threading
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import StoreFactory
from test_projections_world import (
    add_history,
    contents,
    count,
    head,
    new_pupil,
    new_team,
    rich_history,
    tracked,
)

from wellbeing.commands.actor import Actor
from wellbeing.commands.audit import verify
from wellbeing.crypto import Kek
from wellbeing.persistence.database import Tx
from wellbeing.persistence.runtime import Runtime, open_runtime
from wellbeing.projections.engine import (
    Projection,
    ProjectionError,
    catch_up,
    create_tables,
    start_tracking,
)
from wellbeing.projections.log import Notification
from wellbeing.projections.rebuild import rebuild
from wellbeing.projections.registry import all_projections
from wellbeing.projections.usage import UsageProjection
from wellbeing.projections.usage_report import usage_report

NAMES = sorted(all_projections())


def incremental_copy(runtime: Runtime, projection: Projection) -> str:
    """Tables beside the live ones, kept by catch-ups under their own name."""
    copy = {t.name: t.name + "_inc" for t in projection.tables}
    with runtime.database.transaction() as tx:
        create_tables(tx, projection, copy)
        start_tracking(tx, projection.name + "#inc")
    return "_inc"


def keep_copy(runtime: Runtime, projection: Projection) -> None:
    copy = {t.name: t.name + "_inc" for t in projection.tables}
    catch_up(runtime, projection, tracking_name=projection.name + "#inc", names=copy)


@pytest.mark.parametrize("name", NAMES)
def test_rebuild_equals_incremental_maintenance(
    runtime: Runtime, actor: Actor, name: str
) -> None:
    projection = all_projections()[name]
    suffix = incremental_copy(runtime, projection)
    catch_up(runtime, projection)
    for _ in range(2):
        rich_history(runtime, actor)
        keep_copy(runtime, projection)

    reached = rebuild(runtime, projection)

    assert reached == head(runtime)
    assert contents(runtime, projection) == contents(runtime, projection, suffix)


class WritingDuringRebuild:
    """A projection that, on the rebuild's first batch, has another thread
    write a pupil; on PostgreSQL the batch waits until the write commits."""

    def __init__(self, runtime: Runtime, actor: Actor, team_id: Any) -> None:
        inner = UsageProjection()
        self.inner = inner
        self.name, self.version = inner.name, inner.version
        self.topics, self.tables = inner.topics, inner.tables
        self.writer: threading.Thread | None = None
        self.runtime, self.actor, self.team_id = runtime, actor, team_id

    def apply(
        self, tx: Tx, names: dict[str, str], batch: Sequence[Notification]
    ) -> None:
        self.inner.apply(tx, names, batch)
        if self.writer is None and names["usage_teams"].endswith("_next"):
            self.writer = threading.Thread(target=self._write)
            self.writer.start()
            if tx.dialect == "postgres":
                self.writer.join()

    def _write(self) -> None:
        add_history(self.runtime, self.actor, self.team_id, pupils=5, snapshots_each=1)


def test_rebuild_with_writes_during_it_equals_incremental_maintenance(
    runtime: Runtime, actor: Actor
) -> None:
    team_id = new_team(runtime, actor)
    add_history(runtime, actor, team_id, pupils=20, snapshots_each=2)
    plain = UsageProjection()
    suffix = incremental_copy(runtime, plain)
    catch_up(runtime, plain)
    writing = WritingDuringRebuild(runtime, actor, team_id)

    rebuild(runtime, writing)  # type: ignore[arg-type]
    assert writing.writer is not None
    writing.writer.join()
    catch_up(runtime, plain)
    keep_copy(runtime, plain)

    assert count(runtime, "usage_participants") == 25
    assert contents(runtime, plain) == contents(runtime, plain, suffix)


def test_live_view_keeps_up_after_a_rebuild(runtime: Runtime, actor: Actor) -> None:
    projection = UsageProjection()
    team_id = new_team(runtime, actor)
    new_pupil(runtime, actor, team_id, 1)
    rebuild(runtime, projection)

    new_pupil(runtime, actor, team_id, 2)
    catch_up(runtime, projection)

    assert count(runtime, "usage_participants") == 2
    assert tracked(runtime, "usage") == head(runtime)


@pytest.mark.parametrize("name", NAMES)
def test_second_rebuild_succeeds(runtime: Runtime, actor: Actor, name: str) -> None:
    projection = all_projections()[name]
    rich_history(runtime, actor)
    rebuild(runtime, projection)
    before = contents(runtime, projection)

    rebuild(runtime, projection)

    assert contents(runtime, projection) == before


def test_rebuild_leaves_no_tables_or_positions_behind(
    runtime: Runtime, actor: Actor
) -> None:
    new_team(runtime, actor)

    rebuild(runtime, UsageProjection())

    assert tracked(runtime, "usage#rebuild") is None
    with runtime.database.transaction() as tx:
        if tx.dialect == "sqlite":
            tx.execute("SELECT name FROM sqlite_master WHERE name LIKE '%next%'")
        else:
            tx.execute(
                "SELECT relname FROM pg_class c JOIN pg_namespace n"
                " ON n.oid = c.relnamespace WHERE nspname = current_schema()"
                " AND relname LIKE '%next%'"
            )
        assert tx.fetchall() == []


def test_second_rebuild_at_once_is_refused_on_postgres(
    postgres_available: None, tmp_path: Path, kek: Kek, actor: Actor
) -> None:
    factory = StoreFactory("postgres", tmp_path, kek)
    runtime = open_runtime(factory.settings())
    new_team(runtime, actor)
    outcome: list[BaseException] = []

    class Nested(UsageProjection):
        def apply(
            self, tx: Tx, names: dict[str, str], batch: Sequence[Notification]
        ) -> None:
            super().apply(tx, names, batch)
            if not outcome:
                try:
                    rebuild(runtime, UsageProjection())
                except ProjectionError as error:
                    outcome.append(error)

    try:
        rebuild(runtime, Nested())
    finally:
        runtime.close()
        factory.drop()

    assert len(outcome) == 1
    assert "under way" in str(outcome[0])


def test_periods_survive_a_rebuild(runtime: Runtime, actor: Actor) -> None:
    team_id = new_team(runtime, actor)
    add_history(runtime, actor, team_id, 3, 1, taken_on=date(2024, 8, 31))
    before = usage_report(runtime)

    rebuild(runtime, UsageProjection())

    assert usage_report(runtime) == before


def test_audit_verify_finds_every_view_equal_to_a_rebuild(
    runtime: Runtime, actor: Actor
) -> None:
    rich_history(runtime, actor)

    views = verify(runtime, actor)["views"]

    assert set(views) == set(NAMES)
    assert all(outcome["equal"] for outcome in views.values())
