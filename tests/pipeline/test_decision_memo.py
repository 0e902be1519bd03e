"""Strategy decisions shared by the sessions of one instant (modes.DECISIONS) are each session's own.

The order desk decides for every armed session from one snapshot; sessions whose choice has the
same inputs share one computation. Each shared decision must be exactly the one the session makes
alone: the sessions here differ in strategy (sequence and quadrant), pairs, payout rule and clock,
and every one's memoized decision is compared with its decision made afresh.
"""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auxiliar.candles_starter import CandleStreams
from auxiliar.lister import Lister
from glimpse.runtime.clock import ManualClock
from glimpse.runtime.config import load_config
from glimpse.runtime.services import ServiceContext
from glimpse.store import db as names
from glimpse.store import strategies
from glimpse.store.accounts import Account
from glimpse.store.db import new_embedded_database
from glimpse.store.seed import seed_database
from glimpse.store.strategies import StrategyDoc
from operational_server.market_view import MarketView
from operational_server.modes import DECISIONS, StrategyMode

START = 1_717_419_600.0  # Monday 2024-06-03 10:00 in São Paulo: the market is open
INSTANT = START + 4 * 60 + 58.5  # before minute 5: a quadrant entry minute (period 5, offset 0)

_STRATEGIES = [
    StrategyDoc(name="Uma", created_by="Teste", sequence="1", operation="call", mirror=True),
    StrategyDoc(name="Duas", created_by="Teste", sequence="-1,-1", operation="call", mirror=True),
    StrategyDoc(name="Duas B", created_by="Teste", sequence="-1,-1", operation="call", mirror=True),
    StrategyDoc(name="VV", created_by="Teste", sequence="1,-1", operation="put", mirror=False),
    StrategyDoc(name="MHI", created_by="Teste", sequence="1", operation="call", mirror=False,
                quadrant={"period": 5, "offset": 0, "candles": [2, 3, 4], "pick": "minority"}),
]  # fmt: skip


@pytest.fixture(scope="module")
def market():
    config = load_config({"GLIMPSE_SECRET_KEY": "k" * 40}).with_(password_hash_profile="test")
    db = new_embedded_database("DecisionMemo")
    seed_database(db)
    clock = ManualClock(INSTANT - 30)
    ctx = ServiceContext(config=config, db=db, clock=clock)
    lister, streams = Lister(ctx), CandleStreams(ctx)
    while clock.now() < INSTANT:
        lister.tick(clock.now())
        streams.tick(clock.now())
        clock.advance(1.0)
    # Some pairs' candles older than others, so the clock decides which are fresh.
    for i, doc in enumerate(db[names.REALTIME_CANDLES].find({}, {"ativo": 1})):
        db[names.REALTIME_CANDLES].update_one(
            {"_id": doc["_id"]}, {"$set": {"lastUpdated": INSTANT - 2 * (i % 5)}}
        )
    for strategy in _STRATEGIES:
        strategies.upsert_by_name(db, strategy)
    return SimpleNamespace(db=db, config=config, view=MarketView(db))


# Every combination: sessions that differ in one input only, so a key that left out an input would
# hand one of them the other's decision.
_USERS = [
    {"strategy": strategy.name, "actives": actives, "payout": payout, "late": late}
    for strategy in _STRATEGIES
    for actives in ["todos", "EURUSD,GBPUSD,USDJPY", ["AUDCAD", "GBPAUD"], "GBPAUD"]
    for payout in ["> 75", "> 90", "= 87", "> 60"]
    for late in [0.0, 0.5, 3.0, 6.0]  # the clock when this session decides: some pairs' candles are stale
]


@settings(max_examples=10, deadline=None)
@given(users=st.permutations(_USERS))
def test_a_shared_decision_is_the_one_each_session_makes_alone(market, users):
    modes = []
    for user in users:
        host = SimpleNamespace(
            db=market.db, config=market.config, market=market.view, user_id="u",
            clock=ManualClock(INSTANT + user["late"]),
            user=Account(strategy=user["strategy"], prefered_actives=user["actives"],
                         prefered_payout=user["payout"]),
        )  # fmt: skip
        modes.append(StrategyMode(host, host.user))
    DECISIONS.clear()
    shared = [mode.decide(INSTANT) for mode in modes]
    alone = []
    for mode in modes:
        DECISIONS.clear()
        alone.append(mode.decide(INSTANT))
    assert shared == alone
    assert len({(d.pair, d.direction) for d, _ in alone if d is not None}) > 1  # varied decisions
    assert any(d is None for d, _ in alone)  # and sessions with nothing to trade
    for mode in modes:
        mode.close()


def test_sessions_with_the_same_inputs_decide_once_and_each_gets_its_own_decision(market):
    calls: list[int] = []
    modes = []
    for i in range(20):
        # Each session reads its own clock a little later, as on a running clock: the same pairs are stale.
        host = SimpleNamespace(
            db=market.db, config=market.config, market=market.view, user_id="u",
            clock=ManualClock(INSTANT + 0.001 * i),
            user=Account(strategy="Uma", prefered_actives="todos", prefered_payout="> 75"),
        )  # fmt: skip
        mode = StrategyMode(host, host.user)
        best = mode._best

        def counted(*args, best=best):
            calls.append(1)
            return best(*args)

        mode._best = counted  # type: ignore[method-assign]
        modes.append(mode)
    DECISIONS.clear()
    results: list[tuple[Any, Any]] = []
    threads = [threading.Thread(target=lambda m=m: results.append(m.decide(INSTANT))) for m in modes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    decisions = [decision for decision, _ in results]
    assert len(decisions) == 20 and decisions[0] is not None
    assert 1 <= len(calls) < 20  # shared (two threads may both compute at once: they agree)
    assert all(d == decisions[0] for d in decisions)
    assert len({id(d) for d in decisions}) == 20 and len({id(d.candles) for d in decisions}) == 20
    for mode in modes:
        mode.close()
