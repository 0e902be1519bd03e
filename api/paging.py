"""Keyset paging for the manager's lists.

A page is asked for with `limit` (capped by the server) and `cursor`, the
opaque token the previous page gave. The body keeps each route's original
shape (a JSON array); the token of the next page travels in the
`X-Glimpse-Next` response header and is absent on the last page.

The cursor holds the sort key and `_id` of the last row served, so the next
page is one indexed range query (`key < last or key == last and _id < last`),
never a skip over the rows already seen.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId

from api.errors import bad_request
from api.jsonio import json_response

NEXT_HEADER = "X-Glimpse-Next"
DEFAULT_LIMIT = 100
MAX_LIMIT = 500


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


def page_response(rows: Iterable[Any], next_cursor: str | None, shape: Callable[[Any], Any] | None = None):
    """The original array body, with the next page's cursor in a header."""
    body = [shape(row) for row in rows] if shape else list(rows)
    response = json_response(body)
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
    found = collection.find(combine(query, after(sort_field, direction, cursor)), projection)
    rows = list(found.sort([(sort_field, direction), ("_id", direction)]).limit(size + 1))
    if len(rows) <= size:
        return rows, None
    rows = rows[:size]
    return rows, encode(_plain(rows[-1].get(sort_field)), rows[-1]["_id"])
