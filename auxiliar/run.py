"""Running one auxiliary service alone: `python -m auxiliar.<service>`."""

from __future__ import annotations

import logging
import signal
import sys
import threading

from glimpse.clock import clock_for
from glimpse.config import ConfigError, load_config
from glimpse.db import open_database
from glimpse.services import ServiceContext


def run_alone(service) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = load_config()
    except ConfigError as exc:
        print(f"{service.name}: {exc}", file=sys.stderr)
        sys.exit(2)
    if config.embedded:
        print(f"{service.name}: set GLIMPSE_MONGO_URI (the embedded database lives inside `glimpse up`)", file=sys.stderr)
        sys.exit(2)
    ctx = ServiceContext(config=config, db=open_database(config), clock=clock_for(config.clock_speed, config.clock_anchor))
    running = service.start(ctx)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    running.stop()
    running.join(timeout=30)
