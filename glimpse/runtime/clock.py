"""Injectable clocks. All code reads the time from one of these.

`SystemClock` is the wall clock. `FastClock` runs market time faster than the
wall clock, so tests and `glimpse simulate` can live through a trading day in
seconds. `ManualClock` moves only when a test advances it.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> float:
        """Epoch seconds in this clock's time."""

    def sleep(self, seconds: float) -> None:
        """Wait `seconds` of this clock's time."""


def sleep_until(clock: Clock, when: float, stop: threading.Event | None = None) -> bool:
    """Sleep until `clock.now() >= when`. False if `stop` was set first.

    Deadlines are absolute, so a loop that sleeps until its next tick never
    drifts the way `sleep(1)` loops do.
    """
    while True:
        remaining = when - clock.now()
        if remaining <= 0:
            return True
        if stop is not None and stop.is_set():
            return False
        clock.sleep(min(remaining, 0.5))


def local_datetime(clock_time: float, zone: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(clock_time, tz=zone)


class SystemClock:
    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class FastClock:
    """Clock time = start + (wall time elapsed since the anchor) × speed.

    Without an anchor the clock starts now (monotonic wall time). With an
    anchor (a wall epoch), every process given the same anchor and speed
    reads the same market time, so separate processes can share a fast clock.
    """

    def __init__(self, speed: float, start: float | None = None, anchor: float | None = None):
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = float(speed)
        self._anchor = anchor
        self._wall0 = time.monotonic()
        if start is None:
            start = time.time() if anchor is None else anchor
        self._start = float(start)

    def now(self) -> float:
        if self._anchor is not None:
            return self._start + (time.time() - self._anchor) * self.speed
        return self._start + (time.monotonic() - self._wall0) * self.speed

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds / self.speed)


def wall_span(clock: Clock, seconds: float) -> float:
    """`seconds` of wall time, in this clock's seconds.

    Leases, heartbeats and grace periods are about processes, not the market:
    on a fast clock they still last wall seconds.
    """
    return seconds * getattr(clock, "speed", 1.0)


def clock_for(speed: float, anchor: float | None = None) -> Clock:
    """The wall clock, or a fast clock when `speed` is not 1 (shared between processes with an anchor)."""
    return SystemClock() if speed == 1 else FastClock(speed, anchor=anchor)


class ManualClock:
    """A clock that stands still until `advance` or `set` moves it.

    `sleep` advances the clock itself, so code under test never blocks.
    """

    def __init__(self, start: float = 1_700_000_000.0):
        self._now = float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.advance(seconds)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds

    def set(self, when: float) -> None:
        with self._lock:
            self._now = float(when)
