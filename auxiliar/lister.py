"""The lister: every few seconds, which pairs are open and at what payout.

A pair is open when the broker says so AND the time in GLIMPSE_TZ falls in
today's ActivesSchedule window (the weekday taken in the same time zone).
It writes OpenedActives{ativo, open: "True"|"False", payout, updatedAt}
with one bulk upsert, and only the pairs whose open flag or payout changed
(compared with what is stored, so a write through the updateAtivos route
counts too). The others only get their updatedAt stamp refreshed, in one
write, once it is STAMP_INTERVALS intervals old: the bots read the list's
age from it. A broker call that fails or exceeds its bound skips the tick;
the last good data stays.

Run alone: python -m auxiliar.lister
"""

from __future__ import annotations

import logging
import sys

from auxiliar.market_account import MarketAccount
from glimpse.market import BrokerError
from glimpse.rules.pairs import PAIR_NAMES
from glimpse.rules.schedule import is_open
from glimpse.runtime.clock import local_datetime, wall_span
from glimpse.runtime.services import ServiceContext, run_standalone
from glimpse.runtime.ticker import Ticker, TickerService
from glimpse.store import db as names
from glimpse.store.db import upsert_all

log = logging.getLogger(__name__)
_ABSENT = object()


def _stamp(doc: dict) -> float:
    stamp = doc.get("updatedAt")
    return float(stamp) if isinstance(stamp, (int, float)) else float("-inf")


NAME = "Lister"
# Intervals after which an unchanged list gets its updatedAt refreshed (the bots call a list stale after 4,
# and after no less than a wall second on a fast clock).
STAMP_INTERVALS = 2
STAMP_MIN_WALL_SECONDS = 0.5


def listing(assets: dict[str, dict], schedules: dict[str, dict], local_dt) -> list[dict]:
    """OpenedActives documents from the broker's view and the schedule (pure)."""
    out = []
    for pair in sorted(set(PAIR_NAMES) | set(assets)):
        asset = assets.get(pair) or {}
        open_now = bool(asset.get("open")) and is_open(schedules.get(pair), local_dt)
        payout = int(asset.get("payout") or 0)
        out.append(
            {
                "ativo": pair,
                "open": "True" if open_now and payout > 0 else "False",
                "payout": str(payout) if open_now and payout > 0 else 0,
            }
        )
    return out


class Lister(Ticker):
    quiet_around_decisions = True
    # Open flags change on the minute and payouts daily: on a fast clock, four lists a wall second are plenty.
    min_wall_seconds = 0.25

    def __init__(self, ctx: ServiceContext):
        super().__init__(ctx, NAME, ctx.config.lister_interval)
        self.account = MarketAccount(ctx, NAME)

    def tick(self, now: float) -> bool:
        db = self.ctx.db
        try:
            assets = self.account.get().open_assets()
        except BrokerError as exc:
            self.account.drop(exc)
            return False  # no market data: after a few such ticks the heartbeat stops (/health shows it)
        schedules = {doc["ativo"]: doc for doc in db[names.ACTIVES_SCHEDULE].find({}, {"_id": 0})}
        docs = listing(assets, schedules, local_datetime(now, self.ctx.config.zone))
        self._store(docs, now)
        return True

    def _store(self, docs: list[dict], now: float) -> None:
        if self.quiet_began(now, self.ctx.clock.now()):
            return  # (Ticker.quiet_began) the next tick, after the quiet time, writes it
        collection = self.ctx.db[names.OPENED_ACTIVES]
        stored = {d.get("ativo"): d for d in collection.find({}, {"_id": 0})}
        changed = [
            dict(d, updatedAt=now)
            for d in docs
            if any(stored.get(d["ativo"], {}).get(k, _ABSENT) != v for k, v in d.items())
        ]
        upsert_all(collection, "ativo", changed)
        written = {d["ativo"] for d in changed}
        every = max(STAMP_INTERVALS * float(self.interval), wall_span(self.ctx.clock, STAMP_MIN_WALL_SECONDS))
        old = [
            d["ativo"]
            for d in docs
            if d["ativo"] not in written and not now - _stamp(stored.get(d["ativo"], {})) < every
        ]
        if old:
            collection.update_many({"ativo": {"$in": old}}, {"$set": {"updatedAt": now}})

    def teardown(self) -> None:
        self.account.close()


service = TickerService("lister", Lister)

if __name__ == "__main__":
    sys.exit(run_standalone(service.name, service.start))
