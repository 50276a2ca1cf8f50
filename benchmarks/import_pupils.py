"""Pupils per second and peak memory of a census import, beside the bare library.

Writes a census file of fictional pupils, then measures, each in a fresh
process so that peak memory is its own: the product's import (validation,
blind indexes, sealing, import run, batches of 500) on PostgreSQL and on
SQLite, and a bare eventsourcing Application saving the same events (same
fields, no sealing, no index, no run, batches of the same size). Both read
the file with the product's reader, so the difference is what the product
adds on the write side.
"""

import argparse
import csv
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import Transcoder, Transcoding
from psycopg import sql

from harness import DEFAULT_POSTGRES, fresh_store, machine
from wellbeing.aggregates.upn import check_letter
from wellbeing.commands.actor import operator
from wellbeing.commands.import_participants import (
    BATCH_SIZE,
    ImportParticipants,
    import_participants,
)
from wellbeing.commands.pupil_file import read_pupil_file
from wellbeing.commands.teams import (
    DefineTags,
    RegisterTeam,
    define_tags,
    register_team,
)
from wellbeing.persistence.database import postgres_parts

STORES = ("postgres", "sqlite")
WRITERS = ("product", "bare")
LA, ESTAB = "999", "1001"
TARGET_RATE, TARGET_MB = 5_000, 300


def write_census(path: Path, pupils: int) -> None:
    """A school census export of fictional pupils with valid UPNs of LA 999."""
    born = date(2011, 9, 1)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["LEA", "Estab", "UPN", "Surname", "Forename", "Middlenames", "Sex"]
            + ["DOB", "NCyearActual", "FSMeligible", "SENProvision"]
        )
        for number in range(pupils):
            body = f"{LA}{number:09d}"
            writer.writerow(
                [
                    LA,
                    ESTAB,
                    check_letter(body) + body,
                    f"Fictionalsurname{number}",
                    f"Fictionalforename{number}",
                    "",
                    "MF"[number % 2],
                    (born + timedelta(days=number % 2900)).strftime("%d/%m/%Y"),
                    str(1 + number % 6),
                    "1" if number % 5 == 0 else "",
                    ("K", "E", "", "", "")[number % 5],
                ]
            )


class BarePupil(Aggregate):
    """A pupil with the product's registration fields, nothing sealed."""

    @event("Registered")
    def __init__(  # noqa: PLR0913
        self,
        actor_id: uuid.UUID,
        team_id: uuid.UUID,
        reference: int,
        surname: str,
        forename: str,
        middle_names: str | None,
        date_of_birth: date,
        sex: str | None,
        year_group: str | None,
        upn: str | None,
        former_upns: list[str],
        tags: dict[str, list[str]],
    ) -> None:
        self.team_id = team_id
        self.reference = reference
        self.surname = surname
        self.forename = forename
        self.middle_names = middle_names
        self.date_of_birth = date_of_birth
        self.sex = sex
        self.year_group = year_group
        self.upn = upn
        self.former_upns = former_upns
        self.tags = tags


class _DateAsIso(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class BareLedger(Application[uuid.UUID]):
    name = "barepupils"

    def register_transcodings(self, transcoder: Transcoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(_DateAsIso())


@dataclass
class Timed:
    """Pupils stored, and the wall-clock and CPU seconds the storing took."""

    pupils: int = 0
    wall: float = 0.0
    cpu: float = 0.0


@contextmanager
def stopwatch(timed: Timed) -> Iterator[None]:
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    timed.wall = time.perf_counter() - wall
    timed.cpu = time.process_time() - cpu


def run_bare(store: str, source: Path, postgres_url: str, batch: int) -> Timed:
    """Save one BarePupil per row in batches of the same size."""
    timed = Timed()
    with bare_env(store, postgres_url) as env:
        app = BareLedger(env)
        with stopwatch(timed):
            timed.pupils = _save_bare(app, source, batch)
        app.close()
    return timed


def _save_bare(app: BareLedger, source: Path, batch: int) -> int:
    actor, team = operator().user_id, uuid.uuid4()
    saved, pending = 0, []
    for row in read_pupil_file(source).rows():
        assert row.surname and row.forename and row.date_of_birth
        tags = {k: [v] for k, v in row.tags.items()}
        pending.append(
            BarePupil(
                actor,
                team,
                saved + len(pending) + 1,
                row.surname,
                row.forename,
                row.middle_names,
                row.date_of_birth,
                row.sex,
                row.year_group,
                row.upn,
                [],
                tags,
            )
        )
        if len(pending) == batch:
            app.save(*pending)
            saved, pending = saved + len(pending), []
    if pending:
        app.save(*pending)
        saved += len(pending)
    return saved


@contextmanager
def bare_env(store: str, postgres_url: str) -> Iterator[dict[str, str]]:
    folder = Path(tempfile.mkdtemp(prefix="wellbeing-bare-"))
    if store == "sqlite":
        try:
            yield {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(folder / "bare.sqlite3"),
            }
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    schema = "bare_" + uuid.uuid4().hex[:12]
    parts = postgres_parts(postgres_url)
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        yield {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": parts["dbname"],
            "POSTGRES_HOST": parts["host"],
            "POSTGRES_PORT": parts["port"],
            "POSTGRES_USER": parts["user"],
            "POSTGRES_PASSWORD": parts["password"],
            "POSTGRES_SCHEMA": schema,
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        with psycopg.connect(postgres_url, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema))
            )


def run_product(store: str, source: Path, postgres_url: str, batch: int) -> Timed:
    """Import the file into a fresh team with FSM and SEN vocabularies."""
    timed = Timed()
    with fresh_store(store, postgres_url) as runtime:
        actor = operator()
        team_id = register_team(runtime, RegisterTeam(actor, "Bench", LA, ESTAB))
        define_tags(runtime, DefineTags(actor, team_id, "FSM", ("1",)))
        define_tags(runtime, DefineTags(actor, team_id, "SEN provision", ("K", "E")))
        command = ImportParticipants(
            actor, team_id, source, commit=True, batch_size=batch
        )
        with stopwatch(timed):
            report = import_participants(runtime, command)
        timed.pupils = report.summary()["new"]
    return timed


def child(args: argparse.Namespace) -> None:
    """One measurement in this process; prints it as one JSON line."""
    run = run_product if args.writer == "product" else run_bare
    timed = run(args.store, args.file, args.database_url, args.batch)
    # ru_maxrss is in kilobytes on Linux: the peak of this whole process.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({**asdict(timed), "peak_mb": peak}))


def measure(args: argparse.Namespace, store: str, writer: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", writer, "--store", store]
        + ["--file", str(args.file), "--database-url", args.database_url]
        + ["--batch", str(args.batch)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"{writer} on {store} failed")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def report(args: argparse.Namespace) -> None:
    print(f"machine: {machine()}")
    size = args.file.stat().st_size / 1e6
    print(f"file: {args.pupils:,} fictional pupils, {size:.1f} MB, batch {args.batch}")
    heading = ("store", "writer", "pupils/s", "wall s", "cpu s", "peak MB")
    print("{:<10}{:<20}{:>10}{:>9}{:>8}{:>9}".format(*heading))
    for store in args.stores:
        results = {writer: measure(args, store, writer) for writer in WRITERS}
        for writer, result in results.items():
            if result["pupils"] != args.pupils:
                raise SystemExit(f"{writer} on {store} stored {result['pupils']}")
            label = "product import" if writer == "product" else "bare eventsourcing"
            print(
                f"{store:<10}{label:<20}{_rate(result):>10,.0f}{result['wall']:>9.1f}"
                f"{result['cpu']:>8.1f}{result['peak_mb']:>9.1f}"
            )
        ratio = _rate(results["product"]) / _rate(results["bare"])
        print(f"{store:<10}{'product / bare':<20}{ratio:>10.2f}")
        if store == "postgres":
            product = results["product"]
            met = _rate(product) >= TARGET_RATE and product["peak_mb"] < TARGET_MB
            print(
                f"target on postgres, {TARGET_RATE:,} pupils/s under {TARGET_MB} MB:"
                f" {'met' if met else 'not met'}"
            )


def _rate(result: dict[str, Any]) -> float:
    return float(result["pupils"]) / float(result["wall"])


def _stores(text: str) -> list[str]:
    chosen = [name.strip() for name in text.split(",") if name.strip()]
    if not chosen or set(chosen) - set(STORES):
        raise argparse.ArgumentTypeError("choose from postgres and sqlite")
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pupils", type=int, default=100_000)
    parser.add_argument("--database-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--batch", type=int, default=BATCH_SIZE)
    parser.add_argument(
        "--stores", type=_stores, default=list(STORES), help="postgres,sqlite"
    )
    parser.add_argument("--child", choices=WRITERS, help=argparse.SUPPRESS)
    parser.add_argument("--store", choices=STORES, help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.writer = args.child
        child(args)
        return
    folder = Path(tempfile.mkdtemp(prefix="wellbeing-census-"))
    try:
        args.file = folder / "census.csv"
        write_census(args.file, args.pupils)
        report(args)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
