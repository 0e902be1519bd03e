"""The candle streams: one process streams the 60 s candles of every pair.

Once a second it writes RealtimeCandles{ativo, candles: [{o, c, h, l, from}]
×15 (oldest first; the last still forming), lastUpdated} for the open pairs,
in one bulk write. After a broker failure it reconnects and restarts the
streams on the next tick.

It writes only what changed since its last write: within a minute usually
just the forming candle (`candles.14`), the whole window when a minute
rolls over. A pair whose candles did not move gets only its lastUpdated
refreshed, and only once it is REFRESH_SECONDS old, so the bots never see
it stale. A partial write names the lastUpdated it builds on: if anyone
else wrote the document since (the updateCandlesRealtime route), it does
not apply and the pair is written whole on the next tick.

Run alone: python -m auxiliar.candles_starter
"""

from __future__ import annotations

import logging
import sys

from pymongo import UpdateOne

from auxiliar.market_account import MarketAccount
from glimpse.market import Broker, BrokerError
from glimpse.market.base import Candle
from glimpse.rules.pairs import PAIR_NAMES
from glimpse.runtime.services import ServiceContext, run_standalone
from glimpse.runtime.ticker import Ticker, TickerService
from glimpse.store import db as names

log = logging.getLogger(__name__)
NAME = "Realtime Candles"
KEEP = 15
# How old (market seconds) an unchanged pair's lastUpdated may grow before it is refreshed:
# well inside the bots' candle freshness bound (5 s).
REFRESH_SECONDS = 2.0


def _write(collection, ops: list[tuple[dict, dict, bool]], embedded: bool) -> int:
    """Apply the (filter, update, upsert) updates in one bulk write; how many documents matched or were inserted.

    mongomock's bulk_write does not take current pymongo operations: on the
    embedded store the updates go one by one (each atomic under the store's lock).
    """
    if not ops:
        return 0
    if not embedded:
        result = collection.bulk_write([UpdateOne(f, u, upsert=up) for f, u, up in ops], ordered=False)
        return int(result.matched_count) + int(result.upserted_count)
    matched = 0
    for filter_, update, upsert in ops:
        one = collection.update_one(filter_, update, upsert=upsert)
        matched += int(one.matched_count) + (1 if one.upserted_id is not None else 0)
    return matched


def changes(
    pair: str, candles: list[Candle], written: tuple[float, list[Candle]] | None, now: float
) -> dict | None:
    """The `$set` that brings the pair's document from `written` (stamp, candles) to `candles`; None: nothing.

    Whole when nothing was written or the window moved; else the changed
    candles by index; only the stamp when nothing moved and it is getting old.
    """
    if (
        written is None
        or len(written[1]) != len(candles)
        or (candles and written[1][0]["from"] != candles[0]["from"])
    ):
        return {"ativo": pair, "candles": [dict(c) for c in candles], "lastUpdated": now}
    update: dict = {f"candles.{i}": dict(c) for i, c in enumerate(candles) if c != written[1][i]}
    if update or now - written[0] >= REFRESH_SECONDS:
        update["lastUpdated"] = now
        return update
    return None


class CandleStreams(Ticker):
    quiet_around_decisions = True
    # On a fast clock, ten windows a wall second: the bots take candles up to a quarter of a wall
    # second old, and every tick is a write per pair that moved.
    min_wall_seconds = 0.1

    def __init__(self, ctx: ServiceContext, interval: float = 1.0):
        super().__init__(ctx, NAME, interval)
        self.account = MarketAccount(ctx, NAME)
        self._streaming: Broker | None = None
        # pair -> (lastUpdated, candles) as this process last wrote them
        self._written: dict[str, tuple[float, list[Candle]]] = {}
        # pair -> its document's _id, read once it was written whole: the partial writes of every tick
        # name it, which the embedded store finds by id instead of matching every pair's document.
        self._ids: dict[str, object] = {}

    def _broker(self) -> Broker:
        broker = self.account.get()
        if broker is not self._streaming:  # a new connection: (re)start every stream
            for pair in PAIR_NAMES:
                broker.start_stream(pair, KEEP)
            self._streaming = broker
            self._written.clear()
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
        self._store(rows, now)
        return True

    def _store(self, rows: dict[str, list[Candle]], began: float) -> None:
        collection = self.ctx.db[names.REALTIME_CANDLES]
        now = self.ctx.clock.now()
        if self.quiet_began(began, now):
            return  # nothing is marked written: the next tick, after the quiet time, writes it all
        ops: list[tuple[dict, dict, bool]] = []
        fresh: dict[str, tuple[float, list[Candle]]] = {}
        for pair, candles in rows.items():
            if not candles:
                continue
            written = self._written.get(pair)
            update = changes(pair, candles, written, now)
            if update is None:
                continue
            if written is None or "ativo" in update:
                ops.append(({"ativo": pair}, {"$set": update}, True))
            else:  # applies only on top of our own last write
                known = {"_id": self._ids[pair]} if pair in self._ids else {}
                ops.append(({**known, "ativo": pair, "lastUpdated": written[0]}, {"$set": update}, False))
            fresh[pair] = (now, [dict(c) for c in candles])  # type: ignore[misc]
        if not ops:
            return
        matched = _write(collection, ops, self.ctx.config.embedded)
        if matched == len(ops):
            self._written.update(fresh)
            unknown = [pair for pair in fresh if pair not in self._ids]
            if unknown:
                for doc in collection.find({"ativo": {"$in": unknown}}, {"_id": 1, "ativo": 1}):
                    self._ids[doc["ativo"]] = doc["_id"]
        else:
            # Someone else wrote a document in between (or replaced it): write every pair whole next time.
            log.info("realtime candles changed by another writer; rewriting them whole")
            self._written.clear()
            self._ids.clear()

    def teardown(self) -> None:
        # Closing the connection ends its streams (stopping 31 IQ Option streams one by one takes minutes).
        self.account.close()


service = TickerService("candles_starter", CandleStreams)

if __name__ == "__main__":
    sys.exit(run_standalone(service.name, service.start))
