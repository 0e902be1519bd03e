"""`Servers`: one document per operational server, its status, its user and its heartbeat.

A slotted dataclass, not a pydantic model: the assigner reads every server
each tick and the watch thread every beat, and the store writes every field
itself, so a field-by-field copy is all a read needs.

On disk (the original's field names): `name`, `status` ("waiting" |
"assigned" | "operating"), `target` (the user's account id, hex, or ""),
`uptime` (the heartbeat, epoch seconds), `preferential`; and this project's
`incarnation` (the id of the process that runs the server), `assignment`
(the id of the current assignment: a new one each time the assigner gives
the server a user, "" when it holds none), `assignedAt`, `operatingSince`
and `releasedAt`.

The life-cycle transitions (claim, take, free, release) live in
glimpse/store/lifecycle.py, next to the user's half of the same protocol.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument

from glimpse.store import db as names

WAITING, ASSIGNED, OPERATING = "waiting", "assigned", "operating"
# Statuses in which a server holds a user.
HOLDING = (ASSIGNED, OPERATING)


def _float_or_none(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


@dataclass(slots=True)
class ServerDoc:
    name: str
    status: str = WAITING
    target: str = ""  # the user it holds (account id, hex), or ""
    uptime: float = 0.0  # last heartbeat
    preferential: bool = False
    drain: bool | None = None  # a manager asked it to take no new user
    incarnation: str | None = None  # the process that runs it
    assignment: str | None = None  # the current assignment's id
    assigned_at: float | None = None  # assignedAt
    operating_since: float | None = None  # operatingSince
    released_at: float | None = None  # releasedAt
    id: ObjectId | None = None  # _id

    @property
    def holding(self) -> bool:
        return self.status in HOLDING and bool(self.target)

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> ServerDoc:
        incarnation, assignment = doc.get("incarnation"), doc.get("assignment")
        return cls(
            name=str(doc.get("name", "")),
            status=str(doc.get("status") or WAITING),
            target=str(doc.get("target") or ""),
            uptime=_float_or_none(doc.get("uptime")) or 0.0,
            preferential=bool(doc.get("preferential", False)),
            drain=None if doc.get("drain") is None else bool(doc.get("drain")),
            incarnation=None if incarnation is None else str(incarnation),
            assignment=None if assignment is None else str(assignment),
            assigned_at=_float_or_none(doc.get("assignedAt")),
            operating_since=_float_or_none(doc.get("operatingSince")),
            released_at=_float_or_none(doc.get("releasedAt")),
            id=doc.get("_id"),
        )

    def public(self) -> dict[str, Any]:
        """The document as the manager app reads it (fields never written are left out)."""
        doc: dict[str, Any] = {} if self.id is None else {"_id": self.id}
        doc.update(
            name=self.name,
            status=self.status,
            target=self.target,
            uptime=self.uptime,
            preferential=self.preferential,
        )
        for key, value in (
            ("drain", self.drain),
            ("incarnation", self.incarnation),
            ("assignment", self.assignment),
            ("assignedAt", self.assigned_at),
            ("operatingSince", self.operating_since),
            ("releasedAt", self.released_at),
        ):
            if value is not None:
                doc[key] = value
        return doc


def all_servers(db: Any) -> list[ServerDoc]:
    """Every server, by name."""
    return [ServerDoc.from_doc(doc) for doc in db[names.SERVERS].find({}).sort("name", 1)]


def named_like(db: Any, prefix: str) -> list[ServerDoc]:
    """The servers whose name starts with `prefix` (a container's own servers)."""
    cursor = db[names.SERVERS].find({"name": {"$regex": "^" + re.escape(prefix)}})
    return [ServerDoc.from_doc(doc) for doc in cursor]


def find(db: Any, name: str) -> ServerDoc | None:
    doc = db[names.SERVERS].find_one({"name": name})
    return ServerDoc.from_doc(doc) if doc is not None else None


def set_by_manager(db: Any, name: str, status: str, target: str, assignment: str) -> ServerDoc | None:
    """A manager sets a server's status and user; the server as it was, or None when there is none.

    The change is a new assignment (or none), so the session the server ran
    for its previous assignment can no longer write as if it still held it.
    """
    before = db[names.SERVERS].find_one_and_update(
        {"name": name},
        {"$set": {"status": status, "target": target, "assignment": assignment}},
        return_document=ReturnDocument.BEFORE,
    )
    return ServerDoc.from_doc(before) if before is not None else None


# The flags a manager switches on a server (see api/routes/admin.py).
MANAGER_FLAGS = ("preferential", "drain")


def set_flag(db: Any, name: str, flag: str, on: bool) -> ServerDoc | None:
    """Switch a manager flag; the server as it was, or None when it is unknown or already so."""
    if flag not in MANAGER_FLAGS:
        raise ValueError(f"not a manager flag: {flag}")
    before = db[names.SERVERS].find_one_and_update(
        {"name": name, flag: {"$ne": on}}, {"$set": {flag: on}}, return_document=ReturnDocument.BEFORE
    )
    return ServerDoc.from_doc(before) if before is not None else None


def serving(db: Any, user_id: str) -> ServerDoc | None:
    """The server whose target is the user, or None."""
    doc = db[names.SERVERS].find_one({"target": user_id})
    return ServerDoc.from_doc(doc) if doc is not None else None
