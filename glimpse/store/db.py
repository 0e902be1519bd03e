"""The one place that opens the database.

A `GLIMPSE_MONGO_URI` gives a pymongo database. Without one, the bundle runs
embedded on mongomock, in memory, shared by every thread of the process.

mongomock is not atomic: its `find_one_and_update` finds, then updates by
`_id`, so two threads can both win a conditional claim. The embedded handle
therefore runs every collection call under one lock per in-memory store,
which gives each single operation the atomicity MongoDB itself guarantees.
"""

from __future__ import annotations

import threading
from typing import Any

import mongomock
import pymongo
from bson import ObjectId
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
OUTBOX = "Outbox"
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

    __slots__ = ("_target", "_lock")

    def __init__(self, target: Any, lock: threading.RLock):
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_lock", lock)

    def __getattr__(self, name: str) -> Any:
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

            return call
        return attr

    def __getitem__(self, name: str) -> _Locked:
        return _Locked(self._target[name], self._lock)

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
        key = filter.get("_id") if isinstance(filter, dict) else None
        if type(key) not in (ObjectId, str, int):  # operators, regexes, lists: the general scan
            return scan(self, filter)
        try:
            doc = self._store[key]
        except (KeyError, TypeError):
            return iter(())
        return iter((doc,)) if filter_applies(filter, doc) else iter(())  # type: ignore[no-untyped-call]

    setattr(iter_documents, "glimpse_id_lookup", True)  # noqa: B010 (a function attribute mypy cannot see)
    setattr(Collection, "_iter_documents", iter_documents)  # noqa: B010 (patching mongomock)

    # mongomock checks a unique index after every write by running a full
    # query for the key; for a plain single-field index on a scalar value,
    # comparing that one field is the same check without the query engine.
    check_uniques: Any = Collection._ensure_uniques

    def ensure_uniques(self: Any, new_data: Any) -> Any:
        for index in self._store.indexes.values():
            if not index.get("unique"):
                continue
            key = list(index.get("key"))
            if (
                len(key) != 1
                or index.get("sparse")
                or index.get("partialFilterExpression") is not None
                or "." in key[0][0]
            ):
                return check_uniques(self, new_data)
            field = key[0][0]
            value = new_data.get(field)
            if type(value) not in (ObjectId, str, int):
                return check_uniques(self, new_data)
            if sum(1 for doc in self._store.documents if doc.get(field) == value) > 1:
                raise pymongo.errors.DuplicateKeyError("E11000 Duplicate Key Error", 11000)
        return None

    setattr(Collection, "_ensure_uniques", ensure_uniques)  # noqa: B010 (patching mongomock)


_install_id_lookup()

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
