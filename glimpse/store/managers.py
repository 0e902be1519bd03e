"""`ManagerAccounts`: the people who run Glimpse, with a role.

On disk: `user` (the login email), `name`, `password` (a hash), `rol`
("admin" | "support"; absent means admin, as for the accounts made before
roles existed), `disabled` and `createdAt`.
"""

from __future__ import annotations

from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from glimpse.store import db as names

ADMIN = "admin"
SUPPORT = "support"
ROLES = (ADMIN, SUPPORT)
PUBLIC_FIELDS = {"user": 1, "name": 1, "rol": 1, "disabled": 1, "createdAt": 1}


def role_of(doc: dict[str, Any]) -> str:
    rol = doc.get("rol")
    return rol if isinstance(rol, str) and rol in ROLES else ADMIN


def public(doc: dict[str, Any]) -> dict[str, Any]:
    """A manager as other managers see it: no password, the role filled in."""
    view = {k: v for k, v in doc.items() if k != "password"}
    view["rol"] = role_of(doc)
    view["disabled"] = doc.get("disabled") is True
    return view


def listing(db: Any) -> list[dict[str, Any]]:
    return [public(doc) for doc in db[names.MANAGER_ACCOUNTS].find({}, PUBLIC_FIELDS).sort("user", 1)]


def create(db: Any, user: str, name: str, password_hash: str, rol: str, now: float) -> ObjectId | None:
    """A new manager; None when the login is taken."""
    if rol not in ROLES:
        raise ValueError(f"unknown role {rol!r}")
    doc = {"user": user, "name": name, "password": password_hash, "rol": rol, "createdAt": now}
    try:
        inserted: ObjectId = db[names.MANAGER_ACCOUNTS].insert_one(doc).inserted_id
    except DuplicateKeyError:
        return None
    return inserted


def active_admins(db: Any) -> int:
    query = {"disabled": {"$ne": True}, "$or": [{"rol": ADMIN}, {"rol": {"$exists": False}}]}
    return int(db[names.MANAGER_ACCOUNTS].count_documents(query))


def change(
    db: Any, manager_id: ObjectId, query: dict[str, Any], changes: dict[str, Any]
) -> dict[str, Any] | None:
    """Set `changes` on one manager when it still matches `query`; the document before, or None."""
    before: dict[str, Any] | None = db[names.MANAGER_ACCOUNTS].find_one_and_update(
        {"_id": manager_id, **query},
        {"$set": changes},
        projection=PUBLIC_FIELDS,
        return_document=ReturnDocument.BEFORE,
    )
    return before


def exists(db: Any, manager_id: str) -> bool:
    """Whether `manager_id` (hex) names a manager account."""
    if not ObjectId.is_valid(manager_id):
        return False
    return bool(db[names.MANAGER_ACCOUNTS].count_documents({"_id": ObjectId(manager_id)}, limit=1))
