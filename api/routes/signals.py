"""Signal lists: one list per user, each signal a row with its own id."""

from __future__ import annotations

import secrets

from flask import Blueprint

from api import auth
from api.context import ctx
from api.errors import forbidden
from api.registry import USER, endpoint
from api.schemas import GetSignalsBody, InsertSignalsBody, UpdateSignalBody
from glimpse.store import signals
from glimpse.store.signals import Signal

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
    rows = [
        Signal(
            id=item.id or secrets.token_hex(6),
            ativo=item.ativo,
            hora=item.hora,
            operacao=item.operacao,
            status=item.status,
            resultado=item.resultado,
        )
        for item in body.signals
    ]
    existed = signals.replace(ctx().db, user, rows, body.type)
    return {"res": 1, "exists": existed}


@endpoint(bp, "/getSignals", access=USER, body=GetSignalsBody)
def get_signals(body: GetSignalsBody):
    """The caller's signal list as [{_id, user, signals, type}], or [] when there is none."""
    user = _own(body.user, "user")
    found = signals.find_for_user(ctx().db, user)
    return [] if found is None else [found.public()]


@endpoint(bp, "/updateSignal", access=USER, body=UpdateSignalBody)
def update_signal(body: UpdateSignalBody):
    """Cancel or re-activate one signal by its id: {res: 1}, or {res: 0} when no such open signal exists."""
    user = auth.principal().id_hex
    changed = signals.set_status(ctx().db, user, body.id, body.status, (signals.ACTIVE, signals.CANCELED))
    return {"res": 1 if changed else 0}
