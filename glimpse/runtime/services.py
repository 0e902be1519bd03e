"""How `glimpse up` finds and runs the services.

glimpse/ never imports the service packages (api, auxiliar,
operational_server). Each of them declares its services as entry points in
the group `glimpse.runtime.services` (pyproject.toml), and `glimpse up` loads them
by name. A background service starts threads and returns a handle to stop
them; the web service (the API) owns the main loop.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Protocol

from glimpse.runtime.clock import Clock, SystemClock
from glimpse.runtime.config import Config

GROUP = "glimpse.services"


@dataclass
class ServiceContext:
    """What every service is given: configuration, database and clock."""

    config: Config
    db: Any
    clock: Clock = field(default_factory=SystemClock)


class Running(Protocol):
    def stop(self) -> None: ...

    def join(self, timeout: float | None = None) -> None: ...


class BackgroundService(Protocol):
    name: str

    def start(self, ctx: ServiceContext) -> Running: ...


def load_services() -> dict[str, Any]:
    """Every service declared in the `glimpse.runtime.services` entry-point group, by name."""
    return {ep.name: ep.load() for ep in entry_points(group=GROUP)}


def context_for(config: Config) -> ServiceContext:
    """The database and clock a service process runs with."""
    from glimpse.runtime.clock import clock_for
    from glimpse.store.db import open_database

    return ServiceContext(
        config=config, db=open_database(config), clock=clock_for(config.clock_speed, config.clock_anchor)
    )


def run_until_stopped(running: list[Running], join_timeout: float = 70.0) -> None:
    """Block until Ctrl-C or SIGTERM (docker stop), then stop the services and let them finish."""
    import signal
    import threading

    done = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        for r in running:
            r.stop()
        for r in running:
            r.join(timeout=join_timeout)


STANDALONE_EPILOG = (
    "Configuration comes from the environment (GLIMPSE_*; see the README). "
    "A service run alone needs GLIMPSE_MONGO_URI: the embedded database lives inside `glimpse up`. "
    "Stop it with Ctrl-C or SIGTERM."
)


def standalone_parser(
    name: str, description: str | None = None, prog: str | None = None
) -> argparse.ArgumentParser:
    """The command line of `python -m <service>`: usage, description and the environment it reads.

    The program name and description default to those of the module run with
    `python -m` (its spec name and the first paragraph of its docstring).
    """
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if prog is None:
        prog = f"python -m {spec.name.removesuffix('.__main__')}" if spec is not None else name
    if description is None:
        doc = (getattr(main, "__doc__", None) or "").strip()
        description = doc.split("\n\n")[0] if doc else f"Run the Glimpse service {name!r} alone."
    return argparse.ArgumentParser(prog=prog, description=description, epilog=STANDALONE_EPILOG)


def _standalone_config(name: str, argv: Sequence[str] | None) -> Config | None:
    """Parse the command line (`--help` exits here, before anything starts) and load the configuration.

    None, after a message on stderr, when the configuration is bad or names no real MongoDB.
    """
    from glimpse.runtime.config import ConfigError, load_config

    standalone_parser(name).parse_args(sys.argv[1:] if argv is None else list(argv))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = load_config()
    except ConfigError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return None
    if config.embedded:
        print(
            f"{name}: set GLIMPSE_MONGO_URI (the embedded database lives inside `glimpse up`)",
            file=sys.stderr,
        )
        return None
    return config


def run_standalone(
    name: str, start: Callable[[ServiceContext], Running], argv: Sequence[str] | None = None
) -> int:
    """`python -m <service>`: one background service in this process, against GLIMPSE_MONGO_URI.

    `start(ctx)` starts the service and returns what to stop. `argv` is the
    command line (default sys.argv[1:]; a caller that parsed its own passes
    []): `--help` prints the usage and exits 0 before anything starts or any
    database is opened. Bad configuration is a message and exit code 2.
    """
    config = _standalone_config(name, argv)
    if config is None:
        return 2
    run_until_stopped([start(context_for(config))])
    return 0


def serve_standalone(name: str, serve: Callable[[Config], None], argv: Sequence[str] | None = None) -> int:
    """`python -m <web service>`: `serve(config)` runs in the foreground until it is stopped.

    The same command line and checks as `run_standalone`.
    """
    config = _standalone_config(name, argv)
    if config is None:
        return 2
    serve(config)
    return 0
