"""`glimpse migrate` through real pymongo, against the fake MongoDB wire server.

The command line runs as an operator runs it (--from/--to URIs); the refusal
of an unmigrated database is checked in subprocesses, as `glimpse seed` and
a service run alone meet it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pymongo
import pytest

from glimpse.cli.main import main
from glimpse.store import db as names
from glimpse.store import migrate as migration
from glimpse.store.seed import collection_files, load_collection
from tests.fakes.mongo_server import MongoServer
from tests.test_migrate import FIXTURES, check_migrated, snapshot

ROOT = Path(__file__).resolve().parents[1]
SECRET_KEY = "test-secret-key-" + "x" * 32  # the `config` fixture's key


@pytest.fixture(scope="module")
def server():
    with MongoServer() as running:
        yield running


@pytest.fixture(scope="module")
def client(server):
    c: pymongo.MongoClient[dict[str, Any]]
    with pymongo.MongoClient(server.uri, serverSelectionTimeoutMS=5000, tz_aware=True) as c:
        yield c


@pytest.fixture
def original(client):
    """An original-shaped database on the wire server (dropped afterwards)."""
    name = "orig_" + uuid.uuid4().hex[:10]
    db = client[name]
    for collection, path in collection_files(FIXTURES).items():
        db[collection].insert_many(load_collection(path))
    yield db
    client.drop_database(name)


@pytest.fixture
def env(monkeypatch):
    monkeypatch.delenv("GLIMPSE_MONGO_URI", raising=False)
    monkeypatch.setenv("GLIMPSE_SECRET_KEY", SECRET_KEY)
    monkeypatch.setenv("GLIMPSE_SERVICE_TOKEN", "service-token-for-tests")


def test_migrate_in_place_through_pymongo(server, original, env, config, clock, capsys):
    uri = server.uri + original.name
    assert main(["migrate", "--from", uri, "--yes"]) == 0
    out = capsys.readouterr().out
    assert f"database {original.name!r}" in out and "TENDENCIA BRUNO (2)" in out
    assert "GLIMPSE_MARKET_EMAIL=analise@example.com" in out
    before = snapshot(original)

    assert main(["migrate", "--from", uri, "--yes"]) == 0
    assert "Nothing to change: the database is already migrated." in capsys.readouterr().out
    assert snapshot(original) == before

    check_migrated(original, config, clock)


def test_dry_run_through_pymongo_writes_nothing(server, original, env, capsys):
    before = snapshot(original, without=())
    assert main(["migrate", "--from", server.uri + original.name, "--dry-run"]) == 0
    assert "would change" in capsys.readouterr().out
    assert snapshot(original, without=()) == before


def test_migrate_into_another_database_leaves_the_original_alone(
    server, client, original, env, config, clock
):
    target = client["new_" + uuid.uuid4().hex[:10]]
    before = snapshot(original, without=())
    try:
        args = ["migrate", "--from", server.uri + original.name, "--to", server.uri + target.name, "--yes"]
        assert main(args) == 0
        assert snapshot(original, without=()) == before
        assert target[migration.MIGRATIONS].find_one({"_id": "copy"})["status"] == "copied"
        check_migrated(target, config, clock)
        assert main(args) == 0  # the copy is not repeated over the converted data
        assert migration.unmigrated_reason(target) is None
        assert target[names.SERVERS].find_one({"name": "glimpse_01"}) is None
    finally:
        client.drop_database(target.name)


def test_colliding_emails_exit_2_and_change_nothing(server, original, env, capsys):
    original[names.ACCOUNTS].insert_one({"name": "Ana", "email": "ANA.SOUZA@example.com", "password": "x"})
    before = snapshot(original, without=())
    assert main(["migrate", "--from", server.uri + original.name, "--yes"]) == 2
    assert "--merge-duplicates" in capsys.readouterr().out
    assert snapshot(original, without=()) == before


def _run(args: list[str], server, db_name: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLIMPSE_") and k != "PYTHONWARNINGS"}
    env.update(
        GLIMPSE_MONGO_URI=server.uri,
        GLIMPSE_DB=db_name,
        GLIMPSE_SECRET_KEY=SECRET_KEY,
        GLIMPSE_SERVICE_TOKEN="service-token-for-tests",
    )
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    "args, prefix",
    [(["-m", "glimpse.cli.main", "seed"], "glimpse seed: "), (["-m", "auxiliar.lister"], "")],
)
def test_an_unmigrated_database_is_refused_with_exit_2(server, original, args, prefix):
    done = _run(args, server, original.name)
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if "glimpse migrate" in line]
    assert len(lines) == 1 and lines[0].startswith(prefix)
    assert "strategies without nameKey" in lines[0]
    assert "Traceback" not in done.stderr
    # Refused before any unique index was built (they fail on the original's shapes).
    assert set(original[names.STRATEGIES].index_information()) == {"_id_"}
    assert set(original[names.ACCOUNTS].index_information()) == {"_id_"}


def test_seed_reset_empties_an_unmigrated_database_instead_of_refusing_it(server, original):
    done = _run(["-m", "glimpse.cli.main", "seed", "--reset", "--yes"], server, original.name)
    assert done.returncode == 0, done.stderr
    assert original["Sinais"].count_documents({}) == 0
    assert all("nameKey" in doc for doc in original[names.STRATEGIES].find())
    # The seeded database is a migrated one: the next start is not refused.
    assert _run(["-m", "glimpse.cli.main", "seed"], server, original.name).returncode == 0
