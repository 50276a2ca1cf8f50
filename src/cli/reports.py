"""Command-line verbs for usage figures, partner exports and projections."""

import argparse
import logging
import os
import signal
import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from wellbeing.cli.commands import Sub, acting, runtime_for, uuid_arg, verb
from wellbeing.cli.output import emit_json, table
from wellbeing.commands import audit
from wellbeing.commands.reports import export_subdomains, partner_rows, usage_for
from wellbeing.errors import InputError
from wellbeing.persistence.runtime import Runtime
from wellbeing.projections import export_files
from wellbeing.projections.engine import Projection, catch_up
from wellbeing.projections.partner_export import HQ, PARTNERS, export_columns
from wellbeing.projections.rebuild import rebuild
from wellbeing.projections.registry import all_projections
from wellbeing.projections.runner import run_projection
from wellbeing.settings import Settings

logger = logging.getLogger(__name__)


def add_all(sub: Sub) -> None:
    add_audit(sub)
    stats = verb(sub, "stats", cmd_stats, "usage figures; needs no KEK")
    stats.set_defaults(need_kek=False)
    export = verb(sub, "export", cmd_export, "write a partner export")
    export.add_argument("partner", choices=PARTNERS)
    export.add_argument("--out", required=True, type=Path)
    export.add_argument(
        "--format", choices=FORMATS, help="csv or json; else the file's extension"
    )
    project = verb(sub, "project", cmd_project, "keep projections up to date")
    project.add_argument("name", nargs="?", choices=sorted(all_projections()))
    project.add_argument(
        "--rebuild", action="store_true", help="build afresh, then switch over"
    )
    project.add_argument("--once", action="store_true", help="catch up once and stop")


FORMATS = ("csv", "json")


def cmd_stats(settings: Settings, args: argparse.Namespace) -> int:
    with runtime_for(settings, need_kek=False) as runtime:
        report = usage_for(runtime, acting(args))
    if args.json:
        emit_json(report)
        return 0
    print(usage_text(report))
    return 0


def usage_text(report: dict[str, Any]) -> str:
    """The usage figures as tables: totals, then by LA and by term."""
    snapshots, programs = report["snapshots"], report["programs"]
    rows: list[list[Any]] = [
        ["teams", report["teams"]],
        ["users", report["users"]],
        ["participants", report["participants"]],
        ["snapshots", snapshots["total"]],
        *[[f"  {k}", v] for k, v in sorted(snapshots["by_kind"].items())],
        *[[f"  {k}", v] for k, v in sorted(snapshots["by_status"].items())],
        ["programs", programs["total"]],
        *[[f"  {k}", v] for k, v in sorted(programs["by_status"].items())],
    ]
    parts = [table(rows, ("what", "count"))]
    columns = ("teams", "users", "participants", "snapshots", "programs")
    for key, label in (("by_la", "la_code"), ("by_partner", "partner")):
        if report[key]:
            lines = [[r[label], *(r[c] for c in columns)] for r in report[key]]
            parts.append(table(lines, (label, *columns)))
    terms = report["by_period"]["term"]
    if terms:
        lines = [[p["period"], *(p[c] for c in columns)] for p in terms]
        parts.append(table(lines, ("term", *columns)))
    return "\n\n".join(parts)


def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    kind = args.format or args.out.suffix.lstrip(".").lower()
    if kind not in FORMATS:
        raise InputError("format: give --format csv or json, or a .csv/.json file")
    if not args.out.parent.is_dir():
        raise InputError("out: the folder does not exist")
    with runtime_for(settings) as runtime:
        rows = list(partner_rows(runtime, acting(args), args.partner))
    subdomains = export_subdomains()
    if kind == "csv":
        columns = export_columns(args.partner, subdomains)
        _write(args.out, _encoded(export_files.csv_chunks(rows, subdomains, columns)))
    else:
        _write(args.out, export_files.json_chunks(rows))
    written = [args.out]
    if args.partner == HQ:
        stats_path = args.out.with_name(args.out.stem + "-statistics." + kind)
        figures = export_files.statistics(rows)
        if kind == "csv":
            chunks = export_files.csv_chunks(
                figures, [], export_files.STATISTICS_COLUMNS
            )
            _write(stats_path, _encoded(chunks))
        else:
            _write(stats_path, [orjson.dumps({"statistics": figures})])
        written.append(stats_path)
    if args.json:
        emit_json({"rows": len(rows), "files": [str(p) for p in written]})
    else:
        print(f"{len(rows)} rows written to {', '.join(str(p) for p in written)}")
    return 0


def _encoded(chunks: Iterable[str]) -> Iterator[bytes]:
    return (chunk.encode("utf-8") for chunk in chunks)


def _write(path: Path, chunks: Iterable[bytes]) -> None:
    """Write a file readable by its owner only, whole or not at all."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def cmd_project(settings: Settings, args: argparse.Namespace) -> int:
    projections = all_projections()
    chosen = [projections[args.name]] if args.name else list(projections.values())
    with runtime_for(settings, need_kek=False) as runtime:
        if args.rebuild:
            for projection in chosen:
                reached = rebuild(runtime, projection)
                print(f"{projection.name}: rebuilt up to event {reached}")
            return 0
        if args.once or runtime.database.dialect == "sqlite":
            # The embedded store has no runner processes: reads catch up.
            for projection in chosen:
                print(f"{projection.name}: {catch_up(runtime, projection)} events read")
            return 0
        _run_runners(runtime, chosen)
    return 0


def _run_runners(runtime: Runtime, chosen: list[Projection]) -> None:
    """One runner per projection, each in a thread, until SIGTERM or SIGINT."""
    stopping = threading.Event()

    def stop(*_: object) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threads = [
        threading.Thread(
            target=run_projection,
            args=(runtime, projection),
            kwargs={"should_stop": stopping.is_set},
            name=f"runner-{projection.name}",
        )
        for projection in chosen
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(timeout=0.5)


def add_audit(sub: Sub) -> None:
    verbs = sub.add_parser("audit", help="history, past state, verification")
    actions = verbs.add_subparsers(dest="verb", required=True)
    history = verb(actions, "history", cmd_audit_history, "a record's events")
    history.add_argument("id", type=uuid_arg)
    state = verb(actions, "state", cmd_audit_state, "a record as at a time")
    state.add_argument("id", type=uuid_arg)
    state.add_argument("--at", required=True, type=datetime_arg)
    verb(actions, "verify", cmd_audit_verify, "replay everything and compare")


def datetime_arg(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError("write the time as ISO 8601") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def cmd_audit_history(settings: Settings, args: argparse.Namespace) -> int:
    with runtime_for(settings) as runtime:
        records = audit.audit_history(runtime, acting(args), args.id)
    for record in records:
        print(orjson.dumps(record).decode())
    return 0


def cmd_audit_state(settings: Settings, args: argparse.Namespace) -> int:
    with runtime_for(settings) as runtime:
        emit_json(audit.state_at(runtime, acting(args), args.id, args.at))
    return 0


def cmd_audit_verify(settings: Settings, args: argparse.Namespace) -> int:
    with runtime_for(settings) as runtime:
        result = audit.verify(runtime, acting(args))
    if args.json:
        emit_json(result)
    else:
        print(
            f"{result['aggregates']} records replayed;"
            f" {len(result['failures'])} failed to load"
        )
        for failure in result["failures"]:
            print(f"  {failure['id']}: {failure['error']}")
        for name, outcome in result["views"].items():
            state = "equal to a rebuild" if outcome["equal"] else "DIFFERS"
            print(f"  view {name}: {state} {outcome['differing_rows'] or ''}")
    clean = not result["failures"] and all(v["equal"] for v in result["views"].values())
    return 0 if clean else 1
