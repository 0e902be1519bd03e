"""The broker connection the market-data services read with, reopened after a drop.

Reconnection backs off exponentially (`base_delay` doubling up to
`max_delay`, wall seconds), so a broker that refuses the market account is
asked again every minute at most, not every tick. It logs one line per
change of state (connected, lost, cannot connect, reconnected), not one per
attempt. While it waits, `get()` raises `MarketUnavailable` at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from glimpse.market import Broker, BrokerError, open_broker
from glimpse.runtime.services import ServiceContext

log = logging.getLogger(__name__)


class MarketUnavailable(BrokerError):
    """No connection now; the next attempt is due later (back-off)."""


class MarketAccount:
    base_delay = 1.0
    max_delay = 60.0

    def __init__(self, ctx: ServiceContext, who: str, monotonic: Callable[[], float] = time.monotonic):
        self.ctx = ctx
        self.who = who
        self.broker: Broker | None = None
        self.monotonic = monotonic
        self.failures = 0  # connection attempts failed in a row
        self.next_attempt = 0.0
        self.state = "new"  # new | connected | lost | failing

    def _open(self) -> Broker:
        config = self.ctx.config
        broker = open_broker(
            config,
            self.ctx.db,
            self.ctx.clock,
            config.market_email,
            config.market_password.get_secret_value(),
        )
        broker.connect()
        return broker

    def get(self) -> Broker:
        """A connected broker; raises BrokerError when it cannot connect now."""
        if self.broker is not None and self.broker.is_connected():
            return self.broker
        self.close()
        now = self.monotonic()
        if now < self.next_attempt:
            raise MarketUnavailable(f"reconnecting in {self.next_attempt - now:.1f} s")
        try:
            broker = self._open()
        except BrokerError as exc:
            self.failures += 1
            delay = min(self.base_delay * 2 ** (self.failures - 1), self.max_delay)
            self.next_attempt = now + delay
            if self.state != "failing":
                log.warning(
                    "%s: cannot connect to the %s broker (%s); retrying with back-off up to %g s",
                    self.who,
                    self.ctx.config.broker,
                    exc,
                    self.max_delay,
                )
                self.state = "failing"
            else:
                log.debug(
                    "%s: connection attempt %d failed (%s); next in %g s", self.who, self.failures, exc, delay
                )
            raise
        if self.state == "failing":
            log.info(
                "%s: connected to the %s broker after %d failed attempt(s)",
                self.who,
                self.ctx.config.broker,
                self.failures,
            )
        elif self.state == "lost":
            log.info("%s: reconnected to the %s broker", self.who, self.ctx.config.broker)
        else:
            log.info("%s: connected to the %s broker", self.who, self.ctx.config.broker)
        self.state = "connected"
        self.failures = 0
        self.next_attempt = 0.0
        self.broker = broker
        return broker

    def drop(self, why: BrokerError) -> None:
        """A broker call failed: close the connection; the next `get()` reconnects (with back-off)."""
        if isinstance(why, MarketUnavailable) or self.state == "failing":
            return  # still waiting to reconnect: already logged
        if self.state == "connected":
            log.warning("%s: broker call failed (%s); reconnecting", self.who, why)
            self.state = "lost"
        self.close()

    def close(self) -> None:
        if self.broker is not None:
            try:
                self.broker.close()
            except Exception:
                log.exception("%s: closing the broker", self.who)
            self.broker = None
