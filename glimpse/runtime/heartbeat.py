"""Liveness: each service writes `ServerStatus{name, uptime}` from a thread of its own."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from typing import Any

from glimpse.runtime.clock import Clock, sleep_until
from glimpse.store import db as names
from glimpse.store import servers

log = logging.getLogger(__name__)

DEFAULT_LEASE_SECONDS = 4.0


def beat(db: Any, name: str, now: float, **extra: Any) -> None:
    db[names.SERVER_STATUS].update_one({"name": name}, {"$set": {"uptime": now, **extra}}, upsert=True)


def statuses(db: Any, now: float, lease: float = DEFAULT_LEASE_SECONDS) -> list[dict[str, Any]]:
    """Every service's last heartbeat, its age in seconds and whether it is within the lease."""
    out = []
    for doc in db[names.SERVER_STATUS].find({}, {"_id": 0}).sort("name", 1):
        age = now - float(doc.get("uptime", 0))
        out.append(
            {"name": doc["name"], "uptime": doc.get("uptime", 0), "age": round(age, 3), "alive": age <= lease}
        )
    return out


class HeartbeatThread(threading.Thread):
    """Beats every `interval` seconds of `clock` time until stopped.

    With `healthy`, a beat is written only while it answers True: a service
    whose work has stopped lets its heartbeat age instead of looking alive.
    """

    def __init__(
        self,
        db: Any,
        name: str,
        clock: Clock,
        interval: float = 1.0,
        healthy: Callable[[], bool] | None = None,
    ):
        super().__init__(name=f"heartbeat-{name}", daemon=True)
        self.db, self.service, self.clock, self.interval = db, name, clock, interval
        self.healthy = healthy
        self._stop_event = threading.Event()

    def run(self) -> None:
        next_beat = self.clock.now()
        while not self._stop_event.is_set():
            try:
                if self.healthy is None or self.healthy():
                    beat(self.db, self.service, self.clock.now())
                else:
                    log.warning("%s is not healthy: no heartbeat", self.service)
            except Exception:
                log.exception("heartbeat of %s failed; retrying next interval", self.service)
            next_beat += self.interval
            if not sleep_until(self.clock, next_beat, self._stop_event):
                break

    def stop(self) -> None:
        self._stop_event.set()


def check(
    db: Any, now: float, lease: float, service: str | None = None, server_prefix: str | None = None
) -> str | None:
    """None when the named service (ServerStatus) or the servers named `server_prefix*` (Servers) beat
    within `lease`; otherwise why not. Used by the containers' health checks."""
    if service is not None:
        doc = db[names.SERVER_STATUS].find_one({"name": service}, {"uptime": 1})
        if doc is None:
            return f"{service} has never beaten"
        age = now - float(doc.get("uptime") or 0)
        return None if age <= lease else f"{service} last beat {age:.1f} s ago (lease {lease:g} s)"
    prefix = server_prefix or ""
    found = servers.named_like(db, prefix)
    if not found:
        return f"no server named {prefix}* is registered"
    stale = [s.name for s in found if now - s.uptime > lease]
    return f"servers out of their lease: {', '.join(stale)}" if stale else None


def main(argv: list[str] | None = None) -> int:
    """`python -m glimpse.runtime.heartbeat NAME | --servers [PREFIX]`: exit 0 while it beats, 1 otherwise."""
    import argparse
    import socket

    import pymongo

    from glimpse.runtime.clock import clock_for, wall_span
    from glimpse.runtime.config import ConfigError, load_config

    parser = argparse.ArgumentParser(
        prog="python -m glimpse.runtime.heartbeat",
        description="Health check of a service container: is its heartbeat within the lease?",
    )
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("service", nargs="?", help="the service's name in ServerStatus (e.g. Lister)")
    group.add_argument(
        "--servers",
        nargs="?",
        const=f"glimpse_{socket.gethostname()}_",
        metavar="PREFIX",
        help="the operational servers named PREFIX* (default: this host's, glimpse_<hostname>_)",
    )
    args = parser.parse_args(argv)
    try:
        config = load_config()
    except ConfigError as exc:
        print(f"heartbeat: {exc}", file=sys.stderr)
        return 2
    if config.embedded:
        print("heartbeat: needs GLIMPSE_MONGO_URI", file=sys.stderr)
        return 2
    clock = clock_for(config.clock_speed, config.clock_anchor)
    assert config.mongo_uri is not None
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
        config.mongo_uri.get_secret_value(), serverSelectionTimeoutMS=3000, connectTimeoutMS=3000
    )
    try:
        problem = check(
            client[config.db_name],
            clock.now(),
            wall_span(clock, config.lease_seconds) * 3,  # a health check tolerates a missed beat or two
            service=args.service,
            server_prefix=args.servers,
        )
    except Exception as exc:  # the database is down: unhealthy, with the reason
        problem = f"database: {type(exc).__name__}"
    finally:
        client.close()
    if problem:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return 1
    print("healthy")
    return 0


if __name__ == "__main__":
    sys.exit(main())
