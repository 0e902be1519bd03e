"""The `glimpse` command line.

Each subcommand lives in its own module under glimpse/cli and exposes
`register(subparsers)`, which adds its parser and sets `func(args) -> int`.
A `CLIError` ends the command with its message on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from glimpse import __version__
from glimpse.cli import CLIError
from glimpse.runtime import logs
from glimpse.runtime.config import ConfigError

COMMAND_MODULES = (
    "glimpse.cli.up",
    "glimpse.cli.seed",
    "glimpse.cli.accounts",
    "glimpse.cli.broker",
    "glimpse.cli.market",
    "glimpse.cli.backtest",
    "glimpse.cli.catalog",
    "glimpse.cli.simulate",
    "glimpse.cli.ledger",
    "glimpse.cli.signals",
    "glimpse.cli.secrets",
    "glimpse.cli.migrate",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="glimpse", description="Glimpse: automation bundle for IQ Option traders."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    parser.add_argument("--version", action="version", version=f"glimpse {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logs.configure(logging.DEBUG if args.verbose else logging.INFO)  # GLIMPSE_LOG_FORMAT: text or json
    try:
        return int(args.func(args) or 0)
    except (CLIError, ConfigError) as exc:
        print(f"glimpse {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
