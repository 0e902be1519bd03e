"""Operation history: the per-session logs the bots write, and the caller's trades from the ledger."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from typing import Any

from flask import Blueprint, Response

from api import auth, paging
from api.context import ctx
from api.errors import bad_request, forbidden
from api.registry import USER, endpoint
from api.schemas import GetUserOperationsBody, UserTradesQuery
from glimpse.store import db as names
from glimpse.store import operations_log, trades
from glimpse.store.db import indexed_find

bp = Blueprint("operations", __name__, url_prefix="/glimpse")

PAGED_LOGS = {200: "an array; when paged, the next page's cursor is in the X-Glimpse-Next header"}


@endpoint(bp, "/getUserOperations", access=USER, body=GetUserOperationsBody, responses=PAGED_LOGS)
def get_user_operations(body: GetUserOperationsBody):
    """The caller's session logs, money in reais. The original call (no `limit`, no `cursor`): every
    session, oldest first, as the original answered. With `limit` or `cursor`: one page, newest first,
    the next page's cursor in the X-Glimpse-Next header."""
    p = auth.principal()
    if body.userId not in (None, "", p.id_hex):
        raise forbidden("you may only read your own operations", "userId")
    logs = ctx().db[names.OPERATIONS]
    if body.limit is None and body.cursor is None:
        # The user_time index; on the embedded store, its own sorted index of (user, operationTime).
        found = indexed_find(logs, {"user": p.id_hex}, "operationTime", 1, None, None)
        if found is None:
            found = list(logs.find({"user": p.id_hex}).sort([("operationTime", 1), ("_id", 1)]))
        return [operations_log.for_app(doc) for doc in found]
    rows, following = paging.fetch(logs, {"user": p.id_hex}, "operationTime", -1, body.limit, body.cursor)
    return paging.page_response(rows, following, operations_log.for_app, sort_field="operationTime")


# ------------------------------------------------------------------ the caller's trades


def _day_start(text: str, field: str) -> float:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise bad_request(f"{field}: not a date (YYYY-MM-DD)", field) from None
    return datetime(day.year, day.month, day.day, tzinfo=ctx().config.zone).timestamp()


def _next_day_start(text: str, field: str) -> float:
    start = datetime.fromtimestamp(_day_start(text, field), ctx().config.zone)
    # Through the calendar, not +86400 s: a day with a clock change is not 24 h long.
    following = (start.date() + timedelta(days=1)).isoformat()
    return _day_start(following, field)


def user_trades_filter(user: str, body: UserTradesQuery) -> dict[str, Any]:
    """The Trades query for the caller's filters (the user always comes from the token)."""
    bounds: dict[str, float] = {}
    lower = [v for v in (body.since, body.fromDate and _day_start(body.fromDate, "fromDate")) if v]
    upper = [v for v in (body.until, body.toDate and _next_day_start(body.toDate, "toDate")) if v]
    if lower:
        bounds["$gte"] = max(lower)
    if upper:
        bounds["$lt"] = min(upper)
    if body.result == "open":
        result: dict[str, Any] = {"status": {"$in": list(trades.UNRESOLVED)}}
    elif body.result:
        result = {"result": body.result}
    else:
        result = {}
    sessions: dict[str, Any] = {}
    if body.mode:
        # The mode is the session's (Operations keeps one log per session with its operationType).
        logs = ctx().db[names.OPERATIONS].find({"user": user, "operationType": body.mode}, {"session": 1})
        sessions = {"session": {"$in": sorted({str(d.get("session")) for d in logs if d.get("session")})}}
    return paging.combine(
        {"user": user},
        {"decidedAt": bounds} if bounds else {},
        {"ativo": body.ativo} if body.ativo else {},
        result,
        {"account": body.account} if body.account else {},
        sessions,
    )


def _totals(query: dict[str, Any]) -> dict[str, Any]:
    """Figures of every trade the filters match (not only the page), money summed in cents."""
    count = wins = losses = dojis = staked = net = 0
    fields = ("user", "ativo", "operacao", "amount", "profit", "result", "status", "moneyUnit")
    for doc in ctx().db[names.TRADES].find(query, dict.fromkeys(fields, 1)):
        trade = trades.Trade.from_doc(doc)
        count += 1
        if trade.result in (trades.WIN, trades.LOSS, trades.DOJI) and trade.profit is not None:
            wins += trade.result == trades.WIN
            losses += trade.result == trades.LOSS
            dojis += trade.result == trades.DOJI
            staked += trade.amount
            net += trade.profit
    return {
        "trades": count,
        "wins": wins,
        "losses": losses,
        "dojis": dojis,
        "staked": staked / 100,
        "net": net / 100,
    }


def _row(doc: dict[str, Any]) -> dict[str, Any]:
    shown = trades.for_app(doc)
    shown["_id"] = str(doc["_id"])
    return shown


@endpoint(bp, "/getUserTrades", access=USER, body=UserTradesQuery)
def get_user_trades(body: UserTradesQuery):
    """The caller's trades, newest first, a page at a time: {items, next, totals}. Money in reais;
    `next` is the cursor of the following page (null on the last); `totals` cover every match."""
    query = user_trades_filter(auth.principal().id_hex, body)
    rows, following = paging.fetch_batch(
        ctx().db[names.TRADES], query, "decidedAt", -1, body.limit, body.cursor
    )
    return {"items": [_row(doc) for doc in rows], "next": following, "totals": _totals(query)}


CSV_COLUMNS = ("time", "ativo", "operacao", "galeLevel", "amount", "payout", "openPrice", "closePrice", "result",
               "profit", "account", "status", "session", "cycle", "brokerOrderId", "id")  # fmt: skip
EXPORT_BATCH = 500


def _money(cents_value: int | None) -> str:
    # Exact text from integer cents: never through a float.
    if cents_value is None:
        return ""
    sign = "-" if cents_value < 0 else ""
    whole, part = divmod(abs(cents_value), 100)
    return f"{sign}{whole}.{part:02d}"


def _csv_row(doc: dict[str, Any]) -> list[Any]:
    trade = trades.Trade.from_doc(doc)
    when = datetime.fromtimestamp(trade.decidedAt, ctx().config.zone).isoformat(timespec="seconds")
    values = {
        "time": when,
        "ativo": trade.ativo,
        "operacao": trade.operacao,
        "galeLevel": trade.galeLevel,
        "amount": _money(trade.amount),
        "payout": trade.payout,
        "openPrice": trade.openPrice,
        "closePrice": trade.closePrice,
        "result": trade.result,
        "profit": _money(trade.profit),
        "account": trade.account,
        "status": trade.status,
        "session": trade.session,
        "cycle": trade.cycle,
        "brokerOrderId": trade.brokerOrderId,
        "id": str(trade.id),
    }
    return ["" if values[c] is None else values[c] for c in CSV_COLUMNS]


@endpoint(bp, "/exportUserTrades", access=USER, body=UserTradesQuery, responses={200: "text/csv"})
def export_user_trades(body: UserTradesQuery):
    """The caller's trades matching the filters as CSV (all pages), times in the market's zone, money in reais."""
    db, query = ctx().db, user_trades_filter(auth.principal().id_hex, body)
    zone_name = ctx().config.tz

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    cursor: str | None = None
    while True:  # keyset batches: the embedded store answers each from its sorted index
        batch, cursor = paging.fetch_batch(db[names.TRADES], query, "decidedAt", -1, EXPORT_BATCH, cursor)
        writer.writerows(_csv_row(doc) for doc in batch)
        if cursor is None:
            break
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": 'attachment; filename="glimpse-trades.csv"',
            "X-Glimpse-Time-Zone": zone_name,
        },
    )
