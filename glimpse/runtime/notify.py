"""Notifications out of the bundle: the queue API, the messages, Telegram and webhook sending.

`enqueue(db, user_id, event, data, now)` is the only call trading code
makes: one insert into the queue, no network, and a database error is
logged and swallowed, so a notification can never delay or abort an order.
The notifier service (auxiliar/notifier.py) drains the queue with the
senders below.

Event data (money in integer cents, like the ledger):
- sessionStarted: {mode}
- sessionStopped: {reason} (user, stop_loss, stop_win, connect_failed, error, ...)
- cycleResult: {ativo, operacao, levels (entries placed), galeLevel (of the last one), result, net}
- stopLoss / stopWin: {net} (the session's net)
- dailySummary: {day (YYYY-MM-DD in GLIMPSE_TZ), trades, wins, losses, dojis, net}

Webhooks get `{"id", "event", "user", "createdAt", "data"}` as JSON with the
headers X-Glimpse-Event, X-Glimpse-Event-Id, X-Glimpse-Timestamp and
X-Glimpse-Signature = "sha256=" + HMAC-SHA256(secret, f"{timestamp}.{body}")
in hex. A receiver recomputes it and refuses old timestamps.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from bson import ObjectId
from pymongo.errors import PyMongoError

from glimpse.store import notifications as store

log = logging.getLogger(__name__)

ENQUEUEABLE = (*store.EVENTS, *store.SYSTEM_EVENTS)


def enqueue(db: Any, user_id: str | ObjectId, event: str, data: dict[str, Any], now: float) -> str | None:
    """Queue `event` for `user_id`: one insert. The event's id, or None when the database refused it.

    An unknown event name is a programming error and raises ValueError.
    """
    if event not in ENQUEUEABLE:
        raise ValueError(f"unknown notification event {event!r}")
    event_id = uuid.uuid4().hex
    try:
        store.insert_event(
            db,
            store.QueuedEvent(
                _id=ObjectId(), eventId=event_id, user=str(user_id), event=event, data=dict(data),
                createdAt=float(now), status=store.NEW,
            ),
        )  # fmt: skip
    except PyMongoError:
        log.exception("notification %s for user %s not queued", event, user_id)
        return None
    return event_id


# ----------------------------------------------------------------------------- messages

_TEXTS: dict[str, dict[str, str]] = {
    "pt-BR": {
        "sessionStarted": "▶️ Glimpse começou a operar{mode}.",
        "sessionStopped": "⏹ Glimpse parou: {reason}.",
        "cycleResult": "{mark} {ativo} {direction} · {outcome} · {levels} · líquido {net}",
        "stopLoss": "🛑 Stop loss atingido. Resultado da sessão: {net}.",
        "stopWin": "🏆 Stop win atingido. Resultado da sessão: {net}.",
        "dailySummary": "📊 Resumo de {day}: {trades} ordens, {wins} vitórias, {losses} derrotas, {dojis} empates. Líquido: {net}.",
        "test": "🔔 Teste de notificação do Glimpse: está funcionando.",
        "telegramLinked": "✅ Este chat está ligado à sua conta Glimpse.",
        "badCode": "Código inválido ou expirado. Gere um novo código no app (Configurações › Notificações).",
        "hello": "Olá! Para receber as notificações do Glimpse, gere um código no app (Configurações › Notificações) e envie /start CÓDIGO.",
        "mode": " (modo {mode})",
        "win": "vitória",
        "loss": "derrota",
        "doji": "empate",
        "direct": "sem gale",
        "gale": "G{level}",
        "entries": "{n} entrada(s)",
        "call": "COMPRA",
        "put": "VENDA",
    },
    "en": {
        "sessionStarted": "▶️ Glimpse started trading{mode}.",
        "sessionStopped": "⏹ Glimpse stopped: {reason}.",
        "cycleResult": "{mark} {ativo} {direction} · {outcome} · {levels} · net {net}",
        "stopLoss": "🛑 Stop loss reached. Session result: {net}.",
        "stopWin": "🏆 Stop win reached. Session result: {net}.",
        "dailySummary": "📊 Summary of {day}: {trades} orders, {wins} wins, {losses} losses, {dojis} draws. Net: {net}.",
        "test": "🔔 Glimpse test notification: it works.",
        "telegramLinked": "✅ This chat is linked to your Glimpse account.",
        "badCode": "Invalid or expired code. Make a new one in the app (Settings › Notifications).",
        "hello": "Hi! To get Glimpse notifications, make a code in the app (Settings › Notifications) and send /start CODE.",
        "mode": " ({mode} mode)",
        "win": "win",
        "loss": "loss",
        "doji": "draw",
        "direct": "no gale",
        "gale": "G{level}",
        "entries": "{n} entr{plural}",
        "call": "CALL",
        "put": "PUT",
    },
}

_REASONS: dict[str, dict[str, str]] = {
    "pt-BR": {
        "user": "você parou o Glimpse",
        "stop_loss": "stop loss atingido",
        "stop_win": "stop win atingido",
        "connect_failed": "não foi possível conectar à corretora",
        "error": "erro no servidor",
        "no_balance": "saldo insuficiente",
        "pair_closed": "ativo fechado",
        "order_refused": "ordem recusada",
        "signals_done": "lista de sinais concluída",
        "unresolved": "ordem sem resultado confirmado",
        "manager": "parado pelo suporte",
        "strategy_missing": "estratégia indisponível",
        "copy_mode": "modo cópia indisponível",
    },
    "en": {
        "user": "you stopped Glimpse",
        "stop_loss": "stop loss reached",
        "stop_win": "stop win reached",
        "connect_failed": "could not connect to the broker",
        "error": "server error",
        "no_balance": "insufficient balance",
        "pair_closed": "pair closed",
        "order_refused": "order refused",
        "signals_done": "signal list finished",
        "unresolved": "an order's result is not confirmed",
        "manager": "stopped by support",
        "strategy_missing": "the strategy is unavailable",
        "copy_mode": "copy mode is unavailable",
    },
}


def language_of(language: str | None) -> str:
    return language if language in _TEXTS else store.DEFAULT_LANGUAGE


def money(amount_cents: int, language: str) -> str:
    """Signed reais from integer cents: "+R$ 1.234,56" (pt-BR) or "+R$1,234.56" (en)."""
    sign = "-" if amount_cents < 0 else "+" if amount_cents > 0 else ""
    value = Decimal(abs(int(amount_cents))) / 100
    text = f"{value:,.2f}"
    if language_of(language) == "pt-BR":
        return f"{sign}R$ " + text.replace(",", "_").replace(".", ",").replace("_", ".")
    return f"{sign}R${text}"


def text_of(key: str, language: str) -> str:
    return _TEXTS[language_of(language)][key]


def _int(value: Any) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0


def render(event: str, data: dict[str, Any], language: str) -> str:
    """The Telegram message for an event, in `language` (pt-BR or en)."""
    lang = language_of(language)
    t = _TEXTS[lang]
    net = money(_int(data.get("net")), lang)
    if event == store.SESSION_STARTED:
        mode = str(data.get("mode") or "")
        return t["sessionStarted"].format(mode=t["mode"].format(mode=mode) if mode else "")
    if event == store.SESSION_STOPPED:
        reason = str(data.get("reason") or "")
        return t["sessionStopped"].format(reason=_REASONS[lang].get(reason, reason or "?"))
    if event == store.CYCLE_RESULT:
        result = str(data.get("result") or "")
        level, entries = _int(data.get("galeLevel")), _int(data.get("levels")) or 1
        operacao = str(data.get("operacao") or "").lower()
        return t["cycleResult"].format(
            mark={"win": "✅", "loss": "❌", "doji": "⚪"}.get(result, "•"),
            ativo=str(data.get("ativo") or ""),
            direction=t.get(operacao, operacao.upper()),
            outcome=(
                t.get(result, result) + " " + (t["gale"].format(level=level) if level else t["direct"])
            ).strip(),
            levels=t["entries"].format(n=entries, plural="y" if entries == 1 else "ies"),
            net=net,
        )
    if event in (store.STOP_LOSS, store.STOP_WIN):
        return t[event].format(net=net)
    if event == store.DAILY_SUMMARY:
        return t["dailySummary"].format(
            day=str(data.get("day") or ""),
            trades=_int(data.get("trades")),
            wins=_int(data.get("wins")),
            losses=_int(data.get("losses")),
            dojis=_int(data.get("dojis")),
            net=net,
        )
    if event in t:
        return t[event]
    return event


# ----------------------------------------------------------------------------- Telegram


class TelegramError(Exception):
    """A Bot API call failed. `retry_after` is set when Telegram asks to wait; `permanent` when retrying is useless."""

    def __init__(self, message: str, *, retry_after: float | None = None, permanent: bool = False):
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent


class TelegramClient:
    """The three Bot API methods Glimpse uses, with bounded timeouts. The token never appears in errors."""

    def __init__(self, token: str, api: str = "https://api.telegram.org", timeout: float = 10.0):
        self._base = f"{api.rstrip('/')}/bot{token}/"
        self.timeout = timeout
        self._session = requests.Session()

    def _call(self, method: str, payload: dict[str, Any], timeout: float | None = None) -> Any:
        try:
            response = self._session.post(self._base + method, json=payload, timeout=timeout or self.timeout)
        except requests.RequestException as exc:
            raise TelegramError(f"{method}: {type(exc).__name__}") from None
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code == 200 and isinstance(body, dict) and body.get("ok"):
            return body.get("result")
        description = str(body.get("description") or response.reason) if isinstance(body, dict) else ""
        params = body.get("parameters") if isinstance(body, dict) else None
        retry_after = params.get("retry_after") if isinstance(params, dict) else None
        raise TelegramError(
            f"{method}: HTTP {response.status_code} {description}",
            retry_after=float(retry_after) if isinstance(retry_after, (int, float)) else None,
            permanent=response.status_code in (400, 401, 403, 404),
        )

    def get_me(self) -> dict[str, Any]:
        result = self._call("getMe", {})
        return result if isinstance(result, dict) else {}

    def get_updates(self, offset: int, timeout: int) -> list[dict[str, Any]]:
        """Long-poll for up to `timeout` seconds."""
        payload = {"offset": offset, "timeout": timeout, "allowed_updates": ["message"]}
        result = self._call("getUpdates", payload, timeout=timeout + self.timeout)
        return [u for u in result if isinstance(u, dict)] if isinstance(result, list) else []

    def send_message(self, chat_id: int | str, text: str) -> None:
        self._call("sendMessage", {"chat_id": chat_id, "text": text, "disable_web_page_preview": True})

    def close(self) -> None:
        self._session.close()


def telegram_client(config: Any, timeout: float = 10.0) -> TelegramClient | None:
    """The bot client for `config`, or None when GLIMPSE_TELEGRAM_TOKEN is not set."""
    token = config.telegram_token.get_secret_value() if config.telegram_token is not None else ""
    return TelegramClient(token, config.telegram_api, timeout) if token else None


def parse_start(text: str) -> str | None:
    """The code in "/start CODE" (also "/start@BotName CODE"), or None for any other message."""
    parts = text.strip().split()
    if len(parts) != 2 or not (parts[0] == "/start" or parts[0].startswith("/start@")):
        return None
    return parts[1]


# ----------------------------------------------------------------------------- webhooks

SIGNATURE_HEADER = "X-Glimpse-Signature"
TIMESTAMP_HEADER = "X-Glimpse-Timestamp"
EVENT_ID_HEADER = "X-Glimpse-Event-Id"
EVENT_HEADER = "X-Glimpse-Event"
MAX_URL_LENGTH = 500


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return "sha256=" + digest


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


class UnsafeURL(ValueError):
    """A webhook URL Glimpse will not call."""


def check_url(url: str, allow_private: bool) -> tuple[str, str, int]:
    """(scheme, host, port) of an acceptable webhook URL, or UnsafeURL.

    HTTPS only; plain HTTP only where private addresses are allowed (tests,
    a local development receiver). No credentials in the URL. A literal
    address must be public unless `allow_private`; host names are checked
    when sending (`resolve_public`), because what a name resolves to changes.
    """
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeURL(f"the URL is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeURL("not a valid URL") from None
    scheme, host = parts.scheme.lower(), (parts.hostname or "")
    if scheme != "https" and not (scheme == "http" and allow_private):
        raise UnsafeURL("the URL must start with https://")
    if not host:
        raise UnsafeURL("the URL has no host")
    if parts.username or parts.password:
        raise UnsafeURL("the URL must not carry credentials")
    if not allow_private:
        if host == "localhost" or host.endswith(".localhost"):
            raise UnsafeURL("private, loopback and link-local addresses are refused")
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            address = None
        if address is not None and not _public(address):
            raise UnsafeURL("private, loopback and link-local addresses are refused")
    return scheme, host, port or (443 if scheme == "https" else 80)


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


Resolver = Callable[[str, int], list[str]]


def system_resolver(host: str, port: int) -> list[str]:
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


def resolve_public(host: str, port: int, allow_private: bool, resolver: Resolver = system_resolver) -> str:
    """The address to connect to: every address the host resolves to must be public (unless allowed)."""
    try:
        addresses = resolver(host, port)
    except OSError as exc:
        raise UnsafeURL(f"cannot resolve {host}: {exc.strerror or exc}") from None
    if not addresses:
        raise UnsafeURL(f"{host} resolves to no address")
    if not allow_private:
        for text in addresses:
            if not _public(ipaddress.ip_address(text.split("%")[0])):
                raise UnsafeURL(f"{host} resolves to a private, loopback or link-local address")
    return addresses[0]


@dataclass(frozen=True)
class WebhookResult:
    ok: bool
    status: int | None  # None: no HTTP answer (refused, timeout, unsafe)
    error: str
    permanent: bool = False  # retrying cannot help (an unsafe URL)


def webhook_body(event_id: str, event: str, user: str, created_at: float, data: dict[str, Any]) -> bytes:
    payload = {"id": event_id, "event": event, "user": user, "createdAt": created_at, "data": data}
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode()


def post_webhook(
    url: str,
    secret: str,
    event_id: str,
    event: str,
    body: bytes,
    timestamp: float,
    *,
    allow_private: bool,
    timeout: float = 5.0,
    resolver: Resolver = system_resolver,
    ca_certs: str | None = None,
) -> WebhookResult:
    """POST one signed event. The connection goes to the address that was checked, never to a
    second lookup of the name (which could answer differently)."""
    try:
        scheme, host, port = check_url(url, allow_private)
        address = resolve_public(host, port, allow_private, resolver)
    except UnsafeURL as exc:
        return WebhookResult(False, None, str(exc), permanent=True)
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    stamp = str(int(timestamp))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Glimpse-Webhook/1",
        "Host": host if port in (80, 443) else f"{host}:{port}",
        EVENT_HEADER: event,
        EVENT_ID_HEADER: event_id,
        TIMESTAMP_HEADER: stamp,
        SIGNATURE_HEADER: sign(secret, stamp, body),
    }
    pool: urllib3.HTTPConnectionPool
    bounds = urllib3.Timeout(connect=min(timeout, 3.0), read=timeout)
    if scheme == "https":
        # Connected to the checked address; the certificate is still verified for the URL's host name.
        pool = urllib3.HTTPSConnectionPool(
            address, port, timeout=bounds, retries=False, server_hostname=host, assert_hostname=host,
            cert_reqs="CERT_REQUIRED", ca_certs=ca_certs,
        )  # fmt: skip
    else:
        pool = urllib3.HTTPConnectionPool(address, port, timeout=bounds, retries=False)
    try:
        response = pool.urlopen(
            "POST", path, body=body, headers=headers, redirect=False, preload_content=True
        )
    except urllib3.exceptions.HTTPError as exc:
        return WebhookResult(False, None, type(exc).__name__)
    finally:
        pool.close()
    if 200 <= response.status < 300:
        return WebhookResult(True, response.status, "")
    return WebhookResult(False, response.status, f"HTTP {response.status}")
