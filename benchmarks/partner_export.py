"""Writing a partner export of N rows, against reading them still sealed.

Generates N fictional pupils in one school with a Kernow agreement, each
with a completed comprehensive snapshot, on PostgreSQL and on SQLite. Then,
in the same run, times the Kernow export written as CSV (every row opened
under its pupil's key) next to reading the same rows from the export view
without opening anything.
"""

import argparse
import io
import time
from datetime import date, timedelta

from harness import DEFAULT_POSTGRES, fresh_store, line, machine
from wellbeing.aggregates.participant import Participant
from wellbeing.aggregates.snapshot import Snapshot
from wellbeing.commands.actor import operator
from wellbeing.commands.instrument_files import load_instruments
from wellbeing.commands.reports import export_subdomains
from wellbeing.commands.teams import (
    AgreeSharing,
    RegisterTeam,
    agree_sharing,
    register_team,
)
from wellbeing.persistence.runtime import Runtime
from wellbeing.projections import export_files
from wellbeing.projections.engine import catch_up, live_names
from wellbeing.projections.exports import ExportProjection
from wellbeing.projections.partner_export import KERNOW, export_rows

BATCH = 1000


def generate(runtime: Runtime, rows: int) -> None:
    actor = operator()
    team_id = register_team(runtime, RegisterTeam(actor, "Bench School", "908", "1001"))
    agree_sharing(runtime, AgreeSharing(actor, team_id, KERNOW, date(2020, 9, 1)))
    instrument = load_instruments()["wellbeing-check"]
    answers = {item.id: 2 for item in instrument.items}
    scores = instrument.score(answers, "comprehensive")
    for start in range(0, rows, BATCH):
        batch = []
        for number in range(start, min(start + BATCH, rows)):
            pupil = Participant(
                actor_id=actor.user_id,
                team_id=team_id,
                reference=number + 1,
                surname="Benchsurname",
                forename=f"Bench{number}",
                middle_names=None,
                date_of_birth=date(2014, 9, 1) + timedelta(days=number % 1400),
                sex="F",
                year_group="6",
                upn=None,
                former_upns=[],
                tags={},
            )
            snapshot = Snapshot(
                actor_id=actor.user_id,
                participant_id=pupil.id,
                team_id=team_id,
                instrument=instrument.name,
                instrument_version=instrument.version,
                kind="comprehensive",
                taken_on=date(2025, 10, 1),
            )
            snapshot.record(actor.user_id, answers)
            snapshot.complete(actor.user_id, scores)
            batch += [pupil, snapshot]
        runtime.writer.commit(*batch)
    catch_up(runtime, ExportProjection())


def time_export(runtime: Runtime) -> tuple[int, float]:
    started = time.perf_counter()
    sink = io.StringIO()
    count = 0
    rows = export_rows(runtime, KERNOW)
    for chunk in export_files.csv_chunks(rows, export_subdomains()):
        sink.write(chunk)
        count += chunk.count("\n")
    return count - 1, time.perf_counter() - started


def time_sealed_read(runtime: Runtime) -> tuple[int, float]:
    names = live_names(ExportProjection())
    started = time.perf_counter()
    with runtime.database.transaction() as tx:
        tx.execute(
            "SELECT s.snapshot_id, s.taken_on, s.scores, p.surname, p.forename,"
            " p.date_of_birth, p.upn FROM "
            + names["export_snapshots"]
            + " s JOIN "
            + names["export_participants"]
            + " p ON p.participant_id = s.participant_id"
            " WHERE s.status = 'completed' AND s.kind = 'comprehensive'"
        )
        count = len(tx.fetchall())
    return count, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", default=DEFAULT_POSTGRES)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    for kind in ("postgres", "sqlite"):
        with fresh_store(kind, args.database_url) as runtime:
            started = time.perf_counter()
            generate(runtime, args.rows)
            print(
                f"\n{kind}: {args.rows} rows generated in"
                f" {time.perf_counter() - started:.1f}s"
            )
            raw_count, raw_seconds = time_sealed_read(runtime)
            rows, seconds = time_export(runtime)
            line("export written as CSV (product)", seconds, "s", f"({rows} rows)")
            line("same rows read still sealed", raw_seconds, "s", f"({raw_count} rows)")
            line("export rows per second", rows / seconds, "rows/s")


if __name__ == "__main__":
    main()
