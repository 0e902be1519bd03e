"""Market data: open pairs and payouts, schedules, realtime candles, broker credentials."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, request
from flask_compress.flask_compress import _choose_algorithm, _compress_data, _format
from pydantic import TypeAdapter, ValidationError

from api import auth, throttle
from api.conditional import conditional_json
from api.context import ctx
from api.errors import APIError, bad_request
from api.jsonio import dumps, encoded_response
from api.registry import PUBLIC, SERVICE, USER, USER_OR_MANAGER, endpoint
from api.schemas import AtivosBody, AtivoUpdate, CandlesUpdate, CheckIqBody, Empty
from glimpse.market import AuthError, BrokerError, BrokerTimeout
from glimpse.runtime import security
from glimpse.store import accounts, servers, versions
from glimpse.store import db as names
from glimpse.store.db import indexed_find

log = logging.getLogger(__name__)
bp = Blueprint("market", __name__, url_prefix="/glimpse")


def by_pair(collection, query: dict, projection: dict | None = None) -> list[dict]:
    """The documents matching `query` in pair order. On the embedded store they come from its sorted
    index of `ativo` (mongomock would filter, sort and deep-copy the collection on every poll)."""
    found = indexed_find(collection, query, "ativo", 1, None, None, projection)
    if found is None:  # a real MongoDB (the ativo_unique index), or a document the index refuses
        found = list(collection.find(query, projection).sort("ativo", 1))
    return found


class CachedReply:
    """An encoded reply for one state of its data (`validator`): the JSON, and each compressed form
    once it was asked for (flask-compress would compress the same bytes on every poll)."""

    def __init__(self, validator: object, text: bytes):
        self.validator = validator
        self.forms: dict[str, bytes] = {"identity": text}

    def response(self) -> Response:
        app = current_app
        text = self.forms["identity"]
        chosen = None
        # As flask-compress would answer (api/webapp.py configures it for every response).
        if app.config.get("COMPRESS_REGISTER") and len(text) >= app.config.get("COMPRESS_MIN_SIZE", 500):
            algorithms = _format(app.config.get("COMPRESS_ALGORITHM") or [])
            chosen = _choose_algorithm(algorithms, request.headers.get("Accept-Encoding", ""))
        response = encoded_response(text)
        if chosen is not None:
            body = self.forms.get(chosen)
            if body is None:  # two threads may both compress it once: the same bytes
                body = self.forms[chosen] = _compress_data(app, text, chosen)
            response.set_data(body)
            response.headers["Content-Encoding"] = chosen  # flask-compress leaves it as it is
        response.headers["Vary"] = "Accept-Encoding"
        return response


def cached_reply(name: str, validator: object, build: Callable[[], Any]) -> Response:
    """The reply kept under `name` while `validator` (read before the data) still matches, else
    `build()` encoded and kept. Read after the validator, the data is never older than it: a write
    in between keeps a reply newer than its validator, which the next call no longer matches."""
    key = "glimpse.reply." + name
    cached = current_app.extensions.get(key)
    if validator is not None and cached is not None and cached.validator == validator:
        return cached.response()
    reply = CachedReply(validator, dumps(build()).encode())
    if validator is not None:
        current_app.extensions[key] = reply
    return reply.response()


def forget_reply(name: str) -> None:
    current_app.extensions.pop("glimpse.reply." + name, None)


def open_actives() -> list[dict]:
    return by_pair(ctx().db[names.OPENED_ACTIVES], {"open": "True"})


@endpoint(bp, "/ativos", access=PUBLIC, body=AtivosBody)
def ativos(body: AtivosBody):
    """The pairs with their open flag ("True"/"False") and payout; `compact` lists only the open ones."""
    collection = ctx().db[names.OPENED_ACTIVES]
    # Polled once a second by every app: kept encoded until the next write to the pairs (the
    # embedded store's change token; a real MongoDB has none, and reads them every time).
    query = {"open": "True"} if body.type == "compact" else {}
    return cached_reply("ativos." + body.type, versions.token(collection), lambda: by_pair(collection, query))


@endpoint(bp, "/getActivesSchedule", access=USER_OR_MANAGER, body=Empty)
def get_actives_schedule(body: Empty):
    """The weekly trading windows of every pair (HHMM, in GLIMPSE_TZ)."""
    return list(ctx().db[names.ACTIVES_SCHEDULE].find({}).sort("ativo", 1))


def _list_body(data, item_type, name: str) -> list:
    # The original lister posted json.dumps(list), i.e. a JSON string holding the list.
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            raise bad_request("the body must be a JSON list (or a JSON string holding one)", "body") from None
    if not isinstance(data, list):
        raise bad_request("the body must be a JSON list (or a JSON string holding one)", "body")
    try:
        return TypeAdapter(list[item_type]).validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "body"
        raise bad_request(f"{where}: {first.get('msg', 'invalid')}", where) from None


_LIST_SCHEMA = {"oneOf": [{"type": "array", "items": {"type": "object"}}, {"type": "string"}]}


@endpoint(bp, "/updateAtivos", access=SERVICE, body_schema=_LIST_SCHEMA)
def update_ativos(data):
    """Service route: upsert the open flag and payout of pairs. Body: [{ativo, open, payout}]."""
    items: list[AtivoUpdate] = _list_body(data, AtivoUpdate, "body")
    coll = ctx().db[names.OPENED_ACTIVES]
    for item in items:
        is_open = item.open if isinstance(item.open, bool) else item.open == "True"
        payout = str(int(item.payout)) if is_open else 0
        coll.update_one(
            {"ativo": item.ativo},
            {"$set": {"open": "True" if is_open else "False", "payout": payout}},
            upsert=True,
        )
    return {"msg": f"Actives updated: {len(items)}"}


@endpoint(bp, "/updateCandlesRealtime", access=SERVICE, body_schema=_LIST_SCHEMA)
def update_candles_realtime(data):
    """Service route: replace the realtime candles of pairs. Body: [{ativo, candles: [{o, c, h, l, from}]}]."""
    items: list[CandlesUpdate] = _list_body(data, CandlesUpdate, "body")
    now = ctx().clock.now()
    coll = ctx().db[names.REALTIME_CANDLES]
    for item in items:
        candles = [c.model_dump(by_alias=True, exclude_none=True) for c in item.candles]
        coll.update_one(
            {"ativo": item.ativo}, {"$set": {"candles": candles, "lastUpdated": now}}, upsert=True
        )
    # A write at the same clock reading (a frozen test clock) keeps lastUpdated.
    forget_reply("realtime_candles")
    return {"res": 1, "updated": len(items)}


def _candles_validator(collection) -> object:
    # The embedded store's change token; on a real MongoDB each pair's lastUpdated, which moves
    # with every write of its candles (reading only these two small fields).
    changes = versions.token(collection)
    if changes is not None:
        return changes
    found = by_pair(collection, {}, {"ativo": 1, "lastUpdated": 1})
    return tuple((str(d["_id"]), d.get("ativo"), d.get("lastUpdated")) for d in found)


@endpoint(bp, "/getCandlesRealtime", access=PUBLIC, method="GET")
def get_candles_realtime():
    """The last 15 one-minute candles of each open pair; `lastUpdate` in milliseconds."""
    collection = ctx().db[names.REALTIME_CANDLES]

    def build() -> list[dict]:
        return [
            {
                "_id": doc["_id"],
                "ativo": doc["ativo"],
                "candles": doc.get("candles", []),
                "lastUpdate": int(float(doc.get("lastUpdated", 0)) * 1000),
            }
            for doc in by_pair(collection, {})
        ]

    return cached_reply("realtime_candles", _candles_validator(collection), build)


@endpoint(bp, "/botUpdates", access=PUBLIC, method="GET")
def bot_updates():
    """Each operational server with the time of its last heartbeat (milliseconds)."""
    return [
        {"botName": server.name, "lastUpdate": int(server.uptime * 1000)}
        for server in servers.all_servers(ctx().db)
    ]


@endpoint(
    bp,
    "/checkIq",
    access=USER,
    body=CheckIqBody,
    responses={
        200: '{res: 1, account, treinamento, real}; or {res: "<reason>"} when the broker refused the '
        "credentials (as the original answered: its broker page waits forever on a 4xx)",
        400: "a malformed body",
        503: "the broker cannot be reached",
        504: "the broker did not answer in time",
        429: "too many checks by this user or of this broker email",
    },
)
@throttle.check_in_flight
@throttle.per_caller(throttle.CHECK_IQ_PER_USER, "too many broker checks: try again later")
@throttle.per_body_field(
    throttle.CHECK_IQ_PER_BROKER_EMAIL, "email", "too many checks of this broker account: try again later"
)
def check_iq(body: CheckIqBody):
    """Validate IQ Option credentials with the broker, store them (password encrypted) and return the balances."""
    c = ctx()
    if c.check_broker_credentials is None:
        raise APIError(503, "the broker layer is not available yet: credentials cannot be checked")
    try:
        balances = c.check_broker_credentials(body.email, body.password)
    except AuthError as exc:
        # The original's answer (200, res = the broker's reason): its app shows its error toast for any
        # res other than 1, and never leaves its loading state on a 4xx. Nothing is stored.
        refused = str(exc) or "invalid credentials"
        return {"res": refused, "error": "IQ Option refused these credentials", "field": "password"}
    except BrokerTimeout:
        raise APIError(504, "the broker did not answer in time") from None
    except BrokerError as exc:
        log.warning("checkIq: broker unavailable: %s", exc)
        raise APIError(503, "the broker cannot be reached right now") from None
    p = auth.principal()
    if p.id is not None:
        accounts.set_broker_credentials(
            c.db,
            p.id,
            body.email,
            security.encrypt_secret(c.config.secret_key.get_secret_value(), body.password),
            balances["treinamento"],
            balances["real"],
        )
    return {
        "res": 1,
        "account": balances["account"],
        "treinamento": balances["treinamento"],
        "real": balances["real"],
    }


@endpoint(bp, "/status", access=USER, body=Empty)
def status(body: Empty):
    """Everything the dashboard shows, in one call: the account, the open pairs, the maintenance flag
    and, while it is on, the manager's message (setMaintenance; "" when none)."""
    maintenance = ctx().db[names.AUXILIAR].find_one({"name": "Maintenance"}, {"value": 1, "message": 1}) or {}
    on = maintenance.get("value") is True
    message = maintenance.get("message")
    answer = {
        "user": auth.user().public(),
        "maintenance": on,
        "maintenanceMessage": message if on and isinstance(message, str) else "",
        "ativos": [{"ativo": a["ativo"], "payout": a.get("payout", 0)} for a in open_actives()],
        "serverTime": ctx().clock.now(),
        "tz": ctx().config.tz,
    }
    # A 304 without a body when nothing but the clock changed (the app polls once a second).
    return conditional_json(answer)
