"""Copy mode in the embedded bundle: one leader, many followers, one fan-out through the ledger."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from bson import ObjectId

from glimpse.market.paper import PaperBroker
from glimpse.rules.timing import minute_start
from glimpse.store import copying, trades
from glimpse.store import db as names
from glimpse.store.accounts import Account
from operational_server.copy_mode import CopyMode
from operational_server.cycle import decision_expiry
from tests.pipeline.bundle import make_bundle

FOLLOWERS = 50


def _money(**changes):
    base = {"money": 2, "gale": False, "galeCount": 0, "galeType": "dobro", "sobra": 0,
            "stopLoss": False, "stopLossValue": 0, "stopWin": False, "stopWinValue": 0}  # fmt: skip
    base.update(changes)
    return base


@pytest.fixture
def bundle(config, db):
    # Decisions at second 40 leave 20 market seconds (2 wall seconds at 10x) to copy inside the candle.
    b = make_bundle(config.with_(decision_second=40), db, speed=10.0)
    yield b
    b.stop()


def _follow(db, follower: str, leader: str, **stake) -> None:
    choice = copying.Follow(follower=follower, leader=leader, stake_type=copying.MULTIPLIER, **stake)
    copying.follow(db, choice)


def test_fifty_followers_copy_the_leaders_entry_inside_its_candle(bundle):
    db, clock = bundle.db, bundle.ctx.clock
    leader = bundle.trader("leader@example.com", _money())
    copying.opt_in(db, leader, "Leader", clock.now())
    copying.approve(db, leader, True, clock.now())
    followers = [
        bundle.user(f"f{i}@example.com", mode="copy", strategySettings=_money(gale=True, galeCount=1))
        for i in range(FOLLOWERS)
    ]
    for i, follower in enumerate(followers):
        _follow(db, follower, leader, multiplier=Decimal(1 + i % 3))
    stopped = [bundle.user(f"s{i}@example.com", mode="copy") for i in range(2)]
    for follower in stopped:
        _follow(db, follower, leader)  # following, but never started: off

    bundle.start(servers=FOLLOWERS + 1)
    for follower in followers:
        bundle.press_start(follower)
    bundle.wait_for(
        lambda: (
            db[names.ACCOUNTS].count_documents(
                {"_id": {"$in": [ObjectId(f) for f in followers]}, "glimpseStatus": "operating"}
            )
            == FOLLOWERS
        ),
        90,
        "every follower to operate",
    )
    bundle.press_start(leader)
    entry = bundle.wait_for(
        lambda: db[names.TRADES].find_one({"user": leader, "galeLevel": 0, "placedAt": {"$ne": None}}),
        60,
        "the leader's first entry",
    )
    leader_id = str(entry["_id"])
    assert entry["mode"] == "strategy"  # the leader trades its strategy; the ledger says so
    bundle.wait_for(
        lambda: (
            db[names.TRADES].count_documents({"copies": leader_id, "galeLevel": 0, "placedAt": {"$ne": None}})
            >= FOLLOWERS
        ),
        30,
        "every follower's copy",
    )
    candle_end = minute_start(entry["decidedAt"]) + 60
    copies = list(db[names.TRADES].find({"copies": leader_id, "galeLevel": 0}))
    assert sorted(c["user"] for c in copies) == sorted(followers)  # each follower once, nobody else
    for c in copies:
        assert (c["ativo"], c["operacao"]) == (entry["ativo"], entry["operacao"])
        assert entry["placedAt"] >= c["decidedAt"] == entry["decidedAt"]
        assert c["placedAt"] < candle_end, "a copy was placed after the leader's candle began"
        assert c["clientKey"] == copying.copy_key(c["user"], leader_id)
        multiplier = 1 + followers.index(c["user"]) % 3
        assert c["amount"] == entry["amount"] * multiplier  # the follower's own stake
        assert trades.Trade.from_doc(c).copies == leader_id
        assert c["mode"] == "copy"
    assert db[names.TRADES].count_documents({"user": {"$in": stopped}}) == 0
    # The leader stops: followers keep operating and simply get no new entries.
    db[names.ACCOUNTS].update_one({"_id": ObjectId(leader)}, {"$set": {"glimpseStatus": "stopping"}})
    bundle.wait_for(lambda: bundle.account(leader)["glimpseStatus"] == "off", 60, "the leader to stop")
    assert all(bundle.account(f)["glimpseStatus"] == "operating" for f in followers[:5])


class _Host:
    """The part of a session copy mode reads (a ModeHost), without a server."""

    def __init__(self, db, clock, user_id: str, broker=None):
        self.db, self.clock, self.user_id = db, clock, user_id
        self.config = SimpleNamespace()
        self.market = None
        self.user = Account()
        self.broker = broker
        self.server_session = ObjectId().__str__()


def _host(db, clock, user_id: str, broker=None) -> Any:
    return _Host(db, clock, user_id, broker)


def _leader_entry(db, leader: str, decided_at: float, amount_cents: int = 200) -> str:
    trade = trades.record_intent(
        db, user=leader, session="s", server="srv", ativo="EURUSD", operacao="call",
        amount=Decimal(amount_cents) / 100, gale_level=0, payout=87, decided_at=decided_at,
        cycle="c", account="PRACTICE",
    )  # fmt: skip
    trades.mark_open(db, trade.id, 1, decided_at, 1.1)  # the leader's bot placed it: a trade to copy
    return str(trade.id)


@pytest.fixture
def copy_setup(config, db):
    b = make_bundle(config, db, speed=1.0)
    clock = b.ctx.clock
    leader = b.user("lead@example.com")
    follower = b.user("follow@example.com", mode="copy")
    copying.opt_in(db, leader, "Lead", clock.now())
    copying.approve(db, leader, True, clock.now())
    _follow(db, follower, leader, multiplier=Decimal("1.5"))
    return b, leader, follower


def test_a_second_session_of_the_same_follower_places_nothing(copy_setup):
    b, leader, follower = copy_setup
    db, clock = b.db, b.ctx.clock
    leader_trade = _leader_entry(db, leader, clock.now())
    first = CopyMode(_host(db, clock, follower), Account())
    decision, finished = first.decide(clock.now())
    assert finished is None and decision is not None
    assert decision.copies == leader_trade and decision.stake == Decimal("3.00")
    assert decision.client_key == copying.copy_key(follower, leader_trade)
    assert decision_expiry(decision) == minute_start(clock.now()) + 60
    # The cycle writes the copy ahead of the buy (under the key, as run_cycle does).
    trades.record_intent(
        db, user=follower, session="s", server="srv", ativo=decision.pair, operacao=decision.direction,
        amount=decision.stake, gale_level=0, payout=decision.payout, decided_at=decision.decided_at,
        cycle="c", account="PRACTICE", client_key=decision.client_key, copies=decision.copies,
    )  # fmt: skip
    # The same step again, and a new session of the same follower (after a crash): no second copy.
    assert first.decide(clock.now()) == (None, None)
    second = CopyMode(_host(db, clock, follower), Account())
    assert second.decide(clock.now()) == (None, None)
    assert db[names.TRADES].count_documents({"copies": leader_trade}) == 1


def test_a_copy_is_placed_once_at_the_broker_even_when_the_buy_is_retried(copy_setup):
    b, leader, follower = copy_setup
    db, clock = b.db, b.ctx.clock
    leader_trade = _leader_entry(db, leader, clock.now())
    broker = PaperBroker(b.ctx.config, db, clock, "follow@example.com", "paper-pass")
    broker.connect()
    key = copying.copy_key(follower, leader_trade)
    one = broker.place(Decimal(3), "EURUSD", "call", 1, client_key=key, sent_at=clock.now())
    again = broker.place(Decimal(3), "EURUSD", "call", 1, client_key=key, sent_at=clock.now())
    assert one.order_id == again.order_id
    assert Decimal(str(broker.get_balance())) == Decimal(10000) - 3


def test_no_copy_when_the_candle_has_begun_or_the_leader_is_not_approved(copy_setup):
    b, leader, follower = copy_setup
    db, clock = b.db, b.ctx.clock
    _leader_entry(db, leader, minute_start(clock.now()) - 5)  # the previous minute's decision
    assert CopyMode(_host(db, clock, follower), Account()).decide(clock.now()) == (None, None)
    copying.approve(db, leader, False, clock.now())
    _leader_entry(db, leader, clock.now())
    assert CopyMode(_host(db, clock, follower), Account()).decide(clock.now()) == (None, None)


def test_a_follower_out_of_money_places_nothing_and_is_told(copy_setup):
    b, leader, follower = copy_setup
    db, clock = b.db, b.ctx.clock
    _leader_entry(db, leader, clock.now(), amount_cents=1_000_000_00)  # 1.5x is more than the balance
    broker = PaperBroker(b.ctx.config, db, clock, "follow@example.com", "paper-pass")
    broker.connect()
    mode = CopyMode(_host(db, clock, follower, broker), Account())
    assert mode.decide(clock.now()) == (None, None)
    titles = [a["title"] for a in b.account(follower)["alerts"]]
    assert "Saldo insuficiente para copiar." in titles


def test_a_follower_without_a_leader_is_stopped_with_an_alert(config, db):
    b = make_bundle(config, db, speed=1.0)
    follower = b.user("alone@example.com", mode="copy")
    decision, finished = CopyMode(_host(db, b.ctx.clock, follower), Account()).decide(b.ctx.clock.now())
    assert decision is None and finished is not None and finished[0] == "copy_unset"
