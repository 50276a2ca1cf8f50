"""Cost of sealing, registration with and without it, and erasure time.

Prints, in one run: sealing and opening one field (µs) next to raw AES-GCM
on the same bytes; participant registration throughput with and without
sealing on the same write path; and the time to erase a person with 1 and
with 10,000 events of history, on SQLite and PostgreSQL.
"""

import argparse
import os
import statistics
import time
import uuid
from datetime import date
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from harness import DEFAULT_POSTGRES, fresh_store, line, machine
from wellbeing.aggregates.participant import Participant
from wellbeing.commands.actor import operator
from wellbeing.commands.erasure import EraseParticipant, erase_participant
from wellbeing.commands.teams import RegisterTeam, register_team
from wellbeing.crypto import new_data_key, open_sealed, seal
from wellbeing.persistence.event_store import EventWriter
from wellbeing.persistence.mapper import SealingMapper
from wellbeing.persistence.participants import add_to_team_index
from wellbeing.persistence.runtime import Runtime


class PlainMapper(SealingMapper):
    """The product's mapper and transcoder with no sealing: a baseline only."""

    def prepare_keys(self, events: list[Any]) -> None:
        return

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        state = dict(vars(domain_event))
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        return StoredEvent(
            originator_id=originator_id,
            originator_version=originator_version,
            topic=get_topic(type(domain_event)),
            state=self.transcoder.encode(state),
        )


def time_field_sealing(rounds: int) -> None:
    key, subject = new_data_key(), uuid.uuid4()
    plain = b'"Fictionalsurname"'
    aead = AESGCM(key)
    nonce = os.urandom(12)

    def per_call(work: object) -> float:
        started = time.perf_counter()
        for _ in range(rounds):
            work()  # type: ignore[operator]
        return (time.perf_counter() - started) / rounds * 1e6

    sealed = seal(key, subject, "participant.surname", plain)
    raw = aead.encrypt(nonce, plain, b"ad")
    print("field sealing (one value, microseconds per call)")
    line("seal (product)", per_call(lambda: seal(key, subject, "f", plain)), "us")
    line(
        "raw AES-GCM encrypt", per_call(lambda: aead.encrypt(nonce, plain, b"ad")), "us"
    )
    line(
        "open (product)",
        per_call(lambda: open_sealed(key, subject, "participant.surname", sealed)),
        "us",
    )
    line("raw AES-GCM decrypt", per_call(lambda: aead.decrypt(nonce, raw, b"ad")), "us")


def _pupil(team_id: uuid.UUID, number: int) -> Participant:
    return Participant(
        actor_id=operator().user_id,
        team_id=team_id,
        reference=number,
        surname="Fictionalsurname",
        forename="Fictionalforename",
        middle_names=None,
        date_of_birth=date(2015, 1, 1 + number % 28),
        sex="F",
        year_group="6",
        upn=None,
        former_upns=[],
        tags={},
    )


def registration_rate(runtime: Runtime, writer: EventWriter, count: int) -> float:
    team_id = uuid.uuid4()
    pupils = [_pupil(team_id, n) for n in range(count)]
    started = time.perf_counter()
    for start in range(0, count, 500):
        writer.commit(*pupils[start : start + 500])
    return count / (time.perf_counter() - started)


def erasure_ms(runtime: Runtime, history: int, repeats: int) -> float:
    timings = []
    team_id = register_team(
        runtime, RegisterTeam(operator(), "Benchmark School", "999", "1001")
    )
    for reference in range(1, repeats + 1):
        pupil = _pupil(team_id, reference)
        runtime.writer.commit(
            pupil,
            extra=lambda tx, p=pupil: add_to_team_index(tx, p.id, team_id, p.reference),
        )
        # Build the history in large saves so that setting up stays quick.
        for start in range(1, history, 1000):
            for n in range(start, min(start + 1000, history)):
                pupil.correct(operator().user_id, year_group=str(n % 2))
            runtime.writer.commit(pupil)
        started = time.perf_counter()
        erase_participant(runtime, EraseParticipant(operator(), pupil.id))
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pupils", type=int, default=20000)
    parser.add_argument("--history", type=int, default=10000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--database-url", default=DEFAULT_POSTGRES)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    time_field_sealing(20000)
    for kind in ("postgres", "sqlite"):
        with fresh_store(kind, args.database_url) as runtime:
            plain = EventWriter(runtime.database, PlainMapper(runtime.keys))
            print(f"\n{kind}: registration, {args.pupils} pupils, batches of 500")
            sealed_rate = registration_rate(runtime, runtime.writer, args.pupils)
            plain_rate = registration_rate(runtime, plain, args.pupils)
            line("with sealing (product)", sealed_rate, "pupils/s")
            line("without sealing (same write path)", plain_rate, "pupils/s")
            line("ratio", sealed_rate / plain_rate, "x")
            print(f"{kind}: erasure, median of {args.repeats}")
            line("1 event of history", erasure_ms(runtime, 1, args.repeats), "ms")
            line(
                f"{args.history} events of history",
                erasure_ms(runtime, args.history, args.repeats),
                "ms",
            )


if __name__ == "__main__":
    main()
