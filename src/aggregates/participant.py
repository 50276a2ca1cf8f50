"""The participant (a pupil in one team) and its events."""

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from eventsourcing.domain import event

from wellbeing.aggregates.base import Conflict, LedgerAggregate
from wellbeing.aggregates.personal import ERASED, Personal, Redacted, merged

PERSONAL_ATTRIBUTES = (
    "surname",
    "forename",
    "middle_names",
    "date_of_birth",
    "sex",
    "year_group",
    "upn",
    "former_upns",
    "tags",
)
CORRECTABLE: tuple[str, ...] = (
    "surname",
    "forename",
    "middle_names",
    "date_of_birth",
    "sex",
    "year_group",
)

Surname = Annotated[str, Personal("participant.surname")]
Forename = Annotated[str, Personal("participant.forename")]
MiddleNames = Annotated[str | None, Personal("participant.middle_names")]
Born = Annotated[date, Personal("participant.date_of_birth")]
Sex = Annotated[str | None, Personal("participant.sex")]
YearGroup = Annotated[str | None, Personal("participant.year_group")]
Upn = Annotated[str | None, Personal("participant.upn")]
FormerUpns = Annotated[list[str], Personal("participant.former_upns")]
FormerUpn = Annotated[str | None, Personal("participant.former_upn")]
Tags = Annotated[dict[str, list[str]], Personal("participant.tags")]
Tag = Annotated[str, Personal("participant.tag")]
# Which taxonomy a pupil is tagged in ("looked-after") is itself sensitive.
TagTaxonomy = Annotated[str, Personal("participant.tag_taxonomy")]


class ParticipantErased(Conflict):
    """The participant's personal data was erased; nothing more can be done."""

    code = "participant-erased"


class UpnConflict(Conflict):
    """The UPN change is not allowed in the participant's current state."""

    code = "upn-conflict"


class Participant(LedgerAggregate):
    """A pupil of one team; every personal field is sealed under its own key.

    Raises ParticipantErased for any change after erasure.
    """

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
        surname: Surname,
        forename: Forename,
        middle_names: MiddleNames,
        date_of_birth: Born,
        sex: Sex,
        year_group: YearGroup,
        upn: Upn,
        former_upns: FormerUpns,
        tags: Tags,
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
        self.tags = tags
        self.objects_to_sharing = False
        self.left_on: date | None = None
        self.erased = False

    def correct(self, actor_id: UUID, **changes: Any) -> None:
        """Correct details; only the fields that differ become an event."""
        self.check_not_erased()
        unknown = set(changes) - set(CORRECTABLE)
        if unknown:
            raise ValueError(f"cannot correct {sorted(unknown)}")
        differing = {k: v for k, v in changes.items() if getattr(self, k) != v}
        if differing:
            self._correct(actor_id=actor_id, **differing)

    @event("DetailsCorrected", topic="wellbeing:ParticipantDetailsCorrected")
    def _correct(
        self,
        actor_id: UUID,
        surname: Annotated[str | None, Personal("participant.surname")] = None,
        forename: Annotated[str | None, Personal("participant.forename")] = None,
        middle_names: MiddleNames = None,
        date_of_birth: Annotated[
            date | None, Personal("participant.date_of_birth")
        ] = None,
        sex: Sex = None,
        year_group: YearGroup = None,
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

    def assign_upn(self, actor_id: UUID, upn: str) -> None:
        """Give a pupil without a UPN its first one."""
        self.check_not_erased()
        if self.upn is not None:
            raise UpnConflict("the participant has a UPN already")
        self._assign_upn(actor_id=actor_id, upn=upn)

    @event("UpnAssigned", topic="wellbeing:ParticipantUpnAssigned")
    def _assign_upn(self, actor_id: UUID, upn: Upn) -> None:
        self.upn = upn

    def replace_upn(self, actor_id: UUID, upn: str) -> None:
        """Replace the UPN (a temporary one by a permanent one); the old stays."""
        self.check_not_erased()
        if self.upn is None:
            raise UpnConflict("the participant has no UPN to replace")
        if self.upn != upn:
            self._replace_upn(actor_id=actor_id, upn=upn, former=self.upn)

    @event("UpnReplaced", topic="wellbeing:ParticipantUpnReplaced")
    def _replace_upn(self, actor_id: UUID, upn: Upn, former: FormerUpn) -> None:
        if former is not None:
            self.former_upns = merged(self.former_upns, former, _add_once)
        self.upn = upn

    def tag(self, actor_id: UUID, taxonomy: str, tag: str) -> None:
        self.check_readable()
        if tag not in self.tags.get(taxonomy, []):
            self._tag(actor_id=actor_id, taxonomy=taxonomy, tag=tag)

    @event("Tagged", topic="wellbeing:ParticipantTagged")
    def _tag(self, actor_id: UUID, taxonomy: TagTaxonomy, tag: Tag) -> None:
        self.tags = merged(
            self.tags, tag, lambda old, new: _with_tag(old, taxonomy, new)
        )

    def untag(self, actor_id: UUID, taxonomy: str, tag: str) -> None:
        self.check_readable()
        if tag in self.tags.get(taxonomy, []):
            self._untag(actor_id=actor_id, taxonomy=taxonomy, tag=tag)

    @event("Untagged", topic="wellbeing:ParticipantUntagged")
    def _untag(self, actor_id: UUID, taxonomy: TagTaxonomy, tag: Tag) -> None:
        self.tags = merged(
            self.tags, tag, lambda old, new: _without_tag(old, taxonomy, new)
        )

    def object_to_sharing(self, actor_id: UUID) -> None:
        self.check_not_erased()
        if not self.objects_to_sharing:
            self._object(actor_id=actor_id)

    @event("ObjectedToSharing", topic="wellbeing:ParticipantObjectedToSharing")
    def _object(self, actor_id: UUID) -> None:
        self.objects_to_sharing = True

    def withdraw_objection(self, actor_id: UUID) -> None:
        self.check_not_erased()
        if self.objects_to_sharing:
            self._withdraw_objection(actor_id=actor_id)

    @event("ObjectionWithdrawn", topic="wellbeing:ParticipantObjectionWithdrawn")
    def _withdraw_objection(self, actor_id: UUID) -> None:
        self.objects_to_sharing = False

    def leave(self, actor_id: UUID, on: date) -> None:
        """Archive the pupil (left the school); the record is kept."""
        self.check_not_erased()
        if self.left_on is None:
            self._leave(actor_id=actor_id, on=on)

    @event("Left", topic="wellbeing:ParticipantLeft")
    def _leave(self, actor_id: UUID, on: date) -> None:
        self.left_on = on

    def rejoin(self, actor_id: UUID) -> None:
        self.check_not_erased()
        if self.left_on is not None:
            self._rejoin(actor_id=actor_id)

    @event("Rejoined", topic="wellbeing:ParticipantRejoined")
    def _rejoin(self, actor_id: UUID) -> None:
        self.left_on = None

    @event("PersonalDataErased", topic="wellbeing:ParticipantPersonalDataErased")
    def erase(self, actor_id: UUID) -> None:
        """Record the erasure; the key is destroyed after this is stored."""
        for name in PERSONAL_ATTRIBUTES:
            setattr(self, name, ERASED)
        self.erased = True

    def check_not_erased(self) -> None:
        if self.erased:
            raise ParticipantErased("participant was erased")

    def check_readable(self) -> None:
        """Changes that read personal fields need them opened."""
        self.check_not_erased()
        if isinstance(self.surname, Redacted):  # type: ignore[unreachable]
            raise SealedFields("personal fields are sealed in this process")


class SealedFields(Conflict):
    """A change needs personal fields that this process cannot open."""

    code = "sealed-fields"


def _add_once(old: list[str], new: str) -> list[str]:
    return old if new in old else [*old, new]


def _with_tag(
    tags: dict[str, list[str]], taxonomy: str, tag: str
) -> dict[str, list[str]]:
    return {**tags, taxonomy: [*tags.get(taxonomy, []), tag]}


def _without_tag(
    tags: dict[str, list[str]], taxonomy: str, tag: str
) -> dict[str, list[str]]:
    return {**tags, taxonomy: [t for t in tags.get(taxonomy, []) if t != tag]}


def _registered_v1_to_v2(state: dict[str, Any]) -> None:
    # Version 1 carried no tags: those pupils had none recorded.
    state["tags"] = {}


_registered: Any = Participant.Registered  # type: ignore[attr-defined]
_registered.class_version = 2
_registered.upcast_v1_v2 = staticmethod(_registered_v1_to_v2)
