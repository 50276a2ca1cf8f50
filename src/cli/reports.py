"""Command-line verbs for usage figures, partner exports and projections."""

import argparse
import logging
import signal
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from wellbeing.cli.commands import Sub, acting, runtime_for, uuid_arg, verb
from wellbeing.cli.output import emit_json, table
from wellbeing.commands import audit
from wellbeing.commands.reports import export_subdomains, partner_rows, usage_for
from wellbeing.errors import InputError
from wellbeing.projections import export_files
from wellbeing.projections.partner_export import HQ, PARTNERS
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
    export.add_argument("--format", choices=("csv", "json"))
    project = verb(sub, "project", cmd_project, "keep projections up to date")
    project.add_argument("name", nargs="?", choices=sorted(all_projections()))
    project.add_argument(
        "--rebuild", action="store_true", help="build afresh, then switch over"
    )
    project.add_argument("--once", action="store_true", help="catch up once and stop")


def cmd_stats(settings: Settings, args: argparse.Namespace) -> int:
    with runtime_for(settings, need_kek=False) as runtime:
        report = usage_for(runtime, acting(args))
    if args.json:
        emit_json(report)
        return 0
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
    print(table(rows, ("what", "count")))
    periods = report["by_period"]["term"]
    if periods:
        print()
        columns = ("period", "participants", "snapshots", "programs")
        print(table([[p[c] for c in columns] for p in periods], columns))
    return 0


def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    kind = args.format or args.out.suffix.lstrip(".").lower()
    if kind not in ("csv", "json"):
        raise InputError("format: give --format csv or json, or an .csv/.json file")
    with runtime_for(settings) as runtime:
        rows = list(partner_rows(runtime, acting(args), args.partner))
    subdomains = export_subdomains()
    written = [args.out]
    if kind == "csv":
        _write_text(args.out, export_files.csv_chunks(rows, subdomains))
    else:
        args.out.write_bytes(b"".join(export_files.json_chunks(rows)))
    if args.partner == HQ:
        stats_path = args.out.with_name(args.out.stem + "-statistics." + kind)
        figures = export_files.statistics(rows)
        if kind == "csv":
            _write_text(stats_path, export_files.csv_chunks(figures, []))
        else:
            stats_path.write_bytes(orjson.dumps({"statistics": figures}))
        written.append(stats_path)
    for path in written:
        path.chmod(0o600)
    if args.json:
        emit_json({"rows": len(rows), "files": [str(p) for p in written]})
    else:
        print(f"{len(rows)} rows written to {', '.join(str(p) for p in written)}")
    return 0


def _write_text(path: Path, chunks: Any) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        for chunk in chunks:
            handle.write(chunk)


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
            from wellbeing.projections.engine import catch_up

            for projection in chosen:
                print(f"{projection.name}: {catch_up(runtime, projection)} events read")
            return 0
        if len(chosen) != 1:
            raise InputError("name: a runner process keeps one projection")
        stopping: list[bool] = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        run_projection(runtime, chosen[0], should_stop=lambda: bool(stopping))
    return 0


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
