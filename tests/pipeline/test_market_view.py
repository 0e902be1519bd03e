"""The market view: one read of the market per decision instant, shared by every session of the process."""

from __future__ import annotations

import threading

from hypothesis import given, settings
from hypothesis import strategies as st

from glimpse.rules.patterns import Strategy
from glimpse.store import db as names
from glimpse.store.db import new_embedded_database
from operational_server.market_view import MarketView, Snapshot

INSTANT = 1_717_419_600.0 + 58.5


def _view() -> tuple[MarketView, list[str]]:
    db = new_embedded_database()
    db[names.OPENED_ACTIVES].insert_one(
        {"ativo": "EURUSD", "open": "True", "payout": 87, "updatedAt": INSTANT}
    )
    candles = [{"o": 1.0, "c": 1.1 if i % 2 else 0.9, "from": INSTANT - 60 * (15 - i)} for i in range(15)]
    db[names.REALTIME_CANDLES].insert_one({"ativo": "EURUSD", "candles": candles, "lastUpdated": INSTANT})
    reads: list[str] = []
    view = MarketView(db)
    read = view._read

    def counted(instant: float):
        reads.append("read")
        return read(instant)

    view._read = counted  # type: ignore[method-assign]
    return view, reads


def test_many_sessions_at_one_instant_read_the_market_once():
    view, reads = _view()
    got = []
    threads = [threading.Thread(target=lambda: got.append(view.snapshot(INSTANT))) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert len(got) == 50 and all(s is got[0] for s in got)
    assert reads == ["read"]
    assert view.snapshot(INSTANT + 60) is not got[0] and reads == [
        "read",
        "read",
    ]  # a new instant reads again


def test_a_read_snapshot_and_its_matches_are_answered_while_another_thread_holds_the_lock():
    # The sessions of an instant read what is cached without queueing for the view's lock.
    view, _ = _view()
    strategy = Strategy.from_document({"sequence": "1", "operation": "call", "mirror": True})
    view.register(strategy)
    snap = view.snapshot(INSTANT)
    first = view.matches(snap, strategy, ["EURUSD"])
    answers: list[object] = []
    with view._lock:  # e.g. the session that reads the next instant
        reader = threading.Thread(
            target=lambda: answers.extend([view.snapshot(INSTANT), view.matches(snap, strategy, ["EURUSD"])])
        )
        reader.start()
        reader.join(timeout=5)
        assert not reader.is_alive()
    assert answers == [snap, first]
    assert view.matches(snap, strategy, []) == []  # the pairs the session allows still filter


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["EURUSD", "GBPUSD", "USDJPY", "AUDCAD"]),
            st.booleans(),
            st.one_of(st.none(), st.floats(990, 1010)),
        ),
        max_size=6,
    ),
    st.floats(990, 1030),
    st.one_of(st.none(), st.floats(0, 10)),
)
def test_a_snapshot_asked_many_times_says_what_its_data_says(rows, now, candle_bound):
    """The snapshot keeps what it derives from its data for every session; the verdict stays the rule's."""
    actives = [
        {"ativo": pair, "open": "True" if is_open else "False", "updatedAt": 1000.0}
        for pair, is_open, _ in rows
    ]
    updated = {pair: at for pair, _, at in rows if at is not None}
    snap = Snapshot(INSTANT, actives, [], {}, updated)
    open_pairs = [a["ativo"] for a in actives if a["open"] == "True"]
    fresh = (
        any(now - updated.get(pair, float("-inf")) <= candle_bound for pair in open_pairs)
        if candle_bound is not None
        else True
    )
    expected = (
        "open-pairs list stale" if actives and now - 1000.0 > 15
        else "candles stale" if open_pairs and not fresh
        else None
    )  # fmt: skip
    for _ in range(2):  # the second answer comes from what the first one kept
        assert snap.problem(now, 15, candle_bound) == expected


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(900, 1100), max_size=6),
    st.lists(st.tuples(st.floats(990, 1200), st.floats(0, 60)), min_size=1, max_size=4),
)
def test_which_pairs_are_stale_is_the_rules_answer_at_every_clock_reading(times, readings):
    """One snapshot asked at many `now`s: each pair stale exactly when the selection rule says so."""
    updated = {f"P{i}": at for i, at in enumerate(times)}
    snap = Snapshot(INSTANT, [], [], {}, updated)
    for now, bound in readings:
        rule = tuple(now - at > bound for at in updated.values())
        answer = snap.stale_pairs(now, bound)
        assert (answer if answer is not None else tuple(False for _ in updated)) == rule
        assert answer is None or any(answer)  # None stands for "none stale" only


def test_a_read_ahead_of_the_instant_is_the_instants_snapshot_only_while_the_data_is_the_same():
    view, reads = _view()
    early = view.early(INSTANT)
    # Read ahead, it is served to nobody: another thread asking before the instant reads the market.
    others: list[Snapshot] = []
    with view.deciding_early(early):
        assert view.snapshot(INSTANT) is early  # in the thread that decides ahead
        thread = threading.Thread(target=lambda: others.append(view.snapshot(INSTANT)))
        thread.start()
        thread.join(timeout=10)
    assert others and others[0] is early  # read at the instant, with the same data: the read ahead stands
    assert reads == ["read", "read"]

    # The next instant: a candle written between the read ahead and the instant's read.
    later = INSTANT + 60
    ahead = view.early(later)
    view.db[names.REALTIME_CANDLES].update_one({"ativo": "EURUSD"}, {"$set": {"lastUpdated": later - 0.1}})
    at_instant = view.snapshot(later)
    assert at_instant is not ahead and at_instant.updated["EURUSD"] == later - 0.1
    assert ahead.updated["EURUSD"] == INSTANT
    with view.deciding_early(ahead):
        assert view.snapshot(later) is ahead
    assert view.snapshot(later) is at_instant  # the block is over: the instant's snapshot again
