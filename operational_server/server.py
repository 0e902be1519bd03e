"""An operational server: it takes one assignment at a time and serves that
user's session until it ends. Its heartbeat comes from the process's watch
thread (operational_server/watch.py), which beats also during orders, but
only for server threads that are alive and able to serve.

A server thread that cannot serve (its session failed and could not even
clean up, or the database refused its writes) says so, in its log and on
its server document, and goes silent for longer than a lease: the watch
stops beating for it, so the assigner releases its user to another server
instead of the user waiting for a zombie. Then it registers again, as a
restarted server does, and goes back to work.
"""

from __future__ import annotations

import logging
import threading
import time

from glimpse.runtime.services import ServiceContext
from glimpse.store import lifecycle
from operational_server.market_view import MarketView
from operational_server.session import ServerIdentity, TimingLog, UserSession
from operational_server.watch import PoolWatch

log = logging.getLogger(__name__)

IDLE_POLL_WALL_SECONDS = 0.1
# How long an idle server sleeps at most when the watch does not wake it (wall seconds): the watch
# wakes it as soon as a read finds it assigned, so this only bounds how stale a missed wake-up is.
IDLE_WAIT_WALL_SECONDS = 1.0
# How long past a lease a server that could not serve stays silent (wall seconds).
SILENCE_MARGIN_WALL_SECONDS = 1.0


class OperationalServer(threading.Thread):
    def __init__(
        self,
        ctx: ServiceContext,
        identity: ServerIdentity,
        market: MarketView,
        watch: PoolWatch,
        stop_event: threading.Event,
        timings: TimingLog | None = None,
    ):
        super().__init__(name=f"server-{identity.name}", daemon=True)
        self.ctx = ctx
        self.identity = identity
        self.market = market
        self.watch = watch
        self.stop_event = stop_event
        self.timings = timings
        self.sessions_served = 0
        self.failures = 0
        self._silent_until = 0.0  # time.monotonic(): no heartbeat before this
        self._must_register = False

    def serving(self) -> bool:
        """Whether this server is alive and able to serve (the watch beats only for those)."""
        return self.is_alive() and time.monotonic() >= self._silent_until

    def run(self) -> None:
        db, clock = self.ctx.db, self.ctx.clock
        while not self.stop_event.is_set():
            try:
                if time.monotonic() < self._silent_until:
                    self.stop_event.wait(IDLE_POLL_WALL_SECONDS)
                    continue
                if self._must_register:
                    self._register_again()
                taken = None
                if self.watch.assigned(self.identity.name):
                    taken = lifecycle.take(db, self.identity.name, self.identity.incarnation, clock.now())
                if taken is not None and taken.user:
                    UserSession(
                        self.ctx,
                        self.identity,
                        taken.user,
                        self.market,
                        self.stop_event,
                        self.timings,
                        self.watch,
                        assignment=taken.id,
                        purpose=taken.purpose,
                        desk=self.market.desk(self.ctx.config.embedded),
                    ).run()
                    self.sessions_served += 1
                    continue
            except Exception as exc:
                self._cannot_serve(exc)
                continue
            # Hundreds of idle servers each polling ten times a second kept the interpreter busy.
            if not self.stop_event.is_set():
                self.watch.wait_for_assignment(self.identity.name, IDLE_WAIT_WALL_SECONDS)

    def _cannot_serve(self, exc: Exception) -> None:
        """Stop beating for longer than a lease, so the assigner gives the user to a server that can serve."""
        self.failures += 1
        silence = float(self.ctx.config.lease_seconds) + SILENCE_MARGIN_WALL_SECONDS
        self._silent_until = time.monotonic() + silence
        self._must_register = True
        problem = f"cannot serve: {type(exc).__name__}: {exc}"[:500]
        log.error(
            "server %s %s; silent for %.1f s so its user is released",
            self.identity.name,
            problem,
            silence,
            exc_info=exc,
        )
        try:
            lifecycle.report_problem(
                self.ctx.db, self.identity.name, self.identity.incarnation, problem, self.ctx.clock.now()
            )
        except Exception:
            log.exception("server %s: could not record its problem either", self.identity.name)

    def _register_again(self) -> None:
        """Back after a silence: waiting again (the user it held, if still held, goes back to the assigner)."""
        db, now = self.ctx.db, self.ctx.clock.now()
        held = lifecycle.register_server(db, self.identity.name, self.identity.incarnation, now)
        lifecycle.report_problem(db, self.identity.name, self.identity.incarnation, None, now)
        self._must_register = False
        log.warning(
            "server %s serves again%s",
            self.identity.name,
            f" (user {held} went back to the assigner)" if held else "",
        )
