"""The participant (a pupil in one team) and its events."""

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from eventsourcing.domain import event

from wellbeing.aggregates.base import Conflict, LedgerAggregate
from wellbeing.aggregates.personal import ERASED, Personal

PERSONAL_ATTRIBUTES = (
    "surname",
    "forename",
    "middle_names",
    "date_of_birth",
    "sex",
    "year_group",
    "upn",
    "former_upns",
)


class ParticipantErased(Conflict):
    """The participant's personal data was erased; nothing more can be done."""

    code = "participant-erased"


class Participant(LedgerAggregate):
    """A pupil of one team; every personal field is sealed under its own key."""

    TOPIC = "wellbeing:Participant"

    class Event(LedgerAggregate.Event):
        TOPIC = "wellbeing:Participant.Event"

    class Created(Event, LedgerAggregate.Created):
        TOPIC = "wellbeing:Participant.Created"

    @event("Registered", topic="wellbeing:ParticipantRegistered")
    def __init__(  # noqa: PLR0913
        self,
        actor_id: UUID,
        team_id: UUID,
        reference: int,
        surname: Annotated[str, Personal("participant.surname")],
        forename: Annotated[str, Personal("participant.forename")],
        middle_names: Annotated[str | None, Personal("participant.middle_names")],
        date_of_birth: Annotated[date, Personal("participant.date_of_birth")],
        sex: Annotated[str | None, Personal("participant.sex")],
        year_group: Annotated[str | None, Personal("participant.year_group")],
        upn: Annotated[str | None, Personal("participant.upn")],
        former_upns: Annotated[list[str], Personal("participant.former_upns")],
    ) -> None:
        self.team_id = team_id
        self.reference = reference
        self.surname = surname
        self.forename = forename
        self.middle_names = middle_names
        self.date_of_birth = date_of_birth
        self.sex = sex
        self.year_group = year_group
        self.upn = upn
        self.former_upns = former_upns
        self.erased = False

    def correct(self, actor_id: UUID, **changes: Any) -> None:
        """Correct details; only the fields that differ become an event."""
        self.check_not_erased()
        differing = {k: v for k, v in changes.items() if getattr(self, k) != v}
        if differing:
            self._correct(actor_id=actor_id, **differing)

    @event("DetailsCorrected", topic="wellbeing:ParticipantDetailsCorrected")
    def _correct(
        self,
        actor_id: UUID,
        surname: Annotated[str | None, Personal("participant.surname")] = None,
        forename: Annotated[str | None, Personal("participant.forename")] = None,
        middle_names: Annotated[
            str | None, Personal("participant.middle_names")
        ] = None,
        date_of_birth: Annotated[
            date | None, Personal("participant.date_of_birth")
        ] = None,
        sex: Annotated[str | None, Personal("participant.sex")] = None,
        year_group: Annotated[str | None, Personal("participant.year_group")] = None,
    ) -> None:
        given = {
            "surname": surname,
            "forename": forename,
            "middle_names": middle_names,
            "date_of_birth": date_of_birth,
            "sex": sex,
            "year_group": year_group,
        }
        for name, value in given.items():
            if value is not None:
                setattr(self, name, value)

    @event("PersonalDataErased", topic="wellbeing:ParticipantPersonalDataErased")
    def erase(self, actor_id: UUID) -> None:
        """Record the erasure; the key is destroyed after this is stored."""
        for name in PERSONAL_ATTRIBUTES:
            setattr(self, name, ERASED)
        self.erased = True

    def check_not_erased(self) -> None:
        if self.erased:
            raise ParticipantErased("participant was erased")
