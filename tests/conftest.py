"""Shared fixtures: configuration, a fresh database per test, clocks.

Every suite runs on a real MongoDB when GLIMPSE_TEST_MONGO_URI is set (each
test gets its own database, dropped afterwards), and on mongomock otherwise.
"""

from __future__ import annotations

import os
import uuid

import pytest

from glimpse.runtime.clock import ManualClock
from glimpse.runtime.config import Config, load_config
from glimpse.store.db import ensure_indexes, new_embedded_database

TEST_MONGO_URI = os.environ.get("GLIMPSE_TEST_MONGO_URI")


@pytest.fixture
def config() -> Config:
    cfg = load_config(
        {
            "GLIMPSE_SECRET_KEY": "test-secret-key-" + "x" * 32,
            "GLIMPSE_SERVICE_TOKEN": "service-token-for-tests",
        }
    )
    return cfg.with_(password_hash_profile="test", mongo_uri=TEST_MONGO_URI)


@pytest.fixture
def db():
    if TEST_MONGO_URI:
        import pymongo

        client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(
            TEST_MONGO_URI, serverSelectionTimeoutMS=5000, tz_aware=True
        )
        name = "glimpse_test_" + uuid.uuid4().hex[:12]
        database = client[name]
        ensure_indexes(database)
        yield database
        client.drop_database(name)
        client.close()
    else:
        database = new_embedded_database("Glimpse")
        ensure_indexes(database)
        yield database


@pytest.fixture
def clock() -> ManualClock:
    # Monday 2024-06-03 13:00 UTC = 10:00 in São Paulo: the forex market is open.
    return ManualClock(1_717_419_600.0)
