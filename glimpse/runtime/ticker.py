"""A service loop that runs a tick every `interval` seconds of clock time.

Deadlines are absolute, so the loop does not drift; a tick that overruns
skips the missed ones instead of bursting. Each tick writes the service's
heartbeat (ServerStatus). A failing tick is logged with its context and the
loop goes on; after `max_failed_ticks` failures in a row (exceptions, or ticks
that return False: no progress) the heartbeat stops until a tick succeeds, so
/health shows a service that only fails. A tick
that raises `ServiceDied` ends the thread: the supervisor (glimpse/runtime/
services.py) starts a fresh instance.
"""

from __future__ import annotations

import logging
import threading
import time

from glimpse.rules.timing import quiet_window
from glimpse.runtime import logs
from glimpse.runtime.heartbeat import beat
from glimpse.runtime.services import ServiceContext, ServiceDied

log = logging.getLogger(__name__)


class Ticker(threading.Thread):
    #: wall-clock floor between ticks, so a fast clock cannot spin a core
    min_wall_seconds = 0.05
    #: no tick starts from just before the decision instant (GLIMPSE_DECISION_SECOND) until its
    #: orders are out (glimpse.rules.timing.quiet_window): the bots place their orders then, and
    #: a background write would make them wait for the interpreter and the database
    quiet_around_decisions = False
    #: failed ticks in a row after which the heartbeat stops until a tick succeeds
    max_failed_ticks = 3

    def __init__(self, ctx: ServiceContext, name: str, interval: float):
        super().__init__(name=f"service-{name}", daemon=True)
        self.ctx = ctx
        self.service_name = name
        self.interval = interval
        self.stop_event = threading.Event()
        self.ticks = 0
        self.failed_ticks = 0
        speed = float(getattr(ctx.clock, "speed", 1.0))
        self.quiet = quiet_window(ctx.config.decision_second, speed) if self.quiet_around_decisions else None

    def in_quiet(self, now: float) -> bool:
        """Whether `now` (market seconds) is in the quiet time around a decision instant."""
        return self.quiet is not None and self.quiet[0] <= now % 60 < self.quiet[1]

    def quiet_began(self, since: float, now: float) -> bool:
        """Whether the quiet time began between `since` and `now`: a tick begun before it that would
        write in it writes nothing (the next one writes it). The order desk reads the market ahead
        once the quiet time has begun, and a write landing after that read made every decision
        made on it be made again at the instant: at 60x, with sessions starting up, a tick begun
        17 wall ms before the quiet time wrote in it, and the instant's orders went out late."""
        return self.in_quiet(now) and not self.in_quiet(since)

    def setup(self) -> None:
        """Runs once before the first tick."""

    def tick(self, now: float) -> bool | None:
        """One round of work. Return False when it could make no progress (e.g. the broker is
        unreachable): it counts as a failed tick, without a traceback in the log."""
        raise NotImplementedError

    def teardown(self) -> None:
        """Runs once after the last tick."""

    def run(self) -> None:
        with logs.bind(service=self.service_name):
            self._run()

    def _run(self) -> None:
        clock = self.ctx.clock
        try:
            self.setup()
            deadline = clock.now()
            while not self.stop_event.is_set():
                started = time.monotonic()
                now = clock.now()
                if self.quiet is not None and self.in_quiet(now):
                    deadline = now - now % 60 + self.quiet[1]
                    self._wait(deadline, started)
                    continue
                try:
                    progressed = self.tick(now)
                    self.failed_ticks = self.failed_ticks + 1 if progressed is False else 0
                except ServiceDied:
                    log.exception("%s: the loop cannot go on; its thread ends", self.service_name)
                    return
                except Exception:
                    self.failed_ticks += 1
                    log.exception(
                        "%s: tick at %.3f failed (%d in a row); next tick goes on",
                        self.service_name,
                        now,
                        self.failed_ticks,
                    )
                self.ticks += 1
                if self.failed_ticks < self.max_failed_ticks:
                    try:
                        beat(self.ctx.db, self.service_name, clock.now())
                    except Exception:
                        log.exception("%s: heartbeat failed", self.service_name)
                deadline = max(deadline + self.interval, clock.now())
                self._wait(deadline, started)
        finally:
            self.teardown()

    def _wait(self, deadline: float, started: float) -> None:
        clock = self.ctx.clock
        while not self.stop_event.is_set():
            remaining = deadline - clock.now()
            if remaining <= 0 and time.monotonic() - started >= self.min_wall_seconds:
                return
            wall = max(
                remaining / getattr(clock, "speed", 1.0),
                self.min_wall_seconds - (time.monotonic() - started),
                0.0,
            )
            if hasattr(clock, "advance"):
                clock.sleep(max(remaining, 0.0))
                return
            self.stop_event.wait(min(wall, 0.5))

    def stop(self) -> None:
        self.stop_event.set()


class TickerService:
    """A ticker as a service of `glimpse up`: `start(ctx)` builds it and starts its thread."""

    def __init__(self, name: str, factory):
        self.name = name
        self.factory = factory

    def start(self, ctx: ServiceContext) -> Ticker:
        ticker = self.factory(ctx)
        ticker.start()
        return ticker
