"""Liveness and documentation: ping, health, openapi.json.

/health must answer within a second even while the database is down, so
every database read it makes runs in a worker thread under one budget
(`PROBE_SECONDS`, also passed to pymongo as its operation timeout). An
answer that does not come within the budget counts as "unreachable".
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

import pymongo
from flask import Blueprint, Response

from api.context import ctx
from api.openapi import build_openapi
from api.registry import PUBLIC, endpoint
from glimpse.runtime.clock import wall_span
from glimpse.runtime.heartbeat import statuses
from glimpse.store import accounts, trades
from glimpse.store import servers as servers_store
from glimpse.store.db import ping as db_ping

bp = Blueprint("health", __name__, url_prefix="/glimpse")

PROBE_SECONDS = 0.8
# The stuck-user scan always gets at least this long (the whole answer stays under a second).
MIN_DETAILS_SECONDS = 0.15
# A few probes may wait on a dead database at once; more answer "unreachable" at once
# instead of piling up threads behind it.
_PROBES = 4
_slots = threading.BoundedSemaphore(_PROBES)
_executor = ThreadPoolExecutor(max_workers=_PROBES, thread_name_prefix="health-probe")

# Users in these states are waiting for a service to act.
STUCK_STATES = ("waiting", "assigning", "stopping")
# The timestamp each state starts at, where the document has one.
STATE_SINCE = {"waiting": "waitingSince", "assigning": "assignedAt", "stopping": "stoppingSince"}


@endpoint(bp, "/ping", access=PUBLIC, method="GET")
def ping():
    """Answers `pong`."""
    return Response("pong", mimetype="text/plain")


class Unreachable(Exception):
    pass


def _bounded(probe: Any, budget: float) -> Any:
    if not _slots.acquire(blocking=False):
        raise Unreachable("earlier probes are still waiting for the database")

    def run() -> Any:
        try:
            with pymongo.timeout(budget):
                return probe()
        finally:
            _slots.release()

    future = _executor.submit(run)
    try:
        return future.result(timeout=budget)
    except FutureTimeout:
        raise Unreachable(f"no answer within {budget:g} s") from None
    except pymongo.errors.PyMongoError as exc:
        raise Unreachable(type(exc).__name__) from None


def _servers(db: Any, now: float, lease: float) -> list[dict[str, Any]]:
    out = []
    for server in servers_store.all_servers(db):
        age = now - server.uptime
        out.append(
            {
                "name": server.name,
                "status": server.status,
                "holding": bool(server.target),
                "age": round(age, 3),
                "alive": age <= lease,
            }
        )
    return sorted(out, key=lambda s: s["name"])


def _stuck_users(db: Any, now: float, limit: float, servers: dict[str, bool]) -> list[dict[str, Any]]:
    """Users left in a waiting state longer than lease + grace, or stopping with no live server."""
    out = []
    for account in accounts.in_states(db, STUCK_STATES):
        state = account.glimpse_status
        since = account.stored(STATE_SINCE[state])
        server = account.server
        if isinstance(since, (int, float)):
            stuck = now - float(since) > limit
            age: float | None = round(now - float(since), 3)
        else:
            # No timestamp (stopping): stuck when no live server is there to finish it.
            stuck = not servers.get(server, False)
            age = None
        if stuck:
            out.append({"user": str(account.id), "status": state, "server": server, "for": age})
    return out


def _stalled_sessions(db: Any, now: float, limit: float, servers: dict[str, bool]) -> list[dict[str, Any]]:
    """Operating users whose server is not alive, and orders unresolved past their expiry + limit."""
    out = []
    for account in accounts.in_states(db, ("operating",)):
        if not servers.get(account.server, False):
            out.append({"user": str(account.id), "server": account.server, "reason": "server not alive"})
    for trade in trades.overdue_unresolved(db):
        due = trade.expiresAt or trade.decidedAt or 0
        if now - float(due) > limit:
            out.append(
                {
                    "user": trade.user,
                    "session": trade.session,
                    "trade": str(trade.id),
                    "reason": f"order {trade.status} past its expiry",
                }
            )
    return out


def check(c: Any, budget: float = PROBE_SECONDS) -> tuple[dict[str, Any], int]:
    """The health body and its status code (503 when the database or a service is down).

    The liveness figures (ping, heartbeats: small collections) decide the status and get
    the budget first; the stuck users and stalled sessions (scans of Accounts and Trades)
    get what is left, and are marked `partial` instead of failing the check when it runs out.
    """
    started = time.monotonic()
    now = c.clock.now()
    lease = wall_span(c.clock, c.config.lease_seconds)
    limit = lease + wall_span(c.clock, c.config.assign_grace_seconds)

    def liveness() -> dict[str, Any]:
        if not db_ping(c.db):
            raise Unreachable("ping failed")
        return {"services": statuses(c.db, now, lease), "servers": _servers(c.db, now, lease)}

    try:
        found = _bounded(liveness, budget)
    except Unreachable as exc:
        body = {
            "status": "degraded",
            "database": "unreachable",
            "reason": str(exc),
            "failing": ["database"],
            "services": [],
            "time": now,
        }
        return body, 503
    alive = {s["name"]: s["alive"] for s in found["servers"]}

    def details() -> dict[str, Any]:
        return {
            "stuckUsers": _stuck_users(c.db, now, limit, alive),
            "stalledSessions": _stalled_sessions(c.db, now, limit, alive),
        }

    try:
        found.update(_bounded(details, max(budget - (time.monotonic() - started), MIN_DETAILS_SECONDS)))
        found["partial"] = False
    except Unreachable:
        found.update(stuckUsers=None, stalledSessions=None, partial=True)
    failing = [s["name"] for s in found["services"] if not s["alive"]]
    # A server that holds a user must beat; an idle dead one only matters when none is left.
    failing += [s["name"] for s in found["servers"] if s["holding"] and not s["alive"]]
    if found["servers"] and not any(s["alive"] for s in found["servers"]):
        failing.append("operational servers")
    attention = found["partial"] or found["stuckUsers"] or found["stalledSessions"]
    body = {
        "status": "degraded" if failing else ("attention" if attention else "ok"),
        "database": "ok",
        "failing": failing,
        **found,
        "time": now,
    }
    return body, 503 if failing else 200


@endpoint(
    bp,
    "/health",
    access=PUBLIC,
    method="GET",
    responses={503: "the database is unreachable or a service is out of its lease (named in `failing`)"},
)
def health():
    """Database reachability, service heartbeats, stuck users and sessions with no progress (within 1 s)."""
    return check(ctx())


_openapi_cache: dict = {}


@endpoint(bp, "/openapi.json", access=PUBLIC, method="GET")
def openapi():
    """This document."""
    if "doc" not in _openapi_cache:
        _openapi_cache["doc"] = build_openapi()
    return _openapi_cache["doc"]
