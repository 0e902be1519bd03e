"""Operational servers as a service: N server threads in this process
(GLIMPSE_SERVERS for `glimpse up`), one watch thread that beats for all of
them, and one market view they share."""

from __future__ import annotations

import logging
import secrets
import socket
import threading

from glimpse.runtime.services import ServiceContext
from glimpse.store import lifecycle, trades
from operational_server.market_view import MarketView
from operational_server.server import OperationalServer
from operational_server.session import ServerIdentity, TimingLog
from operational_server.watch import PoolWatch

log = logging.getLogger(__name__)


class ServerPool:
    def __init__(self, ctx: ServiceContext, names: list[str], *, convert_money: bool = True):
        self.ctx = ctx
        self.convert_money = convert_money
        self.incarnation = secrets.token_hex(8)
        self.stop_event = threading.Event()
        self.market = MarketView(ctx.db)
        self.timings = TimingLog()
        self.watch = PoolWatch(ctx, names, self.incarnation, self.stop_event)
        self.servers = [
            OperationalServer(
                ctx,
                ServerIdentity(name, self.incarnation),
                self.market,
                self.watch,
                self.stop_event,
                self.timings,
            )
            for name in names
        ]
        self.watch.serving = lambda: [s.identity.name for s in self.servers if s.serving()]

    def start(self) -> ServerPool:
        # Documents written before money was stored in cents; idempotent, so every start may run it.
        if self.convert_money:
            converted = trades.convert_money(self.ctx.db)
            if any(converted.values()):
                log.info("money converted to integer cents: %s", converted)
        now = self.ctx.clock.now()
        for server in self.servers:
            previous = lifecycle.register_server(self.ctx.db, server.identity.name, self.incarnation, now)
            if previous:
                log.warning(
                    "server %s restarted while serving user %s: handed back to the assigner",
                    server.identity.name,
                    previous,
                )
        self.watch.start()
        for server in self.servers:
            server.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()
        self.watch.wake_all()

    def join(self, timeout: float | None = None) -> None:
        for server in self.servers:
            server.join(timeout)
        self.watch.join(timeout)


def server_names(count: int, prefix: str | None = None) -> list[str]:
    prefix = prefix or f"glimpse_{socket.gethostname()}_"
    return [f"{prefix}{i:02d}" for i in range(1, count + 1)]


# Imported by a zygote's parent before it forks, beyond what importing this module loads:
# what a server's session loads on its first user, so every child shares it.
PRELOAD = (
    "glimpse.market.iqoption",
    "glimpse.market.paper",
    "glimpse.store.migrate",
)


def preload(broker: str) -> None:
    """Import (without threads or sockets) what a server process would import on its first session."""
    import importlib

    for module in PRELOAD:
        importlib.import_module(module)
    if broker == "iqoption":
        from glimpse.market import iqoption

        iqoption.preload()


class OperationalService:
    name = "operational_server"

    def start(self, ctx: ServiceContext) -> ServerPool:
        return ServerPool(ctx, server_names(ctx.config.servers, "glimpse_")).start()


service = OperationalService()
