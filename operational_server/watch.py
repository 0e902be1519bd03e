"""One thread per process keeps its servers alive and watches their users.

Every quarter second (wall time) it refreshes the heartbeat of all the
process's servers in one write, even while their sessions wait on orders,
and reads back their assignments, the users they hold and those users'
status. Idle servers and waiting sessions consult this instead of each
polling MongoDB; a session re-reads
its user from the database itself right before it trades.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from glimpse.runtime.services import ServiceContext
from glimpse.store import lifecycle

log = logging.getLogger(__name__)

BEAT_WALL_SECONDS = 0.25


class PoolWatch(threading.Thread):
    def __init__(
        self, ctx: ServiceContext, server_names: list[str], incarnation: str, stop_event: threading.Event
    ):
        super().__init__(name="servers-heartbeat", daemon=True)
        self.ctx = ctx
        self.server_names = list(server_names)
        self.incarnation = incarnation
        self.stop_event = stop_event
        self._lock = threading.Lock()
        self._servers: dict[str, tuple[str, str]] = {}
        self._held: dict[str, str] = {}
        self._states: dict[str, tuple[str, str]] = {}
        self.refreshed = threading.Event()
        # The names of the servers able to serve (set by the pool); None: all of them.
        self.serving: Callable[[], list[str]] | None = None

    def refresh(self) -> None:
        db, now = self.ctx.db, self.ctx.clock.now()
        # A dead or failing server thread gets no beat, so its lease runs out and its user is released.
        live = self.serving() if self.serving is not None else list(self.server_names)
        owned = lifecycle.beat(db, self.incarnation, now, servers=live)
        if owned < len(live):
            log.error("%d of this process's servers were taken over by another process", len(live) - owned)
        servers = lifecycle.server_states(db, self.incarnation)
        held = {
            name: target for name, (status, target) in servers.items() if status == "operating" and target
        }
        states = lifecycle.user_states(db, list(held.values())) if held else {}
        with self._lock:
            self._servers, self._held, self._states = servers, held, states
        self.refreshed.set()

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                self.refresh()
            except Exception:
                log.exception("server heartbeat failed; retrying")
            self.stop_event.wait(BEAT_WALL_SECONDS)

    def assigned(self, server: str) -> bool:
        """Whether the assigner gave this server a user (as of the last beat)."""
        with self._lock:
            return self._servers.get(server, ("", ""))[0] == "assigned"

    def holds(self, server: str, user_id: str) -> bool:
        with self._lock:
            return self._held.get(server) == user_id

    def operating(self, server: str, user_id: str) -> bool:
        with self._lock:
            return self._states.get(user_id) == ("operating", server)
