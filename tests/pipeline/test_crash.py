"""Crash test: an operational server process is killed with SIGKILL in the middle of an order, 5 times.

Every service runs as its own process, as in a distributed deployment: the
fake MongoDB server (tests/fakes/mongo_server.py) is the shared database,
and the lister, the candle streams, the assigner and two operational servers
(crash_a, crash_b) reach it through pymongo. They share one fast clock
(GLIMPSE_CLOCK_SPEED with one GLIMPSE_CLOCK_ANCHOR), anchored so that market
time starts on Monday 2024-06-03 10:00:05 in São Paulo, when the forex pairs
of collections/ActivesSchedule.json are open, and stays in that window for
the whole run.

Each round waits for the user's order to be open, kills the server process
that holds the user, and checks that the user is operating again on the
other server within lease + 5 wall seconds, and that the killed order ends
closed with one result. The killed server is then started again under its
name, so the next round has two servers too. At the end the user presses
Stop, and the ledger must show no doubled order, and the paper account's
balance must equal 10,000 + the ledger's net to the cent.

Process logs go to the test's tmp dir; their tails are printed on failure.
"""

from __future__ import annotations

import functools
import os
import select
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pymongo
import pytest
from bson import ObjectId

from glimpse.runtime.clock import FastClock
from glimpse.store import db as names
from glimpse.store.seed import seed_database
from tests.fakes.iq_launcher import stop_process
from tests.pipeline.bundle import MONDAY_MORNING, add_trader

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SPEED = 10.0
LEASE_SECONDS = 4
KILLS = 5
# Wall seconds after an order is placed at which each round's kill lands (a 1-minute order lasts ~6 wall s).
KILL_OFFSETS = (0.0, 1.0, 2.0, 3.0, 0.5)
# Rounds that wait (up to GALE_WAIT wall seconds) for a gale order to kill, after a loss.
GALE_ROUNDS = (2, 4)
GALE_WAIT = 45
SECRET_KEY = "crash-test-secret-key-" + "k" * 32
SERVICE_TOKEN = "crash-test-service-token"
EMAIL = "crash@example.com"
SERVERS = ("crash_a", "crash_b")
STARTING_CENTS = 1_000_000
STRATEGY = {
    "name": "Toda Vela",
    "nameKey": "toda vela",
    "sequence": "1",
    "operation": "call",
    "mirror": True,
    "createdBy": "Teste",
}
MONEY = {
    "money": 2,
    "gale": True,
    "galeCount": 2,
    "galeType": "dobro",
    "sobra": 1,
    "stopLoss": False,
    "stopLossValue": 0,
    "stopWin": False,
    "stopWinValue": 0,
}


def wait_for(condition: Callable[[], Any], wall_seconds: float, what: str, poll: float = 0.05) -> Any:
    deadline = time.monotonic() + wall_seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {wall_seconds:g} s waiting for {what}")
        time.sleep(poll)


class Processes:
    """The test's child processes, each logging to its own file; all of them end with the test."""

    def __init__(self, log_dir: Path, env: dict[str, str]):
        self.log_dir = log_dir
        self.env = env
        self.running: dict[str, subprocess.Popen] = {}
        self.logs: list[Path] = []
        self._starts: dict[str, int] = defaultdict(int)

    def start(self, key: str, args: list[str]) -> subprocess.Popen:
        self._starts[key] += 1
        log = self.log_dir / f"{key}.{self._starts[key]}.log"
        self.logs.append(log)
        with open(log, "w") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", *args], cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        self.running[key] = process
        return process

    def kill(self, key: str) -> None:
        process = self.running.pop(key)
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    def stop_all(self) -> None:
        for process in self.running.values():
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 10
        for process in self.running.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        self.running.clear()

    def tails(self, lines: int = 40) -> str:
        out = []
        for log in self.logs:
            text = log.read_text(errors="replace").splitlines() if log.exists() else []
            out.append(f"----- {log.name} (last {lines} of {len(text)} lines) -----")
            out.extend(text[-lines:])
        return "\n".join(out)


def start_mongo(log_dir: Path) -> tuple[subprocess.Popen, int]:
    errors = open(log_dir / "mongo_server.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.mongo_server", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=errors,
        text=True,
    )
    errors.close()
    deadline = time.monotonic() + 30
    stdout = process.stdout
    assert stdout is not None
    while time.monotonic() < deadline:
        ready, _, _ = select.select([stdout], [], [], 0.2)
        if ready:
            line = stdout.readline()
            if line.startswith("listening on "):
                return process, int(line.split()[-1])
            break
        if process.poll() is not None:
            break
    process.kill()
    process.wait(10)
    raise AssertionError(
        f"the fake MongoDB server did not start: {(log_dir / 'mongo_server.log').read_text()[-2000:]}"
    )


def shared_anchor(speed: float, market_start: float) -> float:
    """The wall epoch A for which A + (now − A) × speed = market_start at this instant."""
    now = time.time()
    return (speed * now - market_start) / (speed - 1)


class Crash:
    """Reads of the shared database, for one user."""

    def __init__(self, db, user_id: ObjectId, clock: FastClock):
        self.db, self.user_id, self.uid, self.clock = db, user_id, str(user_id), clock

    def account(self) -> dict:
        return self.db[names.ACCOUNTS].find_one(
            {"_id": self.user_id}, {"glimpseStatus": 1, "server": 1, "iqPeriodProfit": 1, "iqPeriodLoss": 1}
        )

    def holder(self) -> str | None:
        """The server holding the user, when Servers and Accounts agree the user is operating on it."""
        account = self.account()
        server = self.db[names.SERVERS].find_one({"target": self.uid, "status": "operating"})
        if server and account["glimpseStatus"] == "operating" and account["server"] == server["name"]:
            return server["name"]
        return None

    def live(self, name: str) -> bool:
        doc = self.db[names.SERVERS].find_one({"name": name})
        return bool(doc) and self.clock.now() - doc.get("uptime", 0) < LEASE_SECONDS * SPEED

    def fresh_open_trade(self, server: str, seen: set, min_level: int = 0) -> dict | None:
        """An open order placed by `server` less than a wall second ago, at gale level `min_level` or more."""
        trade = self.db[names.TRADES].find_one(
            {"user": self.uid, "status": "open", "server": server, "galeLevel": {"$gte": min_level}}
        )
        if trade and trade["_id"] not in seen and self.clock.now() - trade["placedAt"] < SPEED:
            return trade
        return None

    def trades(self, query: dict | None = None) -> list[dict]:
        return list(self.db[names.TRADES].find({"user": self.uid, **(query or {})}).sort("decidedAt", 1))

    def wall_of(self, market_time: float) -> float:
        """The wall epoch at which the shared clock reads `market_time`."""
        anchor = self.clock._anchor
        assert anchor is not None
        return anchor + (market_time - anchor) / SPEED


def holder_among(crash: Crash, names_: list[str]) -> str | None:
    """The live server among `names_` that holds the user, if one does."""
    h = crash.holder()
    return h if h in names_ and h is not None and crash.live(h) else None


def closed_trade(db: Any, trade_id: ObjectId) -> dict | None:
    trade = db[names.TRADES].find_one({"_id": trade_id})
    return trade if trade is not None and trade["status"] == "closed" else None


def test_servers_killed_mid_order_lose_and_double_nothing(tmp_path):
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    mongo, port = start_mongo(log_dir)
    uri = f"mongodb://127.0.0.1:{port}"
    anchor = shared_anchor(SPEED, MONDAY_MORNING)
    clock = FastClock(SPEED, anchor=anchor)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLIMPSE_")}
    env.update(
        GLIMPSE_MONGO_URI=uri,
        GLIMPSE_SECRET_KEY=SECRET_KEY,
        GLIMPSE_SERVICE_TOKEN=SERVICE_TOKEN,
        GLIMPSE_CLOCK_SPEED=str(SPEED),
        GLIMPSE_CLOCK_ANCHOR=repr(anchor),
        GLIMPSE_LEASE_SECONDS=str(LEASE_SECONDS),
        GLIMPSE_BROKER="paper",
        PYTHONUNBUFFERED="1",
    )
    processes = Processes(log_dir, env)
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
        uri, serverSelectionTimeoutMS=5000, tz_aware=True
    )
    report: list[str] = []
    try:
        db = client["Glimpse"]
        seed_database(db)
        user_id = add_trader(db, SECRET_KEY, clock.now(), EMAIL, MONEY, STRATEGY)
        crash = Crash(db, user_id, clock)

        for module in ("auxiliar.lister", "auxiliar.candles_starter", "auxiliar.server_assigner"):
            processes.start(module.split(".")[-1], [module])
        for name in SERVERS:
            processes.start(name, ["operational_server", "--name", name])
        wait_for(lambda: all(crash.live(n) for n in SERVERS), 60, "both operational servers to beat")

        # Start, as the app does it.
        db[names.ACCOUNTS].update_one(
            {"_id": user_id, "glimpseStatus": "off"},
            {"$set": {"glimpseStatus": "waiting", "waitingSince": clock.now()}},
        )
        killed: set = set()
        for round_, offset in enumerate(KILL_OFFSETS[:KILLS], start=1):
            holder = wait_for(crash.holder, 60, f"round {round_}: the user operating on a server")
            trade = None
            if round_ in GALE_ROUNDS:  # kill a gale order when one comes: the cycle must not go on elsewhere
                try:
                    trade = wait_for(
                        functools.partial(crash.fresh_open_trade, holder, killed, 1),
                        GALE_WAIT,
                        f"round {round_}: a gale order",
                    )
                except AssertionError:
                    report.append(
                        f"round {round_}: no gale order within {GALE_WAIT} s; killing the next order instead"
                    )
            if trade is None:
                trade = wait_for(
                    functools.partial(crash.fresh_open_trade, holder, killed),
                    90,
                    f"round {round_}: an open order on {holder}",
                )
            # Kill `offset` wall seconds into the order (deadlines in wall time: the clock runs SPEED times faster).
            time.sleep(max(0.0, crash.wall_of(trade["placedAt"]) + offset - time.time()))
            assert crash.holder() == holder, (
                f"round {round_}: {holder} no longer holds the user before the kill"
            )
            processes.kill(holder)
            killed_at = time.monotonic()
            in_flight = crash.trades({"status": {"$in": ["pending", "open"]}})
            assert [t["status"] for t in in_flight] == ["open"], (
                f"round {round_}: the kill did not land in the middle of an order: {in_flight}"
            )
            victim = in_flight[0]
            killed.add(victim["_id"])

            # Reassigned: operating on another live server within lease + 5 wall seconds.
            others = [n for n in SERVERS if n != holder]
            new_holder = wait_for(
                functools.partial(holder_among, crash, others),
                LEASE_SECONDS + 5,
                f"round {round_}: the user operating again on {others} after {holder} was killed",
                poll=0.02,
            )
            took = time.monotonic() - killed_at
            # The killed order: closed once, with its result, by the server that took over.
            settled = wait_for(
                functools.partial(closed_trade, db, victim["_id"]),
                30,
                f"round {round_}: the killed order {victim['_id']} to settle",
            )
            assert settled["result"] in ("win", "loss", "doji") and settled["profit"] is not None
            assert settled["brokerOrderId"] == victim["brokerOrderId"]
            report.append(
                f"round {round_}: killed {holder} {offset:.1f} s into order {victim['brokerOrderId']} "
                f"(level {victim['galeLevel']}); {new_holder} operating {took:.2f} s later; order settled {settled['result']} {settled['profit'] / 100:+.2f}"
            )
            # The killed server comes back under its name, so the next round has two servers again.
            processes.start(holder, ["operational_server", "--name", holder])
            wait_for(functools.partial(crash.live, holder), 60, f"round {round_}: {holder} to beat again")

        # Stop, as the app does it: the order in flight settles, then the user is off.
        wait_for(crash.holder, 60, "the user operating before Stop")
        db[names.ACCOUNTS].update_one(
            {"_id": user_id, "glimpseStatus": "operating"}, {"$set": {"glimpseStatus": "stopping"}}
        )
        wait_for(lambda: crash.account()["glimpseStatus"] == "off", 60, "the user to be off after Stop")

        trades = crash.trades()
        assert all(t["status"] == "closed" for t in trades), [t for t in trades if t["status"] != "closed"]
        assert killed <= {t["_id"] for t in trades} and len(killed) == KILLS
        order_ids = [t["brokerOrderId"] for t in trades if t["brokerOrderId"] is not None]
        assert len(order_ids) == len(set(order_ids)), "an order id appears twice in the ledger"
        # A cycle places each gale level once; a doji repeats its level.
        by_cycle: dict[str, list[dict]] = defaultdict(list)
        for t in trades:
            by_cycle[t["cycle"]].append(t)
        for cycle, cycle_trades in by_cycle.items():
            decisive = [t["galeLevel"] for t in cycle_trades if t["result"] != "doji"]
            assert len(decisive) == len(set(decisive)), f"cycle {cycle} has a level twice: {cycle_trades}"
            assert len({t["server"] for t in cycle_trades}) == 1, (
                f"cycle {cycle} was continued by another server"
            )
        # Money: the paper account moved by exactly the ledger's net, and so did the user's figures.
        assert all(type(t["profit"]) is int and type(t["amount"]) is int for t in trades)  # integer cents
        net = Decimal(sum(t["profit"] for t in trades)) / 100
        paper = db[names.PAPER_BALANCES].find_one({"_id": EMAIL})
        assert paper is not None
        assert paper["open"] == []
        assert paper["cents"]["PRACTICE"] == STARTING_CENTS + int(net * 100)
        settled_ids = [record["id"] for record in paper["settled"]]
        assert sorted(settled_ids) == sorted(order_ids)  # every broker order once, nothing the ledger lacks
        account = crash.account()
        assert Decimal(account["iqPeriodProfit"] - account["iqPeriodLoss"]) / 100 == net
        # Operations shows every order the broker took, with its result; and the hand-overs did not
        # cut the Glimpse session: one log and one "started" alert from Start to Stop.
        logs = list(db[names.OPERATIONS].find({"user": crash.uid}))
        logged = {
            o["trade"]: o["p"]
            for log in logs
            for c in log["operations"]
            for o in c["operacoes"]
            if o.get("trade")
        }
        assert logged == {str(t["_id"]): t["profit"] for t in trades if t["brokerOrderId"] is not None}
        assert len(logs) == 1
        titles = [a["title"] for a in (db[names.ACCOUNTS].find_one({"_id": user_id}) or {}).get("alerts", [])]
        assert titles.count("Glimpse Iniciou.") == 1, titles
        servers = {
            d["name"]: (d["status"], d["target"])
            for d in db[names.SERVERS].find({"name": {"$in": list(SERVERS)}})
        }
        assert servers == {name: ("waiting", "") for name in SERVERS}
        crashed = [log.name for log in processes.logs if "Traceback" in log.read_text(errors="replace")]
        assert crashed == [], f"unexpected failures logged by {crashed}"
        report.append(
            f"{len(trades)} orders in {len(by_cycle)} cycles, net {net:+.2f}; paper balance {paper['cents']['PRACTICE'] / 100:.2f}"
        )
        print("\n".join(report))
    except BaseException:
        print("\n".join(report))
        print(processes.tails())
        raise
    finally:
        processes.stop_all()
        client.close()
        stop_process(mongo)
