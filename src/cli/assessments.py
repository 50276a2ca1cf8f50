"""Command-line verbs for instruments, snapshots, programs and retention."""

import argparse
from pathlib import Path
from typing import Any

import orjson

from wellbeing.cli.commands import Sub, acting, runtime_for, uuid_arg, verb
from wellbeing.cli.output import emit_json, table
from wellbeing.cli.staff import date_arg
from wellbeing.commands import programs, snapshots
from wellbeing.commands.instrument_files import load_instruments
from wellbeing.commands.retention import run_retention
from wellbeing.errors import InputError
from wellbeing.settings import Settings


def add_all(sub: Sub) -> None:
    _add_instruments(sub)
    _add_snapshots(sub)
    _add_programs(sub)
    retention = sub.add_parser("retention", help="erase pupils past retention")
    verbs = retention.add_subparsers(dest="verb", required=True)
    verb(verbs, "run", cmd_retention_run, "erase pupils who left long ago")


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
    start = verb(verbs, "start", cmd_snapshots_start, "start an assessment")
    start.add_argument("participant_id", type=uuid_arg, nargs="+")
    start.add_argument("--instrument", required=True)
    start.add_argument("--kind", required=True, choices=("universal", "comprehensive"))
    start.add_argument("--on", type=date_arg, help="date taken (default today)")
    answer = verb(verbs, "answer", cmd_snapshots_answer, "record answers")
    answer.add_argument("snapshot_id", type=uuid_arg)
    answer.add_argument("--answers", required=True, type=Path, help="JSON file")
    for name, handler in (
        ("complete", cmd_snapshots_complete),
        ("discard", cmd_snapshots_discard),
    ):
        parser = verb(verbs, name, handler, f"{name} an assessment")
        parser.add_argument("snapshot_id", type=uuid_arg)


def cmd_snapshots_start(settings: Settings, args: argparse.Namespace) -> int:
    actor = acting(args)
    with runtime_for(settings) as runtime:
        if len(args.participant_id) == 1:
            result = snapshots.start_snapshot(
                runtime,
                snapshots.StartSnapshot(
                    actor, args.participant_id[0], args.instrument, args.kind, args.on
                ),
            )
        else:
            result = snapshots.start_group(
                runtime,
                snapshots.StartGroupSnapshots(
                    actor,
                    tuple(args.participant_id),
                    args.instrument,
                    args.kind,
                    args.on,
                ),
            )
    _print(args, result)
    return 0


def read_answers(path: Path) -> dict[str, int]:
    """A JSON object from item id to a whole-number answer."""
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        raise InputError("answers: not a readable JSON file") from None
    if not isinstance(data, dict):
        raise InputError("answers: must be a JSON object of item id to answer")
    for item_id, value in data.items():
        if type(value) is not int:
            raise InputError(f"answers.{item_id}: must be a whole number")
    return data


def cmd_snapshots_answer(settings: Settings, args: argparse.Namespace) -> int:
    answers = read_answers(args.answers)
    with runtime_for(settings) as runtime:
        result = snapshots.record_answers(
            runtime, snapshots.RecordAnswers(acting(args), args.snapshot_id, answers)
        )
    _print(args, result)
    return 0


def cmd_snapshots_complete(settings: Settings, args: argparse.Namespace) -> int:
    with runtime_for(settings) as runtime:
        result = snapshots.complete_snapshot(
            runtime, snapshots.CompleteSnapshot(acting(args), args.snapshot_id)
        )
    _print(args, result)
    return 0


def cmd_snapshots_discard(settings: Settings, args: argparse.Namespace) -> int:
    with runtime_for(settings) as runtime:
        result = snapshots.discard_snapshot(
            runtime, snapshots.DiscardSnapshot(acting(args), args.snapshot_id)
        )
    _print(args, result)
    return 0


def _add_programs(sub: Sub) -> None:
    verbs = sub.add_parser("programs", help="intervention plans").add_subparsers(
        dest="verb", required=True
    )
    start = verb(verbs, "start", cmd_programs_start, "start from a completed snapshot")
    start.add_argument("snapshot_id", type=uuid_arg)
    start.add_argument("--items", type=Path, help="JSON: part to catalogue ids")
    start.add_argument("--note")
    review = verb(verbs, "review", cmd_programs_review, "record a review")
    review.add_argument("program_id", type=uuid_arg)
    review.add_argument("--items", type=Path)
    review.add_argument("--note")
    close = verb(verbs, "close", cmd_programs_close, "close a program")
    close.add_argument("program_id", type=uuid_arg)
    close.add_argument("--note")


def _items(path: Path | None) -> dict[str, list[str]] | None:
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
        acting(args), args.snapshot_id, _items(args.items), args.note
    )
    with runtime_for(settings) as runtime:
        result = programs.start_program(runtime, command)
    _print(args, result)
    return 0


def cmd_programs_review(settings: Settings, args: argparse.Namespace) -> int:
    command = programs.ReviewProgram(
        acting(args), args.program_id, _items(args.items), args.note
    )
    with runtime_for(settings) as runtime:
        result = programs.review_program(runtime, command)
    _print(args, result)
    return 0


def cmd_programs_close(settings: Settings, args: argparse.Namespace) -> int:
    command = programs.CloseProgram(acting(args), args.program_id, args.note)
    with runtime_for(settings) as runtime:
        result = programs.close_program(runtime, command)
    _print(args, result)
    return 0


def cmd_retention_run(settings: Settings, args: argparse.Namespace) -> int:
    with runtime_for(settings) as runtime:
        result = run_retention(runtime, acting(args))
    outcome = {
        "cutoff": result.cutoff.isoformat(),
        "erased": result.erased,
        "already_erased": result.already_erased,
    }
    if args.json:
        emit_json(outcome)
    else:
        print(
            f"erased {result.erased} participants who left before {result.cutoff}"
            f" ({result.already_erased} were erased already)"
        )
    return 0


def _print(args: argparse.Namespace, result: dict[str, Any]) -> None:
    if args.json:
        emit_json(result)
        return
    for key, value in result.items():
        print(f"{key}: {value}")
