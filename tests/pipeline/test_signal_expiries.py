"""Signals with their own expiry and their own gale cap, traded end to end.

The embedded bundle on a fast clock trades an M5 signal and a "1 gale"
signal (the trader's setting allows 2) on the paper broker, and the ledger
shows each order's expiry (IQ Option's rule for 5 minutes) and gale levels.

The paper market cannot be told what to do, so the signals are chosen by
scanning its deterministic prices: the M5 signal loses its entry and wins
its gale, and the "1 gale" signal loses both its entry and its gale, so
without its cap it would go on to a second gale.
"""

from __future__ import annotations

import numpy as np
import pytest

from glimpse.market.base import expiry_at
from glimpse.market.paper_market import PaperMarket
from glimpse.rules.timing import coming_minute, minute_start
from glimpse.store import db as names
from tests.pipeline.bundle import make_bundle

PAIRS = ("EURUSD", "GBPUSD", "USDJPY", "AUDUSD", "EURJPY")
# An entry is placed just before its minute (the decision second is 58.5) and a gale
# soon after the previous order settles; on a busy fast clock "soon" can be tens of
# market seconds, so the scan asks for the same outcome over these whole windows.
ENTRY_WINDOW = (-2.0, 0.0)
GALE_WINDOW = (0.0, 45.0)
STEP = 0.1


def _money(**changes):
    base = {"money": 2, "gale": True, "galeCount": 2, "galeType": "dobro", "sobra": 0,
            "stopLoss": False, "stopLossValue": 0, "stopWin": False, "stopWinValue": 0}  # fmt: skip
    base.update(changes)
    return base


def _always(market: PaperMarket, pair: str, direction: str, start: float, window, minutes: int) -> int | None:
    """The outcome (1 win, -1 loss) an order gets wherever in the window it opens; None when it varies."""
    opens = np.arange(start + window[0], start + window[1], STEP)
    expiries = np.array([expiry_at(t, minutes) for t in opens], dtype=float)
    move = np.sign(market.points(pair, expiries) - market.points(pair, opens))
    sign = move if direction == "call" else -move
    return int(sign[0]) if sign[0] != 0 and (sign == sign[0]).all() else None


def _find(market, first_minute: float, minutes: int, entry: int, gale: int) -> tuple[float, str, str, float]:
    """A (minute, pair, direction) whose entry ends `entry` and whose first gale ends `gale`, and the gale's expiry."""
    for m in np.arange(first_minute, first_minute + 6 * 3600, 60):
        for pair in PAIRS:
            for direction in ("call", "put"):
                if _always(market, pair, direction, m, ENTRY_WINDOW, minutes) != entry:
                    continue
                settled = expiry_at(m - 1, minutes)
                if _always(market, pair, direction, settled, GALE_WINDOW, minutes) == gale:
                    return float(m), pair, direction, float(expiry_at(settled, minutes))
    raise AssertionError("no such signal within 6 hours")


@pytest.fixture
def bundle(config, db):
    # Half the usual speed: an entry placed late on a busy machine would be dropped, not traded.
    b = make_bundle(config, db, speed=30.0)
    yield b
    b.stop()


def test_an_m5_signal_and_a_one_gale_signal_trade_their_own_expiry_and_gale_cap(bundle):
    clock, zone = bundle.ctx.clock, bundle.ctx.config.zone
    market = PaperMarket(bundle.ctx.config.paper_seed, bundle.ctx.config.paper_payout_min,
                         bundle.ctx.config.paper_payout_max)  # fmt: skip
    start = minute_start(clock.now()) + 180  # time for the user to be assigned first
    m5_minute, m5_pair, m5_dir, m5_end = _find(market, start, 5, entry=-1, gale=1)
    g1_minute, g1_pair, g1_dir, _ = _find(market, minute_start(m5_end) + 120, 1, entry=-1, gale=-1)
    rows = [
        {"id": "m5", "status": "active", "ativo": m5_pair, "hora": coming_minute(m5_minute - 1, zone),
         "operacao": m5_dir, "resultado": "", "expiry": 5},
        {"id": "g1", "status": "active", "ativo": g1_pair, "hora": coming_minute(g1_minute - 1, zone),
         "operacao": g1_dir, "resultado": "", "gale": 1},
    ]  # fmt: skip
    uid = bundle.user("expiries@example.com", mode="signals", signalSettings=_money())
    bundle.db[names.SIGNALS].insert_one({"user": uid, "signals": rows, "type": "user"})
    bundle.start(servers=1)
    bundle.press_start(uid)
    bundle.wait_for(lambda: bundle.account(uid)["glimpseStatus"] == "off", 120, "the signal list to end")

    results = {s["id"]: s["resultado"] for s in bundle.db[names.SIGNALS].find_one({"user": uid})["signals"]}
    assert results == {"m5": "win", "g1": "loss"}, results
    trades = sorted(bundle.db[names.TRADES].find({"user": uid}), key=lambda t: t["sentAt"])
    assert all(t["status"] == "closed" for t in trades)
    m5 = [t for t in trades if t["ativo"] == m5_pair and t["sentAt"] < g1_minute - 60]
    g1 = [t for t in trades if t not in m5]

    # The M5 signal: an entry and its gale, each a 5-minute turbo option by IQ Option's rule.
    assert [t["galeLevel"] for t in m5] == [0, 1]
    for t in m5:
        assert t["expiresAt"] in (expiry_at(t["sentAt"], 5), expiry_at(t["placedAt"], 5))
        assert t["expiresAt"] % 60 == 0 and 270 < t["expiresAt"] - t["placedAt"] <= 330
        assert t["expiryMinutes"] == 5  # what a reconciler in another process goes by
    entry, gale = m5
    assert entry["placedAt"] < m5_minute and entry["profit"] < 0 < gale["profit"]
    # The gale follows the entry's settlement, with the same expiry.
    assert gale["placedAt"] >= entry["expiresAt"]
    assert gale["amount"] == 2 * entry["amount"]

    # The "1 gale" signal: two losses, and no second gale although the trader's setting allows 2.
    assert [t["galeLevel"] for t in g1] == [0, 1]
    assert all(t["ativo"] == g1_pair and t["profit"] < 0 for t in g1)
    assert max(t["galeLevel"] for t in trades) == 1
    for t in g1:
        assert 30 < t["expiresAt"] - t["placedAt"] <= 90
