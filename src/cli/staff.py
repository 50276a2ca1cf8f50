"""Command-line verbs for users, teams, members, sharing and tags."""

import argparse
from collections.abc import Callable
from datetime import date
from typing import Any

from wellbeing.cli.commands import Sub, acting, runtime_for, uuid_arg, verb
from wellbeing.cli.output import emit_json
from wellbeing.commands import teams, users
from wellbeing.commands.authorization import authorize
from wellbeing.commands.idempotency import run_once
from wellbeing.persistence.email_index import teams_of
from wellbeing.persistence.runtime import Runtime
from wellbeing.settings import Settings

Result = dict[str, Any]
Build = Callable[[argparse.Namespace], object]
Run = Callable[[Runtime, Any], Result | Any]


def date_arg(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError("dates are written YYYY-MM-DD") from None


def _action(build: Build, run: Run) -> Callable[[Settings, argparse.Namespace], int]:
    """A handler that builds a command, runs it once per key, prints its ids."""

    def handle(settings: Settings, args: argparse.Namespace) -> int:
        command = build(args)
        with runtime_for(settings) as runtime:
            if args.idempotency_key:
                actor = acting(args)
                result = run_once(
                    runtime,
                    args.idempotency_key,
                    actor,
                    command,
                    lambda: _as_result(run(runtime, command)),
                )
            else:
                result = _as_result(run(runtime, command))
        if args.json:
            emit_json(result)
        else:
            print(result.get("id", "done"))
        return 0

    return handle


def _as_result(value: Any) -> Result:
    return value if isinstance(value, dict) else {"id": str(value)}


def add_all(sub: Sub) -> None:
    _add_users(sub)
    _add_teams(sub)
    _add_tags(sub)


def _add_users(sub: Sub) -> None:
    verbs = sub.add_parser("users", help="staff users").add_subparsers(
        dest="verb", required=True
    )
    create = verb(
        verbs,
        "create",
        _action(
            lambda a: users.CreateUser(acting(a), a.email, a.name), users.create_user
        ),
        "register a member of staff",
    )
    create.add_argument("email")
    create.add_argument("--name")
    grant = verb(
        verbs,
        "grant",
        _action(
            lambda a: users.GrantRole(acting(a), a.user_id, a.role, a.partner),
            users.grant_role,
        ),
        "grant a service role (auditor, data-protection-officer) or analyst",
    )
    revoke = verb(
        verbs,
        "revoke",
        _action(
            lambda a: users.RevokeRole(acting(a), a.user_id, a.role, a.partner),
            users.revoke_role,
        ),
        "revoke a service role or analyst",
    )
    for parser in (grant, revoke):
        parser.add_argument("user_id", type=uuid_arg)
        parser.add_argument("role")
        parser.add_argument("--partner", help="the partner, for the analyst role")


def _add_teams(sub: Sub) -> None:
    verbs = sub.add_parser("teams", help="teams and their members").add_subparsers(
        dest="verb", required=True
    )
    create = verb(
        verbs,
        "create",
        _action(
            lambda a: teams.RegisterTeam(acting(a), a.name, a.la, a.estab),
            teams.register_team,
        ),
        "register a team",
    )
    create.add_argument("name")
    create.add_argument("--la", required=True, help="three-digit LA code")
    create.add_argument("--estab", required=True, help="DfE establishment number")
    _add_member_verbs(verbs)
    _add_sharing_verbs(verbs)
    show = verb(verbs, "show", cmd_teams_show, "a team's members, agreements, tags")
    show.add_argument("team_id", type=uuid_arg)
    verb(verbs, "list", cmd_teams_list, "the teams the acting user belongs to")


def _add_member_verbs(verbs: Sub) -> None:
    invite = verb(
        verbs,
        "invite",
        _action(
            lambda a: teams.InviteMember(acting(a), a.team_id, a.email, a.role),
            teams.invite_member,
        ),
        "invite a colleague by e-mail (valid 7 days)",
    )
    invite.add_argument("team_id", type=uuid_arg)
    invite.add_argument("email")
    invite.add_argument("--role", required=True, choices=("admin", "practitioner"))
    join = verb(
        verbs,
        "join",
        _action(lambda a: teams.JoinTeam(acting(a), a.team_id), teams.join_team),
        "accept an invitation (use with --as)",
    )
    join.add_argument("team_id", type=uuid_arg)
    role = verb(
        verbs,
        "role",
        _action(
            lambda a: teams.ChangeMemberRole(acting(a), a.team_id, a.user_id, a.role),
            teams.change_member_role,
        ),
        "change a member's role",
    )
    role.add_argument("team_id", type=uuid_arg)
    role.add_argument("user_id", type=uuid_arg)
    role.add_argument("role", choices=("admin", "practitioner"))
    remove = verb(
        verbs,
        "remove",
        _action(
            lambda a: teams.RemoveMember(acting(a), a.team_id, a.user_id),
            teams.remove_member,
        ),
        "remove a member",
    )
    remove.add_argument("team_id", type=uuid_arg)
    remove.add_argument("user_id", type=uuid_arg)


def _add_sharing_verbs(verbs: Sub) -> None:
    agree = verb(
        verbs,
        "agree",
        _action(
            lambda a: teams.AgreeSharing(
                acting(a), a.team_id, a.partner, a.starts, a.until
            ),
            teams.agree_sharing,
        ),
        "agree to share with a partner",
    )
    agree.add_argument("team_id", type=uuid_arg)
    agree.add_argument("partner", choices=("headstart-kernow", "headstart-hq"))
    agree.add_argument("--from", dest="starts", required=True, type=date_arg)
    agree.add_argument("--until", type=date_arg)
    withdraw = verb(
        verbs,
        "withdraw",
        _action(
            lambda a: teams.WithdrawSharing(acting(a), a.team_id, a.partner, a.on),
            teams.withdraw_sharing,
        ),
        "end an agreement on a date",
    )
    withdraw.add_argument("team_id", type=uuid_arg)
    withdraw.add_argument("partner")
    withdraw.add_argument("--on", required=True, type=date_arg)


def _add_tags(sub: Sub) -> None:
    verbs = sub.add_parser("tags", help="participant tag vocabularies").add_subparsers(
        dest="verb", required=True
    )
    define = verb(
        verbs,
        "define",
        _action(
            lambda a: teams.DefineTags(acting(a), a.team_id, a.taxonomy, tuple(a.tags)),
            teams.define_tags,
        ),
        "define a taxonomy or add tags to it",
    )
    define.add_argument("team_id", type=uuid_arg)
    define.add_argument("taxonomy")
    define.add_argument("tags", nargs="+")
    retire = verb(
        verbs,
        "retire",
        _action(
            lambda a: teams.RetireTag(acting(a), a.team_id, a.taxonomy, a.tag),
            teams.retire_tag,
        ),
        "retire a tag (kept in history, no longer offered)",
    )
    retire.add_argument("team_id", type=uuid_arg)
    retire.add_argument("taxonomy")
    retire.add_argument("tag")


def cmd_teams_show(settings: Settings, args: argparse.Namespace) -> int:
    with runtime_for(settings) as runtime:
        team = teams.load_team(runtime, args.team_id)
        authorize(runtime, acting(args), "read-team", team)
        summary = teams.team_summary(team)
    emit_json(summary) if args.json else _print_summary(summary)
    return 0


def _print_summary(summary: dict[str, Any]) -> None:
    print(f"{summary['name']}  LA {summary['la_code']}  estab {summary['estab']}")
    for member in summary["members"]:
        state = "" if member["joined"] else " (invited)"
        print(f"  {member['role']:<13} {member['user_id']}{state}")
    for agreement in summary["agreements"]:
        until = agreement["until"] or "open-ended"
        print(f"  shares with {agreement['partner']} {agreement['from']} to {until}")
    for taxonomy, tags in summary["tags"].items():
        print(f"  {taxonomy}: {', '.join(tags)}")


def cmd_teams_list(settings: Settings, args: argparse.Namespace) -> int:
    actor = acting(args)
    with runtime_for(settings) as runtime, runtime.database.transaction() as tx:
        ids = [str(t) for t in teams_of(tx, actor.user_id)]
    if args.json:
        emit_json({"items": [{"id": i} for i in ids]})
    else:
        print("\n".join(ids))
    return 0
