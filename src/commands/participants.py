"""Reading participants for people: never a UPN."""

from datetime import date
from typing import Any
from uuid import UUID

from wellbeing.aggregates.base import NotAllowed, NotFound
from wellbeing.aggregates.participant import Participant
from wellbeing.aggregates.personal import Redacted
from wellbeing.aggregates.team import Team
from wellbeing.aggregates.user import User
from wellbeing.commands.actor import Actor
from wellbeing.commands.authorization import authorize
from wellbeing.commands.loading import load
from wellbeing.persistence.runtime import Runtime
from wellbeing.projections.roster import team_roster

SHOWN = ("surname", "forename", "middle_names", "date_of_birth", "sex", "year_group")


def shown(value: Any) -> Any:
    """A value as a person may see it; markers become an explicit object."""
    if isinstance(value, Redacted):
        return {value.reason: True}
    if isinstance(value, date):
        return value.isoformat()
    return value


def describe(participant: Participant) -> dict[str, Any]:
    """The participant's details for a screen; whether a UPN is held, not it."""
    described: dict[str, Any] = {
        "id": str(participant.id),
        "team_id": str(participant.team_id),
        "reference": participant.reference,
    }
    described.update({name: shown(getattr(participant, name)) for name in SHOWN})
    upn = participant.upn
    described["has_upn"] = None if isinstance(upn, Redacted) else upn is not None
    described["erased"] = participant.erased
    return described


def list_participants(
    runtime: Runtime, actor: Actor, team_id: UUID
) -> list[dict[str, Any]]:
    """The team's roster from its read model, in internal-reference order."""
    authorize(runtime, actor, "list-participants", load(runtime, Team, team_id))
    return [_listed(entry) for entry in team_roster(runtime, team_id)]


def _listed(entry: dict[str, Any]) -> dict[str, Any]:
    listed = {name: shown(value) for name, value in entry.items()}
    if entry["erased"]:
        listed["has_upn"] = None
    return listed


def show_participant(
    runtime: Runtime, actor: Actor, participant_id: UUID
) -> dict[str, Any]:
    participant = load_visible(runtime, actor, participant_id, "show-participant")
    return describe(participant)


def load_visible(
    runtime: Runtime, actor: Actor, participant_id: UUID, action: str
) -> Participant:
    """Load a participant the actor may act on; outsiders get NotFound."""
    # The pupil, their team and the acting user come back from one query.
    others = () if actor.is_operator else (actor.user_id,)
    found = runtime.reader.with_team(participant_id, *others)
    participant = found.get(participant_id)
    if not isinstance(participant, Participant):
        raise NotFound("participant not found")
    team = found.get(participant.team_id)
    if team is None:
        team = runtime.reader.aggregate(participant.team_id)
    if not isinstance(team, Team):
        raise NotFound("participant not found")
    user: User | None = None
    if not actor.is_operator:
        loaded = found.get(actor.user_id)
        if not isinstance(loaded, User) or loaded.erased:
            raise NotAllowed("unknown user")
        user = loaded
    try:
        authorize(runtime, actor, action, team, user=user)
    except NotFound:
        raise NotFound("participant not found") from None
    return participant
