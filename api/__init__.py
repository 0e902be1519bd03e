"""The Glimpse API: a Flask app factory with one blueprint per area."""

from __future__ import annotations

import functools
import logging
from typing import Any

from flask import Flask
from flask_cors import CORS

from api.context import ApiContext
from api.errors import register_error_handlers
from api.mailer import OutboxMailer
from api.manager_app import register_manager_app
from api.routes import BLUEPRINTS
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
        mailer=mailer or OutboxMailer(db, clock),
        check_broker_credentials=check_broker_credentials,
    )
    CORS(
        app,
        resources={r"/glimpse/*": {"origins": list(config.cors_origins)}},
        allow_headers=["Authorization", "Content-Type"],
        methods=["GET", "POST", "OPTIONS"],
    )
    for bp in BLUEPRINTS:
        app.register_blueprint(bp)
    register_manager_app(app, config)
    register_webapp(app, config.web_dist)
    register_error_handlers(app)
    return app
