"""Stale market data (issue 10, F7): with the candle streams stopped, the bots decide nothing,
the account shows trading paused, the user is alerted once if it lasts, and trading resumes
when the candles come back."""

from __future__ import annotations

from auxiliar.candles_starter import CandleStreams
from glimpse.store import db as names
from operational_server.market_view import MarketView
from operational_server.modes import freshness
from operational_server.session import STALE_ALERT_SECONDS, STALE_ALERT_TITLE, STALE_STATUS
from tests.pipeline.bundle import FLAT_MONEY


def _alerts(bundle, uid) -> list[dict]:
    return [a for a in bundle.account(uid)["alerts"] if a["title"] == STALE_ALERT_TITLE]


def test_stopped_candle_streams_pause_trading_visibly_alert_once_and_resume(bundle):
    clock = bundle.ctx.clock
    uid = bundle.trader("stale@example.com", FLAT_MONEY)
    bundle.start(servers=1)
    bundle.press_start(uid)
    bundle.wait_for(
        lambda: bundle.db[names.TRADES].find_one({"user": uid}), 90, "a first order on fresh data"
    )
    streams = next(s for s in bundle.running if isinstance(s, CandleStreams))
    streams.stop()
    streams.join(timeout=10)
    stopped = clock.now()
    bundle.wait_for(
        lambda: bundle.account(uid)["operating"].get("paused") == STALE_STATUS, 30, "the paused status"
    )
    assert bundle.account(uid)["glimpseStatus"] == "operating"  # paused, not stopped
    bundle.wait_for(lambda: _alerts(bundle, uid), STALE_ALERT_SECONDS / clock.speed + 30, "the stale alert")
    alerted = clock.now()
    # Two more decision minutes of stale data: still one alert.
    bundle.wait_for(lambda: clock.now() > alerted + 150, 30, "two more decision minutes")
    assert len(_alerts(bundle, uid)) == 1
    bound = stopped + freshness(clock)
    assert bundle.db[names.TRADES].count_documents({"user": uid, "decidedAt": {"$gt": bound}}) == 0
    # The candles come back: trading resumes and the status clears.
    fresh = CandleStreams(bundle.ctx)
    bundle.running.append(fresh)
    fresh.start()
    bundle.wait_for(lambda: bundle.account(uid)["operating"].get("paused") == "", 30, "the pause to clear")
    bundle.wait_for(
        lambda: bundle.db[names.TRADES].find_one({"user": uid, "decidedAt": {"$gt": alerted}}),
        90,
        "a new order",
    )
    assert len(_alerts(bundle, uid)) == 1


def test_an_old_open_pairs_list_is_stale_and_a_closed_market_is_not(db):
    view = MarketView(db)
    db[names.OPENED_ACTIVES].insert_one(
        {"ativo": "EURUSD", "open": "True", "payout": "87", "updatedAt": 1000.0}
    )
    db[names.REALTIME_CANDLES].insert_one({"ativo": "EURUSD", "candles": [], "lastUpdated": 1000.0})
    snap = view.snapshot(1000.0)
    assert snap.problem(1010.0, list_bound=15, candle_bound=5) == "candles stale"
    assert snap.problem(1004.0, list_bound=15, candle_bound=5) is None
    assert snap.problem(1020.0, list_bound=15, candle_bound=None) == "open-pairs list stale"
    db[names.OPENED_ACTIVES].update_one({"ativo": "EURUSD"}, {"$set": {"open": "False", "payout": 0}})
    closed = view.snapshot(2000.0)
    assert closed.problem(1010.0, list_bound=15, candle_bound=5) is None  # closed, not stale
