"""Two writers on one team: retries keep every change, exhaustion is reported."""

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from uuid import UUID

import pytest
from eventsourcing.domain import Aggregate

from wellbeing.aggregates.team import Team
from wellbeing.commands.actor import Actor
from wellbeing.commands.retry import with_retries
from wellbeing.commands.teams import (
    DefineTags,
    RegisterTeam,
    RenameTeam,
    define_tags,
    load_team,
    register_team,
    rename_team,
)
from wellbeing.persistence.event_store import EventWriter, Extra, VersionConflict
from wellbeing.persistence.runtime import Runtime

# Long enough for a slow CI machine, short enough that a broken barrier fails
# the test instead of hanging it.
WAIT_SECONDS = 20.0


class CollidingWriter(EventWriter):
    """Holds each thread's first commit until every writer has loaded the team.

    Both writers then commit changes made to the same version, so one of them
    must meet a version conflict and retry.
    """

    def __init__(self, writer: EventWriter, writers: int) -> None:
        super().__init__(writer.database, writer.mapper)
        self.barrier = threading.Barrier(writers, timeout=WAIT_SECONDS)
        self.first = threading.local()
        self.attempts = 0
        self.lock = threading.Lock()

    def commit(self, *aggregates: Aggregate, extra: Extra | None = None) -> int:
        with self.lock:
            self.attempts += 1
        if not getattr(self.first, "done", False):
            self.first.done = True
            self.barrier.wait()
        return super().commit(*aggregates, extra=extra)


@dataclass
class Collision:
    team_id: UUID
    writer: CollidingWriter
    errors: list[BaseException] = field(default_factory=list)


def collide(runtime: Runtime, actor: Actor) -> Collision:
    """Rename the team and define tags on it at the same moment."""
    team_id = register_team(runtime, RegisterTeam(actor, "Penwith", "908", "4002"))
    writer = CollidingWriter(runtime.writer, writers=2)
    runtime.writer = writer
    collision = Collision(team_id, writer)
    changes: list[Callable[[], object]] = [
        lambda: rename_team(runtime, RenameTeam(actor, team_id, "Penwith Academy")),
        lambda: define_tags(runtime, DefineTags(actor, team_id, "FSM", ("eligible",))),
    ]

    def run(change: Callable[[], object]) -> None:
        try:
            change()
        except BaseException as error:  # noqa: BLE001 (reported by the test)
            collision.errors.append(error)

    threads = [threading.Thread(target=run, args=(c,)) for c in changes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT_SECONDS)
    assert not any(thread.is_alive() for thread in threads)
    return collision


def test_colliding_writers_both_succeed(runtime: Runtime, actor: Actor) -> None:
    collision = collide(runtime, actor)

    assert collision.errors == []


def test_colliding_writers_lose_no_update(runtime: Runtime, actor: Actor) -> None:
    collision = collide(runtime, actor)

    team = load_team(runtime, collision.team_id)
    assert team.name == "Penwith Academy"
    assert team.tag_in_use("FSM", "eligible")


def test_colliding_writers_leave_versions_without_gaps_or_repeats(
    runtime: Runtime, actor: Actor
) -> None:
    collision = collide(runtime, actor)

    events = list(runtime.ledger.events.get(collision.team_id))
    assert [e.originator_version for e in events] == [1, 2, 3]
    assert sorted(type(e).__name__ for e in events[1:]) == ["Renamed", "TagsAdded"]


def test_the_losing_writer_retries_once(runtime: Runtime, actor: Actor) -> None:
    collision = collide(runtime, actor)

    assert collision.writer.attempts == 3


def stale_rename(runtime: Runtime, actor: Actor) -> tuple[UUID, Callable[[], int]]:
    """A rename of a team that another writer has changed since it was loaded."""
    team_id = register_team(runtime, RegisterTeam(actor, "Penwith", "908", "4002"))
    stale: Team = load_team(runtime, team_id)
    fresh = load_team(runtime, team_id)
    fresh.rename(actor_id=actor.user_id, name="Penwith Academy")
    runtime.writer.commit(fresh)

    def work() -> int:
        stale.rename(actor_id=actor.user_id, name="Penwith School")
        return runtime.writer.commit(stale)

    return team_id, work


def test_exhausted_retries_raise_version_conflict(
    runtime: Runtime, actor: Actor
) -> None:
    _, work = stale_rename(runtime, actor)

    with pytest.raises(VersionConflict):
        with_retries(work, attempts=1)


def test_exhausted_retries_write_nothing(runtime: Runtime, actor: Actor) -> None:
    team_id, work = stale_rename(runtime, actor)

    with pytest.raises(VersionConflict):
        with_retries(work, attempts=1)

    assert load_team(runtime, team_id).name == "Penwith Academy"
    assert load_team(runtime, team_id).version == 2


def test_conflict_within_the_attempts_is_retried() -> None:
    calls: list[int] = []

    def work() -> str:
        calls.append(len(calls) + 1)
        if len(calls) < 3:
            raise VersionConflict("the record changed; try again")
        return "stored"

    outcome = with_retries(work, attempts=3)

    assert (outcome, calls) == ("stored", [1, 2, 3])
