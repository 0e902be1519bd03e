"""In-app alerts the services push to a user, filtered by the user's alert settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from glimpse.store import db as names
from glimpse.store.accounts import Account, alert
from glimpse.store.lifecycle import oid

# Alerts a user can switch off, and the setting that does it.
STARTED = ("Glimpse Iniciou.", "glimpseStart", "info")
STOPPED = ("Glimpse parou.", "glimpseStop", "info")
PAIR_CLOSED = ("Ativo fechado.", "activeClose", "danger")
STOP_LOSS = ("Stop Loss.", "stopLossReached", "danger")
STOP_WIN = ("Stop Win.", "stopWinReached", "info")

# An account, or (from callers not yet moved to the model) its stored document.
User = Account | Mapping[str, Any]


def wanted(user: User, setting: str | None) -> bool:
    """Whether the user's settings ask for this alert (alerts without a setting always go)."""
    account = user if isinstance(user, Account) else Account.from_doc(user)
    return account.wants_alert(setting)


def make(
    user: User, kind: tuple[str, str | None, str], description: str, now: float
) -> dict[str, Any] | None:
    """The alert document for `kind` = (title, setting, type), or None when the user switched it off."""
    title, setting, level = kind
    return dict(alert(title, description, now, level)) if wanted(user, setting) else None


def notice(title: str, description: str, now: float, level: str = "danger") -> dict[str, Any]:
    """An alert the user cannot switch off (errors, denials)."""
    return dict(alert(title, description, now, level))


def push(db: Any, user_id: str, alert_doc: Mapping[str, Any] | None) -> None:
    if alert_doc is not None:
        db[names.ACCOUNTS].update_one({"_id": oid(user_id)}, {"$push": {"alerts": dict(alert_doc)}})
