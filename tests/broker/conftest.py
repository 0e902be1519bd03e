"""The fake IQ Option server (one process for the session) and the driver that runs the adapter.

Everything that talks to the fake is bounded: the server must announce its
port within a deadline, and every driver process runs under a timeout.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fakes import iq_server

ROOT = Path(__file__).resolve().parents[2]
FAKE_SEED = 4242


@dataclass
class FakeServer:
    url: str
    seed: int
    log: Path

    def run(self, scenario: str, *, timeout: float = 90.0, env: dict | None = None) -> dict:
        """Run a scenario of tests/broker/iq_driver.py in its own process; its observations."""
        environment = {k: v for k, v in os.environ.items() if not k.startswith("GLIMPSE_")}
        environment.update(env or {})
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "tests.broker.iq_driver",
                "--url",
                self.url,
                "--seed",
                str(self.seed),
                scenario,
            ],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        lines = done.stdout.strip().splitlines()
        if done.returncode != 0 or not lines:
            pytest.fail(f"driver {scenario!r} exited {done.returncode}:\n{done.stderr[-4000:]}")
        return json.loads(lines[-1])


def _first_line(process: subprocess.Popen, deadline: float) -> str:
    while time.monotonic() < deadline:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 0.2)
        if ready:
            return process.stdout.readline()
        if process.poll() is not None:
            break
    return ""


@pytest.fixture(scope="session")
def fake_server(tmp_path_factory) -> Iterator[FakeServer]:
    log = tmp_path_factory.mktemp("fake-iq-option") / "server.log"
    with open(log, "w") as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.fakes.iq_server", "--port", "0", "--seed", str(FAKE_SEED)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
    try:
        line = _first_line(process, time.monotonic() + 30)
        if "http://" not in line:
            pytest.fail(f"the fake IQ Option server did not start: {log.read_text()[-2000:]}")
        yield FakeServer(line.strip().rsplit(" ", 1)[-1], FAKE_SEED, log)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def fake(fake_server: FakeServer) -> FakeServer:
    """The fake server with every failure switch off."""
    iq_server.reset(fake_server.url)
    return fake_server
