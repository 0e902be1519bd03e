"""Signal-list sessions arm with the order desk, as strategy sessions do.

At the instant the desk's one thread decides for them too: it reads the user's list (one
query for every signal session of the process, made at the instant), picks the signal of
the coming minute and sends its entry with every other session's. Nothing is written on the
desk's thread: the rows the decision skipped are written by the session's own thread once
the desk has answered. These tests cover what that adds to arming (test_desk_arming.py):
who decides and when, who writes and when, a signal removed or a Stop pressed after arming,
a shutdown while armed, a failing decision, the end of the list, and the one read per instant.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from bson import ObjectId

from glimpse.rules.timing import coming_minute
from glimpse.runtime.clock import ManualClock
from glimpse.store import db as names
from glimpse.store import signals
from glimpse.store.db import new_embedded_database
from operational_server import cycle
from operational_server.desk import Armed, OrderDesk, Ticket
from operational_server.market_view import MarketView
from operational_server.modes import SignalsMode
from operational_server.session import UserSession
from tests.pipeline.test_cycle_rules import ScriptedBroker
from tests.pipeline.test_desk import _sessions, in_threads
from tests.pipeline.test_desk_arming import INSTANT, GatedClock, _Mode

Step = tuple[str, dict | None] | None


class _Counted:
    """The Signals collection, counting the reads made of it (and when, on the sessions' clock)."""

    def __init__(self, collection: Any, counter: _CountingDb):
        self._collection, self._counter = collection, counter

    def find(self, *args: Any, **kwargs: Any) -> Any:
        self._counter.count()
        return self._collection.find(*args, **kwargs)

    def find_one(self, *args: Any, **kwargs: Any) -> Any:
        self._counter.count()
        return self._collection.find_one(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._collection, name)


class _CountingDb:
    """The embedded database, with the Signals collection's reads counted."""

    def __init__(self, db: Any):
        self._db = db
        self.clock: ManualClock | None = None  # the sessions' clock, once they have one
        self.reads: list[float | None] = []

    def count(self) -> None:
        self.reads.append(None if self.clock is None else self.clock.now())

    def __getitem__(self, name: str) -> Any:
        collection = self._db[name]
        return _Counted(collection, self) if name == names.SIGNALS else collection

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


def _minute(offset: int, session: UserSession) -> str:
    """ "HH:MM" of the minute `offset` minutes from the one INSTANT decides (0: due at INSTANT)."""
    return coming_minute(INSTANT + 60 * offset, session.config.zone)


def _row(sid: str, hora: str, ativo: str = "EURUSD") -> dict[str, Any]:
    return {"id": sid, "status": "active", "ativo": ativo, "hora": hora, "operacao": "call", "resultado": ""}


@pytest.fixture
def modes() -> Iterator[list[SignalsMode]]:
    """The signal modes a test opens, closed after it (they register with the process's list memo)."""
    opened: list[SignalsMode] = []
    yield opened
    for mode in opened:
        mode.close()


def _setup(count: int, db: Any = None) -> tuple[list[UserSession], OrderDesk, ManualClock]:
    """`count` sessions sharing a desk, on a manual clock already within the arming lead (so no
    session thread moves the clock before all have armed: the gate decides when the instant comes)."""
    sessions, desk = _sessions(count, [+1], db=db)
    clock = sessions[0].clock
    assert isinstance(clock, ManualClock)
    clock.set(INSTANT - 0.1)
    # The lister's open-pairs list, fresh at the instant: EURUSD open, GBPUSD closed.
    sessions[0].db[names.OPENED_ACTIVES].insert_many(
        [
            {"ativo": "EURUSD", "open": "True", "payout": 87, "updatedAt": INSTANT},
            {"ativo": "GBPUSD", "open": "False", "payout": 0, "updatedAt": INSTANT},
        ]
    )
    return sessions, desk, clock


def _signal_mode(session: UserSession, rows: list[dict[str, Any]], opened: list[SignalsMode]) -> SignalsMode:
    """The session's user trades this signal list (in signals mode)."""
    session.db[names.ACCOUNTS].update_one({"_id": ObjectId(session.user_id)}, {"$set": {"mode": "signals"}})
    session.db[names.SIGNALS].insert_one({"user": session.user_id, "signals": rows, "type": "user"})
    mode = SignalsMode(session, session.reload_user() or session.user)
    opened.append(mode)
    return mode


def _rows(session: UserSession) -> dict[str, tuple[str, str]]:
    """{id: (status, resultado)} of the user's stored list."""
    doc = session.db[names.SIGNALS].find_one({"user": session.user_id})
    return {r["id"]: (r["status"], r["resultado"]) for r in doc["signals"]}


def _trace_decisions(mode: Any, clock: ManualClock, log: list[tuple[int, float]]) -> None:
    decide = mode.decide

    def traced(instant: float) -> Any:
        log.append((threading.get_ident(), clock.now()))
        return decide(instant)

    mode.decide = traced


def _gate_the_instant(
    monkeypatch: pytest.MonkeyPatch, desk: OrderDesk, before_arming: Callable[[], None] = lambda: None
) -> tuple[list[float], Callable[[int], None]]:
    """Sessions arm on a clock the conductor may move past the instant only once all have armed.

    Returns the instants armed, and what opens the gate once `count` entries are armed.
    """
    gate = threading.Event()
    armed: list[float] = []
    real_arm = desk.arm

    def arm(instant: float, prepare: Callable[[], Ticket | None], clk: Any, **kw: Any) -> Armed:
        armed.append(instant)
        before_arming()
        return real_arm(instant, prepare, GatedClock(clk, gate), **kw)

    monkeypatch.setattr(desk, "arm", arm)

    def open_when_armed(count: int) -> None:
        for _ in range(3000):
            with desk._lock:
                if len(desk._armed.get(INSTANT, ())) >= count:
                    break
            time.sleep(0.01)
        gate.set()

    return armed, open_when_armed


def _step_together(
    sessions: list[UserSession], modes: list[Any], while_running: Callable[[], None] = lambda: None
) -> tuple[list[Any], list[int]]:
    """Each session's `_step` in a thread of its own: the results, and the thread of each session."""
    threads = [0] * len(sessions)

    def step(i: int) -> Callable[[], Step]:
        def run() -> Step:
            threads[i] = threading.get_ident()
            return sessions[i]._step(modes[i])

        return run

    return in_threads([step(i) for i in range(len(sessions))], while_running), threads


def test_signal_sessions_are_decided_with_strategy_sessions_by_one_thread_at_the_instant(monkeypatch, modes):
    sessions, desk, clock = _setup(6)
    deciders: list[tuple[int, float]] = []
    all_modes: list[Any] = []
    for i, session in enumerate(sessions):
        if i % 2:
            mode: Any = _signal_mode(session, [_row(f"s{i}", _minute(0, session))], modes)
        else:
            mode = _Mode()  # a strategy-like mode: decides from the market alone
        _trace_decisions(mode, clock, deciders)
        all_modes.append(mode)
    armed, open_gate = _gate_the_instant(monkeypatch, desk)
    results, _ = _step_together(sessions, all_modes, lambda: open_gate(6))
    assert results == [None] * 6  # a cycle each, and the sessions go on
    assert armed == [INSTANT] * 6  # every session, signal lists too, armed instead of deciding itself
    assert len(deciders) == 6 and len({thread for thread, _ in deciders}) == 1  # one thread decided all
    assert all(at >= INSTANT for _, at in deciders)  # at the instant
    assert desk.batches == 1 and desk.largest == 6  # their entries went out as one batch
    for i, session in enumerate(sessions):
        assert isinstance(session.broker, ScriptedBroker) and session.broker.attempts == 1
        (trade,) = session.db[names.TRADES].find({"user": session.user_id})
        assert trade["decidedAt"] == INSTANT and trade["status"] == "closed" and trade["result"] == "win"
        if i % 2:
            assert trade["ativo"] == "EURUSD" and _rows(session) == {f"s{i}": ("result", "win")}


def test_skipped_rows_are_written_by_the_session_thread_after_the_desk_answered(monkeypatch, modes):
    sessions, desk, _ = _setup(2)
    signal_session = sessions[1]
    rows = [
        _row("past", _minute(-1, signal_session)),  # its minute went by (during a cycle, say)
        _row("closed", _minute(0, signal_session), ativo="GBPUSD"),  # due, on a closed pair
        _row("due", _minute(0, signal_session)),
        _row("twin", _minute(0, signal_session)),  # due as well: one signal a minute is traded
        _row("later", _minute(2, signal_session)),
    ]
    mode = _signal_mode(signal_session, rows, modes)
    deciding = threading.Event()
    real_decide = desk._decide

    def decide(batch: list[Armed]) -> None:
        deciding.set()
        try:
            real_decide(batch)
        finally:
            deciding.clear()

    monkeypatch.setattr(desk, "_decide", decide)
    writes: list[tuple[str, str, int, bool, int]] = []
    real_record = signals.record_result

    def record_result(db: Any, user: str, signal_id: str, resultado: str) -> bool:
        orders = db[names.TRADES].count_documents({"user": user})
        writes.append((signal_id, resultado, threading.get_ident(), deciding.is_set(), orders))
        return real_record(db, user, signal_id, resultado)

    monkeypatch.setattr(signals, "record_result", record_result)
    _, open_gate = _gate_the_instant(monkeypatch, desk)
    results, threads = _step_together(sessions, [_Mode(), mode], lambda: open_gate(2))
    assert results == [None, None]
    assert _rows(signal_session) == {
        "past": ("result", "skipped"),
        "closed": ("result", "skipped"),
        "due": ("result", "win"),
        "twin": ("result", "skipped"),
        "later": ("active", ""),
    }
    assert sorted(w[0] for w in writes) == ["closed", "due", "past", "twin"]  # each row written once
    for _signal, _result, thread, while_deciding, orders in writes:
        assert thread == threads[1]  # the signal session's own thread
        assert not while_deciding  # never while the desk decides
        assert orders == 1  # the entry was in the ledger (sent) before any of the writes
    (trade,) = signal_session.db[names.TRADES].find({"user": signal_session.user_id})
    assert trade["status"] == "closed" and trade["ativo"] == "EURUSD"


def test_a_signal_removed_after_arming_is_not_traded(monkeypatch, modes):
    sessions, desk, _ = _setup(1)
    session = sessions[0]
    mode = _signal_mode(
        session, [_row("due", _minute(0, session)), _row("later", _minute(2, session))], modes
    )

    def remove_the_due_signal() -> None:  # the user edits the list after the session armed
        signals.replace(
            session.db, session.user_id, [signals.Signal("later", "EURUSD", _minute(2, session), "call")]
        )

    _, open_gate = _gate_the_instant(monkeypatch, desk, remove_the_due_signal)
    results, _ = _step_together([session], [mode], lambda: open_gate(1))
    assert results == [None]  # nothing due any more; a signal still to come
    assert isinstance(session.broker, ScriptedBroker) and session.broker.attempts == 0
    assert session.db[names.TRADES].count_documents({"user": session.user_id}) == 0
    assert _rows(session) == {"later": ("active", "")}


def test_a_stop_after_arming_gets_no_order_and_leaves_the_signal_untraded(monkeypatch, modes):
    sessions, desk, _ = _setup(2)
    stopped = sessions[0]
    stopped_mode = _signal_mode(stopped, [_row("a", _minute(0, stopped))], modes)
    other_mode = _signal_mode(sessions[1], [_row("b", _minute(0, sessions[1]))], modes)

    def press_stop() -> None:
        stopped.db[names.ACCOUNTS].update_one(
            {"_id": ObjectId(stopped.user_id)}, {"$set": {"glimpseStatus": "stopping"}}
        )

    _, open_gate = _gate_the_instant(monkeypatch, desk)

    def stop_then_open() -> None:
        for _ in range(3000):  # both armed (their checks made), then the Stop
            with desk._lock:
                if len(desk._armed.get(INSTANT, ())) >= 2:
                    break
            time.sleep(0.01)
        press_stop()
        open_gate(2)

    results, _ = _step_together(sessions, [stopped_mode, other_mode], stop_then_open)
    reason, alert = results[0]
    assert reason == cycle.STOP_USER and alert is not None
    assert isinstance(stopped.broker, ScriptedBroker) and stopped.broker.attempts == 0
    assert stopped.db[names.TRADES].count_documents({"user": stopped.user_id}) == 0
    assert _rows(stopped) == {"a": ("active", "")}  # not traded, not written
    assert results[1] is None and _rows(sessions[1]) == {"b": ("result", "win")}


def test_a_signal_session_shut_down_while_armed_reads_and_writes_nothing(monkeypatch, modes):
    counting = _CountingDb(new_embedded_database())
    sessions, desk, _ = _setup(1, db=counting)
    session = sessions[0]
    mode = _signal_mode(
        session, [_row("due", _minute(0, session)), _row("past", _minute(-1, session))], modes
    )
    real_arm = desk.arm

    def arm_then_shut_down(
        instant: float, prepare: Callable[[], Ticket | None], clk: Any, **kw: Any
    ) -> Armed:
        session.stop_event.set()
        return real_arm(instant, prepare, clk, **kw)

    monkeypatch.setattr(desk, "arm", arm_then_shut_down)
    reads_before = len(counting.reads)
    results, _ = _step_together([session], [mode])
    assert results == [(cycle.SHUTDOWN, None)]
    assert len(counting.reads) == reads_before and desk.batches == 0
    assert isinstance(session.broker, ScriptedBroker) and session.broker.attempts == 0
    assert _rows(session) == {"due": ("active", ""), "past": ("active", "")}


def test_a_signal_decision_that_raises_fails_only_its_own_session(monkeypatch, modes):
    sessions, desk, _ = _setup(3)
    all_modes = [_signal_mode(s, [_row(f"s{i}", _minute(0, s))], modes) for i, s in enumerate(sessions)]

    def broken(instant: float) -> Any:
        raise RuntimeError("this list is broken")

    monkeypatch.setattr(all_modes[1], "decide", broken)
    _, open_gate = _gate_the_instant(monkeypatch, desk)
    results, _ = _step_together(sessions, all_modes, lambda: open_gate(3))
    assert isinstance(results[1], RuntimeError)
    assert isinstance(sessions[1].broker, ScriptedBroker) and sessions[1].broker.attempts == 0
    for i in (0, 2):
        assert results[i] is None and _rows(sessions[i]) == {f"s{i}": ("result", "win")}


@pytest.mark.parametrize("through_the_desk", [True, False])
def test_an_exhausted_list_ends_the_session_with_signals_done(monkeypatch, modes, through_the_desk):
    sessions, desk, _ = _setup(1)
    session = sessions[0]
    if not through_the_desk:
        session.desk = None  # the one-by-one path: decided in the session's own thread, as ever
    mode = _signal_mode(session, [_row("past", _minute(-1, session))], modes)
    if through_the_desk:
        armed, open_gate = _gate_the_instant(monkeypatch, desk)
        results, _ = _step_together([session], [mode], lambda: open_gate(1))
        assert armed == [INSTANT]
    else:
        results, _ = _step_together([session], [mode])
    reason, alert = results[0]
    assert reason == "signals_done" and alert is not None
    assert alert["title"] == "Lista de sinais encerrada." and alert["type"] == "info"
    assert _rows(session) == {"past": ("result", "skipped")}  # its minute went by untraded
    assert isinstance(session.broker, ScriptedBroker) and session.broker.attempts == 0


def test_one_list_query_per_instant_for_all_signal_sessions(monkeypatch, modes):
    counting = _CountingDb(new_embedded_database())
    sessions, desk, clock = _setup(5, db=counting)
    counting.clock = clock
    all_modes = [
        _signal_mode(s, [_row(f"s{i}", _minute(0, s)), _row(f"p{i}", _minute(-1, s))], modes)
        for i, s in enumerate(sessions)
    ]
    reads_before = len(counting.reads)
    _, open_gate = _gate_the_instant(monkeypatch, desk)
    results, _ = _step_together(sessions, all_modes, lambda: open_gate(5))
    assert results == [None] * 5
    reads = counting.reads[reads_before:]
    assert len(reads) == 1  # five sessions' lists, one query (a find_one each would be five)
    assert reads[0] is not None and reads[0] >= INSTANT  # made at the instant, never ahead of it
    for i, session in enumerate(sessions):
        assert _rows(session) == {f"s{i}": ("result", "win"), f"p{i}": ("result", "skipped")}


class _TwoGates:
    """The sessions' manual clock, moved by the conductor up to the instant (ahead of it: its decisions
    ahead) once `armed` opens, and to the instant only once `instant` opens."""

    def __init__(self, clock: ManualClock):
        self.clock, self.armed, self.instant = clock, threading.Event(), threading.Event()

    def now(self) -> float:
        return self.clock.now()

    def sleep(self, seconds: float) -> None:
        gate = self.instant if self.clock.now() + seconds >= INSTANT else self.armed
        assert gate.wait(30), "the gate never opened"
        self.clock.advance(seconds)


def _deciding_ahead(
    monkeypatch: pytest.MonkeyPatch, sessions: list[UserSession], desk: OrderDesk, clock: ManualClock
) -> _TwoGates:
    """The sessions decide on one market view, which the desk reads ahead of the instant; they arm
    half a second before it, and the gates say when the conductor moves on."""
    view = MarketView(sessions[0].db)
    for session in sessions:
        session.market = view
    desk.view = view
    clock.set(INSTANT - 0.5)
    gates = _TwoGates(clock)
    real_arm = desk.arm

    def arm(instant: float, prepare: Callable[[], Ticket | None], clk: Any, **kw: Any) -> Armed:
        return real_arm(instant, prepare, gates, **kw)

    monkeypatch.setattr(desk, "arm", arm)
    return gates


def _wait_for(condition: Callable[[], bool]) -> None:
    for _ in range(3000):
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError("never happened")


def test_signal_entries_are_decided_ahead_and_sent_at_the_instant_when_their_lists_stand(monkeypatch, modes):
    counting = _CountingDb(new_embedded_database())
    sessions, desk, clock = _setup(2, db=counting)
    counting.clock = clock
    gates = _deciding_ahead(monkeypatch, sessions, desk, clock)
    deciders: list[tuple[int, float]] = []
    all_modes = []
    for i, session in enumerate(sessions):
        mode = _signal_mode(session, [_row(f"s{i}", _minute(0, session))], modes)
        _trace_decisions(mode, clock, deciders)
        all_modes.append(mode)
    reads_before = len(counting.reads)

    def open_the_gates() -> None:
        _wait_for(lambda: len(desk._armed.get(INSTANT, ())) == 2)
        gates.armed.set()
        _wait_for(lambda: len(deciders) == 2)
        gates.instant.set()

    results, _ = _step_together(sessions, all_modes, open_the_gates)
    assert results == [None, None]
    assert len(deciders) == 2 and all(at < INSTANT for _, at in deciders)  # decided ahead, once each
    # One read of the lists ahead of the instant, and one at it (the lists the decisions stand on).
    reads = counting.reads[reads_before:]
    assert len(reads) == 2 and reads[0] is not None and reads[0] < INSTANT <= (reads[1] or 0)
    for i, session in enumerate(sessions):
        assert isinstance(session.broker, ScriptedBroker) and session.broker.attempts == 1
        (trade,) = session.db[names.TRADES].find({"user": session.user_id})
        assert trade["decidedAt"] == INSTANT and trade["result"] == "win"
        # Its intent was written ahead of the instant, its order sent at it.
        assert trade["sentAt"] < INSTANT <= trade["placedAt"]
        assert _rows(session) == {f"s{i}": ("result", "win")}


def test_a_signal_removed_after_the_decision_ahead_is_not_traded(monkeypatch, modes):
    sessions, desk, clock = _setup(1)
    session = sessions[0]
    gates = _deciding_ahead(monkeypatch, sessions, desk, clock)
    mode = _signal_mode(
        session, [_row("due", _minute(0, session)), _row("later", _minute(2, session))], modes
    )
    deciders: list[tuple[int, float]] = []
    _trace_decisions(mode, clock, deciders)

    def remove_once_decided_ahead() -> None:
        _wait_for(lambda: len(desk._armed.get(INSTANT, ())) == 1)
        gates.armed.set()
        _wait_for(lambda: len(deciders) == 1)  # decided ahead on the list with the due signal
        signals.replace(
            session.db, session.user_id, [signals.Signal("later", "EURUSD", _minute(2, session), "call")]
        )
        gates.instant.set()

    results, _ = _step_together([session], [mode], remove_once_decided_ahead)
    assert results == [None]
    assert len(deciders) == 2 and deciders[0][1] < INSTANT <= deciders[1][1]  # decided again at the instant
    assert isinstance(session.broker, ScriptedBroker) and session.broker.attempts == 0
    # The intent written ahead for the removed signal is closed as never sent: no money, nothing pending.
    (unsent,) = session.db[names.TRADES].find({"user": session.user_id})
    assert unsent["status"] == "closed" and unsent["result"] == "failed" and unsent["profit"] == 0
    assert unsent["failure"] == "not sent: its entry was decided again at the instant"
    assert _rows(session) == {"later": ("active", "")}
