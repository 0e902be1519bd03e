"""Faults of the IQ Option connection (issue 10, F1 and F4), on the fake IQ Option server.

The operational servers trade through the iqoption adapter (the real client
library) against tests/fakes/iq_server.py; its switches make the buy reply
late, drop every socket as a buy executes, or drop them with an order open
or while idle. One user, two servers; three trials per scenario.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any

import pytest
from bson import ObjectId

from tests.fakes import iq_server
from tests.faults.harness import Cluster, User, wait_for

pytestmark = pytest.mark.slow

TRIALS = 3
BUY_REPLY_DELAY = 7.0
SETTLE_DELAY = 1.0  # wall seconds from a buy to its option-closed (the cluster's fake runs so)


def _orders(cluster: Cluster, user: User) -> list[dict[str, Any]]:
    return [o for o in iq_server.state(cluster.iq_url)["orders"] if o["email"] == user.email]


def _buys_sent(cluster: Cluster) -> int:
    return int(iq_server.state(cluster.iq_url)["received"].get("sendMessage binary-options.open-option", 0))


def _more_orders(cluster: Cluster, user: User, before: int) -> bool:
    return len(_orders(cluster, user)) > before


def _new_open_order(cluster: Cluster, user: User, seen: set[int]) -> bool:
    return any(o["status"] == "open" and o["id"] not in seen for o in _orders(cluster, user))


def _idle_after(cluster: Cluster, user: User, known: set[ObjectId]) -> bool:
    """An order not in `known` has come and settled, and no other is running."""
    return (
        cluster.trading_since(user, known)
        and not cluster.trades(user, {"status": {"$ne": "closed"}})
        and all(o["status"] == "closed" for o in _orders(cluster, user))
    )


def test_a_buy_reply_7_seconds_late_loses_no_order(tmp_path):
    with Cluster(tmp_path, broker="iqoption", users=1, servers=2) as cluster:
        user = cluster.accounts[0]
        for trial in range(1, TRIALS + 1):
            label = f"buy reply 7 s late #{trial}"
            if cluster.operating_holder(user, label) is None:
                break
            before = len(_orders(cluster, user))
            iq_server.control(cluster.iq_url, buy_reply_delay=BUY_REPLY_DELAY)
            # The order executes at the broker when its late reply goes out.
            wait_for(partial(_more_orders, cluster, user, before), 30, f"{label}: the late order")
            iq_server.control(cluster.iq_url, buy_reply_delay=0.05)
            cluster.note(f"{label}: the broker executed the order {BUY_REPLY_DELAY:g} s after the buy")
            cluster.resumed(user, label)
        violations = cluster.finish()
    assert violations == [], "\n".join(violations)


def test_a_socket_drop_during_a_buy_loses_no_order(tmp_path):
    with Cluster(tmp_path, broker="iqoption", users=1, servers=2) as cluster:
        user = cluster.accounts[0]
        for trial in range(1, TRIALS + 1):
            label = f"socket drop during a buy #{trial}"
            if cluster.operating_holder(user, label) is None:
                break
            iq_server.control(cluster.iq_url, drop_on_buy=True)
            # The fake clears the switch when it has executed a buy and dropped the sockets.
            wait_for(
                lambda: not iq_server.state(cluster.iq_url)["switches"]["drop_on_buy"],
                30,
                f"{label}: the drop",
            )
            cluster.note(f"{label}: the order executed and every socket dropped before its reply")
            cluster.resumed(user, label)
        violations = cluster.finish()
    assert violations == [], "\n".join(violations)


def test_a_socket_drop_with_an_order_open_loses_no_result(tmp_path):
    with Cluster(tmp_path, broker="iqoption", users=1, servers=2) as cluster:
        user = cluster.accounts[0]
        # Orders stay open long enough to be caught open (they still settle well before expiry).
        iq_server.control(cluster.iq_url, settle_delay=4.0)
        for trial in range(1, TRIALS + 1):
            label = f"socket drop with an order open #{trial}"
            if cluster.operating_holder(user, label) is None:
                break
            seen = {o["id"] for o in _orders(cluster, user)}
            wait_for(
                partial(_new_open_order, cluster, user, seen),
                30,
                f"{label}: an open order",
            )
            time.sleep(0.5)  # the buy reply is in: the session is waiting for the result
            dropped = iq_server.drop(cluster.iq_url)
            cluster.note(f"{label}: {dropped} sockets dropped")
            cluster.resumed(user, label)
        iq_server.control(cluster.iq_url, settle_delay=SETTLE_DELAY)
        violations = cluster.finish()
    assert violations == [], "\n".join(violations)


def test_a_socket_drop_while_idle_leaves_no_user_stuck(tmp_path):
    with Cluster(tmp_path, broker="iqoption", users=1, servers=2) as cluster:
        user = cluster.accounts[0]
        for trial in range(1, TRIALS + 1):
            label = f"socket drop while idle #{trial}"
            if cluster.operating_holder(user, label) is None:
                break
            known = cluster.trade_ids()
            # Idle: an order of this trial has come and settled, and no other is running.
            wait_for(
                partial(_idle_after, cluster, user, known),
                30,
                f"{label}: the user idle between orders",
            )
            dropped = iq_server.drop(cluster.iq_url)
            cluster.note(f"{label}: {dropped} sockets dropped")
            cluster.resumed(user, label)
        violations = cluster.finish()
    assert violations == [], "\n".join(violations)
