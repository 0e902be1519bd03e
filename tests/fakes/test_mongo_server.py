"""The fake MongoDB server through real pymongo, compared with mongomock.

Each scenario runs twice: on a pymongo database served by the fake server,
and on the embedded mongomock handle the bundle uses. Both must answer the
same. The operations are the ones glimpse/, api/, auxiliar/ and
operational_server/ use, and the production functions that coordinate
processes (assignment, heartbeats, the ledger, the paper broker, seeding)
run through pymongo against the server.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pymongo
import pytest
from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure

from glimpse.market.paper import PaperBroker
from glimpse.runtime import heartbeat
from glimpse.runtime.clock import ManualClock
from glimpse.store import db as names
from glimpse.store import lifecycle
from glimpse.store import trades as ledger
from glimpse.store.accounts import Account
from glimpse.store.db import ensure_indexes, new_embedded_database, ping, upsert_all
from glimpse.store.seed import seed_database
from tests.fakes.mongo_server import MongoServer

ROOT = Path(__file__).resolve().parents[2]


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
def remote(client):
    name = "fake_" + uuid.uuid4().hex[:10]
    yield client[name]
    client.drop_database(name)


@pytest.fixture
def both(remote):
    """(pymongo database on the fake server, embedded mongomock database)."""
    return remote, new_embedded_database("Glimpse")


def naive(value):
    """`value` with aware datetimes made naive UTC: the bundle's pymongo client is tz_aware, mongomock is not."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, dict):
        return {k: naive(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(naive(v) for v in value)
    return value


def same(both, scenario):
    """Run `scenario(db)` on both databases; what it returned (asserted equal)."""
    remote, local = both
    got, expected = naive(scenario(remote)), scenario(local)
    assert got == expected
    return got


def _update(result) -> tuple:
    return result.matched_count, result.modified_count, result.upserted_id


SERVERS = [
    {
        "_id": i,
        "name": f"srv{i}",
        "status": status,
        "target": target,
        "uptime": uptime,
        "preferential": i == 3,
    }
    for i, (status, target, uptime) in enumerate(
        [
            ("waiting", "", 100.0),
            ("operating", "u1", 50.0),
            ("waiting", "", 99.0),
            ("waiting", "", 98.0),
            ("assigned", "u2", 101.0),
        ]
    )
]


# --- the commands pymongo sends ------------------------------------------------------------------


def test_ping_hello_and_build_info(remote, client):
    assert remote.command("ping")["ok"] == 1.0
    hello = remote.command("hello")
    assert hello["isWritablePrimary"] is True and hello["maxWireVersion"] >= 17
    assert client.server_info()["version"].startswith("7.")
    assert ping(remote)


def test_an_unknown_command_is_command_not_found(remote):
    with pytest.raises(OperationFailure) as failure:
        remote.command("no_such_thing")
    assert failure.value.code == 59


def test_insert_and_find_with_filters_projection_sort_skip_limit(both):
    def scenario(db):
        db.c.insert_many(
            [{"_id": i, "n": i % 4, "tag": ["a", "b"][i % 2], "sub": {"v": 10 - i}} for i in range(10)]
        )
        db.c.insert_one({"_id": 10, "n": None, "list": [{"id": "x", "status": "active"}]})
        return [
            list(
                db.c.find({"n": {"$gte": 2}}, {"_id": 1, "n": 1}).sort(
                    [("n", DESCENDING), ("_id", ASCENDING)]
                )
            ),
            list(
                db.c.find({"$or": [{"tag": "a"}, {"n": {"$in": [3]}}]}, {"_id": 0, "sub": 1})
                .sort("sub.v", 1)
                .skip(1)
                .limit(3)
            ),
            list(db.c.find({"n": {"$ne": 1}, "_id": {"$lt": 5}}).sort("_id", -1)),
            list(db.c.find({"list": {"$elemMatch": {"id": "x", "status": {"$in": ["active", "canceled"]}}}})),
            list(db.c.find({"missing": {"$exists": True}})),
            db.c.find_one({"_id": 3}),
            db.c.find_one({"_id": 99}),
            db.c.find_one({"tag": "b"}, {"sub": 1}, sort=[("_id", -1)]),
        ]

    same(both, scenario)


def test_cursors_come_in_batches_and_can_be_closed(both, server):
    def scenario(db):
        db.c.insert_many([{"_id": i, "pad": "x" * 100} for i in range(350)])
        batched = [d["_id"] for d in db.c.find({}, {"_id": 1}).sort("_id", 1).batch_size(7)]
        default = [d["_id"] for d in db.c.find({}, {"_id": 1})]
        limited = [d["_id"] for d in db.c.find({}, {"_id": 1}).sort("_id", -1).limit(150).batch_size(40)]
        cursor = db.c.find().batch_size(5)
        first = next(cursor)["_id"]
        cursor.close()
        return batched, sorted(default), limited, first

    batched, default, limited, _ = same(both, scenario)
    assert batched == default == list(range(350)) and limited == list(range(349, 199, -1))
    assert server.backend.cursors == {}  # every getMore cursor was exhausted or killed


def test_update_operators(both):
    def scenario(db):
        db.a.insert_one({"_id": 1, "p": 0, "list": [], "owned": ["x"], "reset": {"code": 1}, "cents": {"PRACTICE": 100}, "open": [{"id": 7}, {"id": 8}],
                         "signals": [{"id": "s1", "status": "active"}, {"id": "s2", "status": "active"}], "operating": {"tries": [{"start": 0}, {"start": 0}]}})  # fmt: skip
        out = [
            _update(
                db.a.update_one(
                    {"_id": 1},
                    {"$inc": {"p": 2.5, "cents.PRACTICE": -40}, "$set": {"operating.tries.1.start": "12.5"}},
                )
            ),
            _update(
                db.a.update_one(
                    {"_id": 1},
                    {"$push": {"list": {"$each": [1, 2, 3], "$slice": -2}}, "$pull": {"open": {"id": 7}}},
                )
            ),
            _update(db.a.update_one({"_id": 1}, {"$addToSet": {"owned": "x"}})),
            _update(db.a.update_one({"_id": 1}, {"$addToSet": {"owned": "y"}, "$unset": {"reset": ""}})),
            _update(
                db.a.update_one(
                    {"_id": 1, "signals": {"$elemMatch": {"id": "s2", "status": "active"}}},
                    {"$set": {"signals.$.status": "result"}},
                )
            ),
            _update(db.a.update_one({"_id": 1, "list": {"$ne": 3}}, {"$set": {"never": True}})),
            _update(
                db.a.update_one(
                    {"_id": 2}, {"$set": {"p": 1}, "$setOnInsert": {"created": True}}, upsert=True
                )
            ),
            _update(
                db.a.update_one(
                    {"_id": 2}, {"$set": {"p": 1}, "$setOnInsert": {"created": False}}, upsert=True
                )
            ),
            _update(db.a.replace_one({"_id": 2}, {"whole": "new"})),
        ]
        return out, list(db.a.find().sort("_id", 1))

    same(both, scenario)


def test_update_many_delete_and_count(both):
    def scenario(db):
        db.u.insert_many(
            [{"_id": i, "premiumDays": i % 3, "key": f"k{i % 2}", "at": float(i)} for i in range(12)]
        )
        many = db.u.update_many({"premiumDays": {"$gt": 0}}, {"$inc": {"premiumDays": -1}})
        counts = [db.u.count_documents({}), db.u.count_documents({"premiumDays": 0}), db.u.count_documents({"key": "k1"}, limit=1),
                  db.u.count_documents({"at": {"$gte": 3}}, skip=2, limit=4), db.u.count_documents({"nobody": 1})]  # fmt: skip
        one = db.u.delete_one({"key": "k0"}).deleted_count
        gone = db.u.delete_many({"at": {"$lt": 6}}).deleted_count
        return _update(many), counts, one, gone, [d["_id"] for d in db.u.find().sort("_id", 1)]

    same(both, scenario)


def test_find_one_and_update_claims_with_sort_projection_upsert(both):
    def scenario(db):
        db.s.insert_many([dict(s) for s in SERVERS])
        claimed = db.s.find_one_and_update(
            {"status": "waiting", "uptime": {"$gte": 98.5}},
            {"$set": {"status": "assigned", "target": "u9"}},
            sort=[("preferential", -1), ("name", 1)],
        )
        after = db.s.find_one_and_update(
            {"name": "srv1"},
            {"$set": {"status": "waiting"}},
            projection={"_id": 0, "status": 1},
            return_document=ReturnDocument.AFTER,
        )
        nothing = db.s.find_one_and_update({"status": "gone"}, {"$set": {"x": 1}})
        upserted_before = db.s.find_one_and_update(
            {"name": "new"},
            {"$set": {"status": "waiting"}, "$setOnInsert": {"preferential": False}},
            upsert=True,
        )
        upserted_after = db.s.find_one_and_update(
            {"name": "new2"},
            {"$set": {"status": "waiting"}},
            projection={"_id": 0},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        return (
            claimed,
            after,
            nothing,
            upserted_before,
            upserted_after,
            list(db.s.find({}, {"_id": 0}).sort("name", 1)),
        )

    claimed, *_ = same(both, scenario)
    assert claimed["name"] == "srv0"  # the sort decided, not the insertion order


def test_unique_indexes_raise_duplicate_key_errors(both):
    def scenario(db):
        ensure_indexes(db)
        db[names.ACCOUNTS].insert_one({"_id": 1, "email": "a@x.io"})
        db[names.ACCOUNTS].insert_one({"_id": 2, "email": "b@x.io"})
        codes = []
        for attempt in (
            lambda: db[names.ACCOUNTS].insert_one({"email": "a@x.io"}),
            lambda: db[names.ACCOUNTS].update_one({"_id": 2}, {"$set": {"email": "a@x.io"}}),
            lambda: db[names.ACCOUNTS].insert_one({"_id": 1, "email": "c@x.io"}),
            lambda: db[names.ACCOUNTS].find_one_and_update({"_id": 2}, {"$set": {"email": "a@x.io"}}),
        ):
            with pytest.raises(DuplicateKeyError) as failure:
                attempt()
            codes.append(failure.value.code)
        return codes, list(db[names.ACCOUNTS].find().sort("_id", 1))

    codes, docs = same(both, scenario)
    assert codes == [11000] * 4 and [d["email"] for d in docs] == ["a@x.io", "b@x.io"]


def test_insert_many_stops_at_a_duplicate_when_ordered(remote):
    remote.c.insert_one({"_id": 2})
    with pytest.raises(BulkWriteError) as failure:
        remote.c.insert_many([{"_id": 1}, {"_id": 2}, {"_id": 3}])
    assert (
        failure.value.details["nInserted"] == 1 and failure.value.details["writeErrors"][0]["code"] == 11000
    )
    with pytest.raises(BulkWriteError):
        remote.c.insert_many([{"_id": 4}, {"_id": 2}, {"_id": 5}], ordered=False)
    assert sorted(d["_id"] for d in remote.c.find()) == [1, 2, 4, 5]


def test_indexes_and_collections(both):
    def scenario(db):
        ensure_indexes(db)
        ensure_indexes(db)  # idempotent
        db.extra.create_indexes([IndexModel([("a", ASCENDING), ("b", DESCENDING)], name="a_b")])
        info = {
            c: sorted(
                (n, i.get("unique", False), list(i["key"])) for n, i in db[c].index_information().items()
            )
            for c in (names.TRADES, names.ACCOUNTS, "extra")
        }
        listed = sorted(doc["name"] for doc in db.extra.list_indexes())
        before = sorted(db.list_collection_names())
        db.extra.drop()
        db.never_created.drop()
        return info, listed, before, sorted(db.list_collection_names()), list(db.never_created.list_indexes())

    info, _, before, after, _ = same(both, scenario)
    assert info["extra"] == [("_id_", False, [("_id", 1)]), ("a_b", False, [("a", 1), ("b", -1)])]
    assert "extra" in before and "extra" not in after


def test_drop_database(client):
    name = "fake_drop_" + uuid.uuid4().hex[:6]
    client[name].c.insert_one({"x": 1})
    assert client[name].list_collection_names() == ["c"]
    client.drop_database(name)
    assert client[name].list_collection_names() == []


def test_bulk_write_upserts_as_upsert_all_does(both):
    remote, local = both
    docs = [{"ativo": f"P{i}", "open": "True", "payout": str(80 + i)} for i in range(5)]
    upsert_all(remote.o, "ativo", docs)  # one unordered bulk_write through pymongo
    upsert_all(local.o, "ativo", docs)  # the embedded handle's path
    changed = [dict(d, payout="0", open="False") for d in docs[:3]] + [
        {"ativo": "P9", "open": "True", "payout": "90"}
    ]
    upsert_all(remote.o, "ativo", changed)
    upsert_all(local.o, "ativo", changed)
    got, expected = (list(db.o.find({}, {"_id": 0}).sort("ativo", 1)) for db in (remote, local))
    assert got == expected and len(got) == 6
    result = remote.o.bulk_write(
        [
            UpdateOne({"ativo": "P0"}, {"$set": {"open": "True"}}, upsert=True),
            UpdateOne({"ativo": "Q"}, {"$set": {"open": "x"}}, upsert=True),
        ],
        ordered=False,
    )
    assert (result.matched_count, result.modified_count, result.upserted_count) == (1, 1, 1)


# --- production code through pymongo ---------------------------------------------------------------


def test_seed_database_over_pymongo(both):
    remote, local = both
    first = seed_database(remote)
    again = seed_database(remote)
    expected = seed_database(local)
    assert first.inserted == expected.inserted and again.total_inserted == 0
    for collection in (names.STRATEGIES, names.ACTIVES_SCHEDULE, names.AUXILIAR, names.TEST_CANDLES):
        got, want = (
            list(db[collection].find({}, {"_id": 0}).sort([("ativo", 1), ("name", 1)]))
            for db in (remote, local)
        )
        assert naive(got) == want and got


def test_server_life_cycle_and_assignment(both):
    def scenario(db):
        user = ObjectId("65a000000000000000000001")
        db[names.ACCOUNTS].insert_one({"_id": user, "glimpseStatus": "waiting", "server": ""})
        out: list[Any] = [
            lifecycle.register_server(db, "a", "inc-a", 100.0),
            lifecycle.register_server(db, "b", "inc-b", 100.0),
        ]
        server = lifecycle.ServerClaims(db, 101.0, 4.0).claim(str(user))
        assert server is not None
        out += [
            server,
            lifecycle.claim_user(db, user, "waiting", server, 101.0),
            lifecycle.claim_user(db, user, "waiting", server, 101.0),
        ]
        out += [
            lifecycle.take_assignment(db, server, "inc-a", 102.0),
            lifecycle.start_operating(db, str(user), server),
        ]
        out += [
            lifecycle.beat(db, "inc-a", 103.0),
            lifecycle.holds(db, server, "inc-a", str(user)),
            lifecycle.server_states(db, "inc-a"),
        ]
        out += [
            lifecycle.user_states(db, [str(user)]),
            [s.name for s in lifecycle.dead_servers(db, 110.0, 4.0)],
        ]
        out += [lifecycle.release_dead_server(db, lifecycle.dead_servers(db, 110.0, 4.0)[0], 110.0, 4.0)]
        out += [db[names.ACCOUNTS].find_one({"_id": user}, {"_id": 0, "glimpseStatus": 1, "server": 1})]
        heartbeat.beat(db, "Lister", 109.0)
        out += [heartbeat.statuses(db, 110.0)]
        return out

    out = same(both, scenario)
    assert out[2] == "a" and out[3] is True and out[4] is False
    assert (
        out[-4] == ["a"] and out[-3] == "65a000000000000000000001"
    )  # the silent server is released, its user too
    assert out[-2] == {"glimpseStatus": "waiting", "server": ""}


def test_ledger_settles_once_and_applies_once(both):
    def scenario(db):
        user = ObjectId("65a000000000000000000002")
        db[names.ACCOUNTS].insert_one(
            {"_id": user, "iqSessionProfit": 0, "iqPeriodProfit": 0, "iqPeriodLoss": 0}
        )
        trade = ledger.open_trade(db, user=str(user), session="s", server="a", ativo="EURUSD", operacao="call", amount=Decimal("2"),
                                  gale_level=0, payout=87, decided_at=58.5, cycle="c", account="PRACTICE")  # fmt: skip
        ledger.mark_open(db, trade, 12345, 59.0, 1.1)
        pending = [t.status for t in ledger.open_trades(db, str(user))]
        settled = [
            ledger.settle(db, trade, Decimal("1.74"), 120.0, None),
            ledger.settle(db, trade, Decimal("1.74"), 121.0, None),
        ]
        doc = db[names.TRADES].find_one(
            {"_id": trade}, {"_id": 0, "status": 1, "result": 1, "profit": 1, "brokerOrderId": 1}
        )
        account = db[names.ACCOUNTS].find_one(
            {"_id": user}, {"_id": 0, "iqSessionProfit": 1, "iqPeriodProfit": 1}
        )
        return pending, settled, doc, account, ledger.open_trades(db, str(user))

    pending, settled, doc, account, still_open = same(both, scenario)
    assert (
        pending == ["open"]
        and settled == [True, False]
        and doc["result"] == "win"
        and Account.from_doc(account).period_profit
        == 174  # cents; the session figure follows the Glimpse session (trades.credit)
    )
    assert still_open == []


def test_paper_broker_over_pymongo(both, config):
    def scenario(db):
        seed_database(db)
        clock = ManualClock(1_717_419_600.0)  # Monday 10:00 in São Paulo: forex open
        broker = PaperBroker(config, db, clock, "Paper@Example.com", "secret-pass")
        broker.connect()
        orders = [
            broker.buy(Decimal("2"), "EURUSD", "call", 1),
            broker.buy(Decimal("3.5"), "GBPUSD", "put", 1),
        ]
        clock.advance(200)
        profits = [broker.order_result(orders[0], timeout=1), broker.order_result(orders[0], timeout=1)]
        other = PaperBroker(config, db, clock, "paper@example.com", "secret-pass")
        other.connect()  # settles what is due for the account, once
        balance = other.get_balance()
        account = db[names.PAPER_BALANCES].find_one({"_id": "paper@example.com"})
        return (
            profits[0] == profits[1],
            balance,
            account["cents"],
            len(account["open"]),
            len(account["settled"]),
        )

    repeated, balance, cents, still_open, settled = same(both, scenario)
    assert repeated and still_open == 0 and settled == 2 and cents["PRACTICE"] == round(balance * 100)


def test_conditional_claims_are_atomic_across_connections(server):
    """Eight clients race to claim 60 servers, as assigners in separate processes would: each is claimed once."""
    name = "fake_race_" + uuid.uuid4().hex[:6]
    clients: list[pymongo.MongoClient[dict[str, Any]]] = [
        pymongo.MongoClient(server.uri, serverSelectionTimeoutMS=5000) for _ in range(8)
    ]
    try:
        clients[0][name][names.SERVERS].insert_many(
            [{"name": f"s{i:02d}", "status": "waiting", "target": "", "uptime": 1e12} for i in range(60)]
        )
        won: list[list[str]] = [[] for _ in clients]
        barrier = threading.Barrier(len(clients))

        def claim(index: int) -> None:
            claims = lifecycle.ServerClaims(clients[index][name], 0.0, 1.0)
            barrier.wait()
            while (got := claims.claim(f"user{index}")) is not None:
                won[index].append(got)

        threads = [threading.Thread(target=claim, args=(i,)) for i in range(len(clients))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        every = [s for w in won for s in w]
        assert sorted(every) == [f"s{i:02d}" for i in range(60)]  # none lost, none twice
        owners = {s["name"]: s["target"] for s in clients[0][name][names.SERVERS].find()}
        assert all(owners[s] == f"user{i}" for i, w in enumerate(won) for s in w)
    finally:
        clients[0].drop_database(name)
        for c in clients:
            c.close()


# --- the command line ---------------------------------------------------------------------------------


def test_the_module_runs_as_a_process_and_says_its_port():
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.mongo_server", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("listening on ")
        port = int(line.split()[-1])
        local: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
            f"mongodb://127.0.0.1:{port}", serverSelectionTimeoutMS=5000
        )
        with local as c:
            c.t.c.insert_one({"_id": 1})
            assert c.t.c.find_one() == {"_id": 1}
    finally:
        process.terminate()
        assert process.wait(10) == 0


def test_the_module_refuses_a_non_loopback_host():
    done = subprocess.run(
        [sys.executable, "-m", "tests.fakes.mongo_server", "--host", "0.0.0.0", "--port", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2 and "--host" in done.stderr
