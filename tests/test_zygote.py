"""The pre-fork parent (glimpse/runtime/zygote.py) and `python -m operational_server --zygote N`.

Unit level: a zygote whose children are trivial functions forks each of
them, forks a killed one again, and stops them all on SIGTERM.

Service level (slow): the fault harness's cluster (fake MongoDB, fake IQ
Option server, lister, candle streams, assigner) with its operational
servers run as one `--zygote` process: every child logs its user in to the
fake IQ Option server and trades; a killed child is forked again and its
user trades again; SIGTERM to the parent ends every child.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from functools import partial
from pathlib import Path

import pytest

from glimpse.runtime.zygote import Slot, Zygote
from tests.fakes import iq_server
from tests.faults.harness import ROOT, Cluster, wait_for


def children_of(pid: int) -> set[int]:
    """The live (not zombie) child processes of `pid`, from /proc."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(entry))
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# --- the zygote on its own ---------------------------------------------------------------------

TOY = textwrap.dedent(
    """
    import json, logging, os, sys, time
    from glimpse.runtime.zygote import Zygote

    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    out = sys.argv[1]
    preloaded = []

    def preload():
        preloaded.append(os.getpid())

    def child(name):
        # What a child sees: the parent's preload, its own pid, SIGTERM at default (it ends the child).
        with open(os.path.join(out, f"{name}.{os.getpid()}"), "w") as f:
            json.dump({"preloaded_by": preloaded, "parent": os.getppid()}, f)
        while True:
            time.sleep(0.1)

    sys.exit(Zygote(["a", "b", "c"], child, preload=preload, backoff=0.2, stop_timeout=10).run())
    """
)


def _toy(tmp_path: Path) -> subprocess.Popen:
    script = tmp_path / "toy.py"
    script.write_text(TOY)
    with open(tmp_path / "toy.log", "w") as log:
        return subprocess.Popen([sys.executable, str(script), str(tmp_path)], cwd=ROOT, stderr=log)


def _started(tmp_path: Path) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for path in tmp_path.iterdir():
        name, _, pid = path.name.partition(".")
        if pid.isdigit():
            found.setdefault(name, []).append(int(pid))
    return found


def test_the_zygote_forks_each_child_restarts_a_killed_one_and_stops_all_on_sigterm(tmp_path):
    parent = _toy(tmp_path)
    try:
        started = wait_for(lambda: len(_started(tmp_path)) == 3 and _started(tmp_path), 30, "three children")
        first = {name: pids[0] for name, pids in started.items()}
        assert children_of(parent.pid) == set(first.values())
        # Each child ran after the parent's preload, in the parent's process: it shares its pages.
        for name, pid in first.items():
            text = (tmp_path / f"{name}.{pid}").read_text()
            assert f'"preloaded_by": [{parent.pid}]' in text and f'"parent": {parent.pid}' in text

        os.kill(first["b"], signal.SIGKILL)
        again = wait_for(
            lambda: len(_started(tmp_path).get("b", [])) == 2 and _started(tmp_path), 30, "b again"
        )
        second_b = [pid for pid in again["b"] if pid != first["b"]][0]
        assert children_of(parent.pid) == {first["a"], second_b, first["c"]}
        assert "child b died (killed by signal 9)" in (tmp_path / "toy.log").read_text()

        parent.send_signal(signal.SIGTERM)
        assert parent.wait(30) == 0
        assert not any(alive(pid) for pid in (first["a"], second_b, first["c"]))
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(10)


def test_a_child_that_keeps_dying_waits_longer_each_time_and_afresh_after_running_well():
    zygote = Zygote(["x"], lambda name: 0, backoff=1.0, max_backoff=4.0, healthy_after=60.0)
    slot = zygote.slots[0]
    delays = []
    for _ in range(5):
        slot.started_at = time.monotonic()
        zygote._died(slot, 3)
        assert slot.restart_at is not None
        delays.append(round(slot.restart_at - time.monotonic()))
    assert delays == [1, 2, 4, 4, 4]
    assert slot.exits == [3] * 5
    slot.started_at = time.monotonic() - 61  # this one ran for a minute: back to the first back-off
    zygote._died(slot, -9)
    assert slot.restart_at is not None and round(slot.restart_at - time.monotonic()) == 1


def test_a_stopping_zygote_forks_nothing_again():
    zygote = Zygote(["x"], lambda name: 0)
    zygote._stopping = True
    slot: Slot = zygote.slots[0]
    zygote._died(slot, 1)
    assert slot.restart_at is None


def test_child_names_are_unique_and_present():
    with pytest.raises(ValueError):
        Zygote([], lambda name: 0)
    with pytest.raises(ValueError):
        Zygote(["a", "a"], lambda name: 0)


def test_after_fork_gives_a_child_its_own_iq_option_slot_and_fresh_library_globals(monkeypatch):
    from glimpse.market import iqoption

    iqoption.preload()
    import iqoptionapi.global_value as global_value

    monkeypatch.setattr(iqoption, "_slot_owner", object())
    monkeypatch.setattr(iqoption, "_library_stuck", True)
    monkeypatch.setattr(global_value, "SSID", "the parent's session")
    monkeypatch.setattr(global_value, "balance_id", 1004)
    monkeypatch.setattr(global_value, "check_websocket_if_connect", 1)
    slot = iqoption._slot
    monkeypatch.setattr(iqoption, "_slot", slot)  # restored after the test, as the lock below
    monkeypatch.setattr(iqoption, "_patch_lock", iqoption._patch_lock)
    iqoption.after_fork()
    assert iqoption._slot_owner is None and iqoption._library_stuck is False
    assert iqoption._slot is not slot  # a lock another thread held at the fork would stay held
    assert global_value.SSID is None and global_value.balance_id is None
    assert global_value.check_websocket_if_connect is None


# --- operational servers from a zygote, on the fake IQ Option server ---------------------------


class ZygoteCluster(Cluster):
    """The fault harness's cluster with its servers forked by one `operational_server --zygote`."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.server_names = [f"zyg_{i:02d}" for i in range(1, self.servers + 1)]

    def start_server(self, name: str) -> subprocess.Popen:
        assert self.processes is not None
        if name != self.server_names[0] and "zygote" in self.processes.running:
            return self.processes.running["zygote"]
        self.processes.env, env = self.server_env, self.processes.env
        try:
            return self.processes.start(
                "zygote", ["operational_server", "--zygote", str(self.servers), "--prefix", "zyg_"]
            )
        finally:
            self.processes.env = env


def _settled_trades(cluster: Cluster, user) -> int:
    return len(cluster.trades(user, {"status": "closed", "result": {"$in": ["win", "loss", "doji"]}}))


@pytest.mark.slow
def test_zygote_children_trade_on_iq_option_a_killed_one_comes_back_and_sigterm_ends_all(tmp_path):
    with ZygoteCluster(tmp_path, broker="iqoption", users=2, servers=2) as cluster:
        zygote = cluster.processes.running["zygote"]  # type: ignore[union-attr]
        children = wait_for(
            lambda: len(children_of(zygote.pid)) == 2 and children_of(zygote.pid), 30, "2 children"
        )
        # Each user is served by its own child, logged in to the fake IQ Option server, and trades.
        for user in cluster.accounts:
            wait_for(partial(lambda u: _settled_trades(cluster, u) >= 1, user), 60, f"{user.email} trading")
        at_broker = {order["email"] for order in iq_server.state(cluster.iq_url)["orders"]}
        assert at_broker >= {user.email for user in cluster.accounts}
        victim = next(iter(children))
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: len(children_of(zygote.pid)) == 2 and victim not in children_of(zygote.pid), 30,
                 "the killed child forked again")  # fmt: skip
        replacement = (children_of(zygote.pid) - children).pop()
        wait_for(lambda: all(cluster.live(n) for n in cluster.server_names), 60, "every server beating again")
        known = cluster.trade_ids()
        for user in cluster.accounts:
            wait_for(partial(cluster.trading_since, user, known), 90, f"{user.email} trading after the kill")

        survivors = children_of(zygote.pid)
        assert replacement in survivors
        zygote.send_signal(signal.SIGTERM)
        assert zygote.wait(60) == 0
        assert not any(alive(pid) for pid in survivors)
