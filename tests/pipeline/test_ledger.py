"""The money path against a scripted broker: write-ahead, unknown buys, reconciliation,
stops across a hand-over, credits healed after a crash, Operations per order, cents on disk."""

from __future__ import annotations

import threading
from decimal import Decimal

from bson import ObjectId
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glimpse.market.base import BrokerTimeout, Disconnected, Unreachable
from glimpse.store import db as names
from glimpse.store import operations_log, trades
from operational_server import cycle, reconcile
from operational_server.cycle import Decision, run_cycle
from operational_server.market_view import MarketView
from operational_server.session import ServerIdentity, UserSession
from tests.pipeline.test_cycle_rules import ScriptedBroker, decision, make_session, money, start_session


def decision_now(session) -> Decision:
    """A decision made at the session clock's present instant."""
    return Decision("EURUSD", "call", 87, session.clock.now(), [{"o": 1.0, "c": 1.1}])


def ledger(session) -> list[dict]:
    return list(session.db[names.TRADES].find({"user": session.user_id}).sort("_id", 1))


def account(session) -> dict:
    return session.db[names.ACCOUNTS].find_one({"_id": ObjectId(session.user_id)})


def ops_orders(session) -> list[dict]:
    return [
        o
        for log in session.db[names.OPERATIONS].find({"user": session.user_id})
        for c in log["operations"]
        for o in c["operacoes"]
    ]


def assert_money_agrees(session) -> None:
    """Every stored amount is integer cents; the account's figures equal the ledger's sum to the cent."""
    docs = ledger(session)
    assert all(type(t["amount"]) is int for t in docs)
    settled = [t for t in docs if t["status"] == "closed"]
    assert all(type(t["profit"]) is int for t in settled)
    net = sum(t["profit"] for t in settled)
    user = account(session)
    assert user["iqPeriodProfit"] - user["iqPeriodLoss"] == net
    assert user["iqPeriodProfit"] == sum(t["profit"] for t in settled if t["profit"] > 0)
    assert user["iqSessionProfit"] == sum(t["profit"] for t in settled if t["session"] == session.session_id)


def next_session(previous, broker, money_, priority="gale") -> UserSession:
    """Another server takes the user over (the previous one died): a new UserSession, same database."""
    db = previous.db
    db[names.SERVERS].insert_one(
        {"name": "s2", "incarnation": "i2", "status": "operating", "target": previous.user_id, "uptime": 0}
    )
    db[names.ACCOUNTS].update_one({"_id": ObjectId(previous.user_id)}, {"$set": {"server": "s2"}})
    session = UserSession(
        previous.ctx, ServerIdentity("s2", "i2"), previous.user_id, MarketView(db), threading.Event()
    )
    session.broker = broker
    broker.clock = previous.clock
    return start_session(session, money_, priority)


# --- unknown buys ---------------------------------------------------------------------------


def test_a_buy_reply_that_times_out_after_executing_is_unknown_then_settles_with_its_real_result():
    fault = BrokerTimeout("no reply to the buy", order_may_exist=True)
    broker = ScriptedBroker([-1, +1], faults={1: (fault, True)}, lookups=["unknown", "unknown"])
    session = make_session(broker, money(gales=2))
    outcome = run_cycle(session.cycle_context(), decision())
    docs = ledger(session)
    assert [(t["galeLevel"], t["status"], t["result"], t["profit"]) for t in docs] == [
        (0, "closed", "loss", -200),
        (1, "closed", "win", 300),
    ]
    assert docs[0]["brokerOrderId"] == 1 and "BrokerTimeout" in docs[0]["failure"]
    assert {t["mode"] for t in docs} == {account(session)["mode"]} == {"strategy"}
    assert outcome.result == "win" and len(broker.bought) == 2
    assert [o["p"] for o in ops_orders(session)] == [-200, 300]
    assert not any(a["title"] == "Ordem recusada." for a in account(session)["alerts"])
    assert_money_agrees(session)


def test_a_socket_dropped_during_the_buy_reconnects_and_finds_the_order():
    fault = Disconnected("socket closed during the buy", order_may_exist=True)
    broker = ScriptedBroker([+1], faults={1: (fault, True)})
    session = make_session(broker, money(gales=1))
    outcome = run_cycle(session.cycle_context(), decision())
    assert broker.reconnects == 1
    (trade,) = ledger(session)
    assert (trade["status"], trade["result"], trade["profit"], trade["brokerOrderId"]) == (
        "closed",
        "win",
        174,
        1,
    )
    assert outcome.result == "win"
    assert_money_agrees(session)


def test_a_buy_the_broker_never_placed_becomes_not_placed_and_the_cycle_ends():
    fault = BrokerTimeout("no reply to the buy", order_may_exist=True)
    broker = ScriptedBroker([-1, -1], faults={1: (fault, False)})
    session = make_session(broker, money(gales=2))
    outcome = run_cycle(session.cycle_context(), decision())
    (trade,) = ledger(session)
    assert (trade["status"], trade["result"], trade["profit"]) == ("closed", "not_placed", 0)
    assert broker.bought == [] and broker.attempts == 1 and outcome.stop is None
    assert_money_agrees(session)


def test_a_buy_still_unknown_past_the_bound_is_flagged_and_blocks_new_orders():
    fault = BrokerTimeout("no reply to the buy", order_may_exist=True)
    broker = ScriptedBroker([-1, -1, -1], faults={1: (fault, True)}, always_unknown=True)
    session = make_session(broker, money(gales=2))
    outcome = run_cycle(session.cycle_context(), decision())
    assert outcome.stop == cycle.UNRESOLVED
    (trade,) = ledger(session)
    assert trade["status"] == "unknown" and trade["flagged"] is True and trade["result"] is None
    assert session.clock.now() > reconcile.Reconciler(session.db, session.clock, broker, bool).bound(
        trades.Trade.from_doc(trade)
    )
    titles = [a["title"] for a in account(session)["alerts"]]
    assert titles.count(reconcile.FLAGGED_TITLE) == 1
    # Nothing more for this session, neither in this cycle nor in the next one.
    again = run_cycle(session.cycle_context(), decision_now(session))
    assert again.stop == cycle.UNRESOLVED and broker.attempts == 1
    # The order shows in Operations, with no result (nobody guessed one).
    assert [o["p"] for o in ops_orders(session)] == [None]
    assert_money_agrees(session)


def test_no_new_order_while_an_unknown_trade_of_the_session_exists():
    broker = ScriptedBroker([+1])
    session = make_session(broker, money(gales=2))
    ctx = session.cycle_context()
    earlier = trades.record_intent(session.db, user=session.user_id, session=session.session_id, server="s1",
                                   ativo="EURUSD", operacao="call", amount=Decimal(2), gale_level=0, payout=87,
                                   decided_at=session.clock.now(), cycle="c0", account="PRACTICE")  # fmt: skip
    trades.mark_unknown(session.db, earlier.id, "BrokerTimeout", session.clock.now())
    outcome = run_cycle(ctx, decision())
    assert outcome.stop == cycle.UNRESOLVED and broker.attempts == 0 and outcome.orders == 0


# --- reconciliation when a session starts -----------------------------------------------------


def left_by_a_dead_server(session, broker, *, executed: bool, opened: bool = False) -> trades.Trade:
    """A trade written ahead by a server that died around the buy (pending, or open with its fill)."""
    trade = trades.record_intent(session.db, user=session.user_id, session=session.session_id, server="s1",
                                 ativo="EURUSD", operacao="call", amount=Decimal(2), gale_level=0, payout=87,
                                 decided_at=session.clock.now(), cycle="dead", account="PRACTICE")  # fmt: skip
    if executed:
        fill = broker.place(Decimal(2), "EURUSD", "call", client_key=trade.clientKey)
        if opened:
            trades.mark_open(session.db, trade.id, fill.order_id, session.clock.now(), fill.open_quote,
                             expires_at=fill.expires_at, quote_source=fill.quote_source)  # fmt: skip
    return trade


def test_reconciliation_settles_a_pending_trade_the_broker_executed():
    broker = ScriptedBroker([-1])
    first = make_session(broker, money())
    trade = left_by_a_dead_server(first, broker, executed=True)
    second = next_session(first, broker, money())
    doc = second.db[names.TRADES].find_one({"_id": trade.id})
    assert (doc["status"], doc["result"], doc["profit"], doc["brokerOrderId"]) == ("closed", "loss", -200, 1)
    assert doc["openPrice"] == broker.orders[1]["fill"].open_quote
    assert doc["closePrice"] == broker.orders[1]["settlement"].close_quote
    assert_money_agrees(second)


def test_reconciliation_closes_a_pending_trade_the_broker_never_placed_as_not_placed():
    broker = ScriptedBroker([-1])
    first = make_session(broker, money())
    trade = left_by_a_dead_server(first, broker, executed=False)
    second = next_session(first, broker, money())
    doc = second.db[names.TRADES].find_one({"_id": trade.id})
    assert (doc["status"], doc["result"], doc["profit"]) == ("closed", "not_placed", 0)
    assert_money_agrees(second)


def test_reconciliation_follows_an_open_order_to_its_settlement():
    broker = ScriptedBroker([+1], open_lookup=True)
    first = make_session(broker, money())
    trade = left_by_a_dead_server(first, broker, executed=True)
    second = next_session(first, broker, money())
    doc = second.db[names.TRADES].find_one({"_id": trade.id})
    assert (doc["status"], doc["result"], doc["profit"]) == ("closed", "win", 174)
    assert_money_agrees(second)


# --- the session's money lives in the database ------------------------------------------------


def test_stop_loss_holds_across_a_hand_over_at_half_the_stop():
    """Stop loss 4, priority "stop": the first server dies at -2; the next one ends exactly at -4."""
    settings_ = money(gales=1, gale_type="dobro", stop_loss=4)
    broker = ScriptedBroker([-1])
    first = make_session(broker, settings_, priority="stop")
    broker.outcomes = [-1]
    # The first server's order: a loss of 2, and the server dies before its gale.
    first_trade = left_by_a_dead_server(first, broker, executed=True, opened=True)
    reconcile.Reconciler(first.db, first.clock, broker, lambda: True).run(first.user_id)
    assert first.net() == Decimal("-2.00")
    broker.outcomes = [-1, -1, -1, -1]
    second = next_session(first, broker, settings_, priority="stop")
    assert second.continued and second.session_id == first.session_id and second.net() == Decimal("-2.00")
    assert second.log_id == first.log_id  # one Operations log for the whole Glimpse session
    outcome = run_cycle(second.cycle_context(), decision())
    assert outcome.stop == cycle.STOP_LOSS_REACHED
    assert second.net() == Decimal("-4.00")  # exactly the stop: not -8 as a net starting from zero would give
    later = [t for t in ledger(second) if t["_id"] != first_trade.id]
    assert [t["amount"] for t in later] == [200]
    assert account(second)["iqSessionProfit"] == -400
    assert_money_agrees(second)


def test_a_server_taking_over_at_the_stop_places_nothing():
    settings_ = money(gales=0, stop_loss=2)
    broker = ScriptedBroker([-1])
    first = make_session(broker, settings_, priority="gale")
    left_by_a_dead_server(first, broker, executed=True, opened=True)
    second = next_session(first, broker, settings_, priority="gale")
    assert second.net() == Decimal("-2.00")
    outcome = run_cycle(second.cycle_context(), decision())
    assert outcome.stop == cycle.STOP_LOSS_REACHED and outcome.orders == 0 and broker.attempts == 1


def test_a_crash_between_settling_and_crediting_is_healed_once():
    broker = ScriptedBroker([-1, +1])
    session = make_session(broker, money(gales=1))
    run_cycle(session.cycle_context(), decision())
    before = account(session)
    # A third order settled in the ledger, and the server died before crediting it.
    trade = left_by_a_dead_server(session, broker, executed=True, opened=True)
    session.db[names.TRADES].update_one(
        {"_id": trade.id},
        {"$set": {"status": "closed", "result": "loss", "profit": -200, "credited": False, "closedAt": 1.0}},
    )
    assert account(session)["iqPeriodLoss"] == before["iqPeriodLoss"]  # the half that was lost
    second = next_session(session, broker, money(gales=1))
    assert account(second)["iqPeriodLoss"] == before["iqPeriodLoss"] + 200
    assert [o["p"] for o in ops_orders(second) if o.get("trade") == str(trade.id)] == [-200]  # the log too
    assert_money_agrees(second)
    # A credit applied just before the crash (credited flag not yet written) is not applied twice.
    second.db[names.TRADES].update_one({"_id": trade.id}, {"$set": {"credited": False}})
    assert trades.heal_credits(second.db, second.user_id) == 0
    assert account(second)["iqPeriodLoss"] == before["iqPeriodLoss"] + 200
    assert len([o for o in ops_orders(second) if o.get("trade") == str(trade.id)]) == 1
    assert_money_agrees(second)


def test_each_order_reaches_operations_as_it_is_placed_and_as_it_settles():
    seen: list[list] = []
    box: dict = {}

    def snapshot(order_id):
        seen.append([(o["a"], o["p"]) for o in ops_orders(box["s"])])

    broker = ScriptedBroker([-1, +1], on_settlement=snapshot)
    session = make_session(broker, money(gales=1))
    box["s"] = session
    run_cycle(session.cycle_context(), decision())
    q1, q2 = broker.orders[1]["fill"].open_quote, broker.orders[2]["fill"].open_quote
    assert seen == [[(q1, None)], [(q1, -200), (q2, None)]]  # each order in the log before it settled
    assert [(o["a"], o["p"]) for o in ops_orders(session)] == [(q1, -200), (q2, 300)]


def test_each_level_records_the_broker_quotes_and_expiry():
    broker = ScriptedBroker([0, -1, +1])
    session = make_session(broker, money(gales=2))
    run_cycle(session.cycle_context(), decision())
    docs = ledger(session)
    assert len(docs) == 3 and len({t["openPrice"] for t in docs}) == 3
    for t in docs:
        fill, done = (
            broker.orders[t["brokerOrderId"]]["fill"],
            broker.orders[t["brokerOrderId"]]["settlement"],
        )
        assert (t["openPrice"], t["closePrice"], t["expiresAt"]) == (
            fill.open_quote,
            done.close_quote,
            fill.expires_at,
        )
        assert t["quoteSource"] == "broker" and t["closeQuoteSource"] == "broker" and t["clientKey"]


# --- cents on disk ------------------------------------------------------------------------------


def test_the_conversion_of_float_documents_runs_twice_safely():
    broker = ScriptedBroker([])
    session = make_session(broker, money())
    db, uid = session.db, session.user_id
    db[names.ACCOUNTS].update_one(
        {"_id": ObjectId(uid)},
        {"$set": {"iqPeriodProfit": 3.0, "iqPeriodLoss": 2.0, "iqSessionProfit": 0.1 + 0.2},
         "$unset": {"moneyUnit": ""}},
    )  # fmt: skip
    old_trade = db[names.TRADES].insert_one({"user": uid, "session": "old", "cycle": "c", "ativo": "EURUSD",
                                             "operacao": "call", "amount": 3.45, "galeLevel": 1, "payout": 87,
                                             "status": "closed", "result": "win", "profit": 3.0})  # fmt: skip
    old_log = db[names.OPERATIONS].insert_one({"user": uid, "session": "old", "money": 2, "stoploss": 4.5,
                                               "operations": [{"money": 2.0, "operacoes": [{"a": 1.1, "p": -2.0},
                                               {"a": None, "p": "SLR: 5.45"}]}]})  # fmt: skip
    first = trades.convert_money(db)
    assert first == {"trades": 1, "accounts": 1, "operations": 1}
    snapshot = (
        db[names.TRADES].find_one({"_id": old_trade.inserted_id}),
        db[names.OPERATIONS].find_one({"_id": old_log.inserted_id}),
        account(session),
    )
    assert trades.convert_money(db) == {"trades": 0, "accounts": 0, "operations": 0}
    trade, log, user = snapshot
    assert (trade["amount"], trade["profit"], trade["credited"]) == (345, 300, True)
    assert (user["iqPeriodProfit"], user["iqPeriodLoss"], user["iqSessionProfit"]) == (300, 200, 30)
    assert (log["money"], log["stoploss"]) == (200, 450)
    assert log["operations"][0]["money"] == 200
    assert [o["p"] for o in log["operations"][0]["operacoes"]] == [-200, "SLR: 5.45"]
    assert snapshot == (
        db[names.TRADES].find_one({"_id": old_trade.inserted_id}),
        db[names.OPERATIONS].find_one({"_id": old_log.inserted_id}),
        account(session),
    )
    # The app still reads reais.
    app = operations_log.for_app(log)
    assert (
        app["money"] == 2.0 and app["operations"][0]["operacoes"][0]["p"] == -2.0 and "moneyUnit" not in app
    )


def test_two_wins_of_ten_and_twenty_cents_add_up_exactly():
    broker = ScriptedBroker([+1, +1], payout=100)
    session = make_session(broker, money(gales=0, stake="0.10"))
    run_cycle(session.cycle_context(), decision())
    session.money = money(gales=0, stake="0.20")
    run_cycle(session.cycle_context(), decision())
    assert account(session)["iqSessionProfit"] == 30 and account(session)["iqPeriodProfit"] == 30


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cycles=st.lists(
        st.tuples(
            st.lists(st.sampled_from([-1, 0, 1]), min_size=1, max_size=6),
            st.sampled_from([None, "timeout_executed", "timeout_not_placed", "drop_executed"]),
        ),
        min_size=1,
        max_size=12,
    ),
    gales=st.integers(0, 3),
    stake=st.sampled_from(["0.10", "1.37", "2", "5.55"]),
    payout=st.integers(60, 95),
)
def test_over_a_long_run_the_ledger_sum_equals_the_account_fields_to_the_cent(cycles, gales, stake, payout):
    broker = ScriptedBroker([], payout=payout)
    session = make_session(broker, money(gales=gales, stake=stake))
    for outcomes, fault in cycles:
        broker.outcomes = list(outcomes)
        broker.faults = {}
        if fault is not None:
            error = (Disconnected if fault.startswith("drop") else BrokerTimeout)(
                "lost", order_may_exist=True
            )
            broker.faults = {broker.attempts + 1: (error, fault.endswith("executed"))}
        run_cycle(session.cycle_context(), decision(payout))
    assert broker.attempts >= len(cycles)  # every cycle sent at least one buy
    docs = ledger(session)
    assert all(t["status"] == "closed" for t in docs)
    assert all(t["result"] != "failed" for t in docs)  # no buy here was refused: nothing is "failed"
    executed = {t["brokerOrderId"] for t in docs if t["result"] in ("win", "loss", "doji")}
    assert executed == set(broker.orders)  # every order the broker took is in the ledger, once
    assert_money_agrees(session)


def test_a_session_of_an_older_assignment_places_nothing_for_the_newer_one():
    broker = ScriptedBroker([+1])
    session = make_session(broker, money())
    session.assignment = "first"
    session.db[names.ACCOUNTS].update_one(
        {"_id": ObjectId(session.user_id)}, {"$set": {"assignment": "second"}}
    )
    outcome = run_cycle(session.cycle_context(), decision())
    assert outcome.stop == cycle.STOP_USER and broker.attempts == 0
    session.db[names.ACCOUNTS].update_one(
        {"_id": ObjectId(session.user_id)}, {"$set": {"assignment": "first"}}
    )
    assert run_cycle(session.cycle_context(), decision()).orders == 1


def test_an_order_reconciled_after_its_server_died_around_the_buy_reaches_operations_once():
    broker = ScriptedBroker([-1])
    first = make_session(broker, money())
    trade = left_by_a_dead_server(first, broker, executed=True)  # never logged: the server died first
    second = next_session(first, broker, money())
    logged = [o for o in ops_orders(second) if o.get("trade") == str(trade.id)]
    assert [(o["a"], o["p"]) for o in logged] == [(broker.orders[1]["fill"].open_quote, -200)]
    # Settling it again (a second reconciler) neither changes nor duplicates it.
    fake = reconcile.Reconciler(second.db, second.clock, broker, lambda: True)
    settled = trades.get(second.db, trade.id)
    assert settled is not None and settled.status == "closed"
    fake.apply(settled, broker.orders[1]["settlement"])
    assert len([o for o in ops_orders(second) if o.get("trade") == str(trade.id)]) == 1
    assert_money_agrees(second)


def test_a_socket_dropped_with_an_order_open_reconnects_and_settles_it():
    broker = ScriptedBroker([-1, +1], settlement_drops=2)
    session = make_session(broker, money(gales=1))
    outcome = run_cycle(session.cycle_context(), decision())
    assert broker.reconnects == 2 and outcome.result == "win"
    assert [(t["status"], t["profit"]) for t in ledger(session)] == [("closed", -200), ("closed", 300)]
    assert_money_agrees(session)


def test_an_api_reads_trades_in_reais():
    broker = ScriptedBroker([-1, +1])
    session = make_session(broker, money(gales=1))
    run_cycle(session.cycle_context(), decision())
    shown = [trades.for_app(t) for t in ledger(session)]
    assert [(t["amount"], t["profit"]) for t in shown] == [(2.0, -2.0), (3.45, 3.0)]
    assert all("moneyUnit" not in t for t in shown)


def test_glimpse_ledger_convert_converts_once(monkeypatch, capsys):
    from glimpse.cli import ledger as ledger_cli
    from glimpse.cli.main import main

    session = make_session(ScriptedBroker([]), money())
    db = session.db
    db[names.TRADES].insert_one({"user": session.user_id, "session": "old", "ativo": "EURUSD", "operacao": "put",
                                 "amount": 2.0, "status": "closed", "result": "loss", "profit": -2.0})  # fmt: skip
    monkeypatch.setattr(ledger_cli, "load_config", lambda: None)
    monkeypatch.setattr(ledger_cli, "open_database", lambda config: db)
    assert main(["ledger", "convert"]) == 0
    first = capsys.readouterr().out
    assert main(["ledger", "convert"]) == 0
    second = capsys.readouterr().out
    assert "trades          1 converted" in first and "trades          0 converted" in second
    assert db[names.TRADES].find_one({"session": "old"})["profit"] == -200


def test_a_connection_lost_before_the_buy_was_sent_reconnects_and_sends_it_once():
    lost = Unreachable("the connection to IQ Option was lost")  # raised before sending: nothing placed
    broker = ScriptedBroker([+1], faults={1: (lost, False)})
    session = make_session(broker, money(gales=1))
    outcome = run_cycle(session.cycle_context(), decision())
    assert broker.reconnects == 1 and broker.attempts == 2 and len(broker.bought) == 1
    (trade,) = ledger(session)
    assert (trade["status"], trade["result"], trade["profit"]) == ("closed", "win", 174)
    assert outcome.result == "win" and outcome.stop is None
    assert_money_agrees(session)


def test_a_connection_back_too_late_for_the_candle_places_nothing_and_the_session_goes_on():
    lost = Unreachable("the connection to IQ Option was lost")
    broker = ScriptedBroker([+1], faults={1: (lost, False)})
    session = make_session(broker, money(gales=1))
    broker.reconnect = lambda: session.clock.advance(5)  # type: ignore[method-assign]  # 5 s: past the minute
    outcome = run_cycle(session.cycle_context(), decision())
    assert broker.attempts == 1 and broker.bought == [] and outcome.stop is None and outcome.orders == 0
    (trade,) = ledger(session)
    assert (trade["status"], trade["result"], trade["profit"]) == ("closed", "failed", 0)
