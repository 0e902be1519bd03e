"""Liveness: each service writes `ServerStatus{name, uptime}` from a thread of its own."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from glimpse.runtime.clock import Clock, sleep_until
from glimpse.store import db as names

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
