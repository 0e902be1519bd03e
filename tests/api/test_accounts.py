"""Accounts: login, sessions, registration, the user document and passwords."""

from __future__ import annotations

import re
import time

from bson import Decimal128

from glimpse.runtime import mail, security
from glimpse.store import db as names
from tests.api.conftest import PASSWORD, mailed


def test_login_answers_the_original_shape(client, user):
    body = client.post("/glimpse/login", json={"email": "ANA@example.com ", "password": PASSWORD}).json
    assert body["res"] == 1 and body["_id"] == {"$oid": user.id} and isinstance(body["token"], str)
    assert client.post("/glimpse/login", json={"email": user.email, "password": "nope"}).json == {"res": -1}
    assert client.post("/glimpse/login", json={"email": "ghost@example.com", "password": "x"}).json == {
        "res": -1
    }


def test_login_failures_are_throttled_per_email(client, user, config):
    for _ in range(config.login_max_failures):
        assert client.post("/glimpse/login", json={"email": user.email, "password": "bad"}).json == {
            "res": -1
        }
    response = client.post("/glimpse/login", json={"email": user.email, "password": PASSWORD})
    assert response.status_code == 429 and "error" in response.json


def test_login_throttle_window_passes(client, user, config, monkeypatch):
    for _ in range(config.login_max_failures):
        client.post("/glimpse/login", json={"email": user.email, "password": "bad"})
    # Throttle windows run on the wall clock (api/throttle.py), not on the market clock.
    later = time.time() + config.login_window_seconds + 1
    monkeypatch.setattr(time, "time", lambda: later)
    assert client.post("/glimpse/login", json={"email": user.email, "password": PASSWORD}).json["res"] == 1


def test_login_failures_are_throttled_per_address(client, config):
    # Many emails from one address: the address is throttled too.
    for i in range(config.login_max_failures * 4):
        assert (
            client.post(
                "/glimpse/login", json={"email": f"guess{i}@example.com", "password": "bad"}
            ).status_code
            == 200
        )
    response = client.post("/glimpse/login", json={"email": "someone@example.com", "password": "x"})
    assert response.status_code == 429


def test_manager_login(client, manager):
    body = client.post("/glimpse/managerLogin", json={"email": manager.email, "password": PASSWORD}).json
    assert body["res"] == 1 and body["name"] == "Chefe" and body["token"]
    assert client.post("/glimpse/managerLogin", json={"email": manager.email, "password": "x"}).json == {
        "res": -1
    }
    # A user's credentials are not a manager's.
    assert client.post(
        "/glimpse/managerLogin", json={"email": "ana@example.com", "password": PASSWORD}
    ).json == {"res": -1}


def test_logout_revokes_only_that_token(client, user):
    second = client.post("/glimpse/login", json={"email": user.email, "password": PASSWORD}).json["token"]
    assert client.post("/glimpse/logout", json={}, headers=user.headers).json == {"res": 1}
    assert client.post("/glimpse/getUser", json={}, headers=user.headers).status_code == 401
    assert (
        client.post("/glimpse/getUser", json={}, headers={"Authorization": f"Bearer {second}"}).status_code
        == 200
    )


def test_get_user_hides_secrets(client, user, db):
    db[names.ACCOUNTS].update_one(
        {"email": user.email},
        {
            "$set": {
                "iqPassword": security.encrypt_secret("k" * 40, "iq"),
                "iqConnected": True,
                "passwordReset": {"hash": "x"},
            }
        },
    )
    body = client.post("/glimpse/getUser", json={"userMail": user.email}, headers=user.headers).json
    assert body["_id"] == {"$oid": user.id} and body["email"] == user.email
    for secret in ("password", "iqPassword", "passwordReset", "passwordRecoverCode"):
        assert secret not in body
    assert body["iqConnected"] is True
    assert isinstance(body["iqPeriodProfit"], (int, float)) and body["glimpseStatus"] == "off"
    # The original app sends the id as userMail on some routes: both identify the caller.
    assert (
        client.post("/glimpse/getUser", json={"userMail": user.id}, headers=user.headers).status_code == 200
    )


def test_get_user_of_another_user_is_403(client, user, other_user):
    for ref in (other_user.email, other_user.id):
        response = client.post("/glimpse/getUser", json={"userMail": ref}, headers=user.headers)
        assert response.status_code == 403 and response.json["field"] == "userMail"


def _update(client, caller, fields, values, **extra):
    return client.post(
        "/glimpse/updateUser", json={"fields": fields, "values": values, **extra}, headers=caller.headers
    )


def _doc(db, caller):
    return db[names.ACCOUNTS].find_one({"email": caller.email})


def test_update_user_whitelisted_fields(client, user, db):
    settings = {
        "alerts": {
            k: False
            for k in (
                "useAlerts",
                "glimpseStart",
                "glimpseStop",
                "activeClose",
                "stopLossReached",
                "stopWinReached",
            )
        },
        "glimpse": {"slides": False, "operationPriority": "stop"},
    }
    money = {"money": 2.5, "gale": True, "galeCount": 2, "galeType": "sobra", "sobra": 1, "stopLoss": True,
             "stopLossValue": 20, "stopWin": True, "stopWinValue": 10.25}  # fmt: skip
    response = _update(
        client,
        user,
        ["name", "readTerms", "lastLogin", "mode", "preferedPayout", "preferedActives", "iqAccountType",
         "strategySettings", "signalSettings", "settings"],
        ["Ana  Souza", True, {"time": "20/07/2022 10:31:02", "ip": "1.2.3.4", "location": "Recife"}, "signals", "= 87",
         "EURUSD,GBPUSD-OTC,EURUSD", "real", money, money, settings],
        userMail=user.id,
    )  # fmt: skip
    assert response.status_code == 200 and response.json == {"message": "User updated!"}
    doc = _doc(db, user)
    assert doc["name"] == "Ana Souza" and doc["readTerms"] is True and doc["mode"] == "signals"
    assert doc["preferedPayout"] == "= 87" and doc["preferedActives"] == "EURUSD,GBPUSD-OTC"
    assert doc["iqAccountType"] == "real" and doc["strategySettings"] == doc["signalSettings"]
    # Amounts are stored exactly (Decimal128 of whole cents), never as floats ...
    stored = {**money, **{k: Decimal128(v) for k, v in AMOUNTS.items()}}
    assert doc["strategySettings"] == stored
    assert doc["settings"] == settings and doc["lastLogin"]["ip"] == "1.2.3.4"
    # ... and the app reads back the numbers it sent.
    shown = client.post("/glimpse/getUser", json={"userMail": user.id}, headers=user.headers).json
    assert shown["strategySettings"] == money == shown["signalSettings"]


AMOUNTS = {"money": "2.50", "sobra": "1.00", "stopLossValue": "20.00", "stopWinValue": "10.25"}


def test_update_user_strategy_must_be_owned(client, user, db):
    assert _update(client, user, ["strategy"], ["Glimpse Baixo Risco"]).status_code == 200
    response = _update(client, user, ["strategy"], ["Someone Elses"])
    assert response.status_code == 400 and response.json["field"] == "strategy"


def test_update_user_rejects_bad_values(client, user, db):
    before = _doc(db, user)
    cases = [
        (["preferedPayout"], ["> 49"], "preferedPayout"),
        (["preferedPayout"], [">85"], "preferedPayout"),
        (["preferedActives"], ["EURUSD,BTCUSD"], "preferedActives"),
        (["mode"], ["martingale"], "mode"),
        (["iqAccountType"], ["demo"], "iqAccountType"),
        (["readTerms"], ["yes"], "readTerms"),
        (["strategySettings"], [{"money": 0.5}], "strategySettings.money"),
        (["strategySettings"], [{"money": 5}], "strategySettings.gale"),
        (["signalSettings"], [dict(money=1.234, gale=False, galeCount=0, galeType="dobro", sobra=0, stopLoss=False,
                                   stopLossValue=0, stopWin=False, stopWinValue=0)], "signalSettings.money"),
        (["strategySettings"], [dict(money=2, gale=True, galeCount=11, galeType="dobro", sobra=0, stopLoss=False,
                                     stopLossValue=0, stopWin=False, stopWinValue=0)], "strategySettings.galeCount"),
        (["settings"], [{"alerts": {}, "glimpse": {}}], "settings.alerts.useAlerts"),
        (["alerts"], [[{"read": True}]], "alerts.0.time"),
        (["nickname"], ["x"], "nickname"),
        (["settings.glimpse.slides"], [True], "settings.glimpse.slides"),
        (["$set"], [{}], "$set"),
        (["name", "name"], ["a", "b"], "fields"),
        (["name"], ["a", "b"], "values"),
    ]  # fmt: skip
    for fields, values, field in cases:
        response = _update(client, user, fields, values)
        assert response.status_code == 400, (fields, response.json)
        assert response.json["field"] == field, (fields, response.json)
    assert _doc(db, user) == before  # nothing was written


def test_update_user_refuses_server_managed_fields(client, user, db):
    for field, value in [("premiumDays", 999), ("iqPeriodProfit", 1e6), ("iqPeriodLoss", 0), ("iqSessionProfit", 5),
                         ("operating", {}), ("ownedStrategies", ["x"]), ("password", "plain"), ("type", "admin"),
                         ("iqPassword", "x"), ("email", "x@y.z")]:  # fmt: skip
        response = _update(client, user, [field], [value])
        assert response.status_code == 403 and response.json["field"] == field
    assert _doc(db, user)["premiumDays"] == 30


def test_update_user_of_another_user_is_403(client, user, other_user, db):
    response = _update(client, user, ["name"], ["Hacked"], userMail=other_user.id)
    assert response.status_code == 403
    assert _doc(db, other_user)["name"] == "Bruno Costa"


def test_start_and_stop_transitions(client, user, db):
    # Start needs broker credentials.
    response = _update(client, user, ["glimpseStatus"], ["waiting"])
    assert response.status_code == 409 and response.json["field"] == "glimpseStatus"
    db[names.ACCOUNTS].update_one(
        {"email": user.email}, {"$set": {"iqConnected": True, "iqPassword": "enc1:x"}}
    )
    assert _update(client, user, ["glimpseStatus"], ["waiting"]).status_code == 200
    doc = _doc(db, user)
    assert (
        doc["glimpseStatus"] == "waiting"
        and doc["operating"]["operating"] is False
        and doc["waitingSince"] > 0
    )
    # Already started: waiting -> waiting is refused.
    assert _update(client, user, ["glimpseStatus"], ["waiting"]).status_code == 409
    assert _update(client, user, ["glimpseStatus"], ["operating"]).status_code == 400
    assert _update(client, user, ["glimpseStatus"], ["off"]).status_code == 400
    assert _update(client, user, ["glimpseStatus"], ["stopping"]).status_code == 200
    assert _doc(db, user)["glimpseStatus"] == "stopping"
    assert _update(client, user, ["glimpseStatus"], ["stopping"]).status_code == 409  # not from stopping


def test_stop_works_while_operating(client, user, db):
    db[names.ACCOUNTS].update_one({"email": user.email}, {"$set": {"glimpseStatus": "operating"}})
    assert _update(client, user, ["glimpseStatus"], ["stopping"]).status_code == 200
    assert _doc(db, user)["glimpseStatus"] == "stopping"


def test_start_needs_a_strategy_in_strategy_mode(client, user, db):
    db[names.ACCOUNTS].update_one(
        {"email": user.email}, {"$set": {"iqConnected": True, "iqPassword": "enc1:x", "strategy": ""}}
    )
    response = _update(client, user, ["glimpseStatus"], ["waiting"])
    assert response.status_code == 409 and "strategy" in response.json["error"]
    assert _update(client, user, ["mode", "glimpseStatus"], ["signals", "waiting"]).status_code == 200


def test_alerts_only_flags_change(client, user, db):
    db[names.ACCOUNTS].update_one(
        {"email": user.email},
        {
            "$push": {
                "alerts": {
                    "title": "Stop Win.",
                    "description": "",
                    "read": False,
                    "shown": False,
                    "time": "1717419700.000",
                    "type": "info",
                }
            }
        },
    )
    alerts = _doc(db, user)["alerts"]
    sent = [dict(a, read=True, shown=True, title="changed!") for a in alerts]
    assert _update(client, user, ["alerts"], [sent]).status_code == 200
    after = _doc(db, user)["alerts"]
    assert [a["title"] for a in after] == [a["title"] for a in alerts]  # titles untouched
    assert all(a["read"] and a["shown"] for a in after)


def test_insert_user_consumes_the_code(client, db):
    db[names.CODES].insert_one(
        {"code": "WELCOME1", "valid": True, "usedBy": "", "usedWhen": 0, "premiumDays": 30}
    )
    assert client.post("/glimpse/checkCode", json={"code": "WELCOME1"}).json == {"res": True}
    body = {
        "userName": "Nova  Pessoa",
        "userMail": "Nova@Example.com",
        "userPassword": "a good password",
        "code": "WELCOME1",
    }
    response = client.post("/glimpse/insertUser", json=body)
    assert response.status_code == 200 and response.json["message"] == "User created!"
    doc = db[names.ACCOUNTS].find_one({"email": "nova@example.com"})
    assert doc["name"] == "Nova Pessoa" and doc["premiumDays"] == 30 and security.is_hashed(doc["password"])
    code = db[names.CODES].find_one({"code": "WELCOME1"})
    assert code["valid"] is False and code["usedBy"] == "nova@example.com"
    assert client.post("/glimpse/checkCode", json={"code": "WELCOME1"}).json == {"res": False}
    assert client.post("/glimpse/checkCode", json={"code": "NOPE"}).json == {"res": -1}
    # A used code, then an unknown one: 400 naming the code.
    again = client.post("/glimpse/insertUser", json=dict(body, userMail="third@example.com"))
    assert again.status_code == 400 and again.json["field"] == "code"
    # The new user can log in.
    assert (
        client.post("/glimpse/login", json={"email": "nova@example.com", "password": "a good password"}).json[
            "res"
        ]
        == 1
    )


def test_insert_user_existing_email_is_409_and_keeps_the_code(client, db, user):
    db[names.CODES].insert_one(
        {"code": "WELCOME2", "valid": True, "usedBy": "", "usedWhen": 0, "premiumDays": 7}
    )
    response = client.post(
        "/glimpse/insertUser",
        json={"userName": "X", "userMail": user.email, "userPassword": "a good password", "code": "WELCOME2"},
    )
    assert response.status_code == 409 and response.json["field"] == "userMail"
    assert db[names.CODES].find_one({"code": "WELCOME2"})["valid"] is True


def test_insert_user_validates(client):
    bad = {"userName": "X", "userMail": "not-an-email", "userPassword": "a good password", "code": "C"}
    assert client.post("/glimpse/insertUser", json=bad).json["field"] == "userMail"
    short = dict(bad, userMail="x@example.com", userPassword="short")
    assert client.post("/glimpse/insertUser", json=short).json["field"] == "userPassword"


def test_use_code_adds_premium_days_once(client, db, user):
    db[names.CODES].insert_one(
        {"code": "MORE30", "valid": True, "usedBy": "", "usedWhen": 0, "premiumDays": 30}
    )
    assert client.post(
        "/glimpse/useCode", json={"code": "MORE30", "user": user.email}, headers=user.headers
    ).json == {"res": "Code used!"}
    assert _doc(db, user)["premiumDays"] == 60
    # Idempotent for the same user, refused for an unknown code, 403 for another user's email.
    assert client.post("/glimpse/useCode", json={"code": "MORE30"}, headers=user.headers).json == {
        "res": "Code used!"
    }
    assert _doc(db, user)["premiumDays"] == 60
    assert client.post("/glimpse/useCode", json={"code": "NOPE"}, headers=user.headers).status_code == 400
    assert (
        client.post(
            "/glimpse/useCode", json={"code": "MORE30", "user": "x@y.zz"}, headers=user.headers
        ).status_code
        == 403
    )


def test_change_password_revokes_tokens(client, user, db):
    other_session = client.post("/glimpse/login", json={"email": user.email, "password": PASSWORD}).json[
        "token"
    ]
    wrong = client.post(
        "/glimpse/changePassword",
        json={"currentPassword": "wrong", "newPassword": "brand new pass"},
        headers=user.headers,
    )
    assert wrong.status_code == 400 and wrong.json["field"] == "currentPassword"
    response = client.post(
        "/glimpse/changePassword",
        json={"currentPassword": PASSWORD, "newPassword": "brand new pass"},
        headers=user.headers,
    )
    assert response.status_code == 200 and response.json["res"] == 1
    for token in (user.token, other_session):
        assert (
            client.post("/glimpse/getUser", json={}, headers={"Authorization": f"Bearer {token}"}).status_code
            == 401
        )
    fresh = {"Authorization": f"Bearer {response.json['token']}"}
    assert client.post("/glimpse/getUser", json={}, headers=fresh).status_code == 200
    assert (
        client.post("/glimpse/login", json={"email": user.email, "password": "brand new pass"}).json["res"]
        == 1
    )
    assert security.verify_password(_doc(db, user)["password"], "brand new pass")


def _mailed_code(db, config, email: str) -> str:
    found = re.search(r"\b([A-Z2-9]{8})\b", mailed(db, config, email))
    assert found is not None
    return found.group(1)


def test_password_reset_flow(client, user, db, clock, config):
    assert client.post("/glimpse/requestPasswordReset", json={"email": user.email}).json == {"res": 1}
    assert client.post("/glimpse/requestPasswordReset", json={"email": "ghost@example.com"}).json == {
        "res": 1
    }
    assert mail.open_queued(db, config, "ghost@example.com") == []
    code = _mailed_code(db, config, user.email)
    stored = _doc(db, user)["passwordReset"]
    assert security.is_reset_code_hash(stored["hash"]) and code not in str(stored)
    bad = client.post(
        "/glimpse/resetPassword",
        json={"email": user.email, "code": "WRONGCOD", "newPassword": "new password 1"},
    )
    assert bad.status_code == 400 and bad.json["field"] == "code"
    ok = client.post(
        "/glimpse/resetPassword", json={"email": user.email, "code": code, "newPassword": "new password 1"}
    )
    assert ok.status_code == 200 and ok.json == {"res": 1}
    assert client.post("/glimpse/getUser", json={}, headers=user.headers).status_code == 401  # sessions ended
    assert (
        client.post("/glimpse/login", json={"email": user.email, "password": "new password 1"}).json["res"]
        == 1
    )
    # Single use.
    again = client.post(
        "/glimpse/resetPassword", json={"email": user.email, "code": code, "newPassword": "new password 2"}
    )
    assert again.status_code == 400


def test_password_reset_code_expires_and_limits_attempts(client, user, db, clock, config):
    client.post("/glimpse/requestPasswordReset", json={"email": user.email})
    code = _mailed_code(db, config, user.email)
    clock.advance(config.reset_code_ttl_seconds + 1)
    response = client.post(
        "/glimpse/resetPassword", json={"email": user.email, "code": code, "newPassword": "new password 1"}
    )
    assert response.status_code == 400
    client.post("/glimpse/requestPasswordReset", json={"email": user.email})
    code = _mailed_code(db, config, user.email)
    for _ in range(5):
        client.post(
            "/glimpse/resetPassword",
            json={"email": user.email, "code": "AAAAAAAA", "newPassword": "new password 1"},
        )
    response = client.post(
        "/glimpse/resetPassword", json={"email": user.email, "code": code, "newPassword": "new password 1"}
    )
    assert response.status_code == 400  # too many wrong attempts burn the code


def test_get_users_for_managers(client, manager, user, other_user):
    users = client.post("/glimpse/getUsers", json={}, headers=manager.headers).json
    assert [u["email"] for u in users] == ["ana@example.com", "bruno@example.com"]
    assert users[0]["iqAccountType"] == "treinamento" and "operationSettings" in users[0]
    assert all("password" not in u and "iqPassword" not in u for u in users)
