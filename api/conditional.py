"""Conditional answers for the app's once-a-second status poll.

The poll's answer rarely changes, except for the server's clock. So the clock
travels in a header (`X-Glimpse-Server-Time`, and still in the body when the
body is sent), and the rest carries a validator: the app sends it back in
`If-None-Match`, and when nothing changed it gets a bodiless 304 instead of
every alert and pair again. The validator is weak (W/"..."): it names the
content, not the bytes, so compression leaves it alone.
"""

from __future__ import annotations

import hashlib
from typing import Any

from bson import json_util
from flask import Response, request

from api.jsonio import json_response

TIME_HEADER = "X-Glimpse-Server-Time"
CLOCK_FIELD = "serverTime"


def _validator(content: dict[str, Any]) -> str:
    digest = hashlib.blake2b(json_util.dumps(content, sort_keys=True).encode(), digest_size=8).hexdigest()
    return f'W/"{digest}"'


def _matches(header: str, validator: str) -> bool:
    wanted = validator[2:]
    return any(tag.strip().removeprefix("W/") == wanted for tag in header.split(","))


def conditional_json(answer: dict[str, Any]) -> Response:
    """`answer` as JSON, or 304 when the caller already holds it (everything but its clock)."""
    clock = answer.get(CLOCK_FIELD)
    validator = _validator({k: v for k, v in answer.items() if k != CLOCK_FIELD})
    if _matches(request.headers.get("If-None-Match", ""), validator):
        response = Response(status=304)
    else:
        response = json_response(answer)
    response.headers["ETag"] = validator
    if clock is not None:
        response.headers[TIME_HEADER] = f"{float(clock):.3f}"
    if request.headers.get("Origin"):  # only a cross-origin caller (the Android app) needs them exposed
        response.headers["Access-Control-Expose-Headers"] = f"ETag, {TIME_HEADER}"
    return response
