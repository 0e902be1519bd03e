"""`Codes`: invite codes. A code is `valid` until a registration (or `useCode`)
consumes it, recording `usedBy` and `usedWhen`; a manager may revoke an unused
one (`revoked`), which makes it invalid without a user."""

from __future__ import annotations

from typing import Any

from glimpse.store import db as names


def used_filter(used: bool | None) -> dict[str, Any]:
    if used is None:
        return {}
    return {"usedBy": {"$nin": ["", None]}} if used else {"usedBy": {"$in": ["", None]}}


def revoke_unused(db: Any, code: str, now: float) -> dict[str, Any] | None:
    """Invalidate a code nobody used; the code as it was, or None when it is unknown, used or revoked.

    (The projection keeps `_id`: mongomock's find_one_and_update updates the document it found by `_id`.)"""
    before: dict[str, Any] | None = db[names.CODES].find_one_and_update(
        {"code": code, "valid": True, "usedBy": {"$in": ["", None]}},
        {"$set": {"valid": False, "revoked": True, "revokedAt": now}},
        projection={"code": 1, "valid": 1, "usedBy": 1, "premiumDays": 1},
    )
    return before
