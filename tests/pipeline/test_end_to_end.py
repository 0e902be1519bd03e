"""The embedded bundle on a fast clock: lister, candle streams, assigner and
operational servers as threads over mongomock and the paper market."""

from __future__ import annotations

import sys
import threading
from decimal import Decimal

import pytest
from bson import ObjectId

from auxiliar.server_assigner import Assigner, count_down_premium
from glimpse.store import db as names
from tests.pipeline.bundle import make_bundle


def _money(**changes):
    base = {"money": 2, "gale": True, "galeCount": 2, "galeType": "sobra", "sobra": 1,
            "stopLoss": False, "stopLossValue": 0, "stopWin": False, "stopWinValue": 0}  # fmt: skip
    base.update(changes)
    return base


def _agree_to_the_cent(bundle, user_id, email):
    """Ledger, account figures, Operations log and paper balance agree; every stored amount is integer cents."""
    trades = list(bundle.db[names.TRADES].find({"user": user_id}))
    assert trades and all(t["status"] == "closed" for t in trades)
    assert all(type(t["profit"]) is int and type(t["amount"]) is int for t in trades)
    net_cents = sum(t["profit"] for t in trades)
    net = Decimal(net_cents) / 100
    account = bundle.account(user_id)
    assert type(account["iqPeriodProfit"]) is int and type(account["iqPeriodLoss"]) is int
    assert account["iqPeriodProfit"] - account["iqPeriodLoss"] == net_cents
    logged = [
        o["p"]
        for log in bundle.db[names.OPERATIONS].find({"user": user_id})
        for c in log["operations"]
        for o in c["operacoes"]
        if not isinstance(o["p"], str)
    ]
    assert all(type(p) is int for p in logged) and sum(logged) == net_cents
    paper = bundle.db[names.PAPER_BALANCES].find_one({"email": email})
    assert Decimal(paper["cents"]["PRACTICE"]) / 100 == Decimal(10000) + net
    return trades, net


def test_a_strategy_user_trades_with_gale_and_stops_on_stop_win(bundle):
    uid = bundle.trader("win@example.com", _money(stopWin=True, stopWinValue=3))
    bundle.start(servers=2)
    bundle.press_start(uid)
    bundle.wait_for(lambda: bundle.account(uid)["glimpseStatus"] == "operating", 15, "the user to operate")
    bundle.wait_for(lambda: bundle.account(uid)["glimpseStatus"] == "off", 120, "stop win")
    account = bundle.account(uid)
    assert account["iqSessionProfit"] == 0 and account["server"] == ""
    titles = [a["title"] for a in account["alerts"]]
    assert "Glimpse Iniciou." in titles and titles[-1] == "Stop Win."
    trades, net = _agree_to_the_cent(bundle, uid, "win@example.com")
    assert net >= 3
    # Each gale entry follows the plan: 2, then (2 + 1) / 0.payout, ...
    for t in trades:
        if t["galeLevel"] == 0:
            assert t["amount"] == 200
        assert t["brokerOrderId"] is not None and t["placedAt"] >= t["decidedAt"]
    server = bundle.db[names.SERVERS].find_one({"target": uid})
    assert server is None  # freed


@pytest.fixture
def slow_bundle(config, db):
    # 15×: a market minute is 4 wall seconds, so a thread starved for a second or two on a busy
    # machine still decides every signal's minute (a minute gone by is skipped, by design).
    b = make_bundle(config, db, speed=15.0)
    yield b
    b.stop()


def test_b_a_signals_user_gets_three_results_in_their_own_list(slow_bundle):
    bundle = slow_bundle
    clock = bundle.ctx.clock
    from glimpse.rules.timing import coming_minute

    zone = bundle.ctx.config.zone
    # Two minutes apart: a 1-minute order bought at second 58.5 runs to the end of the next minute.
    # The first one three market minutes (12 wall seconds) away: a busy machine may take a few
    # seconds to start the bundle and assign the user, and a signal whose time passed is skipped.
    first = clock.now() + 180
    horas = [coming_minute(first + 120 * i, zone) for i in range(3)]
    uid = bundle.user("signals@example.com", mode="signals", signalSettings=_money(gale=False, galeCount=0))
    other = bundle.user("other@example.com", mode="signals")
    rows = [{"id": f"s{i}", "status": "active", "ativo": pair, "hora": hora, "operacao": op, "resultado": ""}
            for i, (hora, pair, op) in enumerate(zip(horas, ["EURUSD", "GBPUSD", "USDJPY"], ["call", "put", "call"], strict=True))]  # fmt: skip
    bundle.db[names.SIGNALS].insert_one({"user": uid, "signals": rows, "type": "user"})
    bundle.db[names.SIGNALS].insert_one({"user": other, "signals": [dict(rows[0], id="o0")], "type": "user"})
    bundle.start(servers=1)
    bundle.press_start(uid)
    bundle.wait_for(lambda: bundle.account(uid)["glimpseStatus"] == "off", 120, "the signal list to end")
    mine = bundle.db[names.SIGNALS].find_one({"user": uid})["signals"]
    assert [s["status"] for s in mine] == ["result"] * 3
    assert all(s["resultado"] in ("win", "loss", "doji") for s in mine), mine
    assert bundle.db[names.SIGNALS].find_one({"user": other})["signals"][0]["status"] == "active"
    assert bundle.account(uid)["alerts"][-1]["title"] == "Lista de sinais encerrada."
    trades, _ = _agree_to_the_cent(bundle, uid, "signals@example.com")
    assert sorted((t["ativo"], t["operacao"]) for t in trades) == [
        ("EURUSD", "call"),
        ("GBPUSD", "put"),
        ("USDJPY", "call"),
    ]


def test_c_stop_pressed_in_the_middle_of_an_order(bundle):
    uid = bundle.trader("stop@example.com", _money())
    bundle.start(servers=1)
    bundle.press_start(uid)
    trade = bundle.wait_for(
        lambda: bundle.db[names.TRADES].find_one({"user": uid, "status": "open"}), 90, "an open order"
    )
    bundle.db[names.ACCOUNTS].update_one(
        {"_id": ObjectId(uid), "glimpseStatus": "operating"}, {"$set": {"glimpseStatus": "stopping"}}
    )
    bundle.wait_for(lambda: bundle.account(uid)["glimpseStatus"] == "off", 60, "the user to end off")
    settled = bundle.db[names.TRADES].find_one({"_id": trade["_id"]})
    assert settled["status"] == "closed" and settled["result"] in ("win", "loss", "doji")
    later = bundle.db[names.TRADES].count_documents(
        {"user": uid, "decidedAt": {"$gt": trade["decidedAt"]}, "galeLevel": 0}
    )
    assert later == 0
    assert bundle.db[names.TRADES].count_documents({"user": uid, "_id": {"$gt": trade["_id"]}}) == 0
    assert bundle.account(uid)["alerts"][-1]["title"] == "Glimpse parou."
    _agree_to_the_cent(bundle, uid, "stop@example.com")


def test_d_a_user_without_premium_is_denied(bundle):
    uid = bundle.user("free@example.com", premiumDays=0)
    bundle.start(servers=1)
    bundle.press_start(uid)
    bundle.wait_for(lambda: bundle.account(uid)["glimpseStatus"] == "off", 15, "the denial")
    alert = bundle.account(uid)["alerts"][-1]
    assert alert["title"] == "Não é assinante" and alert["type"] == "danger"
    assert bundle.db[names.TRADES].count_documents({}) == 0


def test_e_two_assigners_give_fifty_users_one_server_each(bundle):
    db, clock = bundle.db, bundle.ctx.clock
    users = [bundle.user(f"u{i}@example.com") for i in range(50)]
    for uid in users:
        bundle.press_start(uid)
    now = clock.now()
    db[names.SERVERS].insert_many(
        [
            {
                "name": f"srv{i:02d}",
                "status": "waiting",
                "target": "",
                "uptime": now + 3600,
                "incarnation": "x",
            }
            for i in range(50)
        ]
    )
    assigners = [Assigner(bundle.ctx), Assigner(bundle.ctx)]
    barrier = threading.Barrier(2)

    def run(assigner):
        barrier.wait()
        for _ in range(3):
            assigner.assign_waiting(clock.now())

    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        threads = [threading.Thread(target=run, args=(a,)) for a in assigners]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(previous)
    servers = list(db[names.SERVERS].find())
    targets = [s["target"] for s in servers if s["status"] == "assigned"]
    assert sorted(targets) == sorted(users)  # every user once, no server twice
    for uid in users:
        account = bundle.account(uid)
        assert account["glimpseStatus"] == "assigning"
        assert db[names.SERVERS].find_one({"name": account["server"]})["target"] == uid
    assert sum(a.assigned for a in assigners) == 50


def test_no_live_server_keeps_the_user_waiting_then_denies(bundle):
    uid = bundle.user("patient@example.com")
    bundle.press_start(uid)
    assigner = Assigner(bundle.ctx)
    now = bundle.ctx.clock.now()
    assigner.assign_waiting(now + 1)
    assert bundle.account(uid)["glimpseStatus"] == "waiting"
    grace = bundle.ctx.config.assign_grace_seconds * bundle.ctx.clock.speed
    assigner.assign_waiting(now + grace + 1)
    account = bundle.account(uid)
    assert (
        account["glimpseStatus"] == "off" and account["alerts"][-1]["title"] == "Sem operadores disponíveis"
    )


def test_premium_days_count_down_once_a_day(bundle):
    db, zone = bundle.db, bundle.ctx.config.zone
    uid = bundle.user("days@example.com", premiumDays=3)
    now = bundle.ctx.clock.now()
    assert count_down_premium(db, now, zone) is False  # the first run only records the day
    assert count_down_premium(db, now + 86400, zone) is True
    assert count_down_premium(db, now + 86400 + 60, zone) is False
    assert bundle.account(uid)["premiumDays"] == 2
