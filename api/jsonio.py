"""Request bodies in, JSON out.

Responses go through bson's json_util, so ObjectIds leave as {"$oid": ...},
the shape the original API gave and the apps read.
"""

from __future__ import annotations

import json
from typing import Any

from bson import json_util
from bson.json_util import JSONMode, JSONOptions
from flask import Response, request

from api.errors import bad_request

_OPTIONS = JSONOptions(json_mode=JSONMode.RELAXED, tz_aware=True)


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(
        json_util.dumps(payload, json_options=_OPTIONS), status=status, mimetype="application/json"
    )


def request_json() -> Any:
    """The parsed body; an empty body is {}. Malformed JSON is a 400 naming `body`."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise bad_request("malformed JSON body", "body") from None
