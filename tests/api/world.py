"""The API tests' world and client, shared by the fixtures and the tests.

The world is one school (team A) with an admin and a practitioner, a
Kernow agreement, two canary pupils, a completed comprehensive snapshot
and a program; a second school (team B) with its own admin; and an
auditor, a data-protection officer, a partner analyst and a user with no
team. Every user holds a token.
"""

import warnings
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from fastapi import FastAPI
from people import Canary, make_canary, write_template_file

from wellbeing.commands import programs, snapshots, teams, users
from wellbeing.commands.actor import Actor, operator
from wellbeing.commands.import_participants import (
    ImportParticipants,
    import_participants,
)
from wellbeing.commands.instrument_files import load_instruments
from wellbeing.persistence import tokens
from wellbeing.persistence.event_store import EVENTS_TABLE
from wellbeing.persistence.runtime import Runtime

with warnings.catch_warnings():
    # Starlette's test client warns, on import, that it prefers httpx2.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

ROLES = ("admin", "practitioner", "outsider", "auditor", "dpo", "analyst", "stranger")
INSTRUMENT = "wellbeing-check"
# Most API tests run on the embedded store only: roles and routes behave the
# same on both, and the PostgreSQL half would double the suite's time.
SQLITE_ONLY = pytest.mark.parametrize("stores", ["sqlite"], indirect=True)


class RecordingClient(TestClient):
    """A test client that keeps every response, to scan them afterwards."""

    def __init__(self, app: FastAPI) -> None:
        super().__init__(app)
        self.seen: list[httpx.Response] = []

    def request(self, *args: Any, **kwargs: Any) -> httpx.Response:  # type: ignore[override]
        response = super().request(*args, **kwargs)
        self.seen.append(response)
        return response


@dataclass
class World:
    team_a: UUID
    team_b: UUID
    users: dict[str, UUID]
    tokens: dict[str, str]
    token_ids: dict[str, UUID]
    pupils: list[Canary]
    pupil_ids: list[UUID]
    snapshot_id: UUID
    program_id: UUID
    extra: dict[str, UUID] = field(default_factory=dict)

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


@dataclass
class Api:
    client: RecordingClient
    runtime: Runtime
    app: FastAPI
    folder: Path

    def events(self) -> int:
        return count_rows(self.runtime, EVENTS_TABLE[self.runtime.database.dialect])


def count_rows(runtime: Runtime, table: str) -> int:
    # Table names come from the tests, never from input.
    with runtime.database.transaction() as tx:
        tx.execute("SELECT count(*) FROM " + table)
        row = tx.fetchone()
    assert row is not None
    return int(row[0])


def _user(runtime: Runtime, label: str) -> tuple[UUID, str]:
    email = f"{label}{uuid4().hex[:8]}@school.example"
    created = users.create_user(runtime, users.CreateUser(operator(), email))
    return UUID(str(created["id"])), email


def build_world(runtime: Runtime, folder: Path) -> World:
    op = operator()
    made = {role: _user(runtime, role) for role in ROLES}
    ids = {role: user_id for role, (user_id, _) in made.items()}
    team_a = teams.register_team(
        runtime, teams.RegisterTeam(Actor(ids["admin"]), "School A", "999", "1001")
    )
    team_b = teams.register_team(
        runtime, teams.RegisterTeam(Actor(ids["outsider"]), "School B", "999", "1002")
    )
    teams.invite_member(
        runtime,
        teams.InviteMember(
            Actor(ids["admin"]), team_a, made["practitioner"][1], "practitioner"
        ),
    )
    teams.join_team(runtime, teams.JoinTeam(Actor(ids["practitioner"]), team_a))
    teams.agree_sharing(
        runtime,
        teams.AgreeSharing(
            Actor(ids["admin"]), team_a, "headstart-kernow", date(2020, 1, 1)
        ),
    )
    teams.define_tags(
        runtime, teams.DefineTags(Actor(ids["admin"]), team_a, "sen-provision", ("k",))
    )
    users.grant_role(runtime, users.GrantRole(op, ids["auditor"], "auditor"))
    users.grant_role(
        runtime, users.GrantRole(op, ids["dpo"], "data-protection-officer")
    )
    for partner in ("headstart-kernow", "headstart-hq"):
        users.grant_role(
            runtime, users.GrantRole(op, ids["analyst"], "analyst", partner)
        )
    pupils = [make_canary(1), make_canary(2)]
    path = write_template_file(folder / "world.csv", pupils)
    report = import_participants(
        runtime, ImportParticipants(Actor(ids["admin"]), team_a, path, commit=True)
    )
    pupil_ids = [r.participant_id for r in report.rows if r.participant_id]
    snapshot_id, program_id = _assess(runtime, Actor(ids["admin"]), pupil_ids[0])
    issued = {}
    with runtime.database.transaction() as tx:
        for role, user_id in ids.items():
            issued[role] = tokens.issue(tx, user_id, op.user_id)
    return World(
        team_a=team_a,
        team_b=team_b,
        users=ids,
        tokens={role: secret for role, (_, secret) in issued.items()},
        token_ids={role: token_id for role, (token_id, _) in issued.items()},
        pupils=pupils,
        pupil_ids=pupil_ids,
        snapshot_id=snapshot_id,
        program_id=program_id,
    )


def _assess(runtime: Runtime, actor: Actor, pupil: UUID) -> tuple[UUID, UUID]:
    started = snapshots.start_snapshot(
        runtime, snapshots.StartSnapshot(actor, pupil, INSTRUMENT, "comprehensive")
    )
    snapshot_id = UUID(str(started["id"]))
    instrument = load_instruments()[INSTRUMENT]
    answers = {item.id: 2 for item in instrument.items}
    snapshots.record_answers(
        runtime, snapshots.RecordAnswers(actor, snapshot_id, answers)
    )
    snapshots.complete_snapshot(runtime, snapshots.CompleteSnapshot(actor, snapshot_id))
    program = programs.start_program(
        runtime, programs.StartProgram(actor, snapshot_id, note="Agreed.")
    )
    return snapshot_id, UUID(str(program["id"]))
