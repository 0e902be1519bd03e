"""The launcher of the fake IQ Option server: the URL it yields serves, the server is gone after the
block, and a server that cannot start is reported with its own words."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest

from tests.fakes import iq_server
from tests.fakes.iq_launcher import NotStarted, fake_iq_server, websocket_url


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def test_the_url_serves_while_the_block_runs_and_nothing_listens_after(tmp_path):
    with fake_iq_server("--seed", "7", log=tmp_path / "server.log") as base:
        address = urlsplit(base)
        assert address.scheme == "http" and address.hostname == "127.0.0.1"
        assert websocket_url(base) == f"ws://127.0.0.1:{address.port}/echo/websocket"
        assert iq_server.state(base)["orders"] == []
    assert address.port is not None
    assert not _accepts("127.0.0.1", address.port)


def test_a_server_that_cannot_start_is_reported_with_its_log(tmp_path):
    log = tmp_path / "server.log"
    with pytest.raises(NotStarted, match="unknown pair 'NOPE'"):
        with fake_iq_server("--suspend", "NOPE", log=log):
            pytest.fail("the block ran without a server")
