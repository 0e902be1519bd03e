"""A session starting up waits out the quiet time around a decision instant before its steps, as the
background services do: hundreds starting on a fast clock took the interpreter from the desk's instant."""

from __future__ import annotations

import threading

import pytest

from glimpse.runtime.clock import ManualClock
from glimpse.runtime.config import load_config
from glimpse.runtime.services import ServiceContext
from glimpse.store import db as names
from glimpse.store.accounts import new_account
from glimpse.store.db import new_embedded_database
from operational_server.market_view import MarketView
from operational_server.session import ServerIdentity, UserSession
from operational_server.watch import PoolWatch
from tests.pipeline.test_cycle_rules import START, money


class QuietWatch:
    """A pool watch whose first `quiet` answers are inside the quiet time (0.25 wall s left)."""

    def __init__(self, quiet: int):
        self.quiet = quiet
        self.asked = 0

    def quiet_left(self) -> float:
        self.asked += 1
        return 0.25 if self.asked <= self.quiet else 0.0

    after_quiet_time = PoolWatch.after_quiet_time  # the pool's own wait, on these answers


class Waits(threading.Event):
    """A stop event that records how long the session waited on it (never set)."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float | None] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout)
        return False


def _starting(watch: QuietWatch, stop: Waits) -> UserSession:
    config = load_config({"GLIMPSE_SECRET_KEY": "k" * 40}).with_(password_hash_profile="test")
    db = new_embedded_database()
    doc = new_account("Ana Silva", "ana@example.com", "$argon2id$x", START, premium_days=10)
    doc.update(glimpseStatus="starting", server="s1", strategySettings=money())
    user_id = str(db[names.ACCOUNTS].insert_one(doc).inserted_id)
    ctx = ServiceContext(config=config, db=db, clock=ManualClock(START))
    return UserSession(ctx, ServerIdentity("s1", "i1"), user_id, MarketView(db), stop, watch=watch)


@pytest.mark.parametrize("quiet, waited", [(1, [0.25]), (0, [])])
def test_a_session_starting_in_the_quiet_time_connects_its_broker_only_once_it_is_over(
    monkeypatch, quiet, waited
):
    watch, stop = QuietWatch(quiet), Waits()
    session = _starting(watch, stop)
    seen = []

    def connect() -> tuple[bool, str]:
        seen.append(list(stop.waits))  # what the session had waited when it connected
        return False, "refused"

    monkeypatch.setattr(session, "_connect", connect)
    reason, _ = session._run()
    assert reason == "connect_failed"
    assert seen == [waited]
