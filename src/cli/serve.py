"""Command-line verbs for serving the HTTP API and issuing its tokens."""

import argparse
import sys

import uvicorn

from wellbeing.aggregates.base import NotFound
from wellbeing.aggregates.user import User
from wellbeing.cli.commands import Sub, runtime_for, uuid_arg, verb
from wellbeing.cli.output import emit_json
from wellbeing.commands.actor import operator
from wellbeing.commands.authorization import authorize
from wellbeing.commands.loading import load
from wellbeing.errors import InputError
from wellbeing.persistence import tokens
from wellbeing.settings import Settings


def add_all(sub: Sub) -> None:
    serve = verb(sub, "serve", cmd_serve, "serve the HTTP API")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes (PostgreSQL only; one per core is a good start)",
    )
    verbs = sub.add_parser("tokens", help="API tokens").add_subparsers(
        dest="verb", required=True
    )
    create = verb(verbs, "create", cmd_tokens_create, "issue a token for a user")
    create.add_argument("--user", required=True, type=uuid_arg, metavar="USER_ID")
    revoke = verb(verbs, "revoke", cmd_tokens_revoke, "revoke a token by its id")
    revoke.add_argument("token_id", type=uuid_arg)


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from wellbeing.api.app import create_app

    if args.workers < 1:
        raise InputError("workers: at least one")
    if args.workers > 1 and settings.is_sqlite:
        raise InputError("workers: several server processes need PostgreSQL")
    # The server's own start-up lines are off with its logging (below), so
    # the address is said here, once.
    print(
        f"wellbeing: serving on http://{args.host}:{args.port}"
        f" ({args.workers} process(es)); the dashboard is at /dashboard",
        file=sys.stderr,
    )
    # The app writes its own access log, by route template; the server's
    # would print each path as sent, ids included.
    if args.workers == 1:
        uvicorn.run(
            create_app(settings),
            host=args.host,
            port=args.port,
            log_config=None,
            access_log=False,
        )
        return 0
    # Each process reads the same settings from the environment.
    uvicorn.run(
        "wellbeing.api.app:app_from_environment",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=None,
        access_log=False,
    )
    return 0


def cmd_tokens_create(settings: Settings, args: argparse.Namespace) -> int:
    actor = operator()
    with runtime_for(settings) as runtime:
        authorize(runtime, actor, "create-user")
        user = load(runtime, User, args.user)
        if user.erased:
            raise NotFound("user not found")
        with runtime.database.transaction() as tx:
            token_id, secret = tokens.issue(tx, user.id, actor.user_id)
    if args.json:
        emit_json({"id": str(token_id), "user_id": str(user.id), "token": secret})
    else:
        # The secret alone on standard output, for scripts; its id, which
        # `tokens revoke` takes, beside it for the person reading.
        print(secret)
        print(f"token id {token_id}", file=sys.stderr)
    return 0


def cmd_tokens_revoke(settings: Settings, args: argparse.Namespace) -> int:
    with runtime_for(settings) as runtime, runtime.database.transaction() as tx:
        if tokens.find(tx, args.token_id) is None:
            raise NotFound("token not found")
        tokens.revoke(tx, args.token_id)
    tokens.remembered.forget_all()
    if args.json:
        emit_json({"id": str(args.token_id), "revoked": True})
    else:
        print(f"token {args.token_id} revoked")
    return 0
