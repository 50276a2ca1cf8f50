"""Records of personal data leaving the service: exports and subject access."""

from uuid import UUID

from eventsourcing.domain import event

from wellbeing.aggregates.base import LedgerAggregate


class ExportDownload(LedgerAggregate):
    """One download of a partner's export, by an analyst of that partner."""

    TOPIC = "wellbeing:ExportDownload"

    class Event(LedgerAggregate.Event):
        TOPIC = "wellbeing:ExportDownload.Event"

    class Created(Event, LedgerAggregate.Created):
        TOPIC = "wellbeing:ExportDownload.Created"

    @event("Downloaded", topic="wellbeing:ExportDownloaded")
    def __init__(self, actor_id: UUID, partner: str, file_format: str) -> None:
        self.partner = partner
        self.file_format = file_format


class SubjectAccess(LedgerAggregate):
    """One subject-access report given out about a participant; ids only."""

    TOPIC = "wellbeing:SubjectAccess"

    class Event(LedgerAggregate.Event):
        TOPIC = "wellbeing:SubjectAccess.Event"

    class Created(Event, LedgerAggregate.Created):
        TOPIC = "wellbeing:SubjectAccess.Created"

    @event("Provided", topic="wellbeing:SubjectAccessProvided")
    def __init__(self, actor_id: UUID, participant_id: UUID) -> None:
        self.participant_id = participant_id
