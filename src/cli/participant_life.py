"""Command-line verbs for a pupil's life: corrections, UPNs, tags, leaving."""

import argparse
import sys
from collections.abc import Callable
from typing import Any

from wellbeing.cli.assessments import print_result, run_command
from wellbeing.cli.commands import Sub, acting, runtime_for, uuid_arg, verb
from wellbeing.cli.staff import date_arg
from wellbeing.commands import participant_life as life
from wellbeing.errors import InputError
from wellbeing.persistence.runtime import Runtime
from wellbeing.settings import Settings

Build = Callable[[argparse.Namespace], Any]
Run = Callable[[Runtime, Any], dict[str, Any]]
CORRECTIONS = ("surname", "forename", "middle_names", "sex", "year_group")


def add_all(sub: Sub) -> None:
    """Add the verbs to the `participants` command made in cli/commands.py."""
    verbs = _verbs_of(sub.choices["participants"])
    _add_correct(verbs)
    _add_upn(verbs)
    _add_tags(verbs)
    _add_objection(verbs)
    _add_leaving(verbs)


def _verbs_of(parser: argparse.ArgumentParser) -> Any:
    # argparse has no public way back to a parser's subcommands, and a second
    # `participants` parser would conflict with the first.
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    raise LookupError("the participants command has no verbs")


def _handler(build: Build, run: Run) -> Callable[[Settings, argparse.Namespace], int]:
    """A verb that builds a command, runs it once per key, prints its ids."""

    def handle(settings: Settings, args: argparse.Namespace) -> int:
        command = build(args)
        with runtime_for(settings) as runtime:
            result = run_command(runtime, args, command, lambda: run(runtime, command))
        print_result(args, result)
        return 0

    return handle


def _add_correct(verbs: Sub) -> None:
    correct = verb(
        verbs,
        "correct",
        _handler(_correction, life.correct_details),
        "correct a pupil's details (give only the fields that change)",
    )
    correct.add_argument("participant_id", type=uuid_arg)
    for name in CORRECTIONS:
        correct.add_argument("--" + name.replace("_", "-"), dest=name)
    correct.add_argument("--date-of-birth", dest="date_of_birth", type=date_arg)


def _correction(args: argparse.Namespace) -> life.CorrectDetails:
    names = (*CORRECTIONS, "date_of_birth")
    changes = {n: getattr(args, n) for n in names if getattr(args, n) is not None}
    if not changes:
        raise InputError("correct: give at least one field to change")
    return life.CorrectDetails(acting(args), args.participant_id, changes)


def _add_upn(verbs: Sub) -> None:
    # The UPN is read from standard input so that it never shows in the
    # process list or in a shell's history.
    for name, build, run, help_text in (
        ("assign-upn", _assign, life.assign_upn, "give a pupil its first UPN"),
        ("replace-upn", _replace, life.replace_upn, "replace a pupil's UPN"),
    ):
        parser = verb(verbs, name, _handler(build, run), help_text + " (from stdin)")
        parser.add_argument("participant_id", type=uuid_arg)


def _upn_from_stdin() -> str:
    text = sys.stdin.readline().strip()
    if not text:
        raise InputError("upn: give the UPN on standard input")
    return text


def _assign(args: argparse.Namespace) -> life.AssignUpn:
    return life.AssignUpn(acting(args), args.participant_id, _upn_from_stdin())


def _replace(args: argparse.Namespace) -> life.ReplaceUpn:
    return life.ReplaceUpn(acting(args), args.participant_id, _upn_from_stdin())


def _add_tags(verbs: Sub) -> None:
    for name, remove, help_text in (
        ("tag", False, "tag a pupil from the team's vocabulary"),
        ("untag", True, "take a tag off a pupil"),
    ):
        parser = verb(
            verbs, name, _handler(_tagging(remove), life.tag_participant), help_text
        )
        parser.add_argument("participant_id", type=uuid_arg)
        parser.add_argument("taxonomy")
        parser.add_argument("tag")


def _tagging(remove: bool) -> Build:
    return lambda a: life.TagParticipant(
        acting(a), a.participant_id, a.taxonomy, a.tag, remove=remove
    )


def _add_objection(verbs: Sub) -> None:
    for name, objects, help_text in (
        ("object", True, "record an objection to partner sharing"),
        ("withdraw-objection", False, "withdraw the objection to partner sharing"),
    ):
        parser = verb(
            verbs,
            name,
            _handler(_objection(objects), life.set_sharing_objection),
            help_text,
        )
        parser.add_argument("participant_id", type=uuid_arg)


def _objection(objects: bool) -> Build:
    return lambda a: life.SetSharingObjection(acting(a), a.participant_id, objects)


def _add_leaving(verbs: Sub) -> None:
    leave = verb(
        verbs,
        "leave",
        _handler(
            lambda a: life.LeaveTeam(acting(a), a.participant_id, a.on),
            life.leave_team,
        ),
        "archive a pupil who left (erased by retention later)",
    )
    leave.add_argument("participant_id", type=uuid_arg)
    leave.add_argument("--on", required=True, type=date_arg, help="date left")
    rejoin = verb(
        verbs,
        "rejoin",
        _handler(
            lambda a: life.RejoinTeam(acting(a), a.participant_id), life.rejoin_team
        ),
        "bring an archived pupil back",
    )
    rejoin.add_argument("participant_id", type=uuid_arg)
