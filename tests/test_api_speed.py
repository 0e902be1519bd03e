"""The API's fast paths answer what the slow ones did: the C encoder's JSON has json_util's shapes,
getCandlesRealtime's cached reply follows every write, and its compressed forms are the same JSON."""

from __future__ import annotations

import datetime
import gzip
import json

import brotli
import pytest
from bson import Decimal128, Int64, ObjectId, json_util
from bson.json_util import JSONMode, JSONOptions

from api.jsonio import dumps, json_response
from glimpse.store import db as names
from glimpse.store import versions
from glimpse.store.db import new_embedded_database, upsert_all
from tests.api.conftest import app, broker_check, client, service_headers  # noqa: F401 (fixtures)

RELAXED = JSONOptions(json_mode=JSONMode.RELAXED, tz_aware=True)


@pytest.mark.parametrize(
    "value",
    [
        {"_id": ObjectId(), "n": [1, 2.5, None, True], "t": "ção", "k": {"id": ObjectId()}},
        {"at": datetime.datetime(2024, 6, 3, 13, 0, tzinfo=datetime.UTC), "d": Decimal128("12.34")},
        {"i": Int64(7), "b": b"raw", "tuple": (1, 2), "set": {3}, 5: "int key"},
        [float("nan"), {"x": float("inf")}],
        [],
        "text",
    ],
)
def test_dumps_gives_json_utils_relaxed_shapes(value):
    assert json.loads(dumps(value)) == json.loads(json_util.dumps(value, json_options=RELAXED))


def test_object_ids_and_dates_leave_in_extended_json():
    oid = ObjectId()
    at = datetime.datetime(2024, 6, 3, 13, 0, tzinfo=datetime.UTC)
    assert json.loads(dumps({"_id": oid, "at": at})) == {
        "_id": {"$oid": str(oid)},
        "at": {"$date": "2024-06-03T13:00:00Z"},
    }


def test_json_response_is_application_json(app):  # noqa: F811
    with app.app_context():
        response = json_response([{"_id": ObjectId("0" * 24)}], 201)
    assert response.status_code == 201 and response.mimetype == "application/json"
    assert response.get_json() == [{"_id": {"$oid": "0" * 24}}]


def _candles(first: int, n: int = 15) -> list[dict]:
    return [
        {"o": 1.08, "c": 1.0801 + i / 1e4, "h": 1.081, "l": 1.079, "from": first + 60 * i} for i in range(n)
    ]


def test_realtime_candles_reply_follows_each_write(client, db, clock, service_headers):  # noqa: F811
    post = client.post
    post(
        "/glimpse/updateCandlesRealtime",
        json=[{"ativo": "EURUSD", "candles": _candles(1000)}],
        headers=service_headers,
    )
    first = client.get("/glimpse/getCandlesRealtime").json
    assert first[0]["candles"] == _candles(1000) and client.get("/glimpse/getCandlesRealtime").json == first
    # Through the service route, even at the same clock reading.
    post(
        "/glimpse/updateCandlesRealtime",
        json=[{"ativo": "EURUSD", "candles": _candles(1060)}],
        headers=service_headers,
    )
    assert client.get("/glimpse/getCandlesRealtime").json[0]["candles"] == _candles(1060)
    # Straight to the database, as the candle streams write (with their clock's time).
    clock.advance(1.5)
    db[names.REALTIME_CANDLES].update_one(
        {"ativo": "EURUSD"}, {"$set": {"candles": _candles(1120), "lastUpdated": clock.now()}}
    )
    db[names.REALTIME_CANDLES].insert_one(
        {"ativo": "AUDCAD", "candles": _candles(5), "lastUpdated": clock.now()}
    )
    again = client.get("/glimpse/getCandlesRealtime").json
    assert [d["ativo"] for d in again] == ["AUDCAD", "EURUSD"]
    assert again[1]["candles"] == _candles(1120) and again[1]["lastUpdate"] == int(clock.now() * 1000)
    assert again[1]["_id"] == first[0]["_id"] and set(again[1]["_id"]) == {"$oid"}
    db[names.REALTIME_CANDLES].delete_one({"ativo": "AUDCAD"})
    assert [d["ativo"] for d in client.get("/glimpse/getCandlesRealtime").json] == ["EURUSD"]


def test_realtime_candles_compressed_forms_hold_the_same_json(client, service_headers):  # noqa: F811
    pairs = [{"ativo": p, "candles": _candles(1000)} for p in ("EURUSD", "GBPUSD", "AUDCAD", "EURJPY")]
    client.post("/glimpse/updateCandlesRealtime", json=pairs, headers=service_headers)
    plain = client.get("/glimpse/getCandlesRealtime", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers
    for encoding, unpack in (("br", brotli.decompress), ("gzip", gzip.decompress)):
        for _ in range(2):  # compressed once, then from the cache
            reply = client.get("/glimpse/getCandlesRealtime", headers={"Accept-Encoding": encoding})
            assert (
                reply.headers["Content-Encoding"] == encoding and "Accept-Encoding" in reply.headers["Vary"]
            )
            assert json.loads(unpack(reply.get_data())) == plain.json


def test_ativos_in_pair_order_with_every_field(client, db):  # noqa: F811
    db[names.OPENED_ACTIVES].insert_many(
        [
            {"ativo": "GBPUSD", "open": "True", "payout": "88", "updatedAt": 5.0},
            {"ativo": "AUDCAD", "open": "False", "payout": 0},
            {"ativo": "EURUSD", "open": "True", "payout": "91"},
        ]
    )
    full = client.post("/glimpse/ativos", json={"type": "full"}).json
    assert [(a["ativo"], a["open"], a["payout"]) for a in full] == [
        ("AUDCAD", "False", 0), ("EURUSD", "True", "91"), ("GBPUSD", "True", "88")
    ]  # fmt: skip
    assert full[2]["updatedAt"] == 5.0 and set(full[0]["_id"]) == {"$oid"}
    db[names.OPENED_ACTIVES].update_one({"ativo": "AUDCAD"}, {"$set": {"open": "True", "payout": "80"}})
    compact = client.post("/glimpse/ativos", json={"type": "compact"}).json
    assert [a["ativo"] for a in compact] == ["AUDCAD", "EURUSD", "GBPUSD"]
    # The kept replies follow every later write, whoever makes it.
    assert client.post("/glimpse/ativos", json={"type": "full"}).json[0]["payout"] == "80"
    db[names.OPENED_ACTIVES].delete_one({"ativo": "EURUSD"})
    assert [a["ativo"] for a in client.post("/glimpse/ativos", json={"type": "compact"}).json] == [
        "AUDCAD",
        "GBPUSD",
    ]
    upsert_all(db[names.OPENED_ACTIVES], "ativo", [{"ativo": "GBPUSD", "open": "False", "payout": 0}])
    assert [a["ativo"] for a in client.post("/glimpse/ativos", json={"type": "compact"}).json] == ["AUDCAD"]
    db[names.OPENED_ACTIVES].drop()
    assert client.post("/glimpse/ativos", json={"type": "full"}).json == []


def test_change_token_moves_with_every_kind_of_write():
    db = new_embedded_database()
    pairs = db[names.OPENED_ACTIVES]
    seen = [versions.token(pairs)]
    writes = [
        lambda: pairs.insert_one({"ativo": "EURUSD", "open": "True"}),
        lambda: pairs.insert_many([{"ativo": "GBPUSD"}, {"ativo": "AUDCAD"}]),
        lambda: pairs.update_one({"ativo": "EURUSD"}, {"$set": {"payout": "90"}}),
        lambda: pairs.update_many({}, {"$set": {"open": "False"}}),
        lambda: pairs.update_one({"ativo": "EURJPY"}, {"$set": {"open": "True"}}, upsert=True),
        lambda: pairs.replace_one({"ativo": "EURJPY"}, {"ativo": "EURJPY", "open": "False"}),
        lambda: pairs.find_one_and_update({"ativo": "EURJPY"}, {"$set": {"payout": 0}}),
        lambda: upsert_all(pairs, "ativo", [{"ativo": "GBPUSD", "payout": "80"}]),
        lambda: pairs.delete_one({"ativo": "EURJPY"}),
        lambda: pairs.delete_many({}),
        lambda: pairs.drop(),
        lambda: pairs.insert_one({"ativo": "EURUSD"}),
    ]
    for write in writes:
        write()
        now = versions.token(pairs)
        assert now is not None and now not in seen
        seen.append(now)
    assert versions.token(pairs) == versions.token(pairs)  # reads leave it
    assert versions.token(db._target[names.OPENED_ACTIVES]) is None  # not the embedded handle


def test_the_original_api_stand_in_answers_as_the_reference_describes():
    from bench import original_api

    report = original_api.self_check()
    assert report["ok"] is True and len(report["checks"]) == 3
