"""`glimpse ledger convert`: store the money of old documents in integer cents (safe to run again)."""

from __future__ import annotations

import argparse
from typing import Any

from pymongo.errors import PyMongoError

from glimpse.cli import CLIError
from glimpse.runtime.config import load_config
from glimpse.store import trades
from glimpse.store.db import open_database


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("ledger", help="maintain the Trades ledger")
    sub = parser.add_subparsers(dest="ledger_command", metavar="ACTION")
    sub.required = True
    convert = sub.add_parser(
        "convert",
        help="convert Trades, Accounts profit fields and Operations from float reais to integer cents",
        description=(
            "Documents written before money was stored in cents are converted once each "
            "(marked moneyUnit: cents), so running it again changes nothing. The operational "
            "servers run the same conversion when they start."
        ),
    )
    convert.set_defaults(func=run_convert)


def run_convert(args: argparse.Namespace) -> int:
    try:
        report = trades.convert_money(open_database(load_config()))
    except PyMongoError as exc:
        raise CLIError(f"MongoDB (GLIMPSE_MONGO_URI) failed: {exc}") from exc
    for name, count in report.items():
        print(f"{name:<10} {count:>6} converted")
    return 0
