"""Command-line verbs for instruments, snapshots, programs and retention."""

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from wellbeing.cli.commands import Sub, acting, runtime_for, uuid_arg, verb
from wellbeing.cli.output import emit_json, table
from wellbeing.cli.staff import date_arg
from wellbeing.commands import programs, snapshots
from wellbeing.commands.idempotency import run_once
from wellbeing.commands.instrument_files import load_instruments
from wellbeing.commands.retention import run_retention
from wellbeing.errors import InputError
from wellbeing.persistence.runtime import Runtime
from wellbeing.settings import Settings

Result = dict[str, Any]


def add_all(sub: Sub) -> None:
    _add_instruments(sub)
    _add_snapshots(sub)
    _add_programs(sub)
    retention = sub.add_parser("retention", help="erase pupils past retention")
    verbs = retention.add_subparsers(dest="verb", required=True)
    verb(verbs, "run", cmd_retention_run, "erase pupils who left long ago")


def run_command(
    runtime: Runtime,
    args: argparse.Namespace,
    command: object,
    work: Callable[[], Result],
) -> Result:
    """Run work once per --idempotency-key when one is given.

    A repeat prints the first result, so results kept this way hold ids and
    counts only, never answers, scores or notes.
    """
    key: str | None = getattr(args, "idempotency_key", None)
    if not key:
        return work()
    return run_once(runtime, key, acting(args), command, work)


def print_result(args: argparse.Namespace, result: Result) -> None:
    if args.json:
        emit_json(result)
        return
    for key, value in result.items():
        if isinstance(value, dict):
            print(f"{key}:")
            for name, inner in value.items():
                print(f"  {name}: {inner}")
        else:
            print(f"{key}: {value}")


def _add_instruments(sub: Sub) -> None:
    verbs = sub.add_parser("instruments", help="assessment instruments").add_subparsers(
        dest="verb", required=True
    )
    verb(verbs, "list", cmd_instruments_list, "the shipped instruments")
    show = verb(verbs, "show", cmd_instruments_show, "one instrument's items")
    show.add_argument("name")


def instrument_json(name: str) -> dict[str, Any]:
    instruments = load_instruments()
    if name not in instruments:
        raise InputError("name: no such instrument")
    instrument = instruments[name]
    return {
        "name": instrument.name,
        "version": instrument.version,
        "title": instrument.title,
        "items": [
            {
                "id": item.id,
                "subdomain": item.subdomain,
                "universal": item.universal,
                "scale": list(instrument.scales[item.scale].values),
                "text": item.text,
            }
            for item in instrument.items
        ],
    }


def cmd_instruments_list(settings: Settings, args: argparse.Namespace) -> int:
    rows = [
        {"name": i.name, "version": i.version, "title": i.title, "items": len(i.items)}
        for i in load_instruments().values()
    ]
    if args.json:
        emit_json({"items": rows})
    else:
        print(table([list(r.values()) for r in rows], list(rows[0]) if rows else []))
    return 0


def cmd_instruments_show(settings: Settings, args: argparse.Namespace) -> int:
    shown = instrument_json(args.name)
    if args.json:
        emit_json(shown)
    else:
        rows = [
            [i["id"], i["subdomain"], i["universal"], i["text"]] for i in shown["items"]
        ]
        print(table(rows, ("id", "subdomain", "universal", "text")))
    return 0


def _add_snapshots(sub: Sub) -> None:
    verbs = sub.add_parser("snapshots", help="assessments").add_subparsers(
        dest="verb", required=True
    )
    start = verb(
        verbs, "start", cmd_snapshots_start, "start an assessment of one or more pupils"
    )
    start.add_argument("participant_id", type=uuid_arg, nargs="+")
    start.add_argument("--instrument", required=True)
    start.add_argument("--kind", required=True, choices=("universal", "comprehensive"))
    start.add_argument("--on", type=date_arg, help="date taken (default today)")
    answer = verb(verbs, "answer", cmd_snapshots_answer, "record some answers")
    answer.add_argument("snapshot_id", type=uuid_arg)
    answer.add_argument(
        "--answers", required=True, type=Path, help="JSON object: item id to answer"
    )
    for name, handler, help_text in (
        ("complete", cmd_snapshots_complete, "score a fully answered assessment"),
        ("discard", cmd_snapshots_discard, "discard an open assessment"),
        ("show", cmd_snapshots_show, "an assessment with its answers and scores"),
    ):
        parser = verb(verbs, name, handler, help_text)
        parser.add_argument("snapshot_id", type=uuid_arg)


def cmd_snapshots_start(settings: Settings, args: argparse.Namespace) -> int:
    actor = acting(args)
    ids = tuple(args.participant_id)
    with runtime_for(settings) as runtime:
        if len(ids) == 1:
            single = snapshots.StartSnapshot(
                actor, ids[0], args.instrument, args.kind, args.on
            )
            result = run_command(
                runtime, args, single, lambda: snapshots.start_snapshot(runtime, single)
            )
        else:
            group = snapshots.StartGroupSnapshots(
                actor, ids, args.instrument, args.kind, args.on
            )
            result = run_command(
                runtime, args, group, lambda: snapshots.start_group(runtime, group)
            )
    print_result(args, result)
    return 0


def read_answers(path: Path) -> dict[str, Any]:
    """A JSON object from item id to answer; the instrument checks each one."""
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        raise InputError("answers: not a readable JSON file") from None
    if not isinstance(data, dict):
        raise InputError("answers: must be a JSON object of item id to answer")
    return data


def cmd_snapshots_answer(settings: Settings, args: argparse.Namespace) -> int:
    command = snapshots.RecordAnswers(
        acting(args), args.snapshot_id, read_answers(args.answers)
    )
    with runtime_for(settings) as runtime:
        result = run_command(
            runtime, args, command, lambda: snapshots.record_answers(runtime, command)
        )
    print_result(args, result)
    return 0


def cmd_snapshots_complete(settings: Settings, args: argparse.Namespace) -> int:
    command = snapshots.CompleteSnapshot(acting(args), args.snapshot_id)

    def complete(runtime: Runtime) -> Result:
        done = snapshots.complete_snapshot(runtime, command)
        return {key: value for key, value in done.items() if key != "scores"}

    with runtime_for(settings) as runtime:
        result = run_command(runtime, args, command, lambda: complete(runtime))
        # Scores are health data, kept out of the idempotency record, so they
        # are read afresh from the snapshot even on a repeat.
        shown = snapshots.show_snapshot(runtime, command.actor, args.snapshot_id)
    print_result(args, {**result, "scores": shown["scores"]})
    return 0


def cmd_snapshots_discard(settings: Settings, args: argparse.Namespace) -> int:
    command = snapshots.DiscardSnapshot(acting(args), args.snapshot_id)
    with runtime_for(settings) as runtime:
        result = run_command(
            runtime, args, command, lambda: snapshots.discard_snapshot(runtime, command)
        )
    print_result(args, result)
    return 0


def cmd_snapshots_show(settings: Settings, args: argparse.Namespace) -> int:
    with runtime_for(settings) as runtime:
        result = snapshots.show_snapshot(runtime, acting(args), args.snapshot_id)
    print_result(args, result)
    return 0


def _add_programs(sub: Sub) -> None:
    verbs = sub.add_parser("programs", help="intervention plans").add_subparsers(
        dest="verb", required=True
    )
    start = verb(verbs, "start", cmd_programs_start, "start from a completed snapshot")
    start.add_argument("snapshot_id", type=uuid_arg)
    start.add_argument(
        "--participant",
        type=uuid_arg,
        help="refuse unless the snapshot is this participant's",
    )
    start.add_argument(
        "--items", type=Path, help="JSON: part to catalogue ids (default suggested)"
    )
    start.add_argument("--note")
    review = verb(verbs, "review", cmd_programs_review, "record a review")
    review.add_argument("program_id", type=uuid_arg)
    review.add_argument("--items", type=Path, help="JSON: part to catalogue ids")
    review.add_argument("--note")
    close = verb(verbs, "close", cmd_programs_close, "close a program")
    close.add_argument("program_id", type=uuid_arg)
    close.add_argument("--note")
    show = verb(verbs, "show", cmd_programs_show, "a program with its items and notes")
    show.add_argument("program_id", type=uuid_arg)


def read_items(path: Path | None) -> dict[str, list[str]] | None:
    if path is None:
        return None
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        raise InputError("items: not a readable JSON file") from None
    if not isinstance(data, dict) or not all(
        isinstance(v, list) and all(isinstance(e, str) for e in v)
        for v in data.values()
    ):
        raise InputError("items: must map each part to a list of catalogue ids")
    return data


def cmd_programs_start(settings: Settings, args: argparse.Namespace) -> int:
    command = programs.StartProgram(
        acting(args),
        args.snapshot_id,
        read_items(args.items),
        args.note,
        participant_id=args.participant,
    )
    with runtime_for(settings) as runtime:
        result = run_command(
            runtime, args, command, lambda: programs.start_program(runtime, command)
        )
    print_result(args, result)
    return 0


def cmd_programs_review(settings: Settings, args: argparse.Namespace) -> int:
    command = programs.ReviewProgram(
        acting(args), args.program_id, read_items(args.items), args.note
    )
    with runtime_for(settings) as runtime:
        result = run_command(
            runtime, args, command, lambda: programs.review_program(runtime, command)
        )
    print_result(args, result)
    return 0


def cmd_programs_close(settings: Settings, args: argparse.Namespace) -> int:
    command = programs.CloseProgram(acting(args), args.program_id, args.note)
    with runtime_for(settings) as runtime:
        result = run_command(
            runtime, args, command, lambda: programs.close_program(runtime, command)
        )
    print_result(args, result)
    return 0


def cmd_programs_show(settings: Settings, args: argparse.Namespace) -> int:
    with runtime_for(settings) as runtime:
        result = programs.show_program(runtime, acting(args), args.program_id)
    print_result(args, result)
    return 0


def cmd_retention_run(settings: Settings, args: argparse.Namespace) -> int:
    """Exit 1 when an erasure failed, so a scheduler reports it; the next run
    tries that pupil again."""
    with runtime_for(settings) as runtime:
        result = run_retention(runtime, acting(args))
    outcome = {
        "cutoff": result.cutoff.isoformat(),
        "erased": result.erased,
        "already_erased": result.already_erased,
        "failed": result.failed,
    }
    if args.json:
        emit_json(outcome)
    else:
        print(
            f"erased {result.erased} participants who left before {result.cutoff}"
            f" ({result.already_erased} were erased already)"
        )
    if result.failed:
        print(
            f"wellbeing: retention: {result.failed} erasures failed; see the log",
            file=sys.stderr,
        )
        return 1
    return 0
