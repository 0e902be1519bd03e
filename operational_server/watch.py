"""One thread per process keeps its servers alive and watches their users.

Every quarter second (wall time) it reads back the process's servers'
assignments, the users they hold and those users' status. Idle servers and
waiting sessions consult this instead of each polling MongoDB; a session
re-reads its user from the database itself right before it trades.

The heartbeat of all the process's servers is refreshed in one write, even
while their sessions wait on orders, every `beat_every(lease)` wall seconds:
four beats or more per lease, and at most one a second. The beat is the
write of every server document of the process, so beating four times a
second at 500 servers was most of the process's interpreter time; a lease
(GLIMPSE_LEASE_SECONDS, 4 s by default, in wall seconds whatever the clock's
speed) still sees at least four beats, so a late beat or two never lets a
live server's lease run out.

Around the decision instant (the services' quiet window, glimpse.rules.timing.quiet_window:
from just before GLIMPSE_DECISION_SECOND until the instant's first orders are out) the
watch neither reads nor beats, so that the bots' orders do not wait behind its writes for
the database: a beat is skipped only when the last one plus the quiet time left stays
within half a lease.
Idle servers sleep on an event of their own, set when a read finds them
assigned, instead of each waking ten times a second to look.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from glimpse.rules.timing import quiet_window
from glimpse.runtime.services import ServiceContext
from glimpse.store import lifecycle

log = logging.getLogger(__name__)

# How often the servers' and their users' states are read (wall seconds).
READ_WALL_SECONDS = 0.25
# The longest gap between two beats (wall seconds), and the beats a lease sees at least.
MAX_BEAT_WALL_SECONDS = 1.0
BEATS_PER_LEASE = 4
# How many of the process's sessions take a startup step at once (PoolWatch.start_step). The steps
# are short writes and reads; hundreds run side by side when a wave of users is assigned together,
# and every one of them still in its step when the quiet time before an instant begins finishes it
# on the interpreter the order desk needs: at 60x, 100 such steps took 200 ms of the 65 ms from the
# read ahead to the candle's start. A few at a time start as fast (the interpreter runs one anyway).
STARTING_AT_ONCE = 4


def beat_every(lease_wall_seconds: float) -> float:
    """Wall seconds between two heartbeats for a lease of `lease_wall_seconds`."""
    return max(READ_WALL_SECONDS, min(MAX_BEAT_WALL_SECONDS, lease_wall_seconds / BEATS_PER_LEASE))


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
        self.beat_wall_seconds = beat_every(float(ctx.config.lease_seconds))
        self._beaten_at: float | None = None  # time.monotonic() of the last beat written
        self._wake: dict[str, threading.Event] = {name: threading.Event() for name in self.server_names}
        self.lease_wall_seconds = float(ctx.config.lease_seconds)
        # Market seconds of the minute; the same window as the assigner's and the candle streams'.
        self.quiet = quiet_window(float(ctx.config.decision_second), getattr(ctx.clock, "speed", 1.0))
        # The names of the servers able to serve (set by the pool); None: all of them.
        self.serving: Callable[[], list[str]] | None = None
        self._starting = threading.BoundedSemaphore(STARTING_AT_ONCE)

    def beat(self) -> None:
        """Refresh the heartbeat of the servers able to serve."""
        # A dead or failing server thread gets no beat, so its lease runs out and its user is released.
        live = self.serving() if self.serving is not None else list(self.server_names)
        owned = lifecycle.beat(self.ctx.db, self.incarnation, self.ctx.clock.now(), servers=live)
        if owned < len(live):
            log.error("%d of this process's servers were taken over by another process", len(live) - owned)

    def quiet_left(self) -> float:
        """Wall seconds left of the quiet time around the decision instant (0 outside it).

        A manual clock (tests) may stand still inside the quiet time: the watch is never quiet then.
        """
        if hasattr(self.ctx.clock, "advance") or not self.refreshed.is_set():
            return 0.0
        second = self.ctx.clock.now() % 60
        if not self.quiet[0] <= second < self.quiet[1]:
            return 0.0
        return (self.quiet[1] - second) / getattr(self.ctx.clock, "speed", 1.0)

    def after_quiet_time(self, stop: threading.Event) -> None:
        """Return once the quiet time around the decision instant is over (at once outside it), or `stop` is set."""
        left = self.quiet_left()
        if left > 0:
            stop.wait(left)

    @contextmanager
    def start_step(self, stop: threading.Event) -> Iterator[None]:
        """A session's startup step: begun outside the quiet time, with at most STARTING_AT_ONCE others
        of the process. Never around a wait on the broker or for a result: a session holding its place
        while it waits would hold up every session behind it. Once `stop` is set it waits no more."""
        held = False
        while not stop.is_set():
            self.after_quiet_time(stop)
            self._starting.acquire()
            if self.quiet_left() == 0:
                held = True
                break
            self._starting.release()  # the quiet time began while it waited for its place
        try:
            yield
        finally:
            if held:
                self._starting.release()

    def quiet_soon(self) -> bool:
        """Whether the quiet time begins before the next read."""
        ahead = (self.quiet[0] - self.ctx.clock.now() % 60) % 60
        return 0 < ahead <= READ_WALL_SECONDS * getattr(self.ctx.clock, "speed", 1.0)

    def refresh(self) -> None:
        """Beat when one is due, then read the servers' and their users' states.

        In the quiet time it reads nothing, and beats only when the lease could not wait for the
        end of it with a beat's margin to spare; the round before it beats, due or not, so that
        the quiet time starts with a fresh heartbeat.
        """
        moment = time.monotonic()
        since = None if self._beaten_at is None else moment - self._beaten_at
        quiet = self.quiet_left()
        due = since is None or not 0 <= since < self.beat_wall_seconds or (quiet == 0 and self.quiet_soon())
        if due and quiet > 0 and since is not None:
            due = since + quiet + READ_WALL_SECONDS > self.lease_wall_seconds - self.beat_wall_seconds
        if due:
            self.beat()
            self._beaten_at = moment
        if quiet > 0:
            return
        db = self.ctx.db
        servers = lifecycle.server_states(db, self.incarnation)
        held = {
            name: target for name, (status, target) in servers.items() if status == "operating" and target
        }
        states = lifecycle.user_states(db, list(held.values())) if held else {}
        with self._lock:
            self._servers, self._held, self._states = servers, held, states
        for name, (status, _) in servers.items():
            if status == "assigned" and name in self._wake:
                self._wake[name].set()
        self.refreshed.set()

    def wait_for_assignment(self, server: str, timeout: float) -> None:
        """Sleep until a read finds `server` assigned, `wake_all`, or `timeout` wall seconds."""
        event = self._wake.get(server)
        if event is None:
            self.stop_event.wait(timeout)
            return
        event.wait(timeout)
        event.clear()

    def wake_all(self) -> None:
        """Wake every idle server (the pool is stopping)."""
        for event in self._wake.values():
            event.set()

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                self.refresh()
            except Exception:
                log.exception("server heartbeat failed; retrying")
            self.stop_event.wait(READ_WALL_SECONDS)

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
