"""Keyset paging for the manager's lists.

A page is asked for with `limit` (capped by the server) and `cursor`, the
opaque token the previous page gave. The body keeps each route's original
shape (a JSON array); the token of the next page travels in the
`X-Glimpse-Next` response header and is absent on the last page.

The cursor holds the sort key and `_id` of the last row served, so the next
page is one indexed range query (`key < last or key == last and _id < last`),
never a skip over the rows already seen. On the embedded store, where
mongomock would filter, sort and copy the whole collection for every page,
the page walks a sorted index the store keeps itself
(glimpse.store.db.indexed_find).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any, TypeVar

from bson import ObjectId
from bson.errors import InvalidId
from flask import Response

from api.errors import bad_request
from api.jsonio import dumps
from glimpse.store.db import indexed_find

T = TypeVar("T")
NEXT_HEADER = "X-Glimpse-Next"
DEFAULT_LIMIT = 100
MAX_LIMIT = 500
MAX_BYTES = 1_000_000  # no page's body is larger


def encode(key: Any, last_id: ObjectId) -> str:
    raw = json.dumps([key, str(last_id)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> tuple[Any, ObjectId]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key, last = json.loads(raw)
        if not (key is None or isinstance(key, (str, int, float, bool))):
            raise ValueError("bad key")
        return key, ObjectId(last)
    except (ValueError, TypeError, InvalidId):
        raise bad_request("cursor: not a cursor this server gave", "cursor") from None


def after(sort_field: str, direction: int, cursor: str | None) -> dict[str, Any]:
    """The filter that starts a page after `cursor` in the order (sort_field, _id) both `direction`."""
    if not cursor:
        return {}
    key, last_id = decode(cursor)
    op = "$gt" if direction > 0 else "$lt"
    return {"$or": [{sort_field: {op: key}}, {sort_field: key, "_id": {op: last_id}}]}


def combine(*filters: dict[str, Any]) -> dict[str, Any]:
    parts = [f for f in filters if f]
    if not parts:
        return {}
    return parts[0] if len(parts) == 1 else {"$and": parts}


def fetch(
    collection: Any,
    query: dict[str, Any],
    sort_field: str,
    direction: int,
    limit: int | None,
    cursor: str | None,
    projection: dict[str, Any] | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of `collection` and the cursor of the next page (None on the last)."""
    size = min(limit or DEFAULT_LIMIT, MAX_LIMIT)
    return fetch_batch(collection, query, sort_field, direction, size, cursor, projection)


def _plain(value: Any) -> Any:
    return value if value is None or isinstance(value, (str, int, float, bool)) else str(value)


def page_response(
    rows: list[Any],
    next_cursor: str | None,
    shape: Callable[[Any], Any] | None = None,
    *,
    sort_field: str | None = None,
    sort_key: Callable[[Any], tuple[Any, ObjectId]] | None = None,
) -> Response:
    """The original array body, with the next page's cursor in a header.

    A body is at most MAX_BYTES: past that, the page ends at the last row that fits
    (at least one row) and the cursor points after it, when the `sort_field` (of raw rows) or
    the `sort_key` (of typed rows: their keyset) is given."""
    items = [shape(row) for row in rows] if shape else rows
    text = dumps(items)  # ASCII (json escapes the rest): its length is its size in bytes
    if len(text) > MAX_BYTES and (sort_field is not None or sort_key is not None) and len(items) > 1:
        parts = [dumps(item) for item in items]
        keep, size = 0, 2
        while keep < len(parts) and (keep == 0 or size + len(parts[keep]) + 1 <= MAX_BYTES):
            size += len(parts[keep]) + 1
            keep += 1
        text = "[" + ",".join(parts[:keep]) + "]"
        last = rows[keep - 1]
        key, last_id = sort_key(last) if sort_key is not None else (last.get(sort_field), last["_id"])
        next_cursor = encode(_plain(key), last_id)
    response = Response(text, mimetype="application/json")
    if next_cursor:
        response.headers[NEXT_HEADER] = next_cursor
        response.headers["Access-Control-Expose-Headers"] = NEXT_HEADER
    return response


def fetch_batch(
    collection: Any,
    query: dict[str, Any],
    sort_field: str,
    direction: int,
    size: int,
    cursor: str | None,
    projection: dict[str, Any] | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """`size` rows after `cursor` (exports loop over it with batches above MAX_LIMIT)."""
    rows = indexed_find(collection, query, sort_field, direction, decode(cursor) if cursor else None, size + 1,
                        projection)  # fmt: skip
    if rows is None:  # a real MongoDB, which has the index (glimpse.store.db.INDEXES)
        found = collection.find(combine(query, after(sort_field, direction, cursor)), projection)
        rows = list(found.sort([(sort_field, direction), ("_id", direction)]).limit(size + 1))
    if len(rows) <= size:
        return rows, None
    rows = rows[:size]
    return rows, encode(_plain(rows[-1].get(sort_field)), rows[-1]["_id"])


def fetch_models(
    read: Callable[[tuple[Any, ObjectId] | None, int], list[T]],
    sort_key: Callable[[T], tuple[Any, ObjectId]],
    limit: int | None,
    cursor: str | None,
) -> tuple[list[T], str | None]:
    """One page of typed rows from a store's keyset reader `read(after, size)`, and the next
    page's cursor (None on the last). `sort_key` gives a row's (sort key, _id)."""
    size = min(limit or DEFAULT_LIMIT, MAX_LIMIT)
    rows = read(decode(cursor) if cursor else None, size + 1)
    if len(rows) <= size:
        return rows, None
    rows = rows[:size]
    key, last_id = sort_key(rows[-1])
    return rows, encode(_plain(key), last_id)
