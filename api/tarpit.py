"""A tarpit for refused requests: a refused answer is held a moment before it leaves.

The clients of a flood are closed loops: each sends its next request when the
last one is answered. However cheap a refusal is (api/throttle.py answers it
from memory), the cheaper it is the more of them arrive each second, and every
one of them is parsed, queued for the worker's threads and run under the
interpreter lock, ahead of the users' own requests (bench/abuse.py: a flood of
16 clients on refusals slowed another user's getUser almost as much as a flood
of pings). A thread that sleeps costs no CPU and holds no lock, so a refusal
held for a second slows such a client to about one request a second.

What is held, and only that:

- a 429, from any limit (its Retry-After, if shorter, bounds the delay);
- a failed login from an address, or for an account (from any address), that
  had already failed within the window (api.throttle.mark_login_failed tells
  it): a user's first typo is answered at once.

A request that is not refused is never held, and the throttles themselves do
not change: a stranger still cannot lock a user out, and a held refusal is
the same answer, later.

At most `max_sleeping` requests sleep at once (half the worker's threads, from
api.service): past that, a refusal is answered at once, so a bigger flood
cannot take every thread from the users. The sleep runs after the app has
answered (outside RequestMetrics, whose latency stays the server's work) and
before the first byte leaves: gunicorn writes the status and headers with the
body.

The tarpit is put in front of the app by the server (api.service), not by
`create_app`: tests that drive the throttles through Flask's test client are
not held. tests/api/test_tarpit.py drives this class with an injected sleep.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

# Set in the WSGI environ by api.throttle.mark_login_failed for a failed login whose address, or
# whose account, had failed before within the window.
HOLD_KEY = "glimpse.tarpit"
# How long a refusal is held at most.
HOLD_SECONDS = 1.0


def retry_after(headers: list[tuple[str, str]]) -> float | None:
    for name, value in headers:
        if name.lower() == "retry-after":
            try:
                return float(value)
            except ValueError:
                return None
    return None


class Tarpit:
    """WSGI middleware, outermost: holds a refused answer up to `seconds` before it leaves."""

    def __init__(self, app: Any, max_sleeping: int, seconds: float = HOLD_SECONDS,
                 sleep: Callable[[float], None] = time.sleep) -> None:  # fmt: skip
        self.app = app
        self.max_sleeping = max(0, max_sleeping)
        self.seconds = seconds
        self.sleep = sleep
        self.sleeping = 0
        self.held = 0  # answers held so far
        self.passed = 0  # refusals answered at once because max_sleeping were held already
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        delay: list[float] = []

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            delay[:] = [self.delay_for(status, headers, environ)]
            return start_response(status, headers, exc_info)

        body = self.app(environ, start)
        if delay and delay[0] > 0:
            self.hold(delay[0])
        return body

    def delay_for(self, status: str, headers: list[tuple[str, str]], environ: dict[str, Any]) -> float:
        """How long this answer is held: 0 unless it is a refusal."""
        if status.startswith("429"):
            after = retry_after(headers)
            return self.seconds if after is None else max(0.0, min(self.seconds, after))
        if environ.get(HOLD_KEY) and status.startswith("200"):
            return self.seconds
        return 0.0

    def hold(self, seconds: float) -> bool:
        """Sleeps `seconds` unless `max_sleeping` requests sleep already; whether it slept."""
        with self._lock:
            if self.sleeping >= self.max_sleeping:
                self.passed += 1
                return False
            self.sleeping += 1
            self.held += 1
        try:
            self.sleep(seconds)
        finally:
            with self._lock:
                self.sleeping -= 1
        return True


def install(app: Any, max_sleeping: int, seconds: float = HOLD_SECONDS) -> Tarpit:
    """Puts a Tarpit in front of everything a Flask app's wsgi_app does (the refusal gate too)."""
    tarpit = Tarpit(app.wsgi_app, max_sleeping, seconds)
    app.wsgi_app = tarpit
    app.extensions["glimpse_tarpit"] = tarpit
    return tarpit
