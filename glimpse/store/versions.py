"""A change token per collection of the embedded store, for caches of whole-collection replies.

`token(collection)` is a value that differs after any write to the collection
(insert, update, replace, delete, drop), or None when the store cannot tell
(a real MongoDB). It rides on the embedded store's write hooks
(glimpse.store.db): a tracker registered beside its sorted indexes is told of
every document written or deleted, under the collection's lock, and takes a
new number from a process-wide counter; a drop empties the registry, and the
tracker made afterwards starts from a new number too. So an API process can
keep the encoded reply of a small, hot collection (the open pairs polled once
a second by every app) and answer it again until the token moves.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any

from glimpse.store.db import _indexes_of, _Locked

# The tracker's key in the store's registry: no query field is named like it.
TRACKER_KEY = ("$versions:any-write",)
_numbers = itertools.count(1)
_numbers_lock = threading.Lock()


def _next() -> int:
    with _numbers_lock:
        return next(_numbers)


class ChangeTracker:
    """Duck-typed like glimpse.store.db's sorted indexes: the store's write hooks call `put` for
    every document written and `drop` for every document deleted."""

    fields = TRACKER_KEY

    def __init__(self) -> None:
        self.version = _next()

    def put(self, doc: dict[str, Any]) -> bool:
        self.version = _next()
        return True

    def drop(self, doc_id: Any) -> None:
        self.version = _next()


def token(collection: Any) -> int | None:
    """A number that changes with every write to `collection`; None off the embedded store."""
    if not isinstance(collection, _Locked):
        return None
    with collection._lock:
        registry: dict[tuple[str, ...], Any] = _indexes_of(collection._target._store)
        tracker = registry.get(TRACKER_KEY)
        if not isinstance(tracker, ChangeTracker):
            tracker = registry[TRACKER_KEY] = ChangeTracker()
        return tracker.version
