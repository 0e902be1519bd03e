"""A session outlives the database going away mid-cycle (issue 10: sessions survive blips).

In a fault run the database paused right after an order was placed: writing the order to the
Operations log failed with a connection error, the session ended as an error, and the user was
turned off. Now the session waits for the database and goes on: the order, written ahead, is
reconciled, and the user trades on.
"""

from __future__ import annotations

import logging

from pymongo.errors import AutoReconnect

from glimpse.store import db as names
from glimpse.store import operations_log
from tests.pipeline.bundle import FLAT_MONEY


def test_a_database_failure_after_an_order_does_not_end_the_session(bundle, monkeypatch, caplog):
    placed = operations_log.order_placed
    failures: list[str] = []

    def fails_once(db, log_id, entry, trade_id, price):
        if not failures:
            failures.append(str(trade_id))
            raise AutoReconnect("operation cancelled")  # as pymongo raises when the server goes away
        return placed(db, log_id, entry, trade_id, price)

    monkeypatch.setattr(operations_log, "order_placed", fails_once)
    caplog.set_level(logging.INFO, logger="operational_server.session")
    uid = bundle.trader("blip@example.com", FLAT_MONEY)
    bundle.start(servers=1)
    bundle.press_start(uid)

    def trades():
        return list(bundle.db[names.TRADES].find({"user": uid}))

    # The user trades on after the failure: two more orders, in the same Glimpse session.
    bundle.wait_for(lambda: failures and len(trades()) >= 3, 120, "orders after the database failure")
    assert bundle.account(uid)["glimpseStatus"] == "operating"
    rows = trades()
    assert len({t["session"] for t in rows}) == 1
    (first,) = [t for t in rows if str(t["_id"]) == failures[0]]
    # The order placed before the failure has exactly one result (settled by its session or reconciled).
    bundle.wait_for(
        lambda: bundle.db[names.TRADES].find_one({"_id": first["_id"]})["status"] == "closed",
        60,
        "its result",
    )
    settled = bundle.db[names.TRADES].find_one({"_id": first["_id"]})
    assert settled["result"] in ("win", "loss", "doji") and settled["profit"] is not None
    said = [r.getMessage() for r in caplog.records if r.name == "operational_server.session"]
    assert sum("database unreachable" in m for m in said) == 1  # one line for the outage, not per try
    assert sum("database back" in m for m in said) == 1
    assert len({t["brokerOrderId"] for t in trades() if t.get("brokerOrderId")}) == len(
        [t for t in trades() if t.get("brokerOrderId")]
    )  # no order doubled
