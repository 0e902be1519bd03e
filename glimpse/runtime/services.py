"""How `glimpse up` finds and runs the services.

glimpse/ never imports the service packages (api, auxiliar,
operational_server). Each of them declares its services as entry points in
the group `glimpse.runtime.services` (pyproject.toml), and `glimpse up` loads them
by name. A background service starts threads and returns a handle to stop
them; the web service (the API) owns the main loop.
"""

from __future__ import annotations

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


def run_standalone(name: str, start) -> int:
    """`python -m <service>`: one service in this process, against GLIMPSE_MONGO_URI.

    `start(ctx)` starts the service and returns what to stop. Bad
    configuration is a message and exit code 2.
    """
    import logging
    import sys

    from glimpse.runtime.config import ConfigError, load_config

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = load_config()
    except ConfigError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 2
    if config.embedded:
        print(
            f"{name}: set GLIMPSE_MONGO_URI (the embedded database lives inside `glimpse up`)",
            file=sys.stderr,
        )
        return 2
    run_until_stopped([start(context_for(config))])
    return 0
