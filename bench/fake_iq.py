"""The fake IQ Option server (tests/fakes/iq_server.py) in a process of its own, for the benchmarks.

    with fake_iq_server() as base:  # "http://127.0.0.1:PORT"
        ws_url = websocket_url(base)

The server announces its port on its first line; the wait for it is bounded, and the
process is stopped (terminated, then killed) however the block ends.
"""

from __future__ import annotations

import select
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ANNOUNCEMENT = "fake IQ Option server on "


def websocket_url(base: str) -> str:
    """The fake's websocket endpoint under the HTTP base it announced."""
    return base.replace("http://", "ws://", 1) + "/echo/websocket"


def _announcement(process: subprocess.Popen[str], timeout: float) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.2)
        if ready:
            return process.stdout.readline()
        if process.poll() is not None:
            break
    return ""


@contextmanager
def fake_iq_server(*args: str, start_timeout: float = 30.0) -> Iterator[str]:
    """The server's HTTP base URL while the block runs; `args` go to its command line (--seed ...)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.iq_server", "--port", "0", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = _announcement(process, start_timeout)
        if not line.startswith(ANNOUNCEMENT):
            raise RuntimeError(f"the fake IQ Option server did not start: {line!r}")
        yield line[len(ANNOUNCEMENT) :].strip().rstrip("/")
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
