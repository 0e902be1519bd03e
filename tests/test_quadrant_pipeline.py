"""The bot trades a quadrant strategy (MHI) live: the embedded bundle on a fast clock over
the paper market, and the ledger holds orders at MHI's entry minutes only, each in the
direction of the minority colour of the previous quadrant's last three candles."""

from __future__ import annotations

import math

import pytest
from bson import ObjectId

from glimpse.store import db as names
from tests.pipeline.bundle import make_bundle

MHI = {"name": "Meu MHI", "nameKey": "meu mhi", "sequence": "", "operation": "", "mirror": False,
       "createdBy": "Teste", "quadrant": {"period": 5, "offset": 0, "candles": [2, 3, 4], "pick": "minority"}}  # fmt: skip
MONEY = {"money": 2, "gale": False, "galeCount": 0, "galeType": "sobra", "sobra": 0,
         "stopLoss": False, "stopLossValue": 0, "stopWin": False, "stopWinValue": 0}  # fmt: skip
CYCLES = 3


@pytest.fixture
def bundle(config, db):
    b = make_bundle(config, db)
    yield b
    b.stop()


def _entry_minute(decided_at: float) -> int:
    """The minute the order covers: the one starting right after the decision instant."""
    return math.floor(decided_at / 60) + 1


def _minority_of_last_three(candles: list[dict], entry: int) -> str | None:
    """A plain reading of MHI: candles 2, 3, 4 of the quadrant before `entry` (found by their minute),
    against the majority; a doji or a missing candle means no trade."""
    colour: dict[int, int] = {}
    for candle in candles:
        move = candle["c"] - candle["o"]
        colour[int(candle["from"]) // 60] = (move > 0) - (move < 0)
    minutes = (entry - 3, entry - 2, entry - 1)
    if any(colour.get(m, 0) == 0 for m in minutes):
        return None
    return "put" if sum(colour[m] for m in minutes) > 0 else "call"


def test_the_bot_trades_mhi_at_its_entry_minutes_only(bundle):
    uid = bundle.trader("mhi@example.com", MONEY, MHI)
    bundle.start(servers=1)
    bundle.press_start(uid)
    bundle.wait_for(
        lambda: bundle.db[names.TRADES].count_documents({"user": uid, "status": "closed"}) >= CYCLES,
        150,
        f"{CYCLES} settled MHI orders",
    )
    bundle.db[names.ACCOUNTS].update_one(
        {"_id": ObjectId(uid), "glimpseStatus": "operating"}, {"$set": {"glimpseStatus": "stopping"}}
    )
    bundle.wait_for(lambda: bundle.account(uid)["glimpseStatus"] == "off", 60, "the user to end off")

    trades = list(bundle.db[names.TRADES].find({"user": uid}).sort("_id", 1))
    assert len(trades) >= CYCLES
    for trade in trades:
        entry = _entry_minute(trade["decidedAt"])
        assert entry % 5 == 0, f"an order at minute {entry % 60} of the hour is off MHI's quadrant"
        assert trade["galeLevel"] == 0 and trade["status"] == "closed"
        assert trade["placedAt"] < (entry + 1) * 60  # placed within the entry minute (or just before it)
    # Distinct cycles at distinct entry minutes: one MHI decision per quadrant.
    entries = [_entry_minute(t["decidedAt"]) for t in trades]
    assert len(set(entries)) == len(entries)

    # The Operations log keeps the candles each decision read: the direction is MHI's on them.
    logged = [c for log in bundle.db[names.OPERATIONS].find({"user": uid}) for c in log["operations"]]
    assert len(logged) == len(trades)
    for cycle, trade in zip(logged, trades, strict=True):
        assert (cycle["ativo"], cycle["operacao"]) == (trade["ativo"], trade["operacao"])
        expected = _minority_of_last_three(cycle["candles"][0], _entry_minute(trade["decidedAt"]))
        assert expected is not None and trade["operacao"] == expected
