"""GET /metrics (Prometheus text format) and the per-route request metrics.

Readable only with `Authorization: Bearer <GLIMPSE_SERVICE_TOKEN>`: the
figures (users trading, login failures) are operator data. The blueprint
also times every API request, labelled by URL rule rather than raw path so
that ids in paths cannot blow up the label space.
"""

from __future__ import annotations

import secrets
import time

from flask import Blueprint, Response, g, request

from api.context import ctx
from glimpse.runtime import logs, metrics
from glimpse.runtime.security import constant_time_equal

bp = Blueprint("metrics", __name__)

# Login routes and the kind of account they log in.
LOGIN_ROUTES = {"/glimpse/login": "user", "/glimpse/managerLogin": "manager"}


def _route() -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else "unmatched"


@bp.before_app_request
def _start_timer() -> None:
    g.glimpse_request_started = time.perf_counter()
    # JSON log lines of this request carry its id and route (glimpse/runtime/logs.py).
    g.glimpse_log_token = logs.push(request=secrets.token_hex(6), route=_route())


@bp.teardown_app_request
def _end_log_context(exc: BaseException | None) -> None:
    token = g.pop("glimpse_log_token", None)
    if token is not None:
        try:
            logs.pop(token)
        except ValueError:  # set in another context (a streamed response): it dies with it
            pass


@bp.after_app_request
def _observe(response: Response) -> Response:
    started = g.pop("glimpse_request_started", None)
    route = _route()
    if route == "/metrics":
        return response
    metrics.API_REQUESTS.labels(route=route, method=request.method, status=str(response.status_code)).inc()
    if started is not None:
        metrics.API_LATENCY.labels(route=route).observe(time.perf_counter() - started)
    if response.status_code == 429:
        metrics.count_throttled(route)
    elif route in LOGIN_ROUTES and response.status_code == 200 and response.is_json:
        # A refused login answers 200 {"res": -1} (the original contract): counted here, once.
        body = response.get_json(silent=True)
        if isinstance(body, dict) and body.get("res") == -1:
            metrics.count_login_failure(LOGIN_ROUTES[route])
    return response


@bp.route("/metrics", methods=["GET"])
def scrape() -> Response:
    c = ctx()
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    expected = c.config.service_token.get_secret_value()
    if scheme.lower() != "bearer" or not expected or not constant_time_equal(token.strip(), expected):
        return Response(
            '{"error": "the service token is required"}',
            status=401,
            mimetype="application/json",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    body = metrics.exposition(c.db, c.clock.now)
    return Response(body, status=200, content_type=metrics.CONTENT_TYPE)
