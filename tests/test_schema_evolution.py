"""Events stored by earlier versions still load, sealed fields included."""

import base64
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
from conftest import StoreFactory
from eventsourcing.utils import resolve_topic

from wellbeing.aggregates.participant import Participant
from wellbeing.commands.loading import load
from wellbeing.crypto import Kek
from wellbeing.persistence.event_store import EVENTS_TABLE
from wellbeing.persistence.runtime import Runtime, open_runtime

FIXTURES = Path(__file__).parent / "fixtures"


def _restore(runtime: Runtime, fixture: dict[str, Any]) -> None:
    """Write the fixture's rows as they were stored, byte for byte."""
    sqlite = runtime.database.dialect == "sqlite"
    table = EVENTS_TABLE[runtime.database.dialect]
    with runtime.database.transaction() as tx:
        for key in fixture["subject_keys"]:
            subject = key["subject_id"] if sqlite else UUID(key["subject_id"])
            tx.execute(
                "INSERT INTO subject_keys (subject_id, kind, kek_id, wrapped,"
                " created_at) VALUES (%s, %s, %s, %s, CURRENT_TIMESTAMP)",
                (subject, key["kind"], key["kek_id"], base64.b64decode(key["wrapped"])),
            )
        for stored in fixture["events"]:
            originator = UUID(stored["originator_id"])
            row = (
                originator.hex if sqlite else originator,
                stored["originator_version"],
                stored["topic"],
                base64.b64decode(stored["state"]),
            )
            tx.execute(_INSERT[table], row)


_INSERT = {
    "stored_events": "INSERT INTO stored_events VALUES (%s, %s, %s, %s)",
    "wellbeing_events": "INSERT INTO wellbeing_events (originator_id,"
    " originator_version, topic, state) VALUES (%s, %s, %s, %s)",
}


def test_participant_registered_v1_is_upcast_with_sealed_fields(
    stores: StoreFactory,
) -> None:
    fixture = orjson.loads((FIXTURES / "participant_registered_v1.json").read_bytes())
    runtime = open_runtime(stores.settings(kek=Kek.from_text(fixture["kek"])))
    _restore(runtime, fixture)
    participant_id = UUID(fixture["events"][0]["originator_id"])

    participant = load(runtime, Participant, participant_id)
    runtime.close()

    expected = fixture["expected"]
    assert participant.surname == expected["surname"]
    assert participant.forename == expected["forename"]
    assert participant.date_of_birth.isoformat() == expected["date_of_birth"]
    assert participant.tags == {}


def test_every_fixture_event_resolves_to_a_class() -> None:
    for path in FIXTURES.glob("*.json"):
        fixture = orjson.loads(path.read_bytes())
        for stored in fixture["events"]:
            assert resolve_topic(stored["topic"]) is not None
