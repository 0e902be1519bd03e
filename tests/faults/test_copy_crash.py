"""A follower's server killed mid-cycle by a trap in the database (issue 15: copy across a crash).

One cluster (the fault harness: every service its own process, the fake
MongoDB server, the paper broker) runs a leader trading its strategy and a
follower in copy mode, each on a server of its own, with a spare server. The
trap kills the server holding the follower at the instant one write of its
copy is applied, three times for each point of the copy's path:

* "intent": the copy's pending trade, written ahead of the buy (its claim);
* "buy": the paper broker's buy of the copy, before it is marked open.

After every kill the follower must trade again on another server within
lease + 10 s and two of the leader's minutes (it trades when the leader does), and at the end the harness's invariants hold for both users
(the broker's orders equal the ledger's, none missing, none doubled, each
with one final result, the money to the cent), and the ledger links each
copy to its leader trade: the same pair and direction, decided at the
leader's instant, under the copy's deterministic key, once per leader trade.
"""

from __future__ import annotations

import time
from collections import Counter
from functools import partial
from typing import Any

import pytest

from glimpse.store import copying, trades
from glimpse.store import db as names
from tests.faults.harness import MONEY, RECOVERY_SECONDS, SPEED, Cluster, User, wait_for

pytestmark = pytest.mark.slow

TRIALS = 3
FOLLOWER_RECOVERY_SECONDS = RECOVERY_SECONDS + 2 * 60 / SPEED


class CopyCluster(Cluster):
    """The harness's cluster with its first user as a followable leader and its second copying it."""

    def _new_user(self, email: str) -> User:
        user = super()._new_user(email)
        assert self.clock is not None
        now = self.clock.now()
        if not self.accounts:
            # No gales for the leader: a new entry to copy every minute.
            self.db[names.ACCOUNTS].update_one(
                {"_id": user.id}, {"$set": {"strategySettings": {**MONEY, "gale": False, "galeCount": 0}}}
            )
            copying.opt_in(self.db, user.uid, "Leader", now)
            copying.approve(self.db, user.uid, True, now)
        else:
            self.db[names.ACCOUNTS].update_one({"_id": user.id}, {"$set": {"mode": "copy"}})
            choice = copying.Follow(user.uid, self.accounts[0].uid, copying.MULTIPLIER, since=now)
            copying.follow(self.db, choice)
        return user


def _intent(follower: User) -> tuple[str, dict]:
    return names.TRADES, {"op": "insert", "doc.user": follower.uid, "doc.copies": {"$type": "string"},
                          "doc.galeLevel": 0}  # fmt: skip


def _buy(follower: User) -> tuple[str, dict]:
    # The paper broker's buy: the stake taken and the order pushed to the account's open orders.
    return names.PAPER_BALANCES, {"q._id": follower.email, "u.push.open": {"$exists": True}}


def _kill_trials(cluster: Cluster, label: str, trap: Any) -> None:
    follower = cluster.accounts[1]
    for trial in range(1, TRIALS + 1):
        holder = cluster.operating_holder(follower, f"{label} #{trial}")
        if holder is None:
            return
        expected = len(cluster.fired()) + 1  # counted before arming: the trap may fire at once
        collection, filter_ = trap(follower)
        cluster.arm(collection=collection, filter=filter_, action="kill", pid=cluster.pid(holder))
        wait_for(partial(_fired, cluster, expected), 90, f"{label} #{trial}: the trap to fire")
        cluster.kill(holder)  # reaps it: the trap's SIGKILL already ended it
        cluster.note(f"{label} #{trial}: killed {holder}")
        _resumed(cluster, follower, f"{label} #{trial}")
        cluster.start_server(holder)
        wait_for(partial(cluster.live, holder), 60, f"{label} #{trial}: {holder} beating again")


def _resumed(cluster: Cluster, follower: User, what: str) -> None:
    """The harness's "trading again within lease + 10 s", plus two of the leader's minutes: a follower
    trades only when the leader enters again, and a copy that reaches its cycle after the candle began
    (a fresh session on a busy machine) is dropped, not placed late."""
    known, start = cluster.trade_ids(), time.monotonic()
    while time.monotonic() - start < FOLLOWER_RECOVERY_SECONDS:
        if cluster.trading_since(follower, known):
            cluster.note(f"{what}: {follower.email} trading again {time.monotonic() - start:.1f} s later")
            return
        time.sleep(0.05)
    account = cluster.account(follower)
    cluster.stuck.append(
        f"stuck follower: after {what}, not trading again within {FOLLOWER_RECOVERY_SECONDS:g} s "
        f"(status {account.get('glimpseStatus')!r} on {account.get('server')!r})"
    )


def _fired(cluster: Cluster, count: int) -> bool:
    return len(cluster.fired()) >= count


def copy_violations(cluster: Cluster) -> list[str]:
    """The ledger links each copy to its leader trade, once per leader trade."""
    leader, follower = cluster.accounts
    leads = {str(t["_id"]): t for t in cluster.trades(leader, {"galeLevel": 0})}
    mine = cluster.trades(follower)
    v: list[str] = []
    entries = [t for t in mine if t.get("galeLevel") == 0]
    for t in mine:
        lead = leads.get(str(t.get("copies")))
        if lead is None:
            v.append(f"unlinked copy: follower trade {t['_id']} copies {t.get('copies')!r}, no leader entry")
        elif (t["ativo"], t["operacao"]) != (lead["ativo"], lead["operacao"]):
            v.append(f"wrong copy: follower trade {t['_id']} is not {lead['ativo']} {lead['operacao']}")
    for t in entries:
        lead = leads.get(str(t.get("copies")))
        key = copying.copy_key(follower.uid, str(t.get("copies")))
        if lead is not None and t["decidedAt"] != lead["decidedAt"]:
            v.append(f"wrong copy: follower entry {t['_id']} decided at {t['decidedAt']}, not the leader's")
        if t.get("clientKey") != key or t["_id"] != trades.intent_id(key, t["decidedAt"]):
            v.append(f"copy without its key: follower entry {t['_id']}")
    doubled = [k for k, n in Counter(str(t.get("copies")) for t in entries).items() if n > 1]
    if doubled:
        v.append(f"doubled copy: leader entries {doubled} copied more than once")
    cluster.note(f"{follower.email}: {len(entries)} copied entries of {len(leads)} leader entries")
    return v


def test_a_follower_server_killed_mid_copy_neither_loses_nor_doubles_an_order(tmp_path):
    with CopyCluster(tmp_path, users=2, servers=3) as cluster:
        for label, trap in (("kill after the intent", _intent), ("kill after the buy", _buy)):
            _kill_trials(cluster, label, trap)
        follower = cluster.accounts[1]
        placed = [t for t in cluster.trades(follower) if t.get("brokerOrderId") is not None]
        violations = cluster.finish() + copy_violations(cluster)
    assert violations == [], "\n".join(violations)
    assert placed, "the follower placed no copy at all"
