"""ManagerAudit: every manager write leaves a record of who changed what."""

from __future__ import annotations

from typing import Any

from api import auth
from api.context import ctx
from glimpse.store import db as names


def record(target: str, did_what: str, before: Any = None, after: Any = None) -> None:
    p = auth.principal()
    ctx().db[names.MANAGER_AUDIT].insert_one(
        {
            "who": p.doc.get("user") or p.doc.get("email", ""),
            "target": target,
            "didWhat": did_what,
            "from": before,
            "to": after,
            "when": ctx().clock.now(),
        }
    )
