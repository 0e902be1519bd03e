"""Outages on the paper broker (issue 10, F3 and F7): the database paused, its connections cut,
a server paused, the candle streams killed.

A fault that hits every user at once (the database, the candle streams) is
injected once over three trading users: three trials. A fault on one server
is injected three times in a row, each on the server holding the next user.
"""

from __future__ import annotations

import time

import pytest

from tests.fakes.tcp_proxy import pause
from tests.faults.harness import Cluster, wait_for

pytestmark = pytest.mark.slow

DATABASE_OUTAGE = 30.0  # wall seconds: a replica-set election is about 10-30 s without a primary
SERVER_PAUSE = 6.0
CANDLES_DOWN = 15.0


def _settle_in(cluster: Cluster) -> None:
    """Let every user get an order in, so the fault lands on users who are trading."""
    known = cluster.trade_ids()
    wait_for(lambda: all(cluster.trading_since(u, known) for u in cluster.accounts), 30, "every user trading")


def test_the_database_paused_for_30_seconds_leaves_no_user_stuck_and_loses_nothing(tmp_path):
    with Cluster(tmp_path, users=3, servers=4) as cluster:
        _settle_in(cluster)
        assert cluster.mongo is not None
        timer = pause(cluster.mongo.pid, DATABASE_OUTAGE)
        cluster.note(f"database paused for {DATABASE_OUTAGE:g} s")
        timer.join()
        cluster.resumed_all(cluster.accounts, "database paused 30 s")
        violations = cluster.finish()
    assert violations == [], "\n".join(violations)


def test_database_connections_cut_for_30_seconds_leave_no_user_stuck_and_lose_nothing(tmp_path):
    with Cluster(tmp_path, users=3, servers=4) as cluster:
        _settle_in(cluster)
        proxy = cluster.proxy
        assert proxy is not None
        reset = proxy.cut(DATABASE_OUTAGE)
        cluster.note(f"database connections cut for {DATABASE_OUTAGE:g} s ({reset} reset)")
        time.sleep(DATABASE_OUTAGE)
        wait_for(lambda: not proxy.is_cut, 5, "the cut to end")
        cluster.resumed_all(cluster.accounts, "connections cut 30 s")
        violations = cluster.finish()
    assert violations == [], "\n".join(violations)


def test_a_server_paused_for_6_seconds_leaves_no_user_stuck_and_loses_nothing(tmp_path):
    with Cluster(tmp_path, users=2, servers=3) as cluster:
        for trial in range(3):
            user = cluster.accounts[trial % len(cluster.accounts)]
            holder = cluster.operating_holder(user, f"pause #{trial + 1}")
            if holder is None:
                break
            pause(cluster.pid(holder), SERVER_PAUSE).join()
            cluster.note(
                f"server paused #{trial + 1}: {holder} (holding {user.email}) paused {SERVER_PAUSE:g} s"
            )
            cluster.resumed_all(cluster.accounts, f"server paused 6 s #{trial + 1}")
        violations = cluster.finish()
    assert violations == [], "\n".join(violations)


def test_the_candle_streams_killed_for_15_seconds_leave_no_user_stuck_and_lose_nothing(tmp_path):
    with Cluster(tmp_path, users=3, servers=3) as cluster:
        _settle_in(cluster)
        cluster.kill("candles_starter")
        cluster.note(f"candle streams killed for {CANDLES_DOWN:g} s")
        time.sleep(CANDLES_DOWN)
        cluster.start_aux("auxiliar.candles_starter")
        cluster.resumed_all(cluster.accounts, "candle streams killed 15 s")
        violations = cluster.finish()
    assert violations == [], "\n".join(violations)
