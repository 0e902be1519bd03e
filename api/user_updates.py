"""What `updateUser` may change, and how each field is checked.

The original wrote any field to the first account. Here each field has a
validator; fields the servers own are refused with 403, unknown ones with 400.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from api.errors import APIError, bad_request, forbidden
from glimpse.rules.pairs import PAIRS
from glimpse.store.accounts import PROFILE_FIELDS, Account

SERVER_MANAGED = frozenset(
    {
        "premiumDays",
        "iqPeriodProfit",
        "iqPeriodLoss",
        "iqSessionProfit",
        "operating",
        "ownedStrategies",
        "password",
        "type",
        "_id",
        "email",
        "iqEmail",
        "iqPassword",
        "iqConnected",
        "iqBalancePractice",
        "iqBalanceReal",
        "passwordReset",
        "passwordRecoverCode",
        "createdAt",
        "firstAccess",
    }
)

# glimpseStatus a user may set, and the states each may be set from.
STATUS_TRANSITIONS = {
    "waiting": ("off",),
    "stopping": ("operating", "waiting", "assigning"),
}
# What a Start may carry besides glimpseStatus: the original app's Start resets `operating`
# ({operating: false, active: "", money: 0, operacao: "", tries: []}), which Start does anyway.
START_RESETS = "operating"

PAYOUT_RE = re.compile(r"^([>=]) (\d{1,3})$")


def _cents_only(value: float) -> float:
    if abs(value * 100 - round(value * 100)) > 1e-6:
        raise ValueError("at most 2 decimal places")
    return value


Money = Annotated[float, Field(ge=0, le=1_000_000)]


class MoneySettings(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    money: Annotated[float, Field(ge=1, le=1_000_000)]
    gale: bool
    galeCount: Annotated[int, Field(ge=0, le=10)]
    galeType: Literal["dobro", "cobrir", "sobra"]
    sobra: Money
    stopLoss: bool
    stopLossValue: Money
    stopWin: bool
    stopWinValue: Money

    def checked(self, prefix: str) -> dict:
        for name in ("money", "sobra", "stopLossValue", "stopWinValue"):
            try:
                _cents_only(getattr(self, name))
            except ValueError as exc:
                raise bad_request(f"{prefix}.{name}: {exc}", f"{prefix}.{name}") from None
        return self.model_dump()


class AlertSettings(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    useAlerts: bool
    glimpseStart: bool
    glimpseStop: bool
    activeClose: bool
    stopLossReached: bool
    stopWinReached: bool


class GlimpseSettings(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    slides: bool
    operationPriority: Literal["gale", "stop"]


class Settings(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    alerts: AlertSettings
    glimpse: GlimpseSettings


class LastLogin(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    time: Annotated[str, Field(max_length=40)]
    ip: Annotated[str, Field(max_length=64)] = ""
    location: Annotated[str, Field(max_length=200)] = ""


class AlertFlags(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")
    time: Annotated[str, Field(min_length=1, max_length=40)]
    read: bool | None = None
    shown: bool | None = None


M = TypeVar("M", bound=BaseModel)


@dataclass
class UserUpdate:
    """A validated updateUser request, ready to apply."""

    set: dict[str, Any] = field(default_factory=dict)  # profile fields (accounts.PROFILE_FIELDS)
    status: str | None = None  # "waiting" (Start) or "stopping" (Stop)
    status_from: tuple[str, ...] = ()  # the states that transition may leave from
    alert_flags: list[AlertFlags] = field(default_factory=list)


def _model(model: type[M], value: Any, name: str) -> M:
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        path = f"{name}.{where}" if where else name
        raise bad_request(f"{path}: {first.get('msg', 'invalid')}", path) from None


def _name(value: Any, account: Account) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 80:
        raise bad_request("name must be a non-empty string of at most 80 characters", "name")
    return " ".join(value.split())


def _bool(name: str):
    def check(value: Any, account: Account) -> bool:
        if not isinstance(value, bool):
            raise bad_request(f"{name} must be true or false", name)
        return value

    return check


def _last_login(value: Any, account: Account) -> Any:
    if value == "":
        return ""
    return _model(LastLogin, value, "lastLogin").model_dump()


def _choice(name: str, choices: tuple[str, ...]):
    def check(value: Any, account: Account) -> str:
        if value not in choices:
            raise bad_request(f"{name} must be one of: {', '.join(choices)}", name)
        return value

    return check


def _payout(value: Any, account: Account) -> str:
    match = PAYOUT_RE.match(value) if isinstance(value, str) else None
    if not match or not 50 <= int(match.group(2)) <= 100:
        raise bad_request('preferedPayout must be "> N" or "= N" with N from 50 to 100', "preferedPayout")
    return f"{match.group(1)} {int(match.group(2))}"


def _actives(value: Any, account: Account) -> str:
    if value == "todos":
        return value
    if not isinstance(value, str) or not value:
        raise bad_request(
            'preferedActives must be "todos" or a comma-separated list of pairs', "preferedActives"
        )
    chosen: list[str] = []
    for item in value.split(","):
        item = item.strip()
        if item not in PAIRS:
            raise bad_request(f"preferedActives: unknown pair {item!r}", "preferedActives")
        if item not in chosen:
            chosen.append(item)
    return ",".join(chosen)


def _strategy(value: Any, account: Account) -> str:
    if value == "":
        return value
    if not isinstance(value, str) or value not in account.owned_strategies:
        raise bad_request("strategy must be one of your strategies (ownedStrategies)", "strategy")
    return value


def _money_settings(name: str):
    def check(value: Any, account: Account) -> dict:
        return _model(MoneySettings, value, name).checked(name)

    return check


def _settings(value: Any, account: Account) -> dict:
    return _model(Settings, value, "settings").model_dump()


VALIDATORS = {
    "name": _name,
    "readTerms": _bool("readTerms"),
    "lastLogin": _last_login,
    "mode": _choice("mode", ("strategy", "signals", "copy")),
    "preferedPayout": _payout,
    "preferedActives": _actives,
    "iqAccountType": _choice("iqAccountType", ("treinamento", "real")),
    "strategy": _strategy,
    "strategySettings": _money_settings("strategySettings"),
    "signalSettings": _money_settings("signalSettings"),
    "settings": _settings,
}


def _start_preconditions(account: Account, changes: dict) -> None:
    """Start is refused, with the reason, when the bot could not trade."""
    if not account.has_broker_credentials:
        raise APIError(409, "Configure your IQ Option account before starting (checkIq).", "glimpseStatus")
    mode = changes.get("mode", account.mode)
    if mode == "strategy" and not changes.get("strategy", account.strategy):
        raise APIError(409, "Select a strategy before starting.", "glimpseStatus")


def _is_start(fields: list[str], values: list[Any], account: Account) -> bool:
    """A Start: glimpseStatus "waiting", or "operating" from a user who is off (what the original app's
    Start may send). The update itself stays conditional on "off", so a stale read cannot start twice."""
    asked = [value for name, value in zip(fields, values, strict=False) if name == "glimpseStatus"]
    if len(asked) != 1:
        return False
    return asked[0] == "waiting" or (asked[0] == "operating" and account.glimpse_status == "off")


def plan_update(fields: list[str], values: list[Any], account: Account) -> UserUpdate:
    if len(fields) != len(values):
        raise bad_request("fields and values must have the same length", "values")
    if len(set(fields)) != len(fields):
        raise bad_request("a field is named twice", "fields")
    plan = UserUpdate()
    status: str | None = None
    starting = _is_start(fields, values, account)
    for name, value in zip(fields, values, strict=True):
        if name == START_RESETS and starting:
            if not isinstance(value, dict):
                raise bad_request("operating must be an object", name)
            continue  # press_start writes the idle `operating` itself
        if name in SERVER_MANAGED:
            hint = " (use checkIq)" if name.startswith("iq") else ""
            raise forbidden(f"{name} is managed by the server{hint}", name)
        if name == "glimpseStatus":
            if value == "operating" and starting:
                value = "waiting"
            if not isinstance(value, str) or value not in STATUS_TRANSITIONS:
                raise bad_request(
                    'glimpseStatus may only be set to "waiting" (start) or "stopping" (stop)', name
                )
            status = value
        elif name == "alerts":
            if not isinstance(value, list) or len(value) > 1000:
                raise bad_request("alerts must be a list of alerts", name)
            plan.alert_flags = [_model(AlertFlags, item, f"alerts.{i}") for i, item in enumerate(value)]
        elif name in VALIDATORS:
            plan.set[name] = VALIDATORS[name](value, account)
        else:
            raise bad_request(f"unknown or unchangeable field {name!r}", name)
    assert set(plan.set) <= PROFILE_FIELDS, "a validator without its field in accounts.PROFILE_FIELDS"
    if status is not None:
        plan.status = status
        plan.status_from = STATUS_TRANSITIONS[status]
        if status == "waiting":
            _start_preconditions(account, plan.set)
    return plan
