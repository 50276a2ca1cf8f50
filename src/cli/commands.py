"""The command-line verbs: each parses its arguments and calls a command."""

import argparse
import dataclasses
import sys
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
    ConfirmationRequired,
    ImportParticipants,
    ImportReport,
    import_participants,
    list_import_runs,
)
from wellbeing.commands.import_report import STATUSES
from wellbeing.commands.keys import rotate_keys
from wellbeing.commands.participants import list_participants, show_participant
from wellbeing.commands.subject_access import subject_access_report
from wellbeing.commands.upn_template import WriteUpnTemplate, write_upn_template
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
    from wellbeing.cli import assessments, participant_life, reports, staff

    staff.add_all(sub)
    assessments.add_all(sub)
    reports.add_all(sub)
    _add_import(sub)
    _add_participants(sub)
    participant_life.add_all(sub)
    _add_erase(sub)
    _add_subject_access(sub)
    _add_keys(sub)
    _add_db(sub)
    from wellbeing.cli import serve

    serve.add_all(sub)
    from wellbeing.cli.demo import cmd_demo

    verb(sub, "demo", cmd_demo, "run the demonstration on the embedded store")


def _add_import(sub: Sub) -> None:
    parser = verb(
        sub,
        "import",
        cmd_import,
        "import pupils from a MIS export (a dry run unless --commit);"
        " `import runs --team ID` lists the team's import runs",
    )
    parser.add_argument("file", metavar="FILE|runs", help="the file, or `runs`")
    parser.add_argument("--team", required=True, type=uuid_arg)
    parser.add_argument("--commit", action="store_true", help="store the result")
    parser.add_argument(
        "--allow-other-establishments",
        action="store_true",
        help="accept rows of other establishments (a team of several)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="store nothing if any row is rejected or ambiguous",
    )
    parser.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="FIELD=HEADER",
        help="read FIELD (surname, forename, date_of_birth, upn, former_upn, fsm,"
        " sen-provision, ...) from the column headed HEADER; repeatable",
    )
    parser.add_argument(
        "--allow-missing-upn",
        action="store_true",
        help="match rows without a UPN by names and date of birth",
    )
    parser.add_argument(
        "--full-roster",
        action="store_true",
        help="the file lists every pupil: mark pupils missing from it as left",
    )
    parser.add_argument(
        "--yes",
        action="store_true",
        help="confirm marking more than a quarter of the roll as left",
    )
    template = verb(
        sub,
        "upn-template",
        cmd_upn_template,
        "write the UPN back-fill template: the roll with an empty UPN column",
    )
    template.add_argument("--team", required=True, type=uuid_arg)
    template.add_argument("--out", required=True, type=Path)


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    if args.file == "runs":
        return cmd_import_runs(settings, args)
    path = Path(args.file)
    if not path.is_file():
        raise InputError("file: no such file")
    command = ImportParticipants(
        acting(args),
        args.team,
        path,
        commit=args.commit,
        allow_other_establishments=args.allow_other_establishments,
        column_map=_column_map(args.map),
        strict=args.strict,
        allow_missing_upn=args.allow_missing_upn,
        full_roster=args.full_roster,
        confirm_leavers=args.yes,
    )
    with runtime_for(settings) as runtime:
        try:
            report = import_participants(runtime, command)
        except ConfirmationRequired as error:
            if args.json or not _confirmed(error):
                raise
            command = dataclasses.replace(command, confirm_leavers=True)
            report = import_participants(runtime, command)
    if args.json:
        emit_json(report_json(report))
    else:
        print(report_text(report))
    return 2 if report.refused else 0


def _column_map(pairs: list[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for pair in pairs:
        name, sep, header = pair.partition("=")
        if not sep or not name.strip() or not header.strip():
            raise InputError("map: each --map is FIELD=HEADER")
        mapping[name.strip()] = header.strip()
    return mapping


def _confirmed(error: ConfirmationRequired) -> bool:
    """Ask at a terminal; anywhere else the import is refused (use --yes)."""
    if not sys.stdin.isatty():
        return False
    answer = input(
        f"{error.leaving} of {error.on_roll} pupils would be marked as"
        " having left. Go on? [y/N] "
    )
    return answer.strip().lower() in ("y", "yes")


def cmd_import_runs(settings: Settings, args: argparse.Namespace) -> int:
    with runtime_for(settings) as runtime:
        runs = list_import_runs(runtime, acting(args), args.team)
    if args.json:
        emit_json({"items": runs})
    else:
        columns = ("run_id", "status", "started_at", "rows", *STATUSES, "left")
        print(table([[run[c] for c in columns] for run in runs], columns))
    return 0


def cmd_upn_template(settings: Settings, args: argparse.Namespace) -> int:
    with runtime_for(settings) as runtime:
        written = write_upn_template(
            runtime, WriteUpnTemplate(acting(args), args.team, args.out)
        )
    outcome = {
        "out": str(args.out),
        "pupils": written.pupils,
        "without_upn": written.without_upn,
    }
    if args.json:
        emit_json(outcome)
    else:
        print(
            f"UPN template written to {args.out}: {written.pupils} pupils,"
            f" {written.without_upn} without a UPN (listed first)"
        )
    return 0


def report_json(report: ImportReport) -> dict[str, Any]:
    return {
        "committed": report.committed,
        "run_id": str(report.run_id) if report.run_id else None,
        "resumed": report.resumed,
        "already_imported": report.already_imported,
        "refused": report.refused,
        "upn_backfill": report.upn_backfill,
        "encoding": report.encoding,
        "warnings": report.warnings,
        "blank_lines": report.blank_lines,
        "summary": report.summary(),
        "leavers": [str(p) for p in report.leavers],
        "on_roll": report.on_roll,
        "rows": [
            {
                "row": row.number,
                "status": row.status,
                "reasons": row.reasons,
                "warnings": row.warnings,
                "participant_id": str(row.participant_id)
                if row.participant_id
                else None,
            }
            for row in report.rows
        ],
    }


def report_text(report: ImportReport) -> str:
    """Every row by number with its status, codes and warnings; no values."""
    lines = [_report_heading(report)]
    lines.append("  ".join(f"{k}: {v}" for k, v in report.summary().items()))
    if report.encoding == "windows-1252":
        lines.append(
            "encoding: windows-1252 (the file is not UTF-8; names read as such)"
        )
    if report.warnings:
        lines.append("warnings: " + ", ".join(report.warnings))
    if report.leavers or report.on_roll:
        verb_ = "marked as left" if report.committed else "would be marked as left"
        lines.append(
            f"{verb_}: {len(report.leavers)} of {report.on_roll} pupils on roll"
        )
    for row in report.rows:
        line = f"row {row.number}: {row.status}"
        if row.reasons:
            line += f" ({', '.join(row.reasons)})"
        if row.warnings:
            line += f" [warnings: {', '.join(row.warnings)}]"
        lines.append(line)
    return "\n".join(lines)


def _report_heading(report: ImportReport) -> str:
    if report.already_imported:
        return (
            f"this file was imported in full already (run {report.run_id});"
            " nothing changed"
        )
    if report.refused:
        return (
            f"refused (--strict): {report.held_back()} rows need attention;"
            " nothing was stored"
        )
    if not report.committed:
        return "dry run (add --commit to store)"
    resumed = ", resuming an interrupted run" if report.resumed else ""
    return f"committed (run {report.run_id}{resumed})"


def _add_participants(sub: Sub) -> None:
    parser = sub.add_parser("participants", help="a team's pupils")
    verbs = parser.add_subparsers(dest="verb", required=True)
    listing = verb(verbs, "list", cmd_participants_list, "list a team's pupils")
    listing.add_argument("--team", required=True, type=uuid_arg)
    show = verb(verbs, "show", cmd_participants_show, "show one pupil")
    show.add_argument("id", type=uuid_arg)


PARTICIPANT_COLUMNS = (
    "id",
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
        state = "was already erased" if result["already_erased"] else "erased"
        print(f"user {args.id} {state}")
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
