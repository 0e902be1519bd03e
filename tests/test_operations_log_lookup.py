"""A session's Operations log is found by its user and session, from the embedded store's index or
the database's query alike: the next server of a session continues it, and each settlement lands
on its own order."""

from __future__ import annotations

from decimal import Decimal

import mongomock
import pytest
from bson import ObjectId

from glimpse.store import db as names
from glimpse.store import operations_log
from glimpse.store.db import new_embedded_database


def _plain_database():
    # mongomock without the embedded store's wrapper: indexed_find answers None, the query answers.
    return mongomock.MongoClient().get_database("Plain")


def _start(db, user: str, session: str, now: float) -> ObjectId:
    return operations_log.start(db, user=user, session=session, mode="strategy", strategy={"name": "x"},
                                money={"money": 2}, account_type="PRACTICE", now=now)  # fmt: skip


@pytest.mark.parametrize("make_db", [lambda: new_embedded_database("LogLookup"), _plain_database])
def test_each_settlement_lands_on_its_own_order_in_its_own_sessions_log(make_db):
    db = make_db()
    others = [_start(db, f"user{i}", f"s{i % 3}", float(i)) for i in range(12)]  # other users' logs
    log_id = _start(db, "ana", "s1", 100.0)
    assert _start(db, "ana", "s1", 160.0) == log_id  # the next server of the session continues it
    assert _start(db, "ana", "s2", 200.0) not in (log_id, *others)  # a new session: a new log
    trade, other_trade = ObjectId(), ObjectId()
    entry = operations_log.cycle_entry("EURUSD", 58.5, "call", Decimal("2"), [], "c1")
    operations_log.order_placed(db, log_id, entry, trade, 1.1)
    operations_log.order_placed(db, log_id, entry, other_trade, None)
    assert operations_log.order_settled(db, "ana", "s1", trade, None, Decimal("1.74"))
    assert operations_log.order_settled(db, "ana", "s1", other_trade, 1.2, Decimal("-2"))
    assert not operations_log.order_settled(db, "ana", "s2", trade, None, Decimal("1.74"))  # not in that log
    assert not operations_log.order_settled(db, "bob", "s1", trade, None, Decimal("1.74"))  # no such log
    (cycle,) = db[names.OPERATIONS].find_one({"_id": log_id})["operations"]
    assert cycle["operacoes"] == [
        {"a": 1.1, "p": 174, "trade": str(trade)},
        {"a": 1.2, "p": -200, "trade": str(other_trade)},
    ]
    late = ObjectId()
    assert operations_log.add_reconciled_order(
        db, user="ana", session="s2", cycle="c9", ativo="GBPUSD", horario=118.5, operacao="put",
        money=Decimal("2"), trade_id=late, price=1.3, profit=Decimal("-2"),
    )  # fmt: skip
    (logged,) = db[names.OPERATIONS].find_one({"user": "ana", "session": "s2"})["operations"]
    assert logged["cycle"] == "c9" and logged["operacoes"] == [{"a": 1.3, "p": -200, "trade": str(late)}]
    assert not operations_log.add_reconciled_order(
        db, user="bob", session="s9", cycle="c9", ativo="GBPUSD", horario=118.5, operacao="put",
        money=Decimal("2"), trade_id=late, price=1.3, profit=Decimal("-2"),
    )  # fmt: skip


def test_a_cycles_first_order_opens_its_entry_with_the_order_in_it_and_a_gale_is_pushed_into_it(monkeypatch):
    db = new_embedded_database("LogOneWrite")
    log_id = _start(db, "ana", "s1", 100.0)
    first = operations_log.cycle_entry("EURUSD", 58.5, "call", Decimal("2"), [], "c1")
    second = operations_log.cycle_entry("GBPUSD", 118.5, "put", Decimal("2"), [], "c2")
    lookups: list[str] = []
    real = operations_log._entry_index

    def looked_up(db, log_id, cycle):
        lookups.append(cycle)
        return real(db, log_id, cycle)

    monkeypatch.setattr(operations_log, "_entry_index", looked_up)
    t1, t2, t3 = ObjectId(), ObjectId(), ObjectId()
    operations_log.order_placed(db, log_id, first, t1, 1.1)
    assert lookups == []  # one write: the entry, with its first order in it
    operations_log.order_placed(db, log_id, first, t2, None)  # its gale: found, and pushed into it
    assert lookups == ["c1"]
    operations_log.order_placed(db, log_id, second, t3, 1.3)
    assert lookups == ["c1"]
    assert db[names.OPERATIONS].find_one({"_id": log_id})["operations"] == [
        {
            **first,
            "operacoes": [{"a": 1.1, "p": None, "trade": str(t1)}, {"a": None, "p": None, "trade": str(t2)}],
        },
        {**second, "operacoes": [{"a": 1.3, "p": None, "trade": str(t3)}]},
    ]
    assert first["operacoes"] == [] and second["operacoes"] == []  # the cycle's own entry is left as it was
