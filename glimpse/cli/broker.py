"""`glimpse broker check --email E [--password P | --password-stdin]`: test broker credentials.

Logs in to the configured broker (GLIMPSE_BROKER) and prints what the API's
checkIq answers: {"res": 1, "account", "treinamento", "real"}. A refusal
prints {"res": "<reason>", "error": "<type>"} and exits 1. Without
--password or --password-stdin the password is asked for (getpass), so it
stays out of the shell history and the process list.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import sys

from pymongo.errors import PyMongoError

from glimpse.cli import CLIError
from glimpse.market import BrokerError, check_credentials
from glimpse.runtime.clock import SystemClock
from glimpse.runtime.config import load_config
from glimpse.store.db import open_database

log = logging.getLogger(__name__)


def register(subparsers) -> None:
    broker = subparsers.add_parser("broker", help="talk to the configured broker (GLIMPSE_BROKER)")
    actions = broker.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    check = actions.add_parser(
        "check",
        help="log in with broker credentials and print the balances (the API's checkIq)",
        description="Log in to the broker GLIMPSE_BROKER names and print {res, account, treinamento, real}.",
    )
    check.add_argument("--email", required=True, help="the broker account's email")
    secret = check.add_mutually_exclusive_group()
    secret.add_argument(
        "--password", help="the broker password (visible in the process list: prefer the prompt)"
    )
    secret.add_argument(
        "--password-stdin", action="store_true", help="read the password from the first line of stdin"
    )
    check.set_defaults(func=run_check)


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif args.password is not None:
        password = args.password
    else:
        password = getpass.getpass("Broker password: ")
    if not password:
        raise CLIError("--password: the password is empty")
    return password


def run_check(args: argparse.Namespace) -> int:
    email = args.email.strip()
    if not email:
        raise CLIError("--email: the email is empty")
    password = _password(args)
    config = load_config()
    try:
        db = open_database(config) if config.broker == "paper" else None
    except PyMongoError as exc:
        raise CLIError(f"MongoDB (GLIMPSE_MONGO_URI) failed: {exc}") from exc
    try:
        result = check_credentials(config, db, SystemClock(), email, password)
    except BrokerError as exc:
        log.info("broker check refused: %s: %s", type(exc).__name__, exc)
        print(json.dumps({"res": str(exc), "error": type(exc).__name__}))
        return 1
    print(json.dumps({"res": 1, **result}))
    return 0
