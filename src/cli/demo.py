"""`wellbeing demo`: the whole product on invented pupils, in under a minute."""

import argparse
import random
import shutil
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

from wellbeing.cli.demo_data import write_census, write_school_export
from wellbeing.cli.output import table
from wellbeing.commands import programs, snapshots, users
from wellbeing.commands.actor import Actor, operator
from wellbeing.commands.erasure import EraseParticipant, erase_participant
from wellbeing.commands.import_participants import (
    ImportParticipants,
    import_participants,
)
from wellbeing.commands.instrument_files import load_instruments
from wellbeing.commands.participants import list_participants
from wellbeing.commands.reports import export_subdomains, partner_rows, usage_for
from wellbeing.commands.teams import (
    AgreeSharing,
    RegisterTeam,
    agree_sharing,
    register_team,
)
from wellbeing.errors import InputError
from wellbeing.persistence import tokens
from wellbeing.persistence.event_store import holds_events
from wellbeing.persistence.runtime import Runtime, open_runtime
from wellbeing.projections import export_files
from wellbeing.projections.partner_export import HQ, KERNOW, export_columns
from wellbeing.settings import Settings

T = TypeVar("T")
SCHOOLS = (
    ("Penhallow Primary (fictional)", "908", "2001", "census", 60),
    ("Trevessa Academy (fictional)", "908", "2002", "export", 2000),
    ("Carnbrea Junior (fictional)", "908", "2003", "census", 40),
)
YEAR_STARTS = date(2025, 9, 1)
INSTRUMENT = "wellbeing-check"


def progress(label: str, items: Sequence[T]) -> Iterator[T]:
    """Yield items while drawing a bar on the terminal; one line otherwise."""
    total = len(items)
    started = time.perf_counter()
    live = sys.stderr.isatty()
    for done, item in enumerate(items, 1):
        yield item
        if live and (done == total or done % max(1, total // 50) == 0):
            filled = done * 30 // max(total, 1)
            bar = "#" * filled + "." * (30 - filled)
            sys.stderr.write(f"\r  {label:<28} [{bar}] {done}/{total}")
            sys.stderr.flush()
    if live:
        sys.stderr.write("\n")
    print(f"  {label:<28} {total} in {time.perf_counter() - started:.1f}s")


def demo_settings(settings: Settings) -> Settings:
    """The demo's files go to a `demo` folder of their own; on SQLite its
    store lives there too, so the user's own store is untouched.
    """
    folder = settings.data_dir / "demo"
    if not settings.is_sqlite:
        return replace(settings, data_dir=folder)
    return replace(
        settings,
        data_dir=folder,
        database_url=f"sqlite:///{folder / 'wellbeing.sqlite3'}",
    )


def _afresh(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)


def open_demo_store(settings: Settings) -> Runtime:
    """An empty store with an empty demo folder; raises InputError, and
    leaves the last demo's files alone, when a PostgreSQL store has data.
    """
    if settings.is_sqlite:
        _afresh(settings.data_dir)
        return open_runtime(settings)
    runtime = open_runtime(settings)
    if holds_events(runtime.database):
        runtime.close()
        # A second demo in the same schema would register every school and
        # pupil again beside the first.
        raise InputError(
            "WELLBEING_DATABASE_URL: the demo needs an empty store; name a new"
            " schema with ?schema=NAME"
        )
    _afresh(settings.data_dir)
    return runtime


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    started = time.perf_counter()
    settings = demo_settings(settings)
    runtime = open_demo_store(settings)
    actor = operator()
    try:
        print(f"store: {_where(settings)}")
        teams = _register_schools(runtime, actor, settings.data_dir)
        pupils = {
            t: [UUID(p["id"]) for p in list_participants(runtime, actor, t)]
            for t in teams
        }
        _assess(runtime, actor, pupils)
        erased = pupils[teams[0]][0]
        erase_participant(runtime, EraseParticipant(actor, erased))
        print(f"  erased participant {erased}: it now reads as erased everywhere")
        token = _analyst_token(runtime, actor)
        report = usage_for(runtime, actor)
        written = _write_exports(runtime, actor, settings.data_dir / "exports")
    finally:
        runtime.close()
    _print_usage(report)
    print("\nfiles:")
    for path in written:
        print(f"  {path}")
    print("\ndashboard, signed in as a fictional HeadStart Kernow analyst:")
    print(f"  {_serve_command(settings)}")
    print("  then open http://127.0.0.1:8000/dashboard and give the token")
    print(f"  {token}")
    print(f"done in {time.perf_counter() - started:.1f}s")
    return 0


def _register_schools(runtime: Runtime, actor: Actor, folder: Path) -> list[UUID]:
    teams: list[UUID] = []
    for name, la_code, estab, shape, count in progress("registering schools", SCHOOLS):
        team_id = register_team(runtime, RegisterTeam(actor, name, la_code, estab))
        agree_sharing(
            runtime,
            AgreeSharing(actor, team_id, KERNOW, YEAR_STARTS - timedelta(days=365)),
        )
        path = folder / f"{estab}-{shape}.csv"
        if shape == "census":
            write_census(path, la_code, estab, count, seed=int(estab))
        else:
            write_school_export(path, la_code, estab, count)
        # Fictional, but shaped like real pupils' files: kept as private as
        # the exports.
        path.chmod(0o600)
        report = import_participants(
            runtime, ImportParticipants(actor, team_id, path, commit=True)
        )
        summary = report.summary()
        print(
            f"  {name}: {summary['new']} pupils imported,"
            f" {summary['rejected']} rows rejected ({path.name}, fictional)"
        )
        teams.append(team_id)
    return teams


def _assess(runtime: Runtime, actor: Actor, pupils: dict[UUID, list[UUID]]) -> None:
    rng = random.Random(5)
    instrument = load_instruments()[INSTRUMENT]
    chosen = [p for ids in pupils.values() for p in ids[1 : 1 + min(len(ids) - 1, 800)]]
    plans: list[tuple[UUID, str, date]] = []
    for participant_id in chosen:
        kind = "comprehensive" if rng.random() < 0.35 else "universal"
        taken = YEAR_STARTS + timedelta(days=rng.randint(0, 330))
        plans.append((participant_id, kind, taken))
    completed: list[tuple[UUID, str]] = []
    for participant_id, kind, taken in progress("recording snapshots", plans):
        started = snapshots.start_snapshot(
            runtime,
            snapshots.StartSnapshot(actor, participant_id, INSTRUMENT, kind, taken),
        )
        snapshot_id = UUID(str(started["id"]))
        answers = {
            i.id: rng.choice(instrument.scales[i.scale].values)
            for i in instrument.items_for(kind)
        }
        snapshots.record_answers(
            runtime, snapshots.RecordAnswers(actor, snapshot_id, answers)
        )
        snapshots.complete_snapshot(
            runtime, snapshots.CompleteSnapshot(actor, snapshot_id)
        )
        completed.append((snapshot_id, kind))
    comprehensive = [s for s, kind in completed if kind == "comprehensive"]
    for snapshot_id in progress(
        "starting programs", comprehensive[: len(comprehensive) // 2]
    ):
        programs.start_program(runtime, programs.StartProgram(actor, snapshot_id))


def _analyst_token(runtime: Runtime, actor: Actor) -> str:
    """A token for a fictional partner analyst, to try the dashboard with."""
    analyst = users.create_user(
        runtime, users.CreateUser(actor, "analyst@demo.invalid", "Demo Analyst")
    )
    analyst_id = UUID(str(analyst["id"]))
    users.grant_role(runtime, users.GrantRole(actor, analyst_id, "analyst", KERNOW))
    with runtime.database.transaction() as tx:
        _, secret = tokens.issue(tx, analyst_id, actor.user_id)
    return secret


def _write_exports(runtime: Runtime, actor: Actor, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    subdomains = export_subdomains()
    written: list[Path] = []
    for partner in progress("exporting for partners", [KERNOW, HQ]):
        rows = list(partner_rows(runtime, actor, partner))
        path = folder / f"{partner}.csv"
        columns = export_columns(partner, subdomains)
        _write(path, export_files.csv_chunks(rows, subdomains, columns))
        written.append(path)
        if partner == HQ:
            stats = folder / f"{partner}-statistics.csv"
            figures = export_files.statistics(rows)
            chunks = export_files.csv_chunks(
                figures, [], export_files.STATISTICS_COLUMNS
            )
            _write(stats, chunks)
            written.append(stats)
    return written


def _write(path: Path, chunks: Iterator[str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        for chunk in chunks:
            handle.write(chunk)
    path.chmod(0o600)


def _print_usage(report: dict[str, Any]) -> None:
    snapshots_, programs_ = report["snapshots"], report["programs"]
    rows: list[list[Any]] = [
        ["teams", report["teams"]],
        ["users", report["users"]],
        ["participants", report["participants"]],
        ["snapshots", snapshots_["total"]],
        *[[f"  {k}", v] for k, v in sorted(snapshots_["by_kind"].items())],
        ["programs", programs_["total"]],
    ]
    print("\nusage")
    print(table(rows, ("what", "count")))
    columns = ("period", "participants", "snapshots", "programs")
    print()
    print(
        table([[p[c] for c in columns] for p in report["by_period"]["term"]], columns)
    )


def _where(settings: Settings) -> str:
    return str(settings.sqlite_path) if settings.is_sqlite else "PostgreSQL"


def _serve_command(settings: Settings) -> str:
    serve = f"WELLBEING_DATA_DIR={settings.data_dir}"
    if not settings.is_sqlite:
        # The KEK is the caller's own; it is never printed.
        parts = urlsplit(settings.database_url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        user = f"{parts.username}@" if parts.username else ""
        shown = urlunsplit(
            (parts.scheme, user + host + port, parts.path, parts.query, "")
        )
        serve += f" WELLBEING_DATABASE_URL='{shown}' WELLBEING_KEK=..."
    return serve + " wellbeing serve"


__all__ = ["cmd_demo"]
