"""Signal lists: one list per user, each signal a row with its own id.

insertSignals reads the list row by row: it normalises what is safe to
normalise (pair case, "9:30", operacao case), stores the rows that are
good, and reports each other row with its reason in `rejected`, instead of
refusing the whole list for one bad row. Or it reads a pasted list (`text`)
with the core parser (glimpse.rules.signals), which parseSignals exposes
without storing anything.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint
from pydantic import ValidationError

from api import auth
from api.context import ctx
from api.errors import bad_request, forbidden
from api.registry import USER, endpoint
from api.schemas import (
    GetSignalsBody,
    InsertSignalsBody,
    ParseSignalsBody,
    SignalItem,
    UpdateSignalBody,
    loose_hora,
)
from glimpse.rules.pairs import normalize_pair
from glimpse.rules.signals import ParseResult
from glimpse.rules.signals import parse_signals as parse_signal_text
from glimpse.runtime.clock import local_datetime
from glimpse.store import signals
from glimpse.store.signals import Signal

bp = Blueprint("signals", __name__, url_prefix="/glimpse")

# Reasons of text lines the parser read as signals but that cannot go in today's list.
PAST = "past"
OTHER_DAY = "otherDay"
_TEXT_REASONS = {
    PAST: "O horário deste sinal já passou.",
    OTHER_DAY: "Este sinal é de outro dia: a lista vale só para hoje.",
}


def _own(reference: str | None, field: str) -> str:
    p = auth.principal()
    if reference not in (None, "", p.id_hex):
        raise forbidden("you may only act on your own signals", field)
    return p.id_hex


def _parse(text: str) -> ParseResult:
    """The core parser, at the market's wall-clock time (GLIMPSE_TZ)."""
    c = ctx()
    now = local_datetime(c.clock.now(), c.config.zone)
    offset = now.utcoffset()
    return parse_signal_text(
        text,
        today=now.date(),
        now=now.replace(tzinfo=None),
        market_utc_offset=None if offset is None else int(offset.total_seconds() // 60),
    )


def _normalised(row: dict[str, Any]) -> dict[str, Any]:
    """The row with the safe repairs made: a pair in any case or with a slash, "9:30", "CALL"."""
    out = dict(row)
    ativo = out.get("ativo")
    if isinstance(ativo, str):
        out["ativo"] = normalize_pair(ativo) or ativo
    hora = out.get("hora")
    if isinstance(hora, str):
        out["hora"] = loose_hora(hora)
    for name in ("operacao", "status", "resultado"):
        value = out.get(name)
        if isinstance(value, str):
            out[name] = value.strip().lower()
    if out.get("resultado") is None:
        out.pop("resultado", None)  # the original's rows may carry null
    return out


def _blank(row: dict[str, Any]) -> bool:
    """Nothing but empty values (the original app could save an empty line of its textarea)."""
    for key, value in row.items():
        if key == "id" or value is None or (isinstance(value, str) and not value.strip()):
            continue
        return False
    return True


def _rejection(index: int, field: str, reason: str) -> dict[str, Any]:
    return {"index": index, "field": field, "reason": reason}


def _read_rows(items: list[Any]) -> tuple[list[Signal], list[dict[str, Any]]]:
    rows: list[Signal] = []
    rejected: list[dict[str, Any]] = []
    ids: set[str] = set()
    for index, raw in enumerate(items):
        if not isinstance(raw, dict):
            rejected.append(_rejection(index, "", "a signal must be an object"))
            continue
        if _blank(raw):
            rejected.append(_rejection(index, "", "blank row"))
            continue
        try:
            item = SignalItem.model_validate(_normalised(raw))
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(part) for part in first.get("loc", ()))
            rejected.append(_rejection(index, field, f"{field}: {first.get('msg', 'invalid')}"))
            continue
        # A repeated id would make updateSignal and the bot's result reach only the first row.
        row_id = item.id if item.id and item.id not in ids else secrets.token_hex(6)
        ids.add(row_id)
        rows.append(
            Signal(
                id=row_id,
                ativo=item.ativo,
                hora=item.hora,
                operacao=item.operacao,
                status=item.status,
                resultado=item.resultado,
                expiry=item.expiry,
                gale=item.gale,
            )
        )
    return rows, rejected


def _read_text(text: str) -> tuple[list[Signal], list[dict[str, Any]]]:
    """The parsed signals that can trade today; every rejected line, and the signals that cannot."""
    parsed = _parse(text)
    today = local_datetime(ctx().clock.now(), ctx().config.zone).date()
    lines = text.splitlines()
    rows: list[Signal] = []
    rejected: list[dict[str, Any]] = []
    for rejection in parsed.rejected:
        rejected.append({**rejection.to_json(), "index": rejection.line - 1, "field": "text"})
    for found in parsed.signals:
        code = OTHER_DAY if found.date not in (None, today) else PAST if found.past else None
        if code is not None:
            numbers = list(found.lines or (found.line,))
            rejected.append(
                {
                    "index": found.line - 1,
                    "field": "text",
                    "line": found.line,
                    "lines": numbers,
                    "text": " / ".join(lines[n - 1] for n in numbers if 0 < n <= len(lines)),
                    "code": code,
                    "reason": _TEXT_REASONS[code],
                    "detail": found.hora if code == PAST else str(found.date),
                    "first_line": None,
                }
            )
            continue
        rows.append(
            Signal(
                id=secrets.token_hex(6),
                ativo=found.ativo,
                hora=found.hora,
                operacao=found.operacao,
                expiry=found.expiry,
                gale=found.gale,
            )
        )
    rejected.sort(key=lambda r: int(r["index"]))
    return rows, rejected


@endpoint(
    bp,
    "/insertSignals",
    access=USER,
    body=InsertSignalsBody,
    responses={
        200: "{res: 1, exists, rejected: [{index, field, reason}]}: the good rows replaced the list; "
        "{res: 0, exists, rejected} when rows were sent and every one was rejected (the list is kept)"
    },
)
def insert_signals(body: InsertSignalsBody):
    """Replace the caller's signal list with the good rows of `signals` (or of the pasted `text`).

    `exists`: a list was there before. Each row left out is in `rejected` with its `index` (the row's
    position, or the text's line - 1), the `field` at fault and the `reason`."""
    user = _own(body.user, "user")
    if body.signals is not None and body.text is not None:
        raise bad_request("send `signals` or `text`, not both", "text")
    if body.text is not None:
        rows, rejected = _read_text(body.text)
    elif body.signals is not None:
        rows, rejected = _read_rows(body.signals)
    else:
        raise bad_request("signals: field required (or send `text`)", "signals")
    if not rows and rejected:
        # Nothing good to store: the list in place stays, rather than being emptied by a bad paste.
        existing = signals.find_for_user(ctx().db, user) is not None
        return {"res": 0, "exists": existing, "rejected": rejected}
    existed = signals.replace(ctx().db, user, rows, body.type)
    return {"res": 1, "exists": existed, "rejected": rejected}


@endpoint(
    bp,
    "/parseSignals",
    access=USER,
    body=ParseSignalsBody,
    responses={200: "{signals, rejected, ignored} as the core parser reads the text; nothing is stored"},
)
def parse_signals(body: ParseSignalsBody):
    """Read a pasted signal list (glimpse.rules.signals) without storing it: each signal with ativo, hora,
    operacao, expiry, gale, date and past; each rejected line with its code and reason; the lines ignored."""
    return _parse(body.text).to_json()


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
