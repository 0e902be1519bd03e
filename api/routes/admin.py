"""Manager actions: on a user (subscription days, block, stop, alert, password
reset), on questions, settings, managers, codes, official strategies and
servers.

Each write is one conditional update that names the state it leaves from, so
a stale or racing writer changes nothing, and each is audited with the
document before and after. An action whose condition no longer holds (an
unknown user, a bot that is not running, a code already used) answers
`{res: 0}` and records nothing.
"""

from __future__ import annotations

from typing import Any

import nh3
from bson import ObjectId
from flask import Blueprint, g, request
from pymongo import ReturnDocument

from api import audit, auth
from api.context import ctx
from api.errors import APIError
from api.manager_roles import ADMIN, SUPPORT
from api.manager_schemas import (
    AlertBody,
    AnswerBody,
    AppVersionBody,
    BlockBody,
    CreateManagerBody,
    MaintenanceBody,
    ManagerDisableBody,
    ManagerRoleBody,
    PremiumDaysBody,
    RetireStrategyBody,
    RevokeCodeBody,
    ServerFlagBody,
    ServerRef,
    TermsBody,
    UserRef,
)
from api.registry import MANAGER, endpoint
from api.routes.accounts import send_reset_code
from glimpse.runtime import security
from glimpse.store import accounts, lifecycle, strategies, user_admin
from glimpse.store import codes as code_store
from glimpse.store import db as names
from glimpse.store import managers as manager_store
from glimpse.store import questions as question_store
from glimpse.store import servers as server_store
from glimpse.store.accounts import Account
from glimpse.store.strategies import StrategyDoc

bp = Blueprint("admin", __name__, url_prefix="/glimpse")

DONE, UNCHANGED = {"res": 1}, {"res": 0}


def _user_label(before: Account) -> str:
    return before.email or str(before.id)


def _plain(doc: dict[str, Any] | None, *fields: str) -> dict[str, Any] | None:
    return None if doc is None else {f: doc.get(f) for f in fields}


# ------------------------------------------------------------------ a manager's own password


@bp.after_app_request
def audit_manager_password_changes(response):
    """A manager's own password change is a manager write too: recorded, without any hash."""
    if request.path == "/glimpse/changePassword" and response.status_code == 200:
        caller = g.get("principal")
        if caller is not None and caller.kind == "manager":
            audit.record(str(caller.doc.get("user", "")), "changePassword", None, {"password": "changed"})
    return response


# ------------------------------------------------------------------ users


@endpoint(bp, "/grantPremiumDays", access=MANAGER, body=PremiumDaysBody, role=ADMIN)
def grant_premium_days(body: PremiumDaysBody):
    """Add (`days` > 0) or remove (`days` < 0) subscription days; never below zero."""
    before = user_admin.add_premium_days(ctx().db, ObjectId(body.user), body.days)
    if before is None:
        return UNCHANGED
    days = before.premium_days
    audit.record(
        _user_label(before), "grantPremiumDays", {"premiumDays": days}, {"premiumDays": days + body.days}
    )
    return {"res": 1, "premiumDays": days + body.days}


@endpoint(bp, "/blockUser", access=MANAGER, body=BlockBody, role=ADMIN)
def block_user(body: BlockBody):
    """Block (or unblock) a user. A blocked user cannot log in or start, their sessions end, and a
    running bot is stopped through the user's own Stop: it settles the order in flight first."""
    c, user_id = ctx(), ObjectId(body.user)
    before = user_admin.set_blocked(c.db, user_id, body.blocked, body.reason, c.clock.now())
    if before is None:
        return UNCHANGED
    stopped = None
    if body.blocked:
        auth.close_all_sessions("user", user_id)
        stopped = user_admin.stop(c.db, user_id)
    after: dict[str, Any] = {"blocked": body.blocked}
    if stopped is not None:
        after["glimpseStatus"] = "stopping"
    audit.record(
        _user_label(before),
        "blockUser" if body.blocked else "unblockUser",
        {"blocked": accounts.is_blocked(before), "glimpseStatus": before.glimpse_status},
        after,
    )
    return {"res": 1, "stopping": stopped is not None}


@endpoint(bp, "/forceStop", access=MANAGER, body=UserRef, role=SUPPORT)
def force_stop(body: UserRef):
    """Stop a user's bot as their own Stop does: {res: 1}, or {res: 0} when it was not running."""
    before = user_admin.stop(ctx().db, ObjectId(body.user))
    if before is None:
        return UNCHANGED
    audit.record(
        _user_label(before),
        "forceStop",
        {"glimpseStatus": before.glimpse_status},
        {"glimpseStatus": "stopping"},
    )
    return DONE


@endpoint(bp, "/sendAlert", access=MANAGER, body=AlertBody, role=SUPPORT)
def send_alert(body: AlertBody):
    """Put a message among the user's in-app alerts."""
    sent = user_admin.send_alert(
        ctx().db, ObjectId(body.user), body.title, body.description, ctx().clock.now()
    )
    if sent is None:
        return UNCHANGED
    audit.record(body.user, "sendAlert", None, {"title": body.title, "description": body.description})
    return DONE


@endpoint(bp, "/triggerPasswordReset", access=MANAGER, body=UserRef, role=ADMIN)
def trigger_password_reset(body: UserRef):
    """Mail the user a single-use reset code, as `requestPasswordReset` does."""
    c = ctx()
    account = accounts.find_by_id(c.db, body.user)
    if account is None or account.id is None:
        return UNCHANGED
    expires_at = c.clock.now() + c.config.reset_code_ttl_seconds
    send_reset_code(account.id, account.email, account.name)
    audit.record(account.email, "triggerPasswordReset", None, {"expiresAt": expires_at})
    return DONE


# ------------------------------------------------------------------ questions


@endpoint(bp, "/answerQuestion", access=MANAGER, body=AnswerBody, role=SUPPORT)
def answer_question(body: AnswerBody):
    """Answer a question once; the answer reaches its author as an in-app alert."""
    p = auth.principal()
    who = p.doc.get("user", "")
    before = question_store.answer(ctx().db, ObjectId(body.id), body.answer, who, ctx().clock.now())
    if before is None:
        return UNCHANGED
    audit.record(
        str(before.get("who", "")),
        "answerQuestion",
        {"question": before.get("question")},
        {"answer": body.answer},
    )
    return DONE


# ------------------------------------------------------------------ settings


def _set_auxiliar(name: str, changes: dict[str, Any]) -> dict[str, Any] | None:
    before: dict[str, Any] | None = (
        ctx()
        .db[names.AUXILIAR]
        .find_one_and_update(
            {"name": name},
            {"$set": changes},
            projection={"value": 1, "message": 1},
            upsert=True,
            return_document=ReturnDocument.BEFORE,
        )
    )
    return before


TERMS_TAGS = {
    "h1",
    "h2",
    "h3",
    "h4",
    "p",
    "em",
    "strong",
    "b",
    "i",
    "u",
    "ul",
    "ol",
    "li",
    "br",
    "a",
    "blockquote",
}


def sanitize_terms(html: str) -> str:
    """The terms as safe HTML: a short list of text tags, links without scripts."""
    return nh3.clean(
        html, tags=TERMS_TAGS, attributes={"a": {"href", "title"}}, url_schemes={"http", "https", "mailto"}
    )


@endpoint(bp, "/setTerms", access=MANAGER, body=TermsBody, role=ADMIN)
def set_terms(body: TermsBody):
    """Replace the terms of use; the HTML is sanitised here, and the stored text is returned."""
    clean = sanitize_terms(body.html)
    if not clean.strip():
        raise APIError(400, "html: nothing is left after sanitising", "html")
    before = _set_auxiliar("Terms", {"value": clean})
    audit.record("Terms", "setTerms", _plain(before, "value"), {"value": clean})
    return {"res": 1, "html": clean}


@endpoint(bp, "/setMaintenance", access=MANAGER, body=MaintenanceBody, role=ADMIN)
def set_maintenance(body: MaintenanceBody):
    """Switch maintenance mode, with the message the user app shows."""
    after = {"value": body.on, "message": body.message}
    before = _set_auxiliar("Maintenance", after)
    audit.record("Maintenance", "setMaintenance", _plain(before, "value", "message"), after)
    return DONE


@endpoint(bp, "/setAppVersion", access=MANAGER, body=AppVersionBody, role=ADMIN)
def set_app_version(body: AppVersionBody):
    """Set the app version the apps compare themselves with."""
    before = _set_auxiliar("appVersion", {"value": body.version})
    audit.record("appVersion", "setAppVersion", _plain(before, "value"), {"value": body.version})
    return DONE


# ------------------------------------------------------------------ managers


@endpoint(bp, "/createManager", access=MANAGER, body=CreateManagerBody, role=ADMIN)
def create_manager(body: CreateManagerBody):
    """Create a manager with a role: {res: 1, _id}, or {res: 0} when the login is taken."""
    c = ctx()
    password = security.hash_password(body.password, c.config.password_hash_profile)
    new_id = manager_store.create(c.db, body.user, body.name, password, body.rol, c.clock.now())
    if new_id is None:
        return UNCHANGED
    audit.record(body.user, "createManager", None, {"user": body.user, "name": body.name, "rol": body.rol})
    return {"res": 1, "_id": new_id}


def _not_self(manager_id: ObjectId) -> None:
    if auth.principal().id == manager_id:
        raise APIError(409, "you cannot change your own role or disable yourself", "id")


def _keeps_an_admin(manager_id: ObjectId) -> dict[str, Any]:
    """A condition that holds unless the manager is the last active admin (checked, then stated)."""
    if manager_store.active_admins(ctx().db) <= 1:
        return {"$nor": [{"rol": ADMIN}, {"rol": {"$exists": False}}]}
    return {}


@endpoint(bp, "/setManagerDisabled", access=MANAGER, body=ManagerDisableBody, role=ADMIN)
def set_manager_disabled(body: ManagerDisableBody):
    """Disable (or enable) a manager; a disabled manager's sessions end and their login is refused."""
    manager_id = ObjectId(body.id)
    _not_self(manager_id)
    query: dict[str, Any] = {"disabled": {"$ne": True}} if body.disabled else {"disabled": True}
    if body.disabled:
        query.update(_keeps_an_admin(manager_id))
    before = manager_store.change(ctx().db, manager_id, query, {"disabled": body.disabled})
    if before is None:
        return UNCHANGED
    if body.disabled:
        auth.close_all_sessions("manager", manager_id)
    audit.record(
        str(before.get("user")),
        "setManagerDisabled",
        {"disabled": not body.disabled},
        {"disabled": body.disabled},
    )
    return DONE


@endpoint(bp, "/setManagerRole", access=MANAGER, body=ManagerRoleBody, role=ADMIN)
def set_manager_role(body: ManagerRoleBody):
    """Change a manager's role."""
    manager_id = ObjectId(body.id)
    _not_self(manager_id)
    query = _keeps_an_admin(manager_id) if body.rol != ADMIN else {}
    before = manager_store.change(ctx().db, manager_id, query, {"rol": body.rol})
    if before is None:
        return UNCHANGED
    audit.record(
        str(before.get("user")), "setManagerRole", {"rol": manager_store.role_of(before)}, {"rol": body.rol}
    )
    return DONE


# ------------------------------------------------------------------ codes and strategies


@endpoint(bp, "/revokeCode", access=MANAGER, body=RevokeCodeBody, role=ADMIN)
def revoke_code(body: RevokeCodeBody):
    """Invalidate an unused invite code: {res: 1}, or {res: 0} when it is unknown or used."""
    before = code_store.revoke_unused(ctx().db, body.code, ctx().clock.now())
    if before is None:
        return UNCHANGED
    was = _plain(before, "code", "valid", "usedBy", "premiumDays")
    audit.record(body.code, "revokeCode", was, {**(was or {}), "valid": False, "revoked": True})
    return DONE


def _official(db: Any, strategy: StrategyDoc) -> bool:
    """Glimpse's own strategies are seeded (no owner) or made by a manager; a user's never are."""
    return not strategy.owner or manager_store.exists(db, strategy.owner)


@endpoint(bp, "/retireStrategy", access=MANAGER, body=RetireStrategyBody, role=ADMIN)
def retire_strategy(body: RetireStrategyBody):
    """Remove an official Glimpse strategy that no user has selected: {res: 1}, or {res: 0}."""
    db = ctx().db
    strategy = strategies.find_official(db, body.name)
    if strategy is None or strategy.id is None or not _official(db, strategy):
        return UNCHANGED
    if accounts.strategy_selected(db, strategy.name):
        raise APIError(409, "a user has this strategy selected", "name")
    removed = strategies.delete_official(db, strategy.id)
    if removed is None:
        return UNCHANGED
    accounts.drop_owned_strategy(db, strategy.name)
    was = {"sequence": removed.sequence, "operation": removed.operation, "mirror": removed.mirror}
    audit.record(strategy.name, "retireStrategy", was, None)
    return DONE


# ------------------------------------------------------------------ servers


def _server_flag(name: str, flag: str, on: bool, action: str) -> dict[str, int]:
    before = server_store.set_flag(ctx().db, name, flag, on)
    if before is None:
        return UNCHANGED
    audit.record(name, action, {flag: bool(getattr(before, flag))}, {flag: on})
    return DONE


@endpoint(bp, "/setServerPreferential", access=MANAGER, body=ServerFlagBody, role=ADMIN)
def set_server_preferential(body: ServerFlagBody):
    """Mark a server preferential: the assigner offers it users first."""
    return _server_flag(body.name, "preferential", body.on, "setServerPreferential")


@endpoint(bp, "/setServerDrain", access=MANAGER, body=ServerFlagBody, role=ADMIN)
def set_server_drain(body: ServerFlagBody):
    """Drain a server: it finishes its current user and takes no new one."""
    return _server_flag(body.name, "drain", body.on, "setServerDrain")


@endpoint(bp, "/releaseServerUser", access=MANAGER, body=ServerRef, role=ADMIN)
def release_server_user(body: ServerRef):
    """Free a server stuck with a user: the user goes back to the assigner (or stays stopping)."""
    before = lifecycle.release_server(ctx().db, body.name, ctx().clock.now())
    if before is None:
        return UNCHANGED
    audit.record(
        body.name,
        "releaseServerUser",
        {"status": before.status, "target": before.target},
        {"status": "waiting", "target": ""},
    )
    return DONE
