"""Bounded lists on the embedded store: the rank summary and the caller's session logs answer what a
scan of the whole collection answers, after every kind of write."""

from __future__ import annotations

import random

from bson import ObjectId

from glimpse.store import db as names
from glimpse.store import rank
from glimpse.store.accounts import new_account
from glimpse.store.db import new_embedded_database
from tests.api.conftest import (  # noqa: F401 (fixtures)
    app,
    broker_check,
    client,
    make_user,
    user,
)


def _scan(db, limit):
    """The reference: every account read and sorted (the store's plain mongomock, no summary)."""
    return [(a.name, a.period_profit, a.period_loss) for a in rank.best(db._target, limit)]


def _fast(db, limit):
    return [(a.name, a.period_profit, a.period_loss) for a in rank.best(db, limit)]


def _account(n: int, rng: random.Random) -> dict:
    doc = new_account(f"T{n}", f"t{n}@example.com", "x", 1.0)
    doc.update(iqPeriodProfit=rng.randrange(0, 5_000), iqPeriodLoss=rng.randrange(0, 5_000))
    return doc


def test_rank_summary_follows_every_kind_of_write():
    rng = random.Random(7)
    db = new_embedded_database()
    accounts = db[names.ACCOUNTS]
    ids = accounts.insert_many([_account(n, rng) for n in range(200)]).inserted_ids
    assert _fast(db, 20) == _scan(db, 20) and len(_fast(db, 20)) == 20
    for step in range(300):
        target = rng.choice(ids)
        kind = step % 6
        if kind == 0:  # a credit, as the ledger writes it
            accounts.update_one({"_id": target}, {"$inc": {"iqPeriodProfit": rng.randrange(1, 9_000)}})
        elif kind == 1:
            accounts.update_one({"_id": target}, {"$inc": {"iqPeriodLoss": rng.randrange(1, 9_000)}})
        elif kind == 2:  # legacy reais (a float), read as cents
            accounts.update_one({"_id": target}, {"$set": {"iqPeriodProfit": rng.randrange(0, 90_00) / 100}})
        elif kind == 3:  # a new account, and one that goes away
            ids.append(accounts.insert_one(_account(1_000 + step, rng)).inserted_id)
        elif kind == 4 and len(ids) > 50:
            ids.remove(target)
            accounts.delete_one({"_id": target})
        else:  # a reset of the period for many at once
            accounts.update_many(
                {"_id": {"$in": ids[:5]}}, {"$set": {"iqPeriodProfit": 0, "iqPeriodLoss": 0}}
            )
        if step % 25 == 0:
            assert _fast(db, 100) == _scan(db, 100)
    assert _fast(db, 100) == _scan(db, 100)
    accounts.drop()  # rebuilt on the next call
    accounts.insert_many([_account(n, rng) for n in range(30)])
    assert _fast(db, 100) == _scan(db, 100) and len(_fast(db, 100)) == 30


def test_rank_ties_break_by_id_and_odd_ids_fall_back_to_the_scan():
    db = new_embedded_database()
    accounts = db[names.ACCOUNTS]
    first, second = ObjectId("0" * 23 + "1"), ObjectId("0" * 23 + "2")
    accounts.insert_many([{**new_account("B", "b@x.com", "x", 1.0), "_id": second, "iqPeriodProfit": 500},
                          {**new_account("A", "a@x.com", "x", 1.0), "_id": first, "iqPeriodProfit": 500}])  # fmt: skip
    assert [a.name for a in rank.best(db, 10)] == ["A", "B"]
    accounts.insert_one({**new_account("C", "c@x.com", "x", 1.0), "_id": "legacy-id", "iqPeriodProfit": 900})
    assert (
        [a.name for a in rank.best(db, 10)] == ["C", "A", "B"] == [a.name for a in rank.best(db._target, 10)]
    )


def test_get_rank_route_reads_the_summary(client, db, user):  # noqa: F811
    rng = random.Random(3)
    db[names.ACCOUNTS].insert_many([_account(n, rng) for n in range(150)])
    db[names.ACCOUNTS].update_one({"email": user.email}, {"$set": {"iqPeriodProfit": 10**7}})
    body = client.post("/glimpse/getRank", json={}, headers=user.headers).json
    assert len(body) == 100 and body[0]["me"] is True and body[0]["profit"] == 10**5
    nets = [round(row["profit"] - row["loss"], 2) for row in body]
    assert nets == sorted(nets, reverse=True)
    # The next credit moves the caller down at once.
    db[names.ACCOUNTS].update_one({"email": user.email}, {"$inc": {"iqPeriodLoss": 10**7 + 10**6}})
    again = client.post("/glimpse/getRank", json={}, headers=user.headers).json
    assert all(row["me"] is False for row in again)


def test_get_user_operations_are_the_callers_oldest_first(client, db, user):  # noqa: F811
    logs = db[names.OPERATIONS]
    other = str(ObjectId())
    logs.insert_many([{"user": other if i % 3 else user.id, "operationTime": 1000.0 - i, "session": f"s{i}",
                       "operations": [], "moneyUnit": "cents"} for i in range(60)])  # fmt: skip
    body = client.post("/glimpse/getUserOperations", json={"userId": user.id}, headers=user.headers).json
    times = [log["operationTime"] for log in body]
    assert times == sorted(1000.0 - i for i in range(0, 60, 3)) and {log["user"] for log in body} == {user.id}
    logs.insert_one(
        {"user": user.id, "operationTime": 2000.0, "session": "late", "operations": [], "moneyUnit": "cents"}
    )
    assert (
        client.post("/glimpse/getUserOperations", json={}, headers=user.headers).json[-1]["session"] == "late"
    )
