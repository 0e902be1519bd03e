"""`python -m operational_server --name glimpse_01` (one server), `--workers N` (a pool of
threads in this process) or `--zygote N` (N processes forked from this one, one server each)."""

from __future__ import annotations

import sys

from glimpse.runtime.services import run_standalone, standalone_parser
from operational_server.service import ServerPool, server_names


def main(argv: list[str] | None = None) -> int:
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
    args = parser.parse_args(argv)
    for option, value in (("--workers", args.workers), ("--zygote", args.zygote)):
        if value is not None and not 1 <= value <= 500:
            print(f"operational_server: {option} must be from 1 to 500", file=sys.stderr)
            return 2
    if args.zygote is not None:
        from operational_server.service import run_zygote

        return run_zygote(server_names(args.zygote, args.prefix))
    names = [args.name] if args.name else server_names(args.workers or 1, args.prefix)
    # The command line is parsed above: the runner gets none of it.
    return run_standalone("operational_server", lambda ctx: ServerPool(ctx, names).start(), argv=[])


if __name__ == "__main__":
    sys.exit(main())
