"""The gale cycle against a scripted broker: gale entries, dojis, stops, Stop by the user.

Property tests check the rules the issue names: never an order while the
user is not operating; with priority "stop", no order after the net result
crosses a stop; with priority "gale", at most the rest of the current cycle.
"""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from bson import ObjectId
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glimpse.market.base import AssetClosed, Broker, Disconnected, turbo_expiry
from glimpse.rules.money import gale_entries
from glimpse.rules.stops import stop_reached
from glimpse.runtime import metrics
from glimpse.runtime.clock import ManualClock
from glimpse.runtime.config import load_config
from glimpse.runtime.services import ServiceContext
from glimpse.store import db as names
from glimpse.store import operations_log
from glimpse.store import trades as ledger
from glimpse.store.accounts import new_account
from glimpse.store.db import new_embedded_database
from operational_server import cycle
from operational_server.cycle import Decision, run_cycle
from operational_server.market_view import MarketView
from operational_server.orders import Fill, OrderLookup, Settlement
from operational_server.session import ServerIdentity, TimingLog, UserSession

START = 1_717_419_600.0 + 58.5  # a decision instant


class ScriptedBroker(Broker):
    """Fills buys and settles them with scripted outcomes (+1 win, -1 loss, 0 doji).

    Each order gets its own open quote and close quote, as a broker reports
    them. `faults` maps a buy's number (1-based) to (exception, executed):
    the buy raises, and the broker has or has not executed it. `lookups`
    scripts find_order's first answers ("unknown"), before it tells the truth;
    `always_unknown` never tells it.
    """

    def __init__(self, outcomes, payout=87, on_buy=None, closed=False, faults=None, lookups=(), always_unknown=False, on_settlement=None, open_lookup=False, settlement_drops=0):  # fmt: skip
        self.outcomes = list(outcomes)
        self.payout = payout
        self.on_buy = on_buy
        self.on_settlement = on_settlement
        self.closed = closed
        self.faults = dict(faults or {})
        self.lookups = list(lookups)
        self.always_unknown = always_unknown
        self.open_lookup = open_lookup  # find_order answers "open" (the order has not settled yet)
        self.settlement_drops = settlement_drops  # settlement() first raises Disconnected this many times
        self.clock = None
        self.attempts = 0
        self.reconnects = 0
        self.bought: list[tuple[Decimal, str, str]] = []
        self.orders: dict[int, dict] = {}

    def now(self) -> float:
        return self.clock.now() if self.clock is not None else START

    def place(self, amount, pair, direction, minutes=1, *, client_key, sent_at=None):
        if self.closed:
            raise AssetClosed(f"{pair} is closed")
        self.attempts += 1
        fault = self.faults.get(self.attempts)
        if fault is not None and not fault[1]:
            raise fault[0]
        amount = Decimal(str(amount))
        self.bought.append((amount, pair, direction))
        outcome = self.outcomes.pop(0) if self.outcomes else -1
        profit = amount * self.payout / 100 if outcome > 0 else -amount if outcome < 0 else Decimal(0)
        order_id = len(self.bought)
        open_quote = 1.1 + order_id / 1000
        close_quote = open_quote + (0.0005 if outcome > 0 else -0.0005 if outcome < 0 else 0.0)
        expires = float(turbo_expiry(self.now(), minutes))
        self.orders[order_id] = {
            "key": client_key, "pair": pair, "direction": direction, "amount": amount,
            "fill": Fill(order_id, open_quote, expires, "broker"),
            "settlement": Settlement(profit.quantize(Decimal("0.01")), close_quote, expires, "broker"),
        }  # fmt: skip
        if self.on_buy:
            self.on_buy(len(self.bought))
        if fault is not None:
            raise fault[0]  # executed, but the reply never came
        return self.orders[order_id]["fill"]

    def settlement(self, order_id, timeout):
        if self.settlement_drops:
            self.settlement_drops -= 1
            raise Disconnected("socket closed while the order was open")
        if self.on_settlement:
            self.on_settlement(order_id)
        return self.orders[order_id]["settlement"]

    def find_order(self, client_key, *, pair, direction, amount, sent_at, order_id=None, minutes=1):
        if self.always_unknown or (self.lookups and self.lookups.pop(0) == "unknown"):
            return OrderLookup("unknown")
        for order in self.orders.values():
            if order["key"] == client_key:
                if self.open_lookup:
                    return OrderLookup("open", order["fill"])
                return OrderLookup("settled", order["fill"], order["settlement"])
        return OrderLookup("not_placed")

    def reconnect(self):
        self.reconnects += 1

    def buy(self, amount, pair, direction, minutes=1):
        raise AssertionError("the cycle places orders with place()")

    def order_result(self, order_id, timeout):
        raise AssertionError("the cycle waits with settlement()")

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
    broker.clock = clock
    return start_session(session, money, priority)


def start_session(session, money, priority="gale"):
    """What UserSession._run does once the broker is connected: adopt the Glimpse session, reconcile, log."""
    session.money = money
    session.priority = priority
    session.begin_glimpse_session(session.clock.now())
    session.reload_user()
    session.log_id = operations_log.start(session.db, user=session.user_id, session=session.session_id, mode="strategy",
                                          strategy=None, money=money, account_type="PRACTICE", now=session.clock.now())  # fmt: skip
    return session


def stored_account(session) -> dict:
    """The account as it is on disk (what the app reads)."""
    return session.db[names.ACCOUNTS].find_one({"_id": ObjectId(session.user_id)})


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
        (0, "closed", "loss", -200),
        (1, "closed", "win", 300),
    ]
    log = session.db[names.OPERATIONS].find_one({"_id": session.log_id})
    assert [o["p"] for o in log["operations"][0]["operacoes"]] == [-200, 300]
    user = stored_account(session)
    assert user["iqPeriodProfit"] == 300 and user["iqPeriodLoss"] == 200 and user["iqSessionProfit"] == 100
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
    assert [e["p"] for e in entries] == [0, -200, 0, -345, "SLR: 5.45"]


def test_order_timing_counts_the_decisions_own_order_and_not_a_dojis_repeat():
    # The repeat goes out after the first order settled, a minute or more after the decision:
    # counted as the decision's order timing, it made a fast run's p99 look like a second.
    broker = ScriptedBroker([0, +1])
    session = make_session(broker, money(gales=1))
    timings = TimingLog()
    session.timings = timings
    outcome = run_cycle(session.cycle_context(), decision())
    assert outcome.orders == 2 and outcome.result == "win"
    assert len(timings.samples) == 1
    first = session.db[names.TRADES].find_one({"galeLevel": 0}, sort=[("sentAt", 1)])
    assert timings.samples[0] == (first["placedAt"] - START) * 1000.0


def test_a_closed_pair_fails_the_order_and_stops():
    broker = ScriptedBroker([], closed=True)
    session = make_session(broker, money())
    outcome = run_cycle(session.cycle_context(), decision())
    assert outcome.stop == cycle.PAIR_CLOSED and outcome.result == ledger.FAILED
    trade = session.db[names.TRADES].find_one()
    assert trade["status"] == "closed" and trade["result"] == "failed" and trade["profit"] == 0.0
    assert any(a["title"] == "Ativo fechado." for a in stored_account(session)["alerts"])
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
        net += Decimal(trade["profit"]) / 100
        assert Decimal(trade["amount"]) / 100 == plan[trade["galeLevel"]]
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


def _sample(name: str) -> float:
    return metrics.REGISTRY.get_sample_value(name) or 0.0


def test_order_latency_and_dropped_decisions_reach_the_metrics():
    orders_before = _sample("glimpse_order_latency_milliseconds_count")
    latency_before = _sample("glimpse_order_latency_milliseconds_sum")
    session = make_session(ScriptedBroker([+1]), money())
    session.clock.set(START + 0.25)  # the order goes out 250 ms after its decision (a 1x clock)
    run_cycle(session.cycle_context(), decision())
    assert _sample("glimpse_order_latency_milliseconds_count") == orders_before + 1
    assert _sample("glimpse_order_latency_milliseconds_sum") - latency_before == pytest.approx(250.0)
    dropped_before = _sample("glimpse_decisions_dropped_total")
    late = make_session(ScriptedBroker([+1]), money())
    late.clock.set(START + 1.6)
    run_cycle(late.cycle_context(), decision())
    assert _sample("glimpse_decisions_dropped_total") == dropped_before + 1


def test_a_failing_balance_read_only_logs(caplog):
    broker = ScriptedBroker([+1])
    session = make_session(broker, money())
    broker.get_balance = lambda: (_ for _ in ()).throw(Disconnected("socket closed"))  # type: ignore[method-assign]
    session.refresh_balance()  # must not raise
    assert "balance not refreshed" in caplog.text
    outcome = run_cycle(session.cycle_context(), decision())
    assert outcome.result == "win"  # the session trades on
    broker.get_balance = lambda: 123.45  # type: ignore[method-assign]
    session.refresh_balance()
    assert stored_account(session)["iqBalancePractice"] == 12345
