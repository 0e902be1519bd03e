"""GET /metrics (Prometheus text format) and the per-route request metrics.

Readable only with `Authorization: Bearer <GLIMPSE_SERVICE_TOKEN>`: the
figures (users trading, login failures) are operator data. RequestMetrics
also times every API request, labelled by URL rule rather than raw path so
that ids in paths cannot blow up the label space.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Response, request

from api.context import ctx
from glimpse.runtime import logs, metrics
from glimpse.runtime.ids import unique_hex
from glimpse.runtime.security import constant_time_equal

bp = Blueprint("metrics", __name__)

# Login routes and the kind of account they log in.
LOGIN_ROUTES = {"/glimpse/login": "user", "/glimpse/managerLogin": "manager"}


def _route() -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else "unmatched"


# Set by the first request hook, read by RequestMetrics once the app has answered (Flask drops
# its request object from the environ before the response leaves).
ROUTE_KEY = "glimpse.route"
LOG_TOKEN_KEY = "glimpse.log_token"
# Set by api.throttle.mark_login_failed: this login is answered {"res": -1} (a 200, the original contract).
LOGIN_FAILED_KEY = "glimpse.login_failed"


def name_request() -> None:
    """The app's first request hook (api.create_app), so that a request answered by a later hook
    (a refusal, a bad body) is counted under its route too."""
    environ = request.environ
    route = environ[ROUTE_KEY] = _route()
    # JSON log lines of this request carry its id and route (glimpse/runtime/logs.py).
    # The id only tells log lines apart: not a secret, so no system call (os.urandom releases the
    # interpreter lock, and under load each such release costs a wait of its own to get it back).
    environ[LOG_TOKEN_KEY] = logs.push(request=unique_hex(48), route=route)


class RequestMetrics:
    """WSGI middleware: times and counts every request the app answers, by route (the URL rule),
    method and status, and counts refused logins. One wrapper instead of three Flask hooks (before,
    after and teardown: a quarter of a ping), and the time covers the whole answer."""

    def __init__(self, app: Any):
        self.app = app
        # Label children by their labels: prometheus-client's labels() costs as much as the rest.
        self._requests: dict[tuple[str, str, str], Any] = {}
        self._latency: dict[str, Any] = {}

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        started = time.perf_counter()
        status: list[str] = []

        def start(code: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status[:] = [code[:3]]
            return start_response(code, headers, exc_info)

        try:
            return self.app(environ, start)
        finally:
            token = environ.pop(LOG_TOKEN_KEY, None)
            if token is not None:
                try:
                    logs.pop(token)
                except ValueError:  # set in another context: it dies with it
                    pass
            self._observe(environ, status[0] if status else "500", time.perf_counter() - started)

    def _observe(self, environ: dict[str, Any], status: str, seconds: float) -> None:
        route = environ.get(ROUTE_KEY, "unmatched")
        if route == "/metrics":
            return
        method = environ.get("REQUEST_METHOD", "")
        counter = self._requests.get((route, method, status))
        if counter is None:
            counter = self._requests[(route, method, status)] = metrics.API_REQUESTS.labels(
                route=route, method=method, status=status
            )
        counter.inc()
        latency = self._latency.get(route)
        if latency is None:
            latency = self._latency[route] = metrics.API_LATENCY.labels(route=route)
        latency.observe(seconds)
        if status == "429":
            metrics.count_throttled(route)
        elif status == "200" and environ.get(LOGIN_FAILED_KEY) and route in LOGIN_ROUTES:
            metrics.count_login_failure(LOGIN_ROUTES[route])


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
