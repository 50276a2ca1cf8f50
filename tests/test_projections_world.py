"""Builders shared by the projection tests: teams, pupils, snapshots, waits.

Records are made with the aggregates and stored through the product's
EventWriter, as the commands do, so the tests depend on the events and not
on each command's rules. This module holds no tests of its own.
"""

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from wellbeing.aggregates.participant import Participant
from wellbeing.aggregates.program import Program
from wellbeing.aggregates.snapshot import Snapshot
from wellbeing.aggregates.team import Team
from wellbeing.aggregates.user import User
from wellbeing.commands.actor import Actor
from wellbeing.commands.erasure import EraseParticipant, erase_participant
from wellbeing.commands.loading import load
from wellbeing.persistence.database import PostgresDatabase
from wellbeing.persistence.event_store import EVENTS_TABLE
from wellbeing.persistence.runtime import Runtime
from wellbeing.projections.engine import Projection, identifier

INSTRUMENT = "wellbeing-check"
SUBDOMAINS = (
    "mood",
    "calm",
    "temper",
    "friends",
    "adults",
    "belonging",
    "confidence",
    "coping",
)


def scores(base: float) -> dict[str, float]:
    return {name: base + i / 4 for i, name in enumerate(SUBDOMAINS)}


def new_team(
    runtime: Runtime,
    actor: Actor,
    name: str = "Trelawny Primary",
    la_code: str = "908",
    agreements: Sequence[tuple[str, date, date | None]] = (),
) -> UUID:
    team = Team(actor_id=actor.user_id, name=name, la_code=la_code, estab="2001")
    for partner, starts, ends in agreements:
        team.agree(actor.user_id, partner, starts, ends)
    runtime.writer.commit(team)
    return team.id


@dataclass(frozen=True)
class Pupil:
    """What a test gave a participant, to compare exports with."""

    id: UUID
    team_id: UUID
    reference: int
    surname: str
    forename: str
    middle_names: str | None
    date_of_birth: date
    sex: str | None
    year_group: str | None
    upn: str | None
    tags: dict[str, list[str]] = field(default_factory=dict)


def new_pupil(  # noqa: PLR0913
    runtime: Runtime,
    actor: Actor,
    team_id: UUID,
    reference: int,
    *,
    surname: str = "Pengelly",
    forename: str = "Tamsin",
    middle_names: str | None = None,
    date_of_birth: date = date(2014, 5, 17),
    sex: str | None = "F",
    year_group: str | None = "5",
    upn: str | None = None,
    tags: dict[str, list[str]] | None = None,
) -> Pupil:
    pupil = Participant(
        actor_id=actor.user_id,
        team_id=team_id,
        reference=reference,
        surname=surname,
        forename=forename,
        middle_names=middle_names,
        date_of_birth=date_of_birth,
        sex=sex,
        year_group=year_group,
        upn=upn,
        former_upns=[],
        tags=dict(tags or {}),
    )
    runtime.writer.commit(pupil)
    return Pupil(
        pupil.id,
        team_id,
        reference,
        surname,
        forename,
        middle_names,
        date_of_birth,
        sex,
        year_group,
        upn,
        dict(tags or {}),
    )


def new_snapshot(  # noqa: PLR0913
    runtime: Runtime,
    actor: Actor,
    pupil: Pupil,
    taken_on: date,
    *,
    kind: str = "comprehensive",
    completed: dict[str, float] | None = None,
    discarded: bool = False,
) -> UUID:
    snapshot = Snapshot(
        actor_id=actor.user_id,
        participant_id=pupil.id,
        team_id=pupil.team_id,
        instrument=INSTRUMENT,
        instrument_version=1,
        kind=kind,
        taken_on=taken_on,
    )
    if completed is not None:
        snapshot.complete(actor.user_id, completed)
    elif discarded:
        snapshot.discard(actor.user_id)
    runtime.writer.commit(snapshot)
    return snapshot.id


def new_program(
    runtime: Runtime,
    actor: Actor,
    pupil: Pupil,
    snapshot_id: UUID,
    *,
    closed: bool = False,
) -> UUID:
    program = Program(
        actor_id=actor.user_id,
        participant_id=pupil.id,
        team_id=pupil.team_id,
        snapshot_id=snapshot_id,
        items={"safety": [], "advice": [], "activities": []},
        note=None,
    )
    if closed:
        program.close(actor.user_id, None)
    runtime.writer.commit(program)
    return program.id


@dataclass(frozen=True)
class History:
    """What add_history wrote: its events and the records they make."""

    events: int
    participants: int
    snapshots: int


def add_history(
    runtime: Runtime,
    actor: Actor,
    team_id: UUID,
    pupils: int,
    snapshots_each: int,
    *,
    taken_on: date = date(2024, 10, 1),
    per_commit: int = 100,
) -> History:
    """Pupils, each with completed universal snapshots, stored in bulk.

    Each pupil makes one event and each snapshot two.
    """
    pending: list[Any] = []
    for number in range(pupils):
        pupil = Participant(
            actor_id=actor.user_id,
            team_id=team_id,
            reference=number + 1,
            surname="Bulk",
            forename="Pupil",
            middle_names=None,
            date_of_birth=date(2015, 1, 1),
            sex=None,
            year_group=None,
            upn=None,
            former_upns=[],
            tags={},
        )
        pending.append(pupil)
        for _ in range(snapshots_each):
            snapshot = Snapshot(
                actor_id=actor.user_id,
                participant_id=pupil.id,
                team_id=team_id,
                instrument=INSTRUMENT,
                instrument_version=1,
                kind="universal",
                taken_on=taken_on,
            )
            snapshot.complete(actor.user_id, {"mood": 2.0})
            pending.append(snapshot)
        if len(pending) >= per_commit:
            runtime.writer.commit(*pending)
            pending = []
    if pending:
        runtime.writer.commit(*pending)
    made = pupils * snapshots_each
    return History(pupils + 2 * made, pupils, made)


def head(runtime: Runtime) -> int:
    """The position of the last event in the log."""
    table = EVENTS_TABLE[runtime.database.dialect]
    column = "rowid" if runtime.database.dialect == "sqlite" else "notification_id"
    with runtime.database.transaction() as tx:
        tx.execute("SELECT coalesce(max(" + column + "), 0) FROM " + identifier(table))
        row = tx.fetchone()
    return int(row[0]) if row else 0


def tracked(runtime: Runtime, name: str) -> int | None:
    with runtime.database.transaction() as tx:
        tx.execute("SELECT position FROM projection_positions WHERE name = %s", (name,))
        row = tx.fetchone()
    return None if row is None else int(row[0])


def rows_of(runtime: Runtime, table: str) -> list[tuple[Any, ...]]:
    """Every row of a table, as text, sorted: for comparing two views."""
    with runtime.database.transaction() as tx:
        tx.execute("SELECT * FROM " + identifier(table))
        rows = tx.fetchall()
    return sorted(tuple("" if v is None else str(v) for v in row) for row in rows)


def contents(runtime: Runtime, projection: Projection, suffix: str = "") -> dict:
    """Every table of a projection (or of its copy under `suffix`)."""
    return {t.name: rows_of(runtime, t.name + suffix) for t in projection.tables}


def count(runtime: Runtime, table: str) -> int:
    with runtime.database.transaction() as tx:
        tx.execute("SELECT count(*) FROM " + identifier(table))
        row = tx.fetchone()
    return int(row[0]) if row else 0


def wait_for_position(
    runtime: Runtime, name: str, target: int, timeout: float = 60.0
) -> int:
    """Wait until a projection's tracked position reaches `target`.

    Each committed batch notifies the positions channel, so this wakes on
    progress rather than polling; it fails the test after `timeout`.
    """
    database = runtime.database
    assert isinstance(database, PostgresDatabase)
    query = sql.SQL("SELECT position FROM {}.projection_positions WHERE name = %s")
    statement = query.format(sql.Identifier(database.schema))
    deadline = time.monotonic() + timeout
    with psycopg.connect(database.url, autocommit=True) as connection:
        connection.execute("LISTEN wellbeing_projections")
        while True:
            row = connection.execute(statement, (name,)).fetchone()
            reached = int(row[0]) if row else 0
            if reached >= target:
                return reached
            left = deadline - time.monotonic()
            assert left > 0, f"{name} stopped at {reached}, short of {target}"
            for _ in connection.notifies(timeout=min(left, 5.0), stop_after=1):
                pass


@dataclass
class Rich:
    """A history touching every event the views follow."""

    team_id: UUID
    other_team_id: UUID
    pupils: list[Pupil]
    erased: Pupil


def rich_history(runtime: Runtime, actor: Actor) -> Rich:
    kernow = ("headstart-kernow", date(2024, 9, 1), None)
    team_id = new_team(runtime, actor, agreements=[kernow])
    other_team_id = new_team(runtime, actor, name="Porthleven", la_code="909")
    _staff(runtime, actor, team_id)
    first = new_pupil(runtime, actor, team_id, 1, upn="H801200001001")
    second = new_pupil(runtime, actor, team_id, 2, surname="Nance", sex="M")
    third = new_pupil(runtime, actor, other_team_id, 1, surname="Rowe")
    gone = new_pupil(runtime, actor, team_id, 3, surname="Gone", upn="H801200001002")
    changed = load(runtime, Participant, first.id)
    changed.correct(actor.user_id, forename="Tamsyn")
    changed.tag(actor.user_id, "sen", "support")
    changed.tag(actor.user_id, "fsm", "yes")
    changed.untag(actor.user_id, "fsm", "yes")
    runtime.writer.commit(changed)
    objecting = load(runtime, Participant, second.id)
    objecting.assign_upn(actor.user_id, "H801200001003")
    objecting.object_to_sharing(actor.user_id)
    runtime.writer.commit(objecting)
    leaving = load(runtime, Participant, third.id)
    leaving.leave(actor.user_id, date(2025, 2, 1))
    runtime.writer.commit(leaving)
    done = new_snapshot(runtime, actor, first, date(2024, 10, 3), completed=scores(2))
    new_program(runtime, actor, first, done, closed=True)
    new_snapshot(
        runtime, actor, second, date(2024, 11, 5), kind="universal", discarded=True
    )
    new_snapshot(runtime, actor, third, date(2025, 1, 6))
    gone_done = new_snapshot(
        runtime, actor, gone, date(2024, 10, 4), completed=scores(1)
    )
    new_program(runtime, actor, gone, gone_done)
    erase_participant(runtime, EraseParticipant(actor, gone.id))
    return Rich(team_id, other_team_id, [first, second, third], gone)


def _staff(runtime: Runtime, actor: Actor, team_id: UUID) -> None:
    joining = User(actor_id=actor.user_id, email="a@example.org", name="A")
    invited = User(actor_id=actor.user_id, email="b@example.org", name="B")
    team = load(runtime, Team, team_id)
    now = datetime.now(UTC)
    team.invite(actor.user_id, joining.id, "practitioner", now)
    team.join(joining.id, joining.id, now)
    team.invite(actor.user_id, invited.id, "admin", now)
    runtime.writer.commit(joining, invited, team)
