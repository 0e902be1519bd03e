"""The harness's invariant checks catch each violation they are for (on mongomock, no processes)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import mongomock
import pytest
from bson import ObjectId

from glimpse.store import db as names
from tests.faults.harness import FALSE_STOP, PAPER_STARTING_CENTS, Cluster, User, account_field, money

EMAIL = "check@example.com"


@pytest.fixture
def cluster(tmp_path) -> Cluster:
    c = Cluster(tmp_path)
    c.client = mongomock.MongoClient()
    return c


def _ledger(cluster: Cluster, orders: list[tuple[int | None, str, int]], unit: bool = True) -> User:
    """A user whose ledger holds `orders` (broker id, result, profit in cents), the same orders at
    the paper broker, the profit fields and an Operations log that agree with them."""
    user = User(ObjectId(), EMAIL)
    db = cluster.db
    net = sum(p for _, _, p in orders)
    db[names.ACCOUNTS].insert_one(
        {
            "_id": user.id,
            "iqPeriodProfit": sum(p for _, _, p in orders if p > 0),
            "iqPeriodLoss": -sum(p for _, _, p in orders if p < 0),
            "alerts": [],
        }
    )
    for order_id, result, profit in orders:
        db[names.TRADES].insert_one(
            {"user": user.uid, "status": "closed", "result": result, "brokerOrderId": order_id, "decidedAt": 1.0,
             "profit": profit if unit else profit / 100, **({"moneyUnit": "cents"} if unit else {})}
        )  # fmt: skip
    settled = [{"id": i, "profitCents": p} for i, _, p in orders if i is not None]
    db[names.PAPER_BALANCES].insert_one(
        {"_id": EMAIL, "cents": {"PRACTICE": PAPER_STARTING_CENTS + net}, "open": [], "settled": settled}
    )
    shown = [{"a": 1.1, "p": p} for i, _, p in orders if i is not None]
    db[names.OPERATIONS].insert_one(
        {
            "user": user.uid,
            "moneyUnit": "cents",
            "operations": [{"operacoes": shown + [{"a": None, "p": "SLR: 6"}]}],
        }
    )
    user.stop_pressed_at = 100.0
    return user


def _violations(cluster: Cluster, user: User) -> list[str]:
    return cluster.user_violations(user)


ORDERS: list[tuple[int | None, str, int]] = [(11, "loss", -200), (12, "win", 346), (None, "not_placed", 0)]


@pytest.mark.parametrize("in_cents", [True, False])
def test_a_consistent_run_has_no_violation(cluster, in_cents):
    user = _ledger(cluster, ORDERS, unit=in_cents)
    assert _violations(cluster, user) == []


def _first_word(violations: list[str]) -> list[str]:
    return sorted({v.split(":")[0] for v in violations})


def _change(cluster: Cluster, collection: str, query: dict[str, Any], update: dict[str, Any]) -> None:
    assert cluster.db[collection].update_one(query, update).modified_count == 1


def test_an_order_executed_but_recorded_failed_is_missing_from_the_ledger(cluster):
    user = _ledger(cluster, ORDERS)
    # The broker took order 13 (-2.00); the ledger closed its trade failed, with no order id, profit 0.
    _change(cluster, names.PAPER_BALANCES, {"_id": EMAIL},
            {"$push": {"settled": {"id": 13, "profitCents": -200}}, "$inc": {"cents.PRACTICE": -200}})  # fmt: skip
    cluster.db[names.TRADES].insert_one(
        {"user": user.uid, "status": "closed", "result": "failed", "brokerOrderId": None, "profit": 0,
         "moneyUnit": "cents", "decidedAt": 2.0}
    )  # fmt: skip
    found = _violations(cluster, user)
    assert _first_word(found) == ["broker balance", "missing from the ledger"]


def test_a_doubled_order_and_a_wrong_result_are_caught(cluster):
    user = _ledger(cluster, ORDERS)
    cluster.db[names.TRADES].insert_one(
        {"user": user.uid, "status": "closed", "result": "win", "brokerOrderId": 11, "profit": 0,
         "moneyUnit": "cents", "decidedAt": 3.0}
    )  # fmt: skip
    assert "doubled in the ledger" in _first_word(_violations(cluster, user))
    assert "wrong result" in _first_word(_violations(cluster, user))


def test_a_trade_left_open_or_unknown_has_no_final_result(cluster):
    user = _ledger(cluster, ORDERS)
    _change(cluster, names.TRADES, {"brokerOrderId": 12}, {"$set": {"status": "unknown", "result": None}})
    assert "no final result" in _first_word(_violations(cluster, user))


def test_profit_fields_a_cent_off_the_ledger_are_caught(cluster):
    user = _ledger(cluster, ORDERS)
    _change(cluster, names.ACCOUNTS, {"_id": user.id}, {"$inc": {"iqPeriodLoss": 1}})
    assert _first_word(_violations(cluster, user)) == ["profit fields"]


def test_an_order_missing_from_operations_or_without_its_result_is_caught(cluster):
    user = _ledger(cluster, ORDERS)
    _change(cluster, names.OPERATIONS, {"user": user.uid}, {"$set": {"operations.0.operacoes.1.p": None}})
    assert _first_word(_violations(cluster, user)) == ["Operations"]


def test_a_stop_alert_before_the_user_pressed_stop_is_a_false_stop(cluster):
    user = _ledger(cluster, ORDERS)
    alert = {"title": "Glimpse parou.", "description": FALSE_STOP, "time": "99.000"}
    _change(cluster, names.ACCOUNTS, {"_id": user.id}, {"$push": {"alerts": alert}})
    assert _first_word(_violations(cluster, user)) == ["false stop"]
    user.stop_pressed_at = 98.0  # the same alert after Stop is the right one
    assert _violations(cluster, user) == []


def test_money_is_read_in_the_unit_it_was_stored_in():
    assert money(346, in_cents=True) == Decimal("3.46")
    assert money(3.46, in_cents=False) == Decimal("3.46")
    assert money(0.1 + 0.2, in_cents=False) == Decimal("0.30")
    assert money("SLR: 6", in_cents=True) is None
    assert account_field({"iqPeriodProfit": 346}, "iqPeriodProfit") == Decimal("3.46")  # cents
    assert account_field({"iqPeriodProfit": 3.46}, "iqPeriodProfit") == Decimal("3.46")  # old reais
