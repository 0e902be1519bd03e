"""Armed entries: strategy sessions sleep through the decision instant, and the order desk decides for them.

One thread (the first to arm for an instant) wakes at the instant, decides for every armed
session from the one market snapshot and sends their first entries as one batch. The money
rules of a batch are the desk's (test_desk.py); these tests cover what arming adds: who
decides and when, a Stop or a shutdown between arming and the instant, a failing decision,
a conductor that dies, and an entry armed too late for its instant's batch.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from functools import partial
from types import SimpleNamespace
from typing import Any

import pytest
from bson import ObjectId
from pymongo.errors import AutoReconnect, ConnectionFailure

from glimpse.rules.timing import QUIET_BEFORE_SECONDS, quiet_before
from glimpse.runtime.clock import ManualClock
from glimpse.store import db as names
from glimpse.store import trades
from operational_server import cycle
from operational_server.cycle import Decision, run_cycle
from operational_server.desk import (
    ARMED_BATCH,
    COLLECTOR_HOLD_WALL_SECONDS,
    Armed,
    Decide,
    Decided,
    OrderDesk,
    Precheck,
    Ticket,
    first_ticket,
)
from operational_server.market_view import MarketView
from operational_server.session import UserSession
from tests.pipeline.test_cycle_rules import START, ScriptedBroker, money
from tests.pipeline.test_desk import _sessions, in_threads

INSTANT = START + 60  # the next decision instant: the sessions arm before it


class GatedClock:
    """The sessions' manual clock, which the conductor may move past the instant only once the gate opens."""

    def __init__(self, clock: ManualClock, gate: threading.Event, speed: float = 1.0):
        self.clock, self.gate, self.speed = clock, gate, speed  # speed: as a fast clock's

    def now(self) -> float:
        return self.clock.now()

    def sleep(self, seconds: float) -> None:
        assert self.gate.wait(30), "the gate never opened"
        self.clock.advance(seconds)


def _decision() -> Decision:
    return Decision("EURUSD", "call", 87, INSTANT, [{"o": 1.0, "c": 1.1}])


def _wait_until_armed(desk: OrderDesk, count: int) -> None:
    """Return once `count` entries are armed for INSTANT (or after 30 s: the test's asserts then say why)."""
    for _ in range(3000):
        with desk._lock:
            if len(desk._armed.get(INSTANT, ())) == count:
                return
        time.sleep(0.01)


def _arm_all(
    desk: OrderDesk,
    prepares: list[Callable[[], Ticket | None]],
    clock: GatedClock,
    before_the_instant: Callable[[], None] = lambda: None,
) -> list[Armed | BaseException]:
    """Arm every entry from its own thread, open the gate once all are armed, and return the answers."""

    def all_armed_then_open() -> None:
        _wait_until_armed(desk, len(prepares))
        before_the_instant()
        clock.gate.set()

    return in_threads(
        [partial(desk.arm, INSTANT, prepare, clock) for prepare in prepares], all_armed_then_open
    )


def _preparer(session: UserSession, deciders: list[tuple[int, float]]) -> Callable[[], Ticket | None]:
    def prepare() -> Ticket | None:
        deciders.append((threading.get_ident(), session.clock.now()))
        return first_ticket(session.cycle_context(), _decision())

    return prepare


def test_armed_entries_are_decided_in_one_thread_at_the_instant_and_sent_as_one_batch():
    sessions, desk = _sessions(6, [+1])
    db, clock = sessions[0].db, sessions[0].clock
    assert isinstance(clock, ManualClock)
    deciders: list[tuple[int, float]] = []
    results = _arm_all(desk, [_preparer(s, deciders) for s in sessions], GatedClock(clock, threading.Event()))
    assert len(deciders) == 6
    assert len({thread for thread, _ in deciders}) == 1  # one thread decided for all
    assert all(at >= INSTANT for _, at in deciders)  # at the instant, not when they armed
    assert desk.batches == 1 and desk.largest == 6
    for session, armed in zip(sessions, results, strict=True):
        assert isinstance(armed, Armed) and armed.error is None and armed.ticket is not None
        ticket = armed.ticket
        assert ticket.fill is not None and ticket.marked and ticket.trade is not None
        (trade,) = db[names.TRADES].find({"user": session.user_id})
        assert trade["status"] == "open" and trade["cycle"] == ticket.cycle and trade["decidedAt"] == INSTANT
        # The session's cycle goes on from the answered ticket: no second order, and it settles.
        outcome = run_cycle(ticket.ctx, ticket.decision, ticket)
        assert outcome.orders == 1 and outcome.result == "win"
        assert isinstance(session.broker, ScriptedBroker) and session.broker.attempts == 1
        assert db[names.TRADES].count_documents({"user": session.user_id}) == 1


def test_a_user_who_stops_after_arming_gets_no_order_and_the_others_do():
    sessions, desk = _sessions(4, [+1])
    db, clock = sessions[0].db, sessions[0].clock
    assert isinstance(clock, ManualClock)
    stopped = sessions[1]

    def press_stop() -> None:
        db[names.ACCOUNTS].update_one(
            {"_id": ObjectId(stopped.user_id)}, {"$set": {"glimpseStatus": "stopping"}}
        )

    results = _arm_all(
        desk, [_preparer(s, []) for s in sessions], GatedClock(clock, threading.Event()), press_stop
    )
    armed = results[1]
    assert isinstance(armed, Armed) and armed.ticket is not None
    assert armed.ticket.verdict == cycle.STOP_USER and armed.ticket.fill is None
    assert isinstance(stopped.broker, ScriptedBroker) and stopped.broker.attempts == 0
    assert db[names.TRADES].count_documents({"user": stopped.user_id}) == 0
    outcome = run_cycle(armed.ticket.ctx, armed.ticket.decision, armed.ticket)
    assert outcome.stop == cycle.STOP_USER and outcome.orders == 0
    for i in (0, 2, 3):
        other = results[i]
        assert isinstance(other, Armed) and other.ticket is not None and other.ticket.fill is not None


def test_a_decision_that_raises_fails_only_its_own_session():
    sessions, desk = _sessions(3, [+1])
    clock = sessions[0].clock
    assert isinstance(clock, ManualClock)

    def broken() -> Ticket | None:
        raise RuntimeError("this strategy is broken")

    prepares = [_preparer(sessions[0], []), broken, _preparer(sessions[2], [])]
    results = _arm_all(desk, prepares, GatedClock(clock, threading.Event()))
    failed = results[1]
    assert isinstance(failed, Armed) and isinstance(failed.error, RuntimeError) and failed.ticket is None
    assert isinstance(sessions[1].broker, ScriptedBroker) and sessions[1].broker.attempts == 0
    for i in (0, 2):
        armed = results[i]
        assert isinstance(armed, Armed) and armed.ticket is not None and armed.ticket.fill is not None


def test_nothing_to_trade_sends_nothing():
    sessions, desk = _sessions(2, [+1])
    clock = sessions[0].clock
    assert isinstance(clock, ManualClock)
    results = _arm_all(desk, [lambda: None, _preparer(sessions[1], [])], GatedClock(clock, threading.Event()))
    first, second = results
    assert isinstance(first, Armed) and first.ticket is None and first.error is None and first.done.is_set()
    assert isinstance(second, Armed) and second.ticket is not None and second.ticket.fill is not None
    assert isinstance(sessions[0].broker, ScriptedBroker) and sessions[0].broker.attempts == 0


def test_when_the_conductor_dies_an_armed_session_conducts_the_rest(monkeypatch):
    class Abort(BaseException):
        pass

    sessions, desk = _sessions(3, [+1])
    clock = sessions[0].clock
    assert isinstance(clock, ManualClock)
    real_decide = desk._decide
    batches: list[int] = []

    def decide(batch: list[Armed]) -> None:
        batches.append(len(batch))
        if len(batches) == 1:
            raise Abort()  # before anything of its batch was sent
        real_decide(batch)

    monkeypatch.setattr(desk, "_decide", decide)
    gate = threading.Event()
    results: list[Any] = [None] * 3

    def arm(i: int) -> None:
        try:
            results[i] = desk.arm(INSTANT, _preparer(sessions[i], []), GatedClock(clock, gate))
        except BaseException as exc:  # noqa: BLE001 (the test reports it)
            results[i] = exc

    first = threading.Thread(target=arm, args=(0,))
    first.start()
    for _ in range(3000):
        if desk._conducting:
            break
        time.sleep(0.01)
    gate.set()
    first.join(timeout=60)
    assert isinstance(results[0], Abort) and batches == [1]
    # Armed after the dead conductor took its batch, and before the instant's answer: still answered.
    others = [threading.Thread(target=arm, args=(i,)) for i in (1, 2)]
    for t in others:
        t.start()
    for t in others:
        t.join(timeout=60)
    assert batches[1:] in ([2], [1, 1])
    for i in (1, 2):
        assert isinstance(results[i], Armed) and results[i].ticket.fill is not None
        broker = sessions[i].broker
        assert isinstance(broker, ScriptedBroker) and broker.attempts == 1
    assert isinstance(sessions[0].broker, ScriptedBroker) and sessions[0].broker.attempts == 0


def test_an_entry_armed_after_its_instant_is_decided_and_sent_at_once():
    sessions, desk = _sessions(1, [+1])
    clock = sessions[0].clock
    assert isinstance(clock, ManualClock)
    clock.set(INSTANT + 0.2)  # the instant went by while the session was busy
    deciders: list[tuple[int, float]] = []
    armed = desk.arm(INSTANT, _preparer(sessions[0], deciders), GatedClock(clock, threading.Event()))
    assert deciders == [(threading.get_ident(), INSTANT + 0.2)]  # no sleep: decided by its own thread
    assert armed.ticket is not None and armed.ticket.fill is not None
    assert not desk._armed and not desk._conducting  # nothing left behind for the instant


class _Mode:
    """A strategy-like mode: decides from the market alone (so the session arms), scripted."""

    name = "strategy"
    strategy_doc = None
    decides_from_the_market = True
    decides_ahead = True

    def __init__(self, problem: str | None = None, trade: bool = True):
        self.problem, self.trade = problem, trade
        self.decided_in: list[int] = []
        self.recorded: list[cycle.CycleOutcome] = []

    def money_settings(self) -> dict:
        return {}

    def market_problem(self, instant: float) -> str | None:
        return self.problem

    def after_decision(self) -> None:
        pass

    def decision_stands(self, instant: float) -> bool:
        return True

    def decide(self, instant: float) -> tuple[Decision | None, Any]:
        self.decided_in.append(threading.get_ident())
        return (_decision() if self.trade else None), None

    def record(self, decision: Decision, outcome: cycle.CycleOutcome) -> None:
        self.recorded.append(outcome)

    def close(self) -> None:
        pass


def _step_all(
    sessions: list[UserSession], modes: list[_Mode], while_running: Callable[[], None] = lambda: None
) -> list[Any]:
    def step(session: UserSession, mode: _Mode) -> Callable[[], Any]:
        return lambda: ("ended", session._step(mode))  # type: ignore[arg-type]

    return in_threads([step(s, m) for s, m in zip(sessions, modes, strict=True)], while_running)


def test_sessions_step_through_the_desk_and_their_cycles_settle(monkeypatch):
    sessions, desk = _sessions(4, [+1])
    clock = sessions[0].clock
    assert isinstance(clock, ManualClock)
    # At the arming lead: no session moves the shared manual clock before it arms (two sessions sleeping
    # towards the lead at once would each move it, past the instant), and the conductor moves it on only
    # once all have armed.
    clock.set(INSTANT - 0.5)
    modes = [_Mode() for _ in sessions]
    armed: list[float] = []
    real_arm = desk.arm
    gate = threading.Event()

    def arm(instant: float, prepare: Callable[[], Ticket | None], clk: Any, **kw: Any) -> Armed:
        armed.append(instant)
        return real_arm(instant, prepare, GatedClock(clk, gate), **kw)

    def open_when_armed() -> None:
        _wait_until_armed(desk, len(sessions))
        gate.set()

    monkeypatch.setattr(desk, "arm", arm)
    results = _step_all(sessions, modes, open_when_armed)
    assert armed == [INSTANT] * 4  # each session armed its entry instead of deciding at the instant
    assert results == [("ended", None)] * 4  # a cycle each, and the sessions go on
    assert all(len(mode.decided_in) == 1 for mode in modes)
    for session, mode in zip(sessions, modes, strict=True):
        assert [o.result for o in mode.recorded] == ["win"] and mode.recorded[0].orders == 1
        assert isinstance(session.broker, ScriptedBroker) and session.broker.attempts == 1
        (trade,) = session.db[names.TRADES].find({"user": session.user_id})
        assert trade["decidedAt"] == INSTANT and trade["status"] == "closed"


def test_stale_market_data_pauses_an_armed_session_without_an_order():
    sessions, _ = _sessions(1, [+1])
    session = sessions[0]
    clock = session.clock
    assert isinstance(clock, ManualClock)
    clock.set(INSTANT - 1)
    mode = _Mode(problem="candles stale")
    assert _step_all([session], [mode]) == [("ended", None)]
    assert mode.decided_in == [] and session.stale_since is not None
    assert isinstance(session.broker, ScriptedBroker) and session.broker.attempts == 0
    account = session.db[names.ACCOUNTS].find_one({"_id": ObjectId(session.user_id)})
    assert account is not None and account["operating"]["paused"] == "market data stale"


def test_a_session_shut_down_while_armed_places_nothing(monkeypatch):
    sessions, desk = _sessions(1, [+1])
    session = sessions[0]
    clock = session.clock
    assert isinstance(clock, ManualClock)
    clock.set(INSTANT - 0.1)  # within the arming lead: the session arms at once
    real_arm = desk.arm

    def arm_then_shut_down(
        instant: float, prepare: Callable[[], Ticket | None], clk: Any, **kw: Any
    ) -> Armed:
        session.stop_event.set()  # the server is told to stop after the entry was armed
        return real_arm(instant, prepare, clk, **kw)

    monkeypatch.setattr(desk, "arm", arm_then_shut_down)
    mode = _Mode()
    assert _step_all([session], [mode]) == [("ended", (cycle.SHUTDOWN, None))]
    assert mode.decided_in == [] and desk.batches == 0
    assert isinstance(session.broker, ScriptedBroker) and session.broker.attempts == 0


def test_a_failed_market_read_is_not_repeated_for_the_same_instant():
    reads: list[float] = []

    class Down:
        def find(self, *args: Any, **kwargs: Any) -> Any:
            reads.append(1.0)
            raise ConnectionFailure("database down")

    class DownDb:
        def __getitem__(self, name: str) -> Down:
            return Down()

    view = MarketView(DownDb())
    for _ in range(3):
        with pytest.raises(ConnectionFailure):
            view.snapshot(INSTANT)
    assert len(reads) == 1  # hundreds of sessions decided in one thread wait for one dead read, not each
    with pytest.raises(ConnectionFailure):
        view.snapshot(INSTANT + 60)
    assert len(reads) == 2  # the next instant reads again


def test_every_part_is_sent_before_any_session_is_woken_or_its_order_marked_open(monkeypatch):
    # More entries than one part: a session woken early would run its cycle's writes beside the
    # later parts; an order marked early would cost them a write each.
    count = 2 * ARMED_BATCH + 3
    sessions, desk = _sessions(count, [+1])
    db, clock = sessions[0].db, sessions[0].clock
    assert isinstance(clock, ManualClock)
    seen_at_sends: list[tuple[int, int]] = []  # (tickets signalled, trades open) when each order goes out
    tickets: list[Ticket] = []
    real_send = desk._send

    def send(ticket: Ticket) -> None:
        tickets.append(ticket)
        signalled = sum(1 for t in tickets if t.done.is_set())
        seen_at_sends.append((signalled, db[names.TRADES].count_documents({"status": "open"})))
        real_send(ticket)

    monkeypatch.setattr(desk, "_send", send)
    results = _arm_all(desk, [_preparer(s, []) for s in sessions], GatedClock(clock, threading.Event()))
    assert desk.batches == 3  # three parts
    assert seen_at_sends == [(0, 0)] * count
    assert db[names.TRADES].count_documents({"status": "open"}) == count  # marked once all were sent
    for armed in results:
        assert isinstance(armed, Armed) and armed.ticket is not None
        assert armed.ticket.done.is_set() and armed.ticket.marked and armed.ticket.fill is not None


def test_a_part_that_fails_still_answers_and_marks_the_parts_sent_before_it(monkeypatch):
    sessions, desk = _sessions(ARMED_BATCH + 2, [+1])
    db, clock = sessions[0].db, sessions[0].clock
    assert isinstance(clock, ManualClock)
    real_check = desk._check
    calls: list[int] = []

    def check(batch: list[Ticket]) -> None:
        calls.append(len(batch))
        if len(calls) == 2:
            raise RuntimeError("the database went away")  # the second part: nothing of it written
        real_check(batch)

    monkeypatch.setattr(desk, "_check", check)
    results = _arm_all(desk, [_preparer(s, []) for s in sessions], GatedClock(clock, threading.Event()))
    answers = [a.ticket for a in results if isinstance(a, Armed) and a.ticket is not None]
    assert len(answers) == ARMED_BATCH + 2 and all(t.done.is_set() for t in answers)
    first, second = answers[:ARMED_BATCH], answers[ARMED_BATCH:]
    assert all(t.fill is not None and t.marked for t in first)
    assert all(t.fill is None and t.trade is None and isinstance(t.error, RuntimeError) for t in second)
    assert db[names.TRADES].count_documents({"status": "open"}) == ARMED_BATCH
    assert db[names.TRADES].count_documents({}) == ARMED_BATCH  # no intent of the failed part


def test_no_collection_runs_from_the_conductors_sleep_to_the_last_answer():
    sessions, desk = _sessions(2, [+1])
    clock = sessions[0].clock
    assert isinstance(clock, ManualClock)
    enabled_at_decisions: list[bool] = []

    def preparer(session: UserSession) -> Callable[[], Ticket | None]:
        def prepare() -> Ticket | None:
            enabled_at_decisions.append(gc.isenabled())
            return first_ticket(session.cycle_context(), _decision())

        return prepare

    class RecordingClock(GatedClock):
        """Notes, at each of the conductor's sleeps, when it began and whether the collector could run."""

        def __init__(self, clock: ManualClock, gate: threading.Event):
            super().__init__(clock, gate)
            self.sleeps: list[tuple[float, bool]] = []

        def sleep(self, seconds: float) -> None:
            self.sleeps.append((self.now(), gc.isenabled()))
            super().sleep(seconds)

    assert gc.isenabled()
    recording = RecordingClock(clock, threading.Event())
    results = _arm_all(desk, [preparer(s) for s in sessions], recording)
    assert enabled_at_decisions == [False, False]
    assert gc.isenabled()  # as it was, once the instant is answered
    # Held only for the last moments before the instant: instants closer together than a hold
    # would otherwise keep the collector off for good.
    hold_from = INSTANT - COLLECTOR_HOLD_WALL_SECONDS
    assert recording.sleeps and recording.sleeps[0][0] < hold_from
    assert all(enabled == (at < hold_from) for at, enabled in recording.sleeps)
    assert any(not enabled for _, enabled in recording.sleeps)
    assert all(isinstance(a, Armed) and a.ticket is not None and a.ticket.fill for a in results)


def test_a_sessions_ledger_checks_are_read_as_it_arms_and_none_on_the_desks_thread(monkeypatch):
    sessions, desk = _sessions(4, [+1])
    clock = sessions[0].clock
    assert isinstance(clock, ManualClock)
    clock.set(INSTANT - 30)
    for session in sessions:
        session.money = money(gales=1, stop_loss=50)  # so the session's net is read too
    reads: list[tuple[str, bool]] = []  # (what, on the desk's thread during its batch)
    deciding: set[int] = set()
    for name in ("is_blocked", "session_net_cents", "session_nets_cents", "session_net"):
        real = getattr(trades, name)

        def counted(*args: Any, _real: Any = real, _name: str = name) -> Any:
            reads.append((_name, threading.get_ident() in deciding))
            return _real(*args)

        monkeypatch.setattr(trades, name, counted)
    real_decide = desk._decide

    def decide(batch: list[Armed]) -> None:
        deciding.add(threading.get_ident())
        try:
            real_decide(batch)
        finally:
            deciding.discard(threading.get_ident())

    monkeypatch.setattr(desk, "_decide", decide)
    prechecked: dict[str, Precheck] = {}
    real_precheck = desk.precheck

    def precheck(ctx: cycle.CycleContext) -> Precheck:
        assert threading.get_ident() not in deciding
        prechecked[ctx.user_id] = answer = real_precheck(ctx)
        return answer

    monkeypatch.setattr(desk, "precheck", precheck)
    modes = [_Mode() for _ in sessions]
    results = _step_all(sessions, modes)
    assert results == [("ended", None)] * 4
    assert all(len(mode.decided_in) == 1 for mode in modes)
    assert not [r for r in reads if r[1]]  # the desk read nothing of the ledger for its batch
    # Each session read them itself as it armed, its net too (it has a stop loss).
    assert sorted(prechecked) == sorted(s.user_id for s in sessions)
    assert all(p.net_cents == 0 and not p.blocked for p in prechecked.values())
    for session, mode in zip(sessions, modes, strict=True):
        assert [o.result for o in mode.recorded] == ["win"]
        (trade,) = session.db[names.TRADES].find({"user": session.user_id})
        assert trade["status"] == "closed" and trade["decidedAt"] == INSTANT


def test_the_desk_answers_an_armed_entry_from_what_its_session_read_as_it_armed():
    sessions, desk = _sessions(3, [+1])
    db, clock = sessions[0].db, sessions[0].clock
    assert isinstance(clock, ManualClock)
    sessions[1].money = money(gales=1, stop_loss=10)
    prechecks = [
        Precheck(net_cents=None, blocked=False),
        Precheck(net_cents=-1000, blocked=False),  # lost R$ 10.00: the stop loss is reached
        Precheck(net_cents=None, blocked=True),  # an unresolved trade when it armed
    ]

    def prepare_for(session: UserSession, precheck: Precheck) -> Callable[[], Ticket | None]:
        return lambda: first_ticket(session.cycle_context(), _decision(), precheck)

    results = _arm_all(
        desk,
        [prepare_for(s, p) for s, p in zip(sessions, prechecks, strict=True)],
        GatedClock(clock, threading.Event()),
    )
    tickets = [r.ticket for r in results if isinstance(r, Armed)]
    assert len(tickets) == 3 and all(t is not None for t in tickets)
    verdicts = [t.verdict for t in tickets if t is not None]
    assert verdicts == [None, cycle.STOP_LOSS_REACHED, cycle.UNRESOLVED]
    placed = tickets[0]
    assert placed is not None and placed.fill is not None and placed.marked
    # The trade is built from the intent the desk wrote: the ledger's own document, as written.
    assert placed.trade is not None and placed.trade.id == placed.doc["_id"]  # type: ignore[index]
    assert placed.trade.status == "pending" and placed.trade.decidedAt == INSTANT
    assert [s.broker.attempts for s in sessions] == [1, 0, 0]  # type: ignore[union-attr]
    assert db[names.TRADES].count_documents({}) == 1


class _EarlyView:
    """The market as the desk reads it: ahead of the instant, and at it (unchanged unless `moved`)."""

    def __init__(self, moved: bool = False):
        self.moved = moved
        self.read_ahead: list[Any] = []
        self.decided_on: list[Any] = []

    def early(self, instant: float) -> Any:
        snap = SimpleNamespace(instant=instant)
        self.read_ahead.append(snap)
        return snap

    @contextmanager
    def deciding_early(self, snap: Any) -> Iterator[None]:
        self.decided_on.append(snap)
        yield

    def snapshot(self, instant: float) -> Any:
        return SimpleNamespace(instant=instant) if self.moved else self.read_ahead[-1]


def _ahead_and_prepare(
    session: UserSession,
    calls: list[tuple[str, str, float]],
    after_ahead: Callable[[str], None],
    at_instant: str = "put",
    fails_at_instant: bool = False,
    nothing_ahead: bool = False,
) -> tuple[Callable[[], Ticket | None], Decide]:
    """A session's two ways to decide: ahead ("call", or no order when `nothing_ahead`; handed over at
    the instant) or at it (`at_instant`; raising when `fails_at_instant`), with the ledger checks it
    read as it armed (OrderDesk.precheck), as UserSession._armed_step."""
    assert session.desk is not None
    ctx = session.cycle_context()
    precheck = session.desk.precheck(ctx)

    def ahead() -> Decided:
        calls.append(("ahead", session.user_id, session.clock.now()))
        ticket = None if nothing_ahead else first_ticket(ctx, _decision(), precheck)
        after_ahead(session.user_id)

        def hand_over() -> Ticket | None:
            calls.append(("hand_over", session.user_id, session.clock.now()))
            return ticket

        return Decided(ticket, hand_over)

    def prepare() -> Ticket | None:
        calls.append(("prepare", session.user_id, session.clock.now()))
        if fails_at_instant:
            raise ConnectionFailure("the signal list could not be read")
        decision = Decision("EURUSD", at_instant, 87, INSTANT, [{"o": 1.0, "c": 1.2}])
        return first_ticket(ctx, decision, precheck)

    return prepare, ahead


class _FirstIntentWrite:
    """The desk's database, where something happens at its first write of intents: `then()` once they
    are written, and with `lost_reply` the write fails as its reply is lost (after writing them when
    `lands`, or before)."""

    def __init__(
        self, db: Any, then: Callable[[], None] = lambda: None, lost_reply: bool = False, lands: bool = True
    ):
        self.db, self.then, self.lost_reply, self.lands = db, then, lost_reply, lands
        self.tried = False  # the first write of intents was made

    def __getattr__(self, name: str) -> Any:
        return getattr(self.db, name)

    def __getitem__(self, name: str) -> Any:
        collection = self.db[name]
        if name != names.TRADES:
            return collection
        outer = self

        class Trades:
            def __getattr__(self, attr: str) -> Any:
                return getattr(collection, attr)

            def insert_many(self, docs: list[dict[str, Any]], **kwargs: Any) -> Any:
                if outer.tried:
                    return collection.insert_many(docs, **kwargs)
                outer.tried = True
                if outer.lost_reply and not outer.lands:
                    raise AutoReconnect("connection reset: nothing was written")
                result = collection.insert_many(docs, **kwargs)
                outer.then()
                if outer.lost_reply:
                    raise AutoReconnect("connection reset: the write's reply was lost")
                return result

        return Trades()


def _arm_ahead(
    sessions: list[UserSession],
    view: _EarlyView,
    after_ahead: Callable[[str], None] = lambda user: None,
    speed: float = 1.0,
    desk_db: Callable[[Any], Any] = lambda db: db,
    at_instant: str = "put",
    failing: Collection[str] = (),
    nothing: Collection[str] = (),
) -> tuple[OrderDesk, list[Any], list[tuple[str, str, float]]]:
    db, clock = sessions[0].db, sessions[0].clock
    assert isinstance(clock, ManualClock)
    desk = OrderDesk(desk_db(db), embedded=True, view=view)
    for session in sessions:
        session.desk = desk
    gate = threading.Event()
    calls: list[tuple[str, str, float]] = []
    ways = [
        _ahead_and_prepare(s, calls, after_ahead, at_instant, s.user_id in failing, s.user_id in nothing)
        for s in sessions
    ]

    def all_armed_then_open() -> None:
        _wait_until_armed(desk, len(sessions))
        gate.set()

    results = in_threads(
        [partial(desk.arm, INSTANT, p, GatedClock(clock, gate, speed), ahead=a) for p, a in ways],
        all_armed_then_open,
    )
    return desk, results, calls


def test_entries_decided_ahead_on_a_market_that_stands_are_sent_at_the_instant_as_decided():
    sessions, _ = _sessions(4, [+1])
    db = sessions[0].db
    view = _EarlyView()
    desk, results, calls = _arm_ahead(sessions, view)
    assert len(view.read_ahead) == 1 and view.decided_on == view.read_ahead  # one read, decided on
    ahead = [c for c in calls if c[0] == "ahead"]
    assert len(ahead) == 4 and all(INSTANT - QUIET_BEFORE_SECONDS <= at < INSTANT for _, _, at in ahead)
    assert not [c for c in calls if c[0] == "prepare"]  # nothing decided again
    handed = [c for c in calls if c[0] == "hand_over"]
    assert len(handed) == 4 and all(at >= INSTANT for _, _, at in handed)
    assert desk.batches == 1 and desk.largest == 4
    for session, armed in zip(sessions, results, strict=True):
        assert isinstance(armed, Armed) and armed.error is None and armed.ticket is not None
        assert armed.ticket.fill is not None and armed.ticket.placed_at is not None
        # Its intent was written ahead, in the quiet seconds before the instant; its order went out at it.
        sent_at = armed.ticket.sent_at
        assert sent_at is not None and INSTANT - QUIET_BEFORE_SECONDS <= sent_at < INSTANT
        assert armed.ticket.ahead is True and armed.ticket.placed_at >= INSTANT
        (trade,) = db[names.TRADES].find({"user": session.user_id})
        assert trade["operacao"] == "call" and trade["decidedAt"] == INSTANT and trade["status"] == "open"
        assert trade["sentAt"] == sent_at and trade["_id"] == armed.ticket.doc["_id"]  # type: ignore[index]
        assert isinstance(session.broker, ScriptedBroker) and session.broker.attempts == 1


def test_entries_decided_ahead_into_an_order_are_handed_over_before_those_decided_into_none():
    # A signal list with nothing for this minute is read again at its hand-over: the orders go out first.
    sessions, _ = _sessions(6, [+1])
    nothing = [session.user_id for session in sessions[:3]]  # armed first
    desk, results, calls = _arm_ahead(sessions, _EarlyView(), nothing=nothing)
    handed = [user for what, user, _ in calls if what == "hand_over"]
    assert len(handed) == 6 and set(handed[3:]) == set(nothing)
    assert [armed.ticket is None for armed in results] == [True] * 3 + [False] * 3
    assert all(armed.ticket.fill is not None for armed in results[3:])


def test_on_a_fast_clock_the_entries_are_decided_ahead_from_the_quiet_windows_wall_floor():
    # At 60x 0.3 market seconds are 5 wall ms: the read ahead comes at the quiet window's start,
    # which lasts QUIET_BEFORE_WALL_SECONDS of wall time there (no candle write starts in it either).
    sessions, _ = _sessions(3, [+1])
    view = _EarlyView()
    desk, results, calls = _arm_ahead(sessions, view, speed=60.0)
    assert quiet_before(60.0) > QUIET_BEFORE_SECONDS
    ahead = [at for kind, _, at in calls if kind == "ahead"]
    assert len(ahead) == 3 and all(
        at == pytest.approx(INSTANT - quiet_before(60.0), abs=1e-6) for at in ahead
    )
    assert not [c for c in calls if c[0] == "prepare"] and desk.batches == 1
    assert all(isinstance(a, Armed) and a.ticket is not None and a.ticket.fill is not None for a in results)


def test_when_the_market_moved_after_the_read_ahead_every_entry_is_decided_again_at_the_instant():
    sessions, _ = _sessions(3, [+1])
    db = sessions[0].db
    desk, results, calls = _arm_ahead(sessions, _EarlyView(moved=True))
    assert len([c for c in calls if c[0] == "ahead"]) == 3
    assert not [c for c in calls if c[0] == "hand_over"]  # no decision made ahead is used
    prepared = [c for c in calls if c[0] == "prepare"]
    assert len(prepared) == 3 and all(at >= INSTANT for _, _, at in prepared)
    for session, armed in zip(sessions, results, strict=True):
        assert isinstance(armed, Armed) and armed.ticket is not None and armed.ticket.fill is not None
        # One order: the instant's decision. The intent written ahead for the early one is closed as
        # never sent, with no money, before the session was answered.
        placed, unsent = _trades_of(db, session.user_id)
        assert placed["operacao"] == "put" and placed["status"] == "open"
        assert unsent["operacao"] == "call"
        assert unsent["failure"] == "not sent: its entry was decided again at the instant"
        assert isinstance(session.broker, ScriptedBroker) and session.broker.attempts == 1


def test_an_entry_decided_again_into_the_same_order_sends_the_intent_written_ahead():
    # The market moved after the read ahead, but the instant's decision is the same order (the
    # forming candle moved, say): the intent written ahead is that order's, not a second row.
    sessions, _ = _sessions(3, [+1])
    db = sessions[0].db
    _, results, calls = _arm_ahead(sessions, _EarlyView(moved=True), at_instant="call")
    assert len([c for c in calls if c[0] == "prepare"]) == 3  # decided again, at the instant
    for session, armed in zip(sessions, results, strict=True):
        assert isinstance(armed, Armed) and armed.ticket is not None and armed.ticket.fill is not None
        assert armed.ticket.decision.candles == [{"o": 1.0, "c": 1.2}]  # the instant's decision
        (trade,) = db[names.TRADES].find({"user": session.user_id})
        assert trade["status"] == "open" and trade["operacao"] == "call" and trade["sentAt"] < INSTANT
        assert trade["_id"] == armed.ticket.doc["_id"] and trade["cycle"] == armed.ticket.cycle  # type: ignore[index]
        assert isinstance(session.broker, ScriptedBroker) and session.broker.attempts == 1


def _trades_of(db: Any, user_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A user's (placed, never sent) pair of trades: the second closed as failed, with no money."""
    rows = list(db[names.TRADES].find({"user": user_id}))
    unsent = [r for r in rows if r.get("failure", "").startswith("not sent")]
    placed = [r for r in rows if r not in unsent]
    assert len(placed) == 1 and len(unsent) == 1, rows
    assert unsent[0]["status"] == "closed" and unsent[0]["result"] == trades.FAILED
    assert unsent[0]["profit"] == 0 and unsent[0]["credited"] is True
    return placed[0], unsent[0]


def test_a_stop_pressed_after_the_decision_ahead_still_keeps_the_order_from_going_out():
    sessions, _ = _sessions(3, [+1])
    db = sessions[0].db
    stopped = sessions[1]

    def press_stop(user_id: str) -> None:  # as the conductor decides the entry ahead: before the instant
        if user_id == stopped.user_id:
            db[names.ACCOUNTS].update_one(
                {"_id": ObjectId(stopped.user_id)}, {"$set": {"glimpseStatus": "stopping"}}
            )

    _, results, calls = _arm_ahead(sessions, _EarlyView(), after_ahead=press_stop)
    assert len([c for c in calls if c[0] == "ahead"]) == 3
    assert len([c for c in calls if c[0] == "hand_over"]) == 3  # its decision stands, its check does not
    armed = results[1]
    assert isinstance(armed, Armed) and armed.ticket is not None
    assert armed.ticket.verdict == cycle.STOP_USER and armed.ticket.fill is None
    assert isinstance(stopped.broker, ScriptedBroker) and stopped.broker.attempts == 0
    # The Stop came before the intents were written ahead: the desk saw it then, and wrote none for it.
    assert db[names.TRADES].count_documents({"user": stopped.user_id}) == 0
    for i in (0, 2):
        other = results[i]
        assert isinstance(other, Armed) and other.ticket is not None and other.ticket.fill is not None


@pytest.mark.parametrize("lands", [True, False], ids=["written-after-all", "not-written"])
def test_an_intent_whose_write_ahead_lost_its_reply_is_written_once_and_sent_once(lands):
    # The reply of the write ahead is lost: the intents may be in the ledger or not. The instant's
    # write tries them again: meeting its own ids means they were written (not someone else's claim).
    sessions, _ = _sessions(3, [+1])
    db = sessions[0].db
    flaky: list[_FirstIntentWrite] = []

    def losing_replies(real: Any) -> _FirstIntentWrite:
        flaky.append(_FirstIntentWrite(real, lost_reply=True, lands=lands))
        return flaky[0]

    _, results, _ = _arm_ahead(sessions, _EarlyView(), desk_db=losing_replies)
    assert flaky[0].tried
    for session, armed in zip(sessions, results, strict=True):
        assert isinstance(armed, Armed) and armed.error is None and armed.ticket is not None
        assert armed.ticket.fill is not None and not armed.ticket.declined
        (trade,) = db[names.TRADES].find({"user": session.user_id})
        assert trade["status"] == "open" and trade["_id"] == armed.ticket.doc["_id"]  # type: ignore[index]
        assert isinstance(session.broker, ScriptedBroker) and session.broker.attempts == 1


def test_an_intent_written_ahead_of_a_batch_that_fails_is_closed_as_never_sent(monkeypatch):
    sessions, _ = _sessions(3, [+1])
    db = sessions[0].db

    real = OrderDesk._operating
    reads: list[int] = []

    def database_gone_at_the_instant(self: OrderDesk, batch: list[Ticket]) -> set[Ticket]:
        reads.append(len(batch))
        if len(reads) == 1:  # the read ahead, before the intents are written
            return real(self, batch)
        raise ConnectionFailure("the accounts could not be read")

    monkeypatch.setattr(OrderDesk, "_operating", database_gone_at_the_instant)
    _, results, _ = _arm_ahead(sessions, _EarlyView())
    for session, armed in zip(sessions, results, strict=True):
        assert isinstance(armed, Armed) and armed.ticket is not None
        assert isinstance(armed.ticket.error, ConnectionFailure) and armed.ticket.fill is None
        assert isinstance(session.broker, ScriptedBroker) and session.broker.attempts == 0
        (unsent,) = db[names.TRADES].find({"user": session.user_id})  # nothing left pending
        assert unsent["status"] == "closed" and unsent["result"] == trades.FAILED and unsent["profit"] == 0
        assert unsent["failure"] == "not sent: its batch failed before it was sent"
        # The session's cycle meets the batch's failure, as a failed write-ahead of its own: no order.
        with pytest.raises(ConnectionFailure):
            run_cycle(armed.ticket.ctx, armed.ticket.decision, armed.ticket)
        assert session.broker.attempts == 0
        assert db[names.TRADES].count_documents({"user": session.user_id, "status": "closed"}) == 1


def test_an_intent_written_ahead_whose_decision_fails_at_the_instant_is_closed_as_never_sent():
    sessions, _ = _sessions(3, [+1])
    db = sessions[0].db
    broken = sessions[1]
    # The market moved: every entry is decided again at the instant, and one decision raises there.
    _, results, _ = _arm_ahead(sessions, _EarlyView(moved=True), failing={broken.user_id})
    armed = results[1]
    assert isinstance(armed, Armed) and isinstance(armed.error, ConnectionFailure) and armed.ticket is None
    assert isinstance(broken.broker, ScriptedBroker) and broken.broker.attempts == 0
    (unsent,) = db[names.TRADES].find({"user": broken.user_id})
    assert unsent["status"] == "closed" and unsent["result"] == trades.FAILED and unsent["profit"] == 0
    assert unsent["failure"] == "not sent: its decision at the instant failed"
    for session in (sessions[0], sessions[2]):  # decided again ("put"): their "call" intents closed
        rows = {t["operacao"]: t for t in db[names.TRADES].find({"user": session.user_id})}
        assert rows["put"]["status"] == "open"
        assert rows["call"]["failure"] == "not sent: its entry was decided again at the instant"


def test_a_stop_pressed_after_the_intents_were_written_ahead_closes_its_intent_as_never_sent():
    sessions, _ = _sessions(3, [+1])
    db = sessions[0].db
    stopped = sessions[1]

    def press_stop() -> None:  # once the intents are written ahead, before the instant
        db[names.ACCOUNTS].update_one(
            {"_id": ObjectId(stopped.user_id)}, {"$set": {"glimpseStatus": "stopping"}}
        )

    _, results, _ = _arm_ahead(
        sessions, _EarlyView(), desk_db=lambda real: _FirstIntentWrite(real, press_stop)
    )
    armed = results[1]
    assert isinstance(armed, Armed) and armed.ticket is not None
    assert armed.ticket.verdict == cycle.STOP_USER and armed.ticket.fill is None
    assert isinstance(stopped.broker, ScriptedBroker) and stopped.broker.attempts == 0
    # Its intent, written ahead, is closed as never sent: nothing pending, no money moved.
    (unsent,) = db[names.TRADES].find({"user": stopped.user_id})
    assert unsent["status"] == "closed" and unsent["result"] == trades.FAILED and unsent["profit"] == 0
    assert unsent["failure"] == "not sent: its user stopped or left this server"
    for i in (0, 2):
        other = results[i]
        assert isinstance(other, Armed) and other.ticket is not None and other.ticket.fill is not None
