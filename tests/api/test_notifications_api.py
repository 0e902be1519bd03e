"""The notification routes: Telegram link codes, switches and language, webhooks, test buttons;
tokens, validation and another user's data."""

from __future__ import annotations

from typing import Any

import pytest

from api import create_app
from glimpse.runtime import security
from glimpse.store import db as names
from glimpse.store import notifications as store
from tests.api.conftest import PASSWORD, Caller, login
from tests.api.notification_samples import NOTIFICATION_SAMPLES
from tests.fakes.telegram import FakeTelegram

ROUTES = [
    ("getNotifications", {}),
    ("setNotifications", {"language": "en"}),
    ("linkTelegram", {}),
    ("unlinkTelegram", {}),
    ("testTelegram", {}),
    ("getWebhooks", {}),
    ("registerWebhook", {"url": "https://hooks.example.com/glimpse"}),
    ("deleteWebhook", {"id": "665f1c2e8a1b2c3d4e5f6a01"}),
    ("testWebhook", {"id": "665f1c2e8a1b2c3d4e5f6a01"}),
]


@pytest.fixture
def telegram():
    fake = FakeTelegram().start()
    yield fake
    fake.close()


@pytest.fixture
def config(config, telegram):
    # The API asks the (fake) Bot API for the bot's name; webhooks stay strict (public HTTPS only).
    return config.with_(telegram_token=telegram.token, telegram_api=telegram.url)


def post(client, path: str, caller: Caller | None, body: dict | None = None, headers: dict | None = None):
    sent = headers if headers is not None else (caller.headers if caller else {})
    return client.post("/glimpse/" + path, json=body or {}, headers=sent)


@pytest.mark.parametrize(("path", "body"), ROUTES)
def test_every_route_needs_a_token(client, path, body):
    assert post(client, path, None, body).status_code == 401
    assert post(client, path, None, body, headers={"Authorization": "Bearer forged"}).status_code == 401


@pytest.mark.parametrize("path", ["getNotifications", "setNotifications", "linkTelegram", "testTelegram"])
def test_trader_routes_refuse_a_manager(client, manager, path):
    assert post(client, path, manager).status_code == 403


def test_defaults_and_the_bots_name(client, user, telegram):
    body = post(client, "getNotifications", user).json
    assert body["language"] == "pt-BR"
    assert body["events"] == dict.fromkeys(store.EVENTS, True)
    assert body["telegram"]["linked"] is False
    assert body["bot"] == {"configured": True, "name": telegram.username}
    assert body["webhooks"] == []


def test_switches_and_language_are_saved_per_user(client, user, other_user):
    response = post(client, "setNotifications", user, {"language": "en", "events": {"cycleResult": False}})
    assert response.status_code == 200
    assert response.json["language"] == "en" and response.json["events"]["cycleResult"] is False
    mine = post(client, "getNotifications", user).json
    assert mine["events"]["cycleResult"] is False and mine["events"]["stopLoss"] is True
    theirs = post(client, "getNotifications", other_user).json
    assert theirs["language"] == "pt-BR" and theirs["events"]["cycleResult"] is True


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"language": "de"}, "language"),
        ({"events": {"orderPlaced": True}}, "events"),
        ({"events": {"cycleResult": "no"}}, "events.cycleResult"),
        ({"events": ["cycleResult"]}, "events"),
    ],
)
def test_bad_settings_name_the_field(client, user, body, field):
    response = post(client, "setNotifications", user, body)
    assert response.status_code == 400 and response.json["field"] == field


def test_a_link_code_is_single_use_and_names_the_bot(client, db, user, telegram, clock):
    body = post(client, "linkTelegram", user).json
    assert len(body["code"]) == 10 and body["bot"] == telegram.username
    assert body["command"] == f"/start {body['code']}"
    assert body["link"] == f"https://t.me/{telegram.username}?start={body['code']}"
    stored = db[store.PREFS].find_one({"_id": user.id})
    assert body["code"] not in str(stored)  # only its hash is kept
    assert store.complete_link(db, body["code"], 42, "ana", clock.now()) == user.id
    assert store.complete_link(db, body["code"], 43, "eve", clock.now()) is None
    linked = post(client, "getNotifications", user).json["telegram"]
    assert linked["linked"] is True and linked["chat"] == "ana"
    assert post(client, "unlinkTelegram", user).json == {"res": 1}
    assert post(client, "unlinkTelegram", user).json == {"res": 0}


def test_linking_without_a_bot_is_a_clear_error(app, client, user, db, clock):
    app.extensions["glimpse"].config = app.extensions["glimpse"].config.with_(telegram_token=None)
    response = post(client, "linkTelegram", user)
    assert response.json["res"] == 0 and "GLIMPSE_TELEGRAM_TOKEN" in response.json["error"]
    assert db[store.PREFS].count_documents({}) == 0
    assert post(client, "getNotifications", user).json["bot"] == {"configured": False, "name": ""}


def test_the_telegram_test_button_queues_a_test_for_a_linked_chat(client, db, user, clock):
    assert post(client, "testTelegram", user).json == {"res": 0, "error": "no Telegram chat is linked"}
    assert db[store.QUEUE].count_documents({}) == 0
    db[store.PREFS].update_one({"_id": user.id}, {"$set": {"telegram": {"chatId": 42}}}, upsert=True)
    body = post(client, "testTelegram", user).json
    event = db[store.QUEUE].find_one({"eventId": body["id"]})
    assert (
        event["user"] == user.id and event["event"] == store.TEST and event["data"] == {"channel": "telegram"}
    )


def test_a_webhook_is_registered_with_a_secret_shown_once(client, db, user, config):
    response = post(client, "registerWebhook", user, {"url": "https://hooks.example.com/glimpse"})
    assert response.status_code == 200
    hook = response.json
    assert hook["scope"] == "user" and hook["secret"].startswith("whsec_")
    stored = db[store.WEBHOOKS].find_one()
    assert hook["secret"] not in str(stored)
    assert security.decrypt_secret(config.secret_key.get_secret_value(), stored["secret"]) == hook["secret"]
    listed = post(client, "getWebhooks", user).json
    assert listed == [{"id": hook["id"], "url": hook["url"], "scope": "user", "createdAt": hook["createdAt"]}]
    assert post(client, "getNotifications", user).json["webhooks"] == listed


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/x",
        "https://127.0.0.1/x",
        "https://10.0.0.8/x",
        "https://169.254.169.254/latest",
        "https://[::1]/x",
        "https://localhost:8443/x",
        "not a url at all",
    ],
)
def test_private_and_plain_urls_are_refused(client, db, user, url):
    response = post(client, "registerWebhook", user, {"url": url})
    assert response.status_code == 400 and response.json["field"] == "url"
    assert db[store.WEBHOOKS].count_documents({}) == 0


def test_private_urls_are_accepted_when_allowed(app, client, user):
    app.extensions["glimpse"].config = app.extensions["glimpse"].config.with_(webhook_allow_private=True)
    assert post(client, "registerWebhook", user, {"url": "http://127.0.0.1:9/hook"}).status_code == 200


def test_a_trader_has_at_most_five_webhooks(client, user):
    for n in range(store.MAX_WEBHOOKS_PER_OWNER):
        assert post(client, "registerWebhook", user, {"url": f"https://h{n}.example.com/"}).status_code == 200
    assert post(client, "registerWebhook", user, {"url": "https://h9.example.com/"}).status_code == 409


def test_another_users_webhook_is_not_theirs(client, db, user, other_user):
    hook = post(client, "registerWebhook", user, {"url": "https://hooks.example.com/a"}).json
    assert post(client, "getWebhooks", other_user).json == []
    for path in ("deleteWebhook", "testWebhook"):
        assert post(client, path, other_user, {"id": hook["id"]}).json == {"res": 0}
    assert db[store.WEBHOOKS].count_documents({}) == 1 and db[store.QUEUE].count_documents({}) == 0
    queued = post(client, "testWebhook", user, {"id": hook["id"]}).json
    event = db[store.QUEUE].find_one({"eventId": queued["id"]})
    assert event["data"] == {"channel": "webhook", "webhook": hook["id"]}
    assert post(client, "deleteWebhook", user, {"id": hook["id"]}).json == {"res": 1}
    assert post(client, "deleteWebhook", user, {"id": hook["id"]}).json == {"res": 0}


@pytest.mark.parametrize("body", [{}, {"id": "nope"}, {"id": 5}, {"id": "665F1C2E8A1B2C3D4E5F6A01"}])
def test_a_webhook_id_is_validated(client, user, body):
    response = post(client, "deleteWebhook", user, body)
    assert response.status_code == 400 and response.json["field"] == "id"


def test_a_managers_webhooks_get_every_users_events_and_are_theirs(client, db, user, manager, config):
    hook = post(client, "registerWebhook", manager, {"url": "https://ops.example.com/all"}).json
    assert hook["scope"] == "all"
    assert post(client, "getWebhooks", manager).json[0]["id"] == hook["id"]
    assert post(client, "getWebhooks", user).json == []  # a trader never sees the managers' webhooks
    assert post(client, "deleteWebhook", user, {"id": hook["id"]}).json == {"res": 0}
    assert store.destinations_for(db, user.id, store.STOP_LOSS, {}) == [("webhook", hook["id"])]


def test_support_managers_read_but_do_not_register(client, db, config):
    db[names.MANAGER_ACCOUNTS].insert_one(
        {
            "user": "help@example.com",
            "rol": "support",
            "password": security.hash_password(PASSWORD, config.password_hash_profile),
        }
    )
    support = login(client, "help@example.com", route="/glimpse/managerLogin")["token"]
    headers = {"Authorization": f"Bearer {support}"}
    assert post(client, "getWebhooks", None, headers=headers).status_code == 200
    assert (
        post(
            client, "registerWebhook", None, {"url": "https://ops.example.com/"}, headers=headers
        ).status_code
        == 403
    )


def test_the_samples_cover_every_route_and_are_valid(app, client, user, manager):
    from api.registry import ROUTES as REGISTERED

    # The webhook sample is a loopback address (the OpenAPI fuzz test has no name resolution to fake).
    app.extensions["glimpse"].config = app.extensions["glimpse"].config.with_(webhook_allow_private=True)

    mine = {r.view_name for r in REGISTERED if r.tag == "notifications"}
    assert mine == set(NOTIFICATION_SAMPLES)
    for route in (r for r in REGISTERED if r.tag == "notifications"):
        caller = user if "user" in route.access else manager
        response = client.post(route.path, json=NOTIFICATION_SAMPLES[route.view_name], headers=caller.headers)
        assert response.status_code == 200, (route.path, response.json)


def test_the_routes_are_in_the_openapi_document(client):
    paths = client.get("/glimpse/openapi.json").json["paths"]
    assert {f"/glimpse/{path}" for path, _ in ROUTES} <= set(paths)


def test_the_api_never_calls_telegram_when_no_token_is_set(config, db, clock):
    # No GLIMPSE_TELEGRAM_TOKEN: no client is built, so no request can leave.
    app = create_app(config.with_(telegram_token=None), db=db, clock=clock)
    app.testing = True
    client = app.test_client()
    db[names.ACCOUNTS].insert_one(
        {"name": "Ana", "email": "solo@example.com", "type": "user", "glimpseStatus": "off",
         "password": security.hash_password(PASSWORD, config.password_hash_profile)}
    )  # fmt: skip
    token = login(client, "solo@example.com")["token"]
    body: Any = client.post(
        "/glimpse/getNotifications", json={}, headers={"Authorization": f"Bearer {token}"}
    ).json
    assert body["bot"] == {"configured": False, "name": ""}


def test_an_unreachable_bot_is_not_asked_on_every_page(app, client, user, telegram, clock):
    ctx = app.extensions["glimpse"]
    ctx.config = ctx.config.with_(telegram_token="999:WRONG")  # the fake answers 401 to this token
    calls = len(telegram.calls)
    assert post(client, "getNotifications", user).json["bot"] == {"configured": True, "name": ""}
    assert post(client, "getNotifications", user).json["bot"]["name"] == ""
    assert len(telegram.calls) == calls  # a wrong token is refused before any method runs: no call counted
    ctx.config = ctx.config.with_(telegram_token=telegram.token)
    assert post(client, "getNotifications", user).json["bot"]["name"] == ""  # still within the pause
    clock.advance(61)
    assert post(client, "getNotifications", user).json["bot"]["name"] == telegram.username
