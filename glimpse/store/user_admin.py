"""What a manager does to a user's account, each as one conditional update.

A stop goes through the user's own life cycle: `glimpseStatus` becomes
"stopping" only from a running state, exactly as the app's Stop, and the
server that holds the user settles the order in flight before it sets "off".
So a manager's stop racing the user's own Stop, or a block, leaves one
"stopping" and nothing else.
"""

from __future__ import annotations

from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument

from glimpse.store import db as names
from glimpse.store.accounts import Account, alert

# The states the app's Stop leaves from (api/user_updates.STATUS_TRANSITIONS["stopping"]).
RUNNING = ("operating", "waiting", "assigning")
VIEW = {"name": 1, "email": 1, "glimpseStatus": 1, "premiumDays": 1, "blocked": 1}


def _account(doc: dict[str, Any] | None) -> Account | None:
    return None if doc is None else Account.from_doc(doc)


def stop(db: Any, user_id: ObjectId) -> Account | None:
    """running → stopping; the account before, or None when the bot was not running."""
    before: dict[str, Any] | None = db[names.ACCOUNTS].find_one_and_update(
        {"_id": user_id, "glimpseStatus": {"$in": list(RUNNING)}},
        {"$set": {"glimpseStatus": "stopping"}},
        projection=VIEW,
        return_document=ReturnDocument.BEFORE,
    )
    return _account(before)


def set_blocked(db: Any, user_id: ObjectId, blocked: bool, reason: str, now: float) -> Account | None:
    """Block or unblock; the account before, or None when it is unknown or already so."""
    changes: dict[str, Any] = {"blocked": blocked}
    if blocked:
        changes.update(blockedAt=now, blockedReason=reason)
    query: dict[str, Any] = {"_id": user_id, "blocked": {"$ne": True} if blocked else True}
    before: dict[str, Any] | None = db[names.ACCOUNTS].find_one_and_update(
        query, {"$set": changes}, projection=VIEW, return_document=ReturnDocument.BEFORE
    )
    return _account(before)


def add_premium_days(db: Any, user_id: ObjectId, days: int) -> Account | None:
    """Add (or, negative, remove) subscription days, never below zero; the account before, or None."""
    query: dict[str, Any] = {"_id": user_id}
    if days < 0:
        query["premiumDays"] = {"$gte": -days}
    before: dict[str, Any] | None = db[names.ACCOUNTS].find_one_and_update(
        query, {"$inc": {"premiumDays": days}}, projection=VIEW, return_document=ReturnDocument.BEFORE
    )
    return _account(before)


def send_alert(db: Any, user_id: ObjectId, title: str, description: str, now: float) -> dict[str, Any] | None:
    doc = alert(title, description, now, "manager")
    result = db[names.ACCOUNTS].update_one({"_id": user_id}, {"$push": {"alerts": doc}})
    return doc if result.matched_count else None
