"""The one place that opens the database.

A `GLIMPSE_MONGO_URI` gives a pymongo database. Without one, the bundle runs
embedded on mongomock, in memory, shared by every thread of the process.

mongomock is not atomic: its `find_one_and_update` finds, then updates by
`_id`, so two threads can both win a conditional claim. The embedded handle
therefore runs every collection call under one lock per in-memory store,
which gives each single operation the atomicity MongoDB itself guarantees.
"""

from __future__ import annotations

import bisect
import copy
import operator
import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

import bson
import mongomock
import pymongo
from bson import Decimal128, ObjectId
from mongomock import helpers as mongomock_helpers
from pymongo import ASCENDING, DESCENDING, IndexModel, UpdateOne

from glimpse.runtime.config import Config

# Names of the collections; code refers to these instead of repeating strings.
ACCOUNTS = "Accounts"
ACTIVES_SCHEDULE = "ActivesSchedule"
ALL_SIGNALS = "AllSignals"
AUXILIAR = "Auxiliar"
CODES = "Codes"
LOGIN_ATTEMPTS = "LoginAttempts"
MANAGER_ACCOUNTS = "ManagerAccounts"
MANAGER_AUDIT = "ManagerAudit"
OPENED_ACTIVES = "OpenedActives"
OPERATIONS = "Operations"
PAPER_BALANCES = "PaperBalances"
QUESTIONS = "Questions"
REALTIME_CANDLES = "RealtimeCandles"
SERVERS = "Servers"
SERVER_STATUS = "ServerStatus"
SESSIONS = "Sessions"
SIGNALS = "Signals"
STRATEGIES = "Strategies"
TEST_CANDLES = "TestCandles"
TEST_CANDLES_ANNUALLY = "TestCandlesAnnually"
TRADES = "Trades"


class _Locked:
    """Runs every public call of the wrapped mongomock object under `lock`."""

    __slots__ = ("_target", "_lock", "_children", "_calls")

    def __init__(self, target: Any, lock: threading.RLock):
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_lock", lock)
        # A database's collections by name, and a collection's locked methods by name: every order
        # looks its collections and their methods up a dozen times, and mongomock hands out the same
        # Collection for a name for the life of its database (its options never change here).
        object.__setattr__(self, "_children", {})
        object.__setattr__(self, "_calls", {})

    def __getattr__(self, name: str) -> Any:
        call = self._calls.get(name)
        if call is not None:
            return call
        attr = getattr(self._target, name)
        if isinstance(attr, mongomock.Collection):
            return _Locked(attr, self._lock)
        if callable(attr) and not name.startswith("_"):
            lock = self._lock

            def call(*args: Any, **kwargs: Any) -> Any:
                with lock:
                    result = attr(*args, **kwargs)
                if isinstance(result, (mongomock.Collection, mongomock.Database)):
                    return _Locked(result, lock)
                return result

            # A collection's bound methods are fixed (a database's attributes may be collections).
            if isinstance(self._target, mongomock.Collection):
                self._calls[name] = call
            return call
        return attr

    def __getitem__(self, name: str) -> _Locked:
        child: _Locked | None = self._children.get(name) if type(name) is str else None
        if child is None:
            child = _Locked(self._target[name], self._lock)
            if type(name) is str and isinstance(self._target, mongomock.Database):
                self._children[name] = child
        return child

    def __eq__(self, other: object) -> bool:
        other_target = other._target if isinstance(other, _Locked) else other
        return bool(self._target == other_target)

    def __hash__(self) -> int:
        return hash(self._target)

    def __repr__(self) -> str:
        return f"Locked({self._target!r})"


def _install_id_lookup() -> None:
    """Let mongomock answer filters on one `_id` from its id-keyed store.

    mongomock scans (and copies) the whole collection for every query, so an
    update by `_id` costs O(collection); the ledger and the accounts are
    touched by `_id` on every order. The answer is the same: the one document
    with that id, if the rest of the filter applies to it.
    """
    from mongomock.collection import Collection
    from mongomock.filtering import filter_applies

    scan: Any = Collection._iter_documents
    if getattr(scan, "glimpse_id_lookup", False):
        return

    def iter_documents(self: Any, filter: Any) -> Any:
        _in_sets.clear()  # a list seen by an earlier query may have been changed since
        key = filter.get("_id") if isinstance(filter, dict) else None
        if type(key) not in (ObjectId, str, int):  # operators, regexes, lists: the general scan
            holding = _holding(self._store, filter) if key is None and type(filter) is dict else None
            if holding is not None:  # a unique field's value: the documents that hold it
                return iter([doc for doc in holding if filter_applies(filter, doc)])  # type: ignore[no-untyped-call]
            return scan(self, filter)
        try:
            doc = self._store[key]
        except (KeyError, TypeError):
            return iter(())
        return iter((doc,)) if filter_applies(filter, doc) else iter(())  # type: ignore[no-untyped-call]

    setattr(iter_documents, "glimpse_id_lookup", True)  # noqa: B010 (a function attribute mypy cannot see)
    setattr(Collection, "_iter_documents", iter_documents)  # noqa: B010 (patching mongomock)

    # mongomock checks a unique index after every write by running a full
    # query for the key. For a plain single-field index on a string or an
    # ObjectId (names, emails, codes), the store keeps a value -> ids map in
    # step with its writes (see _UniqueValues), so the check is a lookup: the
    # heartbeat rewrites every server of a process each beat, and the scan
    # per document made that beat quadratic. An int is compared field by field.
    check_uniques: Any = Collection._ensure_uniques

    def ensure_uniques(self: Any, new_data: Any) -> Any:
        for index in self._store.indexes.values():
            if not index.get("unique"):
                continue
            field = _plain_unique_field(index)
            if field is None:
                return check_uniques(self, new_data)
            value = new_data.get(field)
            kind = type(value)
            if kind in _UNIQUE_KINDS:
                holders = _unique_values(self._store, field).holders(value, new_data.get("_id"))
                if holders is None or holders > 1:  # a duplicate, or a map out of step: the store says
                    holders = sum(1 for doc in self._store.documents if doc.get(field) == value)
            elif kind is int:
                holders = sum(1 for doc in self._store.documents if doc.get(field) == value)
            else:
                return check_uniques(self, new_data)
            if holders > 1:
                raise pymongo.errors.DuplicateKeyError("E11000 Duplicate Key Error", 11000)
        return None

    setattr(Collection, "_ensure_uniques", ensure_uniques)  # noqa: B010 (patching mongomock)
    _install_fast_in()


# Values a unique field may hold for its check to be a lookup. Neither type equals a value of the
# other, nor of any other type, so equal values are equal keys of one dict.
_UNIQUE_KINDS = (str, ObjectId)


class _UniqueValues:
    """For one field of one collection: the ids of the documents holding each string or ObjectId value."""

    def __init__(self, field: str, docs: Any):
        self.field = field
        self.value_of: dict[Any, Any] = {}  # document id -> its indexed value (None: not indexed)
        self.ids: dict[Any, set[Any]] = {}
        # The documents whose value is an array, which an equality matches by its elements, and
        # whether a document was left out (an unhashable id): then `holding` cannot say.
        self.arrays: set[Any] = set()
        self.complete = True
        for doc in docs:
            self.put(doc)

    def put(self, doc: dict[str, Any]) -> None:
        doc_id = doc.get("_id")
        try:
            old = self.value_of.get(doc_id)
        except TypeError:  # an unhashable id (mongomock's hashdict is hashable; anything else is not)
            self.complete = False
            return
        value = doc.get(self.field)
        if type(value) is list:
            self.arrays.add(doc_id)
        else:
            self.arrays.discard(doc_id)
        new = value if type(value) in _UNIQUE_KINDS else None
        if old == new and (new is None or doc_id in self.value_of):
            return
        self._remove(doc_id, old)
        self.value_of[doc_id] = new
        if new is not None:
            self.ids.setdefault(new, set()).add(doc_id)

    def drop(self, doc_id: Any) -> None:
        try:
            old = self.value_of.pop(doc_id, None)
        except TypeError:
            return
        self.arrays.discard(doc_id)
        self._remove(doc_id, old)

    def _remove(self, doc_id: Any, value: Any) -> None:
        if value is None:
            return
        holders = self.ids.get(value)
        if holders is not None:
            holders.discard(doc_id)
            if not holders:
                del self.ids[value]

    def holders(self, value: Any, doc_id: Any) -> int | None:
        """How many documents hold `value`, counting the one just written (`doc_id`); None when
        that document is not found under its value (the map missed a write: do not trust it)."""
        found = self.ids.get(value, ())
        try:
            return len(found) if doc_id in found else None
        except TypeError:
            return None


def _holding(store: Any, filter: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The stored documents that hold what the filter asks of a field with a unique index, when it
    asks one top-level field of a plain unique index to equal a string or an ObjectId (a server's
    name, a pair's ativo, an account's email); None when no such field says. The other conditions
    are the caller's to test: a document the filter can match is one of these."""
    for field, wanted in filter.items():
        if type(wanted) not in _UNIQUE_KINDS or all(
            _plain_unique_field(index) != field for index in store.indexes.values()
        ):
            continue
        values = _unique_values(store, field)
        if values.arrays or not values.complete:
            continue
        documents = store._documents
        found = []
        for doc_id in values.ids.get(wanted, ()):
            doc = documents.get(doc_id)
            if doc is not None and type(doc.get(field)) is type(wanted) and doc.get(field) == wanted:
                found.append(doc)
        return found
    return None


def _plain_unique_field(index: dict[str, Any]) -> str | None:
    """The field of a unique index on one top-level field over every document (not sparse, no
    partial filter): the indexes whose values the store maps (_UniqueValues). None for any other."""
    key = list(index.get("key") or ())
    if (
        not index.get("unique")
        or len(key) != 1
        or index.get("sparse")
        or index.get("partialFilterExpression") is not None
        or "." in key[0][0]
    ):
        return None
    return str(key[0][0])


def _unique_maps(store: Any) -> dict[str, _UniqueValues]:
    maps: dict[str, _UniqueValues] = store.__dict__.setdefault("_glimpse_unique", {})
    return maps


def _unique_values(store: Any, field: str) -> _UniqueValues:
    maps = _unique_maps(store)
    found = maps.get(field)
    if found is None:
        found = maps[field] = _UniqueValues(field, _stored(store))
    return found


def _install_fast_in() -> None:
    """Let mongomock's `$in` test a document's value against a set instead of the whole list.

    mongomock checks every list value for a regex and then compares the document's value with each
    value in turn, for every document: matching 500 accounts against 500 ids was 250,000 steps. The
    set of a list of strings and ObjectIds is built once per list: the lists a query holds are its
    own copies (mongomock copies every filter it is given), which this module never changes, and
    the set is forgotten at the start of every query.
    """
    from mongomock import filtering

    inner: Any = filtering._filterer_inst._operator_map["$in"]
    if getattr(inner, "glimpse_fast_in", False):
        return

    def in_op(doc_val: Any, search_val: Any) -> Any:
        if type(doc_val) in _UNIQUE_KINDS and type(search_val) is list and len(search_val) > _IN_SET_FROM:
            cached = _in_sets.get(id(search_val))
            if cached is None or cached[0] is not search_val:
                values = frozenset(search_val) if all(type(v) in _UNIQUE_KINDS for v in search_val) else None
                if len(_in_sets) >= _IN_SETS_KEPT:
                    _in_sets.clear()
                cached = _in_sets[id(search_val)] = (search_val, values)
            if cached[1] is not None:
                return doc_val in cached[1]
        return inner(doc_val, search_val)

    setattr(in_op, "glimpse_fast_in", True)  # noqa: B010 (a function attribute mypy cannot see)
    filtering._filterer_inst._operator_map["$in"] = in_op


# Lists up to this long are compared as mongomock does; a set pays off beyond.
_IN_SET_FROM = 8
_IN_SETS_KEPT = 16
# id(list) -> (the list, the set of its values or None when a value is of another type).
_in_sets: dict[int, tuple[list[Any], frozenset[Any] | None]] = {}


_install_id_lookup()


# ------------------------------------------------------------------ sorted indexes on the embedded store
#
# mongomock answers every find by filtering, sorting and deep-copying the
# whole collection, so a keyset page over 200,000 trades cost ~0.5 s. On the
# embedded store the manager's pages therefore walk sorted indexes of their
# own: per collection, a sorted list of `(type rank, value, ..., _id)` for the
# fields (an equality field of the query, if any, then the sort field), built
# on first use and kept in step by hooks on mongomock's writes (insert,
# in-place update, rollback, delete, drop). Only scalar values (null, numbers,
# strings, booleans) and ObjectId ids are indexed; with anything else the
# index is refused and the caller asks the database as before.

_MAX_ID = ObjectId("f" * 24)
_Entry = tuple[Any, ...]
# Immutable values a copy may share (Decimal128: the money settings; datetime: stored dates).
_SCALARS = frozenset((str, int, float, bool, type(None), ObjectId, Decimal128, datetime))


def _rank(value: Any) -> tuple[int, Any] | None:
    """The value's place in an index, in MongoDB's order of types; None when not indexable."""
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (3, value)
    if isinstance(value, (int, float)):
        return None if value != value else (1, value)  # NaN sorts nowhere
    if isinstance(value, str):
        return (2, value)
    return None


class _SortedIndex:
    def __init__(self, fields: tuple[str, ...]):
        self.fields = fields
        self.keys: dict[ObjectId, _Entry] = {}
        self.order: list[_Entry] = []

    def entry(self, doc: dict[str, Any]) -> _Entry | None:
        doc_id = doc.get("_id")
        if type(doc_id) is not ObjectId:
            return None
        parts: list[Any] = []
        for field in self.fields:
            ranked = _rank(doc.get(field))
            if ranked is None:
                return None
            parts += ranked
        return (*parts, doc_id)

    def build(self, docs: Any) -> bool:
        for doc in docs:
            entry = self.entry(doc)
            if entry is None:
                return False
            self.keys[entry[-1]] = entry
        self.order = sorted(self.keys.values())
        return True

    def put(self, doc: dict[str, Any]) -> bool:
        """Index `doc` at its current values; False when it cannot be indexed."""
        entry = self.entry(doc)
        if entry is None:
            return False
        old = self.keys.get(entry[-1])
        if old != entry:
            if old is not None:
                self._remove(old)
            self.keys[entry[-1]] = entry
            bisect.insort(self.order, entry)
        return True

    def drop(self, doc_id: Any) -> None:
        old = self.keys.pop(doc_id, None)
        if old is not None:
            self._remove(old)

    def _remove(self, entry: _Entry) -> None:
        at = bisect.bisect_left(self.order, entry)
        if at < len(self.order) and self.order[at] == entry:
            del self.order[at]

    def span(self, prefix: _Entry, conditions: list[Any]) -> tuple[int, int]:
        """The positions under `prefix` (the ranked equality values) that can match `conditions`
        (the query's conditions on the last field: only a numeric range narrows them)."""
        order = self.order
        lo, hi = bisect.bisect_left(order, prefix), bisect.bisect_left(order, (*prefix, 4))
        for condition in conditions:
            if not isinstance(condition, dict):
                continue
            for op, bound in condition.items():
                if op not in ("$gt", "$gte", "$lt", "$lte") or not _is_number(bound):
                    continue
                # Only numbers match a numeric range.
                lo = max(lo, bisect.bisect_left(order, (*prefix, 1)))
                hi = min(hi, bisect.bisect_left(order, (*prefix, 2)))
                if op == "$gte":
                    lo = max(lo, bisect.bisect_left(order, (*prefix, 1, bound)))
                elif op == "$gt":
                    lo = max(lo, bisect.bisect_right(order, (*prefix, 1, bound, _MAX_ID)))
                elif op == "$lt":
                    hi = min(hi, bisect.bisect_left(order, (*prefix, 1, bound)))
                else:
                    hi = min(hi, bisect.bisect_right(order, (*prefix, 1, bound, _MAX_ID)))
        return lo, hi


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value


def _is_range(condition: Any) -> bool:
    return (
        isinstance(condition, dict)
        and bool(condition)
        and all(op in ("$gt", "$gte", "$lt", "$lte") and _is_number(v) for op, v in condition.items())
    )


def _top_conditions(query: dict[str, Any]) -> list[tuple[str, Any]]:
    """(field, condition) pairs that every match must meet: the query's top level and its $and.
    Any other operator ($or, $nor, ...) is a ("$", ...) pair, which no index answers exactly."""
    pairs: list[tuple[str, Any]] = []
    for key, value in query.items():
        if key == "$and" and isinstance(value, list) and all(isinstance(part, dict) for part in value):
            for part in value:
                pairs += _top_conditions(part)
        else:
            pairs.append(("$" if key.startswith("$") else key, value))
    return pairs


def _stored(store: Any) -> Any:
    """The stored documents. mongomock keeps them in an OrderedDict, whose values() looks each
    key up again (hashing an ObjectId in Python); the plain dict view reads them in place."""
    return dict.values(store._documents)


def _indexes_of(store: Any) -> dict[tuple[str, ...], _SortedIndex]:
    registry: dict[tuple[str, ...], _SortedIndex] = store.__dict__.setdefault("_glimpse_sorted", {})
    return registry


def _reindex(store: Any, doc: dict[str, Any]) -> None:
    for values in _unique_maps(store).values():
        values.put(doc)
    registry = _indexes_of(store)
    for fields, index in list(registry.items()):
        if not index.put(doc):
            del registry[fields]  # rebuilt (or refused) on next use


def _install_sorted_index_hooks() -> None:
    from mongomock.collection import Collection
    from mongomock.store import CollectionStore

    if getattr(CollectionStore, "glimpse_sorted_hooks", False):
        return
    set_item: Any = CollectionStore.__setitem__
    del_item: Any = CollectionStore.__delitem__
    drop: Any = CollectionStore.drop

    def setitem(self: Any, key: Any, value: Any) -> None:
        set_item(self, key, value)
        _reindex(self, value)

    def delitem(self: Any, key: Any) -> None:
        del_item(self, key)
        for index in _indexes_of(self).values():
            index.drop(key)
        for values in _unique_maps(self).values():
            values.drop(key)

    def dropped(self: Any) -> None:
        drop(self)
        _indexes_of(self).clear()
        _unique_maps(self).clear()

    def after_update(apply: Any) -> Any:
        def applied(self: Any, existing_document: Any, *args: Any, **kwargs: Any) -> Any:
            result = apply(self, existing_document, *args, **kwargs)
            store = self._store
            # An upsert's document is indexed when inserted; this one is updated in place.
            if (_indexes_of(store) or _unique_maps(store)) and existing_document.get(
                "_id"
            ) in store._documents:
                _reindex(store, existing_document)
            return result

        return applied

    setattr(CollectionStore, "__setitem__", setitem)  # noqa: B010 (patching mongomock)
    setattr(CollectionStore, "__delitem__", delitem)  # noqa: B010
    setattr(CollectionStore, "drop", dropped)  # noqa: B010
    for name in ("_apply_update_document", "_apply_update_pipeline"):
        setattr(Collection, name, after_update(getattr(Collection, name)))
    setattr(CollectionStore, "glimpse_sorted_hooks", True)  # noqa: B010


_install_sorted_index_hooks()


def _install_fast_copies() -> None:
    """Let mongomock's collection copy documents with `_clone` instead of `copy.deepcopy`.

    Every update deep-copies each document it matches (the snapshot it rolls back to), and a
    deepcopy walks every value through the generic machinery: at 500 servers, the heartbeat's
    one update_many spent more than half its time there. `_clone` copies the containers and
    shares the immutable scalars; anything else still goes through deepcopy.
    """
    from types import SimpleNamespace

    from mongomock import collection

    if getattr(collection.copy, "glimpse_fast_copies", False):
        return

    def deepcopy(value: Any, memo: Any = None) -> Any:
        return copy.deepcopy(value, memo) if memo is not None else _clone(value)

    collection.copy = SimpleNamespace(  # type: ignore[assignment]
        copy=copy.copy, deepcopy=deepcopy, glimpse_fast_copies=True
    )

    # The copy of each document a find answers (without a projection, or of what one keeps): mongomock
    # walks every value and copies each scalar. A signal user's list was 0.7 ms to read that way, and
    # the order desk's instant reads every signal user's list again (operational_server.modes).
    original = collection._copy_field

    def copy_field(obj: Any, container: Any) -> Any:
        if isinstance(obj, list):
            return [v if type(v) in _SCALARS else copy_field(v, container) for v in obj]
        if isinstance(obj, dict):
            new = container()
            for key, value in obj.items():
                new[key] = value if type(value) in _SCALARS else copy_field(value, container)
            return new
        return copy.copy(obj)

    setattr(copy_field, "glimpse_original", original)  # noqa: B010 (what the tests compare it with)
    collection._copy_field = copy_field


def _clone(value: Any) -> Any:
    """A deep copy that shares the immutable scalars (mongomock's copies every value).

    Any mapping of dict's kind is copied this way: mongomock keeps upserted documents as OrderedDict,
    and deepcopy'ing those was most of the time of a page of them."""
    if isinstance(value, dict):
        return {k: v if type(v) in _SCALARS else _clone(v) for k, v in value.items()}
    if type(value) is list:
        return [v if type(v) in _SCALARS else _clone(v) for v in value]
    return value if type(value) in _SCALARS else copy.deepcopy(value)


def _copier(target: Any, projection: dict[str, Any] | None) -> Any:
    """A function that copies a stored document with `projection`, as mongomock's find would."""
    if not projection:
        return _clone
    keep_id = projection.get("_id", 1)
    fields = {k: v for k, v in projection.items() if k != "_id"}
    plain = all(
        isinstance(v, (int, bool)) and "." not in k and not k.startswith("$") for k, v in fields.items()
    )
    if not plain or len({bool(v) for v in fields.values()}) > 1:
        return lambda doc: target._copy_only_fields(doc, dict(projection), dict)
    if not fields and keep_id:  # {"_id": 1}: the id alone
        return lambda doc: {"_id": doc["_id"]} if "_id" in doc else {}
    if fields and next(iter(fields.values())):  # inclusion
        names = [k for k in fields] + (["_id"] if keep_id else [])
        return lambda doc: _clone({k: doc[k] for k in names if k in doc})
    drop = set(fields) | (set() if keep_id else {"_id"})
    return lambda doc: _clone({k: v for k, v in doc.items() if k not in drop})


_install_fast_copies()


def _install_fast_find_one() -> None:
    """Answer `find_one({"_id": value}[, projection])` from the id-keyed store.

    mongomock builds a cursor, patches the filter's dates and projects field by field for each
    one; the paper broker reads its account that way for every balance and order, and 500
    followers copying one decision made those reads most of the fan-out. The answer is the same
    document, copied with the same projection (`_copier`, as `find_by_ids` does).
    """
    from mongomock.collection import Collection

    slow: Any = Collection.find_one
    if getattr(slow, "glimpse_fast", False):
        return

    def find_one(self: Any, filter: Any = None, *args: Any, **kwargs: Any) -> Any:
        projection = args[0] if len(args) == 1 else kwargs.get("projection")
        fast = (
            type(filter) is dict
            and len(filter) == 1
            and type(filter.get("_id")) in (ObjectId, str, int)
            and len(args) + len(kwargs) <= 1
            and (not kwargs or "projection" in kwargs)
            and (projection is None or type(projection) is dict)
            and not self.codec_options.tz_aware
        )
        if not fast:
            return slow(self, filter, *args, **kwargs)
        try:
            doc = self._store[filter["_id"]]
        except (KeyError, TypeError):
            return None
        return _copier(self, projection)(doc)

    setattr(find_one, "glimpse_fast", True)  # noqa: B010 (a function attribute mypy cannot see)
    setattr(Collection, "find_one", find_one)  # noqa: B010 (patching mongomock)


_install_fast_find_one()


# What mongomock's date patching returns unchanged: no datetime, no Timestamp, no container.
_UNPATCHED = frozenset((str, int, float, bool, type(None), ObjectId, Decimal128, bytes))


def _install_fast_date_patching() -> None:
    """Let mongomock's date patching skip what holds no date.

    mongomock rebuilds every inserted document, filter and update, value by value, through two
    isinstance checks per value, to truncate datetimes to milliseconds: an order's intent took a
    fifth of its insert there. Plain dicts and lists are rebuilt here by type, and scalars returned
    as they are; anything else (datetimes, Timestamps, OrderedDicts, tuples) goes to mongomock's
    own function, so the result is the same.
    """
    from mongomock import helpers

    slow: Any = helpers.patch_datetime_awareness_in_document
    if getattr(slow, "glimpse_fast", False):
        return

    def patch(value: Any) -> Any:
        kind = type(value)
        if kind in _UNPATCHED:
            return value
        if kind is dict:
            return {k: v if type(v) in _UNPATCHED else patch(v) for k, v in value.items()}
        if kind is list:
            return [v if type(v) in _UNPATCHED else patch(v) for v in value]
        return slow(value)

    setattr(patch, "glimpse_fast", True)  # noqa: B010 (a function attribute mypy cannot see)
    setattr(patch, "glimpse_slow", slow)  # noqa: B010 (the property test compares the two)
    # mongomock's recursion looks the name up in its module: nested values come back here too.
    helpers.patch_datetime_awareness_in_document = patch


_install_fast_date_patching()


def _install_fast_insert() -> None:
    """Insert a flat document (a ledger intent; a queued notification, whose data is one plain
    document) without mongomock's walk.

    mongomock checks every key of every level through `isinstance(value, Mapping)`, compares
    pymongo's version, and rebuilds the document value by value to patch its dates: about half of
    an intent's insert, and nine tenths of a notification's. A flat document holds no value date
    patching changes (`_flat`): the same checks in one pass, the same encoding check, the same
    stored copy (its documents and arrays copied, as patching copies them), and the same duplicate
    and unique checks in the same order. Anything else goes to mongomock.
    """
    from mongomock.collection import Collection

    slow: Any = Collection._insert
    if getattr(slow, "glimpse_fast", False):
        return

    def insert(self: Any, data: Any, session: Any = None, ordered: bool = True) -> Any:
        if session or type(data) is not dict or not _flat(data):
            return slow(self, data, session, ordered)
        bson.BSON.encode(data, check_keys=False)  # what BSON cannot hold is refused as mongomock does
        if "_id" not in data:
            data["_id"] = ObjectId()  # filled in the caller's document, as pymongo does
        object_id = data["_id"]
        store = self._store
        # The store's `in` without its reader lock (one dictionary lookup, atomic as it is): the lock's
        # context manager cost an intent's insert more than the lookup. The write keeps the writer
        # lock, which a cursor listing the documents outside the database's lock relies on.
        store._remove_expired_documents()
        if object_id in store._documents:
            raise pymongo.errors.DuplicateKeyError("E11000 Duplicate Key Error", 11000)
        stored = {k: v if type(v) in _UNPATCHED else _clone(v) for k, v in data.items()}
        store[object_id] = stored
        try:
            self._ensure_uniques(stored)
        except pymongo.errors.DuplicateKeyError:
            del store[object_id]  # rolled back
            raise
        return object_id

    setattr(insert, "glimpse_fast", True)  # noqa: B010 (a function attribute mypy cannot see)
    setattr(insert, "glimpse_slow", slow)  # noqa: B010 (the property test compares the two)
    setattr(Collection, "_insert", insert)  # noqa: B010 (patching mongomock)


def _flat(doc: dict[str, Any]) -> bool:
    """Whether every key passes mongomock's checks and every value is a scalar it stores as it is,
    or a document or array of them (`_plain`: ASCII keys without NUL, no date), which it copies.

    The keys are tested joined, in one pass of C: a key holding the separator before a "$" is
    taken for one starting with "$" and goes to mongomock, which says the same or better."""
    kinds = set(map(type, doc.values()))
    if not kinds <= _UNPATCHED and not (
        kinds <= _FLAT_KINDS and all(type(value) in _UNPATCHED or _plain(value) for value in doc.values())
    ):
        return False
    try:
        joined = "\x01" + "\x01".join(doc)
    except TypeError:  # a key that is no string
        return False
    return "\0" not in joined and "\x01$" not in joined


_FLAT_KINDS = _UNPATCHED | {dict, list}

_install_fast_insert()


def _install_cached_version_parse() -> None:
    """mongomock parses the same version strings ("4.0", "3.6") on every call, to compare pymongo's
    version with them: eight parses per order. A parsed Version is immutable, so each string is
    parsed once."""
    import functools
    from types import SimpleNamespace

    from mongomock import aggregate, collection, database, mongo_client
    from packaging import version

    cached = SimpleNamespace(parse=functools.lru_cache(maxsize=64)(version.parse))
    for module in (aggregate, collection, database, mongo_client):
        if getattr(module, "version", None) is version:
            module.version = cached  # type: ignore[attr-defined]


_install_cached_version_parse()


_MISSING = object()
_INT64 = (-(2**63), 2**63 - 1)
_FAST_OPERATORS = frozenset(("$set", "$inc", "$unset", "$push", "$pull"))
# Filter values compared here by type and equality: neither equals a value of another type in
# MongoDB's order, nor matches an array element of a document that holds a list (lists go slow).
_EQUALITY_KINDS = (str, ObjectId)


# Stored values that never equal a string or an ObjectId, in MongoDB as in mongomock, unless they
# are that very string or ObjectId: a list holding only these is compared element by element.
_SCALAR_KINDS = frozenset((str, ObjectId, int, float, bool, type(None)))


def condition_holds(doc: dict[str, Any], field: str, wanted: Any) -> bool | None:
    """Whether one condition of a filter holds for a stored document, or None when mongomock must say.

    Answered here: equality with a string or an ObjectId of a top-level field that holds one (or
    nothing); `$gte`/`$lte` with a number of a number under a field or a field of an embedded
    document (a paper account's balance); `$ne` with a string or an ObjectId of a top-level field
    holding one, nothing or a list of scalars (a paper account's order keys, up to thousands: the
    general matcher compared them one by one in Python); `$in` with strings and ObjectIds of a
    top-level field holding one or nothing (the ledger's "pending or unknown").
    """
    if field.startswith("$"):
        return None
    kind = type(wanted)
    if kind in _EQUALITY_KINDS:
        have = doc.get(field, _MISSING)
        if "." in field or (have is not _MISSING and type(have) not in _EQUALITY_KINDS):
            return None
        return type(have) is kind and have == wanted
    if kind is not dict or len(wanted) != 1:
        return None
    ((op, operand),) = wanted.items()
    if op in ("$gte", "$lte"):
        if type(operand) not in (int, float) or operand != operand:  # not NaN
            return None
        path = field.split(".")
        if len(path) > 2 or any(not part or part.isdigit() for part in path):
            return None
        have = doc.get(path[0], _MISSING)
        if len(path) == 2 and have is not _MISSING:
            if type(have) is not dict:
                return None
            have = have.get(path[1], _MISSING)
        if have is _MISSING:
            return False
        if type(have) not in (int, float) or have != have:
            return None
        return bool(have >= operand if op == "$gte" else have <= operand)
    if op == "$in" and type(operand) is list and "." not in field:
        have = doc.get(field, _MISSING)
        if have is not _MISSING and type(have) not in _EQUALITY_KINDS:
            return None
        if any(type(value) not in _EQUALITY_KINDS for value in operand):
            return None
        return have is not _MISSING and any(type(value) is type(have) and value == have for value in operand)
    if op == "$ne" and type(operand) in _EQUALITY_KINDS and "." not in field:
        have = doc.get(field, _MISSING)
        if have is _MISSING:
            return True
        if type(have) in _EQUALITY_KINDS:
            return not (type(have) is type(operand) and have == operand)
        if type(have) is list:
            # Only a string equals a string and only an ObjectId an ObjectId, in Python as in MongoDB.
            if operand in have:
                return False
            return True if set(map(type, have)) <= _SCALAR_KINDS else None
    return None


def _update_plan(update: Any) -> list[tuple[str, list[str], Any]] | None:
    """The update as (operator, path, value) steps that `_apply_fast` can make, or None.

    Only $set, $inc, $unset and $push (a value, or $each with an optional $slice), of a field or a
    path into it: through embedded documents, and through arrays at an index that is there
    (`_apply_fast` checks the stored document); and $pull by one field (`_pulls_by_one_field`).
    Two paths of which one is the other or leads into it, a path naming `_id` or anything with a
    `$` go to mongomock.
    """
    if type(update) is not dict or not update or not update.keys() <= _FAST_OPERATORS:
        return None
    steps: list[tuple[str, list[str], Any]] = []
    for op, fields in update.items():
        if type(fields) is not dict or not fields:
            return None
        for field, value in fields.items():
            if type(field) is not str or not field or "$" in field or "\0" in field:
                return None
            if op == "$set" and "." not in field:
                # A top-level $set (every write of the order path): the checks below, for one name.
                if field == "_id" or field.isdigit():
                    return None
                steps.append((op, [field], value))
                continue
            path = field.split(".")
            if path[0] == "_id" or path[0].isdigit() or "" in path:
                return None
            if op == "$inc" and type(value) not in (int, float):
                return None
            if op == "$pull" and not _pulls_by_one_field(path, value):
                return None
            if op == "$push" and type(value) is dict and _has_operator(value):
                if not value.keys() <= {"$each", "$slice"} or "$each" not in value:
                    return None
                if type(value["$each"]) is not list or type(value.get("$slice", 0)) is not int:
                    return None
            steps.append((op, path, value))
    # Paths under different top-level fields never conflict (an order's three): sorted only otherwise.
    if len(steps) > 1 and len({path[0] for _, path, _ in steps}) < len(steps):
        paths = sorted(tuple(path) for _, path, _ in steps)
        if any(later[: len(first)] == first for first, later in zip(paths, paths[1:], strict=False)):
            return None  # the same field twice, or a field and a path into it: a conflict in MongoDB
    return steps


def _pulls_by_one_field(path: list[str], condition: Any) -> bool:
    """Whether a $pull is one `_apply_fast` makes: from a top-level array, the documents whose one
    field equals a string, an ObjectId or an integer (a paper account's settled order, by its id)."""
    if len(path) != 1 or type(condition) is not dict or len(condition) != 1:
        return False
    ((name, wanted),) = condition.items()
    return (
        type(name) is str
        and name != ""
        and "$" not in name
        and "." not in name
        and type(wanted) in (str, ObjectId, int)
    )


def _has_operator(value: dict[str, Any]) -> bool:
    """Whether a key of the pushed document starts with "$" (its keys joined, in one pass of C)."""
    try:
        joined = "\x01" + "\x01".join(value)
    except TypeError:  # a key that is no string: as the generic test fails on it
        return any(k.startswith("$") for k in value)
    return "\x01$" in joined and any(k.startswith("$") for k in value)


def encodable(value: Any) -> bool:
    """Whether BSON can hold the value (mongomock refuses a write that it cannot)."""
    kind = type(value)
    if kind is int:
        return bool(_INT64[0] <= value <= _INT64[1])
    if kind is str:
        return value.isascii() or _bson_holds(value)  # not a lone surrogate, which UTF-8 cannot hold
    if kind in _UNPATCHED or ((kind is list or kind is dict) and _plain(value)):
        return True
    return _bson_holds(value)


def _plain(container: Any, depth: int = 2) -> bool:
    """Whether a list or a document holds only what BSON surely holds, `depth` containers deep: ASCII
    strings and keys (keys without NUL), 64-bit integers, other scalars BSON holds. An order pushed
    to a paper account is one; encoding it to know took a fifth of the fast update. False: encode."""
    if type(container) is dict:
        try:
            keys = "".join(container)
        except TypeError:  # a key that is no string
            return False
        if not keys.isascii() or "\0" in keys:
            return False
        items: Any = container.values()
    else:
        items = container
    for item in items:
        kind = type(item)
        if kind is str:
            if not item.isascii():
                return False
        elif kind is int:
            if not _INT64[0] <= item <= _INT64[1]:
                return False
        elif kind not in _UNPATCHED and (
            depth <= 0 or (kind is not list and kind is not dict) or not _plain(item, depth - 1)
        ):
            return False
    return True


def _bson_holds(value: Any) -> bool:
    try:
        bson.encode({"v": value})
    except Exception:
        return False
    return True


def _index(container: list[Any], part: str) -> int | None:
    """The array position a path part names, when it is one that is there (MongoDB pads others)."""
    if not part.isdigit() or (len(part) > 1 and part[0] == "0"):
        return None
    at = int(part)
    return at if at < len(container) else None


def _apply_fast(doc: dict[str, Any], steps: list[tuple[str, list[str], Any]]) -> dict[str, Any] | None:
    """The new values of the top-level fields the steps change (_MISSING: removed), computed
    without touching `doc`: the documents and arrays on a step's path are copied, once each, and
    the rest is shared. None when a step needs mongomock (a parent that is not there or not a
    document or array, an array position that is not there, an $unset in an array, a sum of other
    types, a value BSON cannot hold)."""
    patch = _date_patch()
    new: dict[str, Any] = {}
    copies: set[int] = set()  # the containers this update copied (and may change)
    for op, path, value in steps:
        top = path[0]
        kind = type(value)
        if op == "$set" and len(path) == 1 and kind in _UNPATCHED and kind is not int:
            if kind is str and not encodable(value):
                return None  # a lone surrogate: mongomock's update refuses it
            new[top] = value  # a scalar BSON holds, which date patching leaves as it is
            continue
        target: Any = None  # the document or array that holds the step's field (None: the top level)
        key: Any = top
        if len(path) > 1:
            node = new[top] if top in new else doc.get(top, _MISSING)
            holder: Any = None  # where the copy of `node` goes (None: the top level)
            held: Any = None
            for depth, part in enumerate(path[1:], 2):
                if type(node) is dict:
                    if part.isdigit():
                        return None  # a number names a field of a document: mongomock's to say
                    step: Any = part
                elif type(node) is list:
                    step = _index(node, part)
                    if step is None:
                        return None
                else:
                    return None  # a parent that is not there, or neither a document nor an array
                if id(node) not in copies:  # the path is copied, once, and only the copy changes
                    node = dict(node) if type(node) is dict else list(node)
                    copies.add(id(node))
                    if holder is None:
                        new[top] = node
                    else:
                        holder[held] = node
                if depth == len(path):
                    target, key = node, step
                    break
                holder, held = node, step
                node = node[step] if type(node) is list else node.get(step, _MISSING)
            if type(target) is list and op == "$unset":
                return None  # MongoDB sets the element to null
        if target is None:
            current = doc.get(top, _MISSING)
        else:
            current = target[key] if type(target) is list else target.get(key, _MISSING)
        if op == "$set":
            if not encodable(value):
                return None
            result = patch(value)
        elif op == "$unset":
            result = _MISSING
        elif op == "$inc":
            if current is _MISSING:
                result = value
            elif type(current) in (int, float):
                result = current + value
            else:
                return None
            if type(result) is int and not _INT64[0] <= result <= _INT64[1]:
                return None
        elif op == "$pull":
            # The documents whose field holds a value of the condition's very type, equal to it. Any
            # other element (no document, the field of another type, a list), or no array, is
            # mongomock's to say: MongoDB compares numbers across types and matches into arrays.
            if type(current) is not list:
                return None
            ((name, wanted),) = value.items()
            kept = []
            for element in current:
                if type(element) is not dict:
                    return None
                have = element.get(name, _MISSING)
                if have is not _MISSING and type(have) is not type(wanted):
                    return None
                if have is _MISSING or have != wanted:
                    kept.append(element)
            result = current if len(kept) == len(current) else kept
        else:  # $push
            if current is _MISSING:
                current = []
            elif type(current) is not list:
                return None
            each = value["$each"] if type(value) is dict and "$each" in value else [value]
            if not encodable(each):
                return None
            result = current + patch(list(each))
            if type(value) is dict and "$slice" in value:
                cut = value["$slice"]
                result = result[cut:] if cut < 0 else result[:cut]
        if target is None:
            new[top] = result
        elif result is _MISSING:
            target.pop(key, None)
        else:
            target[key] = result
    return new


def _date_patch() -> Any:
    """mongomock's date patching (this module's fast one once installed)."""
    return mongomock_helpers.patch_datetime_awareness_in_document


def _mongomock_matches(filter: dict[str, Any], doc: dict[str, Any]) -> bool:
    """mongomock's own matcher, on the filter as mongomock patches it."""
    from mongomock.filtering import filter_applies

    return bool(filter_applies(_date_patch()(filter), doc))  # type: ignore[no-untyped-call]


def _write(collection: Any, doc: dict[str, Any], new: dict[str, Any]) -> bool:
    """Write the new top-level values; whether the document changed. A duplicate rolls back.

    A value equal to the old one but of another type (False for 0, 1.0 for 1) is written, as
    mongomock writes it, though the document counts as unchanged, as mongomock counts it."""
    old = {top: doc.get(top, _MISSING) for top in new}
    if all(new[top] is old[top] for top in new):
        return False
    # Unchanged: each field still missing (an $unset of a field that is not there), or equal.
    changed = not all(old[top] is _MISSING if new[top] is _MISSING else new[top] == old[top] for top in new)
    for top, value in new.items():
        if value is _MISSING:
            doc.pop(top, None)
        else:
            doc[top] = value
    store = collection._store
    indexed = bool(_indexes_of(store) or _unique_maps(store))
    if indexed:
        _reindex(store, doc)
    try:
        collection._ensure_uniques(doc)
    except pymongo.errors.DuplicateKeyError:
        for top, value in old.items():
            if value is _MISSING:
                doc.pop(top, None)
            else:
                doc[top] = value
        if indexed:
            _reindex(store, doc)
        raise
    return changed


def _install_fast_updates() -> None:
    """Answer `update_one` and `find_one_and_update` on one `_id` with simple operators in place.

    mongomock deep-copies the document it updates (to roll back), encodes every value set to check
    it, compares the whole document before and after, and parses its own version on the way: a
    paper order (its balance, its open order and its key) and the ledger's mark of it as open took
    about a third of an order's time at the desk. Here the new values of the fields the update
    touches are computed apart, compared with the old ones, and written; the unique check and the
    indexes follow as after mongomock's own update, and a duplicate rolls the fields back. Anything
    else (upserts that insert, other operators, array paths, sorts, options) goes to mongomock.
    """
    from mongomock.collection import Collection, UpdateResult

    slow_update: Any = Collection.update_one
    slow_modify: Any = Collection.find_one_and_update
    if getattr(slow_update, "glimpse_fast", False):
        return

    def matched(self: Any, filter: Any) -> tuple[bool, dict[str, Any] | None]:
        """(fast path possible, the one stored document the filter matches or None)."""
        if type(filter) is not dict or self.codec_options.tz_aware:
            return False, None
        key = filter.get("_id", _MISSING)
        if type(key) in (ObjectId, str, int):
            doc = self._store._documents.get(key)
        elif key is _MISSING and (holding := _holding(self._store, filter)) is not None and len(holding) < 2:
            doc = holding[0] if holding else None  # the one document holding a unique field's value
        else:
            return False, None
        if doc is None:
            return True, None
        for field, wanted in filter.items():
            if field == "_id":
                continue
            verdict = condition_holds(doc, field, wanted)
            if verdict is None:
                # Other operators, lists, dates, deeper paths: mongomock's own matcher.
                return True, doc if _mongomock_matches(filter, doc) else None
            if not verdict:
                return True, None
        return True, doc

    def raw(self: Any, n: int, modified: bool) -> dict[str, Any]:
        return {
            "connectionId": self.database.client._id, "err": None, "n": n,
            "nModified": int(modified), "ok": 1, "upserted": None, "updatedExisting": bool(n),
        }  # fmt: skip

    def update_one(
        self: Any, filter: Any, update: Any, upsert: bool = False, *args: Any, **kwargs: Any
    ) -> Any:
        steps = None if args or any(kwargs.values()) else _update_plan(update)
        if steps is not None:
            fast, doc = matched(self, filter)
            if fast and doc is not None:
                new = _apply_fast(doc, steps)
                if new is not None:
                    return UpdateResult(raw(self, 1, _write(self, doc, new)), acknowledged=True)
            elif fast and not upsert:
                return UpdateResult(raw(self, 0, False), acknowledged=True)
        return slow_update(self, filter, update, upsert, *args, **kwargs)

    def find_one_and_update(
        self: Any,
        filter: Any,
        update: Any,
        projection: Any = None,
        sort: Any = None,
        upsert: bool = False,
        return_document: Any = pymongo.ReturnDocument.BEFORE,
        **kwargs: Any,
    ) -> Any:
        steps = None
        if sort is None and not kwargs and (projection is None or type(projection) is dict):
            steps = _update_plan(update)
        if steps is not None:
            fast, doc = matched(self, filter)
            if fast and doc is not None:
                new = _apply_fast(doc, steps)
                if new is not None:
                    copier = _copier(self, projection)
                    before = copier(doc) if return_document is pymongo.ReturnDocument.BEFORE else None
                    _write(self, doc, new)
                    return before if before is not None else copier(doc)
            elif fast and not upsert:
                return None
        return slow_modify(self, filter, update, projection, sort, upsert, return_document, **kwargs)

    for fast_fn in (update_one, find_one_and_update):
        setattr(fast_fn, "glimpse_fast", True)  # noqa: B010 (a function attribute mypy cannot see)
    setattr(update_one, "glimpse_slow", slow_update)  # noqa: B010 (the property test compares the two)
    setattr(find_one_and_update, "glimpse_slow", slow_modify)  # noqa: B010
    setattr(Collection, "update_one", update_one)  # noqa: B010 (patching mongomock)
    setattr(Collection, "find_one_and_update", find_one_and_update)  # noqa: B010


_install_fast_updates()


def indexed_find(
    collection: Any,
    query: dict[str, Any],
    field: str,
    direction: int,
    after: tuple[Any, ObjectId] | None,
    limit: int | None,
    projection: dict[str, Any] | None = None,
) -> list[dict[str, Any]] | None:
    """Up to `limit` documents matching `query` in (field, _id) order `direction`, after the
    (key, _id) pair `after`, from the embedded store's sorted indexes. None when `collection`
    is not embedded or cannot be indexed so: ask the database then."""
    if not isinstance(collection, _Locked) or "." in field or field == "_id":
        return None
    from mongomock.filtering import filter_applies

    conditions = _top_conditions(query)
    # One scalar equality of the query leads the index, so a user's trades are a range too.
    equal = next(
        ((k, v) for k, v in conditions if k not in (field, "$") and "." not in k and _rank(v) is not None),
        None,
    )
    fields: tuple[str, ...] = (field,)
    prefix: _Entry = ()
    if equal is not None:
        fields, prefix = (equal[0], field), tuple(_rank(equal[1]) or ())
    pivot = None
    if after is not None:
        ranked = _rank(after[0])
        if ranked is None:
            return None
        pivot = (*prefix, *ranked, after[1])
    with collection._lock:
        _in_sets.clear()  # the caller's query: its lists may have changed since an earlier call
        target = collection._target
        store = target._store
        registry = _indexes_of(store)
        index = registry.get(fields)
        if index is None:
            index = _SortedIndex(fields)
            if not index.build(_stored(store)):
                return None
            registry[fields] = index
        lo, hi = index.span(prefix, [c for k, c in conditions if k == field])
        # The span is exact when the query is only the equality and numeric ranges on the field.
        exact = all((k, c) == equal or (k == field and _is_range(c)) for k, c in conditions)
        if pivot is not None and direction > 0:
            lo = max(lo, bisect.bisect_right(index.order, pivot))
        elif pivot is not None:
            hi = min(hi, bisect.bisect_left(index.order, pivot))
        positions = range(lo, hi) if direction > 0 else range(hi - 1, lo - 1, -1)
        documents, order, found, copy_doc = store._documents, index.order, [], _copier(target, projection)
        rejects = [] if exact else _string_rejects(conditions)
        for at in positions:
            doc = documents.get(order[at][-1])
            if doc is None or any(
                type(v := doc.get(k)) is str and v not in allowed for k, allowed in rejects
            ):
                continue
            if not exact and not filter_applies(query, doc):  # type: ignore[no-untyped-call]
                continue
            found.append(copy_doc(doc))
            if limit is not None and len(found) >= limit:
                break
        return found


def _string_rejects(conditions: list[tuple[str, Any]]) -> list[tuple[str, frozenset[str]]]:
    """(field, strings) of the query's conditions that a document whose field holds a string
    outside the set cannot match: `field: "value"` and `field: {"$in": [strings]}`.

    A user's unresolved or settled trades are read around every order, and the user's whole
    history is in the index span: mongomock's matcher on each trade cost ~25 µs, this test a set
    lookup. A document these let through (another type, a list, a string in the set) still goes
    to the matcher, so the answer is the matcher's.
    """
    rejects = []
    for field, condition in conditions:
        if field.startswith("$") or "." in field:
            continue
        if type(condition) is str:
            rejects.append((field, frozenset((condition,))))
        elif (
            type(condition) is dict
            and condition.keys() == {"$in"}
            and type(condition["$in"]) in (list, tuple)
            and all(type(v) is str for v in condition["$in"])
        ):
            rejects.append((field, frozenset(condition["$in"])))
    return rejects


def find_by_ids(
    collection: Any, ids: list[Any], projection: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The documents whose `_id` is one of `ids`, with `projection`, in no particular order: what
    `find({"_id": {"$in": ids}}, projection)` answers. The embedded store looks each id up instead
    of matching every document of the collection against the list."""
    if not isinstance(collection, _Locked):
        return list(collection.find({"_id": {"$in": list(ids)}}, projection))
    with collection._lock:
        target = collection._target
        documents, copy_doc = target._store._documents, _copier(target, projection)
        found = []
        for key in dict.fromkeys(ids):
            try:
                doc = documents.get(key)
            except TypeError:  # an unhashable value is no stored id
                continue
            if doc is not None:
                found.append(copy_doc(doc))
        return found


# A change's answer (see change_by_id): the stored document is not one it knows how to change.
UNHANDLED = object()


def change_by_id(collection: Any, doc_id: Any, change: Callable[[dict[str, Any]], Any]) -> bool | None:
    """Make one document's update by calling `change` on it, where the embedded store allows it.

    `change` is the update (and its filter) written as a function of the stored document: it
    returns the new values of the top-level fields the update changes, computed without touching
    the document it is given, sharing nothing the caller keeps, and of types BSON holds; or None
    when the filter does not match; or UNHANDLED when the document holds something it does not
    know how to treat. The values are written as the fast update path writes them (its unique
    check, its indexes). True: written; False: no match (or no such document); None: not made
    here (a MongoDB collection, or UNHANDLED): the caller makes its update, which answers alike.

    For the hottest update at the desk's instant, the paper broker's buy: read through the
    general fast path, its filter and update took some 70 of a buy's 92 µs.
    """
    if not isinstance(collection, _Locked):
        return None
    with collection._lock:
        target = collection._target
        if target.codec_options.tz_aware:
            return None
        doc = target._store._documents.get(doc_id)
        if doc is None:
            return False
        new = change(doc)
        if new is UNHANDLED:
            return None
        if new is None:
            return False
        _write(target, doc, new)
        return True


def every_document(collection: Any, projection: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every document of the collection with `projection`, in no particular order: what
    `find({}, projection)` answers. The embedded store copies each stored document with `_copier`;
    mongomock's find projects field by field, and the market view's read of every pair's candles
    at a decision instant spent most of its time there."""
    if not isinstance(collection, _Locked):
        return list(collection.find({}, projection))
    with collection._lock:
        target = collection._target
        copy_doc = _copier(target, projection)
        return [copy_doc(doc) for doc in _stored(target._store)]


def tally(collection: Any, field: str) -> dict[Any, int]:
    """How many documents hold each value of the top-level scalar `field` (missing: None)."""
    if isinstance(collection, _Locked):
        with collection._lock:
            documents = _stored(collection._target._store)
            try:
                counted = Counter(map(operator.methodcaller("get", field), documents))
            except TypeError:  # an unhashable value (a list, a document): counted as None
                counted = Counter(
                    v if isinstance(v, (str, int, float, bool)) else None
                    for v in (doc.get(field) for doc in documents)
                )
            return dict(counted)
    grouped = collection.aggregate([{"$group": {"_id": "$" + field, "n": {"$sum": 1}}}])
    return {row["_id"]: row["n"] for row in grouped}


_embedded_lock = threading.Lock()
_embedded_clients: dict[str, Any] = {}


def new_embedded_database(name: str = "Glimpse") -> Any:
    """A fresh, empty in-memory database (tests use one each)."""
    client: Any = mongomock.MongoClient()
    return _Locked(client, threading.RLock())[name]


def open_database(config: Config, *, prepare: bool = True) -> Any:
    """The database handle for `config`, with indexes in place.

    Embedded handles are shared per database name for the life of the
    process, so the API and the service threads see the same data.
    A database still in the original Glimpse's shapes raises
    UnmigratedDatabase (a ConfigError: exit 2) before any index is built;
    `prepare=False` skips that check and the indexes (`glimpse migrate`,
    `glimpse seed --reset`).
    """
    if config.mongo_uri:
        client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
            config.mongo_uri.get_secret_value(), serverSelectionTimeoutMS=5000, tz_aware=True
        )
        db: Any = client[config.db_name]
    else:
        with _embedded_lock:
            db = _embedded_clients.get(config.db_name)
            if db is None:
                db = new_embedded_database(config.db_name)
                _embedded_clients[config.db_name] = db
    if prepare:
        from glimpse.store.migrate import refuse_unmigrated  # here: migrate imports this module

        refuse_unmigrated(db)
        ensure_indexes(db)
    return db


INDEXES: dict[str, list[IndexModel]] = {
    # The manager's lists page by keyset on (sort key, _id): one index each on a real MongoDB.
    ACCOUNTS: [
        IndexModel([("email", ASCENDING)], unique=True, name="email_unique"),
        IndexModel([("name", ASCENDING), ("_id", ASCENDING)], name="name_page"),
    ],
    MANAGER_ACCOUNTS: [IndexModel([("user", ASCENDING)], unique=True, name="user_unique")],
    # Strategy names are unique without regard to case: `nameKey` holds the
    # case-folded name (mongomock has no collations, so no collation index).
    STRATEGIES: [IndexModel([("nameKey", ASCENDING)], unique=True, name="nameKey_unique")],
    SERVERS: [IndexModel([("name", ASCENDING)], unique=True, name="name_unique")],
    # PaperBalances are keyed by email as their _id: unique by construction.
    SERVER_STATUS: [IndexModel([("name", ASCENDING)], unique=True, name="name_unique")],
    OPENED_ACTIVES: [IndexModel([("ativo", ASCENDING)], unique=True, name="ativo_unique")],
    REALTIME_CANDLES: [IndexModel([("ativo", ASCENDING)], unique=True, name="ativo_unique")],
    CODES: [IndexModel([("code", ASCENDING)], unique=True, name="code_unique")],
    SIGNALS: [IndexModel([("user", ASCENDING)], unique=True, name="user_unique")],
    TRADES: [
        IndexModel([("user", ASCENDING), ("placedAt", DESCENDING)], name="user_time"),
        IndexModel([("status", ASCENDING), ("user", ASCENDING)], name="status_user"),
        IndexModel([("decidedAt", DESCENDING), ("_id", DESCENDING)], name="time_page"),
        IndexModel([("user", ASCENDING), ("decidedAt", DESCENDING)], name="user_decided"),
    ],
    OPERATIONS: [
        IndexModel([("user", ASCENDING), ("operationTime", DESCENDING)], name="user_time"),
        IndexModel([("operationTime", DESCENDING), ("_id", DESCENDING)], name="time_page"),
    ],
    MANAGER_AUDIT: [IndexModel([("when", DESCENDING), ("_id", DESCENDING)], name="time_page")],
    QUESTIONS: [IndexModel([("when", DESCENDING), ("_id", DESCENDING)], name="time_page")],
    # Expired sessions and login attempts are pruned by the API with its own
    # clock (epoch seconds), not by TTL indexes, which only know the wall clock.
    SESSIONS: [
        IndexModel([("user", ASCENDING)], name="user"),
        IndexModel([("expiresAt", ASCENDING)], name="expires"),
    ],
    LOGIN_ATTEMPTS: [
        IndexModel([("key", ASCENDING), ("at", DESCENDING)], name="key_time"),
        IndexModel([("at", ASCENDING)], name="time"),
    ],
}


def ensure_indexes(db: Any) -> None:
    """Create every index the bundle relies on; safe to call any number of times."""
    for collection, models in INDEXES.items():
        db[collection].create_indexes(models)


def upsert_all(collection: Any, key: str, docs: list[dict[str, Any]]) -> None:
    """`$set` each document on the one with the same `key`, inserting it when absent.

    On MongoDB this is one unordered bulk write (one round trip); mongomock's
    bulk_write does not accept current pymongo operations, so the embedded
    handle applies the updates one by one under a single hold of its lock.
    """
    if not docs:
        return
    if isinstance(collection, _Locked):
        with collection._lock:
            for doc in docs:
                collection._target.update_one({key: doc[key]}, {"$set": doc}, upsert=True)
        return
    collection.bulk_write(
        [UpdateOne({key: doc[key]}, {"$set": doc}, upsert=True) for doc in docs], ordered=False
    )


def ping(db: Any) -> bool:
    """True when the database answers."""
    try:
        db.command("ping")
        return True
    except pymongo.errors.PyMongoError:
        return False
