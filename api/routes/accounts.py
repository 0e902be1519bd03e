"""Accounts: login and sessions, registration, the user document, passwords."""

from __future__ import annotations

import logging

from flask import Blueprint
from pymongo.errors import DuplicateKeyError

from api import auth
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
from glimpse.store import db as names
from glimpse.store.accounts import new_account, public_view

log = logging.getLogger(__name__)
bp = Blueprint("accounts", __name__, url_prefix="/glimpse")


def _hash(password: str) -> str:
    return security.hash_password(password, ctx().config.password_hash_profile)


def _is_self(reference: str | None) -> bool:
    """True when an id/email the original app sends names the caller (or is absent)."""
    if reference is None or reference == "":
        return True
    p = auth.principal()
    return reference == p.id_hex or reference.strip().lower() == p.doc.get("email", "")


def _require_self(reference: str | None, field: str) -> None:
    if not _is_self(reference):
        raise forbidden("you may only act on your own account", field)


def _login(collection: str, email: str, password: str) -> dict | None:
    email = email.strip().lower()
    auth.check_login_allowed(email)
    key = "user" if collection == names.MANAGER_ACCOUNTS else "email"
    doc = ctx().db[collection].find_one({key: email})
    if doc is None or not security.verify_password(doc.get("password", ""), password):
        auth.record_login_failure(email)
        return None
    auth.clear_login_failures(email)
    return doc


@endpoint(bp, "/login", access=PUBLIC, body=LoginBody, responses={429: "too many failed logins"})
def login(body: LoginBody):
    """Log a user in: {res: 1, token, _id} or {res: -1}."""
    doc = _login(names.ACCOUNTS, body.email, body.password)
    if doc is None:
        return {"res": -1}
    return {"res": 1, "token": auth.open_session("user", doc["_id"]), "_id": doc["_id"]}


@endpoint(bp, "/managerLogin", access=PUBLIC, body=LoginBody, responses={429: "too many failed logins"})
def manager_login(body: LoginBody):
    """Log a manager in: {res: 1, name, token} or {res: -1}."""
    doc = _login(names.MANAGER_ACCOUNTS, body.email, body.password)
    if doc is None:
        return {"res": -1}
    return {"res": 1, "name": doc.get("name", ""), "token": auth.open_session("manager", doc["_id"])}


@endpoint(bp, "/logout", access=USER_OR_MANAGER, body=Empty)
def logout(body: Empty):
    """End this session: its token stops working."""
    auth.close_session(auth.principal().session)
    return {"res": 1}


@endpoint(bp, "/getUser", access=USER, body=GetUserBody)
def get_user(body: GetUserBody):
    """The caller's account, without any secret; `iqConnected` tells whether broker credentials are set."""
    _require_self(body.userMail, "userMail")
    return public_view(auth.principal().doc)


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
    plan = plan_update(body.fields, body.values, p.doc)
    accounts = ctx().db[names.ACCOUNTS]
    if plan.set:
        query: dict = {"_id": p.id}
        if plan.status_from is not None:
            query["glimpseStatus"] = {"$in": list(plan.status_from)}
            if plan.set["glimpseStatus"] == "waiting":  # the assigner serves the oldest Start first
                plan.set["waitingSince"] = ctx().clock.now()
        result = accounts.update_one(query, {"$set": plan.set})
        if result.matched_count == 0:
            current = p.doc.get("glimpseStatus")
            raise APIError(
                409,
                f"glimpseStatus cannot change from {current!r} to {plan.set['glimpseStatus']!r}",
                "glimpseStatus",
            )
    for flags in plan.alert_flags:
        changes = {
            f"alerts.$.{k}": v for k, v in (("read", flags.read), ("shown", flags.shown)) if v is not None
        }
        if changes:
            accounts.update_one({"_id": p.id, "alerts.time": flags.time}, {"$set": changes})
    return {"message": "User updated!"}


@endpoint(bp, "/checkCode", access=PUBLIC, body=CheckCodeBody)
def check_code(body: CheckCodeBody):
    """Whether an invite code can still be used: {res: true|false}, or {res: -1} when unknown."""
    doc = ctx().db[names.CODES].find_one({"code": body.code})
    if doc is None:
        return {"res": -1}
    return {"res": bool(doc.get("valid"))}


@endpoint(
    bp, "/insertUser", access=PUBLIC, body=InsertUserBody, responses={409: "the email is already registered"}
)
def insert_user(body: InsertUserBody):
    """Register with an invite code, which is consumed in the same step."""
    c = ctx()
    accounts, codes = c.db[names.ACCOUNTS], c.db[names.CODES]
    if accounts.find_one({"email": body.userMail}, {"_id": 1}) is not None:
        raise APIError(409, "this email is already registered", "userMail")
    now = c.clock.now()
    code = codes.find_one_and_update(
        {"code": body.code, "valid": True},
        {"$set": {"valid": False, "usedBy": body.userMail, "usedWhen": now}},
    )
    if code is None:
        raise bad_request("the invite code is unknown or already used", "code")
    doc = new_account(
        body.userName,
        body.userMail,
        _hash(body.userPassword),
        now,
        premium_days=int(code.get("premiumDays", 0)),
    )
    try:
        inserted = accounts.insert_one(doc)
    except DuplicateKeyError:
        # Someone registered the same email meanwhile: give the code back.
        codes.update_one({"_id": code["_id"]}, {"$set": {"valid": True, "usedBy": "", "usedWhen": 0}})
        raise APIError(409, "this email is already registered", "userMail") from None
    return {"message": "User created!", "_id": inserted.inserted_id}


@endpoint(bp, "/useCode", access=USER, body=UseCodeBody)
def use_code(body: UseCodeBody):
    """Redeem an invite code on the caller's account (adds its premium days); idempotent for a code the caller used."""
    _require_self(body.user, "user")
    c = ctx()
    p = auth.principal()
    email = p.doc["email"]
    codes = c.db[names.CODES]
    code = codes.find_one_and_update(
        {"code": body.code, "valid": True},
        {"$set": {"valid": False, "usedBy": email, "usedWhen": c.clock.now()}},
    )
    if code is not None:
        c.db[names.ACCOUNTS].update_one(
            {"_id": p.id}, {"$inc": {"premiumDays": int(code.get("premiumDays", 0))}}
        )
        return {"res": "Code used!"}
    if codes.find_one({"code": body.code, "usedBy": email}) is not None:
        return {"res": "Code used!"}
    raise bad_request("the invite code is unknown or already used", "code")


@endpoint(bp, "/changePassword", access=USER_OR_MANAGER, body=ChangePasswordBody)
def change_password(body: ChangePasswordBody):
    """Change the caller's password; every other session ends, and a new token is returned."""
    p = auth.principal()
    if not security.verify_password(p.doc.get("password", ""), body.currentPassword):
        raise bad_request("the current password is wrong", "currentPassword")
    collection = names.ACCOUNTS if p.kind == "user" else names.MANAGER_ACCOUNTS
    ctx().db[collection].update_one({"_id": p.id}, {"$set": {"password": _hash(body.newPassword)}})
    auth.close_all_sessions(p.kind, p.id)
    return {"res": 1, "token": auth.open_session(p.kind, p.id)}


@endpoint(bp, "/requestPasswordReset", access=PUBLIC, body=RequestResetBody)
def request_password_reset(body: RequestResetBody):
    """Mail a single-use reset code. Always {res: 1}, so it does not reveal who has an account."""
    c = ctx()
    auth.check_login_allowed(body.email)
    account = c.db[names.ACCOUNTS].find_one({"email": body.email}, {"_id": 1})
    if account is None:
        auth.record_login_failure(body.email)
        return {"res": 1}
    code = security.new_code(8)
    now = c.clock.now()
    c.db[names.ACCOUNTS].update_one(
        {"_id": account["_id"]},
        {
            "$set": {
                "passwordReset": {
                    "hash": _hash(code),
                    "expiresAt": now + c.config.reset_code_ttl_seconds,
                    "attempts": 0,
                }
            }
        },
    )
    minutes = c.config.reset_code_ttl_seconds // 60
    c.mailer.send(
        body.email,
        "Glimpse: código para redefinir sua senha",
        f"Seu código é {code}. Ele vale por {minutes} minutos e só pode ser usado uma vez.\n"
        f"Your code is {code}. It is valid for {minutes} minutes and can be used once.",
    )
    return {"res": 1}


MAX_RESET_ATTEMPTS = 5


@endpoint(bp, "/resetPassword", access=PUBLIC, body=ResetPasswordBody)
def reset_password(body: ResetPasswordBody):
    """Set a new password with the mailed code; the code then stops working and every session ends."""
    c = ctx()
    accounts = c.db[names.ACCOUNTS]
    account = accounts.find_one({"email": body.email})
    reset = (account or {}).get("passwordReset") or {}
    invalid = bad_request("the code is wrong, expired or already used", "code")
    if (
        not reset
        or reset.get("expiresAt", 0) <= c.clock.now()
        or reset.get("attempts", 0) >= MAX_RESET_ATTEMPTS
    ):
        raise invalid
    if not security.verify_password(reset.get("hash", ""), body.code.strip().upper()):
        accounts.update_one(
            {"_id": account["_id"], "passwordReset": {"$exists": True}},
            {"$inc": {"passwordReset.attempts": 1}},
        )
        raise invalid
    # Conditional on the same reset document, so the code works once even under a race.
    result = accounts.update_one(
        {"_id": account["_id"], "passwordReset.hash": reset["hash"]},
        {"$set": {"password": _hash(body.newPassword)}, "$unset": {"passwordReset": ""}},
    )
    if result.modified_count == 0:
        raise invalid
    auth.close_all_sessions("user", account["_id"])
    return {"res": 1}
