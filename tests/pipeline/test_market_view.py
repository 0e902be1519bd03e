"""The market view: one read of the market per decision instant, shared by every session of the process."""

from __future__ import annotations

import threading

from glimpse.rules.patterns import Strategy
from glimpse.store import db as names
from glimpse.store.db import new_embedded_database
from operational_server.market_view import MarketView

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
