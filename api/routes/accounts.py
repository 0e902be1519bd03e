"""Accounts: login and sessions, registration, the user document, passwords."""

from __future__ import annotations

import logging

from bson import ObjectId
from flask import Blueprint

from api import auth, throttle
from api.context import ctx
from api.errors import APIError, bad_request, forbidden
from api.registry import PUBLIC, USER, USER_OR_MANAGER, endpoint
from api.schemas import (
    ChangePasswordBody,
    CheckCodeBody,
    Empty,
    GetUserBody,
    InsertUserBody,
    LoginBody,
    RequestResetBody,
    ResetPasswordBody,
    UpdateUserBody,
    UseCodeBody,
)
from api.user_updates import plan_update
from glimpse.runtime import security
from glimpse.store import accounts
from glimpse.store import db as names

log = logging.getLogger(__name__)
bp = Blueprint("accounts", __name__, url_prefix="/glimpse")


def _hash(password: str) -> str:
    return security.hash_password(password, ctx().config.password_hash_profile)


def _is_self(reference: str | None) -> bool:
    """True when an id/email the original app sends names the caller (or is absent)."""
    if reference is None or reference == "":
        return True
    p = auth.principal()
    return reference == p.id_hex or reference.strip().lower() == auth.user().email


def _require_self(reference: str | None, field: str) -> None:
    if not _is_self(reference):
        raise forbidden("you may only act on your own account", field)


def _checked(stored_hash: str | None, password: str) -> bool:
    """Whether `password` matches. A missing account is a failed login too, and costs the same
    hash verification (against a dummy hash), so the answer time does not reveal it."""
    if not security.verify_login(stored_hash, password, ctx().config.password_hash_profile):
        throttle.mark_login_failed()
        return False
    throttle.forget_login_failures()
    return True


@endpoint(bp, "/login", access=PUBLIC, body=LoginBody, responses={429: "too many failed logins"})
@throttle.login_throttled
def login(body: LoginBody):
    """Log a user in: {res: 1, token, _id} or {res: -1}."""
    email = body.email.strip().lower()
    account = accounts.find_by_email(ctx().db, email)
    if not _checked(None if account is None else account.password, body.password):
        return {"res": -1}
    assert account is not None and account.id is not None
    # A manager's block (api/routes/admin.py) is told only to whoever passed the throttle and
    # gave the right password, so it is no oracle for guessing.
    if accounts.is_blocked(account):
        raise APIError(403, "this account is blocked: contact support", "email")
    return {"res": 1, "token": auth.open_session("user", account.id), "_id": account.id}


@endpoint(bp, "/managerLogin", access=PUBLIC, body=LoginBody, responses={429: "too many failed logins"})
@throttle.login_throttled
def manager_login(body: LoginBody):
    """Log a manager in: {res: 1, name, token} or {res: -1}."""
    email = body.email.strip().lower()
    doc = ctx().db[names.MANAGER_ACCOUNTS].find_one({"user": email})
    if not _checked(None if doc is None else doc.get("password", ""), body.password):
        return {"res": -1}
    # A disabled manager, as a blocked user above: told only after the throttle and the password.
    if doc.get("disabled") is True:
        raise APIError(403, "this account is disabled: contact support", "email")
    return {"res": 1, "name": doc.get("name", ""), "token": auth.open_session("manager", doc["_id"])}


@endpoint(bp, "/logout", access=USER_OR_MANAGER, body=Empty)
def logout(body: Empty):
    """End this session: its token stops working."""
    session = auth.principal().session
    if session is not None:
        auth.close_session(session)
    return {"res": 1}


@endpoint(bp, "/getUser", access=USER, body=GetUserBody)
def get_user(body: GetUserBody):
    """The caller's account, without any secret; `iqConnected` tells whether broker credentials are set."""
    _require_self(body.userMail, "userMail")
    return auth.user().public()


@endpoint(
    bp,
    "/updateUser",
    access=USER,
    body=UpdateUserBody,
    responses={409: "glimpseStatus cannot change from the current state"},
)
def update_user(body: UpdateUserBody):
    """Change whitelisted fields of the caller's account (`fields[i]` = `values[i]`)."""
    _require_self(body.userMail, "userMail")
    p = auth.principal()
    account = auth.user()
    plan = plan_update(body.fields, body.values, account)
    db = ctx().db
    if plan.status is not None and p.id is not None:
        if plan.status == "waiting":  # the assigner serves the oldest Start first
            moved = accounts.press_start(db, p.id, plan.status_from, ctx().clock.now(), plan.set)
        else:
            moved = accounts.press_stop(db, p.id, plan.status_from, plan.set)
        if not moved:
            raise APIError(
                409,
                f"glimpseStatus cannot change from {account.glimpse_status!r} to {plan.status!r}",
                "glimpseStatus",
            )
    elif plan.set and p.id is not None:
        accounts.update_profile(db, p.id, plan.set)
    for flags in plan.alert_flags:
        if p.id is not None:
            accounts.mark_alert(db, p.id, flags.time, flags.read, flags.shown)
    return {"message": "User updated!"}


@endpoint(bp, "/checkCode", access=PUBLIC, body=CheckCodeBody)
def check_code(body: CheckCodeBody):
    """Whether an invite code can still be used: {res: true|false}, or {res: -1} when unknown."""
    doc = ctx().db[names.CODES].find_one({"code": body.code})
    if doc is None:
        return {"res": -1}
    return {"res": bool(doc.get("valid"))}


@endpoint(
    bp,
    "/insertUser",
    access=PUBLIC,
    body=InsertUserBody,
    responses={409: "the email is already registered", 429: "too many registrations from this address"},
)
@throttle.per_address(throttle.INSERT_USER_PER_ADDRESS)
def insert_user(body: InsertUserBody):
    """Register with an invite code, which is consumed in the same step."""
    c = ctx()
    codes = c.db[names.CODES]
    # The code first: without a valid one, the answer says nothing about the email.
    now = c.clock.now()
    code = codes.find_one_and_update(
        {"code": body.code, "valid": True},
        {"$set": {"valid": False, "usedBy": body.userMail, "usedWhen": now}},
    )
    if code is None:
        raise bad_request("the invite code is unknown or already used", "code")
    new_id = accounts.create(
        c.db,
        body.userName,
        body.userMail,
        _hash(body.userPassword),
        now,
        premium_days=int(code.get("premiumDays", 0)),
    )
    if new_id is None:
        # The email is registered (perhaps a moment ago): give the code back.
        codes.update_one({"_id": code["_id"]}, {"$set": {"valid": True, "usedBy": "", "usedWhen": 0}})
        raise APIError(409, "this email is already registered", "userMail")
    return {"message": "User created!", "_id": new_id}


@endpoint(bp, "/useCode", access=USER, body=UseCodeBody, responses={429: "too many codes tried"})
@throttle.per_caller(throttle.USE_CODE_PER_USER, "too many codes tried: try again later")
def use_code(body: UseCodeBody):
    """Redeem an invite code on the caller's account (adds its premium days); idempotent for a code the caller used."""
    _require_self(body.user, "user")
    c = ctx()
    p = auth.principal()
    email = auth.user().email
    codes = c.db[names.CODES]
    code = codes.find_one_and_update(
        {"code": body.code, "valid": True},
        {"$set": {"valid": False, "usedBy": email, "usedWhen": c.clock.now()}},
    )
    if code is not None:
        if p.id is not None:
            accounts.add_premium_days(c.db, p.id, int(code.get("premiumDays", 0)))
        return {"res": "Code used!"}
    if codes.find_one({"code": body.code, "usedBy": email}) is not None:
        return {"res": "Code used!"}
    raise bad_request("the invite code is unknown or already used", "code")


@endpoint(bp, "/changePassword", access=USER_OR_MANAGER, body=ChangePasswordBody)
def change_password(body: ChangePasswordBody):
    """Change the caller's password; every other session ends, and a new token is returned."""
    p = auth.principal()
    stored = p.account.password if p.account is not None else p.doc.get("password", "")
    if not security.verify_password(stored, body.currentPassword):
        raise bad_request("the current password is wrong", "currentPassword")
    assert p.id is not None  # users and managers have ids; the service token has no password
    if p.account is not None:
        accounts.set_password(ctx().db, p.id, _hash(body.newPassword))
    else:
        ctx().db[names.MANAGER_ACCOUNTS].update_one(
            {"_id": p.id}, {"$set": {"password": _hash(body.newPassword)}}
        )
    auth.close_all_sessions(p.kind, p.id)
    return {"res": 1, "token": auth.open_session(p.kind, p.id)}


@endpoint(
    bp,
    "/requestPasswordReset",
    access=PUBLIC,
    body=RequestResetBody,
    responses={429: "too many reset requests for this email or from this address"},
)
@throttle.per_email(throttle.RESET_PER_EMAIL, "too many reset requests for this email: try again later")
@throttle.per_address(throttle.RESET_PER_ADDRESS)
def request_password_reset(body: RequestResetBody):
    """Mail a single-use reset code. Always {res: 1}, under the same limits for known and unknown
    emails, so it does not reveal who has an account."""
    account = accounts.find_by_email(ctx().db, body.email)
    if account is not None and account.id is not None:
        send_reset_code(account.id, account.email, account.name)
    return {"res": 1}


def send_reset_code(account_id: ObjectId, email: str, name: str) -> None:
    """Store a new single-use reset code for the account (only its keyed hash) and mail it."""
    c = ctx()
    code = security.new_code(8)
    # A keyed hash, not argon2: the code is random and short-lived, and an unauthenticated
    # request must not cost the server a 64 MiB hash.
    code_hash = security.hash_reset_code(c.config.secret_key.get_secret_value(), code)
    accounts.start_password_reset(
        c.db, account_id, code_hash, c.clock.now() + c.config.reset_code_ttl_seconds
    )
    minutes = c.config.reset_code_ttl_seconds // 60
    c.mailer.send_template(email, "reset_code", None, {"name": name, "code": code, "minutes": minutes})


MAX_RESET_ATTEMPTS = 5


@endpoint(bp, "/resetPassword", access=PUBLIC, body=ResetPasswordBody)
def reset_password(body: ResetPasswordBody):
    """Set a new password with the mailed code; the code then stops working and every session ends."""
    c = ctx()
    account = accounts.find_by_email(c.db, body.email)
    reset = (account.password_reset if account is not None else None) or {}
    invalid = bad_request("the code is wrong, expired or already used", "code")
    if (
        account is None
        or account.id is None
        or not reset
        or reset.get("expiresAt", 0) <= c.clock.now()
        or reset.get("attempts", 0) >= MAX_RESET_ATTEMPTS
    ):
        raise invalid
    secret = c.config.secret_key.get_secret_value()
    if not security.verify_reset_code(secret, reset.get("hash", ""), body.code.strip().upper()):
        accounts.count_reset_attempt(c.db, account.id)
        raise invalid
    # Conditional on the same reset document, so the code works once even under a race.
    if not accounts.finish_password_reset(c.db, account.id, reset.get("hash", ""), _hash(body.newPassword)):
        raise invalid
    auth.close_all_sessions("user", account.id)
    return {"res": 1}
