"""The broker connection the market-data services read with, reopened after a drop."""

from __future__ import annotations

import logging

from glimpse.market import Broker, BrokerError, open_broker
from glimpse.runtime.services import ServiceContext

log = logging.getLogger(__name__)


class MarketAccount:
    def __init__(self, ctx: ServiceContext, who: str):
        self.ctx = ctx
        self.who = who
        self.broker: Broker | None = None

    def get(self) -> Broker:
        """A connected broker; raises BrokerError when it cannot connect now."""
        if self.broker is not None and self.broker.is_connected():
            return self.broker
        self.close()
        config = self.ctx.config
        broker = open_broker(
            config,
            self.ctx.db,
            self.ctx.clock,
            config.market_email,
            config.market_password.get_secret_value(),
        )
        broker.connect()
        log.info("%s: connected to the %s broker", self.who, config.broker)
        self.broker = broker
        return broker

    def drop(self, why: BrokerError) -> None:
        log.warning("%s: broker call failed (%s); reconnecting next tick", self.who, why)
        self.close()

    def close(self) -> None:
        if self.broker is not None:
            try:
                self.broker.close()
            except Exception:
                log.exception("%s: closing the broker", self.who)
            self.broker = None
