"""The per-session `Operations` log in the original's shape, which the app shows.

One document per Glimpse session (from Start to off, across hand-overs):
`{operationTime, user, session, operationType, strategy, accountType,
expiration, money, gale, galeCount, galeType, sobra, operations}`; each gale
cycle is an entry of `operations`:
`{ativo, horario, operacao, money, cycle, candles: [[{o, c, h, l, from}]], operacoes: [{a, p, trade}]}`.

Every order reaches the log as it is placed (`p` null, `a` the open quote)
and again as it settles (`p` its cash result), so a cycle cut by a crash
still shows what happened. `p` is "SLR: <sum>" when every gale was lost, or
"CLO: <sum>" when the pair closed and a buy failed.

Money is stored in integer cents (`money`, `stoploss`, numeric `p`; the
document carries `moneyUnit: "cents"`); `for_app` gives the original's reais
at the API's edge.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from bson import Decimal128, ObjectId

from glimpse.rules.money import Amount, cents
from glimpse.store import db as names
from glimpse.store.accounts import setting_amount

CENTS_UNIT = "cents"


def _to_cents(value: Amount) -> int:
    return int(cents(value) * 100)


def _reais(value: Any) -> Any:
    return float(Decimal(value) / 100) if isinstance(value, int) and not isinstance(value, bool) else value


def start(
    db: Any,
    *,
    user: str,
    session: str,
    mode: str,
    strategy: dict[str, Any] | None,
    money: dict[str, Any],
    account_type: str,
    now: float,
) -> ObjectId:
    """The log of a Glimpse session: created by its first server, found again by the next ones."""
    stop_loss = money.get("stopLossValue") if money.get("stopLoss") else None
    doc: dict[str, Any] = {
        "operationTime": now,
        "user": user,
        "session": session,
        "operationType": mode,
        "strategy": (strategy or {}).get("name") if mode == "strategy" else None,
        "operation": (strategy or {}).get("operation") if mode == "strategy" else None,
        "accountType": account_type,
        "expiration": 1,
        "money": None if money.get("money") is None else _to_cents(setting_amount(money["money"])),
        "gale": money.get("gale"),
        "galeCount": money.get("galeCount"),
        "galeType": money.get("galeType"),
        # In reais like the original's field, but exact: a Decimal128, never a float.
        "sobra": None if money.get("sobra") is None else Decimal128(cents(setting_amount(money["sobra"]))),
        "stoploss": None if stop_loss is None else _to_cents(setting_amount(stop_loss)),
        "operations": [],
        "moneyUnit": CENTS_UNIT,
    }
    found = db[names.OPERATIONS].find_one_and_update(
        {"user": user, "session": session}, {"$setOnInsert": doc}, upsert=True, projection={"_id": 1}
    )
    if found is not None:
        return ObjectId(found["_id"])
    created = _log_of(db, user, session, {"_id": 1})
    assert created is not None  # the upsert above inserted it
    return ObjectId(created["_id"])


def _log_of(db: Any, user: str, session: str, projection: dict[str, Any]) -> dict[str, Any] | None:
    """The log of a user's Glimpse session (there is one: `start` upserts it), with `projection`.

    On the embedded store, from a sorted index of the user's logs: mongomock matched the query
    against every log, and each order's settlement looks its log up.
    """
    query = {"user": user, "session": session}
    found = names.indexed_find(db[names.OPERATIONS], query, "operationTime", 1, None, 1, projection)
    if found is not None:
        return found[0] if found else None
    return cast(dict[str, Any] | None, db[names.OPERATIONS].find_one(query, projection))


def cycle_entry(
    ativo: str, horario: float, operacao: str, money: Decimal, candles: list[dict[str, Any]], cycle: str = ""
) -> dict[str, Any]:
    return {
        "ativo": ativo,
        "horario": horario,
        "operacao": operacao,
        "money": _to_cents(money),
        "cycle": cycle,
        "candles": [candles],
        "operacoes": [],
    }


def _entry_index(db: Any, log_id: ObjectId, cycle: str) -> int | None:
    doc = db[names.OPERATIONS].find_one({"_id": log_id}, {"operations.cycle": 1}) or {}
    for index, entry in enumerate(doc.get("operations") or []):
        if entry.get("cycle") == cycle:
            return index
    return None


def open_cycle(db: Any, log_id: ObjectId, entry: dict[str, Any]) -> bool:
    """Add the cycle's entry once (at its first order); True if this call added it."""
    done = db[names.OPERATIONS].update_one(
        {"_id": log_id, "operations.cycle": {"$ne": entry["cycle"]}}, {"$push": {"operations": entry}}
    )
    return bool(done.modified_count == 1)


def _push(db: Any, log_id: ObjectId, entry: dict[str, Any], item: dict[str, Any]) -> None:
    # A cycle's first order opens its entry with the order in it, in one write: the same log as
    # opening it, finding it and pushing the order into it (two writes and a read, per order).
    if open_cycle(db, log_id, {**entry, "operacoes": [*entry.get("operacoes", []), item]}):
        return
    index = _entry_index(db, log_id, entry["cycle"])
    if index is not None:
        db[names.OPERATIONS].update_one(
            {"_id": log_id, f"operations.{index}.cycle": entry["cycle"]},
            {"$push": {f"operations.{index}.operacoes": item}},
        )


def order_placed(
    db: Any, log_id: ObjectId, entry: dict[str, Any], trade_id: ObjectId, price: float | None
) -> None:
    """An order the broker took (or may have taken): in the log now, its result to follow."""
    _push(db, log_id, entry, {"a": price, "p": None, "trade": str(trade_id)})


def order_settled(
    db: Any, user: str, session: str, trade_id: ObjectId, price: float | None, profit: Decimal
) -> bool:
    """Write an order's cash result into the session's log, wherever the order was logged; False if it was not."""
    key = str(trade_id)
    doc = _log_of(db, user, session, {"operations.operacoes.trade": 1, "operations.operacoes.a": 1})
    if doc is None:
        return False
    for i, entry in enumerate(doc.get("operations") or []):
        for j, order in enumerate(entry.get("operacoes") or []):
            if order.get("trade") == key:
                update: dict[str, Any] = {f"operations.{i}.operacoes.{j}.p": _to_cents(profit)}
                if order.get("a") is None and price is not None:
                    update[f"operations.{i}.operacoes.{j}.a"] = price
                done = db[names.OPERATIONS].update_one(
                    {"_id": doc["_id"], f"operations.{i}.operacoes.{j}.trade": key}, {"$set": update}
                )
                return bool(done.matched_count == 1)  # logged (now, or by an earlier call)
    return False


def add_reconciled_order(
    db: Any,
    *,
    user: str,
    session: str,
    cycle: str,
    ativo: str,
    horario: float,
    operacao: str,
    money: Decimal,
    trade_id: ObjectId,
    price: float | None,
    profit: Decimal,
) -> bool:
    """An order settled by reconciliation that never reached the log (its server died around the buy)."""
    doc = _log_of(db, user, session, {"_id": 1})
    if doc is None:
        return False
    entry = cycle_entry(ativo, horario, operacao, money, [], cycle)
    _push(db, doc["_id"], entry, {"a": price, "p": _to_cents(profit), "trade": str(trade_id)})
    return True


def add_marker(db: Any, log_id: ObjectId, entry: dict[str, Any], marker: str, total: Decimal) -> None:
    """ "SLR" (every gale lost) or "CLO" (the pair closed), with the cycle's stakes at risk."""
    _push(db, log_id, entry, {"a": None, "p": f"{marker}: {cents(total)}"})


def for_app(doc: dict[str, Any]) -> dict[str, Any]:
    """The log as the app reads it: money in reais (as the original stored it)."""
    if doc.get("moneyUnit") != CENTS_UNIT:
        return doc
    out = {k: v for k, v in doc.items() if k != "moneyUnit"}
    out["money"] = _reais(doc.get("money"))
    out["stoploss"] = _reais(doc.get("stoploss"))
    if isinstance(doc.get("sobra"), Decimal128):
        out["sobra"] = float(doc["sobra"].to_decimal())
    out["operations"] = [
        {
            **entry,
            "money": _reais(entry.get("money")),
            "operacoes": [{**o, "p": _reais(o.get("p"))} for o in entry.get("operacoes") or []],
        }
        for entry in doc.get("operations") or []
    ]
    return out


def convert_to_cents(db: Any) -> int:
    """Convert every Operations document still in reais; safe to run again (it then does nothing)."""
    converted = 0
    for doc in list(db[names.OPERATIONS].find({"moneyUnit": {"$ne": CENTS_UNIT}})):

        def money(value: Any) -> Any:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return value  # None, or a note such as "SLR: 5.45"
            return _to_cents(value)

        new = {
            "moneyUnit": CENTS_UNIT,
            "money": money(doc.get("money")),
            "stoploss": money(doc.get("stoploss")),
            "operations": [
                {
                    **entry,
                    "money": money(entry.get("money")),
                    "operacoes": [{**o, "p": money(o.get("p"))} for o in entry.get("operacoes") or []],
                }
                for entry in doc.get("operations") or []
            ],
        }
        # Conditional on what was read, so a log written meanwhile is converted on the next run instead.
        match = {"_id": doc["_id"], "moneyUnit": {"$ne": CENTS_UNIT}, "operations": doc.get("operations")}
        converted += db[names.OPERATIONS].update_one(match, {"$set": new}).modified_count
    return converted
