"""Request bodies in, JSON out.

Responses keep the shape bson's json_util gave (relaxed mode): ObjectIds
leave as {"$oid": ...}, datetimes as {"$date": ...}, Decimal128 as
{"$numberDecimal": ...}, the shapes the original API gave and the apps read.
They are written by json's C encoder, which calls back into Python only for
those BSON types, instead of json_util's Python walk over every value (42% of
the busy time of getCandlesRealtime before).
"""

from __future__ import annotations

import json
import math
from typing import Any

from bson import ObjectId, json_util
from bson.json_util import JSONMode, JSONOptions
from flask import Response, g, request

from api.errors import bad_request

_OPTIONS = JSONOptions(json_mode=JSONMode.RELAXED, tz_aware=True)


def _bson_default(value: Any) -> Any:
    if type(value) is ObjectId:
        return {"$oid": str(value)}
    # json_util also wrote other mappings as objects and other iterables (sets, cursors) as arrays.
    if hasattr(value, "items"):
        return dict(value.items())
    if hasattr(value, "__iter__") and not isinstance(value, (str, bytes)):
        return list(value)
    return json_util.default(value, json_options=_OPTIONS)


_ENCODER = json.JSONEncoder(default=_bson_default, allow_nan=False, separators=(",", ":"))


def dumps(value: Any) -> str:
    """`value` as JSON text in json_util's relaxed shapes (ASCII: its length is its size in bytes)."""
    try:
        return _ENCODER.encode(value)
    except ValueError:  # NaN or infinity, which json_util writes as {"$numberDouble": ...}
        return str(json_util.dumps(value, json_options=_OPTIONS, separators=(",", ":")))


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(dumps(payload), status=status, mimetype="application/json")


def encoded_response(text: str | bytes, status: int = 200) -> Response:
    """A reply already encoded with `dumps` (a cached one)."""
    return Response(text, status=status, mimetype="application/json")


# Deeper than any body a route takes; far below the recursion limits of the parser,
# pydantic and BSON, so a hostile body is refused before it can reach them.
MAX_DEPTH = 32
# MongoDB stores integers as signed 64-bit numbers.
BSON_INT_MIN, BSON_INT_MAX = -(2**63), 2**63 - 1


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _check(value: Any) -> None:
    """400 for what JSON can carry but the API cannot store or answer: nesting deeper than
    MAX_DEPTH, lone surrogates (not encodable as UTF-8), integers outside BSON's int64."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                raise bad_request(f"the body is nested deeper than {MAX_DEPTH} levels", "body")
            if isinstance(item, dict):
                for key, child in item.items():
                    _check_text(key)
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str):
            _check_text(item)
        elif isinstance(item, int) and not isinstance(item, bool):
            if not BSON_INT_MIN <= item <= BSON_INT_MAX:
                raise bad_request("an integer in the body is out of range (64-bit)", "body")
        elif isinstance(item, float) and not math.isfinite(item):
            raise bad_request("a number in the body is out of range", "body")


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise bad_request("the body holds an invalid Unicode string (a lone surrogate)", "body") from None


def request_json() -> Any:
    """The parsed body; an empty body is {}. Malformed JSON is a 400 naming `body`, and so are
    NaN/Infinity, nesting deeper than MAX_DEPTH, lone surrogates and integers out of int64."""
    if "glimpse_json" in g:  # parsed once per request (the rate limits read it too)
        return g.glimpse_json
    raw = request.get_data(cache=True)
    if not raw.strip():
        data: Any = {}
    else:
        try:
            data = json.loads(raw, parse_constant=_refuse_constant)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise bad_request("malformed JSON body", "body") from None
        _check(data)
    g.glimpse_json = data
    return data
