"""The lister: every few seconds, which pairs are open and at what payout.

A pair is open when the broker says so AND the time in GLIMPSE_TZ falls in
today's ActivesSchedule window (the weekday taken in the same time zone).
It writes OpenedActives{ativo, open: "True"|"False", payout} with one bulk
upsert. A broker call that fails or exceeds its bound skips the tick; the
last good data stays.

Run alone: python -m auxiliar.lister
"""

from __future__ import annotations

import logging
import sys

from auxiliar.market_account import MarketAccount
from glimpse.market import BrokerError
from glimpse.rules.pairs import PAIR_NAMES
from glimpse.rules.schedule import is_open
from glimpse.runtime.clock import local_datetime
from glimpse.runtime.services import ServiceContext, run_standalone
from glimpse.runtime.ticker import Ticker, TickerService
from glimpse.store import db as names
from glimpse.store.db import upsert_all

log = logging.getLogger(__name__)
NAME = "Lister"


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
        upsert_all(db[names.OPENED_ACTIVES], "ativo", [dict(d, updatedAt=now) for d in docs])
        return True

    def teardown(self) -> None:
        self.account.close()


service = TickerService("lister", Lister)

if __name__ == "__main__":
    sys.exit(run_standalone(service.name, service.start))
