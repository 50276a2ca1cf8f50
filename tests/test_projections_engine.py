"""The projection engine: batches, tracked positions, exactly once."""

import threading
from collections.abc import Sequence
from datetime import date
from typing import Any

import pytest
from test_projections_world import (
    add_history,
    contents,
    count,
    head,
    new_pupil,
    new_team,
    tracked,
)

from wellbeing.commands.actor import Actor
from wellbeing.persistence.database import Tx
from wellbeing.persistence.runtime import Runtime
from wellbeing.projections.engine import (
    ProjectionError,
    catch_up,
    create_tables,
    ensure_tables,
    forget_tables,
    start_tracking,
)
from wellbeing.projections.log import Notification
from wellbeing.projections.registry import all_projections
from wellbeing.projections.usage import UsageProjection


class Failing:
    """The usage projection, failing on one batch of its choosing."""

    def __init__(self, fail_on_batch: int) -> None:
        inner = UsageProjection()
        self.inner = inner
        self.name = inner.name
        self.version = inner.version
        self.topics = inner.topics
        self.tables = inner.tables
        self.batches = 0
        self.fail_on_batch = fail_on_batch

    def apply(
        self, tx: Tx, names: dict[str, str], batch: Sequence[Notification]
    ) -> None:
        self.batches += 1
        self.inner.apply(tx, names, batch)
        if self.batches == self.fail_on_batch:
            raise RuntimeError("batch failed after applying its changes")


def test_catch_up_applies_every_event_once_across_batches(
    runtime: Runtime, actor: Actor
) -> None:
    team_id = new_team(runtime, actor)
    history = add_history(runtime, actor, team_id, pupils=30, snapshots_each=2)

    read = catch_up(runtime, UsageProjection(), batch_size=7)

    assert read == history.events + 1
    assert count(runtime, "usage_participants") == history.participants
    assert count(runtime, "usage_snapshots") == history.snapshots
    assert tracked(runtime, "usage") == head(runtime)


def test_catch_up_when_current_reads_nothing(runtime: Runtime, actor: Actor) -> None:
    new_team(runtime, actor)
    catch_up(runtime, UsageProjection())

    assert catch_up(runtime, UsageProjection()) == 0


def test_failed_batch_leaves_view_and_position_as_they_were(
    runtime: Runtime, actor: Actor
) -> None:
    team_id = new_team(runtime, actor)
    history = add_history(runtime, actor, team_id, pupils=10, snapshots_each=1)
    failing = Failing(fail_on_batch=2)

    with pytest.raises(RuntimeError):
        catch_up(runtime, failing, batch_size=10)

    assert tracked(runtime, "usage") == 10
    catch_up(runtime, UsageProjection(), batch_size=10)
    assert count(runtime, "usage_participants") == history.participants
    assert count(runtime, "usage_snapshots") == history.snapshots


def test_catch_up_of_an_unknown_tracking_name_is_refused(runtime: Runtime) -> None:
    with pytest.raises(ProjectionError):
        catch_up(runtime, UsageProjection(), tracking_name="usage#nowhere")


def test_concurrent_catch_ups_apply_each_batch_once(
    runtime: Runtime, actor: Actor
) -> None:
    team_id = new_team(runtime, actor)
    history = add_history(runtime, actor, team_id, pupils=40, snapshots_each=2)
    ensure_tables(runtime, UsageProjection())
    errors: list[BaseException] = []

    def run() -> None:
        try:
            catch_up(runtime, UsageProjection(), batch_size=5)
        except BaseException as error:  # noqa: BLE001 (reported by the test)
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert count(runtime, "usage_participants") == history.participants
    assert count(runtime, "usage_snapshots") == history.snapshots


def test_tables_of_another_version_are_built_again(
    runtime: Runtime, actor: Actor, caplog: pytest.LogCaptureFixture
) -> None:
    team_id = new_team(runtime, actor)
    new_pupil(runtime, actor, team_id, 1)
    catch_up(runtime, UsageProjection())
    newer = UsageProjection()
    newer.version = UsageProjection.version + 1
    forget_tables(runtime)

    catch_up(runtime, newer)

    assert "projection reset name=usage" in caplog.text
    assert count(runtime, "usage_participants") == 1
    assert count(runtime, "usage_teams") == 1


def test_events_decode_without_touching_subject_keys(
    runtime: Runtime, actor: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    team_id = new_team(runtime, actor)
    new_pupil(runtime, actor, team_id, 1, upn=None)

    def refuse(*_: Any, **__: Any) -> Any:
        raise AssertionError("a projection asked for a subject key")

    for method in ("for_reading", "for_writing", "prefetch", "ensure"):
        monkeypatch.setattr(runtime.keys, method, refuse, raising=False)
    monkeypatch.setattr(runtime.keys, "_fetch", refuse)

    read = {name: catch_up(runtime, p) for name, p in all_projections().items()}

    assert set(read.values()) == {2}


def test_copy_under_another_name_matches_the_live_view(
    runtime: Runtime, actor: Actor
) -> None:
    team_id = new_team(
        runtime, actor, agreements=[("headstart-kernow", date(2024, 9, 1), None)]
    )
    add_history(runtime, actor, team_id, pupils=5, snapshots_each=2)
    projection = UsageProjection()
    catch_up(runtime, projection)
    copy = {t.name: t.name + "_copy" for t in projection.tables}
    with runtime.database.transaction() as tx:
        create_tables(tx, projection, copy)
        start_tracking(tx, "usage#copy")

    catch_up(runtime, projection, tracking_name="usage#copy", names=copy, batch_size=3)

    assert contents(runtime, projection, "_copy") == contents(runtime, projection)
