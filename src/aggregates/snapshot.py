"""The snapshot: one assessment of one participant with an instrument."""

from datetime import date
from typing import Annotated
from uuid import UUID

from eventsourcing.domain import event

from wellbeing.aggregates.base import Conflict, LedgerAggregate
from wellbeing.aggregates.personal import Personal, merged

UNIVERSAL = "universal"
COMPREHENSIVE = "comprehensive"
KINDS = (UNIVERSAL, COMPREHENSIVE)
STARTED = "started"
COMPLETED = "completed"
DISCARDED = "discarded"

Answers = Annotated[dict[str, int], Personal("snapshot.answers")]
Scores = Annotated[dict[str, float], Personal("snapshot.scores")]


class SnapshotClosed(Conflict):
    """The snapshot is completed or discarded and takes no more changes."""

    code = "snapshot-closed"


class Snapshot(LedgerAggregate):
    """Answers and scores are the participant's health data, sealed under
    the participant's key: every event names the participant as its subject.

    Replaying the history of an erased participant never fails: answers and
    scores read as the ERASED marker. Raises SnapshotClosed for changes after
    completion or discarding.
    """

    TOPIC = "wellbeing:Snapshot"

    class Event(LedgerAggregate.Event):
        TOPIC = "wellbeing:Snapshot.Event"
        subject_field = "participant_id"
        participant_id: UUID

    class Created(Event, LedgerAggregate.Created):
        TOPIC = "wellbeing:Snapshot.Created"

    @event("Started", topic="wellbeing:SnapshotStarted")
    def __init__(  # noqa: PLR0913
        self,
        actor_id: UUID,
        participant_id: UUID,
        team_id: UUID,
        instrument: str,
        instrument_version: int,
        kind: str,
        taken_on: date,
    ) -> None:
        self.participant_id = participant_id
        self.team_id = team_id
        self.instrument = instrument
        self.instrument_version = instrument_version
        self.kind = kind
        self.taken_on = taken_on
        self.answers: dict[str, int] = {}
        self.scores: dict[str, float] | None = None
        self.status = STARTED

    def record(self, actor_id: UUID, answers: dict[str, int]) -> None:
        """Record some answers; later saves overwrite earlier ones per item."""
        self.check_open()
        if answers:
            self._record(
                actor_id=actor_id, participant_id=self.participant_id, answers=answers
            )

    @event("AnswersRecorded", topic="wellbeing:SnapshotAnswersRecorded")
    def _record(self, actor_id: UUID, participant_id: UUID, answers: Answers) -> None:
        self.answers = merged(self.answers, answers, lambda a, b: {**a, **b})

    def complete(self, actor_id: UUID, scores: dict[str, float]) -> None:
        self.check_open()
        self._complete(
            actor_id=actor_id, participant_id=self.participant_id, scores=scores
        )

    @event("Completed", topic="wellbeing:SnapshotCompleted")
    def _complete(self, actor_id: UUID, participant_id: UUID, scores: Scores) -> None:
        self.scores = scores
        self.status = COMPLETED

    def discard(self, actor_id: UUID) -> None:
        self.check_open()
        self._discard(actor_id=actor_id, participant_id=self.participant_id)

    @event("Discarded", topic="wellbeing:SnapshotDiscarded")
    def _discard(self, actor_id: UUID, participant_id: UUID) -> None:
        self.status = DISCARDED

    def check_open(self) -> None:
        """Raise SnapshotClosed unless the snapshot is still being answered."""
        if self.status != STARTED:
            raise SnapshotClosed(f"snapshot is {self.status}")
