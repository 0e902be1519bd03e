"""Liveness and documentation: ping, health, openapi.json."""

from __future__ import annotations

from flask import Blueprint, Response

from api.context import ctx
from api.openapi import build_openapi
from api.registry import PUBLIC, endpoint
from glimpse.runtime.clock import wall_span
from glimpse.runtime.heartbeat import statuses
from glimpse.store.db import ping as db_ping

bp = Blueprint("health", __name__, url_prefix="/glimpse")


@endpoint(bp, "/ping", access=PUBLIC, method="GET")
def ping():
    """Answers `pong`."""
    return Response("pong", mimetype="text/plain")


@endpoint(bp, "/health", access=PUBLIC, method="GET", responses={503: "the database is unreachable"})
def health():
    """Database reachability and the heartbeats of the services."""
    c = ctx()
    reachable = db_ping(c.db)
    now = c.clock.now()
    body = {
        "status": "ok" if reachable else "degraded",
        "database": "ok" if reachable else "unreachable",
        "services": statuses(c.db, now, wall_span(c.clock, c.config.lease_seconds)) if reachable else [],
        "time": now,
    }
    return body, 200 if reachable else 503


_openapi_cache: dict = {}


@endpoint(bp, "/openapi.json", access=PUBLIC, method="GET")
def openapi():
    """This document."""
    if "doc" not in _openapi_cache:
        _openapi_cache["doc"] = build_openapi()
    return _openapi_cache["doc"]
