"""The period's rank: accounts by net result (iqPeriodProfit − iqPeriodLoss, in cents), best first.

The net is a computed key, which no index of MongoDB's holds and which
mongomock would compute by reading and sorting every account on every call
(604 ms at 10,000 users). On the embedded store the rank therefore comes
from a sorted summary of `(−net, _id)` per account, registered beside the
store's own sorted indexes (glimpse.store.db): the same hooks on mongomock's
writes (insert, update in place, delete, drop) keep it in step with every
write to Accounts, whoever makes it (a credit, a conversion to cents, a
manager's edit, a seed), so a call reads only the first `limit` entries.
It is built on the first call after a start or a drop.

On a real MongoDB the accounts are read with a three-field projection and
the best `limit` kept with a heap, as before (see the README for the
stored-field index that would replace it).
"""

from __future__ import annotations

import heapq
from typing import Any

from bson import ObjectId

from glimpse.store import db as names
from glimpse.store.accounts import Account, money_cents
from glimpse.store.db import _indexes_of, _Locked, _SortedIndex, _stored

# The summary's key in the store's registry of sorted indexes: no query field is named like it,
# so glimpse.store.db.indexed_find never takes it for one of its own.
SUMMARY_KEY = ("$rank:periodNet",)
FIELDS = ("name", "iqPeriodProfit", "iqPeriodLoss")
_Entry = tuple[int, ObjectId]


class NetSummary(_SortedIndex):
    """Accounts ordered by (loss − profit, _id): the best net first, ties by id as before.

    One of glimpse.store.db's sorted indexes with its own entry: the store's write hooks keep it in
    step (`put`, `drop`) under the collection's lock."""

    def __init__(self) -> None:
        super().__init__(SUMMARY_KEY)

    def entry(self, doc: dict[str, Any]) -> _Entry | None:
        doc_id = doc.get("_id")
        if type(doc_id) is not ObjectId:
            return None
        return (money_cents(doc.get("iqPeriodLoss")) - money_cents(doc.get("iqPeriodProfit")), doc_id)


def _embedded_best(collection: Any, limit: int) -> list[Account] | None:
    with collection._lock:
        store = collection._target._store
        # The registry is typed for the store's own indexes; the summary is duck-typed like them.
        registry: dict[tuple[str, ...], Any] = _indexes_of(store)
        kept = registry.get(SUMMARY_KEY)
        summary = kept if isinstance(kept, NetSummary) else None
        if summary is None:
            summary = NetSummary()
            if not summary.build(_stored(store)):
                return None  # an account with an id that is not an ObjectId: read them all
            registry[SUMMARY_KEY] = summary
        documents = store._documents
        best = []
        for _, doc_id in summary.order[:limit]:
            doc = documents.get(doc_id)
            if doc is not None:
                best.append(Account.from_doc({"_id": doc_id, **{f: doc[f] for f in FIELDS if f in doc}}))
        return best


def best(db: Any, limit: int) -> list[Account]:
    """The `limit` best accounts of the period by net result (name and period figures only)."""
    collection = db[names.ACCOUNTS]
    if isinstance(collection, _Locked):
        found = _embedded_best(collection, limit)
        if found is not None:
            return found
    everyone = (Account.from_doc(doc) for doc in collection.find({}, dict.fromkeys(FIELDS, 1)))
    return heapq.nsmallest(limit, everyone, key=lambda a: (a.period_loss - a.period_profit, str(a.id)))
