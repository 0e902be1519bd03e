"""`python -m operational_server --name glimpse_01` (one server) or `--workers N` (a pool)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from glimpse.clock import clock_for
from glimpse.config import ConfigError, load_config
from glimpse.db import open_database
from glimpse.services import ServiceContext
from operational_server.service import ServerPool, server_names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m operational_server", description="Run Glimpse operational servers.")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--name", help="the server's name in Servers (one server)")
    group.add_argument("--workers", type=int, help="run N servers named <prefix>01..N")
    parser.add_argument("--prefix", default=None, help="name prefix for --workers (default glimpse_<host>_)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.workers is not None and not 1 <= args.workers <= 500:
        print("--workers must be from 1 to 500", file=sys.stderr)
        return 2
    try:
        config = load_config()
    except ConfigError as exc:
        print(f"operational_server: {exc}", file=sys.stderr)
        return 2
    if config.embedded:
        print("operational_server: set GLIMPSE_MONGO_URI (the embedded database lives inside `glimpse up`)", file=sys.stderr)
        return 2
    names = [args.name] if args.name else server_names(args.workers or 1, args.prefix)
    ctx = ServiceContext(config=config, db=open_database(config), clock=clock_for(config.clock_speed, config.clock_anchor))
    pool = ServerPool(ctx, names).start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    pool.stop()
    pool.join(timeout=70)
    return 0


if __name__ == "__main__":
    sys.exit(main())
