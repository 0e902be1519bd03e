"""The fake IQ Option server (one process for the session) and the driver that runs the adapter.

Everything that talks to the fake is bounded: the server must announce its
port within a deadline, and every driver process runs under a timeout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fakes import iq_server
from tests.fakes.iq_launcher import NotStarted, fake_iq_server

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


@pytest.fixture(scope="session")
def fake_server(tmp_path_factory) -> Iterator[FakeServer]:
    log = tmp_path_factory.mktemp("fake-iq-option") / "server.log"
    try:
        with fake_iq_server("--seed", str(FAKE_SEED), log=log) as url:
            yield FakeServer(url, FAKE_SEED, log)
    except NotStarted as failure:
        pytest.fail(str(failure))


@pytest.fixture
def fake(fake_server: FakeServer) -> FakeServer:
    """The fake server with every failure switch off."""
    iq_server.reset(fake_server.url)
    return fake_server
