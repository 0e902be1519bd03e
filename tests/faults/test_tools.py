"""The fault-injection tools: the fake MongoDB server's traps, the TCP proxy, pausing a process."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pymongo
import pytest
from pymongo.errors import AutoReconnect, OperationFailure, ServerSelectionTimeoutError

from tests.fakes.mongo_server import MongoServer
from tests.fakes.tcp_proxy import TcpProxy, pause

ROOT = Path(__file__).resolve().parents[2]

# A client process: one marked write, then "replied" on stdout when the server's answer arrives.
CLIENT = """
import sys, time, pymongo
client = pymongo.MongoClient(sys.argv[1], serverSelectionTimeoutMS=5000)
trades = client["Glimpse"]["Trades"]
trades.find_one({})
print("ready", flush=True)
sys.stdin.readline()
start = time.monotonic()
trades.update_one({"_id": 1, "status": "open"}, {"$set": {"status": "closed", "result": "win"}})
print("replied %.3f" % (time.monotonic() - start), flush=True)
"""


@pytest.fixture
def server():
    with MongoServer() as fake:
        yield fake


@pytest.fixture
def client(server):
    c: pymongo.MongoClient = pymongo.MongoClient(server.uri, serverSelectionTimeoutMS=3000)
    yield c
    c.close()


def _client_process(uri: str) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-c", CLIENT, uri],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    return process


def _go(process: subprocess.Popen) -> None:
    assert process.stdin is not None
    process.stdin.write("go\n")
    process.stdin.flush()


def _arm(client, **spec) -> int:
    return client.admin.command({"fakeTrap": "set", **spec})["trap"]


def test_a_kill_trap_kills_the_writer_after_the_write_is_applied_and_before_it_hears_so(server, client):
    trades = client["Glimpse"]["Trades"]
    trades.insert_one({"_id": 1, "status": "open"})
    process = _client_process(server.uri)
    try:
        _arm(
            client,
            collection="Trades",
            filter={"op": "update", "u.set.status": "closed"},
            action="kill",
            pid=process.pid,
        )
        _go(process)
        out, _ = process.communicate(timeout=15)
    finally:
        process.kill()
    assert process.returncode == -9
    assert "replied" not in out  # killed before the reply reached it
    assert trades.find_one({"_id": 1}) == {"_id": 1, "status": "closed", "result": "win"}  # yet applied
    traps = client.admin.command({"fakeTrap": "list"})
    assert traps["armed"] == []  # fired once, then disarmed
    [fired] = traps["fired"]
    assert fired["pid"] == process.pid and fired["action"] == "kill"
    assert fired["statement"]["q"] == {"_id": 1, "status": "open"}


def test_a_stop_trap_pauses_the_writer_for_its_seconds(server, client):
    client["Glimpse"]["Trades"].insert_one({"_id": 1, "status": "open"})
    process = _client_process(server.uri)
    try:
        _arm(
            client,
            collection="Trades",
            filter={"u.set.result": "win"},
            action="stop",
            seconds=1.5,
            pid=process.pid,
        )
        _go(process)
        out, _ = process.communicate(timeout=15)
    finally:
        process.kill()
    assert process.returncode == 0
    # The writer was frozen between the write and its reply: the round trip took the pause.
    assert float(out.split()[-1]) >= 1.4


def test_a_trap_ignores_other_collections_other_shapes_and_writes_that_changed_nothing(server, client):
    db = client["Glimpse"]
    db["Trades"].insert_one({"_id": 1, "status": "open"})
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        _arm(client, collection="Trades", filter={"u.set.status": "closed"}, action="kill", pid=process.pid)
        db["Accounts"].update_one({"_id": 1}, {"$set": {"status": "closed"}}, upsert=True)  # other collection
        db["Trades"].update_one({"_id": 1}, {"$set": {"status": "open"}})  # other update
        db["Trades"].update_one({"_id": 2}, {"$set": {"status": "closed"}})  # matched nothing
        db["Trades"].insert_one({"_id": 3, "status": "closed"})  # an insert has no update
        time.sleep(0.2)
        assert process.poll() is None
        assert len(client.admin.command({"fakeTrap": "list"})["armed"]) == 1
        # findAndModify counts as a write too, and the upsert of a missing document does.
        db["Trades"].find_one_and_update({"_id": 4}, {"$set": {"status": "closed"}}, upsert=True)
        assert process.wait(10) == -9
    finally:
        process.kill()
        process.wait(10)


def test_a_trap_on_an_inserted_document_and_clearing_traps(server, client):
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        _arm(client, collection="Trades", filter={"op": "insert", "doc.galeLevel": {"$gte": 1}},
             action="kill", pid=process.pid, times=2)  # fmt: skip
        client["Glimpse"]["Trades"].insert_one({"galeLevel": 0})
        time.sleep(0.2)
        assert process.poll() is None
        assert client.admin.command({"fakeTrap": "clear"}) == {"cleared": 1, "ok": 1.0}
        client["Glimpse"]["Trades"].insert_one({"galeLevel": 1})
        time.sleep(0.2)
        assert process.poll() is None
        _arm(client, collection="Trades", filter={"doc.galeLevel": 1}, action="kill", pid=process.pid)
        client["Glimpse"]["Trades"].insert_many([{"galeLevel": 2}, {"galeLevel": 1}])
        assert process.wait(10) == -9
    finally:
        process.kill()
        process.wait(10)


@pytest.mark.parametrize(
    "spec",
    [
        {"collection": "Trades", "action": "explode", "pid": 12345},
        {"collection": "Trades", "action": "kill"},
        {"collection": "", "action": "kill", "pid": 12345},
        {"collection": "Trades", "action": "stop", "pid": 12345},  # a stop needs its seconds
        {"collection": "Trades", "action": "kill", "pid": 12345, "filter": {"$bogus": 1}},
    ],
)
def test_a_malformed_trap_is_refused(client, spec):
    with pytest.raises(OperationFailure):
        client.admin.command({"fakeTrap": "set", **spec})
    assert client.admin.command({"fakeTrap": "list"})["armed"] == []


def test_the_proxy_forwards_then_cuts_every_connection_and_refuses_new_ones_for_its_seconds(server):
    with TcpProxy(("127.0.0.1", server.port)) as proxy:
        c: pymongo.MongoClient = pymongo.MongoClient(
            f"mongodb://{proxy.address}",
            serverSelectionTimeoutMS=300,
            connectTimeoutMS=300,
            retryWrites=False,
        )
        try:
            c["Glimpse"]["Trades"].insert_one({"_id": 1})
            assert proxy.open_connections >= 1
            cut_at = time.monotonic()
            assert proxy.cut(1.5) >= 1
            assert proxy.open_connections == 0
            with pytest.raises((AutoReconnect, ServerSelectionTimeoutError)):
                c["Glimpse"]["Trades"].find_one({"_id": 1})
            # A raw connection gets through the listener only to be reset (or closed) at once; on a busy
            # machine the reset may already be there when connect() returns.
            raw = None
            try:
                raw = socket.create_connection(("127.0.0.1", proxy.port), timeout=2)
                raw.sendall(b"x" * 16)
                answer = raw.recv(16)
            except ConnectionResetError:
                answer = b""
            finally:
                if raw is not None:
                    raw.close()
            assert answer == b""
            assert proxy.refused >= 1
            # The client gets back once the cut ends, and not before.
            found = None
            while found is None and time.monotonic() - cut_at < 10:
                try:
                    found = c["Glimpse"]["Trades"].find_one({"_id": 1})
                except (AutoReconnect, ServerSelectionTimeoutError):
                    time.sleep(0.1)
            assert found == {"_id": 1}
            assert time.monotonic() - cut_at >= 1.5
        finally:
            c.close()


def _state(pid: int) -> str:
    # The field after the parenthesised command name in /proc/<pid>/stat: R, S, T (stopped), ...
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def test_pause_stops_a_process_and_resumes_it_after_its_seconds():
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        time.sleep(0.2)
        timer = pause(process.pid, 1.0)
        assert _state(process.pid) == "T"
        timer.join(5)
        deadline = time.monotonic() + 5
        while _state(process.pid) == "T" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _state(process.pid) in ("S", "R")
    finally:
        process.kill()
        process.wait(10)
