"""Servers killed by a trap in the database at the instant a chosen write is applied (issue 10, F1 and F5).

Each scenario runs 3 trials in one cluster: one user, two operational
servers; the trap kills the server holding the user, which is then started
again under its name so the next trial has two servers too.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest

from tests.faults.harness import STAKE_CENTS, Cluster, User, wait_for

pytestmark = pytest.mark.slow

TRIALS = 3


def _kill_trials(cluster: Cluster, label: str, trap: Any, wait: float = 60) -> None:
    """TRIALS times: arm `trap(user)` against the server holding the user, wait for it to fire,
    then check the user trades again within lease + 10 s, and start the killed server again."""
    user = cluster.accounts[0]
    for trial in range(1, TRIALS + 1):
        holder = cluster.operating_holder(user, f"{label} #{trial}")
        if holder is None:
            break
        collection, filter_ = trap(user)
        cluster.arm(collection=collection, filter=filter_, action="kill", pid=cluster.pid(holder))
        wait_for(partial(_fired, cluster, trial), wait, f"{label} #{trial}: the trap to fire")
        cluster.kill(holder)  # reaps it: the trap's SIGKILL already ended it
        cluster.note(f"{label} #{trial}: killed {holder}")
        cluster.resumed(user, f"{label} #{trial}")
        cluster.start_server(holder)
        wait_for(partial(cluster.live, holder), 60, f"{label} #{trial}: {holder} beating again")


def _fired(cluster: Cluster, count: int) -> bool:
    return len(cluster.fired()) >= count


def _buy(level0: bool):
    def trap(user: User) -> tuple[str, dict]:
        stake = STAKE_CENTS if level0 else {"$gt": STAKE_CENTS}
        # The paper broker's buy: the stake taken and the order pushed to the account's open orders.
        return "PaperBalances", {"q._id": user.email, "u.push.open.amountCents": stake}

    return trap


def _settle(user: User) -> tuple[str, dict]:
    # The ledger's settlement of a trade (any write that closes it with a result).
    return "Trades", {"op": {"$in": ["update", "findAndModify"]}, "u.set.status": "closed",
                      "u.set.result": {"$in": ["win", "loss", "doji"]}}  # fmt: skip


def test_a_kill_after_the_buy_and_before_it_is_marked_open_loses_no_order(tmp_path):
    with Cluster(tmp_path, users=1, servers=2) as cluster:
        _kill_trials(cluster, "kill after the buy, level 0", _buy(level0=True))
        violations = cluster.finish()
    assert violations == [], "\n".join(violations)


def test_a_kill_after_a_gale_buy_and_before_it_is_marked_open_loses_no_order(tmp_path):
    with Cluster(tmp_path, users=1, servers=2) as cluster:
        _kill_trials(cluster, "kill after the buy, gale", _buy(level0=False), wait=120)
        violations = cluster.finish()
    assert violations == [], "\n".join(violations)


def test_a_kill_after_settling_and_before_crediting_loses_no_result(tmp_path):
    with Cluster(tmp_path, users=1, servers=2) as cluster:
        _kill_trials(cluster, "kill after settling", _settle)
        violations = cluster.finish()
    assert violations == [], "\n".join(violations)
