"""The API as a service of `glimpse up`: gunicorn serves the Flask app.

In embedded mode there is one worker process, because the database lives in
its memory: the worker seeds it, and the background services (lister, candle
streams, assigner, operational servers) run as threads inside that worker,
sharing the same in-memory database. With a real MongoDB the API runs
several workers and the other services run in their own processes.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from gunicorn.app.base import BaseApplication

from api import tarpit
from glimpse.runtime.clock import clock_for
from glimpse.runtime.config import Config
from glimpse.runtime.heartbeat import HeartbeatThread
from glimpse.runtime.services import ServiceContext
from glimpse.store.db import open_database

log = logging.getLogger(__name__)

# Threads of each gthread worker. A request that waits for a password hash (at most
# glimpse.runtime.security.HASH_THREADS run at once, whatever the thread count) holds its
# thread while it waits, so a burst of logins from many addresses must not be able to take
# every thread: an idle thread costs little (its stack), a hash's memory is bounded by the pool.
THREADS = 64


class _GunicornApp(BaseApplication):
    def __init__(self, config: Config, background: list[Any], banner: str, workers: int):
        self.glimpse_config = config
        self.background = background
        self.banner = banner
        self.workers = workers
        self.running: list[Any] = []
        self.context: ServiceContext | None = None
        super().__init__()

    def load_config(self) -> None:
        app = self

        def when_ready(server):
            print(app.banner, flush=True)

        def post_worker_init(worker):
            app._start_background()

        def worker_exit(server, worker):
            app._stop_background()

        settings = {
            "bind": f"{self.glimpse_config.api_host}:{self.glimpse_config.api_port}",
            "workers": self.workers,
            "worker_class": "gthread",
            "threads": THREADS,
            "timeout": 60,
            "graceful_timeout": 20,
            "when_ready": when_ready,
            "post_worker_init": post_worker_init,
            "worker_exit": worker_exit,
            "loglevel": "info",
        }
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self):
        from api import create_app

        config = self.glimpse_config
        db = open_database(config)
        if config.embedded:
            from glimpse.store.seed import seed_database

            report = seed_database(db)
            log.info("embedded database seeded: %s", report)
        self.context = ServiceContext(
            config=config, db=db, clock=clock_for(config.clock_speed, config.clock_anchor)
        )
        app = create_app(config, db=db, clock=self.context.clock)
        # Refusals are held a moment (api/tarpit.py), by at most half the threads: the rest
        # always remain for requests that are not refused.
        tarpit.install(app, max_sleeping=THREADS // 2)
        return app

    def _start_background(self) -> None:
        ctx = self.context
        assert ctx is not None, "load() runs before the workers start"
        heartbeat = HeartbeatThread(ctx.db, "API", ctx.clock)
        heartbeat.start()
        self.running.append(heartbeat)
        for service in self.background:
            log.info("starting %s", service.name)
            self.running.append(service.start(ctx))

    def _stop_background(self) -> None:
        for running in reversed(self.running):
            running.stop()
        for running in reversed(self.running):
            running.join(timeout=30)
        self.running.clear()


class ApiService:
    name = "api"

    def serve(self, config: Config, background: list[Any], banner: str, workers: int | None = None) -> None:
        """Run gunicorn in the foreground until it is stopped (Ctrl-C or SIGTERM)."""
        if workers is None:
            workers = 1 if config.embedded else 2
        if config.embedded and workers != 1:
            raise ValueError("the embedded database lives in one process: use one worker")
        sys.argv = sys.argv[:1]  # gunicorn parses sys.argv; ours belong to the glimpse CLI
        _GunicornApp(config, background, banner, workers).run()


service = ApiService()


if __name__ == "__main__":
    from glimpse.runtime.services import serve_standalone

    sys.exit(
        serve_standalone(
            "api",
            lambda config: service.serve(
                config, [], f"Glimpse API on http://{config.api_host}:{config.api_port}/"
            ),
        )
    )
