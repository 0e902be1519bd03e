"""`glimpse simulate`: the embedded bundle on a fast clock, end to end.

U demo users (a mix of strategy and signal modes, gale types and stops)
press Start together; the lister, the candle streams, the assigner and U
operational servers run M market minutes of the paper market; then every
user presses Stop. It prints a summary: trades and results, net profit,
assignment latency (assignedAt − the user's own Start, waitingSince, in
wall milliseconds), order timing (placedAt − decision instant, in wall
milliseconds whatever the speed), decisions dropped as too late, the
minutes with orders against those with a match (a session decided to
trade), stops triggered and errors, and the CPU the process used while the
users traded.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import os
import re
import secrets
import sys
import threading
import time
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from bson import ObjectId

from glimpse.cli import CLIError
from glimpse.rules.timing import coming_minute
from glimpse.runtime import security
from glimpse.runtime.clock import FastClock
from glimpse.runtime.config import load_config
from glimpse.runtime.services import ServiceContext, load_services
from glimpse.store import accounts, signals, strategies
from glimpse.store import trades as ledger
from glimpse.store.accounts import DEFAULT_SETTINGS, MoneySettings
from glimpse.store.db import new_embedded_database
from glimpse.store.seed import seed_database
from glimpse.store.signals import Signal
from glimpse.store.strategies import StrategyDoc

log = logging.getLogger(__name__)

# Monday 2024-06-03 10:00:05 in São Paulo: the forex market is open for hours.
DEFAULT_START = "2024-06-03T10:00:05-03:00"
SERVICES = ("lister", "candles_starter", "server_assigner", "operational_server")

# Strategies short enough to trigger within a simulated half hour.
SIM_STRATEGIES: list[dict[str, Any]] = [
    {"name": "Sim Uma Cor", "sequence": "1", "operation": "call", "mirror": True},
    {"name": "Sim Duas Vermelhas", "sequence": "-1,-1", "operation": "call", "mirror": True},
    {"name": "Sim Verde Vermelha", "sequence": "1,-1", "operation": "put", "mirror": False},
]
GALE_TYPES = ("dobro", "cobrir", "sobra")


def _thread_cpu() -> dict[int, tuple[str, float]]:
    """Each live thread's CPU seconds so far, with its name, by thread id."""
    used: dict[int, tuple[str, float]] = {}
    for thread in threading.enumerate():
        if thread.ident is None:
            continue
        try:
            used[thread.ident] = (thread.name, time.clock_gettime(time.pthread_getcpuclockid(thread.ident)))
        except (OSError, AttributeError):  # it ended meanwhile, or the platform has no thread clocks
            continue
    return used


def _cpu_use(
    start: tuple[float, float, dict[int, tuple[str, float]]],
    end: tuple[float, float, dict[int, tuple[str, float]]],
) -> dict[str, Any]:
    """CPU seconds per wall second between two (wall, process CPU, thread CPU) readings: the process's,
    and its threads' by role (a name without its number: every session server is "server-glimpse")."""
    wall = end[0] - start[0]
    if wall <= 0:
        return {"process_per_wall_second": None, "by_thread": {}}
    by_role: dict[str, float] = {}
    for ident, (name, used) in end[2].items():
        before = start[2].get(ident)
        since = used - (before[1] if before is not None and before[0] == name else 0.0)
        if since < 0:  # its id was reused by a thread of the same name: this one's own time
            since = used
        role = re.sub(r"[-_]\d+$", "", name)
        by_role[role] = by_role.get(role, 0.0) + since
    ranked = sorted(by_role.items(), key=lambda item: -item[1])
    return {
        "process_per_wall_second": round((end[1] - start[1]) / wall, 3),
        # Threads that ended before the end reading are not in it (the process figure has them).
        "by_thread": {role: round(used / wall, 3) for role, used in ranked if used / wall >= 0.001},
    }


def _cpu_reading() -> tuple[float, float, dict[int, tuple[str, float]]]:
    return time.perf_counter(), time.process_time(), _thread_cpu()


class ErrorCounter(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.count = 0
        self.first: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if len(self.first) < 5:
            self.first.append(f"{record.name}: {record.getMessage()}")


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return round(ordered[index], 3)


def _users(ctx: ServiceContext, count: int, minutes: int) -> list[str]:
    db, clock, config = ctx.db, ctx.clock, ctx.config
    for strategy in SIM_STRATEGIES:
        strategies.upsert_by_name(
            db,
            StrategyDoc(
                name=strategy["name"], created_by="Simulação", sequence=strategy["sequence"],
                operation=strategy["operation"], mirror=strategy["mirror"],
            ),
        )  # fmt: skip
    password_hash = security.hash_password(secrets.token_urlsafe(12), "test")
    broker_password = security.encrypt_secret(config.secret_key.get_secret_value(), "sim-paper")
    ids = []
    for i in range(count):
        email = f"sim{i:04d}@glimpse.local"
        created = accounts.create(db, f"Sim User {i}", email, password_hash, clock.now(), premium_days=30,
                                  owned_strategies=[s["name"] for s in SIM_STRATEGIES])  # fmt: skip
        if created is None:
            raise CLIError(f"simulation account {email} exists already")
        money: MoneySettings = {
            "money": 2 + i % 3, "gale": i % 4 != 0, "galeCount": 1 + i % 3, "galeType": GALE_TYPES[i % 3], "sobra": 1,
            "stopLoss": i % 5 == 1, "stopLossValue": 15, "stopWin": i % 5 == 2, "stopWinValue": 6,
        }  # fmt: skip
        # The paper broker's balance reaches the account when a server connects it.
        accounts.set_broker_credentials(db, created, email, broker_password, 0, 0)
        settings = copy.deepcopy(DEFAULT_SETTINGS)
        settings["glimpse"]["operationPriority"] = "stop" if i % 2 else "gale"
        mode = "signals" if i % 4 == 3 else "strategy"
        accounts.update_profile(db, created, {
            "readTerms": True, "preferedPayout": "> 80", "strategy": SIM_STRATEGIES[i % len(SIM_STRATEGIES)]["name"],
            "strategySettings": money, "signalSettings": money, "mode": mode, "settings": settings,
        })  # fmt: skip
        user_id = str(created)
        if mode == "signals":
            pairs = ["EURUSD", "GBPUSD", "USDJPY", "AUDCAD", "EURJPY"]
            rows = [
                Signal(id=f"{i}-{k}", ativo=pairs[(i + k) % len(pairs)],
                       hora=coming_minute(clock.now() + 60 * (2 + 3 * k), config.zone),
                       operacao="call" if (i + k) % 2 else "put")
                for k in range(max(1, (minutes - 2) // 3))
            ]  # fmt: skip
            signals.replace(db, user_id, rows)
        ids.append(user_id)
    return ids


def _minutes(trades: list[Any], expired: Iterable[int], stopped_at: float) -> tuple[set[int], set[int]]:
    """The decision minutes in which at least one order was placed, and those in which a session decided
    to trade before the users pressed Stop: an order was written (placed or not) or a decision was
    dropped as too late. A strategy user is in a cycle for two minutes or more, so no minute need have
    a match of every user. An entry armed for an instant after the Stop (its intent written ahead, then
    closed as not sent when the order desk saw the Stop) was rightly not traded: no match."""
    traded = {int(t.decidedAt // 60) for t in trades if t.placedAt is not None}
    matched = {int(t.decidedAt // 60) for t in trades if t.decidedAt < stopped_at} | set(expired)
    return traded, matched


def simulate(users: int, minutes: int, speed: float, start: float) -> dict[str, Any]:
    config = load_config({}).with_(password_hash_profile="test", servers=users, clock_speed=speed)
    db = new_embedded_database("Simulation")
    seed_database(db)
    clock = FastClock(speed, start)
    ctx = ServiceContext(config=config, db=db, clock=clock)
    errors = ErrorCounter()
    logging.getLogger().addHandler(errors)
    available = load_services()
    missing = [name for name in SERVICES if name not in available]
    if missing:
        raise CLIError(f"services not installed: {', '.join(missing)}")
    user_ids = _users(ctx, users, minutes)
    load_at_start = os.getloadavg()
    running = {name: available[name].start(ctx) for name in SERVICES}
    try:
        time.sleep(min(2.0, 120 / speed))  # let the lister and the streams fill the market data
        pressed = clock.now()
        ids = [ObjectId(u) for u in user_ids]
        for uid in ids:
            # Each user's own press time: the wait for a server is measured from it (waitingSince).
            accounts.press_start(db, uid, ["off"], clock.now(), {})
        trading = _cpu_reading()
        time.sleep(minutes * 60 / speed)
        cpu = _cpu_use(trading, _cpu_reading())
        stopped_at = clock.now()
        for uid in ids:
            accounts.press_stop(db, uid, ["operating", "waiting", "assigning"], {})
        # Stopping waits for the orders in flight: at most about two market minutes.
        deadline = time.monotonic() + max(10.0, 150 / speed)
        while time.monotonic() < deadline and any(
            (a := accounts.find_by_id(db, uid)) is not None and a.glimpse_status != "off" for uid in ids
        ):
            time.sleep(0.5)
    finally:
        for service in running.values():
            service.stop()
        for service in running.values():
            service.join(timeout=60)
        logging.getLogger().removeHandler(errors)
    users_now = [a for u in user_ids if (a := accounts.find_by_id(db, u)) is not None]
    latencies = [
        (a.assigned_at - (a.waiting_since or pressed)) / speed * 1000 for a in users_now if a.assigned_at
    ]
    trades = [t for u in user_ids for t in ledger.of_user(db, u)]
    results = [t.result for t in trades]
    net = sum((t.profit_reais for t in trades if t.profit_reais is not None), Decimal(0))
    titles = [a["title"] for acc in users_now for a in acc.alerts]
    timings = getattr(running["operational_server"], "timings", None)
    samples = list(timings.samples) if timings is not None else []
    traded_minutes, matched_minutes = _minutes(trades, getattr(timings, "expired_minutes", ()), stopped_at)
    not_off = sum(1 for a in users_now if a.glimpse_status != "off")
    open_left = sum(1 for t in trades if t.status != "closed")
    return {
        "users": users,
        "minutes": minutes,
        "speed": speed,
        "trades": len(trades),
        "wins": results.count("win"),
        "losses": results.count("loss"),
        "dojis": results.count("doji"),
        "failed": results.count("failed"),
        "not_placed": results.count("not_placed"),
        "net_profit": float(net),
        "assigned_users": len(latencies),
        "assignment_latency_ms": {
            "p50": _percentile(latencies, 50),
            "max": round(max(latencies), 3) if latencies else None,
        },
        "order_timing_ms": {
            "samples": len(samples),
            "p50": _percentile(samples, 50),
            "p99": _percentile(samples, 99),
        },
        "decisions_too_late": getattr(timings, "expired", 0),
        "minutes_with_orders": len(traded_minutes),
        "minutes_with_a_match": len(matched_minutes),
        # Minutes with a match and no order: the goal is none.
        "minutes_without_orders": len(matched_minutes - traded_minutes),
        "stops_triggered": {"stop_win": titles.count("Stop Win."), "stop_loss": titles.count("Stop Loss.")},
        "users_not_off_at_end": not_off,
        "trades_not_closed": open_left,
        "errors": errors.count + not_off + open_left,
        "error_samples": errors.first,
        # The machine's 1, 5 and 15 minute load averages when the users pressed Start and at the end:
        # figures measured on a busy machine say so.
        "load_average": {
            "start": [round(v, 2) for v in load_at_start],
            "end": [round(v, 2) for v in os.getloadavg()],
        },
        # From Start to Stop: near 1 CPU second per wall second, the interpreter is busy all the time,
        # and orders wait for it (only one thread runs Python at a time).
        "cpu": cpu,
    }


def run(args: argparse.Namespace) -> int:
    if not 1 <= args.users <= 1000:
        raise CLIError("--users must be from 1 to 1000")
    if not 1 <= args.minutes <= 24 * 60:
        raise CLIError("--minutes must be from 1 to 1440")
    if not 1 <= args.speed <= 600:
        raise CLIError("--speed must be from 1 to 600")
    try:
        start = datetime.fromisoformat(args.start).timestamp()
    except ValueError:
        raise CLIError(f"--start must be an ISO date-time with a zone, got {args.start!r}") from None
    if not args.json:
        print(
            f"simulating {args.users} users for {args.minutes} market minutes at {args.speed:g}x ...",
            file=sys.stderr,
        )
    summary = simulate(args.users, args.minutes, args.speed, start)
    if args.json:
        print(json.dumps(summary))
    else:
        for key, value in summary.items():
            print(f"{key:>22}: {value}")
    return 0 if summary["errors"] == 0 else 1


def register(sub) -> None:
    p = sub.add_parser("simulate", help="run the embedded bundle on a fast clock and summarise it")
    p.add_argument("--users", type=int, default=20, help="demo users who press Start together (default 20)")
    p.add_argument("--minutes", type=int, default=10, help="market minutes to run (default 10)")
    p.add_argument("--speed", type=float, default=60.0, help="market seconds per wall second (default 60)")
    p.add_argument(
        "--start", default=DEFAULT_START, help=f"market time to start at (default {DEFAULT_START})"
    )
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.set_defaults(func=run)
