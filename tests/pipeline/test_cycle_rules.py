"""The gale cycle against a scripted broker: gale entries, dojis, stops, Stop by the user.

Property tests check the rules the issue names: never an order while the
user is not operating; with priority "stop", no order after the net result
crosses a stop; with priority "gale", at most the rest of the current cycle.
"""

from __future__ import annotations

import threading
from decimal import Decimal

from bson import ObjectId
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glimpse.market.base import AssetClosed, Broker
from glimpse.rules.money import gale_entries
from glimpse.rules.stops import stop_reached
from glimpse.runtime.clock import ManualClock
from glimpse.runtime.config import load_config
from glimpse.runtime.services import ServiceContext
from glimpse.store import db as names
from glimpse.store import ledger, operations_log
from glimpse.store.accounts import new_account
from glimpse.store.db import new_embedded_database
from operational_server import cycle
from operational_server.cycle import Decision, run_cycle
from operational_server.market_view import MarketView
from operational_server.session import ServerIdentity, UserSession

START = 1_717_419_600.0 + 58.5  # a decision instant


class ScriptedBroker(Broker):
    """Answers buys with ids and settles them with scripted outcomes (+1 win, -1 loss, 0 doji)."""

    def __init__(self, outcomes, payout=87, on_buy=None, closed=False):
        self.outcomes = list(outcomes)
        self.payout = payout
        self.on_buy = on_buy
        self.closed = closed
        self.bought: list[tuple[Decimal, str, str]] = []
        self.results: dict[int, float] = {}

    def buy(self, amount, pair, direction, minutes=1):
        if self.closed:
            raise AssetClosed(f"{pair} is closed")
        amount = Decimal(str(amount))
        self.bought.append((amount, pair, direction))
        outcome = self.outcomes.pop(0) if self.outcomes else -1
        profit = amount * self.payout / 100 if outcome > 0 else -amount if outcome < 0 else Decimal(0)
        order_id = len(self.bought)
        self.results[order_id] = float(profit.quantize(Decimal("0.01")))
        if self.on_buy:
            self.on_buy(len(self.bought))
        return order_id

    def order_result(self, order_id, timeout):
        return self.results[order_id]

    # Unused by the cycle.
    def connect(self): ...
    def is_connected(self):
        return True  # noqa: E704

    def change_balance(self, mode): ...
    def get_balance(self):
        return 0.0  # noqa: E704

    def open_assets(self):
        return {}  # noqa: E704

    def start_stream(self, pair, keep=15): ...
    def stream_candles(self, pair):
        return []  # noqa: E704

    def stop_stream(self, pair): ...
    def candles(self, pair, size, count, end=None):
        return []  # noqa: E704

    def close(self): ...


def make_session(broker, money, priority="gale"):
    config = load_config({"GLIMPSE_SECRET_KEY": "k" * 40}).with_(password_hash_profile="test")
    db = new_embedded_database()
    clock = ManualClock(START)
    doc = new_account("Ana Silva", "ana@example.com", "$argon2id$x", clock.now(), premium_days=10)
    doc.update(glimpseStatus="operating", server="s1", strategySettings=money)
    user_id = str(db[names.ACCOUNTS].insert_one(doc).inserted_id)
    db[names.SERVERS].insert_one(
        {"name": "s1", "incarnation": "i1", "status": "operating", "target": user_id, "uptime": clock.now()}
    )
    ctx = ServiceContext(config=config, db=db, clock=clock)
    session = UserSession(ctx, ServerIdentity("s1", "i1"), user_id, MarketView(db), threading.Event())
    session.broker = broker
    session.money = money
    session.priority = priority
    session.reload_user()
    session.log_id = operations_log.start(db, user=user_id, session=session.session_id, mode="strategy", strategy=None,
                                          money=money, account_type="PRACTICE", now=clock.now())  # fmt: skip
    return session


def money(gales=2, gale_type="sobra", stake=2, stop_loss=None, stop_win=None):
    return {
        "money": stake, "gale": gales > 0, "galeCount": gales, "galeType": gale_type, "sobra": 1,
        "stopLoss": stop_loss is not None, "stopLossValue": stop_loss or 0,
        "stopWin": stop_win is not None, "stopWinValue": stop_win or 0,
    }  # fmt: skip


def decision(payout=87):
    return Decision("EURUSD", "call", payout, START, [{"o": 1.0, "c": 1.1}])


def test_a_loss_then_a_win_places_the_gale_entries():
    broker = ScriptedBroker([-1, +1])
    session = make_session(broker, money(gales=2))
    outcome = run_cycle(session.cycle_context(), decision())
    assert [b[0] for b in broker.bought] == [Decimal("2.00"), Decimal("3.45")]
    assert outcome.result == "win" and outcome.orders == 2
    assert outcome.net == Decimal("-2.00") + Decimal("3.00")  # 3.45 × 0.87 = 3.0015 → 3.00
    trades = list(session.db[names.TRADES].find().sort("galeLevel", 1))
    assert [(t["galeLevel"], t["status"], t["result"], t["profit"]) for t in trades] == [
        (0, "closed", "loss", -2.0),
        (1, "closed", "win", 3.0),
    ]
    log = session.db[names.OPERATIONS].find_one({"_id": session.log_id})
    assert [o["p"] for o in log["operations"][0]["operacoes"]] == [-2.0, 3.0]
    user = session.reload_user()
    assert (
        user["iqPeriodProfit"] == 3.0
        and user["iqPeriodLoss"] == 2.0
        and round(user["iqSessionProfit"], 2) == 1.0
    )
    assert [t["result"] for t in user["operating"]["tries"]] == ["loss", "win", ""]


def test_a_doji_repeats_the_level_and_all_losses_mark_slr():
    broker = ScriptedBroker([0, -1, 0, -1])
    session = make_session(broker, money(gales=1))
    outcome = run_cycle(session.cycle_context(), decision())
    assert [b[0] for b in broker.bought] == [
        Decimal("2.00"),
        Decimal("2.00"),
        Decimal("3.45"),
        Decimal("3.45"),
    ]
    assert outcome.result == "loss" and outcome.net == Decimal("-5.45")
    entries = session.db[names.OPERATIONS].find_one({"_id": session.log_id})["operations"][0]["operacoes"]
    assert [e["p"] for e in entries] == [0.0, -2.0, 0.0, -3.45, "SLR: 5.45"]


def test_a_closed_pair_fails_the_order_and_stops():
    broker = ScriptedBroker([], closed=True)
    session = make_session(broker, money())
    outcome = run_cycle(session.cycle_context(), decision())
    assert outcome.stop == cycle.PAIR_CLOSED and outcome.result == ledger.FAILED
    trade = session.db[names.TRADES].find_one()
    assert trade["status"] == "closed" and trade["result"] == "failed" and trade["profit"] == 0.0
    assert any(a["title"] == "Ativo fechado." for a in session.reload_user()["alerts"])
    assert (
        session.db[names.OPERATIONS].find_one({"_id": session.log_id})["operations"][0]["operacoes"][-1]["p"]
        == "CLO: 2.00"
    )


def test_stop_pressed_mid_order_lets_it_settle_and_places_no_new_one():
    session_box: dict = {}

    def press_stop(count):
        session_box["s"].db[names.ACCOUNTS].update_one(
            {"_id": ObjectId(session_box["s"].user_id)}, {"$set": {"glimpseStatus": "stopping"}}
        )

    broker = ScriptedBroker([-1, -1, -1], on_buy=press_stop)
    session = make_session(broker, money(gales=2))
    session_box["s"] = session
    outcome = run_cycle(session.cycle_context(), decision())
    assert len(broker.bought) == 1 and outcome.stop == cycle.STOP_USER
    assert session.db[names.TRADES].find_one()["status"] == "closed"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    outcomes=st.lists(st.sampled_from([-1, 0, 1]), min_size=1, max_size=12),
    gales=st.integers(0, 3),
    stop_after=st.integers(1, 6),
)
def test_never_an_order_while_the_user_is_not_operating(outcomes, gales, stop_after):
    box: dict = {}

    def maybe_stop(count):
        if count == stop_after:
            box["s"].db[names.ACCOUNTS].update_one(
                {"_id": ObjectId(box["s"].user_id)}, {"$set": {"glimpseStatus": "stopping"}}
            )
            box["stopped_at"] = count

    broker = ScriptedBroker(outcomes, on_buy=maybe_stop)
    session = make_session(broker, money(gales=gales))
    box["s"] = session
    run_cycle(session.cycle_context(), decision())
    if "stopped_at" in box:
        assert len(broker.bought) == box["stopped_at"]  # the order in flight, then nothing


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    outcomes=st.lists(st.sampled_from([-1, 0, 1]), min_size=1, max_size=10),
    gales=st.integers(0, 3),
    stop_loss=st.sampled_from([None, 1, 2, 4, 6]),
    stop_win=st.sampled_from([None, 1, 2, 3]),
    priority=st.sampled_from(["gale", "stop"]),
)
def test_stops_end_the_cycle_as_the_priority_says(outcomes, gales, stop_loss, stop_win, priority):
    settings_ = money(gales=gales, stop_loss=stop_loss, stop_win=stop_win)
    broker = ScriptedBroker(outcomes)
    session = make_session(broker, settings_, priority)
    outcome = run_cycle(session.cycle_context(), decision())
    plan = gale_entries(2, "sobra", gales, 87, 1)
    trades = list(session.db[names.TRADES].find().sort("_id", 1))
    net = Decimal(0)
    for index, trade in enumerate(trades):
        crossed = stop_reached(net, settings_) is not None
        if priority == "stop":
            assert not crossed, "an order was placed after the net result crossed a stop"
        net += Decimal(str(trade["profit"]))
        assert Decimal(str(trade["amount"])) == plan[trade["galeLevel"]]
        assert index == 0 or trade["galeLevel"] >= trades[index - 1]["galeLevel"]  # one cycle, never back
    # With priority "gale" the cycle runs to its end: a win, or every level lost.
    if (
        priority == "gale"
        and trades
        and outcome.stop in (None, cycle.STOP_LOSS_REACHED, cycle.STOP_WIN_REACHED)
    ):
        last = trades[-1]
        assert last["result"] == "win" or last["galeLevel"] == gales
    if stop_reached(net, settings_) is not None and trades:
        assert outcome.stop in (cycle.STOP_LOSS_REACHED, cycle.STOP_WIN_REACHED)


def test_a_decision_that_comes_too_late_places_no_order():
    broker = ScriptedBroker([+1])
    session = make_session(broker, money())
    session.clock.set(START + 1.6)  # the decision was at second 58.5; the next candle has begun
    outcome = run_cycle(session.cycle_context(), decision())
    assert broker.bought == [] and outcome.orders == 0 and outcome.stop is None
    assert session.db[names.TRADES].count_documents({}) == 0
