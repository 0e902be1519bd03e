"""Copy mode: followable traders, follow choices, the follower's view, and the manager's switch.

A trader opts in to be followed; a manager (admin) approves. A follower
chooses one approved trader and one stake setting: a multiplier of the
leader's stake or a fixed stake. The follower's bot then copies the
leader's entries while it runs in copy mode (operational_server/copy_mode.py).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from bson import ObjectId
from flask import Blueprint
from pydantic import Field, model_validator

from api import audit, auth
from api.context import ctx
from api.errors import APIError
from api.manager_roles import ADMIN, SUPPORT
from api.registry import MANAGER, USER, endpoint
from api.schemas import Body
from glimpse.store import accounts, copying, trades

bp = Blueprint("copy", __name__, url_prefix="/glimpse")

AccountId = Annotated[str, Field(min_length=24, max_length=24, pattern=r"^[0-9a-f]{24}$")]
COPIED_SHOWN = 100


class SetFollowableBody(Body):
    followable: bool


class FollowBody(Body):
    leader: AccountId
    multiplier: (
        Annotated[float, Field(ge=float(copying.MIN_MULTIPLIER), le=float(copying.MAX_MULTIPLIER))] | None
    ) = None
    fixedStake: (
        Annotated[
            float,
            Field(ge=copying.MIN_FIXED_CENTS / 100, le=copying.MAX_FIXED_CENTS / 100, description="reais"),
        ]
        | None
    ) = None

    @model_validator(mode="after")
    def _one_setting(self) -> FollowBody:
        if (self.multiplier is None) == (self.fixedStake is None):
            raise ValueError("give exactly one of multiplier and fixedStake")
        return self


class ApproveFollowableBody(Body):
    user: AccountId
    approved: bool


def _name(user_id: str) -> str:
    account = accounts.find_by_id(ctx().db, user_id)
    return account.name if account is not None else ""


def _public_follow(choice: copying.Follow) -> dict[str, Any]:
    return {
        "leader": choice.leader,
        "leaderName": _name(choice.leader),
        "stakeType": choice.stake_type,
        "multiplier": float(choice.multiplier) if choice.stake_type == copying.MULTIPLIER else None,
        "fixedStake": choice.fixed_cents / 100 if choice.stake_type == copying.FIXED else None,
        "since": choice.since,
    }


@endpoint(bp, "/setFollowable", access=USER, body=SetFollowableBody)
def set_followable(body: SetFollowableBody):
    """Opt in (or out) to be followed; a manager must approve before anyone can follow."""
    c = ctx()
    me = auth.principal().id_hex
    return copying.opt_in(c.db, me, _name(me), c.clock.now(), body.followable).to_doc()


@endpoint(bp, "/getFollowable", access=USER)
def get_followable():
    """The approved followable traders, with their number of followers."""
    db = ctx().db
    return [
        dict(f.to_doc(), followers=len(copying.followers_of(db, f.user))) for f in copying.list_followable(db)
    ]


@endpoint(bp, "/follow", access=USER, body=FollowBody)
def follow(body: FollowBody):
    """Copy an approved trader, with a stake multiplier or a fixed stake (reais); {res: 0} when they are not one."""
    c = ctx()
    me = auth.principal().id_hex
    if body.leader == me:
        raise APIError(400, "leader: you cannot copy yourself", "leader")
    if not copying.is_followable(c.db, body.leader):
        # As the original's routes answer a missing target: {res: 0}, not an HTTP error.
        return {"res": 0, "error": "leader: no such followable trader", "field": "leader"}
    if body.multiplier is not None:
        choice = copying.Follow(
            me, body.leader, copying.MULTIPLIER, multiplier=Decimal(str(body.multiplier)), since=c.clock.now()
        )
    else:
        stake = trades.to_cents(Decimal(str(body.fixedStake)))
        choice = copying.Follow(me, body.leader, copying.FIXED, fixed_cents=stake, since=c.clock.now())
    return {"res": 1, **_public_follow(copying.follow(c.db, choice))}


@endpoint(bp, "/unfollow", access=USER)
def unfollow():
    """Stop copying: {res: 1}, or {res: 0} when the caller copied nobody."""
    return {"res": 1 if copying.unfollow(ctx().db, auth.principal().id_hex) else 0}


@endpoint(bp, "/getCopying", access=USER)
def get_copying():
    """The follower's dashboard: whom they copy, and how the copied trades went (amounts in cents)."""
    db = ctx().db
    me = auth.principal().id_hex
    choice = copying.following(db, me)
    copied = [trades.Trade.from_doc(d) for d in copying.copied_trades(db, me)]
    closed = [
        t for t in copied if t.status == trades.CLOSED and t.result in (trades.WIN, trades.LOSS, trades.DOJI)
    ]
    summary = {
        "trades": len(copied),
        "cycles": len({t.copies for t in copied}),
        "wins": sum(t.result == trades.WIN for t in closed),
        "losses": sum(t.result == trades.LOSS for t in closed),
        "dojis": sum(t.result == trades.DOJI for t in closed),
        "open": sum(t.status != trades.CLOSED for t in copied),
        "net": sum(t.profit or 0 for t in closed),
    }
    rows = [
        {
            "id": {"$oid": str(t.id)},
            "copies": t.copies,
            "ativo": t.ativo,
            "operacao": t.operacao,
            "amount": t.amount,
            "galeLevel": t.galeLevel,
            "status": t.status,
            "result": t.result,
            "profit": t.profit,
            "decidedAt": t.decidedAt,
            "placedAt": t.placedAt,
        }
        for t in copied[:COPIED_SHOWN]
    ]
    mine = copying.find_followable(db, me)
    # The caller's own opt-in, so the app can say "waiting for approval" after a reload too.
    own = {"optedIn": bool(mine and mine.opted_in), "approved": bool(mine and mine.approved)}
    return {
        "following": _public_follow(choice) if choice else None,
        "summary": summary,
        "trades": rows,
        "me": own,
    }


@endpoint(bp, "/getFollowableRequests", access=MANAGER, role=SUPPORT)
def get_followable_requests():
    """Every trader who opted in to be followed, approved or not (the manager's list)."""
    return [f.to_doc() for f in copying.list_followable(ctx().db, include_pending=True)]


@endpoint(bp, "/approveFollowable", access=MANAGER, body=ApproveFollowableBody, role=ADMIN)
def approve_followable(body: ApproveFollowableBody):
    """The manager's switch: approve (or withdraw) a trader who opted in; {res: 0} when they did not."""
    c = ctx()
    if not ObjectId.is_valid(body.user):
        raise APIError(400, "user: not an account id", "user")
    before, after = copying.approve(c.db, body.user, body.approved, c.clock.now())
    if after is None:
        return {"res": 0}
    audit.record(
        body.user,
        "approveFollowable",
        {"approved": before.approved if before else None},
        {"approved": after.approved},
    )
    return {"res": 1, **after.to_doc()}
