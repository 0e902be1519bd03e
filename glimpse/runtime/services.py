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
import os
import sys
import threading
import time
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


def load_services(supervise: bool = True) -> dict[str, Any]:
    """Every service declared in the `glimpse.runtime.services` entry-point group, by name.

    Background services come wrapped in `Supervised` (restarted when their
    threads die); the web service, which owns the main loop, is returned as is.
    """
    loaded = {ep.name: ep.load() for ep in entry_points(group=GROUP)}
    if not supervise:
        return loaded
    return {
        name: Supervised(service) if hasattr(service, "start") else service
        for name, service in loaded.items()
    }


class ServiceDied(RuntimeError):
    """Raised by a service loop that cannot go on: its thread ends and the supervisor starts a new one."""


def threads_of(running: Any) -> list[threading.Thread]:
    """The threads behind a running handle: itself, or the threads (and lists of threads) it holds."""
    if isinstance(running, threading.Thread):
        return [running]
    found: list[threading.Thread] = []
    for value in vars(running).values() if hasattr(running, "__dict__") else ():
        if isinstance(value, threading.Thread):
            found.append(value)
        elif isinstance(value, (list, tuple)):
            found.extend(v for v in value if isinstance(v, threading.Thread))
    return found


def is_alive(running: Any) -> bool:
    """True while every thread of the handle runs (a handle with no visible thread counts as alive)."""
    alive = getattr(running, "is_alive", None)
    if callable(alive):
        return bool(alive())
    return all(t.is_alive() for t in threads_of(running))


def _give_up(name: str) -> None:
    # Exit code 3 is gunicorn's "worker failed to boot": the master halts with it
    # instead of forking a new worker, so the whole process exits non-zero and
    # the container's restart policy (or the operator's supervisor) takes over.
    logging.getLogger(__name__).critical(
        "%s keeps dying: exiting so that a supervisor restarts the process", name
    )
    logging.shutdown()
    os._exit(3)


class Supervised:
    """A background service whose threads are watched and restarted when they die.

    A dead service is started again after a back-off that doubles from
    `backoff` up to `max_backoff` (wall seconds). When it dies `max_deaths`
    times within `window` wall seconds, `give_up(name)` runs: by default the
    process exits with code 3.
    """

    def __init__(
        self,
        service: Any,
        *,
        check_interval: float = 0.5,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
        max_deaths: int = 5,
        window: float = 60.0,
        give_up: Callable[[str], None] = _give_up,
    ):
        self.service = service
        self.name: str = getattr(service, "name", type(service).__name__)
        self.check_interval, self.backoff, self.max_backoff = check_interval, backoff, max_backoff
        self.max_deaths, self.window, self.give_up = max_deaths, window, give_up

    def start(self, ctx: ServiceContext) -> Supervisor:
        supervisor = Supervisor(self, ctx)
        supervisor.start()
        return supervisor


class Supervisor(threading.Thread):
    """The running handle of a `Supervised` service (stop/join like any other)."""

    def __init__(self, spec: Supervised, ctx: ServiceContext):
        super().__init__(name=f"supervisor-{spec.name}", daemon=True)
        self.spec, self.ctx = spec, ctx
        self.current: Any = spec.service.start(ctx)
        self.deaths: list[float] = []
        self.restarts = 0
        self.started_at = time.monotonic()
        self._stopping = threading.Event()
        self._log = logging.getLogger(__name__)

    def __getattr__(self, name: str) -> Any:
        # The handle stands in for the service's own (e.g. the server pool's `timings`).
        current = self.__dict__.get("current")
        if current is None:
            raise AttributeError(name)
        return getattr(current, name)

    def run(self) -> None:
        spec = self.spec
        delay = spec.backoff
        while not self._stopping.wait(spec.check_interval):
            if is_alive(self.current):
                continue
            if self._stopping.is_set():
                # stop() sets the flag before it stops the service: this is that stop, not a death.
                return
            now = time.monotonic()
            if now - self.started_at >= spec.window:
                delay = spec.backoff  # it ran well for a while: this death starts a fresh back-off
            self.deaths = [t for t in self.deaths if now - t < spec.window] + [now]
            self._log.error(
                "service %s died (%d time(s) in %.0f s); restarting in %.1f s",
                spec.name,
                len(self.deaths),
                spec.window,
                delay,
            )
            try:
                self.current.stop()
            except Exception:
                self._log.exception("service %s: stop after death failed", spec.name)
            if len(self.deaths) >= spec.max_deaths:
                spec.give_up(spec.name)
                return
            if self._stopping.wait(delay):
                return
            try:
                self.current = spec.service.start(self.ctx)
                self.started_at = time.monotonic()
                self.restarts += 1
                self._log.warning("service %s restarted", spec.name)
            except Exception:
                self._log.exception("service %s failed to start", spec.name)
            delay = min(delay * 2, spec.max_backoff)

    def stop(self) -> None:
        self._stopping.set()
        self.current.stop()

    def join(self, timeout: float | None = None) -> None:
        if self.is_alive() and threading.current_thread() is not self:
            super().join(timeout)
        self.current.join(timeout)


def context_for(config: Config) -> ServiceContext:
    """The database and clock a service process runs with."""
    from glimpse.runtime.clock import clock_for
    from glimpse.store.db import open_database

    return ServiceContext(
        config=config, db=open_database(config), clock=clock_for(config.clock_speed, config.clock_anchor)
    )


def run_until_stopped(running: list[Running], join_timeout: float = 70.0, check_seconds: float = 1.0) -> int:
    """Block until Ctrl-C or SIGTERM (docker stop), then stop the services and let them finish.

    0 after a stop; 3 when a service's threads died on their own (the process should then
    exit non-zero, so that its supervisor, e.g. the container's restart policy, starts it again).
    """
    import signal

    done = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: done.set())
    died: list[str] = []
    try:
        while not done.wait(check_seconds):
            died = [type(r).__name__ for r in running if not is_alive(r)]
            if died:
                logging.getLogger(__name__).critical("service thread(s) died: %s; exiting", ", ".join(died))
                break
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        for r in running:
            r.stop()
        for r in running:
            r.join(timeout=join_timeout)
    return 3 if died else 0


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


def standalone_config(name: str, argv: Sequence[str] | None) -> Config | None:
    """Parse the command line (`--help` exits here, before anything starts) and load the configuration.

    None, after a message on stderr, when the configuration is bad or names no real MongoDB.
    """
    from glimpse.runtime.config import ConfigError, load_config

    standalone_parser(name).parse_args(sys.argv[1:] if argv is None else list(argv))
    from glimpse.runtime import logs

    logs.configure(logging.INFO)
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
    from glimpse.store.migrate import unmigrated_problem  # the original's shapes: exit 2, not a traceback

    if (problem := unmigrated_problem(config)) is not None:
        print(f"{name}: {problem}", file=sys.stderr)
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
    config = standalone_config(name, argv)
    if config is None:
        return 2
    return run_until_stopped([start(context_for(config))])


def serve_standalone(name: str, serve: Callable[[Config], None], argv: Sequence[str] | None = None) -> int:
    """`python -m <web service>`: `serve(config)` runs in the foreground until it is stopped.

    The same command line and checks as `run_standalone`.
    """
    config = standalone_config(name, argv)
    if config is None:
        return 2
    serve(config)
    return 0
