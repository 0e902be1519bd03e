"""`Strategies`: candle-colour strategies, looked up by name without regard to case.

The model is a slotted dataclass, not a pydantic model: every read converts
a document the store itself wrote (or the seed holds), so field-by-field
copying is all it needs, and it costs a few hundred nanoseconds where a
validating model would cost tens of microseconds on every listing.

On disk (the original's field names): `name`, `createdBy`, `sequence`
("-1,-1,1"), `operation` ("call" | "put"), `mirror`; and this project's
`nameKey` (the case-folded name, unique), `owner` (the creator's account
id, hex; "" for Glimpse's own) and `createdAt`.

A quadrant strategy (MHI and its relatives, glimpse.rules.quadrants) adds
`quadrant: {period, offset, candles, pick}` and keeps `sequence` and
`operation` empty: the rule decides the direction at its entry minutes.
A document without `quadrant` is a sequence strategy, as every document of
the original is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bson import ObjectId
from pymongo.errors import DuplicateKeyError

from glimpse.rules.money import GLIMPSE_AUTHOR
from glimpse.rules.quadrants import QuadrantRule
from glimpse.store import db as names


@dataclass(slots=True)
class StrategyDoc:
    name: str
    created_by: str  # createdBy: "Glimpse" or the creator's short name
    sequence: str  # "-1,-1,1": red, red, green
    operation: str  # "call" | "put"
    mirror: bool
    owner: str = ""  # the creator's account id (hex); "" for Glimpse's strategies
    created_at: float | None = None  # createdAt
    id: ObjectId | None = None  # _id
    quadrant: dict[str, Any] | None = None  # {period, offset, candles, pick}: a quadrant strategy

    @property
    def is_quadrant(self) -> bool:
        return self.quadrant is not None

    @property
    def name_key(self) -> str:
        return self.name.casefold()

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> StrategyDoc:
        created_at = doc.get("createdAt")
        quadrant = doc.get("quadrant")
        return cls(
            name=str(doc.get("name", "")),
            created_by=str(doc.get("createdBy", "")),
            sequence=str(doc.get("sequence", "")),
            operation=str(doc.get("operation", "")),
            mirror=bool(doc.get("mirror", False)),
            owner=str(doc.get("owner") or ""),
            created_at=float(created_at) if isinstance(created_at, (int, float)) else None,
            id=doc.get("_id"),
            quadrant=dict(quadrant) if isinstance(quadrant, Mapping) else None,
        )

    def to_doc(self) -> dict[str, Any]:
        """The document as stored (without `_id` until it has one)."""
        doc = self.public()
        doc["nameKey"] = self.name_key
        doc["owner"] = self.owner
        return doc

    def public(self) -> dict[str, Any]:
        """The shape clients get (the original's fields): no `nameKey`, no `owner`."""
        doc: dict[str, Any] = {} if self.id is None else {"_id": self.id}
        doc.update(
            name=self.name,
            createdBy=self.created_by,
            sequence=self.sequence,
            operation=self.operation,
            mirror=self.mirror,
        )
        if self.created_at is not None:
            doc["createdAt"] = self.created_at
        if self.quadrant is not None:
            doc["quadrant"] = dict(self.quadrant)
        return doc

    def quadrant_rule(self) -> QuadrantRule | None:
        """The quadrant rule, named after the strategy; None for a sequence strategy.
        Raises QuadrantError when the stored rule cannot be used."""
        if self.quadrant is None:
            return None
        return QuadrantRule.from_document({**self.quadrant, "name": self.name or "quadrant"})

    def rule(self) -> dict[str, Any]:
        """The fields that make the trading rule (what editStrategy changes and audits)."""
        rule: dict[str, Any] = {"sequence": self.sequence, "operation": self.operation, "mirror": self.mirror}
        if self.quadrant is not None:
            rule["quadrant"] = dict(self.quadrant)
        return rule


def _all(docs: Iterable[Mapping[str, Any]]) -> list[StrategyDoc]:
    return [StrategyDoc.from_doc(doc) for doc in docs]


def find_by_name(db: Any, name: str) -> StrategyDoc | None:
    """The strategy called `name` in any letter case, or None."""
    if not name:
        return None
    doc = db[names.STRATEGIES].find_one({"nameKey": name.casefold()})
    return StrategyDoc.from_doc(doc) if doc is not None else None


def visible(db: Any, owned: Iterable[str] | None = None) -> list[StrategyDoc]:
    """Strategies by name: Glimpse's and the `owned` names, or every one when `owned` is None."""
    query: dict[str, Any] = {}
    if owned is not None:
        query = {"$or": [{"createdBy": GLIMPSE_AUTHOR}, {"name": {"$in": list(owned)}}]}
    return _all(db[names.STRATEGIES].find(query).sort("name", 1))


def insert(db: Any, strategy: StrategyDoc) -> bool:
    """Store a new strategy; False when its name is taken in any letter case."""
    try:
        strategy.id = db[names.STRATEGIES].insert_one(strategy.to_doc()).inserted_id
    except DuplicateKeyError:
        return False
    return True


def set_rule(
    db: Any,
    strategy_id: ObjectId,
    sequence: str,
    operation: str,
    mirror: bool,
    quadrant: Mapping[str, Any] | None = None,
) -> bool:
    """Change a strategy's candles, direction and mirror (or its quadrant rule: a sequence strategy
    may become a quadrant one and back); False when it no longer exists."""
    change: dict[str, Any] = {"$set": {"sequence": sequence, "operation": operation, "mirror": mirror}}
    if quadrant is not None:
        change["$set"]["quadrant"] = dict(quadrant)
    else:
        change["$unset"] = {"quadrant": ""}
    result = db[names.STRATEGIES].update_one({"_id": strategy_id}, change)
    return bool(result.matched_count)


def upsert_by_name(db: Any, strategy: StrategyDoc) -> None:
    """Write a strategy over the one with the same name (seeding tools and simulations)."""
    doc = strategy.to_doc()
    doc.pop("_id", None)
    change: dict[str, Any] = {"$set": doc}
    if strategy.quadrant is None:
        change["$unset"] = {"quadrant": ""}
    db[names.STRATEGIES].update_one({"nameKey": strategy.name_key}, change, upsert=True)


def find_official(db: Any, name: str) -> StrategyDoc | None:
    """The strategy called `name` (any letter case) published under the Glimpse author, or None."""
    doc = db[names.STRATEGIES].find_one({"nameKey": name.casefold(), "createdBy": GLIMPSE_AUTHOR})
    return StrategyDoc.from_doc(doc) if doc is not None else None


def delete_official(db: Any, strategy_id: ObjectId) -> StrategyDoc | None:
    """Delete a Glimpse-authored strategy; the strategy as it was, or None when it is gone."""
    doc = db[names.STRATEGIES].find_one_and_delete({"_id": strategy_id, "createdBy": GLIMPSE_AUTHOR})
    return StrategyDoc.from_doc(doc) if doc is not None else None
