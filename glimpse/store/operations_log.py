"""The per-session `Operations` log in the original's shape, which the app shows.

One document per session: `{operationTime, user, operationType, strategy,
accountType, expiration, money, gale, galeCount, galeType, sobra, operations}`;
each finished gale cycle is pushed to `operations` as
`{ativo, horario, operacao, money, candles: [[{o, c, h, l, from}]], operacoes: [{a, p}]}`,
where `p` is each order's cash result, or "SLR: <sum>" when every gale was
lost, or "CLO: <sum>" when the pair closed and a buy failed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bson import ObjectId

from glimpse.rules.money import cents
from glimpse.store import db as names


def start(
    db: Any,
    *,
    user: str,
    session: str,
    mode: str,
    strategy: dict | None,
    money: dict,
    account_type: str,
    now: float,
) -> ObjectId:
    doc = {
        "operationTime": now,
        "user": user,
        "session": session,
        "operationType": mode,
        "strategy": (strategy or {}).get("name") if mode == "strategy" else None,
        "operation": (strategy or {}).get("operation") if mode == "strategy" else None,
        "accountType": account_type,
        "expiration": 1,
        "money": money.get("money"),
        "gale": money.get("gale"),
        "galeCount": money.get("galeCount"),
        "galeType": money.get("galeType"),
        "sobra": money.get("sobra"),
        "stoploss": money.get("stopLossValue") if money.get("stopLoss") else None,
        "operations": [],
    }
    return db[names.OPERATIONS].insert_one(doc).inserted_id


def cycle_entry(ativo: str, horario: float, operacao: str, money: Decimal, candles: list[dict]) -> dict:
    return {
        "ativo": ativo,
        "horario": horario,
        "operacao": operacao,
        "money": float(cents(money)),
        "candles": [candles],
        "operacoes": [],
    }


def add_order(entry: dict, price: float | None, profit: Decimal) -> None:
    entry["operacoes"].append({"a": price, "p": float(cents(profit))})


def add_marker(entry: dict, marker: str, total: Decimal) -> None:
    """ "SLR" (every gale lost) or "CLO" (the pair closed), with the cycle's stakes at risk."""
    entry["operacoes"].append({"a": None, "p": f"{marker}: {cents(total)}"})


def push_cycle(db: Any, log_id: ObjectId, entry: dict) -> None:
    db[names.OPERATIONS].update_one({"_id": log_id}, {"$push": {"operations": entry}})
