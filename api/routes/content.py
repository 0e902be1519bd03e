"""Shared content: terms of use, the rank with pseudonyms, questions to the team."""

from __future__ import annotations

import hashlib
import hmac

from flask import Blueprint

from api import auth
from api.context import ctx
from api.registry import PUBLIC, USER, endpoint
from api.schemas import Empty, InsertQuestionBody
from glimpse.store import db as names
from glimpse.store import rank as rank_store
from glimpse.store.accounts import reais

bp = Blueprint("content", __name__, url_prefix="/glimpse")

RANK_SIZE = 100


@endpoint(bp, "/getTerms", access=PUBLIC, body=Empty)
def get_terms(body: Empty):
    """The terms of use: [{name: "Terms", value: <HTML>}]."""
    return list(ctx().db[names.AUXILIAR].find({"name": "Terms"}))


@endpoint(bp, "/getRandomNames", access=USER, body=Empty)
def get_random_names(body: Empty):
    """The pools the rank's pseudonyms are drawn from: [{value: {name: [], sourname: []}}]."""
    return list(ctx().db[names.AUXILIAR].find({"name": "randomNames"}))


def pseudonym(user_id: str, pools: dict) -> str:
    """A stable pseudonym for a user, drawn from the pools with a keyed hash, so it cannot be reversed."""
    digest = hmac.new(
        ctx().config.secret_key.get_secret_value().encode(), ("rank:" + user_id).encode(), hashlib.sha256
    ).digest()
    first, last = pools.get("name") or [], pools.get("sourname") or []
    if not first or not last:
        return "Trader " + digest[:3].hex().upper()
    return f"{first[int.from_bytes(digest[:4], 'big') % len(first)]} {last[int.from_bytes(digest[4:8], 'big') % len(last)]}"


@endpoint(bp, "/getRank", access=USER, body=Empty)
def get_rank(body: Empty):
    """The period's best traders by net result (profit − loss); everyone but the caller appears under a pseudonym."""
    me = auth.principal().id_hex
    pools_doc = ctx().db[names.AUXILIAR].find_one({"name": "randomNames"}) or {}
    pools = pools_doc.get("value") or {}
    # From a summary kept in net order (glimpse.store.rank), not a sort of every account per call.
    best = rank_store.best(ctx().db, RANK_SIZE)
    rank = []
    for account in best:
        mine = str(account.id) == me
        rank.append(
            {
                "name": account.name if mine else pseudonym(str(account.id), pools),
                "profit": reais(account.period_profit),
                "loss": reais(account.period_loss),
                "me": mine,
            }
        )
    return rank


@endpoint(bp, "/insertQuestion", access=USER, body=InsertQuestionBody)
def insert_question(body: InsertQuestionBody):
    """Send a question to the team."""
    ctx().db[names.QUESTIONS].insert_one(
        {"who": auth.user().email, "question": body.question, "when": ctx().clock.now()}
    )
    return {"res": 1}
