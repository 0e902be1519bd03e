"""Notifications: the trader's Telegram link, event switches and language, and webhooks.

A trader's webhooks get their own events; a manager's (admin) get every
user's events. A webhook's signing secret is returned once, when it is
registered, and stored encrypted. Test buttons queue a test event for one
destination; the notifier service sends it like any other.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from flask import Blueprint, current_app
from pydantic import Field, field_validator

from api import auth
from api.context import ctx
from api.errors import APIError, bad_request
from api.registry import USER, USER_OR_MANAGER, endpoint
from api.schemas import Body
from glimpse.runtime import notify, security
from glimpse.store import notifications as store
from glimpse.store.managers import SUPPORT

bp = Blueprint("notifications", __name__, url_prefix="/glimpse")

LINK_CODE_TTL = 15 * 60
WebhookId = Annotated[str, Field(min_length=24, max_length=24, pattern=r"^[0-9a-f]{24}$")]


class SetNotificationsBody(Body):
    language: Literal["pt-BR", "en"] | None = None
    events: dict[str, bool] | None = Field(
        default=None, description=f"Switches by event: {', '.join(store.EVENTS)}"
    )

    @field_validator("events")
    @classmethod
    def _known(cls, value: dict[str, bool] | None) -> dict[str, bool] | None:
        unknown = sorted(set(value or {}) - set(store.EVENTS))
        if unknown:
            raise ValueError(f"unknown event(s) {', '.join(unknown)}; known: {', '.join(store.EVENTS)}")
        return value


class RegisterWebhookBody(Body):
    url: Annotated[str, Field(min_length=8, max_length=notify.MAX_URL_LENGTH)]


class WebhookBody(Body):
    id: WebhookId


# After a failed getMe, pages do not wait on Telegram again for this long (clock seconds).
BOT_LOOKUP_RETRY = 60.0
FAILED_AT = "glimpse.notifications.botLookupFailedAt"  # kept per app in app.extensions


def _bot_name() -> str:
    """The bot's @username: what the notifier remembered, else asked from getMe ("" when unknown)."""
    c = ctx()
    name = str(store.get_state(c.db, "telegram").get("botName") or "")
    if name:
        return name
    client = notify.telegram_client(c.config, timeout=3.0)
    if (
        client is None
        or c.clock.now() - current_app.extensions.get(FAILED_AT, float("-inf")) < BOT_LOOKUP_RETRY
    ):
        return ""
    try:
        name = str(client.get_me().get("username") or "")
    except notify.TelegramError:
        current_app.extensions[FAILED_AT] = c.clock.now()
        return ""
    finally:
        client.close()
    if name:
        store.set_state(c.db, "telegram", botName=name)
    return name


def _owner_scope() -> tuple[str, str]:
    p = auth.principal()
    return p.id_hex, store.SCOPE_ALL if p.kind == "manager" else store.SCOPE_USER


def _hooks() -> list[dict[str, Any]]:
    owner, scope = _owner_scope()
    return [
        h.public() for h in store.webhooks_of(ctx().db, owner if scope == store.SCOPE_USER else None, scope)
    ]


def _own_hook(webhook_id: str) -> store.Webhook | None:
    """The caller's webhook with this id; another trader's is None, like a missing one
    (its existence is not theirs to learn)."""
    owner, scope = _owner_scope()
    hook = store.get_webhook(ctx().db, webhook_id)
    if hook is None or hook.scope != scope or (scope == store.SCOPE_USER and hook.owner != owner):
        return None
    return hook


@endpoint(bp, "/getNotifications", access=USER)
def get_notifications():
    """The caller's language, event switches, Telegram link and webhooks, and the bot's name."""
    c = ctx()
    user = auth.principal().id_hex
    prefs = store.prefs_of(c.db, user).public()
    configured = notify.telegram_client(c.config) is not None
    prefs["bot"] = {"configured": configured, "name": _bot_name() if configured else ""}
    prefs["webhooks"] = _hooks()
    prefs["eventNames"] = list(store.EVENTS)
    return prefs


@endpoint(bp, "/setNotifications", access=USER, body=SetNotificationsBody)
def set_notifications(body: SetNotificationsBody):
    """Change the message language and/or some event switches; answers the new settings."""
    prefs = store.set_prefs(ctx().db, auth.principal().id_hex, language=body.language, events=body.events)
    return prefs.public()


@endpoint(bp, "/linkTelegram", access=USER)
def link_telegram():
    """A one-time code (15 minutes) to send to the bot as `/start CODE`, with the bot's name and link.

    {res: 0, error} when the server has no bot (GLIMPSE_TELEGRAM_TOKEN unset).
    """
    c = ctx()
    if notify.telegram_client(c.config) is None:
        return {"res": 0, "error": "Telegram is not configured on this server (GLIMPSE_TELEGRAM_TOKEN)"}
    code = security.new_code(10)
    expires = c.clock.now() + LINK_CODE_TTL
    store.start_link(c.db, auth.principal().id_hex, code, expires)
    bot = _bot_name()
    return {
        "res": 1,
        "code": code,
        "command": f"/start {code}",
        "bot": bot,
        "link": f"https://t.me/{bot}?start={code}" if bot else "",
        "expiresAt": expires,
    }


@endpoint(bp, "/unlinkTelegram", access=USER)
def unlink_telegram():
    """Forget the linked chat: {res: 1}, or {res: 0} when none was linked."""
    return {"res": 1 if store.unlink(ctx().db, auth.principal().id_hex) else 0}


@endpoint(bp, "/testTelegram", access=USER)
def test_telegram():
    """Queue a test message to the linked chat: {res: 1, id}; {res: 0, error} when no chat is linked."""
    c = ctx()
    user = auth.principal().id_hex
    if store.prefs_of(c.db, user).chat_id is None:
        return {"res": 0, "error": "no Telegram chat is linked"}
    event_id = notify.enqueue(c.db, user, store.TEST, {"channel": store.TELEGRAM}, c.clock.now())
    return {"res": 1 if event_id else 0, "id": event_id}


@endpoint(bp, "/getWebhooks", access=USER_OR_MANAGER, role=SUPPORT)
def get_webhooks():
    """A trader's webhooks, or (managers) the webhooks that get every user's events."""
    return _hooks()


@endpoint(bp, "/registerWebhook", access=USER_OR_MANAGER, body=RegisterWebhookBody)
def register_webhook(body: RegisterWebhookBody):
    """Register an HTTPS URL; answers its id and signing secret (shown this once)."""
    c = ctx()
    try:
        notify.check_url(body.url, c.config.webhook_allow_private)
    except notify.UnsafeURL as exc:
        raise bad_request(f"url: {exc}", "url") from None
    owner, scope = _owner_scope()
    secret = "whsec_" + security.new_session_id()
    sealed = security.encrypt_secret(c.config.secret_key.get_secret_value(), secret)
    hook = store.add_webhook(c.db, owner, scope, body.url, sealed, c.clock.now())
    if hook is None:
        raise APIError(409, f"at most {store.MAX_WEBHOOKS_PER_OWNER} webhooks")
    return dict(hook.public(), secret=secret)


@endpoint(bp, "/deleteWebhook", access=USER_OR_MANAGER, body=WebhookBody)
def delete_webhook(body: WebhookBody):
    """Delete one of the caller's webhooks: {res: 1}, or {res: 0} when they have no such webhook."""
    hook = _own_hook(body.id)
    if hook is None:
        return {"res": 0}
    owner = hook.owner if hook.scope == store.SCOPE_USER else None
    return {"res": 1 if store.delete_webhook(ctx().db, str(hook.id), owner, hook.scope) else 0}


@endpoint(bp, "/testWebhook", access=USER_OR_MANAGER, body=WebhookBody)
def test_webhook(body: WebhookBody):
    """Queue a signed test event to one of the caller's webhooks: {res: 1, id}, or {res: 0}."""
    c = ctx()
    hook = _own_hook(body.id)
    if hook is None:
        return {"res": 0}
    data = {"channel": store.WEBHOOK, "webhook": str(hook.id)}
    event_id = notify.enqueue(c.db, auth.principal().id_hex, store.TEST, data, c.clock.now())
    return {"res": 1 if event_id else 0, "id": event_id}
