"""A team with two canary pupils, one of them erased, on any store."""

from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from people import Canary, make_canary, write_template_file

from wellbeing.commands.actor import Actor
from wellbeing.commands.erasure import EraseParticipant, erase_participant
from wellbeing.commands.import_participants import (
    ImportParticipants,
    import_participants,
)
from wellbeing.commands.teams import RegisterTeam, register_team
from wellbeing.persistence.runtime import Runtime


@dataclass
class Pair:
    """Two imported pupils: `gone` is to be erased, `kept` must stay whole."""

    team_id: UUID
    gone: Canary
    gone_id: UUID
    kept: Canary
    kept_id: UUID


def import_pair(runtime: Runtime, actor: Actor, folder: Path) -> Pair:
    team_id = register_team(
        runtime, RegisterTeam(actor, "Canary School", "999", "1001")
    )
    gone, kept = make_canary(1), make_canary(2)
    path = write_template_file(folder / "pair.csv", [gone, kept])
    report = import_participants(
        runtime, ImportParticipants(actor, team_id, path, commit=True)
    )
    ids = [row.participant_id for row in report.rows]
    assert ids[0] is not None and ids[1] is not None
    return Pair(team_id, gone, ids[0], kept, ids[1])


def erase(runtime: Runtime, actor: Actor, participant_id: UUID) -> None:
    erase_participant(runtime, EraseParticipant(actor, participant_id))
