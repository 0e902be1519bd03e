"""The shape of a user account (`Accounts`) and the fields that never leave the API."""

from __future__ import annotations

import copy
import re
from typing import Any

DEFAULT_STRATEGY = "Glimpse Baixo Risco"

MAX_EMAIL_LENGTH = 254
MIN_PASSWORD_LENGTH = 8
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+")


def normalize_email(text: str) -> str:
    """The stored form of an email address (trimmed, lower-case); ValueError when it is not one."""
    email = text.strip().lower()
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.fullmatch(email):
        raise ValueError("not a valid email address")
    return email


# Fields that hold secrets. They are never sent to a client.
SECRET_FIELDS = ("password", "iqPassword", "passwordReset", "passwordRecoverCode")

DEFAULT_MONEY_SETTINGS: dict[str, Any] = {
    "money": 10,
    "gale": True,
    "galeCount": 1,
    "galeType": "dobro",
    "sobra": 1,
    "stopLoss": False,
    "stopLossValue": 0,
    "stopWin": False,
    "stopWinValue": 0,
}

DEFAULT_SETTINGS: dict[str, Any] = {
    "alerts": {
        "useAlerts": True,
        "glimpseStart": True,
        "glimpseStop": True,
        "activeClose": True,
        "stopLossReached": True,
        "stopWinReached": True,
    },
    "glimpse": {"slides": True, "operationPriority": "gale"},
}

IDLE_OPERATING: dict[str, Any] = {"operating": False, "active": "", "money": 0, "operacao": "", "tries": []}


def alert(title: str, description: str, now: float, kind: str = "info") -> dict[str, Any]:
    """An in-app alert in the original shape (`time` is a string of epoch seconds)."""
    return {
        "title": title,
        "description": description,
        "read": False,
        "shown": False,
        "time": f"{now:.3f}",
        "type": kind,
    }


def new_account(
    name: str,
    email: str,
    password_hash: str,
    now: float,
    *,
    premium_days: int = 0,
    owned_strategies: list[str] | None = None,
) -> dict[str, Any]:
    """A new user document with the original's defaults (emails are stored lower-case)."""
    owned = list(owned_strategies) if owned_strategies is not None else [DEFAULT_STRATEGY]
    return {
        "name": name,
        "email": email.strip().lower(),
        "password": password_hash,
        "type": "user",
        "phone": "",
        "cpf": "",
        "image": "",
        "readTerms": False,
        "lastLogin": "",
        "firstAccess": 1,
        "createdAt": now,
        "glimpseStatus": "off",
        "operating": copy.deepcopy(IDLE_OPERATING),
        "iqEmail": "",
        "iqPassword": "",
        "iqConnected": False,
        "iqAccountType": "treinamento",
        "iqBalancePractice": 0,
        "iqBalanceReal": 0,
        "iqPeriodProfit": 0,
        "iqPeriodLoss": 0,
        "iqSessionProfit": 0,
        "premiumDays": premium_days,
        "preferedPayout": "> 75",
        "preferedActives": "todos",
        "mode": "strategy",
        "strategy": owned[0] if owned else "",
        "ownedStrategies": owned,
        "strategySettings": copy.deepcopy(DEFAULT_MONEY_SETTINGS),
        "signalSettings": copy.deepcopy(DEFAULT_MONEY_SETTINGS),
        "settings": copy.deepcopy(DEFAULT_SETTINGS),
        "alerts": [alert("Bem-vindo ao Glimpse!", "Configure sua corretora e escolha uma estratégia.", now)],
    }


def public_view(account: dict[str, Any]) -> dict[str, Any]:
    """The account as a client may see it: no secret, plus `iqConnected`."""
    view = {k: v for k, v in account.items() if k not in SECRET_FIELDS}
    view["iqConnected"] = bool(account.get("iqConnected")) and bool(account.get("iqPassword"))
    return view
