"""The Glimpse API: a Flask app factory with one blueprint per area."""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Iterable
from typing import Any

import pymongo.database
from flask import Flask, request
from flask.wrappers import Response
from flask_cors import CORS

from api import throttle
from api.auth import KnownTokens, client_address
from api.context import ApiContext
from api.errors import register_error_handlers
from api.jsonio import request_json
from api.mailer import mailer_for
from api.manager_app import register_manager_app
from api.metrics_route import RequestMetrics, name_request
from api.registry import ROUTES
from api.routes import BLUEPRINTS
from api.routes import chart as chart_routes
from api.webapp import register_webapp
from glimpse.runtime.clock import Clock, SystemClock
from glimpse.runtime.config import Config, load_config
from glimpse.store.db import open_database

log = logging.getLogger(__name__)


def _broker_checker(config: Config, db: Any, clock: Clock):
    try:
        from glimpse.market import check_credentials
    except ImportError:
        log.warning("glimpse.market is not available: checkIq answers 503")
        return None
    return functools.partial(check_credentials, config, db, clock)


# The apps are built by Vite: scripts and styles from files of their own origin, icons as data:
# URLs (ionicons), and Ionic/Stencil set inline styles, which need 'unsafe-inline' for style-src.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
}


class SecurityHeaders:
    """WSGI middleware: every response leaves with SECURITY_HEADERS, unless it set one itself.
    Appended to the header list gunicorn writes, rather than set on each Flask response
    (werkzeug's Headers.setdefault, four times, was an eighth of a ping)."""

    def __init__(self, app: Any, headers: dict[str, str]):
        self.app = app
        self.headers = list(headers.items())
        self.names = frozenset(name.lower() for name in headers)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            present = {name.lower() for name, _ in headers} & self.names
            if present:
                headers.extend(item for item in self.headers if item[0].lower() not in present)
            else:
                headers.extend(self.headers)
            return start_response(status, headers, exc_info)

        return self.app(environ, start)


def _cors_only_with_origin(app: Flask) -> None:
    """flask-cors's response hook, run only for a request that sends an Origin: without one it
    adds nothing (always_send=False), yet it matched the path against its resources every time."""
    hooks = app.after_request_funcs.get(None, [])
    for at, hook in enumerate(hooks):
        if getattr(hook, "__name__", "") == "cors_after_request":

            def with_origin(response: Response, cors: Any = hook) -> Response:
                return cors(response) if request.environ.get("HTTP_ORIGIN") else response

            hooks[at] = with_origin


def _parse_public_bodies() -> Callable[[], None]:
    """A before-request hook: the body of a public route is checked (api.jsonio) before any other
    hook reads it (the blocked-login check reads the login body), so a body too deep, with lone
    surrogates or out of int64 is a 400 there too. Routes behind a token keep checking the token
    first (401 before 400), in api.registry."""
    public = {f"{route.tag}.{route.view_name}" for route in ROUTES if not route.access}

    def check() -> None:
        if request.endpoint in public and request.method not in ("GET", "HEAD", "OPTIONS"):
            request_json()

    return check


class TrustedProxies:
    """WSGI middleware: behind a trusted reverse proxy, REMOTE_ADDR becomes the client's address
    read from X-Forwarded-For (api.auth.client_address), so throttles and logs see the client
    rather than the proxy. From any other peer, X-Forwarded-For is ignored."""

    def __init__(self, app: Any, networks: Iterable[Any]):
        self.app = app
        self.networks = tuple(networks)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        peer = environ.get("REMOTE_ADDR") or ""
        environ["glimpse.peer_addr"] = peer
        environ["REMOTE_ADDR"] = client_address(peer, environ.get("HTTP_X_FORWARDED_FOR", ""), self.networks)
        return self.app(environ, start_response)


def create_app(
    config: Config | None = None,
    *,
    db: Any = None,
    clock: Clock | None = None,
    mailer: Any = None,
    check_broker_credentials: Any = "default",
) -> Flask:
    config = config or load_config()
    db = db if db is not None else open_database(config)
    clock = clock or SystemClock()
    if check_broker_credentials == "default":
        check_broker_credentials = _broker_checker(config, db, clock)
    app = Flask(__name__)
    app.before_request(name_request)
    app.config.update(MAX_CONTENT_LENGTH=config.max_body_bytes, JSON_SORT_KEYS=False)
    app.extensions["glimpse"] = ApiContext(
        config=config,
        db=db,
        clock=clock,
        mailer=mailer or mailer_for(config, db),
        check_broker_credentials=check_broker_credentials,
    )
    CORS(
        app,
        resources={r"/glimpse/*": {"origins": list(config.cors_origins)}},
        allow_headers=["Authorization", "Content-Type"],
        methods=["GET", "POST", "OPTIONS"],
        always_send=False,  # no Access-Control-Allow-Origin for a request without an Origin
    )
    _cors_only_with_origin(app)
    app.extensions["glimpse_tokens"] = KnownTokens(
        sessions_here=config.embedded and not isinstance(db, pymongo.database.Database)
    )
    # Innermost, so that every answer of the app carries them (the refusal gate adds its own
    # headers and counts its own refusals).
    app.wsgi_app = SecurityHeaders(app.wsgi_app, SECURITY_HEADERS)  # type: ignore[method-assign]
    app.wsgi_app = RequestMetrics(app.wsgi_app)  # type: ignore[method-assign]
    if config.trusted_proxies:
        app.wsgi_app = TrustedProxies(app.wsgi_app, config.trusted_proxies)  # type: ignore[method-assign]
    throttle.init_app(app, config)
    # Before the blueprints' own hooks (which may read the body), so none sees a hostile one.
    app.before_request(_parse_public_bodies())
    for bp in (*BLUEPRINTS, chart_routes.bp):
        app.register_blueprint(bp)
    register_manager_app(app, config)
    register_webapp(app, config.web_dist)
    register_error_handlers(app)
    _one_hook_each(app)
    return app


def _one_hook_each(app: Flask) -> None:
    """The app-wide before- and after-request hooks, each list run from one function, in Flask's
    order (before: as registered, the first answer wins; after: the last registered first).

    Flask passes every hook through `ensure_sync` on every request (`inspect.iscoroutinefunction`
    each time): eight hooks were more than the whole getUser view's own work beyond its account
    read. Hooks registered later are still run by Flask, in their usual place."""
    before = list(app.before_request_funcs.get(None, ()))
    after = list(reversed(app.after_request_funcs.get(None, ())))
    if any(inspect.iscoroutinefunction(hook) for hook in (*before, *after)):
        return  # async hooks need Flask's own wrapping
    if len(before) > 1:

        def before_request() -> Any:
            for hook in before:
                answer = hook()
                if answer is not None:
                    return answer
            return None

        app.before_request_funcs[None] = [before_request]
    if len(after) > 1:

        def after_request(response: Response) -> Response:
            for hook in after:
                response = hook(response)
            return response

        app.after_request_funcs[None] = [after_request]
