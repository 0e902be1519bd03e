"""The fault-injection harness: the bundle's services as processes, a fault, and issue 10's invariants.

A `Cluster` runs, each as its own process, the fake MongoDB server, the
lister, the candle streams, the assigner and N operational servers, as in
a distributed deployment (tests/pipeline/test_crash.py does the same). The
services reach the database through a TcpProxy (tests/fakes/tcp_proxy.py),
so its connections can be cut; the test reads and arms traps on a direct
connection. Every process shares one fast clock (GLIMPSE_CLOCK_SPEED with one
GLIMPSE_CLOCK_ANCHOR) that starts on a Monday morning when the forex pairs
are open. The users trade the "Toda Vela" strategy (an order every minute)
with two gales and no stops, so orders keep coming.

On the IQ Option variant the operational servers trade through the
iqoption adapter against the fake IQ Option server (tests/fakes/iq_server.py);
the lister and the candle streams stay on the paper market, whose prices
the fake serves too.

`Cluster.finish()` presses Stop for every user and `Cluster.violations()`
then checks what issue 10's "Done when" asks after every fault:
* the broker's orders equal the ledger's: none missing, none doubled, and
  each with the broker's result;
* each trade has exactly one final result;
* the users' profit fields equal the ledger's sum to the cent (and the
  broker's balance moved by the same sum);
* Operations shows every order;
* no user is stuck: Stop ends in `off` within lease + 10 s (orders resuming
  within lease + 10 s after each fault is checked by `Cluster.resumed`);
* no "Você parou o Glimpse." alert that nobody asked for.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import pymongo
from bson import Decimal128, ObjectId

from glimpse.rules.money import cents
from glimpse.runtime.clock import FastClock
from glimpse.store import db as names
from glimpse.store.seed import seed_database
from tests.fakes import iq_server
from tests.fakes.iq_launcher import fake_iq_server, stop_process
from tests.fakes.tcp_proxy import TcpProxy
from tests.pipeline.bundle import MONDAY_MORNING, PAPER_PASSWORD, add_trader
from tests.pipeline.test_crash import MONEY, STRATEGY, Processes, shared_anchor, start_mongo

ROOT = Path(__file__).resolve().parents[2]
SPEED = 15.0
# The bots decide 10 market seconds before the minute ends (0.67 wall s at SPEED) instead of the
# default 1.5 (0.1 wall s): two cores running eight processes need that slack to place in time.
DECISION_SECOND = 50.0
LEASE_SECONDS = 4.0
# Issue 10: after a fault, a user is back (Stop done, or orders again) within lease + 10 wall seconds.
RECOVERY_SECONDS = LEASE_SECONDS + 10
SECRET_KEY = "fault-test-secret-key-" + "k" * 32
SERVICE_TOKEN = "fault-test-service-token"
IQ_PASSWORD = "fake-password"
PAPER_STARTING_CENTS = 1_000_000
IQ_STARTING = Decimal("10000.00")
FALSE_STOP = "Você parou o Glimpse."
# The crash test's strategy (a match every minute) and money plan (2, gales 4 and 8).
STAKE_CENTS = 200  # level 0 of MONEY; a gale entry is larger
AUX = ("auxiliar.lister", "auxiliar.candles_starter", "auxiliar.server_assigner")
FINAL_RESULTS = ("win", "loss", "doji", "failed", "not_placed")
SETTLED_RESULTS = ("win", "loss", "doji")
CENTS_UNIT = "cents"  # the moneyUnit marker of Trades and Operations documents stored in cents


def wait_for(condition: Callable[[], Any], wall_seconds: float, what: str, poll: float = 0.05) -> Any:
    deadline = time.monotonic() + wall_seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {wall_seconds:g} s waiting for {what}")
        time.sleep(poll)


def money(value: Any, in_cents: bool) -> Decimal | None:
    """A stored amount in reais: integer cents when `in_cents`, else reais (float, Decimal128),
    so the checks read documents written before and after money moved to cents."""
    if value is None or isinstance(value, str | bool):
        return None
    if isinstance(value, Decimal128):
        value = value.to_decimal()
    if in_cents:
        return Decimal(int(value)) / 100
    return cents(value)


def trade_profit(trade: dict) -> Decimal | None:
    return money(trade.get("profit"), trade.get("moneyUnit") == CENTS_UNIT)


def account_field(account: dict, name: str) -> Decimal:
    # Accounts' profit fields: integers are cents (as the ledger writes them), floats are old reais.
    value = account.get(name)
    return money(value, isinstance(value, int)) or Decimal(0)


@dataclass
class User:
    id: ObjectId
    email: str
    uid: str = ""
    stop_pressed_at: float | None = None  # market time of Stop, once pressed

    def __post_init__(self) -> None:
        self.uid = str(self.id)


@dataclass
class Cluster:
    tmp_path: Path
    broker: str = "paper"
    users: int = 2
    servers: int = 3
    lines: list[str] = field(default_factory=list)  # the report, printed with the result

    def __post_init__(self) -> None:
        self.log_dir = self.tmp_path / "logs"
        self.log_dir.mkdir(exist_ok=True)
        self.server_names = [f"fault_{i}" for i in range(1, self.servers + 1)]
        self.accounts: list[User] = []
        self.mongo: subprocess.Popen | None = None
        self.iq = ExitStack()  # the fake IQ Option server, on the iqoption variant
        self.iq_url = ""
        self.proxy: TcpProxy | None = None
        self.client: pymongo.MongoClient | None = None
        self.processes: Processes | None = None
        self.clock: FastClock | None = None
        self.recoveries: dict[str, list[float]] = {}
        self.started = time.monotonic()
        self.stuck: list[str] = []  # users not trading again within lease + 10 s of a fault

    def note(self, line: str) -> None:
        self.lines.append(f"[{time.monotonic() - self.started:6.1f} s] {line}")

    # --- start and stop -------------------------------------------------------------------------

    def __enter__(self) -> Cluster:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        print("\n".join(self.lines))
        if exc_type is not None and self.processes is not None:
            print(self.processes.tails(30))
        self.close()

    @property
    def db(self) -> Any:
        assert self.client is not None
        return self.client["Glimpse"]

    def start(self) -> None:
        self.mongo, port = start_mongo(self.log_dir)
        self.proxy = TcpProxy(("127.0.0.1", port)).start()
        anchor = shared_anchor(SPEED, MONDAY_MORNING)
        self.clock = FastClock(SPEED, anchor=anchor)
        env = {k: v for k, v in os.environ.items() if not k.startswith("GLIMPSE_")}
        env.update(
            GLIMPSE_MONGO_URI=f"mongodb://{self.proxy.address}",
            GLIMPSE_SECRET_KEY=SECRET_KEY,
            GLIMPSE_SERVICE_TOKEN=SERVICE_TOKEN,
            GLIMPSE_CLOCK_SPEED=str(SPEED),
            GLIMPSE_DECISION_SECOND=str(DECISION_SECOND),
            GLIMPSE_CLOCK_ANCHOR=repr(anchor),
            GLIMPSE_LEASE_SECONDS=str(int(LEASE_SECONDS)),
            GLIMPSE_BROKER="paper",
            PYTHONUNBUFFERED="1",
        )
        self.processes = Processes(self.log_dir, env)
        self.server_env = dict(env)
        if self.broker == "iqoption":
            self._start_iq()
            self.server_env.update(
                GLIMPSE_BROKER="iqoption",
                GLIMPSE_IQ_HTTP_BASE=self.iq_url,
                GLIMPSE_IQ_WS_URL=self.iq_url.replace("http://", "ws://") + "/echo/websocket",
                GLIMPSE_MARKET_EMAIL="market@example.com",
                GLIMPSE_MARKET_PASSWORD=IQ_PASSWORD,
            )
        self.client = pymongo.MongoClient(f"mongodb://127.0.0.1:{port}", serverSelectionTimeoutMS=5000)
        db = self.db
        seed_database(db)
        db[names.STRATEGIES].insert_one(dict(STRATEGY))
        for i in range(1, self.users + 1):
            self.accounts.append(self._new_user(f"fault{i}@example.com"))
        for module in AUX:
            self.start_aux(module)
        for name in self.server_names:
            self.start_server(name)
        wait_for(lambda: all(self.live(n) for n in self.server_names), 60, "every server to beat")
        for user in self.accounts:
            self.press_start(user)
        for user in self.accounts:
            wait_for(partial(self.holder, user), 60, f"{user.email} operating")
        self.note(f"{self.users} users operating on {self.servers} servers ({self.broker})")

    def _start_iq(self) -> None:
        assert self.processes is not None
        self.iq_url = self.iq.enter_context(
            fake_iq_server(
                "--settle-delay",
                "1.0",
                module="tests.faults.iq_fast",
                env=self.processes.env,
                log=self.log_dir / "iq_server.log",
            )
        )

    def close(self) -> None:
        if self.processes is not None:
            for process in self.processes.running.values():  # a paused process cannot end
                try:
                    os.kill(process.pid, 18)  # SIGCONT
                except ProcessLookupError:
                    pass
            self.processes.stop_all()
        if self.proxy is not None:
            self.proxy.close()
        if self.client is not None:
            self.client.close()
        if self.mongo is not None:
            process = self.mongo
            try:
                os.kill(process.pid, 18)
            except ProcessLookupError:
                pass
            stop_process(process)
        self.iq.close()

    def _new_user(self, email: str) -> User:
        assert self.clock is not None
        password = IQ_PASSWORD if self.broker == "iqoption" else PAPER_PASSWORD
        user_id = add_trader(
            self.db, SECRET_KEY, self.clock.now(), email, MONEY, STRATEGY, broker_password=password
        )
        return User(user_id, email)

    def start_aux(self, module: str) -> subprocess.Popen:
        assert self.processes is not None
        return self.processes.start(module.split(".")[-1], [module])

    def start_server(self, name: str) -> subprocess.Popen:
        assert self.processes is not None
        self.processes.env, env = self.server_env, self.processes.env
        try:
            return self.processes.start(name, ["operational_server", "--name", name])
        finally:
            self.processes.env = env

    def pid(self, key: str) -> int:
        assert self.processes is not None
        return self.processes.running[key].pid

    def kill(self, key: str) -> None:
        assert self.processes is not None
        self.processes.kill(key)

    # --- the app's buttons ----------------------------------------------------------------------

    def press_start(self, user: User) -> None:
        assert self.clock is not None
        self.db[names.ACCOUNTS].update_one(
            {"_id": user.id, "glimpseStatus": "off"},
            {"$set": {"glimpseStatus": "waiting", "waitingSince": self.clock.now()}},
        )

    def press_stop(self, user: User) -> bool:
        assert self.clock is not None
        user.stop_pressed_at = self.clock.now()
        done = self.db[names.ACCOUNTS].update_one(
            {"_id": user.id, "glimpseStatus": {"$in": ["operating", "waiting", "assigning"]}},
            {"$set": {"glimpseStatus": "stopping"}},
        )
        return done.modified_count == 1

    # --- reads ----------------------------------------------------------------------------------

    def account(self, user: User) -> dict:
        return self.db[names.ACCOUNTS].find_one({"_id": user.id}) or {}

    def is_off(self, user: User) -> bool:
        return self.account(user).get("glimpseStatus") == "off"

    def live(self, name: str) -> bool:
        assert self.clock is not None
        doc = self.db[names.SERVERS].find_one({"name": name})
        return bool(doc) and self.clock.now() - float(doc.get("uptime", 0)) < LEASE_SECONDS * SPEED

    def holder(self, user: User) -> str | None:
        """The live server holding the user, when Servers and Accounts agree the user is operating on it."""
        account = self.account(user)
        server = self.db[names.SERVERS].find_one({"target": user.uid, "status": "operating"})
        if (
            server
            and account.get("glimpseStatus") == "operating"
            and account.get("server") == server["name"]
            and self.live(server["name"])
        ):
            return str(server["name"])
        return None

    def trades(self, user: User, query: dict | None = None) -> list[dict]:
        return list(self.db[names.TRADES].find({"user": user.uid, **(query or {})}).sort("decidedAt", 1))

    def open_trade(self, user: User, min_level: int = 0) -> dict | None:
        return self.db[names.TRADES].find_one(
            {"user": user.uid, "status": "open", "galeLevel": {"$gte": min_level}}
        )

    def now(self) -> float:
        assert self.clock is not None
        return self.clock.now()

    # --- faults and recovery --------------------------------------------------------------------

    def arm(self, **spec: Any) -> int:
        assert self.client is not None
        return int(self.client.admin.command({"fakeTrap": "set", **spec})["trap"])

    def fired(self) -> list[dict]:
        assert self.client is not None
        return list(self.client.admin.command({"fakeTrap": "list"})["fired"])

    def clear_traps(self) -> None:
        assert self.client is not None
        self.client.admin.command({"fakeTrap": "clear"})

    def resumed(self, user: User, what: str) -> float | None:
        """Wall seconds until the user is operating on a live server with a new order at the broker
        (issue 10: within lease + 10 s of the fault's end); None, and a violation, if not."""
        return self.resumed_all([user], what)[0]

    def resumed_all(self, users: list[User], what: str) -> list[float | None]:
        """`resumed` for several users at once, timed from now (call it when the fault ends)."""
        known = self.trade_ids()
        start = time.monotonic()
        deadline = start + RECOVERY_SECONDS
        took: dict[str, float] = {}
        while time.monotonic() < deadline and len(took) < len(users):
            for user in users:
                if user.uid not in took and self.trading_since(user, known):
                    took[user.uid] = time.monotonic() - start
                    self.recoveries.setdefault(what, []).append(took[user.uid])
                    self.note(f"{what}: {user.email} trading again {took[user.uid]:.1f} s later")
            time.sleep(0.05)
        for user in users:
            if user.uid not in took:
                account = self.account(user)
                self.stuck.append(
                    f"stuck user: after {what}, {user.email} not trading again within {RECOVERY_SECONDS:g} s "
                    f"(status {account.get('glimpseStatus')!r} on {account.get('server')!r})"
                )
                self.note(self.stuck[-1])
        return [took.get(user.uid) for user in users]

    def operating_holder(self, user: User, what: str) -> str | None:
        """The server holding the user, waited for up to lease + 10 s; None, and a violation, when
        the user is not trading (the trials that need a trading user cannot go on)."""
        try:
            return str(wait_for(partial(self.holder, user), RECOVERY_SECONDS, f"{what}: the user operating"))
        except AssertionError:
            account = self.account(user)
            self.stuck.append(
                f"stuck user: before {what}, {user.email} not operating within {RECOVERY_SECONDS:g} s "
                f"(status {account.get('glimpseStatus')!r} on {account.get('server')!r})"
            )
            self.note(self.stuck[-1])
            return None

    def trade_ids(self) -> set[ObjectId]:
        """Every trade in the ledger now, whatever its status: an order after a fault is not one of them."""
        return {d["_id"] for d in self.db[names.TRADES].find({}, {"_id": 1})}

    def trading_since(self, user: User, known: set[ObjectId]) -> bool:
        """Operating on a live server, with an order at the broker that is not in `known`."""
        if not self.holder(user):
            return False
        placed = self.db[names.TRADES].find({"user": user.uid, "brokerOrderId": {"$ne": None}}, {"_id": 1})
        return any(d["_id"] not in known for d in placed)

    # --- the end of a scenario ------------------------------------------------------------------

    def finish(self) -> list[str]:
        """Press Stop for every user, let the orders in flight settle, and check the invariants;
        the violations found (empty when every invariant holds)."""
        violations: list[str] = list(self.stuck)
        for user in self.accounts:
            self.press_stop(user)
        for user in self.accounts:
            start = time.monotonic()
            try:
                wait_for(partial(self.is_off, user), RECOVERY_SECONDS, f"{user.email} off after Stop")
                self.note(f"Stop: {user.email} off {time.monotonic() - start:.1f} s later")
            except AssertionError:
                account = self.account(user)
                violations.append(
                    f"stuck user: {user.email} not off within {RECOVERY_SECONDS:g} s of Stop "
                    f"(status {account.get('glimpseStatus')!r} on {account.get('server')!r})"
                )
        # An order a dead server left open settles at its expiry (a minute of market time) when
        # another session reconciles it; give that time, then judge what is left.
        deadline = time.monotonic() + 70 / SPEED + 5
        while self._unsettled() and time.monotonic() < deadline:
            time.sleep(0.2)
        for user in self.accounts:
            violations += self.user_violations(user)
        return violations

    def _unsettled(self) -> list[dict]:
        return list(
            self.db[names.TRADES].find(
                {"user": {"$in": [u.uid for u in self.accounts]}, "status": {"$ne": "closed"}}
            )
        )

    def broker_orders(self, user: User) -> dict[int, Decimal | None]:
        """The broker's orders for the user: id -> profit (None while open)."""
        if self.broker == "paper":
            doc = self.db[names.PAPER_BALANCES].find_one({"_id": user.email}) or {}
            orders: dict[int, Decimal | None] = {int(o["id"]): None for o in doc.get("open", [])}
            for record in doc.get("settled", []):
                orders[int(record["id"])] = Decimal(int(record["profitCents"])) / 100
            return orders
        state = iq_server.state(self.iq_url)
        result: dict[int, Decimal | None] = {}
        for order in state["orders"]:
            if order["email"] != user.email:
                continue
            profit = None
            if order["status"] == "closed":
                profit = cents(Decimal(str(order["profit_amount"])) - Decimal(str(order["amount"])))
            result[int(order["id"])] = profit
        return result

    def broker_balance_moved(self, user: User) -> Decimal:
        """How much the user's practice balance moved at the broker (open stakes count as spent)."""
        if self.broker == "paper":
            doc = self.db[names.PAPER_BALANCES].find_one({"_id": user.email}) or {}
            return Decimal(int(doc["cents"]["PRACTICE"]) - PAPER_STARTING_CENTS) / 100
        accounts = iq_server.state(self.iq_url)["accounts"]
        practice = next(b for b in accounts[user.email] if b["type"] == iq_server.PRACTICE_TYPE)
        return cents(Decimal(str(practice["amount"])) - IQ_STARTING)

    def user_violations(self, user: User) -> list[str]:
        v: list[str] = []
        who = user.email
        trades = self.trades(user)
        broker = self.broker_orders(user)
        # Each trade: exactly one final result.
        for t in trades:
            if t.get("status") != "closed" or t.get("result") not in FINAL_RESULTS:
                v.append(
                    f"no final result: {who} trade {t['_id']} level {t.get('galeLevel')} is "
                    f"{t.get('status')}/{t.get('result')}"
                )
        # The broker's orders equal the ledger's: none missing, none doubled, the broker's result.
        ids = [int(t["brokerOrderId"]) for t in trades if t.get("brokerOrderId") is not None]
        doubled = [i for i, n in Counter(ids).items() if n > 1]
        if doubled:
            v.append(f"doubled in the ledger: {who} broker orders {doubled}")
        missing = sorted(set(broker) - set(ids))
        if missing:
            v.append(
                f"missing from the ledger: {who} broker orders {missing} (the ledger has no trade for them)"
            )
        phantom = sorted(set(ids) - set(broker))
        if phantom:
            v.append(f"not at the broker: {who} ledger orders {phantom}")
        by_id = {int(t["brokerOrderId"]): t for t in trades if t.get("brokerOrderId") is not None}
        for order_id, profit in broker.items():
            found = by_id.get(order_id)
            if found is None or profit is None:
                continue
            t = found
            if t.get("result") not in SETTLED_RESULTS or trade_profit(t) != profit:
                v.append(
                    f"wrong result: {who} order {order_id} settled {profit:+} at the broker, the ledger says "
                    f"{t.get('result')} {trade_profit(t)}"
                )
        for t in trades:
            if t.get("result") in ("failed", "not_placed") and t.get("brokerOrderId") is not None:
                v.append(
                    f"wrong result: {who} order {t['brokerOrderId']} executed but recorded {t['result']}"
                )
        # The profit fields equal the ledger's sum to the cent, and the broker's balance moved by it.
        net = sum((trade_profit(t) or Decimal(0) for t in trades), Decimal(0))
        account = self.account(user)
        fields = account_field(account, "iqPeriodProfit") - account_field(account, "iqPeriodLoss")
        if fields != net:
            v.append(
                f"profit fields: {who} iqPeriodProfit − iqPeriodLoss = {fields} but the ledger sums {net}"
            )
        moved = self.broker_balance_moved(user)
        if moved != net:
            v.append(f"broker balance: {who} moved {moved} at the broker but the ledger sums {net}")
        # Operations shows every order: one numeric result per settled order, the same amounts.
        shown: list[Decimal] = []
        for log_doc in self.db[names.OPERATIONS].find({"user": user.uid}):
            in_cents = log_doc.get("moneyUnit") == CENTS_UNIT
            for entry in log_doc.get("operations", []):
                for order in entry.get("operacoes", []):
                    p = money(order.get("p"), in_cents)
                    if p is not None:
                        shown.append(p)
        settled = [trade_profit(t) or Decimal(0) for t in trades if t.get("result") in SETTLED_RESULTS]
        if sorted(shown) != sorted(settled):
            v.append(
                f"Operations: {who} shows {len(shown)} orders ({sum(shown, Decimal(0))}) "
                f"but the ledger settled {len(settled)} ({sum(settled, Decimal(0))})"
            )
        # No false stop: "Você parou o Glimpse." only after the user pressed Stop.
        pressed = user.stop_pressed_at if user.stop_pressed_at is not None else float("inf")
        false_stops = [
            a
            for a in account.get("alerts", [])
            if a.get("description") == FALSE_STOP and float(a["time"]) < pressed
        ]
        if false_stops:
            v.append(f"false stop: {who} got {FALSE_STOP!r} {len(false_stops)} time(s) before pressing Stop")
        self.note(
            f"{who}: {len(trades)} trades, {len(broker)} broker orders, ledger net {net:+}, fields {fields:+}"
        )
        return v

    def report(self) -> str:
        return "\n".join(self.lines)
