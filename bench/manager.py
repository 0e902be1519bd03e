"""The manager's lists on a large embedded database: pages, overview and CSV export.

Fills a fresh embedded (mongomock) database with --users accounts,
--trades Trades (closed orders spread over --days days ending now, so about
1/days of them are today's) and --operations session logs, then measures,
IN PROCESS with the Flask test client (the same application `glimpse up`
serves, without a socket, so the figures are the API's own work):

- getUsers, getTrades, getAllOperations: the first page and a deep page
  (the cursor of the row --depth of the way down the list), at the default
  limit (100) and at the cap (500), and a filtered page of each kind: median
  and max of --repeat calls after one call timed apart (`cold_ms`: the first
  call with a new filter builds the embedded store's index for it), and the
  body's size in bytes; `first_call_ms` is the very first call of a list;
  a collection is run before each timed series, and every full (generation
  2) collection of the Python heap during the pages is listed in
  `gc_pauses_ms` (a page that meets one is that much slower);
- getOverview: the board (median and max of --repeat calls);
- exportTrades: every trade as CSV, read chunk by chunk as a client would
  (seconds, rows, bytes, largest chunk); then once more under tracemalloc,
  which reports the peak of Python memory allocated during the export (the
  database itself is already in memory and not counted).

Goals (from issue 11): every page <= 100 ms, no response over 1 MB, the
export's memory flat (its peak does not grow with the rows exported).
Prints ONE JSON object.

    .venv/bin/python bench/manager.py [--users 20000] [--trades 200000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import random
import statistics
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

from bson import ObjectId

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this folder comes first on the path, and its api.py would hide the api package.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

from api import create_app  # noqa: E402
from api.paging import encode  # noqa: E402
from glimpse.rules.pairs import PAIR_NAMES  # noqa: E402
from glimpse.runtime import security  # noqa: E402
from glimpse.runtime.clock import ManualClock  # noqa: E402
from glimpse.runtime.config import load_config  # noqa: E402
from glimpse.store import db as names  # noqa: E402
from glimpse.store.accounts import new_account  # noqa: E402

PASSWORD = "bench manager password"
GOAL_MS = 100.0
GOAL_BYTES = 1_000_000
NOW = 1_717_419_600.0 + 9 * 3600  # a Monday, 19:00 in São Paulo: a full trading day so far
FIRST_NAMES = (
    "Ana",
    "Bruno",
    "Carla",
    "Diego",
    "Eva",
    "Fábio",
    "Gabi",
    "Hugo",
    "Iara",
    "João",
    "Kátia",
    "Luís",
)
LAST_NAMES = ("Silva", "Souza", "Costa", "Santos", "Oliveira", "Pereira", "Lima", "Gomes", "Ribeiro", "Alves")


def _oid(rng: random.Random, at: float) -> ObjectId:
    # Ids carry their time, as ids made at insertion would.
    return ObjectId(int(at).to_bytes(4, "big") + rng.randbytes(8))


def make_users(rng: random.Random, count: int) -> list[dict[str, Any]]:
    password = security.hash_password(PASSWORD, "test")
    statuses = ("off",) * 8 + ("operating", "waiting")
    users = []
    for i in range(count):
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} {i:05d}"
        doc = new_account(name, f"user{i:05d}@example.com", password, NOW - 86400 * 90, premium_days=30)
        doc["_id"] = _oid(rng, NOW - rng.uniform(0, 86400 * 90))
        doc["glimpseStatus"] = rng.choice(statuses)
        doc["blocked"] = i % 97 == 0
        doc["iqPeriodProfit"] = rng.randint(-50_000, 50_000)
        users.append(doc)
    return users


def make_trades(
    rng: random.Random, users: list[dict[str, Any]], count: int, days: float
) -> list[dict[str, Any]]:
    trades = []
    for _ in range(count):
        user = rng.choice(users)
        decided = NOW - rng.uniform(0, 86400 * days)
        amount = rng.choice((200, 500, 1000, 2000))
        result = rng.choice(("win", "win", "loss", "loss", "doji"))
        profit = amount * 87 // 100 if result == "win" else -amount if result == "loss" else 0
        trades.append(
            {
                "_id": _oid(rng, decided), "user": str(user["_id"]), "session": f"s{rng.randrange(10**6)}",
                "serverSession": "", "server": f"Server{rng.randrange(1, 9)}", "cycle": f"c{rng.randrange(10**6)}",
                "ativo": rng.choice(PAIR_NAMES), "operacao": rng.choice(("call", "put")), "amount": amount,
                "galeLevel": rng.randrange(3), "payout": 87, "account": "PRACTICE",
                "clientKey": rng.randbytes(12).hex(), "decidedAt": decided, "sentAt": decided + 0.2,
                "placedAt": decided + 0.5, "openedAt": decided + 0.5, "expiresAt": decided + 60,
                "closedAt": decided + 61, "openPrice": 1.08123, "closePrice": 1.08131, "quoteSource": "broker",
                "closeQuoteSource": "broker", "brokerOrderId": rng.randrange(10**9), "result": result,
                "profit": profit, "status": "closed", "credited": True, "flagged": False, "moneyUnit": "cents",
            }
        )  # fmt: skip
    return trades


def make_operations(
    rng: random.Random, users: list[dict[str, Any]], count: int, days: float
) -> list[dict[str, Any]]:
    logs = []
    for _ in range(count):
        user = rng.choice(users)
        at = NOW - rng.uniform(0, 86400 * days)
        cycles = [
            {"ativo": rng.choice(PAIR_NAMES), "horario": "10:01", "operacao": "call", "money": 200, "cycle": "c",
             "candles": [[{"o": 1.1, "c": 1.2, "h": 1.3, "l": 1.0, "from": int(at)}]],
             "operacoes": [{"a": 1.08123, "p": 174, "trade": "t"}]}
            for _ in range(rng.randrange(1, 4))
        ]  # fmt: skip
        logs.append(
            {"_id": _oid(rng, at), "operationTime": at, "user": str(user["_id"]), "session": f"s{rng.randrange(10**6)}",
             "operationType": "strategy", "strategy": "Glimpse", "operation": "call", "accountType": "treinamento",
             "expiration": 1, "money": 200, "gale": True, "galeCount": 2, "galeType": "dobro", "sobra": False,
             "stoploss": None, "operations": cycles, "moneyUnit": "cents"}
        )  # fmt: skip
    return logs


def deep_cursor(docs: list[dict[str, Any]], field: str, direction: int, depth: float) -> str:
    ordered = sorted(docs, key=lambda d: (d[field], d["_id"]), reverse=direction < 0)
    row = ordered[int(len(ordered) * depth)]
    return encode(row[field], row["_id"])


def timed(
    client: Any, path: str, body: dict[str, Any], headers: dict[str, str], repeat: int
) -> dict[str, Any]:
    """The first call apart (cold: it may build an index of the embedded store), then `repeat` calls."""
    start = time.perf_counter()
    client.post("/glimpse/" + path, json=body, headers=headers)
    cold_ms = round((time.perf_counter() - start) * 1000, 1)
    # The fill and the index builds leave millions of young objects; collect them now, so that a
    # full collection of the whole heap does not land on whichever call comes next (they are
    # counted apart, in gc_pauses_ms).
    collect()
    seconds, size, rows, status = [], 0, None, 0
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.post("/glimpse/" + path, json=body, headers=headers)
        seconds.append(time.perf_counter() - start)
        status, size = response.status_code, len(response.get_data())
        payload = response.get_json()
        rows = len(payload) if isinstance(payload, list) else None
    return {
        "status": status,
        "median_ms": round(statistics.median(seconds) * 1000, 1),
        "max_ms": round(max(seconds) * 1000, 1),
        "bytes": size,
        "rows": rows,
        "cold_ms": cold_ms,
    }


def export(client: Any, headers: dict[str, str]) -> dict[str, Any]:
    start = time.perf_counter()
    response = client.post("/glimpse/exportTrades", json={}, headers=headers, buffered=False)
    total, largest, lines, first_chunk_ms = 0, 0, 0, None
    for chunk in response.response:
        data = chunk if isinstance(chunk, bytes) else chunk.encode()
        if first_chunk_ms is None:
            first_chunk_ms = round((time.perf_counter() - start) * 1000, 1)
        total += len(data)
        largest = max(largest, len(data))
        lines += data.count(b"\n")
    response.close()
    return {
        "status": response.status_code,
        "seconds": round(time.perf_counter() - start, 2),
        "first_chunk_ms": first_chunk_ms,
        "rows": lines - 1,
        "bytes": total,
        "largest_chunk_bytes": largest,
    }


def export_memory(client: Any, headers: dict[str, str]) -> dict[str, Any]:
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        result = export(client, headers)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return {"peak_growth_bytes": peak - base, "rows": result["rows"]}


GC_PAUSES: list[float] = []
_gc_started: list[float] = []


_explicit: list[bool] = []


def collect() -> None:
    _explicit.append(True)
    try:
        gc.collect()
    finally:
        _explicit.pop()


def _watch_gc(phase: str, info: dict[str, Any]) -> None:
    if _explicit:
        return
    if phase == "start":
        _gc_started[:] = [time.perf_counter()]
    elif _gc_started and info.get("generation") == 2:
        GC_PAUSES.append(round((time.perf_counter() - _gc_started[0]) * 1000, 1))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--trades", type=int, default=200_000)
    parser.add_argument("--operations", type=int, default=50_000)
    parser.add_argument("--days", type=float, default=60.0, help="trades and logs spread over this many days")
    parser.add_argument("--depth", type=float, default=0.9, help="where the deep page starts (0..1)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-memory", action="store_true", help="skip the export under tracemalloc")
    parser.add_argument("--seed", type=int, default=11)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rng = random.Random(args.seed)
    config = load_config(
        {"GLIMPSE_SECRET_KEY": "bench-secret-key-" + "x" * 32, "GLIMPSE_SERVICE_TOKEN": "bench-service-token"}
    ).with_(password_hash_profile="test", mongo_uri=None)

    fill_start = time.perf_counter()
    db = names.new_embedded_database("GlimpseBench")
    users = make_users(rng, args.users)
    trades = make_trades(rng, users, args.trades, args.days)
    operations = make_operations(rng, users, args.operations, args.days)
    # Insert before the indexes: mongomock checks a unique index by a scan per insert.
    db[names.ACCOUNTS].insert_many(users)
    db[names.TRADES].insert_many(trades)
    db[names.OPERATIONS].insert_many(operations)
    names.ensure_indexes(db)
    db[names.MANAGER_ACCOUNTS].insert_one(
        {"user": "bench@example.com", "name": "Bench", "rol": "admin",
         "password": security.hash_password(PASSWORD, config.password_hash_profile)}
    )  # fmt: skip
    fill_seconds = time.perf_counter() - fill_start

    app = create_app(config, db=db, clock=ManualClock(NOW), check_broker_credentials=None)
    client = app.test_client()
    login = client.post("/glimpse/managerLogin", json={"email": "bench@example.com", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {login.get_json()['token']}"}

    gc.collect()
    gc.callbacks.append(_watch_gc)
    lists = {
        "getUsers": (users, "name", 1),
        "getTrades": (trades, "decidedAt", -1),
        "getAllOperations": (operations, "operationTime", -1),
    }
    pages: dict[str, Any] = {}
    first_calls: dict[str, Any] = {}
    for path, (docs, field, direction) in lists.items():
        deep = deep_cursor(docs, field, direction, args.depth)
        # The very first call also pays for anything built on first use (the embedded store's sort index).
        start = time.perf_counter()
        client.post("/glimpse/" + path, json={}, headers=headers)
        first_calls[path] = round((time.perf_counter() - start) * 1000, 1)
        for limit in (100, 500):
            pages[f"{path} first limit={limit}"] = timed(client, path, {"limit": limit}, headers, args.repeat)
            pages[f"{path} deep limit={limit}"] = timed(
                client, path, {"limit": limit, "cursor": deep}, headers, args.repeat
            )
    some_user = trades[0]["user"]
    pages["getTrades one user"] = timed(client, "getTrades", {"user": some_user}, headers, args.repeat)
    pages["getAllOperations one user"] = timed(
        client, "getAllOperations", {"user": operations[0]["user"]}, headers, args.repeat
    )
    pages["getUserDetail"] = timed(client, "getUserDetail", {"user": some_user}, headers, args.repeat)
    pages["getUsers q=Silva"] = timed(client, "getUsers", {"q": "silva"}, headers, args.repeat)
    pages["getUsers status=operating"] = timed(
        client, "getUsers", {"status": "operating"}, headers, args.repeat
    )
    pages["getOverview"] = timed(client, "getOverview", {}, headers, args.repeat)

    gc.callbacks.remove(_watch_gc)
    exported = export(client, headers)
    memory = None if args.no_memory else export_memory(client, headers)
    slow = [name for name, page in pages.items() if page["max_ms"] > GOAL_MS]
    big = [name for name, page in pages.items() if page["bytes"] > GOAL_BYTES]
    report = {
        "benchmark": "manager",
        "measured": "in process, Flask test client, embedded store (mongomock)",
        "python": platform.python_version(),
        "users": args.users,
        "trades": args.trades,
        "operations": args.operations,
        "days": args.days,
        "todays_trades": sum(1 for t in trades if t["decidedAt"] >= NOW - 19 * 3600),
        "fill_seconds": round(fill_seconds, 1),
        "first_call_ms": first_calls,
        "gc_pauses_ms": GC_PAUSES,
        "pages": pages,
        "export": exported,
        "export_memory": memory,
        "goals": {
            "page_ms": GOAL_MS,
            "response_bytes": GOAL_BYTES,
            "pages_over_time": slow,
            "pages_over_size": big,
            "met": not slow and not big,
        },
    }
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
