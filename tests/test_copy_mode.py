"""Copy mode across a crash: a copy that may have been placed is reconciled like any other order.

A follower's copy is written ahead in the ledger under a deterministic
client key (and an id derived from it) before the buy. These tests stop a
follower's session at each point of that path, start the next session of
the same follower, and check that the copy is neither lost nor doubled, and
that the ledger links it to the leader's trade. The end-to-end version,
with a real process killed by a trap in the database, is
tests/faults/test_copy_crash.py.
"""

from __future__ import annotations

import queue
import threading
import time
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from bson import ObjectId
from pymongo.errors import OperationFailure

from glimpse.market.base import Disconnected, Rejected
from glimpse.market.paper import PaperBroker
from glimpse.store import copying, trades
from glimpse.store import db as names
from glimpse.store.accounts import Account, new_account
from operational_server import copy_mode, reconcile
from operational_server.copy_mode import CopyMode
from operational_server.cycle import Decision, run_cycle
from tests.pipeline.bundle import make_bundle
from tests.pipeline.test_cycle_rules import START, ScriptedBroker, make_session, money


class _Host:
    """The part of a follower's session copy mode reads; each instance is one session."""

    def __init__(self, db: Any, clock: Any, user_id: str):
        self.db, self.clock, self.user_id = db, clock, user_id
        self.config = SimpleNamespace()
        self.market = None
        self.user = Account()
        self.broker = None
        self.server_session = str(ObjectId())


def _leader_entry(
    db: Any, leader: str, decided_at: float, *, expiry: int = 1, cents: int = 200, placed: bool = True
) -> trades.Trade:
    trade = trades.record_intent(
        db, user=leader, session="ls", server="srv-l", ativo="EURUSD", operacao="call",
        amount=Decimal(cents) / 100, gale_level=0, payout=87, decided_at=decided_at, cycle="lc",
        account="PRACTICE", expiry_minutes=expiry,
    )  # fmt: skip
    if placed:  # the leader's bot placed it (pending until the broker takes it)
        trades.mark_open(db, trade.id, 7, decided_at, 1.1)
    return trade


def _write_ahead(db: Any, follower: str, decision: Any) -> trades.Trade:
    """What run_cycle writes right before the copy's buy."""
    return trades.record_intent(
        db, user=follower, session="fs", server="srv-f", ativo=decision.pair, operacao=decision.direction,
        amount=decision.stake, gale_level=0, payout=decision.payout, decided_at=decision.decided_at,
        cycle="fc", account="PRACTICE", client_key=decision.client_key, copies=decision.copies,
        expiry_minutes=decision.expiry,
    )  # fmt: skip


@pytest.fixture
def setup(config, db):
    b = make_bundle(config, db, speed=1.0)
    clock = b.ctx.clock
    leader = b.user("lead@example.com")
    follower = b.user("follow@example.com", mode="copy")
    copying.opt_in(db, leader, "Lead", clock.now())
    copying.approve(db, leader, True, clock.now())
    copying.follow(db, copying.Follow(follower, leader, copying.MULTIPLIER, multiplier=Decimal("1.5")))
    broker = PaperBroker(b.ctx.config, db, clock, "follow@example.com", "paper-pass")
    broker.connect()
    return SimpleNamespace(db=db, clock=clock, leader=leader, follower=follower, broker=broker)


def _session(s: Any) -> CopyMode:
    host: Any = _Host(s.db, s.clock, s.follower)
    return CopyMode(host, Account())


def _decided(s: Any) -> Decision:
    decision, finished = _session(s).decide(s.clock.now())
    assert finished is None and decision is not None
    return decision


def _paper_orders(s: Any) -> list[dict]:
    doc = s.db[names.PAPER_BALANCES].find_one({"_id": "follow@example.com"}) or {}
    return list(doc.get("open", [])) + list(doc.get("settled", []))


def test_a_kill_before_the_write_ahead_loses_no_copy(setup):
    s = setup
    leader_trade = _leader_entry(s.db, s.leader, s.clock.now())
    first = _decided(s)  # the session dies before the cycle writes the trade
    second, finished = _session(s).decide(s.clock.now())
    assert finished is None and second is not None, "the next session must copy what the dead one did not"
    assert (second.copies, second.client_key) == (str(leader_trade.id), first.client_key)
    assert s.db[names.TRADES].count_documents({"user": s.follower}) == 0


def test_the_write_ahead_is_one_trade_per_copy_whoever_writes_it(setup):
    s = setup
    _leader_entry(s.db, s.leader, s.clock.now())
    decision = _decided(s)
    one = _write_ahead(s.db, s.follower, decision)
    # A stale session that passed its checks before losing the user writes the same intent.
    two = _write_ahead(s.db, s.follower, decision)
    assert decision.client_key == copying.copy_key(s.follower, str(decision.copies))
    assert one.id == two.id == trades.intent_id(decision.client_key, decision.decided_at)
    assert s.db[names.TRADES].count_documents({"user": s.follower}) == 1


def test_a_kill_after_the_copy_was_bought_is_reconciled_and_not_placed_again(setup):
    s = setup
    leader_trade = _leader_entry(s.db, s.leader, s.clock.now())
    decision = _decided(s)
    pending = _write_ahead(s.db, s.follower, decision)
    fill = s.broker.place(decision.stake, decision.pair, decision.direction, 1, client_key=pending.clientKey,
                          sent_at=s.clock.now())  # fmt: skip
    # Killed before marking it open. The next session copies nothing more...
    assert _session(s).decide(s.clock.now()) == (None, None)
    # ... and reconciles the copy with the broker, like any other order.
    left = reconcile.Reconciler(s.db, s.clock, s.broker, lambda: True).run(s.follower, wait=False)
    trade = trades.get(s.db, pending.id)
    assert trade is not None and trade.status == trades.OPEN and trade.brokerOrderId == fill.order_id
    assert [t.id for t in left] == [pending.id]  # open until it settles at its expiry
    assert [o["id"] for o in _paper_orders(s)] == [fill.order_id]
    assert trade.copies == str(leader_trade.id) and trade.clientKey == copying.copy_key(
        s.follower, trade.copies
    )


def test_a_kill_before_the_copy_buy_is_reconciled_as_not_placed(setup):
    s = setup
    _leader_entry(s.db, s.leader, s.clock.now())
    decision = _decided(s)
    pending = _write_ahead(s.db, s.follower, decision)  # killed before the buy
    assert _session(s).decide(s.clock.now()) == (None, None)
    reconcile.Reconciler(s.db, s.clock, s.broker, lambda: True).run(s.follower, wait=False)
    trade = trades.get(s.db, pending.id)
    assert trade is not None and (trade.status, trade.result) == (trades.CLOSED, trades.NOT_PLACED)
    # The dead session's buy can no longer land late: the key was fenced.
    with pytest.raises(Rejected):
        s.broker.place(decision.stake, decision.pair, decision.direction, 1, client_key=pending.clientKey,
                       sent_at=s.clock.now())  # fmt: skip
    assert _paper_orders(s) == []


def _follower_session(leader_expiry: int, broker: ScriptedBroker) -> tuple[Any, str, Any]:
    """A follower's session on the cycle tests' manual clock, a leader and its entry decided at START."""
    session = make_session(broker, money(gales=1, gale_type="dobro"))
    db = session.db
    doc = new_account("Lia Lider", "lead@example.com", "$argon2id$x", START, premium_days=10)
    leader = str(db[names.ACCOUNTS].insert_one(doc).inserted_id)
    copying.opt_in(db, leader, "Lia", START)
    copying.approve(db, leader, True, START)
    copying.follow(db, copying.Follow(session.user_id, leader, copying.MULTIPLIER, multiplier=Decimal(2)))
    leader_trade = _leader_entry(db, leader, START, expiry=leader_expiry)
    host: Any = _Host(db, session.clock, session.user_id)
    decision, _ = CopyMode(host, Account()).decide(START)
    assert decision is not None
    return session, str(leader_trade.id), decision


@pytest.mark.parametrize("minutes", [1, 5, 15])
def test_a_copy_trades_the_leaders_expiry(minutes):
    broker = ScriptedBroker([+1])
    session, leader_trade, decision = _follower_session(minutes, broker)
    assert decision.expiry == minutes
    outcome = run_cycle(session.cycle_context(), decision)
    assert outcome.result == trades.WIN
    (copy,) = trades.of_user(session.db, session.user_id)
    leader = trades.get(session.db, ObjectId(leader_trade))
    assert leader is not None and copy.expiryMinutes == leader.expiryMinutes == minutes
    assert copy.copies == leader_trade and copy.amount == 2 * leader.amount


def test_an_ambiguous_copy_buy_is_unknown_until_the_broker_tells(monkeypatch):
    # The buy executes but its reply is lost: the copy is "unknown", then found by its key.
    broker = ScriptedBroker([-1, +1], faults={1: (Disconnected("socket closed during the buy"), True)})
    session, leader_trade, decision = _follower_session(1, broker)
    marked: list[str] = []
    real = trades.mark_unknown

    def spy(db: Any, trade_id: ObjectId, reason: str, now: float) -> bool:
        marked.append(str(trade_id))
        return real(db, trade_id, reason, now)

    monkeypatch.setattr(trades, "mark_unknown", spy)
    outcome = run_cycle(session.cycle_context(), decision)
    entry, gale = trades.of_user(session.db, session.user_id)
    assert marked == [str(entry.id)] and entry.id == trades.intent_id(decision.client_key, START)
    assert (entry.status, entry.result, entry.brokerOrderId) == (trades.CLOSED, trades.LOSS, 1)
    assert len(broker.bought) == 2 and outcome.result == trades.WIN  # the gale, on its own key
    # Each trade of the copied cycle links the leader's trade; the entry alone carries the copy's key.
    assert entry.copies == gale.copies == leader_trade
    assert gale.clientKey != entry.clientKey


def test_a_copy_whose_write_ahead_another_session_made_is_not_sent_again():
    # Two sessions of one follower (a stale server woken after a hand-over) decide the same copy:
    # the second meets the first one's trade under the key, and leaves the buy to it.
    broker = ScriptedBroker([+1])
    session, leader_trade, decision = _follower_session(1, broker)
    other = trades.record_intent(
        session.db, user=session.user_id, session=session.session_id, server_session="another-server-session",
        server="s0", ativo=decision.pair, operacao=decision.direction, amount=decision.stake, gale_level=0,
        payout=decision.payout, decided_at=decision.decided_at, cycle="c0", account="PRACTICE",
        client_key=decision.client_key, copies=decision.copies,
    )  # fmt: skip
    outcome = run_cycle(session.cycle_context(), decision)
    assert broker.bought == [] and outcome.orders == 0
    assert [t.id for t in trades.of_user(session.db, session.user_id)] == [other.id]
    left = trades.get(session.db, other.id)
    assert left is not None and left.status == trades.PENDING  # left to its session or reconciliation


# --- the process's watcher of a leader ------------------------------------------------------------


def test_followers_in_one_process_share_one_watcher_that_wakes_them_on_a_new_entry(setup, monkeypatch):
    s = setup
    second = (
        s.db[names.ACCOUNTS]
        .insert_one(new_account("Rui", "rui@example.com", "$argon2id$x", START))
        .inserted_id
    )
    copying.follow(s.db, copying.Follow(str(second), s.leader, copying.MULTIPLIER))
    hosts: list[Any] = [_Host(s.db, s.clock, s.follower), _Host(s.db, s.clock, str(second))]
    modes = [CopyMode(h, Account()) for h in hosts]
    # Each follower watches for a whole minute: only a new entry ends its wait early.
    monkeypatch.setattr(copy_mode, "WATCH_WALL_SECONDS", 60.0)
    found: dict[int, Any] = {}
    waiting = [threading.Thread(target=lambda i=i: found.setdefault(i, modes[i].decide(0.0))) for i in (0, 1)]
    for thread in waiting:
        thread.start()
    reads: list[str] = []
    real = copying.leader_entries

    def counted(db: Any, leader: str, since: float) -> list[dict]:
        reads.append(threading.current_thread().name)
        return real(db, leader, since)

    monkeypatch.setattr(copying, "leader_entries", counted)
    leader_trade = _leader_entry(s.db, s.leader, s.clock.now())
    for thread in waiting:
        thread.join(30)
    assert [found[i][0].copies for i in (0, 1)] == [str(leader_trade.id)] * 2
    assert len([w for (_, leader), w in copy_mode.FEED.watchers.items() if leader == s.leader]) == 1
    # The followers read nothing themselves: the watcher's thread did.
    # (Watchers of other tests' leaders may still be reading their own databases until they end.)
    assert f"copy-feed-{s.leader}" in reads and all(name.startswith("copy-feed-") for name in reads)


def test_a_watcher_nobody_looks_at_ends(setup, monkeypatch):
    s = setup
    monkeypatch.setattr(copy_mode, "IDLE_WALL_SECONDS", 0.2)
    monkeypatch.setattr(copy_mode, "WATCH_WALL_SECONDS", 0.0)
    _session(s).decide(s.clock.now())
    watcher = copy_mode.FEED.watchers[(id(s.db), s.leader)]
    watcher.thread.join(10)
    assert not watcher.thread.is_alive() and (id(s.db), s.leader) not in copy_mode.FEED.watchers


def test_a_leader_entry_the_broker_has_not_taken_is_not_copied(setup):
    s = setup
    pending = _leader_entry(s.db, s.leader, s.clock.now(), placed=False)
    assert _session(s).decide(s.clock.now()) == (None, None)
    trades.mark_failed(s.db, pending.id, "refused: Insufficient funds", s.clock.now())
    assert _session(s).decide(s.clock.now()) == (None, None)
    placed = _leader_entry(s.db, s.leader, s.clock.now())
    assert _decided(s).copies == str(placed.id)


def test_a_watcher_that_stopped_reading_is_replaced(setup):
    s = setup
    _session(s).decide(s.clock.now())
    stuck = copy_mode.FEED.watchers[(id(s.db), s.leader)]
    stuck.read_at -= 60  # as if its thread died or a read hung
    leader_trade = _leader_entry(s.db, s.leader, s.clock.now())
    assert _decided(s).copies == str(leader_trade.id)  # read by a new watcher
    fresh = copy_mode.FEED.watchers[(id(s.db), s.leader)]
    assert fresh is not stuck
    stuck.thread.join(10)
    assert not stuck.thread.is_alive() and fresh.thread.is_alive()


class _StreamingTrades:
    """The Trades collection of a database with change streams (a replica set), over the embedded one."""

    def __init__(self, real: Any, fail: bool = False):
        self.real, self.fail = real, fail
        self.changes: queue.Queue[dict] = queue.Queue()
        self.watched: list[tuple[list, dict]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def watch(self, pipeline: list, **options: Any) -> Any:
        if self.fail:
            raise OperationFailure("The $changeStream stage is only supported on replica sets", 40573)
        self.watched.append((pipeline, options))
        changes, wait = self.changes, options["max_await_time_ms"] / 1000

        class Stream:
            def __enter__(self) -> Stream:
                return self

            def __exit__(self, *exc: Any) -> None:
                pass

            def try_next(self) -> dict | None:
                try:
                    return changes.get(timeout=wait)
                except queue.Empty:
                    return None

        return Stream()


class _ReplicaSet:
    def __init__(self, db: Any, trades_collection: _StreamingTrades):
        self.db, self.trades = db, trades_collection

    def __getitem__(self, name: str) -> Any:
        return self.trades if name == names.TRADES else self.db[name]


def _wait_for_copy(s: Any, db: Any, monkeypatch: Any) -> tuple[threading.Thread, dict[str, Any]]:
    monkeypatch.setattr(copy_mode, "WATCH_WALL_SECONDS", 60.0)
    host: Any = _Host(db, s.clock, s.follower)
    mode, found = CopyMode(host, Account()), dict[str, Any]()
    waiting = threading.Thread(target=lambda: found.setdefault("decision", mode.decide(0.0)[0]))
    waiting.start()
    return waiting, found


def test_on_a_replica_set_the_watcher_wakes_on_the_change_stream(setup, monkeypatch):
    s = setup
    monkeypatch.setattr(copy_mode, "STREAM_WAIT_WALL_SECONDS", 30.0)  # only a change can wake it in time
    streaming = _StreamingTrades(s.db[names.TRADES])
    waiting, found = _wait_for_copy(s, _ReplicaSet(s.db, streaming), monkeypatch)
    deadline = time.monotonic() + 10
    while not streaming.watched and time.monotonic() < deadline:  # the watcher is on its stream
        time.sleep(0.01)
    leader_trade = _leader_entry(s.db, s.leader, s.clock.now())
    streaming.changes.put({"operationType": "update", "documentKey": {"_id": leader_trade.id}})
    waiting.join(10)
    assert found["decision"].copies == str(leader_trade.id)
    ((pipeline, options),) = streaming.watched
    assert (
        pipeline[0]["$match"]["fullDocument.user"] == s.leader and options["full_document"] == "updateLookup"
    )


def test_without_change_streams_the_watcher_polls(setup, monkeypatch):
    s = setup
    waiting, found = _wait_for_copy(
        s, _ReplicaSet(s.db, _StreamingTrades(s.db[names.TRADES], fail=True)), monkeypatch
    )
    leader_trade = _leader_entry(s.db, s.leader, s.clock.now())
    waiting.join(10)
    assert found["decision"].copies == str(leader_trade.id)
