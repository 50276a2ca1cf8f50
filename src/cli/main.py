"""The `wellbeing` command line; it acts as the operator."""

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from wellbeing.cli import commands
from wellbeing.errors import ConfigurationError, WellbeingError
from wellbeing.settings import load_settings

logger = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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
