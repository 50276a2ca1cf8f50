"""The command-line verbs: each parses its arguments and calls a command."""

import argparse
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson

from wellbeing.cli.output import emit_json, table
from wellbeing.commands.actor import Actor, operator
from wellbeing.commands.erasure import EraseParticipant, erase_participant
from wellbeing.commands.import_participants import (
    ImportParticipants,
    ImportReport,
    import_participants,
)
from wellbeing.commands.keys import rotate_keys
from wellbeing.commands.participants import list_participants, show_participant
from wellbeing.commands.subject_access import subject_access_report
from wellbeing.commands.users import EraseUser, erase_user
from wellbeing.errors import InputError
from wellbeing.persistence.migrations import upgrade
from wellbeing.persistence.runtime import open_runtime
from wellbeing.settings import Settings

Handler = Callable[[Settings, argparse.Namespace], int]
Sub = Any


@contextmanager
def runtime_for(settings: Settings, *, need_kek: bool = True) -> Any:
    runtime = open_runtime(settings, need_kek=need_kek)
    try:
        yield runtime
    finally:
        runtime.close()


def uuid_arg(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise argparse.ArgumentTypeError("not a valid id") from None


def verb(sub: Sub, name: str, handler: Handler, help_text: str) -> Any:
    """A subcommand with the options every command shares."""
    parser = sub.add_parser(name, help=help_text, description=help_text)
    parser.set_defaults(handler=handler)
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--as",
        dest="as_user",
        type=uuid_arg,
        metavar="USER_ID",
        help="act as this user instead of the operator, with that user's rights",
    )
    parser.add_argument(
        "--idempotency-key",
        metavar="KEY",
        help="run at most once for this key; a repeat prints the first result",
    )
    return parser


def acting(args: argparse.Namespace) -> Actor:
    user: UUID | None = getattr(args, "as_user", None)
    return Actor(user) if user is not None else operator()


def add_all(sub: Sub) -> None:
    from wellbeing.cli import assessments, reports, staff

    staff.add_all(sub)
    assessments.add_all(sub)
    reports.add_all(sub)
    _add_import(sub)
    _add_participants(sub)
    _add_erase(sub)
    _add_subject_access(sub)
    _add_keys(sub)
    _add_db(sub)
    from wellbeing.cli.demo import cmd_demo

    verb(sub, "demo", cmd_demo, "run the demonstration on the embedded store")


def _add_import(sub: Sub) -> None:
    parser = verb(sub, "import", cmd_import, "import pupils from a MIS export")
    parser.add_argument("file", type=Path)
    parser.add_argument("--team", required=True, type=uuid_arg)
    parser.add_argument("--commit", action="store_true", help="store the result")
    parser.add_argument(
        "--allow-other-establishments",
        action="store_true",
        help="accept rows of other establishments (a team of several)",
    )


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    if not args.file.is_file():
        raise InputError("file: no such file")
    command = ImportParticipants(
        acting(args),
        args.team,
        args.file,
        commit=args.commit,
        allow_other_establishments=args.allow_other_establishments,
    )
    with runtime_for(settings) as runtime:
        report = import_participants(runtime, command)
    if args.json:
        emit_json(report_json(report))
    else:
        print(report_text(report))
    return 0


def report_json(report: ImportReport) -> dict[str, Any]:
    return {
        "committed": report.committed,
        "encoding": report.encoding,
        "warnings": report.warnings,
        "blank_lines": report.blank_lines,
        "summary": report.summary(),
        "rows": [
            {
                "row": row.number,
                "status": row.status,
                "reasons": row.reasons,
                "participant_id": str(row.participant_id)
                if row.participant_id
                else None,
            }
            for row in report.rows
        ],
    }


def report_text(report: ImportReport) -> str:
    summary = report.summary()
    lines = [
        ("committed" if report.committed else "dry run (add --commit to store)"),
        "  ".join(f"{k}: {v}" for k, v in summary.items()),
    ]
    if report.warnings:
        lines.append("warnings: " + ", ".join(report.warnings))
    for row in report.rows:
        if row.status == "rejected":
            lines.append(f"row {row.number}: rejected ({', '.join(row.reasons)})")
    return "\n".join(lines)


def _add_participants(sub: Sub) -> None:
    parser = sub.add_parser("participants", help="a team's pupils")
    verbs = parser.add_subparsers(dest="verb", required=True)
    listing = verb(verbs, "list", cmd_participants_list, "list a team's pupils")
    listing.add_argument("--team", required=True, type=uuid_arg)
    show = verb(verbs, "show", cmd_participants_show, "show one pupil")
    show.add_argument("id", type=uuid_arg)


PARTICIPANT_COLUMNS = (
    "reference",
    "surname",
    "forename",
    "date_of_birth",
    "sex",
    "year_group",
    "has_upn",
)


def cmd_participants_list(settings: Settings, args: argparse.Namespace) -> int:
    with runtime_for(settings) as runtime:
        items = list_participants(runtime, acting(args), args.team)
    if args.json:
        emit_json({"items": items})
    else:
        rows = [[item[c] for c in PARTICIPANT_COLUMNS] for item in items]
        print(table(rows, PARTICIPANT_COLUMNS))
    return 0


def cmd_participants_show(settings: Settings, args: argparse.Namespace) -> int:
    with runtime_for(settings) as runtime:
        item = show_participant(runtime, acting(args), args.id)
    if args.json:
        emit_json(item)
    else:
        print(table([[k, v] for k, v in item.items()], ("field", "value")))
    return 0


def _add_erase(sub: Sub) -> None:
    parser = sub.add_parser("erase", help="erase a person's personal data")
    verbs = parser.add_subparsers(dest="kind", required=True)
    participant = verb(verbs, "participant", cmd_erase_participant, "erase a pupil")
    participant.add_argument("id", type=uuid_arg)
    user = verb(verbs, "user", cmd_erase_user, "erase a member of staff")
    user.add_argument("id", type=uuid_arg)


def cmd_erase_user(settings: Settings, args: argparse.Namespace) -> int:
    with runtime_for(settings) as runtime:
        result = erase_user(runtime, EraseUser(acting(args), args.id))
    if args.json:
        emit_json(result)
    else:
        print(f"user {args.id} erased")
    return 0


def cmd_erase_participant(settings: Settings, args: argparse.Namespace) -> int:
    with runtime_for(settings) as runtime:
        result = erase_participant(runtime, EraseParticipant(acting(args), args.id))
    outcome = {
        "id": str(result.subject_id),
        "already_erased": result.already_erased,
        "milliseconds": round(result.seconds * 1000, 1),
    }
    if args.json:
        emit_json(outcome)
    else:
        state = "was already erased" if result.already_erased else "erased"
        print(f"participant {result.subject_id} {state}")
    return 0


def _add_subject_access(sub: Sub) -> None:
    parser = sub.add_parser("subject-access", help="everything held about a person")
    verbs = parser.add_subparsers(dest="kind", required=True)
    participant = verb(verbs, "participant", cmd_subject_access, "about a pupil")
    participant.add_argument("id", type=uuid_arg)
    participant.add_argument("--out", required=True, type=Path)


def cmd_subject_access(settings: Settings, args: argparse.Namespace) -> int:
    with runtime_for(settings) as runtime:
        report = subject_access_report(runtime, acting(args), args.id)
    args.out.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    args.out.chmod(0o600)
    if args.json:
        emit_json({"out": str(args.out)})
    else:
        print(f"subject-access report written to {args.out}")
    return 0


def _add_keys(sub: Sub) -> None:
    parser = sub.add_parser("keys", help="key-encryption key management")
    verbs = parser.add_subparsers(dest="verb", required=True)
    verb(verbs, "rotate", cmd_keys_rotate, "re-wrap every subject key")


def cmd_keys_rotate(settings: Settings, args: argparse.Namespace) -> int:
    with runtime_for(settings) as runtime:
        result = rotate_keys(runtime, acting(args))
    outcome = {
        "rewrapped": result.rewrapped,
        "remaining": result.remaining,
        "kek_id": result.kek_id,
    }
    if args.json:
        emit_json(outcome)
    else:
        print(
            f"re-wrapped {result.rewrapped} keys under KEK {result.kek_id};"
            f" {result.remaining} remain under older KEKs"
        )
    return 0


def _add_db(sub: Sub) -> None:
    parser = sub.add_parser("db", help="database schema")
    verbs = parser.add_subparsers(dest="verb", required=True)
    verb(verbs, "upgrade", cmd_db_upgrade, "apply pending migrations")


def cmd_db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    with runtime_for(settings, need_kek=False) as runtime:
        applied = upgrade(runtime.database)
    if args.json:
        emit_json({"applied": applied})
    else:
        print(f"schema up to date; applied {applied or 'nothing'}")
    return 0


def elapsed(started: float) -> str:
    return f"{time.perf_counter() - started:.1f}s"
