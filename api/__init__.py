"""The Glimpse API: a Flask app factory with one blueprint per area."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, request
from flask.wrappers import Response
from flask_cors import CORS

from api import throttle
from api.auth import client_address
from api.context import ApiContext
from api.errors import register_error_handlers
from api.jsonio import request_json
from api.mailer import mailer_for
from api.manager_app import register_manager_app
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


def _security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


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
    app.after_request(_security_headers)
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
    return app
