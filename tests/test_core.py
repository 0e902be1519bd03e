"""Configuration, database handle, clocks and secrets."""

from __future__ import annotations

import sys
import threading

import pymongo
import pytest

from glimpse.runtime import security
from glimpse.runtime.clock import FastClock, ManualClock, sleep_until
from glimpse.runtime.config import ConfigError, load_config
from glimpse.store.db import INDEXES, ensure_indexes, new_embedded_database, ping


def test_indexes_are_idempotent_and_unique(db):
    ensure_indexes(db)
    ensure_indexes(db)
    for collection in INDEXES:
        names = {ix["name"] for ix in db[collection].list_indexes()}
        assert {m.document["name"] for m in INDEXES[collection]} <= names
    db.Accounts.insert_one({"email": "a@b.c"})
    with pytest.raises(pymongo.errors.DuplicateKeyError):
        db.Accounts.insert_one({"email": "a@b.c"})
    db.Strategies.insert_one({"name": "Alpha", "nameKey": "alpha"})
    with pytest.raises(pymongo.errors.DuplicateKeyError):
        db.Strategies.insert_one({"name": "ALPHA", "nameKey": "alpha"})
    assert ping(db)


def test_embedded_conditional_claims_are_atomic():
    # Many threads race to claim one waiting document; exactly one may win.
    # A tiny switch interval makes the threads interleave inside mongomock;
    # without the store lock, most rounds double-claim.
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        _race_claims(new_embedded_database())
    finally:
        sys.setswitchinterval(previous)


def _race_claims(db):
    for round_ in range(20):
        db.Servers.insert_one({"name": f"s{round_}", "status": "waiting"})
        winners: list[object] = []
        barrier = threading.Barrier(8)

        def claim(i, name=f"s{round_}", barrier=barrier, winners=winners):
            barrier.wait()
            doc = db.Servers.find_one_and_update(
                {"name": name, "status": "waiting"}, {"$set": {"status": "assigned", "by": i}}
            )
            if doc is not None:
                winners.append(i)

        threads = [threading.Thread(target=claim, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(winners) == 1
        assert db.Servers.find_one({"name": f"s{round_}"})["by"] == winners[0]


def test_password_hashing_and_encryption():
    h = security.hash_password("s3cret!", "test")
    assert security.is_hashed(h) and "s3cret!" not in h
    assert security.verify_password(h, "s3cret!")
    assert not security.verify_password(h, "wrong")
    assert not security.verify_password("s3cret!", "s3cret!")  # plaintext is never accepted as a hash
    enc = security.encrypt_secret("k" * 40, "iq-pass")
    assert security.is_encrypted(enc) and "iq-pass" not in enc
    assert security.decrypt_secret("k" * 40, enc) == "iq-pass"
    with pytest.raises(security.DecryptError):
        security.decrypt_secret("other-key" * 5, enc)


def test_tokens_expire_and_reject_forgery():
    claims = security.TokenClaims("abc", "user", "sid", expires=1000.0)
    token = security.sign_token("k" * 40, claims)
    assert security.read_token("k" * 40, token, now=999.0) == claims
    with pytest.raises(security.TokenError, match="expired"):
        security.read_token("k" * 40, token, now=1000.0)
    with pytest.raises(security.TokenError):
        security.read_token("another-key" * 4, token, now=0)
    with pytest.raises(security.TokenError):
        security.read_token("k" * 40, token[:-2] + "xx", now=0)


def test_clocks():
    manual = ManualClock(100.0)
    assert sleep_until(manual, 160.0)
    assert manual.now() >= 160.0
    stop = threading.Event()
    stop.set()
    assert not sleep_until(manual, 1e12, stop)
    fast = FastClock(speed=1000.0, start=0.0)
    fast.sleep(50.0)  # 50 ms of wall time
    assert fast.now() >= 50.0
    with pytest.raises(ValueError):
        FastClock(0)


def test_clock_speed_setting():
    from glimpse.runtime.clock import SystemClock, clock_for

    assert load_config({"GLIMPSE_CLOCK_SPEED": "30"}).clock_speed == 30.0
    assert isinstance(clock_for(1.0), SystemClock) and isinstance(clock_for(30.0), FastClock)
    for bad in ("0", "fast", "-2"):
        with pytest.raises(ConfigError, match="GLIMPSE_CLOCK_SPEED"):
            load_config({"GLIMPSE_CLOCK_SPEED": bad})
    shared = {
        "GLIMPSE_CLOCK_SPEED": "5",
        "GLIMPSE_MONGO_URI": "mongodb://x",
        "GLIMPSE_SECRET_KEY": "k" * 40,
        "GLIMPSE_SERVICE_TOKEN": "s" * 20,
    }
    with pytest.raises(ConfigError, match="GLIMPSE_CLOCK_ANCHOR"):
        load_config(shared)
    assert load_config(dict(shared, GLIMPSE_CLOCK_ANCHOR="1700000000")).clock_anchor == 1700000000.0
    # Two clocks with the same anchor read the same market time.
    import time

    anchor = time.time() - 10
    a, b = clock_for(60, anchor), clock_for(60, anchor)
    assert abs(a.now() - b.now()) < 1.0 and a.now() > anchor + 500


def test_id_lookups_answer_like_a_scan():
    import re

    from bson import ObjectId

    db = new_embedded_database()
    ids = [db.T.insert_one({"n": i, "s": "a" if i % 2 else "b"}).inserted_id for i in range(20)]
    db.T.insert_one({"_id": "text-id", "n": 99})
    assert db.T.find_one({"_id": ids[3]})["n"] == 3
    assert db.T.find_one({"_id": ids[3], "s": "b"}) is None  # the rest of the filter still applies
    assert db.T.find_one({"_id": ObjectId()}) is None
    assert db.T.find_one({"_id": "text-id"})["n"] == 99
    assert db.T.count_documents({"_id": {"$in": ids[:5]}}) == 5
    assert db.T.count_documents({"_id": re.compile("^text")}) == 1
    assert db.T.update_one({"_id": ids[4], "n": 4}, {"$set": {"n": 40}}).modified_count == 1
    assert db.T.update_one({"_id": ids[4], "n": 4}, {"$set": {"n": 41}}).modified_count == 0
    assert db.T.find_one_and_update({"_id": ids[5]}, {"$inc": {"n": 1}})["n"] == 5
    assert db.T.find_one({"_id": ids[5]})["n"] == 6
