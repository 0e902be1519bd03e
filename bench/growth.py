"""How the API's list routes grow with the data: time per call at 1k, 10k and 100k trades and at
100, 1k and 10k users, on the embedded store (mongomock), in process (the Flask test client, so no
network and no client threads: only the route's own cost, with the app's hooks).

Routes: getUserOperations (the original call: every session of the caller, oldest first), getRank,
getUsers and getAllOperations (the manager's, first page), status (the app's poll). The caller's
own data is the same at every size (5 sessions of 10 trades); only everybody else's grows. A
session log holds 10 trades, so 100k trades are 10k Operations logs beside 100k Trades.

The sizes of a series are built side by side and measured interleaved: each round calls every route
once at every size, so a burst of load from other jobs falls on all sizes alike. Each figure
(`ms_per_call`) is the fastest of `--calls` calls after two unmeasured rounds, the one least
disturbed on a shared machine (`median_ms` is beside it); `vs_smallest` divides it by the same
route's figure at the smallest size of the series. Goal: each within 2x of its smallest.
Prints ONE JSON object.

    .venv/bin/python bench/growth.py [--calls 15] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this folder comes first on the path, and its api.py would hide the api package.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

from api import create_app  # noqa: E402
from glimpse.rules.pairs import PAIR_NAMES  # noqa: E402
from glimpse.runtime import security  # noqa: E402
from glimpse.runtime.clock import ManualClock  # noqa: E402
from glimpse.runtime.config import load_config  # noqa: E402
from glimpse.store import db as names  # noqa: E402
from glimpse.store.accounts import new_account  # noqa: E402
from glimpse.store.db import ensure_indexes, new_embedded_database  # noqa: E402

PASSWORD = "growth bench password"
TRADES_PER_SESSION = 10
CALLER_SESSIONS = 5
T0 = 1_717_419_600.0  # Monday 2024-06-03 13:00 UTC: the market is open
TRADE_SIZES = (1_000, 10_000, 100_000)
USER_SIZES = (100, 1_000, 10_000)
GOAL = 2.0


class World:
    """One embedded database and app that grows: users and trades are only ever added."""

    def __init__(self, seed: int, users: int, trades: int):
        self.random = random.Random(seed)
        env = {
            "GLIMPSE_SECRET_KEY": "growth-bench-secret-" + "x" * 32,
            "GLIMPSE_SERVICE_TOKEN": "growth-bench-service-token",
        }
        self.config = load_config(env).with_(password_hash_profile="test", mongo_uri=None)
        self.db = new_embedded_database("Glimpse")
        self.clock = ManualClock(T0)
        self.hash = security.hash_password(PASSWORD, self.config.password_hash_profile)
        self.users: list[str] = []
        self.trades = 0
        self.sessions = 0
        self.db[names.OPENED_ACTIVES].insert_many(
            [{"ativo": p, "open": "True", "payout": "87"} for p in PAIR_NAMES]
        )
        # Bulk data before the indexes: mongomock checks a unique index by a scan per insert.
        self.add_users(users)
        self.add_trades(trades)
        ensure_indexes(self.db)
        self.app = create_app(self.config, db=self.db, clock=self.clock, check_broker_credentials=None)
        self.client = self.app.test_client()
        self.caller = self._caller()
        self.manager = self._manager()

    def _login(self, route: str, email: str) -> dict[str, str]:
        body = self.client.post(route, json={"email": email, "password": PASSWORD}).get_json()
        if body.get("res") != 1:
            raise RuntimeError(f"{route} failed for {email}: {body}")
        return {"Authorization": f"Bearer {body['token']}"}

    def _caller(self) -> tuple[str, dict[str, str]]:
        doc = new_account("Ana Maria Silva", "caller@example.com", self.hash, T0, premium_days=30)
        doc.update(iqPeriodProfit=12_345, iqPeriodLoss=2_000)
        user_id = str(self.db[names.ACCOUNTS].insert_one(doc).inserted_id)
        self._sessions_of(user_id, CALLER_SESSIONS)
        return user_id, self._login("/glimpse/login", "caller@example.com")

    def _manager(self) -> dict[str, str]:
        self.db[names.MANAGER_ACCOUNTS].insert_one(
            {"user": "boss@example.com", "name": "Chefe", "password": self.hash, "role": "admin"}
        )
        return self._login("/glimpse/managerLogin", "boss@example.com")

    def add_users(self, count: int) -> None:
        docs: list[dict[str, Any]] = []
        for _ in range(count):
            n = len(self.users) + len(docs)
            doc = new_account(f"Trader {n:06d}", f"trader{n:06d}@example.com", self.hash, T0, premium_days=30)
            doc.update(
                iqPeriodProfit=self.random.randrange(0, 500_000),
                iqPeriodLoss=self.random.randrange(0, 500_000),
            )
            docs.append(doc)
        for start in range(0, len(docs), 5_000):
            ids = self.db[names.ACCOUNTS].insert_many(docs[start : start + 5_000]).inserted_ids
            self.users += [str(i) for i in ids]

    def add_trades(self, count: int) -> None:
        """`count` settled trades of the other users, in session logs of TRADES_PER_SESSION."""
        sessions = count // TRADES_PER_SESSION
        owners = [self.random.choice(self.users) for _ in range(sessions)]
        for start in range(0, sessions, 1_000):
            self._sessions_of(None, min(1_000, sessions - start), owners[start : start + 1_000])

    def _sessions_of(self, user: str | None, sessions: int, owners: list[str] | None = None) -> None:
        logs, ledger = [], []
        for k in range(sessions):
            owner = user if user is not None else (owners or [])[k]
            self.sessions += 1
            session = f"s{self.sessions:07d}"
            began = T0 - 86_400 + self.sessions  # distinct, older than the clock
            cycles = []
            for t in range(TRADES_PER_SESSION):
                self.trades += 1
                ativo = PAIR_NAMES[self.trades % len(PAIR_NAMES)]
                profit = 870 if self.random.random() < 0.55 else -1_000
                decided = began + 60 * t
                ledger.append({"user": owner, "session": session, "cycle": f"{session}-{t}", "ativo": ativo,
                               "operacao": "call", "amount": 1_000, "galeLevel": 0, "payout": 87,
                               "decidedAt": decided, "placedAt": decided + 0.01, "closedAt": decided + 60,
                               "result": "win" if profit > 0 else "loss", "profit": profit, "status": "closed",
                               "credited": True, "moneyUnit": "cents", "account": "practice"})  # fmt: skip
                cycles.append({"ativo": ativo, "horario": decided, "operacao": "call", "money": 1_000,
                               "cycle": f"{session}-{t}", "candles": [[{"o": 1.08, "c": 1.0801}] * 3],
                               "operacoes": [{"a": 1.0801, "p": profit}]})  # fmt: skip
            logs.append({"operationTime": began, "user": owner, "session": session, "operationType": "strategy",
                         "strategy": "Glimpse Baixo Risco", "accountType": "treinamento", "expiration": 1,
                         "money": 1_000, "gale": False, "galeCount": 0, "galeType": "dobro", "sobra": 0,
                         "stoploss": None, "operations": cycles, "moneyUnit": "cents"})  # fmt: skip
        if logs:
            self.db[names.OPERATIONS].insert_many(logs)
            self.db[names.TRADES].insert_many(ledger)

    def routes(self) -> dict[str, tuple[str, dict[str, Any], dict[str, str], Any]]:
        caller_id, user_headers = self.caller

        def ops(body: Any) -> bool:
            return len(body) == CALLER_SESSIONS and all(log["user"] == caller_id for log in body)

        return {
            "getUserOperations": ("/glimpse/getUserOperations", {"userId": caller_id}, user_headers, ops),
            "getRank": (
                "/glimpse/getRank",
                {},
                user_headers,
                lambda b: isinstance(b, list) and 0 < len(b) <= 100,
            ),
            "getUsers": ("/glimpse/getUsers", {}, self.manager, lambda b: isinstance(b, list) and len(b) > 0),
            "getAllOperations": ("/glimpse/getAllOperations", {}, self.manager, lambda b: len(b) > 0),
            "status": (
                "/glimpse/status",
                {},
                user_headers,
                lambda b: b["user"]["email"] == "caller@example.com",
            ),
        }

    def call(self, name: str) -> float:
        path, body, headers, check = self.routes()[name]
        began = time.perf_counter()
        response = self.client.post(path, json=body, headers=headers)
        elapsed = time.perf_counter() - began
        if response.status_code != 200 or not check(response.get_json()):
            raise RuntimeError(f"{name}: HTTP {response.status_code}: {response.get_data()[:300]!r}")
        return elapsed


ROUTES = ("getUserOperations", "getRank", "getUsers", "getAllOperations", "status")


def series(label: str, sizes: tuple[int, ...], worlds: list[World], calls: int) -> dict[str, Any]:
    """Interleaved: each round calls every route once in every world, so load on the machine
    falls on every size alike; the figure is the median over the rounds (two unmeasured first)."""
    times: list[dict[str, list[float]]] = [{name: [] for name in ROUTES} for _ in worlds]
    for round_no in range(calls + 2):
        for at, world in enumerate(worlds):
            for name in ROUTES:
                elapsed = world.call(name)
                if round_no >= 2:
                    times[at][name].append(elapsed)
    points: list[dict[str, Any]] = [
        {
            label: size,
            "ms_per_call": {n: round(min(t[n]) * 1000, 3) for n in ROUTES},
            "median_ms": {n: round(statistics.median(t[n]) * 1000, 3) for n in ROUTES},
        }
        for size, t in zip(sizes, times, strict=True)
    ]
    smallest = points[0]["ms_per_call"]
    for point in points:
        point["vs_smallest"] = {k: round(v / smallest[k], 2) for k, v in point["ms_per_call"].items()}
    worst = {name: max(p["vs_smallest"][name] for p in points) for name in ROUTES}
    return {
        "points": points,
        "worst_vs_smallest": worst,
        "within_goal": {k: v <= GOAL for k, v in worst.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--calls", type=int, default=15, help="measured calls per route and size (default 15)"
    )
    parser.add_argument("--quick", action="store_true", help="sizes divided by 10 (a smoke run)")
    args = parser.parse_args(argv)
    scale = 10 if args.quick else 1
    trade_sizes = tuple(s // scale for s in TRADE_SIZES)
    user_sizes = tuple(s // scale for s in USER_SIZES)

    started = time.perf_counter()
    trade_worlds = [World(seed=1, users=user_sizes[0], trades=size) for size in trade_sizes]
    trades = series("trades", trade_sizes, trade_worlds, args.calls)
    del trade_worlds
    user_worlds = [World(seed=2, users=size, trades=trade_sizes[0]) for size in user_sizes]
    users = series("users", user_sizes, user_worlds, args.calls)
    elapsed = time.perf_counter() - started
    result = {
        "benchmark": "growth",
        "store": "embedded (mongomock), in process (Flask test client)",
        "calls_per_point": args.calls,
        "statistic": "ms_per_call: the fastest of the calls (the one least disturbed by other jobs on a "
        "shared machine), median_ms beside it; sizes measured interleaved (round-robin)",
        "wall_s": round(elapsed, 1),
        "goal": f"each route within {GOAL}x of its smallest-size time",
        "by_trades": {"users": user_sizes[0], **trades},
        "by_users": {"trades": trade_sizes[0], **users},
        "goal_met": all(trades["within_goal"].values()) and all(users["within_goal"].values()),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
        },
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
