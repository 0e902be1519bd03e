"""Signal lists: one list per user, each signal a row with its own id."""

from __future__ import annotations

import secrets

from flask import Blueprint

from api import auth
from api.context import ctx
from api.errors import forbidden
from api.registry import USER, endpoint
from api.schemas import GetSignalsBody, InsertSignalsBody, UpdateSignalBody
from glimpse.store import db as names

bp = Blueprint("signals", __name__, url_prefix="/glimpse")


def _own(reference: str | None, field: str) -> str:
    p = auth.principal()
    if reference not in (None, "", p.id_hex):
        raise forbidden("you may only act on your own signals", field)
    return p.id_hex


@endpoint(bp, "/insertSignals", access=USER, body=InsertSignalsBody)
def insert_signals(body: InsertSignalsBody):
    """Replace the caller's signal list: {res: 1, exists} (`exists`: a list was there before)."""
    user = _own(body.user, "user")
    signals = []
    for item in body.signals:
        row = item.model_dump()
        row["id"] = row.get("id") or secrets.token_hex(6)
        signals.append(row)
    result = (
        ctx()
        .db[names.SIGNALS]
        .update_one({"user": user}, {"$set": {"signals": signals, "type": body.type}}, upsert=True)
    )
    return {"res": 1, "exists": result.matched_count > 0}


@endpoint(bp, "/getSignals", access=USER, body=GetSignalsBody)
def get_signals(body: GetSignalsBody):
    """The caller's signal list as [{_id, user, signals, type}], or [] when there is none."""
    user = _own(body.user, "user")
    return list(ctx().db[names.SIGNALS].find({"user": user}))


@endpoint(bp, "/updateSignal", access=USER, body=UpdateSignalBody)
def update_signal(body: UpdateSignalBody):
    """Cancel or re-activate one signal by its id: {res: 1}, or {res: 0} when no such open signal exists."""
    user = auth.principal().id_hex
    result = (
        ctx()
        .db[names.SIGNALS]
        .update_one(
            {
                "user": user,
                "signals": {"$elemMatch": {"id": body.id, "status": {"$in": ["active", "canceled"]}}},
            },
            {"$set": {"signals.$.status": body.status}},
        )
    )
    return {"res": 1 if result.matched_count else 0}
