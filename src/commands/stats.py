"""Quick counts straight from the event log; no KEK, no personal field."""

from typing import Any

from wellbeing.persistence.event_store import EVENTS_TABLE
from wellbeing.persistence.runtime import Runtime

COUNTED = {
    "teams": "wellbeing:TeamRegistered",
    "participants": "wellbeing:ParticipantRegistered",
    "erasures": "wellbeing:ParticipantPersonalDataErased",
}


def event_counts(runtime: Runtime) -> dict[str, Any]:
    """Counts by event topic; the event table's name is the library's own."""
    table = EVENTS_TABLE[runtime.database.dialect]
    statements = {
        "stored_events": "SELECT topic, count(*) FROM stored_events GROUP BY topic",
        "wellbeing_events": (
            "SELECT topic, count(*) FROM wellbeing_events GROUP BY topic"
        ),
    }
    with runtime.database.transaction() as tx:
        tx.execute(statements[table])
        by_topic = {str(topic): int(count) for topic, count in tx.fetchall()}
    return {name: by_topic.get(topic, 0) for name, topic in COUNTED.items()}
