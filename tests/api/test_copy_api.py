"""Copy mode's routes: opt in, the manager's switch, follow and unfollow, the follower's dashboard;
tokens, roles, validation and another user's data."""

from __future__ import annotations

from decimal import Decimal

import pytest

from glimpse.runtime import security
from glimpse.store import copying, trades
from glimpse.store import db as names
from tests.api.conftest import PASSWORD, Caller, login
from tests.api.samples import SAMPLES

USER_ROUTES = ["setFollowable", "getFollowable", "follow", "unfollow", "getCopying"]
MANAGER_ROUTES = ["getFollowableRequests", "approveFollowable"]


def post(client, path: str, caller: Caller | None, body: dict | None = None):
    return client.post("/glimpse/" + path, json=body or {}, headers=caller.headers if caller else {})


@pytest.fixture
def make_manager(client, db, config):
    def make(email: str, rol: str) -> Caller:
        doc = {"user": email, "name": email.split("@")[0], "rol": rol,
               "password": security.hash_password(PASSWORD, config.password_hash_profile)}  # fmt: skip
        inserted = db[names.MANAGER_ACCOUNTS].insert_one(doc)
        body = login(client, email, route="/glimpse/managerLogin")
        assert body["res"] == 1
        return Caller(str(inserted.inserted_id), email, body["token"])

    return make


@pytest.fixture
def admin(make_manager) -> Caller:
    return make_manager("boss@example.com", "admin")


@pytest.fixture
def support(make_manager) -> Caller:
    return make_manager("help@example.com", "support")


@pytest.mark.parametrize("path", USER_ROUTES + MANAGER_ROUTES)
def test_every_route_needs_a_token(client, path):
    assert post(client, path, None).status_code == 401


@pytest.mark.parametrize("path", USER_ROUTES)
def test_trader_routes_refuse_a_manager(client, admin, path):
    assert post(client, path, admin, SAMPLES.get(path, {})).status_code == 403


def test_only_an_admin_approves_and_the_approval_is_audited(client, db, user, other_user, admin, support):
    assert post(client, "approveFollowable", admin, {"user": user.id, "approved": True}).get_json() == {
        "res": 0
    }
    assert post(client, "getCopying", user).get_json()["me"] == {"optedIn": False, "approved": False}
    assert post(client, "setFollowable", user, {"followable": True}).get_json()["followable"] is False
    assert post(client, "getFollowable", other_user).get_json() == []  # opted in, not approved yet
    assert post(client, "getCopying", user).get_json()["me"] == {"optedIn": True, "approved": False}
    assert post(client, "approveFollowable", user, {"user": user.id, "approved": True}).status_code == 403
    assert post(client, "approveFollowable", support, {"user": user.id, "approved": True}).status_code == 403
    pending = post(client, "getFollowableRequests", support).get_json()
    assert [(p["user"], p["approved"]) for p in pending] == [(user.id, False)]
    done = post(client, "approveFollowable", admin, {"user": user.id, "approved": True}).get_json()
    assert done["res"] == 1 and done["followable"] is True
    audit = db[names.MANAGER_AUDIT].find_one({"didWhat": "approveFollowable"})
    assert (
        audit["target"] == user.id
        and audit["from"] == {"approved": False}
        and audit["to"] == {"approved": True}
    )
    listed = post(client, "getFollowable", other_user).get_json()
    assert [(f["user"], f["followers"]) for f in listed] == [(user.id, 0)]
    assert post(client, "getCopying", user).get_json()["me"] == {"optedIn": True, "approved": True}


def _approved(client, leader: Caller, admin: Caller) -> None:
    post(client, "setFollowable", leader, {"followable": True})
    post(client, "approveFollowable", admin, {"user": leader.id, "approved": True})


def test_follow_with_a_multiplier_or_a_fixed_stake_and_unfollow(client, db, user, other_user, admin):
    refused = post(client, "follow", other_user, {"leader": user.id, "multiplier": 2}).get_json()
    assert refused["res"] == 0 and refused["field"] == "leader"
    assert copying.following(db, other_user.id) is None
    _approved(client, user, admin)
    body = post(client, "follow", other_user, {"leader": user.id, "multiplier": 1.5}).get_json()
    assert body["res"] == 1 and body["stakeType"] == "multiplier" and body["multiplier"] == 1.5
    assert body["leaderName"]
    choice = copying.following(db, other_user.id)
    assert choice is not None and choice.stake_for(200) == Decimal("3.00")
    body = post(client, "follow", other_user, {"leader": user.id, "fixedStake": 7.25}).get_json()
    assert body["stakeType"] == "fixed" and body["fixedStake"] == 7.25
    assert db[copying.COPY_FOLLOWS].find_one({"_id": other_user.id})["fixedStake"] == 725  # integer cents
    assert post(client, "getFollowable", other_user).get_json()[0]["followers"] == 1
    assert post(client, "unfollow", other_user).get_json() == {"res": 1}
    assert post(client, "unfollow", other_user).get_json() == {"res": 0}
    assert post(client, "getCopying", other_user).get_json()["following"] is None


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"leader": "not-an-id", "multiplier": 1},
        {"leader": "665f1c2e8a1b2c3d4e5f6a01"},
        {"leader": "665f1c2e8a1b2c3d4e5f6a01", "multiplier": 1, "fixedStake": 2},
        {"leader": "665f1c2e8a1b2c3d4e5f6a01", "multiplier": 0},
        {"leader": "665f1c2e8a1b2c3d4e5f6a01", "fixedStake": 0.5},
        {"leader": "665f1c2e8a1b2c3d4e5f6a01", "multiplier": "2"},
    ],
)
def test_bad_follow_bodies_are_4xx_naming_the_field(client, user, body):
    response = post(client, "follow", user, body)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"]


def test_a_trader_cannot_copy_themselves(client, user, admin):
    _approved(client, user, admin)
    response = post(client, "follow", user, {"leader": user.id, "multiplier": 1})
    assert response.status_code == 400 and response.get_json()["field"] == "leader"


def test_the_dashboard_shows_only_the_callers_copied_trades(client, db, clock, user, other_user, admin):
    _approved(client, user, admin)
    post(client, "follow", other_user, {"leader": user.id, "multiplier": 1})
    leader_trade = trades.record_intent(
        db, user=user.id, session="s", server="a", ativo="EURUSD", operacao="call", amount=Decimal(2),
        gale_level=0, payout=87, decided_at=clock.now(), cycle="c", account="PRACTICE",
    )  # fmt: skip
    for level, (amount, profit) in enumerate([(Decimal(2), Decimal(-2)), (Decimal(4), Decimal("3.48"))]):
        copy = trades.record_intent(
            db, user=other_user.id, session="s2", server="b", ativo="EURUSD", operacao="call", amount=amount,
            gale_level=level, payout=87, decided_at=clock.now(), cycle="c2", account="PRACTICE",
            copies=str(leader_trade.id),
            client_key=copying.copy_key(other_user.id, str(leader_trade.id)) if level == 0 else None,
        )  # fmt: skip
        trades.mark_open(db, copy.id, 10 + level, clock.now(), 1.08)
        trades.settle(db, copy.id, profit, clock.now() + 60, 1.09)
    view = post(client, "getCopying", other_user).get_json()
    assert view["following"]["leader"] == user.id
    assert view["summary"] == {
        "trades": 2,
        "cycles": 1,
        "wins": 1,
        "losses": 1,
        "dojis": 0,
        "open": 0,
        "net": 148,
    }
    assert {t["copies"] for t in view["trades"]} == {str(leader_trade.id)}
    assert sorted(t["amount"] for t in view["trades"]) == [200, 400]
    mine = post(client, "getCopying", user).get_json()  # the leader copies nobody
    assert mine == {"following": None, "summary": mine["summary"], "trades": [], "me": mine["me"]}
    assert mine["summary"]["trades"] == 0
