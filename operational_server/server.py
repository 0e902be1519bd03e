"""An operational server: it takes one assignment at a time and serves that
user's session until it ends. Its heartbeat comes from the process's watch
thread (operational_server/watch.py), which beats also during orders."""

from __future__ import annotations

import logging
import threading

from glimpse.runtime.services import ServiceContext
from glimpse.store import lifecycle
from operational_server.market_view import MarketView
from operational_server.session import ServerIdentity, TimingLog, UserSession
from operational_server.watch import PoolWatch

log = logging.getLogger(__name__)

IDLE_POLL_WALL_SECONDS = 0.1


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

    def run(self) -> None:
        db, clock = self.ctx.db, self.ctx.clock
        while not self.stop_event.is_set():
            try:
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
                    ).run()
                    self.sessions_served += 1
                    continue
            except Exception:
                log.exception("server %s: unexpected failure; going on", self.identity.name)
            self.stop_event.wait(IDLE_POLL_WALL_SECONDS)
