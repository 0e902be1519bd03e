"""In-app alerts the services push to a user, filtered by the user's alert settings."""

from __future__ import annotations

from typing import Any

from glimpse.store import db as names
from glimpse.store.accounts import alert
from glimpse.store.lifecycle import oid

# Alerts a user can switch off, and the setting that does it.
STARTED = ("Glimpse Iniciou.", "glimpseStart", "info")
STOPPED = ("Glimpse parou.", "glimpseStop", "info")
PAIR_CLOSED = ("Ativo fechado.", "activeClose", "danger")
STOP_LOSS = ("Stop Loss.", "stopLossReached", "danger")
STOP_WIN = ("Stop Win.", "stopWinReached", "info")


def wanted(user: dict, setting: str | None) -> bool:
    """Whether the user's settings ask for this alert (alerts without a setting always go)."""
    if setting is None:
        return True
    prefs = (user.get("settings") or {}).get("alerts") or {}
    return bool(prefs.get("useAlerts", True)) and bool(prefs.get(setting, True))


def make(user: dict, kind: tuple[str, str | None, str], description: str, now: float) -> dict | None:
    """The alert document for `kind` = (title, setting, type), or None when the user switched it off."""
    title, setting, level = kind
    return alert(title, description, now, level) if wanted(user, setting) else None


def notice(title: str, description: str, now: float, level: str = "danger") -> dict:
    """An alert the user cannot switch off (errors, denials)."""
    return alert(title, description, now, level)


def push(db: Any, user_id: str, alert_doc: dict | None) -> None:
    if alert_doc is not None:
        db[names.ACCOUNTS].update_one({"_id": oid(user_id)}, {"$push": {"alerts": alert_doc}})
