"""Request bodies, one pydantic model per route shape.

Models are strict (no "5" for 5) and ignore unknown keys, because the
original app sends extras such as `cancelToken`. Every model accepts the
original `userKey`, which may carry the token.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from glimpse.rules.pairs import PAIRS
from glimpse.rules.patterns import PatternError, format_sequence, parse_sequence
from glimpse.runtime.security import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, password_problem
from glimpse.store.accounts import normalize_email

HORA_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
MAX_STRATEGY_CANDLES = 12


def _parsed_sequence(value: str, shortest: int) -> tuple[int, ...]:
    try:
        sequence = parse_sequence(value)
    except PatternError as exc:
        raise ValueError(str(exc)) from None
    if not shortest <= len(sequence) <= MAX_STRATEGY_CANDLES:
        raise ValueError(f"must hold {shortest} to {MAX_STRATEGY_CANDLES} colours, got {len(sequence)}")
    return sequence


Text = Annotated[str, Field(min_length=1, max_length=200)]
Password = Annotated[str, Field(min_length=1, max_length=256)]


def _allowed_password(value: str) -> str:
    problem = password_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


# The shared policy (glimpse/runtime/security.py), also applied by `glimpse user create`.
NewPassword = Annotated[
    str,
    Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH),
    AfterValidator(_allowed_password),
]


class Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")
    userKey: str | None = Field(default=None, description="The token, for the original payload shape")


def _email(value: str) -> str:
    return normalize_email(value)


class Empty(Body):
    pass


class LoginBody(Body):
    email: Annotated[str, Field(min_length=1, max_length=254)]
    password: Password


class CheckCodeBody(Body):
    code: Annotated[str, Field(min_length=1, max_length=64)]


class InsertUserBody(Body):
    userName: Annotated[str, Field(min_length=1, max_length=80)]
    userMail: str
    userPassword: NewPassword
    code: Annotated[str, Field(min_length=1, max_length=64, description="An unused invite code")]

    _mail = field_validator("userMail")(_email)

    @field_validator("userName")
    @classmethod
    def _name(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("the name is empty")
        return value


class RequestResetBody(Body):
    email: str

    _mail = field_validator("email")(_email)


class ResetPasswordBody(Body):
    email: str
    code: Annotated[str, Field(min_length=1, max_length=64)]
    newPassword: NewPassword

    _mail = field_validator("email")(_email)


class ChangePasswordBody(Body):
    currentPassword: Password
    newPassword: NewPassword


class GetUserBody(Body):
    userMail: str | None = Field(default=None, description="The caller's email or id (optional)")


class UpdateUserBody(Body):
    userMail: str | None = Field(default=None, description="The caller's id or email (optional)")
    fields: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=64)]], Field(min_length=1, max_length=20)
    ]
    values: Annotated[list[Any], Field(min_length=1, max_length=20)]


class UseCodeBody(Body):
    code: Annotated[str, Field(min_length=1, max_length=64)]
    user: str | None = None


class CheckIqBody(Body):
    email: str
    password: Password

    _mail = field_validator("email")(_email)


class AtivosBody(Body):
    type: Literal["full", "compact"]


class StrategyBody(Body):
    name: Annotated[str, Field(min_length=3, max_length=20)]
    createdBy: str | None = Field(default=None, description="Ignored: the server records the author")
    sequence: str = Field(
        description='Candle colours, oldest first: "1" green, "-1" red, "0" doji; 3 to 12 of them'
    )
    operation: Literal["call", "put"]
    mirror: bool

    @field_validator("name")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = " ".join(value.split())
        if len(value) < 3:
            raise ValueError("the name needs at least 3 characters")
        return value

    @field_validator("sequence")
    @classmethod
    def _sequence(cls, value: str) -> str:
        return format_sequence(_parsed_sequence(value, 3))


class BacktestBody(Body):
    sequence: str = Field(
        description='Candle colours, oldest first: "1" green, "-1" red, "0" doji; 1 to 12 of them'
    )
    operation: Literal["call", "put"]
    mirror: bool = False
    gales: Annotated[int, Field(ge=0, le=10)] = 2
    pairs: Annotated[list[str], Field(min_length=1, max_length=40)] | None = Field(
        default=None, description="default: every pair"
    )
    days: Annotated[int, Field(ge=1, le=30)] | None = Field(
        default=None, description="the paper market's last N days; default: the stored month (TestCandles)"
    )

    @field_validator("sequence")
    @classmethod
    def _sequence(cls, value: str) -> str:
        return format_sequence(_parsed_sequence(value, 1))

    @field_validator("pairs")
    @classmethod
    def _pairs(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else [_pair(p) for p in dict.fromkeys(value)]


def _pair(value: str) -> str:
    if value not in PAIRS:
        raise ValueError(f"unknown pair {value!r}")
    return value


HORA_LOOSE_RE = re.compile(r"^\s*(\d{1,2})\s*[:hH]\s*(\d{2})\s*$")


def loose_hora(value: str) -> str:
    """ "9:30", " 09h30 " -> "09:30"; anything else is left for the HH:MM check to refuse."""
    match = HORA_LOOSE_RE.match(value)
    if match and int(match.group(1)) < 24 and int(match.group(2)) < 60:
        return f"{int(match.group(1)):02d}:{match.group(2)}"
    return value


class SignalItem(BaseModel):
    """One row of insertSignals, after the route's normalisation (pair case, "9:30", operacao case).

    insertSignals checks each row against this model on its own: a bad row is reported in
    `rejected`, never the cause of a 400 for the whole list."""

    model_config = ConfigDict(strict=True, extra="ignore")
    id: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    status: Literal["active", "canceled", "result"] = "active"
    ativo: str
    hora: str
    operacao: Literal["call", "put"]
    # Every value the bundle's own bot writes (glimpse.store.signals.RESULTS), "skipped" included.
    resultado: Literal["", "win", "loss", "doji", "failed", "skipped"] = ""
    expiry: Literal[1, 5, 15] | None = Field(default=None, description="minutes; null: the list named none")
    gale: Annotated[int, Field(ge=0, le=9)] | None = Field(
        default=None, description="the signal's own gale cap; null: the trader's setting"
    )

    _ativo = field_validator("ativo")(_pair)

    @field_validator("hora")
    @classmethod
    def _hora(cls, value: str) -> str:
        if not HORA_RE.match(value):
            raise ValueError("must be HH:MM")
        return value


SignalsText = Annotated[str, Field(min_length=1, max_length=50_000)]


class InsertSignalsBody(Body):
    user: str | None = None
    signals: Annotated[list[Any], Field(max_length=500)] | None = Field(
        default=None,
        description="the rows (see SignalItem), each checked on its own; or send `text` instead",
        json_schema_extra={"items": {"type": "object"}},
    )
    text: SignalsText | None = Field(
        default=None, description="a pasted signal list, read by the core parser (parseSignals)"
    )
    type: Literal["user"] = "user"


class ParseSignalsBody(Body):
    text: SignalsText


class GetSignalsBody(Body):
    user: str | None = None


class UpdateSignalBody(Body):
    id: Annotated[str, Field(min_length=1, max_length=40)]
    status: Literal["active", "canceled"]


class GetUserOperationsBody(Body):
    """Without `limit` or `cursor`: every session, oldest first (the original's answer). With either:
    one page, newest first, the next page's cursor in the X-Glimpse-Next header."""

    userId: str | None = None
    limit: Annotated[int, Field(ge=1, le=500)] | None = None
    cursor: Annotated[str, Field(min_length=1, max_length=300)] | None = None


class InsertQuestionBody(Body):
    question: Annotated[str, Field(min_length=1, max_length=2000)]
    who: str | None = None
    when: Any = None


class UpdateServerBody(Body):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    status: Literal["waiting", "assigned", "operating"]
    target: Annotated[str, Field(max_length=64)] = ""


class InsertAuditBody(Body):
    model_config = ConfigDict(strict=True, extra="ignore", populate_by_name=True)
    who: str | None = None
    target: Annotated[str, Field(min_length=1, max_length=200)]
    didWhat: Annotated[str, Field(min_length=1, max_length=200)]
    from_: Any = Field(default=None, alias="from")
    to: Any = None
    when: Any = None


class CreateCodesBody(Body):
    count: Annotated[int, Field(ge=1, le=100)] = 1
    premiumDays: Annotated[int, Field(ge=0, le=3650)] = 30


class AtivoUpdate(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")
    ativo: str
    open: Literal["True", "False"] | bool
    payout: Annotated[int, Field(ge=0, le=100)] | Annotated[str, Field(pattern=r"^\d{1,3}$")] = 0

    _ativo = field_validator("ativo")(_pair)


class Candle(BaseModel):
    model_config = ConfigDict(extra="ignore")
    o: float
    c: float
    h: float | None = None
    l: float | None = None  # noqa: E741 - the original field name
    from_: int | None = Field(default=None, alias="from")


class CandlesUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")
    ativo: str
    candles: Annotated[list[Candle], Field(max_length=100)]

    _ativo = field_validator("ativo")(_pair)


DateText = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")]
TradeEpoch = Annotated[float, Field(ge=0, le=1e11)]


class UserTradesQuery(Body):
    """The caller's trades: `fromDate`/`toDate` are days in the market's zone (GLIMPSE_TZ), both included;
    `since`/`until` are epoch seconds; `mode` is the session's trading mode, `account` practice or real."""

    fromDate: DateText | None = None
    toDate: DateText | None = None
    since: TradeEpoch | None = None
    until: TradeEpoch | None = None
    ativo: Annotated[str, Field(min_length=1, max_length=20)] | None = None
    result: Literal["win", "loss", "doji", "failed", "unknown", "not_placed", "open"] | None = None
    mode: Literal["strategy", "signals", "copy"] | None = None
    account: Literal["PRACTICE", "REAL"] | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 100
    cursor: Annotated[str, Field(min_length=1, max_length=300)] | None = None


class BacktestMoneyBody(BacktestBody):
    """backtestStrategy with money: `stake` (reais) turns on the money figures, at each pair's payout,
    with `galeType` and `sobra`; `hours` asks for the paper market's last N hours (up to 30 days)."""

    hours: Annotated[int, Field(ge=1, le=720)] | None = Field(
        default=None, description="the paper market's last N hours (instead of `days`)"
    )
    stake: Annotated[float, Field(ge=1, le=100_000)] | None = None
    galeType: Literal["dobro", "cobrir", "sobra"] = "dobro"
    sobra: Annotated[float, Field(ge=0, le=100_000)] = 0

    @field_validator("hours")
    @classmethod
    def _one_period(cls, value: int | None, info: Any) -> int | None:
        if value is not None and info.data.get("days") is not None:
            raise ValueError("ask for `days` or `hours`, not both")
        return value
