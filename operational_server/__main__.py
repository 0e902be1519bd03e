"""`python -m operational_server --name glimpse_01` (one server), `--workers N` (a pool of
threads in this process) or `--zygote N` (N processes forked from this one, one server each)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable

from glimpse.runtime.config import Config
from glimpse.runtime.services import run_standalone, standalone_parser
from operational_server.service import ServerPool, server_names

log = logging.getLogger("operational_server.zygote")


def build_parser() -> argparse.ArgumentParser:
    parser = standalone_parser(
        "operational_server", "Run Glimpse operational servers.", prog="python -m operational_server"
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--name", help="the server's name in Servers (one server)")
    group.add_argument("--workers", type=int, help="run N servers named <prefix>01..N")
    group.add_argument(
        "--zygote",
        type=int,
        metavar="N",
        help="fork N processes of one server each (named <prefix>01..N) from a parent that imported "
        "everything once: for IQ Option, one broker connection per process at a fraction of the memory",
    )
    parser.add_argument(
        "--prefix", default=None, help="name prefix for --workers/--zygote (default glimpse_<host>_)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for option, value in (("--workers", args.workers), ("--zygote", args.zygote)):
        if value is not None and not 1 <= value <= 500:
            print(f"operational_server: {option} must be from 1 to 500", file=sys.stderr)
            return 2
    if args.zygote is not None:
        return run_zygote(server_names(args.zygote, args.prefix))
    names = [args.name] if args.name else server_names(args.workers or 1, args.prefix)
    # The command line is parsed above: the runner gets none of it.
    return run_standalone("operational_server", lambda ctx: ServerPool(ctx, names).start(), argv=[])


def run_zygote(names: list[str]) -> int:
    """One process per server, forked from this one (glimpse.runtime.zygote.run_standalone).

    The configuration is read (and the database checked) here; each child opens its own database
    connection and runs one server until SIGTERM.
    """
    from glimpse.market import iqoption
    from glimpse.runtime import zygote
    from operational_server.service import preload

    return zygote.run_standalone(
        "operational_server",
        names,
        server_child,
        preload=lambda config: preload(config.broker),
        after_fork=[iqoption.after_fork],
        argv=[],  # parsed by main()
    )


def server_child(config: Config) -> Callable[[str], int]:
    """In the parent, before any fork: prepare the database once; returns what each child runs."""
    from glimpse.runtime.clock import clock_for
    from glimpse.runtime.services import ServiceContext, context_for, run_until_stopped
    from glimpse.store.db import open_database

    prepared = prepare_database(config)

    def child(name: str) -> int:
        if not prepared:
            return run_until_stopped([ServerPool(context_for(config), [name]).start()])
        # The parent built the indexes and converted the money: the child only connects (less
        # work per start, and fewer of the parent's pages written).
        db = open_database(config, prepare=False)
        ctx = ServiceContext(config=config, db=db, clock=clock_for(config.clock_speed, config.clock_anchor))
        return run_until_stopped([ServerPool(ctx, [name], convert_money=False).start()])

    return child


def prepare_database(config: Config) -> bool:
    """What every server start does to the database (indexes, money in cents), done once, before any
    fork. The client is closed here: a pymongo client must not cross a fork. False when the database
    does not answer: each child then does it at its start."""
    from pymongo.errors import PyMongoError

    from glimpse.store import trades
    from glimpse.store.db import open_database

    try:
        db = open_database(config)
    except PyMongoError as exc:
        log.warning("zygote: database not ready (%s); each server prepares it at its start", exc)
        return False
    try:
        converted = trades.convert_money(db)
        if any(converted.values()):
            log.info("money converted to integer cents: %s", converted)
        return True
    except PyMongoError as exc:
        log.warning("zygote: converting money failed (%s); each server does it at its start", exc)
        return False
    finally:
        db.client.close()


if __name__ == "__main__":
    sys.exit(main())
