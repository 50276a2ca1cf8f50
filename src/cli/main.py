"""The `wellbeing` command line; it acts as the operator."""

import argparse
import logging
import os
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from wellbeing.cli import commands
from wellbeing.errors import ConfigurationError, WellbeingError
from wellbeing.settings import load_settings

logger = logging.getLogger(__name__)


class QuietParser(argparse.ArgumentParser):
    """Reports a mistyped command line without repeating what was typed.

    A value in the wrong place may be a pupil's UPN or name (UPNs are read
    from standard input, never from arguments, but people paste them);
    argparse's own messages would print it back. Subcommands inherit this
    class.
    """

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {without_values(message)}\n")


_TYPED_VALUE = re.compile(r"(invalid (?:choice|[\w-]+ value)): '.*?'")


def without_values(message: str) -> str:
    """An argparse message with the values the user typed taken out."""
    if message.startswith("unrecognized arguments:"):
        return "unrecognized arguments (not repeated here; see --help)"
    if message.startswith("ambiguous option:"):
        return "ambiguous option (see --help)"
    return _TYPED_VALUE.sub(r"\1", message)


def build_parser() -> argparse.ArgumentParser:
    parser = QuietParser(
        prog="wellbeing",
        description="Wellbeing Ledger: pupils, snapshots and programs for schools.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_all(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigurationError as error:
        print(f"wellbeing: configuration error: {error}", file=sys.stderr)
        return 78
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    handler: Callable[[Any, Any], int] = args.handler
    try:
        return handler(settings, args)
    except ConfigurationError as error:
        print(f"wellbeing: configuration error: {error}", file=sys.stderr)
        return 78
    except WellbeingError as error:
        print(f"wellbeing: {error.code}: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`| head`); Python would complain again when
        # it flushes stdout at exit, so point stdout at nothing first.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    raise SystemExit(main())
