"""Request bodies of the manager's routes: list queries (paging and filters) and actions."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from api.paging import MAX_LIMIT
from api.schemas import Body, NewPassword
from glimpse.store.accounts import normalize_email

Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str, Field(min_length=1, max_length=300)]
Epoch = Annotated[float, Field(ge=0, le=1e11)]
UserId = Annotated[str, Field(pattern=r"^[0-9a-fA-F]{24}$")]
Short = Annotated[str, Field(min_length=1, max_length=120)]
STATUSES = Literal["off", "waiting", "assigning", "operating", "stopping"]


class PageBody(Body):
    limit: Limit | None = None
    cursor: Cursor | None = None


class UsersQuery(PageBody):
    q: Annotated[str, Field(max_length=120)] | None = None  # part of the name or email
    status: STATUSES | None = None
    premium: bool | None = None
    blocked: bool | None = None


class OperationsQuery(PageBody):
    user: UserId | None = None
    mode: Literal["strategy", "signals", "copy"] | None = None
    since: Epoch | None = None
    until: Epoch | None = None


class TradesQuery(PageBody):
    user: UserId | None = None
    ativo: Annotated[str, Field(max_length=20)] | None = None
    result: Literal["win", "loss", "doji", "failed", "unknown", "not_placed"] | None = None
    status: Literal["pending", "open", "unknown", "closed"] | None = None
    mode: Literal["strategy", "signals", "copy"] | None = None
    since: Epoch | None = None
    until: Epoch | None = None


class CodesQuery(PageBody):
    used: bool | None = None


class AuditQuery(PageBody):
    who: Annotated[str, Field(max_length=254)] | None = None
    didWhat: Annotated[str, Field(max_length=200)] | None = None
    since: Epoch | None = None
    until: Epoch | None = None


class QuestionsQuery(PageBody):
    answered: bool | None = None


class UserRef(Body):
    user: UserId


class UserDetailBody(UserRef):
    pass


class PremiumDaysBody(UserRef):
    days: Annotated[int, Field(ge=-3650, le=3650)]

    @field_validator("days")
    @classmethod
    def _not_zero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("must not be 0")
        return value


class BlockBody(UserRef):
    blocked: bool
    reason: Annotated[str, Field(max_length=500)] = ""


class AlertBody(UserRef):
    title: Short
    description: Annotated[str, Field(min_length=1, max_length=2000)]


class AnswerBody(Body):
    id: UserId  # the question's _id
    answer: Annotated[str, Field(min_length=1, max_length=4000)]


class TermsBody(Body):
    html: Annotated[str, Field(min_length=1, max_length=200_000)]


class MaintenanceBody(Body):
    on: bool
    message: Annotated[str, Field(max_length=1000)] = ""


class AppVersionBody(Body):
    version: Annotated[str, Field(pattern=r"^\d{1,4}(\.\d{1,4}){0,3}$")]


class CreateManagerBody(Body):
    user: Annotated[str, Field(min_length=3, max_length=254)]
    name: Short
    password: NewPassword  # the one password policy, as for users
    rol: Literal["admin", "support"] = "support"

    @field_validator("user")
    @classmethod
    def _email(cls, value: str) -> str:
        return normalize_email(value)


class ManagerRef(Body):
    id: UserId


class ManagerDisableBody(ManagerRef):
    disabled: bool


class ManagerRoleBody(ManagerRef):
    rol: Literal["admin", "support"]


class RevokeCodeBody(Body):
    code: Annotated[str, Field(min_length=1, max_length=64)]


class ServerRef(Body):
    name: Annotated[str, Field(min_length=1, max_length=64)]


class ServerFlagBody(ServerRef):
    on: bool


class RetireStrategyBody(Body):
    name: Annotated[str, Field(min_length=1, max_length=40)]
