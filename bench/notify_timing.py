"""Order timing with and without a dead webhook endpoint ("sending never delays an order").

Two runs of the embedded bundle (lister, candle streams, assigner, one
operational server per trader, the notifier, paper market, in-memory
store), the same in all but one thing: in the second, every trader has a
webhook whose endpoint accepts the connection and never answers, so the
notifier's workers sit on it until their timeout, then back off and try
again. The traders trade a one-candle pattern (an order every minute).

For each run, in wall milliseconds: each order's placedAt - its decision
instant (p50, p90, p99, max), the orders placed inside their candle, and
the webhook requests the dead endpoint received. The second run's figures
are also given as ratios to the first's (the baseline, measured in the same
run of this script).

    .venv/bin/python bench/notify_timing.py [--traders 20] [--orders 3] [--speed 10]

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this folder comes first on the path, and its api.py would hide the api package.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

from auxiliar.notifier import NotifierService  # noqa: E402
from glimpse.rules.timing import minute_start  # noqa: E402
from glimpse.runtime.config import load_config  # noqa: E402
from glimpse.runtime.security import encrypt_secret  # noqa: E402
from glimpse.store import db as names  # noqa: E402
from glimpse.store import notifications as store  # noqa: E402
from tests.fakes.webhook_receiver import WebhookReceiver  # noqa: E402
from tests.pipeline.bundle import make_bundle  # noqa: E402

STRATEGY = {"name": "Qualquer Cor", "nameKey": "qualquer cor", "sequence": "1", "operation": "call",
            "mirror": True, "createdBy": "Bench"}  # fmt: skip
MONEY = {"money": 2, "gale": False, "galeCount": 0, "galeType": "dobro", "sobra": 0,
         "stopLoss": False, "stopLossValue": 0, "stopWin": False, "stopWinValue": 0}  # fmt: skip
HOOK_SECRET = "whsec-bench"
SEND_TIMEOUT = 5.0  # the notifier's default
# Decisions 10 market seconds before the minute ends (1 wall second at 10x), so that on a busy
# machine a late order is measured rather than dropped; the same in both runs.
DECISION_SECOND = 50.0


def percentile(values: list[float], q: float) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    return round(ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))], 1)


def run(traders: int, orders: int, speed: float, dead_endpoint: bool) -> dict[str, Any]:
    config = load_config(
        {"GLIMPSE_SECRET_KEY": "bench-secret-key-" + "x" * 32, "GLIMPSE_SERVICE_TOKEN": "bench-service-token"}
    ).with_(
        password_hash_profile="test",
        mongo_uri=None,
        webhook_allow_private=True,
        decision_second=DECISION_SECOND,
    )
    db = names.new_embedded_database("GlimpseNotifyBench" + ("Dead" if dead_endpoint else ""))
    bundle = make_bundle(config, db, speed=speed)
    clock = bundle.ctx.clock
    db[names.STRATEGIES].insert_one(dict(STRATEGY))
    receiver = WebhookReceiver(HOOK_SECRET).start()
    receiver.hold()  # the dead endpoint: it accepts and never answers
    secret = encrypt_secret(config.secret_key.get_secret_value(), HOOK_SECRET)
    users = []
    for i in range(traders):
        user = bundle.user(f"t{i}@example.com", strategy=STRATEGY["name"], ownedStrategies=[STRATEGY["name"]],
                           strategySettings=dict(MONEY))  # fmt: skip
        if dead_endpoint:
            store.add_webhook(db, user, store.SCOPE_USER, receiver.url, secret, clock.now())
        users.append(user)
    notifier = NotifierService(send_timeout=SEND_TIMEOUT, poll_timeout=0).start(bundle.ctx)
    bundle.start(servers=traders)
    try:
        for user in users:
            bundle.press_start(user)
        wanted = traders * orders
        deadline = time.monotonic() + (orders + 3) * 60 / speed + 60
        while time.monotonic() < deadline:
            if db[names.TRADES].count_documents({"placedAt": {"$ne": None}}) >= wanted:
                break
            time.sleep(0.2)
        placed = list(db[names.TRADES].find({"placedAt": {"$ne": None}}))
        # Market seconds over the clock's speed: wall milliseconds.
        timing = [(t["placedAt"] - t["decidedAt"]) / speed * 1000 for t in placed]
        inside = sum(t["placedAt"] < minute_start(t["decidedAt"]) + 60 for t in placed)
        deliveries = db[store.DELIVERIES].count_documents({})
        failed = db[store.DELIVERIES].count_documents({"attempts": {"$gt": 0}, "status": {"$ne": store.SENT}})
        return {
            "dead_endpoint": dead_endpoint,
            "load_1min": round(os.getloadavg()[0], 2),
            "orders": len(placed),
            "inside_candle": inside,
            "order_ms": {
                "p50": percentile(timing, 0.50),
                "p90": percentile(timing, 0.90),
                "p99": percentile(timing, 0.99),
                "max": round(max(timing), 1) if timing else None,
            },
            "deliveries_queued": deliveries,
            "deliveries_failing": failed,
            "dead_endpoint_requests": receiver.arrived,
        }
    finally:
        receiver.release()
        notifier.stop()
        notifier.join(10)
        bundle.stop()
        receiver.close()


def ratio(value: float | None, base: float | None) -> float | None:
    return None if value is None or not base else round(value / base, 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--traders", type=int, default=20)
    parser.add_argument("--orders", type=int, default=3, help="orders per trader in each run")
    parser.add_argument(
        "--speed", type=float, default=10.0, help="clock speed (market seconds per wall second)"
    )
    args = parser.parse_args(argv)
    baseline = run(args.traders, args.orders, args.speed, dead_endpoint=False)
    dead = run(args.traders, args.orders, args.speed, dead_endpoint=True)
    print(
        json.dumps(
            {
                "benchmark": "order timing (decision to placed) with and without a dead webhook endpoint",
                "speed": args.speed,
                "traders": args.traders,
                "decision_second": DECISION_SECOND,
                "environment": {
                    "python": platform.python_version(),
                    "cpus": os.cpu_count(),
                    "database": "embedded (mongomock)",
                    "broker": "paper",
                },
                "runs": [baseline, dead],
                "dead_vs_baseline": {
                    q: ratio(dead["order_ms"][q], baseline["order_ms"][q])
                    for q in ("p50", "p90", "p99", "max")
                },
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
