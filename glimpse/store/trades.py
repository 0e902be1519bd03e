"""The Trades store: one document per order, the source of truth for money.

Write-ahead: an order is written before it is sent (status "pending", with
an idempotency key `clientKey`), marked "open" with what the broker
reported (order id, open quote, expiry) as soon as the broker answers, and
"closed" with its result once it settles. A buy that failed in a way that
may still have executed (a timeout, a dropped socket, a crash) leaves the
trade "unknown": only the broker can say what happened (`find_order`), and
until it does no new order is placed for the user. A trade the broker
proves it never placed is closed as "not_placed"; one that stays unknown
past a bound is `flagged` for the operator, never guessed.

Money is exact on disk: `amount` and `profit` are integer cents. Quotes
(`openPrice`, `closePrice`) are floats: they are prices, not money; where
each came from is in `quoteSource` / `closeQuoteSource` ("broker" or
"stream").

Settling is conditional on the trade not being closed yet, so a result is
recorded once even when two processes reconcile the same order. The user's
profit fields follow with an idempotent credit: `$inc` guarded by the ids
of the trades already applied, then `credited: True` on the trade. A crash
between the two halves leaves a closed trade with `credited: False`, which
`heal_credits` (run at every session start and reconciliation) applies.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from bson import Decimal128, ObjectId
from pymongo.errors import DuplicateKeyError

from glimpse.rules.money import Amount, cents
from glimpse.store import db as names
from glimpse.store import operations_log
from glimpse.store.accounts import money_cents
from glimpse.store.lifecycle import oid

# Results.
WIN, LOSS, DOJI, FAILED, NOT_PLACED = "win", "loss", "doji", "failed", "not_placed"
# Statuses.
PENDING, OPEN, UNKNOWN, CLOSED = "pending", "open", "unknown", "closed"
# Trades whose money is not known yet: no new order for the user while one of them is not flagged.
UNRESOLVED = (PENDING, OPEN, UNKNOWN)
# The marker of documents whose money is stored in integer cents (see convert_to_cents).
CENTS_UNIT = "cents"


def to_cents(value: Amount) -> int:
    """An amount of reais as integer cents (rounded once, by glimpse.rules.money.cents)."""
    return int(cents(value) * 100)


def from_cents(value: int) -> Decimal:
    return Decimal(value) / 100


def result_of(profit: Decimal) -> str:
    return WIN if profit > 0 else LOSS if profit < 0 else DOJI


@dataclass(frozen=True)
class Trade:
    """One order in the ledger; attributes are the document's fields (money in cents)."""

    id: ObjectId
    user: str
    session: str
    server: str
    cycle: str
    ativo: str
    operacao: str
    amount: int
    galeLevel: int
    payout: int
    status: str
    clientKey: str
    account: str = "PRACTICE"
    serverSession: str = ""
    decidedAt: float = 0.0
    sentAt: float | None = None
    placedAt: float | None = None
    openedAt: float | None = None
    expiresAt: float | None = None
    closedAt: float | None = None
    openPrice: float | None = None
    closePrice: float | None = None
    quoteSource: str | None = None
    closeQuoteSource: str | None = None
    brokerOrderId: int | None = None
    result: str | None = None
    profit: int | None = None
    credited: bool = False
    flagged: bool = False
    failure: str | None = None
    copies: str | None = None  # copy mode: the id of the leader trade this trade copies
    expiryMinutes: int = 1  # the option's expiry in minutes (1-5 turbo, 15 binary)
    mode: str | None = None  # strategy | signals | copy; None on trades written before it was recorded

    @property
    def stake(self) -> Decimal:
        return from_cents(self.amount)

    @property
    def profit_reais(self) -> Decimal | None:
        return None if self.profit is None else from_cents(self.profit)

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Trade:
        in_cents = doc.get("moneyUnit") == CENTS_UNIT

        def money(value: Any) -> int:
            return _stored_cents(value, in_cents)

        return cls(
            id=doc["_id"],
            user=doc["user"],
            session=doc.get("session", ""),
            server=doc.get("server", ""),
            cycle=doc.get("cycle", ""),
            ativo=doc["ativo"],
            operacao=doc["operacao"],
            amount=money(doc["amount"]),
            galeLevel=int(doc.get("galeLevel", 0)),
            payout=int(doc.get("payout", 0)),
            status=doc["status"],
            clientKey=doc.get("clientKey") or str(doc["_id"]),
            account=doc.get("account", "PRACTICE"),
            serverSession=doc.get("serverSession", ""),
            decidedAt=float(doc.get("decidedAt") or 0.0),
            sentAt=doc.get("sentAt"),
            placedAt=doc.get("placedAt"),
            openedAt=doc.get("openedAt"),
            expiresAt=doc.get("expiresAt"),
            closedAt=doc.get("closedAt"),
            openPrice=doc.get("openPrice"),
            closePrice=doc.get("closePrice"),
            quoteSource=doc.get("quoteSource"),
            closeQuoteSource=doc.get("closeQuoteSource"),
            brokerOrderId=doc.get("brokerOrderId"),
            result=doc.get("result"),
            profit=None if doc.get("profit") is None else money(doc["profit"]),
            credited=bool(doc.get("credited", doc.get("status") == CLOSED)),
            flagged=bool(doc.get("flagged", False)),
            failure=doc.get("failure"),
            copies=doc.get("copies"),
            expiryMinutes=int(doc.get("expiryMinutes") or 1),
            mode=doc.get("mode"),
        )


def _stored_cents(value: Any, in_cents: bool) -> int:
    """A stored amount in cents: a document written before the conversion to cents holds reais."""
    return int(value) if in_cents else to_cents(value)


def _get(db: Any, trade_id: ObjectId) -> Trade | None:
    doc = db[names.TRADES].find_one({"_id": trade_id})
    return None if doc is None else Trade.from_doc(doc)


def get(db: Any, trade_id: ObjectId) -> Trade | None:
    return _get(db, trade_id)


def intent_document(
    *,
    user: str,
    session: str,
    server: str,
    ativo: str,
    operacao: str,
    amount: Decimal,
    gale_level: int,
    payout: int,
    decided_at: float,
    cycle: str,
    account: str,
    server_session: str = "",
    sent_at: float | None = None,
    client_key: str | None = None,
    copies: str | None = None,
    expiry_minutes: int = 1,
    mode: str | None = None,
) -> dict[str, Any]:
    """The ledger document of an order about to be sent: status "pending", with its idempotency key.

    `client_key`: a deterministic key (copy mode derives it from the follower and
    the leader trade), so a retry reaches the broker as the same order. Such an
    intent's `_id` derives from the key (see `intent_id`), so it is written once
    per key; any other intent gets its `_id` when it is written.
    """
    doc: dict[str, Any] = {
        "user": user,
        "session": session,
        "serverSession": server_session,
        "server": server,
        "cycle": cycle,
        "ativo": ativo,
        "operacao": operacao,
        "amount": to_cents(amount),
        "galeLevel": gale_level,
        "payout": payout,
        "account": account,
        "clientKey": client_key or secrets.token_hex(12),
        # A 5- or 15-minute buy may still land long after a 1-minute one would: whoever reconciles
        # it (maybe another process, after a crash) must know, or it could call it not placed.
        "expiryMinutes": expiry_minutes,
        "decidedAt": decided_at,
        "sentAt": sent_at if sent_at is not None else decided_at,
        "placedAt": None,
        "openedAt": None,
        "expiresAt": None,
        "closedAt": None,
        "openPrice": None,
        "closePrice": None,
        "quoteSource": None,
        "closeQuoteSource": None,
        "brokerOrderId": None,
        "result": None,
        "profit": None,
        "status": PENDING,
        "credited": False,
        "flagged": False,
        "moneyUnit": CENTS_UNIT,
    }
    if copies is not None:
        doc["copies"] = copies
    if mode is not None:
        doc["mode"] = mode
    if client_key is not None:
        doc["_id"] = intent_id(client_key, decided_at)
    return doc


def record_intent(db: Any, **fields: Any) -> Trade:
    """Write the order before it is sent (the document of `intent_document(**fields)`)."""
    return record_document(db, intent_document(**fields))


def record_document(db: Any, doc: dict[str, Any]) -> Trade:
    """Write an intent document (intent_document) and return its trade.

    A keyed intent (its `_id` derives from its client key) is written once: a
    second writer gets the first one's trade back, never a second trade for the
    same order.
    """
    if "_id" in doc:
        return _record_once(db, doc)
    doc["_id"] = db[names.TRADES].insert_one(doc).inserted_id
    return Trade.from_doc(doc)


def intent_id(client_key: str, decided_at: float) -> ObjectId:
    """The ledger id of an order with a deterministic client key: its decision second, then the key's hash.

    The id, unique on MongoDB and on the embedded store alike with no other
    index, makes the write-ahead itself the claim on the order: the session
    that crashed after writing it, its successor and a stale one all meet
    the same trade, which reconciliation resolves like any other.
    """
    second = max(0, min(int(decided_at), 2**32 - 1))
    return ObjectId(second.to_bytes(4, "big") + hashlib.sha256(client_key.encode()).digest()[:8])


def _record_once(db: Any, doc: dict[str, Any]) -> Trade:
    trade_id = doc["_id"]
    try:
        db[names.TRADES].insert_one(doc)
    except DuplicateKeyError:
        existing = _get(db, trade_id)
        if existing is None:  # deleted in between: nothing else can hold the id
            raise
        return existing
    return Trade.from_doc(doc)


def open_trade(db: Any, **fields: Any) -> ObjectId:
    """record_intent, returning the new trade's id (the ledger's older spelling)."""
    return record_intent(db, **fields).id


def mark_sent(db: Any, trade_id: ObjectId, sent_at: float) -> None:
    db[names.TRADES].update_one({"_id": trade_id, "status": PENDING}, {"$set": {"sentAt": sent_at}})


def mark_open(
    db: Any,
    trade_id: ObjectId,
    order_id: int,
    placed_at: float,
    open_price: float | None,
    *,
    expires_at: float | None = None,
    quote_source: str | None = None,
) -> bool:
    """pending or unknown → open, with what the broker reported about the fill."""
    done = db[names.TRADES].update_one(
        {"_id": trade_id, "status": {"$in": [PENDING, UNKNOWN]}},
        {
            "$set": {
                "status": OPEN,
                "brokerOrderId": order_id,
                "placedAt": placed_at,
                "openedAt": placed_at,
                "openPrice": open_price,
                "expiresAt": expires_at,
                "quoteSource": quote_source,
            }
        },
    )
    return bool(done.modified_count == 1)


def mark_unknown(db: Any, trade_id: ObjectId, reason: str, now: float) -> bool:
    """A buy that failed in a way that may have executed: only the broker can say."""
    done = db[names.TRADES].update_one(
        {"_id": trade_id, "status": PENDING},
        {"$set": {"status": UNKNOWN, "unknownSince": now, "failure": reason}},
    )
    return bool(done.modified_count == 1)


def _close_without_money(db: Any, trade_id: ObjectId, result: str, reason: str, now: float) -> bool:
    done = db[names.TRADES].update_one(
        {"_id": trade_id, "status": {"$in": [PENDING, UNKNOWN]}},
        {
            "$set": {
                "status": CLOSED,
                "result": result,
                "profit": 0,
                "closedAt": now,
                "failure": reason,
                "credited": True,
                "flagged": False,
            }
        },
    )
    return bool(done.modified_count == 1)


def mark_failed(db: Any, trade_id: ObjectId, reason: str, now: float) -> bool:
    """A buy the broker refused (an error that proves nothing was placed): no money moved."""
    return _close_without_money(db, trade_id, FAILED, reason, now)


def mark_not_placed(db: Any, trade_id: ObjectId, reason: str, now: float) -> bool:
    """The broker proved it never placed this order."""
    return _close_without_money(db, trade_id, NOT_PLACED, reason, now)


def flag(db: Any, trade_id: ObjectId, now: float) -> bool:
    """Still unresolved past the bound: the operator must look (the first flag returns True)."""
    done = db[names.TRADES].update_one(
        {"_id": trade_id, "status": {"$in": list(UNRESOLVED)}, "flagged": {"$ne": True}},
        {"$set": {"flagged": True, "flaggedAt": now}},
    )
    return bool(done.modified_count == 1)


def settle(
    db: Any,
    trade_id: ObjectId,
    profit: Decimal,
    closed_at: float,
    close_price: float | None,
    *,
    close_source: str | None = None,
) -> bool:
    """Record a trade's result and credit it to the user. False if it was already settled."""
    value = to_cents(profit)
    done = db[names.TRADES].update_one(
        {"_id": trade_id, "status": {"$in": list(UNRESOLVED)}},
        {
            "$set": {
                "status": CLOSED,
                "result": result_of(from_cents(value)),
                "profit": value,
                "closedAt": closed_at,
                "closePrice": close_price,
                "closeQuoteSource": close_source,
                "credited": False,
                "flagged": False,
            }
        },
    )
    trade = _get(db, trade_id)
    if trade is not None and trade.status == CLOSED and not trade.credited:
        credit(db, trade)
    return bool(done.modified_count == 1)


def credit(db: Any, trade: Trade) -> bool:
    """Add a settled trade to the user's profit fields and its Operations log, once; True if this call applied it."""
    if trade.result not in (WIN, LOSS, DOJI) or trade.profit is None:
        return False
    convert_account(db, trade.user)
    inc: dict[str, int] = {}
    if trade.profit > 0:
        inc["iqPeriodProfit"] = trade.profit
    elif trade.profit < 0:
        inc["iqPeriodLoss"] = -trade.profit
    accounts = db[names.ACCOUNTS]
    update: dict[str, Any] = {"$push": {"appliedTrades": {"$each": [trade.id], "$slice": -200}}}
    if inc:
        update["$inc"] = inc
    applied = accounts.update_one({"_id": oid(trade.user), "appliedTrades": {"$ne": trade.id}}, update)
    _log_result(db, trade)
    # Last: a crash before this line leaves the trade uncredited, and heal_credits does both halves again.
    db[names.TRADES].update_one({"_id": trade.id}, {"$set": {"credited": True}})
    sync_session_profit(db, trade.user, trade.session)
    return bool(applied.modified_count == 1)


def _log_result(db: Any, trade: Trade) -> None:
    """The trade's result in its session's Operations log (idempotent), where it was logged or as a late entry."""
    profit = from_cents(trade.profit or 0)
    if operations_log.order_settled(db, trade.user, trade.session, trade.id, None, profit):
        return
    operations_log.add_reconciled_order(db, user=trade.user, session=trade.session, cycle=trade.cycle,
                                        ativo=trade.ativo, horario=trade.decidedAt, operacao=trade.operacao,
                                        money=trade.stake, trade_id=trade.id, price=trade.openPrice,
                                        profit=profit)  # fmt: skip


def sync_session_profit(db: Any, user: str, session: str) -> None:
    """iqSessionProfit := the ledger's net of the session, while the account is still in that session."""
    db[names.ACCOUNTS].update_one(
        {"_id": oid(user), "glimpseSession": session},
        {"$set": {"iqSessionProfit": session_net_cents(db, user, session)}},
    )


def heal_credits(db: Any, user: str) -> int:
    """Credit the user's closed trades a crash left uncredited; how many were applied now."""
    cursor = db[names.TRADES].find({"user": user, "status": CLOSED, "credited": False})
    return sum(1 for doc in list(cursor) if credit(db, Trade.from_doc(doc)))


def unresolved(db: Any, user: str, *, include_flagged: bool = False) -> list[Trade]:
    """The user's trades whose money is not known yet, oldest first."""
    query: dict[str, Any] = {"user": user, "status": {"$in": list(UNRESOLVED)}}
    if not include_flagged:
        query["flagged"] = {"$ne": True}
    return [Trade.from_doc(d) for d in _of_one_user(db, query)]


def _of_one_user(
    db: Any, query: dict[str, Any], projection: dict[str, Any] | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """The trades matching `query`, whose first condition is one user, oldest first.

    These run around every order of every session (a copy fan-out is
    hundreds at once): the embedded store answers them from its sorted
    (user, decidedAt) index instead of scanning the whole ledger; MongoDB
    from its user_decided index.
    """
    collection = db[names.TRADES]
    rows = names.indexed_find(collection, query, "decidedAt", 1, None, limit, projection)
    if rows is None:
        cursor = collection.find(query, projection).sort("decidedAt", 1)
        rows = list(cursor.limit(limit) if limit else cursor)
    return rows


def blocking(db: Any, user: str, session: str) -> list[Trade]:
    """Unresolved trades that forbid a new order in `session`.

    Any unflagged one (it may resolve any moment), and the flagged ones of
    this session: its net, hence its stops, cannot be known without them. A
    trade flagged in an earlier Glimpse session waits for the operator but
    does not block the user's next session, whose net starts from zero.
    """
    return [t for t in unresolved(db, user, include_flagged=True) if not t.flagged or t.session == session]


def is_blocked(db: Any, user: str, session: str) -> bool:
    """Whether `blocking` has any trade (one cheap query: it runs right before every buy)."""
    query = {
        "user": user,
        "status": {"$in": list(UNRESOLVED)},
        "$or": [{"flagged": {"$ne": True}}, {"session": session}],
    }
    return bool(_of_one_user(db, query, {"_id": 1}, 1))


# How long past its expiry an open order may go unsettled before anyone reconciles it (market seconds).
SETTLE_GRACE_SECONDS = 30.0


def users_to_reconcile(db: Any, now: float, grace: float = SETTLE_GRACE_SECONDS) -> list[str]:
    """Users with an unflagged trade only the broker can resolve now: pending or unknown, or open past
    its expiry + `grace` (an open order in flight is its session's to settle)."""
    query = {"status": {"$in": list(UNRESOLVED)}, "flagged": {"$ne": True}}
    fields = {"user": 1, "status": 1, "expiresAt": 1, "sentAt": 1, "decidedAt": 1}
    users: list[str] = []
    for doc in db[names.TRADES].find(query, fields):
        user = str(doc.get("user") or "")
        if not user or user in users:
            continue
        if doc.get("status") == OPEN:
            expiry = doc.get("expiresAt")
            if not isinstance(expiry, (int, float)):
                started = doc.get("sentAt") if doc.get("sentAt") is not None else doc.get("decidedAt")
                expiry = float(started or 0.0) + 60.0  # a 1-minute order
            if now <= float(expiry) + grace:
                continue
        users.append(user)
    return users


def open_trades(db: Any, user: str) -> list[Trade]:
    """Unresolved trades a server must still settle (flagged ones wait for the operator)."""
    return unresolved(db, user)


# What a session's net reads of each settled trade (it is read before every first entry with a stop).
_NET_FIELDS = {"user": 1, "session": 1, "profit": 1, "moneyUnit": 1}


def _profit_cents(doc: dict[str, Any]) -> int:
    """A settled trade's profit in cents, as Trade reads it (none: 0)."""
    profit = doc.get("profit")
    return 0 if profit is None else _stored_cents(profit, doc.get("moneyUnit") == CENTS_UNIT)


def session_net_cents(db: Any, user: str, session: str) -> int:
    rows = _of_one_user(db, {"user": user, "session": session, "status": CLOSED}, _NET_FIELDS)
    return sum(map(_profit_cents, rows))


def session_nets_cents(db: Any, sessions: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Each (user, session)'s net in cents, read in one query: session_net_cents for many sessions
    (a session without a settled trade is absent)."""
    wanted = set(sessions)
    if not wanted:
        return {}
    query = {
        "user": {"$in": list({user for user, _ in wanted})},
        "session": {"$in": list({session for _, session in wanted})},
        "status": CLOSED,
    }
    nets: dict[tuple[str, str], int] = {}
    for doc in db[names.TRADES].find(query, _NET_FIELDS):
        key = (doc.get("user"), doc.get("session"))
        if key in wanted:
            nets[key] = nets.get(key, 0) + _profit_cents(doc)
    return nets


def session_net(db: Any, user: str, session: str) -> Decimal:
    """The net result of a user's Glimpse session: the sum of its settled trades."""
    return from_cents(session_net_cents(db, user, session))


def of_user(db: Any, user: str) -> list[Trade]:
    return [Trade.from_doc(d) for d in db[names.TRADES].find({"user": user}).sort("decidedAt", 1)]


def for_app(doc: dict[str, Any]) -> dict[str, Any]:
    """A Trades document as an API shows it: `amount` and `profit` in reais (2 decimals), as before the change."""
    trade = Trade.from_doc(doc)
    out = {k: v for k, v in doc.items() if k != "moneyUnit"}
    out["amount"] = float(trade.stake)
    out["profit"] = None if trade.profit_reais is None else float(trade.profit_reais)
    return out


# --- the broker's balance, as the app shows it --------------------------------------------

# The account fields that hold each broker balance (integer cents; the API answers reais).
BALANCE_FIELDS = {"PRACTICE": "iqBalancePractice", "REAL": "iqBalanceReal"}


def record_broker_balance(db: Any, user: str, account_type: str, balance_cents: int, now: float) -> None:
    """The balance the broker just reported for the user's PRACTICE or REAL account, in cents."""
    field = BALANCE_FIELDS[account_type]
    db[names.ACCOUNTS].update_one(
        {"_id": oid(user)}, {"$set": {field: int(balance_cents), "iqBalanceAt": now}}
    )


# --- the Glimpse session: from the user's Start to off, across hand-overs -----------------


def glimpse_session(db: Any, user: str, candidate: str, now: float) -> tuple[str, bool]:
    """The user's Glimpse session key, and whether this server continues it (True) or began it.

    The key lives in the account (`glimpseSession`), set by the first server
    that serves the user after Start and kept across hand-overs, so the
    session's net, its stops and its Operations log survive a dead server.
    A key whose account figure `iqSessionProfit` no longer matches its
    ledger net was left behind by an off transition that did not clear it:
    it is replaced.
    """
    accounts = db[names.ACCOUNTS]
    doc = accounts.find_one({"_id": oid(user)}, {"glimpseSession": 1})
    if doc is None:
        return candidate, False
    key = doc.get("glimpseSession")
    if key:
        heal_credits(db, user)
        doc = accounts.find_one({"_id": oid(user)}, {"iqSessionProfit": 1}) or {}
        if money_cents(doc.get("iqSessionProfit")) == session_net_cents(db, user, key):
            return str(key), True
    claimed = accounts.update_one(
        {"_id": oid(user), "glimpseSession": key},
        {"$set": {"glimpseSession": candidate, "glimpseSessionStart": now, "iqSessionProfit": 0}},
    )
    if claimed.modified_count == 1:
        return candidate, False
    again = accounts.find_one({"_id": oid(user)}, {"glimpseSession": 1}) or {}
    return str(again.get("glimpseSession") or candidate), bool(again.get("glimpseSession"))


def end_glimpse_session(db: Any, user: str, session: str) -> None:
    """The user went off: the next Start begins a new Glimpse session."""
    db[names.ACCOUNTS].update_one(
        {"_id": oid(user), "glimpseSession": session, "glimpseStatus": "off"},
        {"$unset": {"glimpseSession": "", "glimpseSessionStart": ""}},
    )


# --- the conversion of documents written in float reais ----------------------------------

# The Accounts fields that hold money.
ACCOUNT_MONEY_FIELDS = (
    "iqSessionProfit",
    "iqPeriodProfit",
    "iqPeriodLoss",
    "iqBalancePractice",
    "iqBalanceReal",
)


def convert_account(db: Any, user: str | ObjectId) -> bool:
    """Store the account's profit and balance fields in integer cents, once.

    The convention of glimpse.store.accounts: an integer is cents, a float
    (or Decimal128) is reais from before the change. Every `$inc` in cents
    runs after this, so an account is never half in each unit. The update is
    conditional on the values it read, so a concurrent credit makes it read
    again instead of losing money; with nothing left in reais it does nothing.
    """
    accounts = db[names.ACCOUNTS]
    for _ in range(10):
        doc = accounts.find_one({"_id": oid(user)}, {f: 1 for f in ACCOUNT_MONEY_FIELDS})
        if doc is None:
            return False
        stale = [f for f in ACCOUNT_MONEY_FIELDS if f in doc and _in_reais(doc[f])]
        if not stale:
            return False
        match: dict[str, Any] = {"_id": doc["_id"], **{f: doc[f] for f in stale}}
        new = {f: money_cents(doc[f]) for f in stale}
        if accounts.update_one(match, {"$set": new}).modified_count == 1:
            return True
    raise RuntimeError(f"the account {user} kept changing while its money was converted to cents")


def _in_reais(value: Any) -> bool:
    return isinstance(value, (float, Decimal128)) and not isinstance(value, bool)


def convert_trade(db: Any, doc: dict[str, Any]) -> bool:
    money: dict[str, Any] = {"moneyUnit": CENTS_UNIT, "amount": to_cents(doc.get("amount") or 0)}
    if doc.get("profit") is not None:
        money["profit"] = to_cents(doc["profit"])
    match = {
        "_id": doc["_id"],
        "moneyUnit": {"$ne": CENTS_UNIT},
        "amount": doc.get("amount"),
        "profit": doc.get("profit"),
    }
    if doc.get("status") == CLOSED and "credited" not in doc:
        money["credited"] = True  # written before credits were tracked: applied with appliedTrades
    return bool(db[names.TRADES].update_one(match, {"$set": money}).modified_count == 1)


def convert_to_cents(db: Any) -> dict[str, int]:
    """Convert every Trades and Accounts document still in reais; safe to run again (it then does nothing)."""
    trades = sum(
        1 for doc in list(db[names.TRADES].find({"moneyUnit": {"$ne": CENTS_UNIT}})) if convert_trade(db, doc)
    )
    accounts = sum(
        1 for doc in list(db[names.ACCOUNTS].find({}, {"_id": 1})) if convert_account(db, doc["_id"])
    )
    return {"trades": trades, "accounts": accounts}


def convert_money(db: Any) -> dict[str, int]:
    """Trades, Accounts profit fields and Operations still in float reais → integer cents (idempotent)."""
    return {**convert_to_cents(db), "operations": operations_log.convert_to_cents(db)}


# --- reads for operators (health, metrics, summaries) ---------------------------------------------

# An order the broker took: it has an order id, or a settled result.
PLACED_QUERY: dict[str, Any] = {
    "$or": [
        {"brokerOrderId": {"$ne": None}},
        {"status": CLOSED, "result": {"$in": [WIN, LOSS, DOJI]}},
    ]
}


@dataclass(frozen=True)
class LedgerTally:
    placed: int
    by_result: dict[Any, int]
    by_status: dict[Any, int]


def tally_ledger(db: Any) -> LedgerTally:
    """Orders placed, and trades by result and by status (one pass per field)."""
    collection = db[names.TRADES]
    return LedgerTally(
        placed=int(collection.count_documents(PLACED_QUERY)),
        by_result=names.tally(collection, "result"),
        by_status=names.tally(collection, "status"),
    )


def recent_order_latencies(db: Any, since: float, limit: int = 5000) -> list[float]:
    """Seconds from decision to the broker's acceptance of the orders decided since `since` (at most
    the `limit` newest): whichever process placed them, so any API process reports the same figures."""
    newest = newest_page(db, {}, None, limit)
    return [t.placedAt - t.decidedAt for t in newest if t.decidedAt >= since and t.placedAt is not None]


def overdue_unresolved(db: Any) -> list[Trade]:
    """Unflagged trades still pending, open or unknown (the operator's watch list)."""
    cursor = db[names.TRADES].find({"status": {"$in": list(UNRESOLVED)}, "flagged": {"$ne": True}})
    return [Trade.from_doc(doc) for doc in cursor]


def settled_between(db: Any, user: str, start: float, end: float) -> list[Trade]:
    """The user's trades closed in [start, end)."""
    cursor = db[names.TRADES].find({"user": user, "status": CLOSED, "closedAt": {"$gte": start, "$lt": end}})
    return [Trade.from_doc(doc) for doc in cursor]


# --- the manager's views of the ledger ----------------------------------------------------------

# Keyset paging over the ledger: newest first by (decidedAt, _id); `after` is the last row served.
Keyset = tuple[Any, ObjectId]


def app_view(trade: Trade) -> dict[str, Any]:
    """A trade as the manager's API shows it: the stored field names, `amount` and `profit` in reais."""
    view: dict[str, Any] = {"_id": trade.id}
    view.update((f.name, getattr(trade, f.name)) for f in fields(trade) if f.name != "id")
    view["amount"] = float(trade.stake)
    view["profit"] = None if trade.profit_reais is None else float(trade.profit_reais)
    return view


def keyset_of(trade: Trade) -> Keyset:
    return trade.decidedAt, trade.id


def newest_page(db: Any, query: dict[str, Any], after: Keyset | None, size: int) -> list[Trade]:
    """Up to `size` trades matching `query`, newest first, after the keyset `after`."""
    collection = db[names.TRADES]
    rows = names.indexed_find(collection, query, "decidedAt", -1, after, size)
    if rows is None:  # a real MongoDB, which has the (decidedAt, _id) index
        bound: dict[str, Any] = {}
        if after is not None:
            key, last = after
            bound = {"$or": [{"decidedAt": {"$lt": key}}, {"decidedAt": key, "_id": {"$lt": last}}]}
        found = collection.find({"$and": [query, bound]} if bound else query)
        rows = list(found.sort([("decidedAt", -1), ("_id", -1)]).limit(size))
    return [Trade.from_doc(doc) for doc in rows]


def stream_newest(db: Any, query: dict[str, Any], batch: int) -> Iterator[Trade]:
    """Every trade matching `query`, newest first, read `batch` at a time (memory stays flat)."""
    collection = db[names.TRADES]
    if names.indexed_find(collection, {}, "decidedAt", -1, None, 1, {"_id": 1}) is None:
        found = collection.find(query).sort([("decidedAt", -1), ("_id", -1)]).batch_size(batch)
        yield from map(Trade.from_doc, found)
        return
    # The embedded store answers keyset batches from its sorted index (each holds its lock briefly).
    after: Keyset | None = None
    while True:
        page = newest_page(db, query, after, batch)
        yield from page
        if len(page) < batch:
            return
        after = keyset_of(page[-1])


def decided_since(db: Any, start: float) -> list[Trade]:
    """The trades decided at or after `start` (the overview's day)."""
    collection, today = db[names.TRADES], {"decidedAt": {"$gte": start}}
    rows = names.indexed_find(collection, today, "decidedAt", -1, None, None)
    return [Trade.from_doc(doc) for doc in (collection.find(today) if rows is None else rows)]


def recent_unresolved(db: Any, user: str, limit: int) -> list[Trade]:
    """The user's newest trades whose money is not known yet (pending, open or unknown)."""
    return newest_page(db, {"user": user, "status": {"$in": list(UNRESOLVED)}}, None, limit)
