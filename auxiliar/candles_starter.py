"""The candle streams: one process streams the 60 s candles of every pair.

Once a second it writes RealtimeCandles{ativo, candles: [{o, c, h, l, from}]
×15 (oldest first; the last still forming), lastUpdated} for the open pairs,
in one bulk write. After a broker failure it reconnects and restarts the
streams on the next tick.

Run alone: python -m auxiliar.candles_starter
"""

from __future__ import annotations

import logging
import sys

from auxiliar.market_account import MarketAccount
from glimpse.market import Broker, BrokerError
from glimpse.rules.pairs import PAIR_NAMES
from glimpse.runtime.services import ServiceContext, run_standalone
from glimpse.runtime.ticker import Ticker, TickerService
from glimpse.store import db as names
from glimpse.store.db import upsert_all

log = logging.getLogger(__name__)
NAME = "Realtime Candles"
KEEP = 15


class CandleStreams(Ticker):
    quiet_around_decisions = True

    def __init__(self, ctx: ServiceContext, interval: float = 1.0):
        super().__init__(ctx, NAME, interval)
        self.account = MarketAccount(ctx, NAME)
        self._streaming: Broker | None = None

    def _broker(self) -> Broker:
        broker = self.account.get()
        if broker is not self._streaming:  # a new connection: (re)start every stream
            for pair in PAIR_NAMES:
                broker.start_stream(pair, KEEP)
            self._streaming = broker
        return broker

    def tick(self, now: float) -> bool:
        db = self.ctx.db
        open_pairs = [d["ativo"] for d in db[names.OPENED_ACTIVES].find({"open": "True"}, {"ativo": 1})]
        if not open_pairs:
            return True  # nothing is open: nothing to stream
        try:
            broker = self._broker()
            rows = {pair: broker.stream_candles(pair) for pair in open_pairs if pair in PAIR_NAMES}
        except BrokerError as exc:
            self._streaming = None
            self.account.drop(exc)
            return False
        written = self.ctx.clock.now()
        docs = [
            {"ativo": pair, "candles": [dict(c) for c in candles], "lastUpdated": written}
            for pair, candles in rows.items()
            if candles
        ]
        upsert_all(db[names.REALTIME_CANDLES], "ativo", docs)
        return True

    def teardown(self) -> None:
        # Closing the connection ends its streams (stopping 31 IQ Option streams one by one takes minutes).
        self.account.close()


service = TickerService("candles_starter", CandleStreams)

if __name__ == "__main__":
    sys.exit(run_standalone(service.name, service.start))
