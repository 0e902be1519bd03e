"""A token read once is not verified and looked up again (api.auth.KnownTokens), yet every way a
session ends still refuses it on the very next request."""

from __future__ import annotations

import pytest

from api.auth import KnownTokens
from glimpse.runtime import security
from glimpse.store import db as names
from tests.api.conftest import PASSWORD
from tests.conftest import TEST_MONGO_URI


def get_user(client, token: str) -> int:
    response = client.post("/glimpse/getUser", json={}, headers={"Authorization": f"Bearer {token}"})
    return int(response.status_code)


def remembered(app, token: str) -> bool:
    return bool(app.extensions["glimpse_tokens"].is_live(token))


@pytest.mark.skipif(bool(TEST_MONGO_URI), reason="sessions are remembered only on the embedded store")
def test_a_token_is_remembered_after_its_first_request(app, client, user):
    assert not remembered(app, user.token)  # login opened it; nothing has read it yet
    assert get_user(client, user.token) == 200
    assert remembered(app, user.token)


def test_logout_refuses_a_remembered_token(client, user):
    assert get_user(client, user.token) == 200
    assert get_user(client, user.token) == 200
    assert client.post("/glimpse/logout", json={}, headers=user.headers).status_code == 200
    assert get_user(client, user.token) == 401


def test_a_password_change_refuses_every_remembered_token(client, user):
    second = client.post("/glimpse/login", json={"email": user.email, "password": PASSWORD}).json["token"]
    assert get_user(client, user.token) == 200 and get_user(client, second) == 200
    changed = client.post(
        "/glimpse/changePassword",
        json={"currentPassword": PASSWORD, "newPassword": "a much better passphrase"},
        headers=user.headers,
    )
    assert changed.status_code == 200, changed.json
    assert get_user(client, second) == 401
    assert get_user(client, user.token) == 401


def test_blocking_a_user_refuses_their_remembered_token(client, user, other_user, manager):
    assert get_user(client, user.token) == 200 and get_user(client, other_user.token) == 200
    blocked = client.post(
        "/glimpse/blockUser", json={"user": user.id, "blocked": True}, headers=manager.headers
    )
    assert blocked.status_code == 200, blocked.json
    assert get_user(client, user.token) == 401
    assert get_user(client, other_user.token) == 200  # only that user's sessions ended


def test_a_deleted_account_refuses_a_remembered_token(client, user, db):
    assert get_user(client, user.token) == 200
    db[names.ACCOUNTS].delete_one({"email": user.email})
    assert get_user(client, user.token) == 401


def test_the_account_is_read_fresh_on_every_request(client, user, db):
    assert client.post("/glimpse/getUser", json={}, headers=user.headers).json["name"] == "Ana Maria Silva"
    db[names.ACCOUNTS].update_one({"email": user.email}, {"$set": {"name": "Ana Renamed"}})
    assert client.post("/glimpse/getUser", json={}, headers=user.headers).json["name"] == "Ana Renamed"


def test_a_remembered_token_still_expires(client, user, clock, config):
    assert get_user(client, user.token) == 200
    clock.advance(config.token_ttl_seconds + 1)
    response = client.post("/glimpse/getUser", json={}, headers=user.headers)
    assert response.status_code == 401
    assert "expired" in response.json["error"]


def test_a_forged_token_is_never_remembered(app, client, user):
    forged = user.token[:-2] + ("AA" if not user.token.endswith("AA") else "BB")
    assert get_user(client, forged) == 401
    assert get_user(client, forged) == 401
    assert not remembered(app, forged)


def test_without_sessions_in_process_every_request_asks_the_database(app, client, user, db):
    # As with a real MongoDB, where another worker may end a session.
    app.extensions["glimpse_tokens"] = KnownTokens(sessions_here=False)
    assert get_user(client, user.token) == 200
    assert not remembered(app, user.token)
    db[names.SESSIONS].delete_many({})
    assert get_user(client, user.token) == 401


def claims(session: str, subject: str = "a" * 24) -> security.TokenClaims:
    return security.TokenClaims(subject, "user", session, 2e9)


def test_a_lookup_that_raced_with_a_session_end_is_not_remembered():
    known = KnownTokens(sessions_here=True)
    started = known.generation  # the lookup starts and finds the session...
    known.forget(lambda c: c.session == "s1")  # ...which ends before the lookup records it
    known.mark_live("token-1", claims("s1"), started)
    assert not known.is_live("token-1")
    known.mark_live("token-1", claims("s1"), known.generation)
    assert known.is_live("token-1")


def test_forget_ends_only_the_matching_sessions():
    known = KnownTokens(sessions_here=True)
    for token, session, subject in (("t1", "s1", "a" * 24), ("t2", "s2", "a" * 24), ("t3", "s3", "b" * 24)):
        known.mark_live(token, claims(session, subject), known.generation)
    known.forget(lambda c: c.subject == "a" * 24)
    assert [t for t in ("t1", "t2", "t3") if known.is_live(t)] == ["t3"]


def test_the_tables_are_bounded(monkeypatch):
    monkeypatch.setattr(KnownTokens, "MAX_ENTRIES", 3)
    known = KnownTokens(sessions_here=True)
    for n in range(10):
        known.mark_live(f"t{n}", claims(f"s{n}"), known.generation)
    assert sum(known.is_live(f"t{n}") for n in range(10)) <= 3
    assert known.is_live("t9")
