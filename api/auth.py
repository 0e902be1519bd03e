"""Who is calling: tokens, sessions, service access, the client's address.

A token is accepted from `Authorization: Bearer <token>`, or from the
`userKey` body field that the original app already sends. It is signed with
GLIMPSE_SECRET_KEY, expires, and is valid only while its session document
exists, so logout and a password change revoke it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId
from flask import current_app, g, request

from api.context import ctx
from api.errors import forbidden, unauthorized
from glimpse.runtime import security
from glimpse.store import db as names
from glimpse.store.accounts import Account
from glimpse.store.db import find_by_ids


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


class KnownTokens:
    """Tokens this process has already read, so that a request does not verify the same signature
    again and, where the sessions live in this process, does not look the same session up again
    (together about half of what authenticating cost, bench/api.py's getUser).

    A signature, once verified, stays valid: only the expiry is checked again, against the clock,
    on every request. A session can end at any time, so a token is remembered as live only where
    every end of a session goes through this object: the embedded store, which lives in this
    process and whose sessions end only through `close_session` and `close_all_sessions` (and by
    expiring, which the token's own expiry covers: they are the same instant). With a real
    MongoDB, another worker may end a session, so every request asks the database, as before.
    The account is always read from the database: a blocked or deleted account, or a new balance,
    is seen at once.
    """

    # Past it the table starts again (a bound on memory, not a policy: a forgotten token is read again).
    MAX_ENTRIES = 20_000

    def __init__(self, sessions_here: bool) -> None:
        self.sessions_here = sessions_here
        self._claims: dict[str, security.TokenClaims] = {}
        self._live: dict[str, security.TokenClaims] = {}
        self._lock = threading.Lock()
        # Moves on every session end: a lookup that raced with one is not remembered as live.
        self._generation = 0

    def claims(self, secret_key: str, token: str, now: float) -> security.TokenClaims:
        """The token's claims, or TokenError (forged, malformed or expired)."""
        known = self._claims.get(token)
        if known is None:
            known = security.read_token(secret_key, token, now)
            with self._lock:
                if len(self._claims) >= self.MAX_ENTRIES:
                    self._claims = {}
                self._claims[token] = known
        elif known.expires <= now:
            raise security.TokenError("token expired")
        return known

    def is_live(self, token: str) -> bool:
        return token in self._live

    @property
    def generation(self) -> int:
        return self._generation

    def mark_live(self, token: str, claims: security.TokenClaims, generation: int) -> None:
        """`token`'s session was found by a lookup that started at `generation`."""
        if not self.sessions_here:
            return
        with self._lock:
            if generation != self._generation:
                return  # a session ended meanwhile, maybe this one: the next request looks again
            if len(self._live) >= self.MAX_ENTRIES:
                self._live = {}
            self._live[token] = claims

    def forget(self, ended: Callable[[security.TokenClaims], bool]) -> None:
        """Called after sessions were deleted: no token of theirs is live any more."""
        with self._lock:
            self._generation += 1
            self._live = {t: claims for t, claims in self._live.items() if not ended(claims)}


def known_tokens() -> KnownTokens:
    tokens: KnownTokens = current_app.extensions["glimpse_tokens"]
    return tokens


def authenticate(access: tuple[str, ...], data: dict) -> Principal:
    """Sets `g.principal` for a caller allowed by `access`, or raises 401/403."""
    token = _presented_token(data)
    if token is None:
        raise unauthorized("authentication required: send Authorization: Bearer <token>")
    c = ctx()
    if "service" in access and security.constant_time_equal(token, c.config.service_token.get_secret_value()):
        g.principal = Principal("service", None, {}, None)
        return g.principal
    known = known_tokens()
    try:
        claims = known.claims(c.config.secret_key.get_secret_value(), token, c.clock.now())
    except security.TokenError as exc:
        raise unauthorized(str(exc)) from None
    if not known.is_live(token):
        generation = known.generation
        session = c.collection(names.SESSIONS).find_one({"_id": claims.session})
        if session is None or session.get("user") != claims.subject or session.get("kind") != claims.kind:
            raise unauthorized("session ended: log in again")
        known.mark_live(token, claims, generation)
    collection = names.ACCOUNTS if claims.kind == "user" else names.MANAGER_ACCOUNTS
    try:
        oid = ObjectId(claims.subject)
    except InvalidId:
        raise unauthorized("invalid token") from None
    # By id (the embedded store looks it up and clones it instead of scanning and deep-copying).
    doc = next(iter(find_by_ids(c.collection(collection), [oid])), None)
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
    known_tokens().forget(lambda claims: claims.session == session_id)


def close_all_sessions(kind: str, subject: ObjectId) -> None:
    ctx().db[names.SESSIONS].delete_many({"user": str(subject), "kind": kind})
    owner = str(subject)
    known_tokens().forget(lambda claims: claims.subject == owner and claims.kind == kind)


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
