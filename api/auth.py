"""Who is calling: tokens, sessions, service access, the client's address.

A token is accepted from `Authorization: Bearer <token>`, or from the
`userKey` body field that the original app already sends. It is signed with
GLIMPSE_SECRET_KEY, expires, and is valid only while its session document
exists, so logout and a password change revoke it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId
from flask import g, request

from api.context import ctx
from api.errors import forbidden, unauthorized
from glimpse.runtime import security
from glimpse.store import db as names
from glimpse.store.accounts import Account


@dataclass
class Principal:
    kind: str  # "user" | "manager" | "service"
    id: ObjectId | None
    doc: dict[str, Any]  # the stored document (ManagerAccounts for managers); users: read `account`
    session: str | None
    account: Account | None = None  # the typed account, for users

    @property
    def id_hex(self) -> str:
        return str(self.id) if self.id is not None else ""


def _presented_token(data: dict) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header[len("Bearer ") :].strip() or None
    key = data.get("userKey")
    return key if isinstance(key, str) and key else None


def authenticate(access: tuple[str, ...], data: dict) -> Principal:
    """Sets `g.principal` for a caller allowed by `access`, or raises 401/403."""
    token = _presented_token(data)
    if token is None:
        raise unauthorized("authentication required: send Authorization: Bearer <token>")
    c = ctx()
    if "service" in access and security.constant_time_equal(token, c.config.service_token.get_secret_value()):
        g.principal = Principal("service", None, {}, None)
        return g.principal
    try:
        claims = security.read_token(c.config.secret_key.get_secret_value(), token, c.clock.now())
    except security.TokenError as exc:
        raise unauthorized(str(exc)) from None
    session = c.db[names.SESSIONS].find_one({"_id": claims.session})
    if session is None or session.get("user") != claims.subject or session.get("kind") != claims.kind:
        raise unauthorized("session ended: log in again")
    collection = names.ACCOUNTS if claims.kind == "user" else names.MANAGER_ACCOUNTS
    try:
        oid = ObjectId(claims.subject)
    except InvalidId:
        raise unauthorized("invalid token") from None
    doc = c.db[collection].find_one({"_id": oid})
    if doc is None:
        raise unauthorized("account no longer exists")
    if claims.kind not in access:
        raise forbidden(f"this route needs a {' or '.join(access)} token")
    account = Account.from_doc(doc) if claims.kind == "user" else None
    g.principal = Principal(claims.kind, oid, doc, claims.session, account)
    return g.principal


def user() -> Account:
    """The calling user's account (routes with access=USER)."""
    account = g.principal.account
    if account is None:
        raise forbidden("this route needs a user token")
    return account


def principal() -> Principal:
    return g.principal


def open_session(kind: str, subject: ObjectId) -> str:
    """Records a session and returns its signed token."""
    c = ctx()
    now = c.clock.now()
    sid = security.new_session_id()
    expires = now + c.config.token_ttl_seconds
    sessions = c.db[names.SESSIONS]
    sessions.delete_many({"expiresAt": {"$lte": now}})
    sessions.insert_one(
        {"_id": sid, "user": str(subject), "kind": kind, "createdAt": now, "expiresAt": expires}
    )
    return security.sign_token(
        c.config.secret_key.get_secret_value(), security.TokenClaims(str(subject), kind, sid, expires)
    )


def close_session(session_id: str) -> None:
    ctx().db[names.SESSIONS].delete_one({"_id": session_id})


def close_all_sessions(kind: str, subject: ObjectId) -> None:
    ctx().db[names.SESSIONS].delete_many({"user": str(subject), "kind": kind})


def client_address(peer: str, forwarded_for: str, trusted: Sequence[IPv4Network | IPv6Network]) -> str:
    """The client's address: the peer, unless the peer is a trusted proxy.

    A trusted proxy appends the address it received the request from to
    X-Forwarded-For, so the chain is read from the right, skipping trusted
    proxies; the first address that is not one is the client. Anything to its
    left was written by the client itself and is ignored.
    """

    def is_trusted(value: str) -> bool:
        try:
            ip = ip_address(value)
        except ValueError:
            return False
        return any(ip in network for network in trusted)

    if not trusted or not is_trusted(peer):
        return peer
    chain = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(chain):
        if not is_trusted(hop):
            return hop
    return chain[0] if chain else peer
