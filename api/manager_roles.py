"""Manager roles: `admin` may do everything, `support` may read everything and
answer questions, send alerts and force-stop a bot.

Every route a manager token may call has a role, declared with
`endpoint(..., role=...)` or, for routes declared without one, taken from
`default_role` (reads are `support`, everything else is `admin`, so a route
nobody thought about is closed to support). A manager account without `rol`
is an admin: the accounts made before roles existed keep what they could do.
"""

from __future__ import annotations

from typing import Any

from api.errors import APIError, forbidden
from glimpse.store.managers import ADMIN, ROLES, SUPPORT, role_of

# Routes declared elsewhere without a role that a support manager may call: reads, and
# their own session and password.
SUPPORT_VIEWS = frozenset(
    {
        "logout",
        "change_password",
        "get_users",
        "get_all_operations",
        "get_server_status",
        "get_operating_servers",
        "get_audit",
        "get_questions",
        "get_auxiliar",
        "get_codes",
        "get_strategies",
        "get_test_candles",
        "get_test_candles_annually",
        "backtest_strategy",
        "get_actives_schedule",
    }
)


def route_role(view_name: str, access: tuple[str, ...], declared: str | None) -> str | None:
    """The role a manager needs for a route, or None when managers may not call it."""
    if "manager" not in access:
        return None
    if declared is not None:
        if declared not in ROLES:
            raise ValueError(f"unknown manager role {declared!r}")
        return declared
    return SUPPORT if view_name in SUPPORT_VIEWS else ADMIN


def check(kind: str, doc: dict[str, Any], needed: str | None) -> None:
    """Refuse a caller whose account is blocked or disabled, or a manager below the route's role."""
    if kind == "user" and doc.get("blocked") is True:
        raise APIError(403, "this account is blocked: contact support")
    if kind != "manager":
        return
    if doc.get("disabled") is True:
        raise APIError(403, "this manager account is disabled")
    if needed == ADMIN and role_of(doc) != ADMIN:
        raise forbidden("this action needs the admin role")
