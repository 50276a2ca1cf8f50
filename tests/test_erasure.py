"""Erasure destroys one person's key and every derived copy, on both stores."""

import logging
from pathlib import Path
from uuid import UUID

import pytest
from erasure_fixtures import erase, import_pair
from raw_scan import found, raw_bytes

from wellbeing.aggregates.participant import Participant, ParticipantErased
from wellbeing.aggregates.personal import ERASED
from wellbeing.commands import snapshots
from wellbeing.commands.actor import Actor
from wellbeing.commands.history import history
from wellbeing.commands.loading import load
from wellbeing.commands.participants import show_participant
from wellbeing.commands.subject_access import subject_access_report
from wellbeing.persistence.erasure import ERASERS
from wellbeing.persistence.runtime import Runtime


def test_erased_participant_reads_as_erased_marker(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    pair = import_pair(runtime, actor, tmp_path)

    erase(runtime, actor, pair.gone_id)

    participant = load(runtime, Participant, pair.gone_id)
    assert participant.erased
    assert participant.surname is ERASED
    assert participant.date_of_birth is ERASED
    assert participant.upn is ERASED


def test_other_participant_is_untouched(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    pair = import_pair(runtime, actor, tmp_path)

    erase(runtime, actor, pair.gone_id)

    kept = load(runtime, Participant, pair.kept_id)
    assert kept.surname == pair.kept.surname
    assert kept.date_of_birth == pair.kept.date_of_birth
    assert kept.upn == pair.kept.upn


def test_every_past_version_reads_as_erased(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    pair = import_pair(runtime, actor, tmp_path)

    erase(runtime, actor, pair.gone_id)

    first = runtime.ledger.repository.get(pair.gone_id, version=1)
    assert first.surname is ERASED
    records = history(runtime, pair.gone_id)
    assert records[0]["fields"]["surname"] == {"erased": True}
    assert records[-1]["event"] == "wellbeing:ParticipantPersonalDataErased"


def test_subject_access_after_erasure_holds_no_canary(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    pair = import_pair(runtime, actor, tmp_path)
    erase(runtime, actor, pair.gone_id)

    report = subject_access_report(runtime, actor, pair.gone_id)

    text = repr(report).encode()
    assert found(text, pair.gone.needles()) == []
    assert report["participant"]["surname"] == {"erased": True}


def test_erasing_twice_is_harmless(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    pair = import_pair(runtime, actor, tmp_path)
    erase(runtime, actor, pair.gone_id)

    erase(runtime, actor, pair.gone_id)

    events = runtime.ledger.events.get(pair.gone_id)
    erasures = [e for e in events if type(e).__name__ == "PersonalDataErased"]
    assert len(erasures) == 1


def test_erased_participant_refuses_corrections(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    pair = import_pair(runtime, actor, tmp_path)
    erase(runtime, actor, pair.gone_id)
    participant = load(runtime, Participant, pair.gone_id)

    with pytest.raises(ParticipantErased):
        participant.correct(actor.user_id, surname="Other")


def test_no_byte_of_the_erased_person_remains_in_the_store(
    runtime: Runtime,
    actor: Actor,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    pair = import_pair(runtime, actor, tmp_path)
    show_participant(runtime, actor, pair.gone_id)
    data_key = runtime.keys.for_reading(pair.gone_id)
    assert isinstance(data_key, bytes)
    wrapped = _wrapped_key(runtime, pair.gone_id)

    erase(runtime, actor, pair.gone_id)

    haystack = raw_bytes(runtime)
    gone = [*pair.gone.needles(), data_key, wrapped]
    assert found(haystack, gone) == []
    assert found(caplog.text.encode(), gone) == []
    assert _wrapped_key(runtime, pair.kept_id) in haystack or (
        _wrapped_key(runtime, pair.kept_id).hex().encode() in haystack
    )


def test_every_registered_store_has_an_eraser() -> None:
    assert {"blind-index"} <= set(ERASERS)


def _wrapped_key(runtime: Runtime, subject_id: object) -> bytes:
    with runtime.database.transaction() as tx:
        param = str(subject_id) if tx.dialect == "sqlite" else subject_id
        tx.execute("SELECT wrapped FROM subject_keys WHERE subject_id = %s", (param,))
        row = tx.fetchone()
    return b"" if row is None else bytes(row[0])


def test_subject_access_holds_the_pupils_snapshots_and_programs(
    runtime: Runtime, actor: Actor, tmp_path: Path
) -> None:
    pair = import_pair(runtime, actor, tmp_path)
    started = snapshots.start_snapshot(
        runtime,
        snapshots.StartSnapshot(actor, pair.gone_id, "wellbeing-check", "universal"),
    )
    snapshot_id = UUID(str(started["id"]))
    snapshots.record_answers(
        runtime, snapshots.RecordAnswers(actor, snapshot_id, {"mood-1": 2})
    )

    report = subject_access_report(runtime, actor, pair.gone_id)

    assert [s["id"] for s in report["snapshots"]] == [str(snapshot_id)]
    answered = [
        e for e in report["snapshots"][0]["history"] if "answers" in e["fields"]
    ]
    assert answered[0]["fields"]["answers"] == {"mood-1": 2}
    other = subject_access_report(runtime, actor, pair.kept_id)
    assert other["snapshots"] == []
