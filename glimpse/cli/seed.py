"""`glimpse seed [--reset] [--demo] [--yes]`: load collections/ into the database."""

from __future__ import annotations

import argparse
import sys

from pymongo.errors import PyMongoError

from glimpse.cli import CLIError
from glimpse.runtime.config import load_config
from glimpse.store.db import open_database
from glimpse.store.seed import COLLECTIONS_DIR, SeedError, collection_files, seed_database


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "seed",
        help="load the seed data in collections/ into the database",
        description=(
            "Insert every document of collections/*.json that is not in the database yet "
            "(matched on its natural key, so running it again changes nothing)."
        ),
    )
    parser.add_argument("--reset", action="store_true", help="drop the seeded collections first")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="also seed the published demo logins and invite codes into a real MongoDB",
    )
    parser.add_argument(
        "--yes", action="store_true", help="confirm --reset against a real MongoDB without asking"
    )
    parser.set_defaults(func=run)


def _confirm_reset(db_name: str, collections: list[str]) -> None:
    warning = f"--reset drops these collections of the database {db_name!r}: {', '.join(collections)}"
    if not sys.stdin.isatty():
        raise CLIError(warning + "; add --yes to confirm")
    print(warning, file=sys.stderr)
    answer = input(f"Type the database name ({db_name}) to confirm: ").strip()
    if answer != db_name:
        raise CLIError("--reset not confirmed; nothing was changed")


def run(args: argparse.Namespace) -> int:
    config = load_config()
    if args.reset and not config.embedded and not args.yes:
        _confirm_reset(config.db_name, sorted(collection_files(COLLECTIONS_DIR)))
    allow_demo = config.embedded or args.demo
    try:
        db = open_database(config, prepare=not args.reset)
        report = seed_database(db, reset=args.reset, allow_demo=allow_demo)
    except SeedError as exc:
        raise CLIError(str(exc)) from None
    except PyMongoError as exc:
        raise CLIError(f"MongoDB (GLIMPSE_MONGO_URI) failed: {exc}") from exc

    width = max(len(name) for name in report.inserted)
    for collection in report.inserted:
        print(
            f"{collection:<{width}}  {report.inserted[collection]:>4} inserted"
            f"  {report.existing[collection]:>4} already present"
        )
    print(f"{report.total_inserted} documents inserted into database {config.db_name!r}.")

    if report.skipped_demo:
        print("\nSkipped the published demo data (anyone can read it in the repository):")
        for collection, key in report.skipped_demo:
            print(f"  {collection}: {key}")
        print(
            "Create real accounts with `glimpse user create --name NAME --email EMAIL` and "
            "`glimpse manager create --name NAME --email EMAIL`, or rerun with --demo for a test deployment."
        )
    if config.embedded:
        print(
            "\nNote: no GLIMPSE_MONGO_URI is set, so this seeded the embedded database, which lives in memory "
            "for the life of this process only. `glimpse up` seeds its own embedded database when it starts; "
            "set GLIMPSE_MONGO_URI to seed a real MongoDB."
        )
    return 0
