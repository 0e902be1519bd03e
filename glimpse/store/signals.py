"""`Signals`: one timed signal list per user, each signal a row with its own id.

Slotted dataclasses, not pydantic models: the API validates what the app
sends (api/schemas.py) before it reaches the store, so reading back needs
only a field-by-field copy, which stays cheap for a list of 500 rows.

On disk (the original's field names): `{user: <account id, hex>, signals:
[{id, status, ativo, hora, operacao, resultado, expiry, gale}], type: "user"}`.
A row's `status` is "active", "canceled" or "result" (then `resultado` holds
one of RESULTS: a cycle's result, or "skipped" when its minute went by
untraded). `expiry` (minutes) and `gale` (the signal's own gale cap) are
written only when the list named them; `invalid` marks a row `glimpse
migrate` kept but could not read (canceled, never traded), with the reason.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bson import ObjectId

from glimpse.store import db as names

ACTIVE, CANCELED, RESULT = "active", "canceled", "result"
STATUSES: tuple[str, ...] = (ACTIVE, CANCELED, RESULT)
#: What `resultado` may hold: empty while open, a cycle's result, or "skipped" (operational_server/modes.py).
RESULTS: tuple[str, ...] = ("", "win", "loss", "doji", "failed", "skipped")


@dataclass(slots=True)
class Signal:
    id: str
    ativo: str
    hora: str  # "HH:MM" in GLIMPSE_TZ
    operacao: str  # "call" | "put"
    status: str = ACTIVE
    resultado: str = ""
    expiry: int | None = None  # minutes; None: the list named none (the bot's default)
    gale: int | None = None  # the signal's own gale cap; None: the trader's setting
    invalid: str | None = None  # why `glimpse migrate` could not read the row

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Signal:
        invalid = doc.get("invalid")
        return cls(
            id=str(doc.get("id") or ""),
            ativo=str(doc.get("ativo", "")),
            hora=str(doc.get("hora", "")),
            operacao=str(doc.get("operacao", "")),
            status=str(doc.get("status", ACTIVE)),
            resultado=str(doc.get("resultado") or ""),
            expiry=_whole(doc.get("expiry")),
            gale=_whole(doc.get("gale")),
            invalid=None if invalid is None else str(invalid),
        )

    def to_doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "id": self.id,
            "status": self.status,
            "ativo": self.ativo,
            "hora": self.hora,
            "operacao": self.operacao,
            "resultado": self.resultado,
        }
        # Absent rather than null, so lists written before these fields keep their shape.
        if self.expiry is not None:
            doc["expiry"] = self.expiry
        if self.gale is not None:
            doc["gale"] = self.gale
        if self.invalid is not None:
            doc["invalid"] = self.invalid
        return doc


def _whole(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        return None
    return int(value)


@dataclass(slots=True)
class SignalList:
    user: str  # the account id, hex
    signals: list[Signal] = field(default_factory=list)
    type: str = "user"
    id: ObjectId | None = None  # _id

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> SignalList:
        rows = doc.get("signals") or []
        return cls(
            user=str(doc.get("user", "")),
            signals=[Signal.from_doc(row) for row in rows if isinstance(row, Mapping)],
            type=str(doc.get("type", "user")),
            id=doc.get("_id"),
        )

    def public(self) -> dict[str, Any]:
        """The shape clients get: {_id, user, signals, type}."""
        doc: dict[str, Any] = {} if self.id is None else {"_id": self.id}
        doc.update(user=self.user, signals=[row.to_doc() for row in self.signals], type=self.type)
        return doc

    def active(self) -> list[Signal]:
        """The rows still to trade (with an id to record their result by)."""
        return [row for row in self.signals if row.status == ACTIVE and row.id]


def find_for_user(db: Any, user: str) -> SignalList | None:
    """The user's signal list, or None when they never sent one."""
    doc = db[names.SIGNALS].find_one({"user": user})
    return SignalList.from_doc(doc) if doc is not None else None


def find_for_users(db: Any, users: Iterable[str]) -> dict[str, SignalList]:
    """The signal lists of `users` in one query, by user; a user who never sent one is absent.

    One `$in` instead of a find_one each: on the embedded store every find_one scans the whole
    collection, and the `$in` of strings is a set lookup per document (glimpse.store.db).
    """
    wanted = list(dict.fromkeys(users))
    if not wanted:
        return {}
    found: dict[str, SignalList] = {}
    for doc in db[names.SIGNALS].find({"user": {"$in": wanted}}):
        one = SignalList.from_doc(doc)
        found.setdefault(one.user, one)  # the first, as find_one would answer
    return found


def replace(db: Any, user: str, signals: Iterable[Signal], type: str = "user") -> bool:
    """Replace the user's whole list (as the original's insertSignals did); True when one was there before."""
    rows = [row.to_doc() for row in signals]
    result = db[names.SIGNALS].update_one(
        {"user": user}, {"$set": {"signals": rows, "type": type}}, upsert=True
    )
    return bool(result.matched_count)


def set_status(db: Any, user: str, signal_id: str, status: str, from_statuses: Iterable[str]) -> bool:
    """Move one row to `status`, only from one of `from_statuses`; False when no such row is there."""
    result = db[names.SIGNALS].update_one(
        {"user": user, "signals": {"$elemMatch": {"id": signal_id, "status": {"$in": list(from_statuses)}}}},
        {"$set": {"signals.$.status": status}},
    )
    return bool(result.matched_count)


def record_result(db: Any, user: str, signal_id: str, resultado: str) -> bool:
    """An active row gets its outcome ("win", "loss", "doji", "skipped"); False when it was not active."""
    result = db[names.SIGNALS].update_one(
        {"user": user, "signals": {"$elemMatch": {"id": signal_id, "status": ACTIVE}}},
        {"$set": {"signals.$.status": RESULT, "signals.$.resultado": resultado}},
    )
    return bool(result.matched_count)
