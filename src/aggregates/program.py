"""The program: an intervention plan built from a completed snapshot."""

from typing import Annotated
from uuid import UUID

from eventsourcing.domain import event

from wellbeing.aggregates.base import Conflict, LedgerAggregate
from wellbeing.aggregates.personal import Personal, merged

PARTS = ("safety", "advice", "activities")
ACTIVE = "active"
CLOSED = "closed"

Choices = Annotated[dict[str, list[str]], Personal("program.items")]
Note = Annotated[str | None, Personal("program.note")]


class ProgramClosed(Conflict):
    """The program is closed and takes no more reviews."""

    code = "program-closed"


class Program(LedgerAggregate):
    """Chosen items and notes reveal the child's needs: all sealed under the
    participant's key, named as each event's subject.

    Replaying the history of an erased participant never fails: items and
    notes read as the ERASED marker. Raises ProgramClosed for changes after
    closing.
    """

    TOPIC = "wellbeing:Program"

    class Event(LedgerAggregate.Event):
        TOPIC = "wellbeing:Program.Event"
        subject_field = "participant_id"
        participant_id: UUID

    class Created(Event, LedgerAggregate.Created):
        TOPIC = "wellbeing:Program.Created"

    @event("Started", topic="wellbeing:ProgramStarted")
    def __init__(  # noqa: PLR0913
        self,
        actor_id: UUID,
        participant_id: UUID,
        team_id: UUID,
        snapshot_id: UUID,
        items: Choices,
        note: Note,
    ) -> None:
        self.participant_id = participant_id
        self.team_id = team_id
        self.snapshot_id = snapshot_id
        self.items = items
        self.notes: list[str] = [] if note is None else merged([], note, _noted)
        self.reviews = 0
        self.status = ACTIVE

    def review(
        self, actor_id: UUID, items: dict[str, list[str]] | None, note: str | None
    ) -> None:
        """Record a review: a note, and the items as they now stand."""
        self._check_active()
        self._review(
            actor_id=actor_id,
            participant_id=self.participant_id,
            items=items,
            note=note,
        )

    @event("Reviewed", topic="wellbeing:ProgramReviewed")
    def _review(
        self,
        actor_id: UUID,
        participant_id: UUID,
        items: Annotated[dict[str, list[str]] | None, Personal("program.items")],
        note: Note,
    ) -> None:
        if items is not None:
            self.items = items
        if note is not None:
            self.notes = merged(self.notes, note, _noted)
        self.reviews += 1

    def close(self, actor_id: UUID, note: str | None) -> None:
        self._check_active()
        self._close(actor_id=actor_id, participant_id=self.participant_id, note=note)

    @event("Closed", topic="wellbeing:ProgramClosed")
    def _close(self, actor_id: UUID, participant_id: UUID, note: Note) -> None:
        if note is not None:
            self.notes = merged(self.notes, note, _noted)
        self.status = CLOSED

    def _check_active(self) -> None:
        if self.status != ACTIVE:
            raise ProgramClosed("program is closed")


def _noted(notes: list[str], note: str) -> list[str]:
    return [*notes, note]
