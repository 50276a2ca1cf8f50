"""An event whose transaction commits after later ones is never skipped.

Only PostgreSQL lets two writers run at once; SQLite takes one writer at a
time, so there a later transaction cannot commit first. Each test holds a
writer's transaction open in one thread while another writer commits, then
lets the first commit after the projection has moved on.
"""

import threading
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest
from conftest import StoreFactory
from psycopg import sql
from test_projections_world import count, new_pupil, new_team, tracked

from wellbeing.aggregates.participant import Participant
from wellbeing.commands.actor import Actor
from wellbeing.crypto import Kek
from wellbeing.persistence.database import PostgresDatabase
from wellbeing.persistence.runtime import Runtime, open_runtime
from wellbeing.projections import log
from wellbeing.projections.engine import catch_up
from wellbeing.projections.usage import UsageProjection


@pytest.fixture
def pg(postgres_available: None, tmp_path: Path, kek: Kek) -> Iterator[Runtime]:
    factory = StoreFactory("postgres", tmp_path, kek)
    runtime = open_runtime(factory.settings())
    yield runtime
    runtime.close()
    factory.drop()


class Background:
    """A call run in a thread; join() re-raises what it raised."""

    def __init__(self, work: Callable[[], Any]) -> None:
        self.error: BaseException | None = None

        def run() -> None:
            try:
                work()
            except BaseException as error:  # noqa: BLE001 (re-raised in join)
                self.error = error

        self.thread = threading.Thread(target=run)
        self.thread.start()

    def join(self) -> None:
        self.thread.join(timeout=60)
        assert not self.thread.is_alive()
        if self.error is not None:
            raise self.error


class Gate:
    """Holds a transaction open: `inside` is set when it waits, `release` ends it."""

    def __init__(self) -> None:
        self.inside = threading.Event()
        self.release = threading.Event()

    def hold(self, *_: Any, **__: Any) -> None:
        self.inside.set()
        assert self.release.wait(30)


def pupil(runtime: Runtime, actor: Actor, team_id: Any) -> Participant:
    return Participant(
        actor_id=actor.user_id,
        team_id=team_id,
        reference=99,
        surname="Late",
        forename="Comer",
        middle_names=None,
        date_of_birth=date(2015, 3, 3),
        sex=None,
        year_group=None,
        upn=None,
        former_upns=[],
        tags={},
    )


def overtaken(runtime: Runtime, actor: Actor, write: Callable[[Gate], None]) -> None:
    """Start `write` held open, commit another pupil, project, then release."""
    projection = UsageProjection()
    team_id = new_team(runtime, actor)
    catch_up(runtime, projection)
    gate = Gate()
    slow = Background(lambda: write(gate))
    assert gate.inside.wait(30)
    new_pupil(runtime, actor, team_id, 1)
    catch_up(runtime, projection)
    assert count(runtime, "usage_participants") == 1
    gate.release.set()
    slow.join()


def test_late_commit_through_event_writer_commit_is_projected(
    pg: Runtime, actor: Actor
) -> None:
    def write(gate: Gate) -> None:
        team_id = new_team(pg, actor, name="Another")
        pg.writer.commit(pupil(pg, actor, team_id), extra=gate.hold)

    overtaken(pg, actor, write)

    catch_up(pg, UsageProjection())
    assert count(pg, "usage_participants") == 2


def test_late_commit_through_commit_stored_is_projected(
    pg: Runtime, actor: Actor
) -> None:
    def write(gate: Gate) -> None:
        late = pupil(pg, actor, new_team(pg, actor, name="Another"))
        stored = [pg.mapper.to_stored_event(e) for e in late.collect_events()]
        pg.writer.commit_stored(stored, gate.hold)

    overtaken(pg, actor, write)

    catch_up(pg, UsageProjection())
    assert count(pg, "usage_participants") == 2


def test_late_commit_through_the_librarys_recorder_is_projected(
    pg: Runtime, actor: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder: Any = pg.ledger.recorder

    def write(gate: Gate) -> None:
        late = pupil(pg, actor, new_team(pg, actor, name="Another"))
        stored = [pg.mapper.to_stored_event(e) for e in late.collect_events()]
        # The library's hook for work done in the insert's transaction
        # before the table lock, as our writer's `extra` is.
        monkeypatch.setattr(recorder, "_insert_events", gate.hold)
        recorder.insert_events(stored)

    overtaken(pg, actor, write)

    catch_up(pg, UsageProjection())
    assert count(pg, "usage_participants") == 2


def _raw_insert(
    connection: psycopg.Connection[Any], runtime: Runtime, actor: Actor, team: Any
) -> int:
    """Insert one pupil's event without the table lock, as a careless writer."""
    database = runtime.database
    assert isinstance(database, PostgresDatabase)
    event = pupil(runtime, actor, team).collect_events()[0]
    stored = runtime.mapper.to_stored_event(event)
    statement = sql.SQL(
        "INSERT INTO {}.wellbeing_events (originator_id, originator_version, topic,"
        " state) VALUES (%s, %s, %s, %s) RETURNING notification_id"
    ).format(sql.Identifier(database.schema))
    row = connection.execute(
        statement,
        (stored.originator_id, stored.originator_version, stored.topic, stored.state),
    ).fetchone()
    assert row is not None
    return int(row[0])


def test_position_stops_short_of_an_insert_still_in_flight_without_the_lock(
    pg: Runtime, actor: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(log, "GAP_WAIT", "0.2s")
    projection = UsageProjection()
    team_id = new_team(pg, actor)
    catch_up(pg, projection)
    database = pg.database
    assert isinstance(database, PostgresDatabase)
    with psycopg.connect(database.url) as slow, psycopg.connect(database.url) as fast:
        held = _raw_insert(slow, pg, actor, team_id)
        _raw_insert(fast, pg, actor, team_id)
        fast.commit()

        catch_up(pg, projection)
        stopped_at = tracked(pg, "usage")
        slow.commit()

    catch_up(pg, projection)
    assert stopped_at is not None and stopped_at < held
    assert count(pg, "usage_participants") == 2


def test_gap_of_a_rolled_back_insert_is_passed(pg: Runtime, actor: Actor) -> None:
    projection = UsageProjection()
    team_id = new_team(pg, actor)
    database = pg.database
    assert isinstance(database, PostgresDatabase)
    with psycopg.connect(database.url) as connection:
        _raw_insert(connection, pg, actor, team_id)
        connection.rollback()
    new_pupil(pg, actor, team_id, 1)

    catch_up(pg, projection)

    assert count(pg, "usage_participants") == 1
    assert tracked(pg, "usage") == 3


def test_held_writer_and_a_later_one_are_both_projected(
    stores: StoreFactory, actor: Actor
) -> None:
    runtime = open_runtime(stores.settings())
    try:
        team_id = new_team(runtime, actor)
        gate = Gate()
        first = Background(
            lambda: runtime.writer.commit(
                pupil(runtime, actor, team_id), extra=gate.hold
            )
        )
        assert gate.inside.wait(30)
        second = Background(lambda: new_pupil(runtime, actor, team_id, 1))
        gate.release.set()
        first.join()
        second.join()

        catch_up(runtime, UsageProjection())

        assert count(runtime, "usage_participants") == 2
    finally:
        runtime.close()
