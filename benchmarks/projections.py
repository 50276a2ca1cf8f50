"""Projection throughput on PostgreSQL: catch-up and rebuild of the usage view.

Generates a history of schools, pupils, snapshots and programs through the
product's EventWriter in large batches, then times the usage projection
catching up from the first event and being rebuilt aside, next to the
eventsourcing library's own ProjectionRunner (one event per transaction)
doing the same work on the same data. The library's runner is slow, so it
is timed on a bounded slice: its first --library-events usage events, or
--library-seconds, whichever ends first.

    .venv/bin/python benchmarks/projections.py [--events 1000000]
"""

import argparse
import os
import platform
import random
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.application import Application
from eventsourcing.persistence import StoredEvent, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.projection import Projection, ProjectionRunner
from psycopg import sql

from wellbeing.aggregates.participant import Participant
from wellbeing.aggregates.program import Program
from wellbeing.aggregates.snapshot import Snapshot
from wellbeing.aggregates.team import Team
from wellbeing.aggregates.user import User
from wellbeing.commands.actor import operator
from wellbeing.crypto import Kek
from wellbeing.persistence.database import postgres_parts
from wellbeing.persistence.mapper import SealingMapper
from wellbeing.persistence.runtime import Runtime, open_runtime
from wellbeing.projections.engine import BATCH_SIZE, catch_up
from wellbeing.projections.rebuild import rebuild
from wellbeing.projections.usage import UsageProjection
from wellbeing.settings import Settings

DEFAULT_POSTGRES = "postgresql://root@127.0.0.1:5432/test"
PUPILS_PER_SCHOOL = 500
PUPILS_PER_COMMIT = 50
TARGET_RATE = 10_000
TARGET_REBUILD_SECONDS = 120.0
SURNAMES = ("Pengelly", "Trevithick", "Nance", "Rowe", "Jago", "Angove", "Curnow")
FORENAMES = ("Tamsin", "Jory", "Morwenna", "Kerensa", "Peran", "Demelza", "Lowen")


def machine(connection_url: str) -> str:
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with psycopg.connect(connection_url) as connection:
        row = connection.execute("SHOW server_version").fetchone()
    server = row[0] if row else "unknown"
    return (
        f"{os.cpu_count()} cores, {model}; Python {platform.python_version()},"
        f" PostgreSQL {server}, eventsourcing {version('eventsourcing')}"
    )


@contextmanager
def fresh_schema(url: str) -> Iterator[Runtime]:
    """A runtime on a schema of its own, dropped afterwards."""
    schema = "bench_" + uuid.uuid4().hex[:12]
    with TemporaryDirectory(prefix="wellbeing-bench-") as folder:
        settings = Settings(
            database_url=f"{url}?schema={schema}",
            data_dir=Path(folder),
            kek=Kek.generate().to_text(),
            pool_size=4,
        )
        runtime = open_runtime(settings)
        try:
            yield runtime
        finally:
            runtime.close()
            with psycopg.connect(url, autocommit=True) as connection:
                connection.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                        sql.Identifier(schema)
                    )
                )


@dataclass
class History:
    events: int = 0
    teams: int = 0
    pupils: int = 0


def generate(runtime: Runtime, wanted: int) -> History:
    """Schools of pupils with snapshots and programs, until `wanted` events.

    Each pupil has three snapshots of four events each (started, answers
    saved twice, completed or discarded), and a third of them a program
    (started, reviewed, closed): about 14 events a pupil.
    """
    rng = random.Random(7)
    actor = operator()
    history = History()
    while history.events < wanted:
        team_id, events = _school(runtime, actor, history.teams)
        history.teams += 1
        history.events += events
        for _ in range(PUPILS_PER_SCHOOL // PUPILS_PER_COMMIT):
            if history.events >= wanted:
                break
            made = [
                aggregate
                for _ in range(PUPILS_PER_COMMIT)
                for aggregate in _pupil(rng, actor.user_id, team_id, history.pupils)
            ]
            history.pupils += PUPILS_PER_COMMIT
            history.events += runtime.writer.commit(*made)
    return history


def _school(runtime: Runtime, actor: Any, number: int) -> tuple[UUID, int]:
    team = Team(
        actor_id=actor.user_id,
        name=f"School {number}",
        la_code=f"{900 + number % 30}",
        estab=f"{2000 + number:04d}",
    )
    team.agree(actor.user_id, "headstart-kernow", date(2023, 9, 1), None)
    now = datetime.now(UTC)
    staff = [
        User(actor_id=actor.user_id, email=f"s{number}-{n}@example.org", name=None)
        for n in range(3)
    ]
    for user in staff:
        team.invite(actor.user_id, user.id, "practitioner", now)
        team.join(user.id, user.id, now)
    return team.id, runtime.writer.commit(team, *staff)


def _pupil(rng: random.Random, actor_id: UUID, team_id: UUID, number: int) -> list[Any]:
    pupil = Participant(
        actor_id=actor_id,
        team_id=team_id,
        reference=number + 1,
        surname=rng.choice(SURNAMES),
        forename=rng.choice(FORENAMES),
        middle_names=None,
        date_of_birth=date(2012, 9, 1) + timedelta(days=rng.randrange(2000)),
        sex=rng.choice("FM"),
        year_group=str(rng.randint(1, 6)),
        upn=None,
        former_upns=[],
        tags={},
    )
    made: list[Any] = [pupil]
    for term_start in (date(2024, 9, 9), date(2025, 1, 13), date(2025, 4, 22)):
        snapshot = Snapshot(
            actor_id=actor_id,
            participant_id=pupil.id,
            team_id=team_id,
            instrument="wellbeing-check",
            instrument_version=1,
            kind=rng.choice(("universal", "universal", "comprehensive")),
            taken_on=term_start + timedelta(days=rng.randrange(60)),
        )
        snapshot.record(actor_id, {"m1": rng.randint(0, 4), "m2": rng.randint(0, 4)})
        snapshot.record(actor_id, {"c1": rng.randint(0, 4)})
        if rng.random() < 0.9:
            snapshot.complete(actor_id, {"mood": rng.randint(0, 16) / 4})
        else:
            snapshot.discard(actor_id)
        made.append(snapshot)
    if rng.random() < 1 / 3:
        program = Program(
            actor_id=actor_id,
            participant_id=pupil.id,
            team_id=team_id,
            snapshot_id=made[-1].id,
            items={"safety": [], "advice": ["a1"], "activities": []},
            note=None,
        )
        program.review(actor_id, None, "going well")
        program.close(actor_id, None)
        made.append(program)
    return made


def time_catch_up(runtime: Runtime) -> tuple[int, float]:
    started = time.perf_counter()
    read = catch_up(runtime, UsageProjection())
    return read, time.perf_counter() - started


def time_rebuild(runtime: Runtime) -> tuple[int, float]:
    started = time.perf_counter()
    reached = rebuild(runtime, UsageProjection())
    return reached, time.perf_counter() - started


def usage_events(runtime: Runtime) -> int:
    topics = sorted(UsageProjection.topics)
    with runtime.database.transaction() as tx:
        tx.execute(
            "SELECT count(*) FROM wellbeing_events WHERE topic = ANY(%s)", (topics,)
        )
        row = tx.fetchone()
    return int(row[0]) if row else 0


class LibraryUsageView(PostgresTrackingRecorder):
    """The usage records as the library's way would keep them: one row per
    record, written with its tracking row in a transaction per event."""

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.table = sql.Identifier(datastore.schema, "library_usage")
        self.sql_create_statements.append(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (record text PRIMARY KEY,"
                " topic text, team_id text)"
            ).format(self.table)
        )
        self.upsert = sql.SQL(
            "INSERT INTO {} (record, topic, team_id) VALUES (%s, %s, %s)"
            " ON CONFLICT (record) DO UPDATE SET topic = excluded.topic"
        ).format(self.table)

    def put(self, record: str, topic: str, team_id: str, tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(self.upsert, (record, topic, team_id))
            self._insert_tracking(cursor, tracking)


class LibraryUsage(Projection[LibraryUsageView]):
    name = "library_usage"
    topics = tuple(sorted(UsageProjection.topics))

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        team_id = getattr(domain_event, "team_id", domain_event.originator_id)
        self.view.put(
            f"{domain_event.originator_id}/{domain_event.originator_version}",
            type(domain_event).TOPIC,
            str(team_id),
            tracking,
        )


def library_env(runtime: Runtime) -> dict[str, str]:
    parts = postgres_parts(runtime.settings.database_url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": parts["dbname"],
        "POSTGRES_HOST": parts["host"],
        "POSTGRES_PORT": parts["port"],
        "POSTGRES_USER": parts["user"],
        "POSTGRES_PASSWORD": parts["password"],
        "POSTGRES_SCHEMA": parts["schema"],
    }


def time_library(
    runtime: Runtime, limit: int, seconds: float
) -> tuple[int, int, float]:
    """Run the library's runner until it has applied `limit` usage events or
    `seconds` have passed; returns events applied, log position, seconds."""
    keys = runtime.keys

    class Sealed(SealingMapper):
        # The same decoding as this product's engine: fields stay sealed.
        def to_domain_event(self, stored_event: StoredEvent) -> Any:
            return self.decode(stored_event, open_fields=False)

    class Ledger(Application[UUID]):
        name = "wellbeing"

        def construct_mapper(self) -> SealingMapper:
            return Sealed(keys)

    last = _nth_usage_position(runtime, limit)
    started = time.perf_counter()
    with ProjectionRunner(
        application_class=Ledger,
        projection_class=LibraryUsage,
        view_class=LibraryUsageView,
        env=library_env(runtime),
    ) as runner:
        with suppress(TimeoutError):
            runner.wait(last, timeout=seconds)
        elapsed = time.perf_counter() - started
        reached = runner.view.max_tracking_id("wellbeing") or 0
    with runtime.database.transaction() as tx:
        tx.execute("SELECT count(*) FROM library_usage")
        row = tx.fetchone()
    applied = min(int(row[0]) if row else 0, limit)
    return applied, reached, elapsed


def _nth_usage_position(runtime: Runtime, nth: int) -> int:
    with runtime.database.transaction() as tx:
        tx.execute(
            "SELECT notification_id FROM wellbeing_events WHERE topic = ANY(%s)"
            " ORDER BY notification_id OFFSET %s LIMIT 1",
            (sorted(UsageProjection.topics), nth - 1),
        )
        row = tx.fetchone()
        if row is None:
            tx.execute("SELECT coalesce(max(notification_id), 0) FROM wellbeing_events")
            row = tx.fetchone()
    return int(row[0]) if row else 0


def show(label: str, count: int, unit: str, seconds: float, note: str = "") -> None:
    rate = count / seconds if seconds else 0.0
    print(
        f"  {label:<10} {count:>11,} {unit:<13} {seconds:>8.1f} s"
        f" {rate:>10,.0f} {unit}/s  {note}".rstrip()
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("WELLBEING_TEST_DATABASE_URL", DEFAULT_POSTGRES),
    )
    parser.add_argument("--library-events", type=int, default=20_000)
    parser.add_argument("--library-seconds", type=float, default=30.0)
    args = parser.parse_args()

    print(f"machine: {machine(args.database_url)}")
    with fresh_schema(args.database_url) as runtime:
        started = time.perf_counter()
        history = generate(runtime, args.events)
        seconds = time.perf_counter() - started
        runtime.database.maintenance("ANALYZE wellbeing_events")
        applied = usage_events(runtime)
        print(
            f"history: {history.events:,} events ({history.teams:,} schools,"
            f" {history.pupils:,} pupils; {applied:,} of them for the usage view),"
            f" written in {seconds:.1f} s through EventWriter"
        )
        print(f"usage projection, this product (batches of {BATCH_SIZE:,} events):")
        read, catch_up_seconds = time_catch_up(runtime)
        show("catch-up", read, "events", catch_up_seconds)
        reached, rebuild_seconds = time_rebuild(runtime)
        show("rebuild", reached, "events", rebuild_seconds, "(new tables, then swap)")
        limit = min(args.library_events, applied)
        print(
            "eventsourcing ProjectionRunner, one event per transaction, on the"
            f" first {limit:,} usage events or {args.library_seconds:.0f} s:"
        )
        done, position, library_seconds = time_library(
            runtime, limit, args.library_seconds
        )
        show(
            "catch-up",
            done,
            "usage events",
            library_seconds,
            f"(log position {position:,})",
        )
        show("ours", applied, "usage events", catch_up_seconds, "(same measure)")
    rate = read / catch_up_seconds if catch_up_seconds else 0.0
    scaled = rebuild_seconds * 1_000_000 / max(reached, 1)
    print(
        f"target: at least {TARGET_RATE:,} events/s ({rate:,.0f}), a rebuild of"
        f" 1,000,000 events in under {TARGET_REBUILD_SECONDS:.0f} s"
        f" ({scaled:.0f} s at this rate)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
