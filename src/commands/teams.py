"""Registering and finding teams."""

from dataclasses import dataclass
from uuid import UUID

from wellbeing.aggregates.team import Team
from wellbeing.commands.actor import Actor
from wellbeing.commands.loading import load
from wellbeing.errors import InputError
from wellbeing.persistence.runtime import Runtime


@dataclass(frozen=True)
class RegisterTeam:
    """Register a school by name, LA code and DfE establishment number."""

    actor: Actor
    name: str
    la_code: str
    estab: str


def register_team(runtime: Runtime, command: RegisterTeam) -> UUID:
    name = command.name.strip()
    if not name:
        raise InputError("name: a team needs a name")
    if not (command.la_code.isdigit() and len(command.la_code) == 3):
        raise InputError("la_code: must be three digits")
    if not (command.estab.isdigit() and len(command.estab) == 4):
        raise InputError("estab: must be four digits")
    team = Team(
        actor_id=command.actor.user_id,
        name=name,
        la_code=command.la_code,
        estab=command.estab,
    )
    runtime.writer.commit(team)
    return team.id


def load_team(runtime: Runtime, team_id: UUID) -> Team:
    return load(runtime, Team, team_id)
