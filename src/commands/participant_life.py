"""A participant's life in a team: corrections, tags, objection, leaving."""

from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from wellbeing.aggregates.participant import CORRECTABLE, Participant
from wellbeing.aggregates.team import Team
from wellbeing.commands.actor import Actor
from wellbeing.commands.loading import load
from wellbeing.commands.participants import load_visible
from wellbeing.commands.retry import with_retries
from wellbeing.errors import InputError
from wellbeing.persistence.database import Tx
from wellbeing.persistence.participants import set_left_on
from wellbeing.persistence.runtime import Runtime

Result = dict[str, object]


@dataclass(frozen=True)
class CorrectDetails:
    actor: Actor
    participant_id: UUID
    changes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TagParticipant:
    actor: Actor
    participant_id: UUID
    taxonomy: str
    tag: str
    remove: bool = False


@dataclass(frozen=True)
class SetSharingObjection:
    """Record that the pupil (or family) objects to partner sharing, or not."""

    actor: Actor
    participant_id: UUID
    objects: bool


@dataclass(frozen=True)
class LeaveTeam:
    """Archive a pupil who left; nothing is erased."""

    actor: Actor
    participant_id: UUID
    on: date


def _change(
    runtime: Runtime,
    actor: Actor,
    participant_id: UUID,
    change: Any,
    extra: Any = None,
) -> Result:
    def work() -> Result:
        participant = load_visible(
            runtime, actor, participant_id, "correct-participant"
        )
        change(participant)
        runtime.writer.commit(participant, extra=extra)
        return {"id": str(participant.id)}

    return with_retries(work)


def correct_details(runtime: Runtime, command: CorrectDetails) -> Result:
    unknown = sorted(set(command.changes) - set(CORRECTABLE))
    if unknown:
        raise InputError(f"{unknown[0]}: cannot be corrected here")
    for name, value in command.changes.items():
        if name != "date_of_birth" and not (value is None or isinstance(value, str)):
            raise InputError(f"{name}: must be text")
    changes = {k: v for k, v in command.changes.items() if v is not None}
    return _change(
        runtime,
        command.actor,
        command.participant_id,
        lambda p: p.correct(command.actor.user_id, **changes),
    )


def tag_participant(runtime: Runtime, command: TagParticipant) -> Result:
    """Tag from the team's vocabulary; a retired or unknown tag is refused."""

    def change(participant: Participant) -> None:
        team = load(runtime, Team, participant.team_id)
        if command.remove:
            participant.untag(command.actor.user_id, command.taxonomy, command.tag)
            return
        if not team.tag_in_use(command.taxonomy, command.tag):
            raise InputError("tag: not in the team's vocabulary")
        participant.tag(command.actor.user_id, command.taxonomy, command.tag)

    return _change(runtime, command.actor, command.participant_id, change)


def set_sharing_objection(runtime: Runtime, command: SetSharingObjection) -> Result:
    def change(participant: Participant) -> None:
        if command.objects:
            participant.object_to_sharing(command.actor.user_id)
        else:
            participant.withdraw_objection(command.actor.user_id)

    return _change(runtime, command.actor, command.participant_id, change)


def leave_team(runtime: Runtime, command: LeaveTeam) -> Result:
    def mirror(tx: Tx) -> None:
        set_left_on(tx, command.participant_id, command.on)

    return _change(
        runtime,
        command.actor,
        command.participant_id,
        lambda p: p.leave(command.actor.user_id, command.on),
        extra=mirror,
    )
