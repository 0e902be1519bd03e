"""The order desk: the first entries of one decision instant go out together, and money stays safe.

Every money-path scenario of test_cycle_rules and test_ledger runs here again with the
sessions' first entries going through a desk (the desk's batch of one makes the same
checks and writes the same ledger as a session alone), and then several sessions share
one desk at the same instant.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from bson import ObjectId

from glimpse.market.base import Unreachable
from glimpse.runtime.clock import ManualClock
from glimpse.runtime.config import load_config
from glimpse.runtime.services import ServiceContext
from glimpse.store import db as names
from glimpse.store.accounts import new_account
from glimpse.store.db import new_embedded_database
from operational_server import cycle
from operational_server.cycle import Decision, run_cycle
from operational_server.desk import OrderDesk
from operational_server.market_view import MarketView
from operational_server.session import ServerIdentity, UserSession
from tests.fakes.mongo_server import MongoServer
from tests.pipeline import test_cycle_rules, test_ledger
from tests.pipeline.test_cycle_rules import START, ScriptedBroker, make_session, money, start_session

# --- the single-session scenarios, through a desk ---------------------------------------------

for _module in (test_cycle_rules, test_ledger):
    for _name in dir(_module):
        if _name.startswith("test_"):
            globals()[f"{_name}__through_the_desk"] = getattr(_module, _name)


@pytest.fixture(autouse=True, scope="module")
def sessions_use_a_desk() -> Iterator[None]:
    # Module scope (not monkeypatch): the imported scenarios include hypothesis tests.
    original = UserSession.cycle_context

    def with_desk(self: UserSession) -> cycle.CycleContext:
        ctx = original(self)
        if ctx.desk is None:
            ctx.desk = OrderDesk(self.db, embedded=True)
        return ctx

    UserSession.cycle_context = with_desk  # type: ignore[method-assign]
    try:
        yield
    finally:
        UserSession.cycle_context = original  # type: ignore[method-assign]


def test_a_first_entry_goes_through_the_desk_and_a_gale_does_not():
    broker = ScriptedBroker([-1, +1])
    session = make_session(broker, money(gales=1))
    ctx = session.cycle_context()
    assert ctx.desk is not None
    outcome = run_cycle(ctx, test_cycle_rules.decision())
    assert outcome.orders == 2 and outcome.result == "win"
    assert ctx.desk.batches == 1  # the entry; the gale went out on its own
    levels = [t["galeLevel"] for t in session.db[names.TRADES].find().sort("galeLevel", 1)]
    assert levels == [0, 1]


# --- many sessions, one desk ------------------------------------------------------------------


def _sessions(
    count: int, outcomes: list[int], db: Any = None, embedded: bool = True
) -> tuple[list[UserSession], OrderDesk]:
    """`count` operating users on their own servers, sharing one database, one clock and one desk."""
    db = new_embedded_database() if db is None else db
    config = load_config({"GLIMPSE_SECRET_KEY": "k" * 40}).with_(password_hash_profile="test")
    clock = ManualClock(START)
    shared = OrderDesk(db, embedded=embedded)
    sessions = []
    for i in range(count):
        doc = new_account(f"User {i}", f"u{i}@example.com", "$argon2id$x", START, premium_days=10)
        doc.update(glimpseStatus="operating", server=f"s{i + 1}", strategySettings=money(gales=1))
        user_id = str(db[names.ACCOUNTS].insert_one(doc).inserted_id)
        db[names.SERVERS].insert_one(
            {
                "name": f"s{i + 1}",
                "incarnation": "i1",
                "status": "operating",
                "target": user_id,
                "uptime": START,
            }
        )
        session = UserSession(
            ServiceContext(config=config, db=db, clock=clock),
            ServerIdentity(f"s{i + 1}", "i1"),
            user_id,
            MarketView(db),
            threading.Event(),
            desk=shared,
        )
        broker = ScriptedBroker(list(outcomes))
        broker.clock = clock
        session.broker = broker
        sessions.append(start_session(session, money(gales=1)))
    return sessions, shared


def in_threads(calls: list[Callable[[], Any]], while_running: Callable[[], None] = lambda: None) -> list[Any]:
    """Each call in a thread of its own: its result, or what it raised. `while_running` runs once all started."""
    results: list[Any] = [RuntimeError("not run")] * len(calls)

    def run(i: int) -> None:
        try:
            results[i] = calls[i]()
        except BaseException as exc:  # noqa: BLE001 (the test reports it)
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    while_running()
    for t in threads:
        t.join(timeout=60)
    return results


def _run_together(sessions: list[UserSession]) -> list[cycle.CycleOutcome | BaseException]:
    gate = threading.Barrier(len(sessions))

    def cycle_of(session: UserSession) -> Callable[[], cycle.CycleOutcome]:
        def run() -> cycle.CycleOutcome:
            decision = Decision("EURUSD", "call", 87, START, [{"o": 1.0, "c": 1.1}])
            gate.wait()
            return run_cycle(session.cycle_context(), decision)

        return run

    return in_threads([cycle_of(s) for s in sessions])


def test_sessions_at_one_instant_each_place_exactly_one_order_written_ahead():
    written_before_sent: list[bool] = []
    sessions, shared = _sessions(12, [+1])
    db = sessions[0].db
    for s in sessions:
        broker = s.broker
        assert isinstance(broker, ScriptedBroker)

        def on_buy(count: int, s: UserSession = s) -> None:
            # The intent is in the ledger, pending, when the broker is called.
            pending = db[names.TRADES].count_documents({"user": s.user_id, "status": "pending"})
            written_before_sent.append(pending == 1)

        broker.on_buy = on_buy
    results = _run_together(sessions)
    assert all(isinstance(r, cycle.CycleOutcome) and r.orders == 1 and r.result == "win" for r in results)
    assert written_before_sent == [True] * 12
    for s in sessions:
        assert isinstance(s.broker, ScriptedBroker) and s.broker.attempts == 1
        (trade,) = db[names.TRADES].find({"user": s.user_id})
        assert trade["status"] == "closed" and trade["result"] == "win" and trade["brokerOrderId"] == 1
        assert trade["placedAt"] is not None and trade["openPrice"] is not None
    assert 1 <= shared.batches <= 12 and shared.largest >= 1


def test_a_stopped_user_in_a_batch_gets_no_order_and_the_others_do():
    sessions, _ = _sessions(4, [+1])
    db = sessions[0].db
    stopped = sessions[2]
    db[names.ACCOUNTS].update_one({"_id": ObjectId(stopped.user_id)}, {"$set": {"glimpseStatus": "stopping"}})
    results = _run_together(sessions)
    assert isinstance(results[2], cycle.CycleOutcome) and results[2].stop == cycle.STOP_USER
    assert results[2].orders == 0 and db[names.TRADES].count_documents({"user": stopped.user_id}) == 0
    for i in (0, 1, 3):
        assert isinstance(results[i], cycle.CycleOutcome) and results[i].orders == 1  # type: ignore[union-attr]


def test_a_buy_that_may_have_executed_in_a_batch_is_unknown_then_resolved_and_never_doubled():
    sessions, _ = _sessions(3, [+1])
    db = sessions[0].db
    faulty = sessions[1].broker
    assert isinstance(faulty, ScriptedBroker)
    faulty.faults = {1: (Unreachable("reply lost", order_may_exist=True), True)}  # executed, reply lost
    results = _run_together(sessions)
    assert all(isinstance(r, cycle.CycleOutcome) and r.orders == 1 for r in results)
    (trade,) = db[names.TRADES].find({"user": sessions[1].user_id})
    assert trade["status"] == "closed" and trade["result"] == "win" and faulty.attempts == 1
    assert all(db[names.TRADES].count_documents({"user": s.user_id}) == 1 for s in sessions)


def test_when_the_intents_cannot_be_written_no_order_is_sent(monkeypatch):
    sessions, shared = _sessions(3, [+1])

    def refuse(batch):
        raise RuntimeError("database down")

    monkeypatch.setattr(shared, "_record", refuse)
    results = _run_together(sessions)
    assert all(isinstance(r, RuntimeError) and "database down" in str(r) for r in results)
    for s in sessions:
        assert isinstance(s.broker, ScriptedBroker) and s.broker.attempts == 0
    assert sessions[0].db[names.TRADES].count_documents({}) == 0


def test_orders_the_desk_could_not_mark_open_are_marked_by_their_sessions(monkeypatch):
    sessions, shared = _sessions(3, [+1])
    monkeypatch.setattr(shared, "_mark", lambda batch: None)  # as if the bulk write failed
    results = _run_together(sessions)
    assert all(isinstance(r, cycle.CycleOutcome) and r.orders == 1 for r in results)
    for s in sessions:
        (trade,) = s.db[names.TRADES].find({"user": s.user_id})
        assert trade["status"] == "closed" and trade["placedAt"] is not None and trade["brokerOrderId"] == 1


def test_stakes_in_a_batch_are_each_sessions_own():
    sessions, _ = _sessions(3, [+1])
    db = sessions[0].db
    sessions[1].money = dict(sessions[1].money, money=5)
    _run_together(sessions)
    amounts = {s.user_id: db[names.TRADES].find_one({"user": s.user_id})["amount"] for s in sessions}
    assert amounts == {sessions[0].user_id: 200, sessions[1].user_id: 500, sessions[2].user_id: 200}
    assert isinstance(sessions[1].broker, ScriptedBroker)
    assert sessions[1].broker.bought[0][0] == Decimal("5.00")


def test_on_mongodb_a_batch_checks_writes_and_marks_in_one_read_or_write_each():
    """Through pymongo against the fake MongoDB server: the batched reads and bulk writes."""
    import pymongo

    client: pymongo.MongoClient[dict[str, Any]]
    with (
        MongoServer() as server,
        pymongo.MongoClient(server.uri, serverSelectionTimeoutMS=5000, tz_aware=True) as client,
    ):
        db: Any = client["desk_test"]
        sessions, shared = _sessions(5, [+1], db=db, embedded=False)
        stopped = sessions[3]
        db[names.ACCOUNTS].update_one(
            {"_id": ObjectId(stopped.user_id)}, {"$set": {"glimpseStatus": "stopping"}}
        )
        results = _run_together(sessions)
        for i, result in enumerate(results):
            assert isinstance(result, cycle.CycleOutcome), result
            assert result.orders == (0 if i == 3 else 1)
        assert results[3].stop == cycle.STOP_USER  # type: ignore[union-attr]
        for i, s in enumerate(sessions):
            found = list(db[names.TRADES].find({"user": s.user_id}))
            if i == 3:
                assert found == []
                continue
            (trade,) = found
            assert trade["status"] == "closed" and trade["result"] == "win" and trade["placedAt"] is not None
        assert shared.batches >= 1


# --- keyed entries (copies) --------------------------------------------------------------------


def _copy_decision(follower: str, leader_trade: str) -> Decision:
    from glimpse.store import copying

    return Decision(
        "EURUSD", "call", 87, START, [], copies=leader_trade, client_key=copying.copy_key(follower, leader_trade),
        stake=Decimal(3), expiry=5,
    )  # fmt: skip


def _no_preparation(i: int) -> None:
    return None


def _together(
    count: int, work: Callable[[int, Any], Any], prepare: Callable[[int], Any] = _no_preparation
) -> list[Any]:
    """`work(i, prepare(i))` for i in range(count), each in its own thread, all released at the same
    instant once prepared; what each returned or raised."""
    results: list[Any] = [RuntimeError("not run")] * count
    gate = threading.Barrier(count)

    def run(i: int) -> None:
        prepared = prepare(i)
        gate.wait()
        try:
            results[i] = work(i, prepared)
        except BaseException as exc:  # noqa: BLE001 (the test reports it)
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def _submit_together(sessions: list[UserSession], decisions: list[Decision]) -> list[Any]:
    """Each session hands its entry to the shared desk at the same instant; the tickets, answered."""

    def submit(i: int, ctx: Any) -> Any:
        return ctx.desk.submit(ctx, decisions[i], Decimal(3), f"c{i}", cycle.decision_expiry(decisions[i]))

    return _together(len(sessions), submit, lambda i: sessions[i].cycle_context())


def test_copies_in_a_batch_are_written_ahead_under_their_key_and_sent_with_it():
    from glimpse.store import trades

    sessions, shared = _sessions(6, [+1])
    db = sessions[0].db
    leader_trade = str(ObjectId())
    pending_at_buy: list[bool] = []
    for s in sessions:
        assert isinstance(s.broker, ScriptedBroker)

        def on_buy(count: int, s: UserSession = s) -> None:
            key = _copy_decision(s.user_id, leader_trade).client_key
            assert key is not None
            found = db[names.TRADES].find_one({"_id": trades.intent_id(key, START)})
            pending_at_buy.append(found is not None and found["status"] == "pending")

        s.broker.on_buy = on_buy
    decisions = [_copy_decision(s.user_id, leader_trade) for s in sessions]
    tickets = _submit_together(sessions, decisions)
    assert pending_at_buy == [True] * 6
    for s, decision, ticket in zip(sessions, decisions, tickets, strict=True):
        assert not isinstance(ticket, BaseException), ticket
        assert ticket.fill is not None and ticket.marked and not ticket.declined and ticket.verdict is None
        assert decision.client_key is not None
        assert isinstance(s.broker, ScriptedBroker) and s.broker.attempts == 1
        assert [o["key"] for o in s.broker.orders.values()] == [decision.client_key]
        (trade,) = db[names.TRADES].find({"user": s.user_id})
        assert trade["_id"] == trades.intent_id(decision.client_key, START)
        assert trade["copies"] == leader_trade and trade["expiryMinutes"] == 5 and trade["mode"] == "copy"
        assert trade["status"] == "open" and trade["clientKey"] == decision.client_key
    assert shared.batches >= 1


@pytest.mark.parametrize("when", ["settled before the batch", "written between the checks and the insert"])
def test_a_copy_whose_intent_another_session_wrote_is_declined_and_the_rest_of_the_batch_goes_out(
    when: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from glimpse.store import trades

    sessions, shared = _sessions(4, [+1])
    db = sessions[0].db
    leader_trade = str(ObjectId())
    decisions = [_copy_decision(s.user_id, leader_trade) for s in sessions]
    taken = sessions[2]

    def claim_elsewhere() -> trades.Trade:
        """Another server session of user 2 wrote the copy's write-ahead."""
        return trades.record_intent(
            db, user=taken.user_id, session=taken.session_id, server_session="another", server="s-old",
            ativo="EURUSD", operacao="call", amount=Decimal(3), gale_level=0, payout=87, decided_at=START,
            cycle="old", account="PRACTICE", client_key=decisions[2].client_key, copies=leader_trade,
            expiry_minutes=5,
        )  # fmt: skip

    if when == "settled before the batch":
        other = claim_elsewhere()
        # Placed and settled by that session (an unresolved one would block the user before any insert).
        db[names.TRADES].update_one({"_id": other.id}, {"$set": {"status": "closed", "result": "win"}})
    else:
        check = shared._check

        def check_then_claim(batch: list[Any]) -> None:
            check(batch)
            if any(t.ctx.user_id == taken.user_id for t in batch):  # user 2's batch, its checks passed
                claimed.append(claim_elsewhere())

        claimed: list[trades.Trade] = []
        monkeypatch.setattr(shared, "_check", check_then_claim)
    tickets = _submit_together(sessions, decisions)
    declined = tickets[2]
    assert not isinstance(declined, BaseException)
    assert declined.declined and declined.fill is None and declined.trade is None and declined.error is None
    assert isinstance(taken.broker, ScriptedBroker) and taken.broker.attempts == 0
    (only,) = db[names.TRADES].find({"user": taken.user_id})
    assert only["serverSession"] == "another" and only["cycle"] == "old"
    if when != "settled before the batch":
        assert len(claimed) == 1 and only["status"] == "pending"
    for i in (0, 1, 3):
        ticket = tickets[i]
        assert not isinstance(ticket, BaseException) and ticket.fill is not None and not ticket.declined
        assert db[names.TRADES].count_documents({"user": sessions[i].user_id, "status": "open"}) == 1


def test_a_batch_whose_insert_fails_otherwise_sends_nothing(monkeypatch):
    from pymongo.errors import BulkWriteError

    sessions, shared = _sessions(3, [+1])
    leader_trade = str(ObjectId())
    decisions = [_copy_decision(s.user_id, leader_trade) for s in sessions]
    collection = type(shared.db[names.TRADES])

    def refuse(self: Any, docs: Any, ordered: bool = True) -> None:
        raise BulkWriteError(
            {"writeErrors": [{"index": 0, "code": 121, "errmsg": "validation"}], "nInserted": 0}
        )

    monkeypatch.setattr(collection, "insert_many", refuse, raising=False)
    tickets = _submit_together(sessions, decisions)
    assert all(not isinstance(t, BaseException) and isinstance(t.error, BulkWriteError) for t in tickets)
    assert all(isinstance(s.broker, ScriptedBroker) and s.broker.attempts == 0 for s in sessions)


def _run_decisions(sessions: list[UserSession], decisions: list[Decision]) -> list[Any]:
    return _together(len(sessions), lambda i, _: run_cycle(sessions[i].cycle_context(), decisions[i]))


def test_copy_cycles_of_sessions_sharing_a_desk_each_place_their_copy_once():
    """Whichever path a copy's first entry takes (the desk's batch or one by one), one order per key."""
    from glimpse.store import trades

    sessions, _ = _sessions(6, [+1])
    db = sessions[0].db
    leader_trade = str(ObjectId())
    decisions = [_copy_decision(s.user_id, leader_trade) for s in sessions]
    results = _run_decisions(sessions, decisions)
    for s, decision, result in zip(sessions, decisions, results, strict=True):
        assert isinstance(result, cycle.CycleOutcome) and result.orders == 1 and result.result == "win"
        assert isinstance(s.broker, ScriptedBroker) and s.broker.attempts == 1
        assert decision.client_key is not None
        (trade,) = db[names.TRADES].find({"user": s.user_id})
        assert (
            trade["_id"] == trades.intent_id(decision.client_key, START) and trade["copies"] == leader_trade
        )
        assert trade["status"] == "closed" and trade["expiryMinutes"] == 5 and trade["amount"] == 300


def test_a_copy_cycle_never_sends_a_copy_another_session_wrote():
    from glimpse.store import trades

    sessions, _ = _sessions(3, [+1])
    db = sessions[0].db
    leader_trade = str(ObjectId())
    decisions = [_copy_decision(s.user_id, leader_trade) for s in sessions]
    taken = sessions[1]
    other = trades.record_intent(
        db, user=taken.user_id, session=taken.session_id, server_session="another", server="s-old",
        ativo="EURUSD", operacao="call", amount=Decimal(3), gale_level=0, payout=87, decided_at=START,
        cycle="old", account="PRACTICE", client_key=decisions[1].client_key, copies=leader_trade, expiry_minutes=5,
    )  # fmt: skip
    db[names.TRADES].update_one({"_id": other.id}, {"$set": {"status": "closed", "result": "win"}})
    results = _run_decisions(sessions, decisions)
    skipped = results[1]
    assert isinstance(skipped, cycle.CycleOutcome) and skipped.orders == 0 and skipped.stop is None
    assert isinstance(taken.broker, ScriptedBroker) and taken.broker.attempts == 0
    assert db[names.TRADES].count_documents({"user": taken.user_id}) == 1
    for i in (0, 2):
        assert isinstance(results[i], cycle.CycleOutcome) and results[i].orders == 1


def test_an_entry_whose_candle_begins_while_its_batch_runs_is_not_sent():
    """A batch's last orders must not go out after the candle they were for has begun."""
    from operational_server.desk import Ticket

    sessions, shared = _sessions(3, [+1])
    db = sessions[0].db
    clock = sessions[0].clock
    assert isinstance(clock, ManualClock)
    first = sessions[0].broker
    assert isinstance(first, ScriptedBroker)
    first.on_buy = lambda count: clock.advance(2.0)  # the first buy is slow: the candle begins meanwhile
    ctxs = [s.cycle_context() for s in sessions]
    decisions = [Decision("EURUSD", "call", 87, START, []) for _ in sessions]
    tickets = [Ticket(ctx, d, Decimal(2), f"c{i}", cycle.decision_expiry(d)) for i, (ctx, d) in enumerate(zip(ctxs, decisions, strict=True))]  # fmt: skip
    shared._run(tickets)
    assert tickets[0].fill is not None and tickets[0].marked
    for ticket, s in zip(tickets[1:], sessions[1:], strict=True):
        assert ticket.verdict == cycle.EXPIRED and ticket.fill is None and ticket.done.is_set()
        assert isinstance(s.broker, ScriptedBroker) and s.broker.attempts == 0
        (trade,) = db[names.TRADES].find({"user": s.user_id})
        assert trade["status"] == "closed" and trade["result"] == "failed" and trade["brokerOrderId"] is None


def test_when_a_leader_dies_a_waiting_session_takes_over_the_queue(monkeypatch):
    """The sessions queued behind a leader whose thread raised are woken, and one of them leads."""
    import time

    class Abort(BaseException):
        pass

    sessions, shared = _sessions(3, [+1])
    real_run = shared._run
    runs: list[int] = []

    def run(batch: list[Any]) -> None:
        runs.append(len(batch))
        if len(runs) == 1:  # the first leader: dies once the two others have queued behind it
            for _ in range(1000):
                if len(shared._queue) == 2:
                    break
                time.sleep(0.01)
            raise Abort()
        real_run(batch)

    monkeypatch.setattr(shared, "_run", run)
    results: list[Any] = [None] * 3

    def submit(i: int) -> None:
        ctx = sessions[i].cycle_context()
        decision = Decision("EURUSD", "call", 87, START, [])
        try:
            results[i] = shared.submit(ctx, decision, Decimal(2), f"c{i}", cycle.decision_expiry(decision))
        except BaseException as exc:  # noqa: BLE001 (the test reports it)
            results[i] = exc

    first = threading.Thread(target=submit, args=(0,))
    first.start()
    for _ in range(1000):  # the first session leads before the others arrive
        if runs:
            break
        time.sleep(0.01)
    others = [threading.Thread(target=submit, args=(i,)) for i in (1, 2)]
    for t in others:
        t.start()
    for t in [first, *others]:
        t.join(timeout=60)
    assert isinstance(results[0], Abort)
    assert runs == [1, 2]  # the dead leader's batch, then the queue it left, led by a waiting session
    for i in (1, 2):
        assert results[i].fill is not None and results[i].done.is_set()
        broker = sessions[i].broker
        assert isinstance(broker, ScriptedBroker) and broker.attempts == 1
