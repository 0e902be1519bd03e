"""`glimpse migrate`: convert an original Glimpse database, in place or into another database."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import pymongo
from pymongo.errors import PyMongoError
from pymongo.uri_parser import parse_uri

from glimpse.cli import CLIError
from glimpse.runtime.config import Config, load_config
from glimpse.store import migrate as migration

COPY_ID = "copy"  # the Migrations document that follows a copy into another database


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "migrate",
        help="convert an original Glimpse database to this bundle's shapes",
        description=(
            "Convert the original Glimpse's MongoDB (plaintext passwords, strategies without nameKey, "
            "Sinais, codes without premiumDays, money in reais, secrets in Auxiliar) in place, or copy it "
            "into another database first (--to). Running it again changes nothing; a run stopped at any "
            "point is finished by the next one. It ends with a report of what changed and what could not."
        ),
    )
    parser.add_argument(
        "--from", dest="source", metavar="URI", help="the original database (default GLIMPSE_MONGO_URI)"
    )
    parser.add_argument(
        "--to", dest="target", metavar="URI", help="convert into this database instead (default: in place)"
    )
    parser.add_argument("--dry-run", action="store_true", help="report what would change; write nothing")
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    parser.add_argument(
        "--merge-duplicates",
        choices=migration.MERGE_POLICIES,
        help="accounts whose emails differ only in letter case: keep the newest or the oldest "
        "(the others are merged into it and kept, without secrets, in MigratedDuplicates)",
    )
    parser.add_argument(
        "--drop-broker-passwords",
        action="store_true",
        help="delete the stored IQ Option passwords instead of encrypting them (users enter them again)",
    )
    parser.add_argument(
        "--code-days",
        type=int,
        default=migration.DEFAULT_CODE_DAYS,
        metavar="N",
        help="premium days an unused invite code grants (default %(default)s)",
    )
    parser.set_defaults(func=run)


def _database(uri: str, default_name: str) -> Any:
    name = parse_uri(uri).get("database") or default_name
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
        uri, serverSelectionTimeoutMS=5000, tz_aware=True
    )
    return client[name]


def _confirm(where: str, db_name: str) -> None:
    warning = f"glimpse migrate rewrites {where} database {db_name!r} (back it up first)"
    if not sys.stdin.isatty():
        raise CLIError(warning + "; add --yes to confirm")
    print(warning, file=sys.stderr)
    if input(f"Type the database name ({db_name}) to confirm: ").strip() != db_name:
        raise CLIError("not confirmed; nothing was changed")


def _options(args: argparse.Namespace, config: Config) -> migration.Options:
    if args.code_days < 0:
        raise CLIError("--code-days must be 0 or more")
    if config.secret_key_generated and not args.drop_broker_passwords:
        raise CLIError(
            "set GLIMPSE_SECRET_KEY to the deployment's key (it encrypts the broker passwords), "
            "or pass --drop-broker-passwords"
        )
    return migration.Options(
        secret_key=config.secret_key.get_secret_value(),
        dry_run=args.dry_run,
        merge_duplicates=args.merge_duplicates,
        drop_broker_passwords=args.drop_broker_passwords,
        code_days=args.code_days,
        hash_profile=config.password_hash_profile,
    )


def _copy(source: Any, target: Any, now: float) -> None:
    """Copy the original into the target once (resumed when a copy was stopped)."""
    state = target[migration.MIGRATIONS]
    copy = state.find_one({"_id": COPY_ID})
    if copy is not None and copy.get("status") == "copied":
        return
    if copy is None and any(
        target[name].find_one({}, {"_id": 1}) is not None for name in target.list_collection_names()
    ):
        raise CLIError(f"the target database {target.name!r} is not empty; migrate into an empty one")
    state.update_one(
        {"_id": COPY_ID},
        {"$set": {"status": "copying", "source": source.name, "startedAt": now}},
        upsert=True,
    )
    names = [n for n in source.list_collection_names() if n != migration.MIGRATIONS]
    copied = migration.copy_database(source, target, names)
    state.update_one({"_id": COPY_ID}, {"$set": {"status": "copied", "copied": copied}})
    print(f"copied {sum(copied.values())} documents from {source.name!r} into {target.name!r}")


def run(args: argparse.Namespace) -> int:
    config = load_config()
    source_uri = args.source or (config.mongo_uri.get_secret_value() if config.mongo_uri else None)
    if not source_uri:
        raise CLIError(
            "no database to migrate: pass --from URI or set GLIMPSE_MONGO_URI "
            "(the embedded database lives in memory and holds nothing to migrate)"
        )
    options = _options(args, config)
    now = time.time()
    try:
        source = _database(source_uri, config.db_name)
        target = _database(args.target, config.db_name) if args.target else source
        into_other = args.target and (
            parse_uri(args.target)["nodelist"] != parse_uri(source_uri)["nodelist"]
            or target.name != source.name
        )
        if args.dry_run:
            db = source if into_other else target
        else:
            if not args.yes:
                _confirm("the" if not into_other else "the target", target.name)
            if into_other:
                _copy(source, target, now)
            db = target
        report = migration.migrate(db, options, now=now)
    except PyMongoError as exc:
        raise CLIError(f"MongoDB failed: {exc}") from exc
    where = f"{db.name!r}" + (" (dry run: nothing written)" if args.dry_run else "")
    print(f"glimpse migrate: database {where}")
    for line in report.lines():
        print(line)
    return 2 if report.stopped else 0
