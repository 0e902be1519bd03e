"""`Accounts`: the typed user account, its defaults, and every read and write of it.

The document keeps the original's field names on disk (name, email,
glimpseStatus, iqPeriodProfit, strategySettings, ...). The profit fields
(iqSessionProfit, iqPeriodProfit, iqPeriodLoss) are integer cents; the
ledger (glimpse/store/trades.py) moves them with `$inc` of ints, and older
documents that still hold reais as floats are read exactly until converted.
The amounts of the money settings (strategySettings, signalSettings) are
Decimal128 of whole cents: exact on disk, JSON numbers in reais to the app.
Life-cycle transitions (glimpseStatus with server and assignment) live in
glimpse/store/lifecycle.py.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypedDict, cast

from bson import Decimal128, ObjectId
from pymongo.errors import DuplicateKeyError

from glimpse.rules.money import cents
from glimpse.store import db as names

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

# The amounts of a money-settings document, and the account fields that hold one.
SETTING_AMOUNTS = ("money", "sobra", "stopLossValue", "stopWinValue")
MONEY_SETTINGS_FIELDS = ("strategySettings", "signalSettings")


def setting_amount(value: object) -> Decimal:
    """A stored settings amount, exactly: a Decimal128, or a number in reais from a document
    written before amounts were stored as Decimal128."""
    if isinstance(value, Decimal128):
        return value.to_decimal()
    if isinstance(value, (int, float, Decimal, str)) and not isinstance(value, bool):
        return cents(value)
    raise ValueError(f"not an amount: {value!r}")


def stored_money_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Money settings as they are stored: each amount a Decimal128 of whole cents (never a float)."""
    out = dict(settings)
    for name in SETTING_AMOUNTS:
        if out.get(name) is not None:
            out[name] = Decimal128(cents(setting_amount(out[name])))
    return out


def stored_profile(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Profile changes as they are stored (the money settings' amounts as Decimal128)."""
    out = dict(changes)
    for key in MONEY_SETTINGS_FIELDS:
        if isinstance(out.get(key), Mapping):
            out[key] = stored_money_settings(out[key])
    return out


# Decimal128 -> the float the app reads, by its 16 bytes: getUser and status answer the same few
# amounts all day, and a conversion costs ~5 µs. Bounded by the values users can choose.
_AS_NUMBER: dict[bytes, float] = {}


def _number(value: Decimal128) -> float:
    number = _AS_NUMBER.get(value.bid)
    if number is None:
        if len(_AS_NUMBER) > 10_000:
            _AS_NUMBER.clear()
        number = _AS_NUMBER[value.bid] = float(value.to_decimal())
    return number


def _settings_for_app(settings: Mapping[str, Any]) -> dict[str, Any]:
    # The app reads plain JSON numbers in reais, as the original sent them.
    out = dict(settings)
    for name in SETTING_AMOUNTS:
        value = out.get(name)
        if type(value) is Decimal128:
            out[name] = _number(value)
    return out


DEFAULT_MONEY_SETTINGS: dict[str, Any] = stored_money_settings(
    {
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
)

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


# --- the typed account ---------------------------------------------------------------------------
#
# A slotted dataclass, not a pydantic model: getUser and status run it on every
# call, and the documents are the store's own (the API validates what users
# send before it gets here), so a read is a field-by-field copy (a few µs for
# the whole account) instead of a validation (tens of µs). Nested parts stay the
# dicts they are on disk, typed with TypedDicts, so reading them costs nothing.


class MoneySettings(TypedDict, total=False):
    """Amounts are Decimal128 (reais, whole cents); documents written before may hold floats or ints."""

    money: Decimal128 | float
    gale: bool
    galeCount: int
    galeType: str  # "dobro" | "cobrir" | "sobra"
    sobra: Decimal128 | float
    stopLoss: bool
    stopLossValue: Decimal128 | float
    stopWin: bool
    stopWinValue: Decimal128 | float


class AlertPrefs(TypedDict, total=False):
    useAlerts: bool
    glimpseStart: bool
    glimpseStop: bool
    activeClose: bool
    stopLossReached: bool
    stopWinReached: bool


class GlimpsePrefs(TypedDict, total=False):
    slides: bool
    operationPriority: str  # "gale" | "stop"


class Settings(TypedDict, total=False):
    alerts: AlertPrefs
    glimpse: GlimpsePrefs


class Try(TypedDict, total=False):
    start: str | int
    result: str


class Operating(TypedDict, total=False):
    """What the app shows of the cycle in flight."""

    operating: bool
    active: str
    money: int  # the stake in flight, cents (floats in reais on documents written before the change)
    operacao: str
    tries: list[Try]


class Alert(TypedDict):
    title: str
    description: str
    read: bool
    shown: bool
    time: str  # epoch seconds, as a string (the original's shape)
    type: str


class LastLogin(TypedDict, total=False):
    time: str
    ip: str
    location: str


class PasswordReset(TypedDict, total=False):
    hash: str
    expiresAt: float
    attempts: int


def money_cents(value: object) -> int:
    """A stored profit field as integer cents.

    Integers are cents (how the ledger writes them). Floats and Decimal128 are
    reais from documents written before the change, read exactly (12.34 → 1234)
    until the conversion rewrites them; anything else counts as 0.
    """
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal128):
        value = value.to_decimal()
    if isinstance(value, (float, Decimal)):
        try:
            return int(cents(value) * 100)
        except ValueError:  # NaN or an infinity: not an amount
            return 0
    return 0


def reais(amount_cents: int) -> float:
    """Integer cents as the reais number the app shows (2 decimals)."""
    return amount_cents / 100


def _float(value: object, default: float = 0.0) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default


def _int(value: object, default: int = 0) -> int:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value == value and abs(value) != float("inf"):
        return int(value)
    return default


# Stored field name -> attribute, for every field the model owns.
FIELDS: dict[str, str] = {
    "_id": "id",
    "name": "name",
    "email": "email",
    "password": "password",
    "type": "type",
    "phone": "phone",
    "cpf": "cpf",
    "image": "image",
    "readTerms": "read_terms",
    "lastLogin": "last_login",
    "firstAccess": "first_access",
    "createdAt": "created_at",
    "glimpseStatus": "glimpse_status",
    "server": "server",
    "assignment": "assignment",
    "waitingSince": "waiting_since",
    "assignedAt": "assigned_at",
    "operating": "operating",
    "iqEmail": "iq_email",
    "iqPassword": "iq_password",
    "iqConnected": "iq_connected",
    "iqAccountType": "iq_account_type",
    "iqBalancePractice": "iq_balance_practice",
    "iqBalanceReal": "iq_balance_real",
    "iqPeriodProfit": "period_profit",
    "iqPeriodLoss": "period_loss",
    "iqSessionProfit": "session_profit",
    "premiumDays": "premium_days",
    "preferedPayout": "prefered_payout",
    "preferedActives": "prefered_actives",
    "mode": "mode",
    "strategy": "strategy",
    "ownedStrategies": "owned_strategies",
    "strategySettings": "strategy_settings",
    "signalSettings": "signal_settings",
    "settings": "settings",
    "alerts": "alerts",
    "passwordReset": "password_reset",
    "passwordRecoverCode": "password_recover_code",
}
PROFIT_FIELDS = ("iqSessionProfit", "iqPeriodProfit", "iqPeriodLoss")


@dataclass(slots=True)
class Account:
    """A user account (`Accounts`). Attributes carry the stored names in FIELDS.

    The three profit fields are integer cents; `public()` turns them into
    reais, the one place the API answers with money.
    """

    id: ObjectId | None = None
    name: str = ""
    email: str = ""
    password: str = ""  # a password hash
    type: str = "user"
    phone: str = ""
    cpf: str = ""
    image: str = ""
    read_terms: bool = False
    last_login: LastLogin | str = ""
    first_access: Any = 1
    created_at: float | None = None
    glimpse_status: str = "off"  # off | waiting | assigning | operating | stopping
    server: str = ""  # the server serving the user
    assignment: str = ""  # the id of the user's current assignment (glimpse/store/lifecycle.py)
    waiting_since: float | None = None
    assigned_at: float | None = None
    operating: Operating = field(default_factory=lambda: cast(Operating, dict(IDLE_OPERATING, tries=[])))
    iq_email: str = ""
    iq_password: str = ""  # encrypted with GLIMPSE_SECRET_KEY
    iq_connected: bool = False
    iq_account_type: str = "treinamento"  # "treinamento" | "real"
    iq_balance_practice: int = 0  # iqBalancePractice, cents (the broker's last word)
    iq_balance_real: int = 0  # iqBalanceReal, cents
    period_profit: int = 0  # iqPeriodProfit, cents
    period_loss: int = 0  # iqPeriodLoss, cents (positive)
    session_profit: int = 0  # iqSessionProfit, cents
    premium_days: int = 0
    prefered_payout: str = "> 75"
    prefered_actives: str | list[str] = "todos"
    mode: str = "strategy"  # strategy | signals | copy
    strategy: str = ""
    owned_strategies: list[str] = field(default_factory=list)
    strategy_settings: MoneySettings = field(default_factory=lambda: MoneySettings())
    signal_settings: MoneySettings = field(default_factory=lambda: MoneySettings())
    settings: Settings = field(default_factory=lambda: Settings())
    alerts: list[Alert] = field(default_factory=list)
    password_reset: PasswordReset | None = None
    password_recover_code: str | None = None  # the original's plaintext recovery code; never sent
    # Fields the model does not own (written by other parts: appliedTrades, blocked, ...), as stored.
    extra: dict[str, Any] = field(default_factory=dict, repr=False)
    # The stored field names this account was read with, in their order (for `public`).
    present: tuple[str, ...] = field(default=(), repr=False, compare=False)

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Account:
        g = doc.get
        last_login = g("lastLogin", "")
        prefered = g("preferedActives", "todos")
        owned = g("ownedStrategies")
        reset = g("passwordReset")
        recover = g("passwordRecoverCode")
        balance_practice, balance_real = g("iqBalancePractice", 0), g("iqBalanceReal", 0)
        return cls(
            id=g("_id"),
            name=str(g("name") or ""),
            email=str(g("email") or ""),
            password=str(g("password") or ""),
            type=str(g("type") or "user"),
            phone=str(g("phone") or ""),
            cpf=str(g("cpf") or ""),
            image=str(g("image") or ""),
            read_terms=g("readTerms") is True,
            last_login=last_login if isinstance(last_login, (dict, str)) else "",  # type: ignore[arg-type]
            first_access=g("firstAccess", 1),
            created_at=_float(g("createdAt")) if g("createdAt") is not None else None,
            glimpse_status=str(g("glimpseStatus") or "off"),
            server=str(g("server") or ""),
            assignment=str(g("assignment") or ""),
            waiting_since=_float(g("waitingSince")) if g("waitingSince") is not None else None,
            assigned_at=_float(g("assignedAt")) if g("assignedAt") is not None else None,
            operating=cast(Operating, g("operating") or {}),
            iq_email=str(g("iqEmail") or ""),
            iq_password=str(g("iqPassword") or ""),
            iq_connected=bool(g("iqConnected")),
            iq_account_type=str(g("iqAccountType") or "treinamento"),
            iq_balance_practice=money_cents(balance_practice),
            iq_balance_real=money_cents(balance_real),
            period_profit=money_cents(g("iqPeriodProfit")),
            period_loss=money_cents(g("iqPeriodLoss")),
            session_profit=money_cents(g("iqSessionProfit")),
            premium_days=_int(g("premiumDays")),
            prefered_payout=str(g("preferedPayout") or "> 75"),
            prefered_actives=prefered if isinstance(prefered, (str, list)) else "todos",
            mode=str(g("mode") or "strategy"),
            strategy=str(g("strategy") or ""),
            owned_strategies=[str(name) for name in owned] if isinstance(owned, list) else [],
            strategy_settings=cast(MoneySettings, g("strategySettings") or {}),
            signal_settings=cast(MoneySettings, g("signalSettings") or {}),
            settings=cast(Settings, g("settings") or {}),
            alerts=g("alerts") or [],
            password_reset=reset if isinstance(reset, dict) else None,  # type: ignore[arg-type]
            password_recover_code=None if recover is None else str(recover),
            extra={k: v for k, v in doc.items() if k not in FIELDS},
            present=tuple(doc),
        )

    def stored(self, key: str) -> Any:
        """The value of a stored field name, as it is written to disk (profits in cents)."""
        attr = FIELDS.get(key)
        if attr is None:
            return self.extra.get(key)
        return getattr(self, attr)

    def to_doc(self) -> dict[str, Any]:
        """The document to store: every owned field that has a value under its stored name, then the others."""
        doc = {key: value for key, attr in FIELDS.items() if (value := getattr(self, attr)) is not None}
        doc.update(self.extra)
        return doc

    def public(self) -> dict[str, Any]:
        """The account as a client may see it: the stored fields without any secret, the
        profits in reais, and `iqConnected` (credentials set and checked)."""
        keys = self.present or tuple(self.to_doc())
        view: dict[str, Any] = {}
        for key in keys:
            if key in SECRET_FIELDS or key == "moneyUnit":  # a storage marker, not the app's business
                continue
            attr = FIELDS.get(key)
            view[key] = self.extra.get(key) if attr is None else getattr(self, attr)
        for key, amount in (
            ("iqSessionProfit", self.session_profit),
            ("iqPeriodProfit", self.period_profit),
            ("iqPeriodLoss", self.period_loss),
            ("iqBalancePractice", self.iq_balance_practice),
            ("iqBalanceReal", self.iq_balance_real),
        ):
            if key in view:
                view[key] = reais(amount)
        for key in MONEY_SETTINGS_FIELDS:
            if isinstance(view.get(key), Mapping):
                view[key] = _settings_for_app(view[key])
        if isinstance(view.get("operating"), dict) and "money" in view["operating"]:
            # The stake in flight is stored in cents like every amount; the app reads reais.
            view["operating"] = {**view["operating"], "money": reais(money_cents(view["operating"]["money"]))}
        view["iqConnected"] = self.iq_connected and bool(self.iq_password)
        return view

    # --- what the rules read ---------------------------------------------------------------

    @property
    def has_broker_credentials(self) -> bool:
        return self.iq_connected and bool(self.iq_password)

    @property
    def operation_priority(self) -> str:
        return str((self.settings.get("glimpse") or {}).get("operationPriority", "gale"))

    def wants_alert(self, setting: str | None) -> bool:
        """Whether the user's settings ask for an alert switched by `setting` (None: always)."""
        if setting is None:
            return True
        prefs: Mapping[str, Any] = self.settings.get("alerts") or {}
        return bool(prefs.get("useAlerts", True)) and bool(prefs.get(setting, True))


def is_blocked(account: Account) -> bool:
    """Whether a manager blocked the account (`blocked`, written by glimpse/store/user_admin.py)."""
    return account.extra.get("blocked") is True


def public_view(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A stored account document as a client may see it (see `Account.public`)."""
    return Account.from_doc(doc).public()


# --- reads ---------------------------------------------------------------------------------------


def _oid(account_id: str | ObjectId) -> ObjectId:
    return account_id if isinstance(account_id, ObjectId) else ObjectId(account_id)


def find_by_id(db: Any, account_id: str | ObjectId) -> Account | None:
    doc = db[names.ACCOUNTS].find_one({"_id": _oid(account_id)})
    return Account.from_doc(doc) if doc is not None else None


def find_by_email(db: Any, email: str) -> Account | None:
    """The account with this (stored, lower-case) email, or None."""
    doc = db[names.ACCOUNTS].find_one({"email": email})
    return Account.from_doc(doc) if doc is not None else None


def email_taken(db: Any, email: str) -> bool:
    return db[names.ACCOUNTS].find_one({"email": email}, {"_id": 1}) is not None


def id_of_email(db: Any, email: str) -> ObjectId | None:
    doc = db[names.ACCOUNTS].find_one({"email": email}, {"_id": 1})
    return None if doc is None else cast(ObjectId, doc["_id"])


def by_period_profit(db: Any, limit: int) -> list[Account]:
    """The best of the period (name and period figures only), highest profit first."""
    cursor = (
        db[names.ACCOUNTS]
        .find({}, {"name": 1, "iqPeriodProfit": 1, "iqPeriodLoss": 1})
        .sort([("iqPeriodProfit", -1), ("_id", 1)])
        .limit(limit)
    )
    return [Account.from_doc(doc) for doc in cursor]


def awaiting_server(db: Any) -> list[Account]:
    """Users waiting for a server, or stopping with none, oldest Start first (status fields only)."""
    cursor = (
        db[names.ACCOUNTS]
        .find(
            {"glimpseStatus": {"$in": ["waiting", "stopping"]}, "server": {"$in": ["", None]}},
            {"glimpseStatus": 1, "premiumDays": 1, "waitingSince": 1, "assignment": 1},
        )
        .sort([("waitingSince", 1), ("_id", 1)])
    )
    return [Account.from_doc(doc) for doc in cursor]


def in_states(db: Any, states: Iterable[str]) -> list[Account]:
    """Users in one of the life-cycle `states` (status fields only; `stoppingSince` lands in `extra`)."""
    cursor = db[names.ACCOUNTS].find(
        {"glimpseStatus": {"$in": list(states)}},
        {"glimpseStatus": 1, "server": 1, "waitingSince": 1, "assignedAt": 1, "stoppingSince": 1, "mode": 1},
    )
    return [Account.from_doc(doc) for doc in cursor]


def count_by_mode_and_status(db: Any, states: Iterable[str]) -> dict[tuple[str, str], int]:
    """How many users are in each (mode, life-cycle state), for the `states` given."""
    grouped = db[names.ACCOUNTS].aggregate(
        [
            {"$match": {"glimpseStatus": {"$in": list(states)}}},
            {"$group": {"_id": {"mode": "$mode", "status": "$glimpseStatus"}, "n": {"$sum": 1}}},
        ]
    )
    out: dict[tuple[str, str], int] = {}
    for group in grouped:
        key = group["_id"] or {}
        out[(str(key.get("mode") or "strategy"), str(key.get("status")))] = int(group["n"])
    return out


def stopping_without_server(db: Any) -> list[Account]:
    """Users who pressed Stop while no server held them."""
    cursor = db[names.ACCOUNTS].find({"glimpseStatus": "stopping", "server": {"$in": ["", None]}})
    return [Account.from_doc(doc) for doc in cursor]


# --- writes --------------------------------------------------------------------------------------


def create(
    db: Any,
    name: str,
    email: str,
    password_hash: str,
    now: float,
    *,
    premium_days: int = 0,
    owned_strategies: list[str] | None = None,
) -> ObjectId | None:
    """Insert a new account with the defaults; its id, or None when the email is taken."""
    doc = new_account(
        name, email, password_hash, now, premium_days=premium_days, owned_strategies=owned_strategies
    )
    try:
        return cast(ObjectId, db[names.ACCOUNTS].insert_one(doc).inserted_id)
    except DuplicateKeyError:
        return None


# Fields a user may change with updateUser (api/user_updates.py validates each value).
PROFILE_FIELDS = frozenset(
    {
        "name", "readTerms", "lastLogin", "mode", "preferedPayout", "preferedActives", "iqAccountType",
        "strategy", "strategySettings", "signalSettings", "settings",
    }
)  # fmt: skip


def update_profile(db: Any, account_id: ObjectId, changes: Mapping[str, Any]) -> None:
    """`$set` validated profile fields (PROFILE_FIELDS only)."""
    unknown = set(changes) - PROFILE_FIELDS
    if unknown:
        raise ValueError(f"not profile fields: {sorted(unknown)}")
    if changes:
        db[names.ACCOUNTS].update_one({"_id": account_id}, {"$set": stored_profile(changes)})


def press_start(
    db: Any, account_id: ObjectId, from_statuses: Iterable[str], now: float, changes: Mapping[str, Any]
) -> bool:
    """App Start: → waiting (from one of `from_statuses`) with the profile `changes`, one update."""
    update = stored_profile(changes)
    update.update(glimpseStatus="waiting", waitingSince=now, operating=dict(IDLE_OPERATING, tries=[]))
    result = db[names.ACCOUNTS].update_one(
        {"_id": account_id, "glimpseStatus": {"$in": list(from_statuses)}, "blocked": {"$ne": True}},
        {"$set": update},
    )
    return bool(result.matched_count)


def press_stop(
    db: Any, account_id: ObjectId, from_statuses: Iterable[str], changes: Mapping[str, Any]
) -> bool:
    """App Stop: → stopping (from one of `from_statuses`) with the profile `changes`, one update."""
    update = stored_profile(changes)
    update["glimpseStatus"] = "stopping"
    result = db[names.ACCOUNTS].update_one(
        {"_id": account_id, "glimpseStatus": {"$in": list(from_statuses)}}, {"$set": update}
    )
    return bool(result.matched_count)


def mark_alert(db: Any, account_id: ObjectId, time: str, read: bool | None, shown: bool | None) -> None:
    """Set the read/shown flags of the alert stamped `time`."""
    changes = {f"alerts.$.{k}": v for k, v in (("read", read), ("shown", shown)) if v is not None}
    if changes:
        db[names.ACCOUNTS].update_one({"_id": account_id, "alerts.time": time}, {"$set": changes})


def add_premium_days(db: Any, account_id: ObjectId, days: int) -> None:
    db[names.ACCOUNTS].update_one({"_id": account_id}, {"$inc": {"premiumDays": days}})


# The original's "subscription that never ends".
PREMIUM_FOREVER = 9999


def count_down_premium_days(db: Any) -> int:
    """One day off every running subscription (never off one that is forever); how many it touched."""
    result = db[names.ACCOUNTS].update_many(
        {"premiumDays": {"$gt": 0, "$lt": PREMIUM_FOREVER}}, {"$inc": {"premiumDays": -1}}
    )
    return int(result.modified_count)


def set_password(db: Any, account_id: ObjectId, password_hash: str) -> None:
    db[names.ACCOUNTS].update_one({"_id": account_id}, {"$set": {"password": password_hash}})


def start_password_reset(db: Any, account_id: ObjectId, code_hash: str, expires_at: float) -> None:
    reset = PasswordReset(hash=code_hash, expiresAt=expires_at, attempts=0)
    db[names.ACCOUNTS].update_one({"_id": account_id}, {"$set": {"passwordReset": reset}})


def count_reset_attempt(db: Any, account_id: ObjectId) -> None:
    db[names.ACCOUNTS].update_one(
        {"_id": account_id, "passwordReset": {"$exists": True}}, {"$inc": {"passwordReset.attempts": 1}}
    )


def finish_password_reset(db: Any, account_id: ObjectId, code_hash: str, password_hash: str) -> bool:
    """Set the new password, if the reset stamped `code_hash` is still there (so a code works once)."""
    result = db[names.ACCOUNTS].update_one(
        {"_id": account_id, "passwordReset.hash": code_hash},
        {"$set": {"password": password_hash}, "$unset": {"passwordReset": ""}},
    )
    return int(result.modified_count) == 1


def set_broker_credentials(
    db: Any,
    account_id: ObjectId,
    email: str,
    encrypted_password: str,
    balance_practice: float,
    balance_real: float,
) -> None:
    """Checked IQ Option credentials (the password already encrypted) and the balances the broker gave
    (reais, as the broker reports them; stored in cents)."""
    db[names.ACCOUNTS].update_one(
        {"_id": account_id},
        {
            "$set": {
                "iqEmail": email,
                "iqPassword": encrypted_password,
                "iqConnected": True,
                "iqBalancePractice": money_cents(float(balance_practice)),
                "iqBalanceReal": money_cents(float(balance_real)),
            }
        },
    )


def set_broker_disconnected(db: Any, account_id: str | ObjectId) -> None:
    """The broker refused the stored credentials: Start stays refused until checkIq succeeds again."""
    db[names.ACCOUNTS].update_one({"_id": _oid(account_id)}, {"$set": {"iqConnected": False}})


def add_owned_strategy(db: Any, account_id: ObjectId, name: str) -> None:
    db[names.ACCOUNTS].update_one({"_id": account_id}, {"$addToSet": {"ownedStrategies": name}})


def end_orphan_stop(db: Any, account: Account, alert_doc: Mapping[str, Any] | None) -> bool:
    """stopping with no server → off, for the assignment that was read; False if anything moved meanwhile."""
    update: dict[str, Any] = {
        "$set": {"glimpseStatus": "off", "iqSessionProfit": 0},
        "$unset": {"glimpseSession": ""},
    }
    if alert_doc is not None:
        update["$push"] = {"alerts": dict(alert_doc)}
    query: dict[str, Any] = {"_id": account.id, "glimpseStatus": "stopping", "server": {"$in": ["", None]}}
    if account.assignment:
        query["assignment"] = account.assignment
    result = db[names.ACCOUNTS].update_one(query, update)
    return int(result.modified_count) == 1


def update_operating(
    db: Any,
    account_id: str | ObjectId,
    server: str,
    fields: Mapping[str, Any],
    *,
    assignment: str | None = None,
) -> bool:
    """Set parts of `operating` (keys below it: "active", "tries.0.result", ...) while `server` serves
    the user (in `assignment`, when named); False when it no longer does."""
    query: dict[str, Any] = {"_id": _oid(account_id), "server": server}
    if assignment is not None:
        query["assignment"] = assignment
    changes = {f"operating.{key}": value for key, value in fields.items()}
    return bool(db[names.ACCOUNTS].update_one(query, {"$set": changes}).matched_count)


def strategy_selected(db: Any, name: str) -> bool:
    """Whether any user has the strategy `name` selected."""
    return bool(db[names.ACCOUNTS].count_documents({"strategy": name}, limit=1))


def drop_owned_strategy(db: Any, name: str) -> None:
    """Remove a strategy that no longer exists from every user's owned list."""
    db[names.ACCOUNTS].update_many({"ownedStrategies": name}, {"$pull": {"ownedStrategies": name}})


def count_by_status(db: Any) -> dict[str, int]:
    """How many accounts are in each `glimpseStatus` (as stored: accounts without one are not counted)."""
    tallied = names.tally(db[names.ACCOUNTS], "glimpseStatus")
    return {value: n for value, n in tallied.items() if isinstance(value, str)}


def count_blocked(db: Any) -> int:
    """How many accounts a manager has blocked."""
    return sum(n for value, n in names.tally(db[names.ACCOUNTS], "blocked").items() if value is True)


# --- the manager's views ------------------------------------------------------------------------


def by_name_page(
    db: Any,
    query: dict[str, Any],
    after: tuple[Any, ObjectId] | None,
    size: int,
    projection: Mapping[str, Any],
) -> list[Account]:
    """Up to `size` accounts matching `query` by (name, _id), after the keyset `after`, read with
    `projection` (so `Account.public` shows only those fields)."""
    collection = db[names.ACCOUNTS]
    rows = names.indexed_find(collection, query, "name", 1, after, size, dict(projection))
    if rows is None:  # a real MongoDB, which has the (name, _id) index
        bound: dict[str, Any] = {}
        if after is not None:
            key, last = after
            bound = {"$or": [{"name": {"$gt": key}}, {"name": key, "_id": {"$gt": last}}]}
        found = collection.find({"$and": [query, bound]} if bound else query, dict(projection))
        rows = list(found.sort([("name", 1), ("_id", 1)]).limit(size))
    return [Account.from_doc(doc) for doc in rows]


def find_for_manager(db: Any, account_id: str | ObjectId) -> Account | None:
    """The account without the ids of the trades already credited (a long list nobody reads)."""
    doc = db[names.ACCOUNTS].find_one({"_id": _oid(account_id)}, {"appliedTrades": 0})
    return Account.from_doc(doc) if doc is not None else None
