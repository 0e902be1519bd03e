"""Copy mode's documents: followable traders and follow choices; the copies are in the ledger.

- CopyTraders: one document per trader who opted in to be followed
  (`_id` the trader's account id); `approved` is the manager's switch.
  Only an opted-in and approved trader can be followed.
- CopyFollows: one document per follower (`_id` the follower's account
  id): whom they copy and with which stake, a multiplier of the leader's
  stake or a fixed stake in cents.

A copy has no record of its own: it is the follower's trade in Trades, whose
`copies` names the leader trade and whose id derives from the copy's client
key (trades.intent_id), so the ledger holds each copy at most once.

The leader's level-0 trade in Trades is the signal itself; nothing is
written for the leader.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from glimpse.rules.money import cents
from glimpse.store import db as names
from glimpse.store import trades

COPY_TRADERS = "CopyTraders"
COPY_FOLLOWS = "CopyFollows"

# A follower's stake setting.
MULTIPLIER, FIXED = "multiplier", "fixed"
# Bounds of the stake setting (a multiplier of the leader's stake; a fixed stake in cents).
MIN_MULTIPLIER, MAX_MULTIPLIER = Decimal("0.01"), Decimal(100)
MIN_FIXED_CENTS, MAX_FIXED_CENTS = 100, 100_000_000


def copy_key(follower: str, leader_trade: str) -> str:
    """The client key of a follower's copy of a leader trade: the same on every retry and every server."""
    digest = hashlib.sha256(f"copy:{follower}:{leader_trade}".encode()).hexdigest()
    return f"copy-{digest[:40]}"


@dataclass(frozen=True)
class Followable:
    user: str
    opted_in: bool
    approved: bool
    name: str = ""
    since: float = 0.0

    @property
    def followable(self) -> bool:
        return self.opted_in and self.approved

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Followable:
        return cls(
            user=str(doc["_id"]),
            opted_in=bool(doc.get("optedIn", False)),
            approved=bool(doc.get("approved", False)),
            name=str(doc.get("name") or ""),
            since=float(doc.get("since") or 0.0),
        )

    def to_doc(self) -> dict[str, Any]:
        return {
            "user": self.user,
            "optedIn": self.opted_in,
            "approved": self.approved,
            "followable": self.followable,
            "name": self.name,
            "since": self.since,
        }


@dataclass(frozen=True)
class Follow:
    follower: str
    leader: str
    stake_type: str  # multiplier | fixed
    multiplier: Decimal = Decimal(1)
    fixed_cents: int = 0
    since: float = 0.0

    def stake_for(self, leader_cents: int) -> Decimal:
        """The follower's entry stake in reais, for a leader entry of `leader_cents`."""
        if self.stake_type == FIXED:
            return Decimal(self.fixed_cents) / 100
        return cents(Decimal(leader_cents) / 100 * self.multiplier)

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Follow:
        return cls(
            follower=str(doc["_id"]),
            leader=str(doc["leader"]),
            stake_type=str(doc.get("stakeType") or MULTIPLIER),
            multiplier=Decimal(str(doc.get("multiplier") or "1")),
            fixed_cents=int(doc.get("fixedStake") or 0),
            since=float(doc.get("since") or 0.0),
        )

    def to_doc(self) -> dict[str, Any]:
        return {
            "leader": self.leader,
            "stakeType": self.stake_type,
            # A multiplier is a ratio, not money: kept as its exact decimal text.
            "multiplier": str(self.multiplier),
            "fixedStake": self.fixed_cents,
            "since": self.since,
        }


# --- followable traders -------------------------------------------------------------------------


def find_followable(db: Any, user: str) -> Followable | None:
    doc = db[COPY_TRADERS].find_one({"_id": user})
    return None if doc is None else Followable.from_doc(doc)


def opt_in(db: Any, user: str, name: str, now: float, opted_in: bool = True) -> Followable:
    """The trader's own choice; approval stays as the manager left it."""
    db[COPY_TRADERS].update_one(
        {"_id": user},
        {"$set": {"optedIn": opted_in, "name": name}, "$setOnInsert": {"approved": False, "since": now}},
        upsert=True,
    )
    found = find_followable(db, user)
    assert found is not None
    return found


def approve(db: Any, user: str, approved: bool, now: float) -> tuple[Followable | None, Followable | None]:
    """The manager's switch: (before, after); after is None when the trader never opted in."""
    before = find_followable(db, user)
    if before is None:
        return None, None
    db[COPY_TRADERS].update_one({"_id": user}, {"$set": {"approved": approved, "approvedAt": now}})
    return before, find_followable(db, user)


def list_followable(db: Any, *, include_pending: bool = False) -> list[Followable]:
    query: dict[str, Any] = {"optedIn": True}
    if not include_pending:
        query["approved"] = True
    return [Followable.from_doc(d) for d in db[COPY_TRADERS].find(query).sort("_id", 1)]


def is_followable(db: Any, user: str) -> bool:
    found = find_followable(db, user)
    return found is not None and found.followable


# --- follow choices -----------------------------------------------------------------------------


def follow(db: Any, follow_choice: Follow) -> Follow:
    db[COPY_FOLLOWS].replace_one({"_id": follow_choice.follower}, follow_choice.to_doc(), upsert=True)
    return follow_choice


def unfollow(db: Any, follower: str) -> bool:
    return bool(db[COPY_FOLLOWS].delete_one({"_id": follower}).deleted_count == 1)


def following(db: Any, follower: str) -> Follow | None:
    doc = db[COPY_FOLLOWS].find_one({"_id": follower})
    return None if doc is None else Follow.from_doc(doc)


def followers_of(db: Any, leader: str) -> list[Follow]:
    return [Follow.from_doc(d) for d in db[COPY_FOLLOWS].find({"leader": leader})]


# --- the fan-out --------------------------------------------------------------------------------


def leader_entries(db: Any, leader: str, since: float) -> list[dict[str, Any]]:
    """The leader's cycle entries (level 0) the broker took, not settled yet, decided at or after `since`.

    Only an entry the broker took is copied: one it refused, or one whose fate
    is unknown until it is reconciled, is not a trade of the leader (yet).
    """
    query = {
        "user": leader,
        "galeLevel": 0,
        "decidedAt": {"$gte": since},
        "status": {"$nin": ["closed"]},
        "brokerOrderId": {"$ne": None},
    }
    collection = db[names.TRADES]
    # Read every few milliseconds: the embedded store answers from its (user, decidedAt) index.
    rows = names.indexed_find(collection, query, "decidedAt", 1, None, None)
    return list(collection.find(query).sort("decidedAt", 1)) if rows is None else rows


def claim(db: Any, *, follower: str, leader_trade: str, decided_at: float) -> str | None:
    """The client key of the follower's copy of a leader trade, or None when the ledger holds it already.

    The claim on a copy is its write-ahead: the pending trade the cycle writes
    right before the buy, under this key and an id derived from it
    (trades.intent_id), which MongoDB and the embedded store keep unique. A
    session that dies before writing it leaves nothing behind, and the
    follower's next session judges the copy again (it is not lost to the
    crash); once written, the copy is that one trade whoever wrote it, placed
    or being reconciled like any other order: never a second order.
    """
    if copy_trade(db, follower, leader_trade, decided_at) is not None:
        return None
    return copy_key(follower, leader_trade)


def copy_trade(db: Any, follower: str, leader_trade: str, decided_at: float) -> dict[str, Any] | None:
    """The follower's ledger entry copying `leader_trade` (decided at `decided_at`), if it was written."""
    found: dict[str, Any] | None = db[names.TRADES].find_one(
        {"_id": trades.intent_id(copy_key(follower, leader_trade), decided_at)}
    )
    return found


def copied_trades(db: Any, follower: str, limit: int = 500) -> list[dict[str, Any]]:
    """The follower's trades that copy a leader trade, newest first."""
    found = db[names.TRADES].find({"user": follower, "copies": {"$ne": None}}).sort("decidedAt", -1)
    return list(found.limit(limit))
