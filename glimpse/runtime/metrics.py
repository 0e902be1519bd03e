"""Prometheus metrics: the objects every service increments, and the ledger collector.

Process-local figures (API requests, login failures, throttled requests,
order latency, dropped decisions) are ordinary prometheus-client metrics in
`REGISTRY`. Figures that must be true across processes (orders by result,
active sessions, heartbeat ages) are read from the database at scrape time
by `DatabaseCollector`, so any API process answers the same numbers.

Other code increments through the names below, e.g. `LOGIN_FAILURES.labels(kind="user").inc()`,
or calls `observe_order_latency(ms)` / `count_dropped_decision()`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# One registry of our own: the default one carries process collectors that
# differ per worker and would hide our names among them in tests.
REGISTRY = CollectorRegistry(auto_describe=True)

API_REQUESTS = Counter(
    "glimpse_api_requests_total",
    "API requests answered, by route (the URL rule, not the raw path), method and status code.",
    ("route", "method", "status"),
    registry=REGISTRY,
)
API_LATENCY = Histogram(
    "glimpse_api_request_seconds",
    "API request duration in seconds, by route.",
    ("route",),
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
LOGIN_FAILURES = Counter(
    "glimpse_login_failures_total",
    "Failed logins, by account kind (user or manager).",
    ("kind",),
    registry=REGISTRY,
)
THROTTLED = Counter(
    "glimpse_throttled_requests_total",
    "Requests refused with 429, by route.",
    ("route",),
    registry=REGISTRY,
)
ORDER_LATENCY = Histogram(
    "glimpse_order_latency_milliseconds",
    "Time from the trading decision to the broker's acceptance of the order, in milliseconds.",
    buckets=(10, 25, 50, 100, 250, 500, 1000, 1500, 2000, 3000, 5000, 10000),
    registry=REGISTRY,
)
DECISIONS_DROPPED = Counter(
    "glimpse_decisions_dropped_total",
    "Decisions not sent to the broker because they were too late for their candle.",
    registry=REGISTRY,
)
MAIL_SENT = Counter(
    "glimpse_mail_sent_total",
    "Mails handed to the SMTP server (or the development log), by outcome.",
    ("outcome",),
    registry=REGISTRY,
)


def observe_order_latency(ms: float) -> None:
    """Record one order's latency from its decision instant (call where the broker accepts it)."""
    ORDER_LATENCY.observe(max(0.0, float(ms)))


def count_dropped_decision() -> None:
    """Count a decision dropped as too late (call where the session skips it)."""
    DECISIONS_DROPPED.inc()


def count_login_failure(kind: str) -> None:
    LOGIN_FAILURES.labels(kind=kind).inc()


def count_throttled(route: str) -> None:
    THROTTLED.labels(route=route).inc()


# Every result a closed trade can carry (glimpse/store/trades.py).
SETTLED_RESULTS = ("win", "loss", "doji", "failed", "not_placed")
# The window of the ledger's order-latency figures, in seconds of the bundle's clock.
LATENCY_WINDOW = 900
LATENCY_QUANTILES = (0.5, 0.9, 0.99)
# The life-cycle states that count as an active session.
ACTIVE_STATUSES = ("waiting", "assigning", "operating", "stopping")


class DatabaseCollector(Collector):
    """Ledger and life-cycle figures read from MongoDB at scrape time.

    `now` gives the current time of the bundle's clock (heartbeat ages are
    measured in it). A database error yields no samples rather than an error:
    /metrics must answer during an outage, and /health reports the outage.
    """

    def __init__(self, db: Any, now: Callable[[], float]):
        self.db, self.now = db, now

    def describe(self) -> Iterable[Metric]:
        # Nothing at registration: collect() reads the database.
        return []

    def collect(self) -> Iterator[Metric]:
        from glimpse.store import accounts, trades
        from glimpse.store import db as names

        try:
            # One pass per field (an index walk on the embedded store), not one query per value.
            ledger = trades.tally_ledger(self.db)
            results, statuses = ledger.by_result, ledger.by_status
            placed = CounterMetricFamily(
                "glimpse_orders_placed",
                "Orders the broker took, from the ledger (Trades): a broker order id or a settled result.",
            )
            placed.add_metric([], ledger.placed)
            settled = CounterMetricFamily(
                "glimpse_orders_settled", "Settled orders in the ledger, by result.", labels=["result"]
            )
            for result in SETTLED_RESULTS:
                # Only a closed trade has a result (glimpse/store/trades.py).
                settled.add_metric([result], results.get(result, 0))
            by_status = GaugeMetricFamily(
                "glimpse_orders_by_status",
                "Orders in the ledger by status (pending, open, unknown, closed).",
                labels=["status"],
            )
            for status in ("pending", "open", "unknown", "closed"):
                by_status.add_metric([status], statuses.get(status, 0))
            sessions = GaugeMetricFamily(
                "glimpse_active_sessions",
                "Users whose bot is on, by mode and status.",
                labels=["mode", "status"],
            )
            for (mode, status), count in accounts.count_by_mode_and_status(self.db, ACTIVE_STATUSES).items():
                sessions.add_metric([mode, status], count)
            ages = GaugeMetricFamily(
                "glimpse_heartbeat_age_seconds",
                "Seconds since each service's last heartbeat.",
                labels=["service"],
            )
            now = self.now()
            # ORDER_LATENCY only sees the orders of this process; the ledger sees every server's.
            latency = _latency_summary(trades.recent_order_latencies(self.db, now - LATENCY_WINDOW))
            for doc in self.db[names.SERVER_STATUS].find({}, {"_id": 0, "name": 1, "uptime": 1}):
                ages.add_metric([str(doc.get("name"))], now - float(doc.get("uptime") or 0))
        except Exception:
            log.warning("metrics: the database did not answer; ledger figures left out", exc_info=True)
            return
        yield placed
        yield settled
        yield by_status
        yield sessions
        yield ages
        yield from latency


def _latency_summary(seconds: list[float]) -> list[Metric]:
    """Nearest-rank quantiles of the recent orders' latency, and how many orders they cover."""
    quantiles = GaugeMetricFamily(
        "glimpse_order_latency_recent_milliseconds",
        f"Decision to broker acceptance over the orders of every server decided in the last "
        f"{LATENCY_WINDOW} s (from the ledger), by quantile.",
        labels=["quantile"],
    )
    ordered = sorted(max(0.0, s) * 1000 for s in seconds)
    for q in LATENCY_QUANTILES if ordered else ():
        quantiles.add_metric([str(q)], ordered[max(1, math.ceil(q * len(ordered))) - 1])
    count = GaugeMetricFamily(
        "glimpse_order_latency_recent_orders",
        f"How many orders the latency quantiles cover (placed, decided in the last {LATENCY_WINDOW} s).",
    )
    count.add_metric([], len(ordered))
    return [quantiles, count]


def exposition(db: Any = None, now: Callable[[], float] | None = None) -> bytes:
    """The Prometheus text of the process metrics, plus the database figures when `db` is given."""
    if db is None:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Forward(REGISTRY))
    registry.register(DatabaseCollector(db, now or _wall))
    return generate_latest(registry)


class _Forward(Collector):
    def __init__(self, registry: CollectorRegistry):
        self.registry = registry

    def collect(self) -> Iterator[Metric]:
        yield from self.registry.collect()


def _wall() -> float:
    import time

    return time.time()
