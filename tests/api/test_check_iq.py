"""checkIq: broker credentials are checked by the broker and stored encrypted."""

from __future__ import annotations

from glimpse.market.base import AuthError, BrokerTimeout, Unreachable
from glimpse.runtime import security
from glimpse.store import db as names


def test_check_iq_stores_the_password_encrypted(client, db, user, broker_check, config):
    response = client.post(
        "/glimpse/checkIq",
        json={"email": "ana.iq@example.com", "password": "iq-secret"},
        headers=user.headers,
    )
    assert response.status_code == 200
    assert response.json == {"res": 1, "account": "ana.iq@example.com", "treinamento": 10000.0, "real": 0.0}
    assert broker_check.calls == [("ana.iq@example.com", "iq-secret")]
    doc = db[names.ACCOUNTS].find_one({"email": user.email})
    assert doc["iqEmail"] == "ana.iq@example.com" and doc["iqConnected"] is True
    assert doc["iqBalancePractice"] == 1_000_000 and type(doc["iqBalancePractice"]) is int  # cents
    assert (
        "iq-secret" not in doc["iqPassword"]
        and security.decrypt_secret(config.secret_key.get_secret_value(), doc["iqPassword"]) == "iq-secret"
    )
    view = client.post("/glimpse/getUser", json={}, headers=user.headers).json
    assert view["iqConnected"] is True and "iqPassword" not in view


def test_check_iq_maps_broker_errors(client, db, user, broker_check):
    for error, status in (
        (AuthError("invalid_credentials"), 200),  # the original's {res: reason} (issue 16)
        (Unreachable("down"), 503),
        (BrokerTimeout("slow"), 504),
    ):
        broker_check.error = error
        response = client.post(
            "/glimpse/checkIq", json={"email": "a@b.cc", "password": "p"}, headers=user.headers
        )
        assert response.status_code == status and "error" in response.json
    assert db[names.ACCOUNTS].find_one({"email": user.email})["iqPassword"] == ""


def test_check_iq_without_a_broker_is_503(config, db, clock, user):
    from api import create_app

    app = create_app(config, db=db, clock=clock, check_broker_credentials=None)
    response = app.test_client().post(
        "/glimpse/checkIq", json={"email": "a@b.cc", "password": "p"}, headers=user.headers
    )
    assert response.status_code == 503 and "broker" in (response.json or {})["error"]
