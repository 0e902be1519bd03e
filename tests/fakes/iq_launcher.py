"""The fake IQ Option server (tests/fakes/iq_server.py) in a process of its own: the one launcher.

    with fake_iq_server("--seed", "4242", log=path) as base:  # "http://127.0.0.1:PORT"
        ws_url = websocket_url(base)

The server announces its port on its first line; the wait for it is bounded, and the
process is stopped (terminated, then killed) however the block ends. The tests of the
adapter, the fault harness and the benchmarks all start it here.

A module apart from the server so that starting the fake imports only the standard
library: a benchmark measuring its own memory must not load aiohttp and the market for it.
"""

from __future__ import annotations

import select
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ANNOUNCEMENT = "fake IQ Option server on "
SERVER_MODULE = "tests.fakes.iq_server"


class NotStarted(RuntimeError):
    """The server did not announce its URL in time (or died first)."""


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


def stop_process(process: subprocess.Popen) -> None:
    """Terminate a test server, and kill it if it has not ended 10 s later."""
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


@contextmanager
def fake_iq_server(
    *args: str,
    module: str = SERVER_MODULE,
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
    start_timeout: float = 30.0,
) -> Iterator[str]:
    """The server's HTTP base URL while the block runs.

    `args` go to its command line after `--port 0` (--seed ...); `module` is one that runs the
    server's main (tests.faults.iq_fast puts it on a fast clock); `env` replaces the
    environment; the server's stderr goes to `log` (nowhere without one).
    """
    command = [sys.executable, "-m", module, "--port", "0", *args]
    environment = None if env is None else dict(env)
    if log is None:
        process = subprocess.Popen(
            command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
    else:
        with open(log, "w") as errors:
            process = subprocess.Popen(
                command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=errors, text=True
            )
    try:
        line = _announcement(process, start_timeout)
        if not line.startswith(ANNOUNCEMENT):
            tail = f"\n{log.read_text()[-2000:]}" if log is not None else ""
            raise NotStarted(f"the fake IQ Option server did not start: {line!r}{tail}")
        yield line[len(ANNOUNCEMENT) :].strip().rstrip("/")
    finally:
        stop_process(process)
