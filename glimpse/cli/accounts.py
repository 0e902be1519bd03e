"""`glimpse user create` and `glimpse manager create`: accounts made from the shell.

The password is read with getpass (typed twice) or, with --password-stdin,
from the first line of standard input; never from the command line, where it
would land in the shell history and the process list.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any, Protocol

from pymongo.errors import DuplicateKeyError, PyMongoError

from glimpse.cli import CLIError
from glimpse.runtime.clock import SystemClock
from glimpse.runtime.config import load_config
from glimpse.runtime.security import hash_password, password_problem
from glimpse.store import accounts
from glimpse.store import db as names
from glimpse.store.accounts import normalize_email
from glimpse.store.db import open_database

MAX_NAME_LENGTH = 80


def register(subparsers) -> None:
    user = subparsers.add_parser("user", help="manage app users")
    user_actions = user.add_subparsers(dest="action", metavar="ACTION")
    user_actions.required = True
    create = user_actions.add_parser("create", help="create an app user (the password is asked for)")
    _add_identity_arguments(create)
    create.add_argument(
        "--premium-days",
        type=int,
        default=0,
        metavar="D",
        help="days of subscription; the bot starts only for users with premiumDays > 0 (default 0)",
    )
    create.set_defaults(func=create_user)

    manager = subparsers.add_parser("manager", help="manage manager (admin) accounts")
    manager_actions = manager.add_subparsers(dest="action", metavar="ACTION")
    manager_actions.required = True
    create = manager_actions.add_parser("create", help="create a manager account (the password is asked for)")
    _add_identity_arguments(create)
    create.add_argument(
        "--role",
        choices=("admin", "support"),
        default=None,
        help="admin: everything; support: read, answer questions, send alerts, force-stop "
        "(without it the account has no `rol`, which means admin)",
    )
    create.set_defaults(func=create_manager)


def _add_identity_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", required=True, help="display name")
    parser.add_argument("--email", required=True, help="login email (stored lower-case)")
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input instead of asking for it",
    )


def valid_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise CLIError("--name must not be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise CLIError(f"--name must be at most {MAX_NAME_LENGTH} characters")
    return name


def valid_email(email: str) -> str:
    try:
        return normalize_email(email)
    except ValueError:
        raise CLIError(f"--email is not a valid email address: {email.strip()!r}") from None


def valid_password(password: str) -> str:
    problem = password_problem(password)
    if problem is not None:
        raise CLIError(problem)
    return password


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise CLIError("--password-stdin: standard input is empty")
        return valid_password(line.rstrip("\r\n"))
    try:
        first = getpass.getpass("Password: ")
        second = getpass.getpass("Repeat the password: ")
    except EOFError:
        raise CLIError("no password typed (use --password-stdin to pipe it)") from None
    if first != second:
        raise CLIError("the passwords do not match")
    return valid_password(first)


class _Kind(Protocol):
    def taken(self, db: Any, email: str) -> bool: ...

    def insert(self, db: Any, name: str, email: str, password_hash: str) -> Any:
        """The new account's id, or None when the email was registered meanwhile."""


def _create(args: argparse.Namespace, kind: _Kind) -> int:
    name = valid_name(args.name)
    email = valid_email(args.email)
    config = load_config()
    try:
        db = open_database(config)
        if kind.taken(db, email):
            raise CLIError(f"--email {email} is already registered")
        password = read_password(args.password_stdin)
        new_id = kind.insert(db, name, email, hash_password(password, config.password_hash_profile))
        if new_id is None:
            # Another process registered the email between our check and the insert.
            raise CLIError(f"--email {email} is already registered")
    except PyMongoError as exc:
        raise CLIError(f"MongoDB (GLIMPSE_MONGO_URI) failed: {exc}") from exc
    print(new_id)
    if config.embedded:
        print(
            "note: no GLIMPSE_MONGO_URI is set, so the account went into the embedded in-memory database "
            "and is gone when this process ends",
            file=sys.stderr,
        )
    return 0


def create_user(args: argparse.Namespace) -> int:
    if args.premium_days < 0:
        raise CLIError("--premium-days must not be negative")

    class User:
        def taken(self, db: Any, email: str) -> bool:
            return accounts.email_taken(db, email)

        def insert(self, db: Any, name: str, email: str, password_hash: str) -> Any:
            return accounts.create(
                db, name, email, password_hash, SystemClock().now(), premium_days=args.premium_days
            )

    result = _create(args, User())
    if args.premium_days == 0:
        print("note: premiumDays is 0, so this user cannot start the bot until it is raised", file=sys.stderr)
    return result


def create_manager(args: argparse.Namespace) -> int:
    class Manager:
        def taken(self, db: Any, email: str) -> bool:
            return db[names.MANAGER_ACCOUNTS].find_one({"user": email}, {"_id": 1}) is not None

        def insert(self, db: Any, name: str, email: str, password_hash: str) -> Any:
            # The original's field names: `user` holds the login email.
            doc = {"user": email, "password": password_hash, "name": name}
            if args.role is not None:
                doc["rol"] = args.role
            try:
                return db[names.MANAGER_ACCOUNTS].insert_one(doc).inserted_id
            except DuplicateKeyError:
                return None

    return _create(args, Manager())
