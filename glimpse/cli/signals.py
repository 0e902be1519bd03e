"""`glimpse signals parse FILE`: read a signal list the way the API and the bots read it.

Exit codes: 0 when the file was read (rejected lines are reported, not an
error), 1 with `--strict` when at least one line was rejected, 2 when the
file cannot be read or an option is malformed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from glimpse.cli import CLIError
from glimpse.rules.signals import parse_signals, render_table


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("signals", help="work with signal lists")
    sub = parser.add_subparsers(dest="signals_command", metavar="ACTION")
    sub.required = True
    parse = sub.add_parser(
        "parse",
        help="parse a pasted signal list (FILE, or - for stdin)",
        description=(
            "Prints each signal (ativo, hora, operacao, expiry, gale, date) and each rejected line "
            "with its reason. Exit 0 when the file was read, even with rejected lines (1 with "
            "--strict); 2 when it cannot be read."
        ),
    )
    parse.add_argument("file", metavar="FILE", help="a UTF-8 text file, or - for standard input")
    parse.add_argument("--json", action="store_true", help='print {"signals": [...], "rejected": [...]}')
    parse.add_argument("--strict", action="store_true", help="exit 1 when a line is rejected")
    parse.add_argument(
        "--now",
        metavar="YYYY-MM-DDTHH:MM",
        help="the market's wall-clock time for the 'past' check (default: the current time in GLIMPSE_TZ)",
    )
    parse.add_argument(
        "--tz", metavar="ZONE", help="the market's time zone (default: GLIMPSE_TZ or America/Sao_Paulo)"
    )
    parse.set_defaults(func=run_parse)


def _read(path: str) -> str:
    try:
        if path == "-":
            return sys.stdin.read()
        with open(path, encoding="utf-8-sig") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise CLIError(f"cannot read {path}: {exc}") from exc


def run_parse(args: argparse.Namespace) -> int:
    zone_name = args.tz or os.environ.get("GLIMPSE_TZ") or "America/Sao_Paulo"
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CLIError(f"unknown time zone {zone_name!r}") from exc
    if args.now:
        try:
            now = datetime.fromisoformat(args.now).replace(tzinfo=None)
        except ValueError as exc:
            raise CLIError(f"--now must look like 2026-11-27T14:30, got {args.now!r}") from exc
    else:
        now = datetime.fromtimestamp(time.time(), tz=zone).replace(tzinfo=None)
    offset = zone.utcoffset(now)
    text = _read(args.file)
    result = parse_signals(
        text,
        today=date(now.year, now.month, now.day),
        now=now,
        market_utc_offset=None if offset is None else int(offset.total_seconds() // 60),
    )
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        print(render_table(result))
    return 1 if args.strict and result.rejected else 0
