"""Operation history: the per-session logs the bots write."""

from __future__ import annotations

from flask import Blueprint

from api import auth
from api.context import ctx
from api.errors import forbidden
from api.registry import USER, endpoint
from api.schemas import GetUserOperationsBody
from glimpse.store import db as names

bp = Blueprint("operations", __name__, url_prefix="/glimpse")


@endpoint(bp, "/getUserOperations", access=USER, body=GetUserOperationsBody)
def get_user_operations(body: GetUserOperationsBody):
    """The caller's session logs, newest first (at most `limit`, default 100)."""
    p = auth.principal()
    if body.userId not in (None, "", p.id_hex):
        raise forbidden("you may only read your own operations", "userId")
    cursor = ctx().db[names.OPERATIONS].find({"user": p.id_hex}).sort("operationTime", -1).limit(body.limit)
    return list(cursor)
