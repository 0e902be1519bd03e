"""Manager reads: users, operations, trades, servers, audit, questions, codes,
the overview board; and the original manager writes (updateServer,
insertAudit, createCodes).

Every list pages with `limit` and `cursor` (see api/paging.py): the body is
the original array, the next page's cursor is in the `X-Glimpse-Next` header.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from bson import ObjectId
from flask import Blueprint, Response, stream_with_context

from api import audit, auth, paging, throttle
from api.context import ctx
from api.manager_roles import ADMIN, SUPPORT
from api.manager_schemas import (
    AuditQuery,
    CodesQuery,
    OperationsQuery,
    QuestionsQuery,
    TradesQuery,
    UserDetailBody,
    UsersQuery,
)
from api.registry import MANAGER, endpoint
from api.schemas import CreateCodesBody, Empty, InsertAuditBody, UpdateServerBody
from glimpse.runtime import security
from glimpse.runtime.heartbeat import beat
from glimpse.store import accounts, lifecycle, trades
from glimpse.store import codes as code_store
from glimpse.store import db as names
from glimpse.store import managers as manager_store
from glimpse.store import questions as question_store
from glimpse.store import servers as server_store
from glimpse.store.accounts import Account

bp = Blueprint("manager", __name__, url_prefix="/glimpse")

# Auxiliar documents that hold credentials never leave the API.
SECRET_AUXILIAR = ("analysisAccount",)
STATUSES = ("off", "waiting", "assigning", "operating", "stopping")
PAGED = {200: "one page (an array); the next page's cursor is in the X-Glimpse-Next header"}


def _time_range(field: str, since: float | None, until: float | None) -> dict[str, Any]:
    bounds: dict[str, Any] = {}
    if since is not None:
        bounds["$gte"] = since
    if until is not None:
        bounds["$lt"] = until
    return {field: bounds} if bounds else {}


# ------------------------------------------------------------------ users


USER_LIST_FIELDS = {
    "name": 1, "email": 1, "iqAccountType": 1, "iqPeriodProfit": 1, "iqSessionProfit": 1, "glimpseStatus": 1,
    "premiumDays": 1, "strategy": 1, "iqPeriodLoss": 1, "lastLogin": 1, "ownedStrategies": 1, "mode": 1,
    "strategySettings": 1, "blocked": 1,
}  # fmt: skip


def users_filter(body: UsersQuery) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    if body.q:
        pattern = re.compile(re.escape(body.q.strip()), re.IGNORECASE)
        parts.append({"$or": [{"name": pattern}, {"email": pattern}]})
    if body.status is not None:
        parts.append({"glimpseStatus": body.status})
    if body.premium is not None:
        parts.append({"premiumDays": {"$gt": 0}} if body.premium else {"premiumDays": {"$lte": 0}})
    if body.blocked is not None:
        parts.append({"blocked": True} if body.blocked else {"blocked": {"$ne": True}})
    return paging.combine(*parts)


@endpoint(bp, "/getUsers", access=MANAGER, body=UsersQuery, role=SUPPORT, responses=PAGED)
def get_users(body: UsersQuery):
    """Users by name, with the fields the manager app lists; filters `q` (name or email), `status`, `premium`, `blocked`."""
    db, query = ctx().db, users_filter(body)
    rows, following = paging.fetch_models(
        lambda after, size: accounts.by_name_page(db, query, after, size, USER_LIST_FIELDS),
        _name_key,
        body.limit,
        body.cursor,
    )

    def shape(account: Account) -> dict[str, Any]:
        view = account.public()  # the profits in reais, as the app gets them
        view.pop("iqConnected", None)
        view["operationSettings"] = view.pop("strategySettings", {})
        view["blocked"] = accounts.is_blocked(account)
        return view

    return paging.page_response(rows, following, shape, sort_key=_name_key)


def _name_key(account: Account) -> tuple[Any, ObjectId]:
    assert account.id is not None  # read from the database
    return account.name, account.id


@endpoint(bp, "/getUserDetail", access=MANAGER, body=UserDetailBody, role=SUPPORT)
def get_user_detail(body: UserDetailBody):
    """One user's account (no secret), with their server and open trades; `user` is null when unknown."""
    db = ctx().db
    account = accounts.find_for_manager(db, body.user)
    if account is None:
        return {"user": None, "openTrades": [], "server": None}
    view = account.public()
    view["blocked"] = accounts.is_blocked(account)
    open_trades = trades.recent_unresolved(db, body.user, 20)
    server = server_store.serving(db, body.user)
    return {
        "user": view,
        "openTrades": [trades.app_view(t) for t in open_trades],
        "server": None
        if server is None
        else {"name": server.name, "status": server.status, "uptime": server.uptime},
    }


# ------------------------------------------------------------------ operations and trades


@endpoint(bp, "/getAllOperations", access=MANAGER, body=OperationsQuery, role=SUPPORT, responses=PAGED)
def get_all_operations(body: OperationsQuery):
    """Session logs, newest first; filters `user`, `mode`, `since`, `until` (epoch seconds)."""
    query = paging.combine(
        {"user": body.user} if body.user else {},
        {"operationType": body.mode} if body.mode else {},
        _time_range("operationTime", body.since, body.until),
    )
    rows, following = paging.fetch(
        ctx().db[names.OPERATIONS], query, "operationTime", -1, body.limit, body.cursor
    )
    return paging.page_response(rows, following, sort_field="operationTime")


def trades_filter(body: TradesQuery) -> dict[str, Any]:
    return paging.combine(
        {"user": body.user} if body.user else {},
        {"ativo": body.ativo} if body.ativo else {},
        {"result": body.result} if body.result else {},
        {"status": body.status} if body.status else {},
        {"mode": body.mode} if body.mode else {},
        _time_range("decidedAt", body.since, body.until),
    )


@endpoint(bp, "/getTrades", access=MANAGER, body=TradesQuery, role=SUPPORT, responses=PAGED)
def get_trades(body: TradesQuery):
    """The Trades ledger, newest first; filters `user`, `ativo`, `result`, `status`, `mode`, `since`, `until`.

    Trades written before the ledger recorded the mode have none, and no `mode` filter matches them."""
    db, query = ctx().db, trades_filter(body)
    rows, following = paging.fetch_models(
        lambda after, size: trades.newest_page(db, query, after, size),
        trades.keyset_of,
        body.limit,
        body.cursor,
    )
    # Stored in cents; the manager app reads reais, as every other API answer.
    return paging.page_response(rows, following, trades.app_view, sort_key=trades.keyset_of)


CSV_COLUMNS = ("_id", "user", "session", "server", "cycle", "ativo", "operacao", "amount", "galeLevel", "payout",
               "account", "decidedAt", "placedAt", "closedAt", "openPrice", "closePrice", "brokerOrderId",
               "result", "profit", "status", "mode")  # fmt: skip
EXPORT_BATCH = 1000


@endpoint(
    bp, "/exportTrades", access=MANAGER, body=TradesQuery, role=SUPPORT, responses={200: "text/csv, streamed"}
)
@throttle.export_limit
def export_trades(body: TradesQuery):
    """Every trade that matches the filters, as CSV, streamed: written out every EXPORT_BATCH rows,
    so memory stays flat however many trades match."""
    db, query = ctx().db, trades_filter(body)

    def ledger_rows() -> Iterator[dict[str, Any]]:
        return map(trades.app_view, trades.stream_newest(db, query, EXPORT_BATCH))

    def rows() -> Iterator[str]:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for count, trade in enumerate(ledger_rows(), 1):
            writer.writerow(["" if trade.get(c) is None else trade.get(c) for c in CSV_COLUMNS])
            if count % EXPORT_BATCH == 0:
                yield out.getvalue()
                out.seek(0)
                out.truncate()
        yield out.getvalue()

    return Response(
        stream_with_context(rows()),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="trades.csv"'},
    )


# ------------------------------------------------------------------ overview


def _day_start(now: float) -> float:
    local = datetime.fromtimestamp(now, ctx().config.zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


@endpoint(bp, "/getOverview", access=MANAGER, body=Empty, role=SUPPORT)
def get_overview(body: Empty):
    """The live board: users by status, servers with heartbeat age, today's orders and net, per hour."""
    c = ctx()
    db, now, lease = c.db, c.clock.now(), c.config.lease_seconds
    # Heartbeats and leases are wall time (glimpse.runtime.clock.wall_span), also on a fast market clock.
    speed = float(getattr(c.clock, "speed", 1.0)) or 1.0

    def age_of(uptime: Any) -> float:
        return round(max(0.0, now - float(uptime)) / speed, 1) if isinstance(uptime, (int, float)) else -1.0

    by_status = accounts.count_by_status(db)
    users = {status: by_status.get(status, 0) for status in STATUSES}
    blocked = accounts.count_blocked(db)
    servers = []
    for server in server_store.all_servers(db):
        age = age_of(server.uptime) if server.uptime > 0 else -1.0  # never beat
        row: dict[str, Any] = {"name": server.name, "status": server.status, "target": server.target,
                               "uptime": server.uptime, "preferential": server.preferential}  # fmt: skip
        if server.drain is not None:
            row["drain"] = server.drain
        servers.append(row | {"age": age, "alive": 0 <= age <= lease})
    services = []
    for doc in db[names.SERVER_STATUS].find({}, {"_id": 0}).sort("name", 1):
        age = age_of(doc.get("uptime"))
        services.append({"name": doc.get("name", ""), "age": age, "alive": 0 <= age <= lease})
    start = _day_start(now)
    counts = {"orders": 0, "win": 0, "loss": 0, "doji": 0, "failed": 0, "open": 0}
    net = 0  # cents
    hours: dict[int, dict[str, Any]] = {}
    for trade in trades.decided_since(db, start):
        counts["orders"] += 1
        hour = int(((trade.decidedAt or start) - start) // 3600)
        slot = hours.setdefault(hour, {"hour": hour, "orders": 0, "net": 0})
        slot["orders"] += 1
        if trade.status != trades.CLOSED:
            counts["open"] += 1
            continue
        if trade.result in counts:
            counts[trade.result] += 1
        if trade.profit is not None:
            net += trade.profit
            slot["net"] += trade.profit
    per_hour = [slot | {"net": float(trades.from_cents(slot["net"]))} for _, slot in sorted(hours.items())]
    return {
        "now": now,
        "lease": lease,
        "users": users,
        "blocked": blocked,
        "servers": servers,
        "services": services,
        "today": counts | {"net": float(trades.from_cents(net)), "since": start},
        "perHour": per_hour,
    }


# ------------------------------------------------------------------ servers and services


@endpoint(bp, "/getServerStatus", access=MANAGER, body=Empty, role=SUPPORT)
def get_server_status(body: Empty):
    """The heartbeats of the API and the services (ServerStatus)."""
    beat(ctx().db, "API", ctx().clock.now())
    return list(ctx().db[names.SERVER_STATUS].find({}).sort("name", 1))


@endpoint(bp, "/updateServer", access=MANAGER, body=UpdateServerBody, role=ADMIN)
def update_server(body: UpdateServerBody):
    """Set an operational server's status and target user."""
    # A manager's change is an assignment of its own: the session of the one before cannot write over it.
    holding = body.status in server_store.HOLDING and bool(body.target)
    assignment = lifecycle.new_assignment() if holding else ""
    before = server_store.set_by_manager(ctx().db, body.name, body.status, body.target, assignment)
    if before is None:
        return {"res": 0}
    after = {"status": body.status, "target": body.target}
    audit.record(body.name, "updateServer", {"status": before.status, "target": before.target}, after)
    return {"res": 1}


@endpoint(bp, "/getOperatingServers", access=MANAGER, body=Empty, role=SUPPORT)
def get_operating_servers(body: Empty):
    """Every operational server with its status, target and heartbeat."""
    return [server.public() for server in server_store.all_servers(ctx().db)]


# ------------------------------------------------------------------ audit


@endpoint(bp, "/getAudit", access=MANAGER, body=AuditQuery, role=SUPPORT, responses=PAGED)
def get_audit(body: AuditQuery):
    """The manager audit log, newest first; filters `who`, `didWhat`, `since`, `until`."""
    query = paging.combine(
        {"who": body.who} if body.who else {},
        {"didWhat": body.didWhat} if body.didWhat else {},
        _time_range("when", body.since, body.until),
    )
    rows, following = paging.fetch(ctx().db[names.MANAGER_AUDIT], query, "when", -1, body.limit, body.cursor)
    return paging.page_response(rows, following, sort_field="when")


@endpoint(bp, "/insertAudit", access=MANAGER, body=InsertAuditBody, role=ADMIN)
def insert_audit(body: InsertAuditBody):
    """Append a record to the audit log (the author and time are the server's)."""
    audit.record(body.target, body.didWhat, body.from_, body.to)
    return {"res": 1}


# ------------------------------------------------------------------ questions, content, codes, managers


@endpoint(bp, "/getQuestions", access=MANAGER, body=QuestionsQuery, role=SUPPORT, responses=PAGED)
def get_questions(body: QuestionsQuery):
    """Questions users sent, newest first; filter `answered`."""
    rows, following = paging.fetch(
        ctx().db[names.QUESTIONS],
        question_store.answered_filter(body.answered),
        "when",
        -1,
        body.limit,
        body.cursor,
    )
    return paging.page_response(rows, following, sort_field="when")


@endpoint(bp, "/getAuxiliar", access=MANAGER, body=Empty, role=SUPPORT)
def get_auxiliar(body: Empty):
    """The auxiliary documents (terms, name pools, app version, maintenance flag), without credentials."""
    return list(ctx().db[names.AUXILIAR].find({"name": {"$nin": list(SECRET_AUXILIAR)}}).sort("name", 1))


@endpoint(bp, "/getCodes", access=MANAGER, body=CodesQuery, role=SUPPORT, responses=PAGED)
def get_codes(body: CodesQuery):
    """Invite codes with who used each and when; filter `used`."""
    rows, following = paging.fetch(
        ctx().db[names.CODES], code_store.used_filter(body.used), "code", 1, body.limit, body.cursor
    )
    return paging.page_response(rows, following, sort_field="code")


@endpoint(bp, "/createCodes", access=MANAGER, body=CreateCodesBody, role=ADMIN)
def create_codes(body: CreateCodesBody):
    """Create `count` invite codes that grant `premiumDays` days: {res: 1, codes: [...]}."""
    codes = [security.new_code(12) for _ in range(body.count)]
    now = ctx().clock.now()
    ctx().db[names.CODES].insert_many(
        [
            {"code": code, "valid": True, "usedBy": "", "usedWhen": 0, "premiumDays": body.premiumDays,
             "createdAt": now}
            for code in codes
        ]
    )  # fmt: skip
    audit.record("Codes", "createCodes", None, {"count": body.count, "premiumDays": body.premiumDays})
    return {"res": 1, "codes": codes}


@endpoint(bp, "/getManagers", access=MANAGER, body=Empty, role=SUPPORT)
def get_managers(body: Empty):
    """Every manager with their role and whether they are disabled (no password)."""
    return manager_store.listing(ctx().db)


@endpoint(bp, "/managerMe", access=MANAGER, body=Empty, role=SUPPORT)
def manager_me(body: Empty):
    """The calling manager: {user, name, rol}, so the app shows only what the role may do."""
    doc = auth.principal().doc
    return {"user": doc.get("user", ""), "name": doc.get("name", ""), "rol": manager_store.role_of(doc)}
