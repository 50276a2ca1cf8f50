"""The team (a school or setting) and its events."""

from uuid import UUID

from eventsourcing.domain import event

from wellbeing.aggregates.base import LedgerAggregate


class Team(LedgerAggregate):
    """A school: name, DfE LA code and establishment number."""

    TOPIC = "wellbeing:Team"

    class Event(LedgerAggregate.Event):
        TOPIC = "wellbeing:Team.Event"

    class Created(Event, LedgerAggregate.Created):
        TOPIC = "wellbeing:Team.Created"

    @event("Registered", topic="wellbeing:TeamRegistered")
    def __init__(self, actor_id: UUID, name: str, la_code: str, estab: str) -> None:
        self.name = name
        self.la_code = la_code
        self.estab = estab
        self.next_reference = 1

    @event("Renamed", topic="wellbeing:TeamRenamed")
    def rename(self, actor_id: UUID, name: str) -> None:
        self.name = name

    @event("ReferencesReserved", topic="wellbeing:TeamReferencesReserved")
    def reserve_references(self, actor_id: UUID, count: int) -> None:
        """Hand out the next internal references for new participants."""
        self.next_reference += count
