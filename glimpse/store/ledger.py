"""The Trades ledger: one document per order, the source of truth for money.

An order is written before it is sent (status "pending"), marked "open"
with the broker's order id as soon as the broker answers, and "closed" with
its result once it settles. Settling is conditional on the trade still being
open, so a result is recorded once even when two processes reconcile the
same order. The user's profit fields follow each settlement with `$inc`,
guarded by the id of the last trade applied, so a retry never counts twice.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bson import ObjectId

from glimpse.rules.money import cents
from glimpse.store import db as names
from glimpse.store.lifecycle import oid

WIN, LOSS, DOJI, FAILED = "win", "loss", "doji", "failed"


def result_of(profit: Decimal) -> str:
    return WIN if profit > 0 else LOSS if profit < 0 else DOJI


def open_trade(
    db: Any,
    *,
    user: str,
    session: str,
    server: str,
    ativo: str,
    operacao: str,
    amount: Decimal,
    gale_level: int,
    payout: int,
    decided_at: float,
    cycle: str,
    account: str,
) -> ObjectId:
    doc = {
        "user": user,
        "session": session,
        "server": server,
        "cycle": cycle,
        "ativo": ativo,
        "operacao": operacao,
        "amount": float(cents(amount)),
        "galeLevel": gale_level,
        "payout": payout,
        "account": account,
        "decidedAt": decided_at,
        "placedAt": None,
        "openedAt": None,
        "closedAt": None,
        "openPrice": None,
        "closePrice": None,
        "brokerOrderId": None,
        "result": None,
        "profit": None,
        "status": "pending",
    }
    return db[names.TRADES].insert_one(doc).inserted_id


def mark_open(db: Any, trade_id: ObjectId, order_id: int, placed_at: float, open_price: float | None) -> None:
    db[names.TRADES].update_one(
        {"_id": trade_id, "status": "pending"},
        {
            "$set": {
                "status": "open",
                "brokerOrderId": order_id,
                "placedAt": placed_at,
                "openedAt": placed_at,
                "openPrice": open_price,
            }
        },
    )


def mark_failed(db: Any, trade_id: ObjectId, reason: str, now: float) -> None:
    """A buy the broker refused: closed as failed, no money moved."""
    db[names.TRADES].update_one(
        {"_id": trade_id, "status": "pending"},
        {"$set": {"status": "closed", "result": FAILED, "profit": 0.0, "closedAt": now, "failure": reason}},
    )


def settle(db: Any, trade_id: ObjectId, profit: Decimal, closed_at: float, close_price: float | None) -> bool:
    """Record an open trade's result and apply it to the user. False if it was already settled."""
    profit = cents(profit)
    trades = db[names.TRADES]
    done = trades.update_one(
        {"_id": trade_id, "status": "open"},
        {
            "$set": {
                "status": "closed",
                "result": result_of(profit),
                "profit": float(profit),
                "closedAt": closed_at,
                "closePrice": close_price,
            }
        },
    )
    trade = trades.find_one({"_id": trade_id})
    if trade is not None and trade.get("status") == "closed" and trade.get("result") != FAILED:
        apply_to_user(db, trade)
    return done.modified_count == 1


def apply_to_user(db: Any, trade: dict) -> bool:
    """Add a settled trade to the user's session and period figures, once."""
    profit = cents(trade["profit"])
    inc = {"iqSessionProfit": float(profit)}
    if profit > 0:
        inc["iqPeriodProfit"] = float(profit)
    elif profit < 0:
        inc["iqPeriodLoss"] = float(-profit)
    result = db[names.ACCOUNTS].update_one(
        {"_id": oid(trade["user"]), "appliedTrades": {"$ne": trade["_id"]}},
        {"$inc": inc, "$push": {"appliedTrades": {"$each": [trade["_id"]], "$slice": -50}}},
    )
    return result.modified_count == 1


def open_trades(db: Any, user: str) -> list[dict]:
    return list(
        db[names.TRADES].find({"user": user, "status": {"$in": ["pending", "open"]}}).sort("decidedAt", 1)
    )


def session_net(db: Any, user: str, session: str) -> Decimal:
    """The net result of a user's session: the sum of its settled trades."""
    cursor = db[names.TRADES].find({"user": user, "session": session, "status": "closed"}, {"profit": 1})
    return sum((cents(t["profit"]) for t in cursor if t.get("profit") is not None), Decimal(0))
