"""The base of every aggregate: explicit topics, an actor on every event."""

from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from wellbeing.errors import WellbeingError


class DomainError(WellbeingError):
    """A command broke a rule of the domain."""

    code = "domain"


class NotAllowed(DomainError):
    """The acting user may not do this."""

    code = "forbidden"


class NotFound(DomainError):
    """The thing asked for does not exist, or is not visible to the actor."""

    code = "not-found"


class Conflict(DomainError):
    """The request conflicts with the current state."""

    code = "conflict"


class LedgerAggregate(Aggregate):
    """An aggregate whose repr shows ids only, never a personal field."""

    TOPIC = "wellbeing:LedgerAggregate"

    class Event(Aggregate.Event):
        """Every event names the acting user and the data subject's field."""

        TOPIC = "wellbeing:LedgerAggregate.Event"
        # The attribute holding the id of the person whose key seals the
        # event's personal fields; snapshot events name the participant.
        subject_field: ClassVar[str] = "originator_id"
        actor_id: UUID

        def __repr__(self) -> str:
            return (
                f"{type(self).__qualname__}(originator_id={self.originator_id!s}, "
                f"originator_version={self.originator_version})"
            )

    class Created(Event, Aggregate.Created):
        TOPIC = "wellbeing:LedgerAggregate.Created"

    def __repr__(self) -> str:
        return f"{type(self).__qualname__}(id={self.id!s}, version={self.version})"

    def __eq__(self, other: Any) -> bool:
        return type(self) is type(other) and self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]
