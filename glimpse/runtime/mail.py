"""Outgoing mail: an encrypted queue in MongoDB, drained off the request path by a thread.

- `enqueue` writes the mail to `MailQueue` with its body sealed (Fernet,
  key derived from GLIMPSE_SECRET_KEY; previous keys still open old mails
  during a rotation). A reset code therefore never lies readable in the
  database, also in the embedded default.
- A drain thread claims queued mails one at a time (an atomic
  `find_one_and_update`, so several API processes can drain the same queue),
  hands each to the transport and deletes it at once: a mail that carries a
  code is never kept after the mail server accepted it. A failure is retried
  after `retry_delays`; a mail that still fails, or that waited past
  `max_age`, is dropped with its body (a log line and a metric say so).
- Transports: `SmtpTransport` for GLIMPSE_SMTP_URL (smtp://, smtp+starttls://
  or smtps://, with optional user:password@), and `LogTransport`, the
  development delivery of the embedded bundle without SMTP: the mail is
  written to the process log (so the demo reset works on a laptop) and
  deleted from the queue. With a real MongoDB and no SMTP URL, nothing is
  delivered: mails wait, sealed, for a process that has a transport, and
  expire after `max_age`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import smtplib
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

log = logging.getLogger(__name__)

MAIL_QUEUE = "MailQueue"
QUEUED, SENDING, FAILED = "queued", "sending", "failed"
DEFAULT_RETRY_DELAYS = (10.0, 60.0, 300.0, 1800.0)
DEFAULT_MAX_AGE = 24 * 3600.0
# A claimed mail whose sender died is claimed again after this many seconds.
CLAIM_SECONDS = 120.0

SCHEMES = {"smtp": ("plain", 25), "smtp+starttls": ("starttls", 587), "smtps": ("tls", 465)}


class MailConfigError(ValueError):
    """GLIMPSE_SMTP_URL cannot be used."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str  # "plain" | "starttls" | "tls"
    username: str | None = None
    password: str | None = None
    timeout: float = 10.0

    def __repr__(self) -> str:  # never the password
        user = f"{self.username}@" if self.username else ""
        return f"SmtpSettings({self.security}://{user}{self.host}:{self.port})"


def parse_smtp_url(url: str) -> SmtpSettings:
    """smtp://[user[:password]@]host[:port][?timeout=s]; also smtp+starttls:// and smtps://."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise MailConfigError(
            f"GLIMPSE_SMTP_URL must start with smtp://, smtp+starttls:// or smtps://, got {parts.scheme!r}"
        )
    security, default_port = SCHEMES[parts.scheme]
    if not parts.hostname:
        raise MailConfigError("GLIMPSE_SMTP_URL names no host")
    try:
        port = parts.port or default_port
    except ValueError:
        raise MailConfigError("GLIMPSE_SMTP_URL has an invalid port") from None
    timeout = 10.0
    query = parse_qs(parts.query)
    if "timeout" in query:
        try:
            timeout = float(query["timeout"][0])
        except ValueError:
            raise MailConfigError("GLIMPSE_SMTP_URL: timeout must be a number of seconds") from None
    return SmtpSettings(
        host=parts.hostname,
        port=port,
        security=security,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        timeout=timeout,
    )


class Transport(Protocol):
    def deliver(self, to: str, subject: str, body: str) -> None: ...


class PermanentMailError(Exception):
    """The server refused the mail for good (a 5xx reply): retrying cannot help."""


def build_message(mail_from: str, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=mail_from.rpartition("@")[2].strip("> ") or "glimpse.local")
    message.set_content(body)
    return message


class SmtpTransport:
    """Delivery through an SMTP server (stdlib smtplib), one connection per mail."""

    def __init__(self, settings: SmtpSettings, mail_from: str, ssl_context: ssl.SSLContext | None = None):
        self.settings, self.mail_from = settings, mail_from
        self.ssl_context = ssl_context or ssl.create_default_context()

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.security == "tls":
            return smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=self.ssl_context)
        client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        if s.security == "starttls":
            client.starttls(context=self.ssl_context)
        return client

    def deliver(self, to: str, subject: str, body: str) -> None:
        message = build_message(self.mail_from, to, subject, body)
        try:
            with self._connect() as client:
                if self.settings.username:
                    client.login(self.settings.username, self.settings.password or "")
                client.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentMailError(f"recipient refused: {exc.recipients!r}") from None
        except smtplib.SMTPResponseException as exc:
            if 500 <= exc.smtp_code < 600 and exc.smtp_code != 530:
                raise PermanentMailError(f"{exc.smtp_code} {exc.smtp_error!r}") from None
            raise


class LogTransport:
    """Development delivery (embedded bundle without GLIMPSE_SMTP_URL): the mail goes to the log."""

    def __init__(self, logger: logging.Logger | None = None):
        self.logger = logger or log

    def deliver(self, to: str, subject: str, body: str) -> None:
        self.logger.info("mail (development delivery, no GLIMPSE_SMTP_URL) to %s: %s\n%s", to, subject, body)


def _mail_key(secret_key: str) -> Fernet:
    digest = hmac.new(secret_key.encode(), b"glimpse/mail", hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


class Sealer:
    """Seals mail bodies with the current key; opens them with the current or a previous one."""

    def __init__(self, secret_key: str, previous: Sequence[str] = ()):
        keys = [secret_key, *[k for k in previous if k]]
        self.fernet = MultiFernet([_mail_key(k) for k in keys])

    def seal(self, text: str) -> str:
        return self.fernet.encrypt(text.encode()).decode()

    def open(self, token: str) -> str:
        return self.fernet.decrypt(token.encode()).decode()

    def rotate(self, token: str) -> str:
        """`token` sealed again under the current key."""
        return self.fernet.rotate(token.encode()).decode()


class MailQueue:
    """The queue collection and the thread that drains it (see the module docstring)."""

    def __init__(
        self,
        db: Any,
        sealer: Sealer,
        transport: Transport | None,
        *,
        now: Callable[[], float] = time.time,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        max_age: float = DEFAULT_MAX_AGE,
        poll_seconds: float = 5.0,
    ):
        self.db, self.sealer, self.transport, self.now = db, sealer, transport, now
        self.retry_delays, self.max_age, self.poll_seconds = tuple(retry_delays), max_age, poll_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def collection(self) -> Any:
        return self.db[MAIL_QUEUE]

    def enqueue(self, to: str, subject: str, body: str, *, kind: str = "") -> Any:
        """Queue one mail (its body sealed) and wake the drain thread; the mail's id."""
        now = self.now()
        doc = {
            "to": to,
            "subject": subject,
            "body": self.sealer.seal(body),
            "kind": kind,
            "status": QUEUED,
            "attempts": 0,
            "createdAt": now,
            "nextAttemptAt": now,
        }
        inserted = self.collection.insert_one(doc).inserted_id
        if self.transport is None:
            log.warning("mail to %s queued, but this process has no GLIMPSE_SMTP_URL to send it", to)
        self._wake.set()
        return inserted

    def _claim(self, now: float) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self.collection.find_one_and_update(
            {
                "$or": [
                    {"status": QUEUED, "nextAttemptAt": {"$lte": now}},
                    {"status": SENDING, "claimedUntil": {"$lt": now}},
                ]
            },
            {"$set": {"status": SENDING, "claimedUntil": now + CLAIM_SECONDS}},
            sort=[("nextAttemptAt", 1)],
        )
        return found

    def _expire(self, now: float) -> int:
        old = self.collection.delete_many(
            {"status": {"$in": [QUEUED, FAILED]}, "createdAt": {"$lt": now - self.max_age}}
        )
        count = int(old.deleted_count)
        if count:
            log.warning("%d queued mail(s) expired unsent after %.0f s", count, self.max_age)
        return count

    def drain_once(self) -> int:
        """Send every mail that is due; how many were handed to the transport."""
        from glimpse.runtime import metrics

        if self.transport is None:
            return 0
        sent = 0
        now = self.now()
        self._expire(now)
        while not self._stop.is_set():
            doc = self._claim(now)
            if doc is None:
                break
            attempts = int(doc.get("attempts", 0)) + 1
            try:
                body = self.sealer.open(str(doc.get("body", "")))
            except InvalidToken:
                log.error(
                    "mail %s to %s cannot be opened with the configured keys: dropped", doc["_id"], doc["to"]
                )
                self.collection.delete_one({"_id": doc["_id"]})
                metrics.MAIL_SENT.labels(outcome="dropped").inc()
                continue
            try:
                self.transport.deliver(str(doc["to"]), str(doc["subject"]), body)
            except Exception as exc:
                permanent = isinstance(exc, PermanentMailError) or attempts > len(self.retry_delays)
                if permanent:
                    log.error(
                        "mail %s to %s failed for good after %d attempt(s): %s",
                        doc["_id"],
                        doc["to"],
                        attempts,
                        exc,
                    )
                    # The body (which may hold a code) goes; the failure stays visible for the operator.
                    self.collection.update_one(
                        {"_id": doc["_id"]},
                        {
                            "$set": {"status": FAILED, "attempts": attempts, "error": str(exc)[:300]},
                            "$unset": {"body": ""},
                        },
                    )
                    metrics.MAIL_SENT.labels(outcome="failed").inc()
                else:
                    delay = self.retry_delays[attempts - 1]
                    log.warning(
                        "mail %s to %s failed (attempt %d): %s; retrying in %.0f s",
                        doc["_id"],
                        doc["to"],
                        attempts,
                        exc,
                        delay,
                    )
                    self.collection.update_one(
                        {"_id": doc["_id"]},
                        {
                            "$set": {
                                "status": QUEUED,
                                "attempts": attempts,
                                "nextAttemptAt": self.now() + delay,
                                "error": str(exc)[:300],
                            },
                            "$unset": {"claimedUntil": ""},
                        },
                    )
                    metrics.MAIL_SENT.labels(outcome="retry").inc()
                continue
            # Handed over: the queue keeps nothing of it.
            self.collection.delete_one({"_id": doc["_id"]})
            metrics.MAIL_SENT.labels(outcome="sent").inc()
            sent += 1
        return sent

    # ---- the drain thread

    def start(self) -> MailQueue:
        """Start the drain thread once per queue (no-op without a transport or when running)."""
        with self._lock:
            if self.transport is None or (self._thread is not None and self._thread.is_alive()):
                return self
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="mail-drain", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        from glimpse.runtime import logs

        with logs.bind(service="mail"):
            self._drain_until_stopped()

    def _drain_until_stopped(self) -> None:
        while not self._stop.is_set():
            try:
                self.drain_once()
            except Exception:
                log.exception("mail queue: draining failed; trying again")
            self._wake.wait(self.poll_seconds)
            self._wake.clear()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)


def transport_for(config: Any) -> Transport | None:
    """SMTP when GLIMPSE_SMTP_URL is set; the log in the embedded bundle; otherwise none."""
    url = getattr(config, "smtp_url", None)
    if url is not None:
        text = url.get_secret_value() if hasattr(url, "get_secret_value") else str(url)
        if text:
            mail_from = str(getattr(config, "mail_from", "") or "Glimpse <no-reply@glimpse.local>")
            return SmtpTransport(parse_smtp_url(text), mail_from)
    if getattr(config, "embedded", False):
        return LogTransport()
    return None


def secret_keys(config: Any) -> tuple[str, list[str]]:
    """The current secret key and the previous ones (GLIMPSE_SECRET_KEY_PREVIOUS), as strings."""
    current = config.secret_key.get_secret_value()
    previous = getattr(config, "secret_key_previous", ())
    return current, [
        p.get_secret_value() if hasattr(p, "get_secret_value") else str(p) for p in previous or ()
    ]


_AUTO: Any = object()


def queue_for(config: Any, db: Any, transport: Transport | None = _AUTO, **options: Any) -> MailQueue:
    """The queue for this configuration; `transport` defaults to `transport_for(config)`."""
    current, previous = secret_keys(config)
    chosen = transport_for(config) if transport is _AUTO else transport
    return MailQueue(db, Sealer(current, previous), chosen, **options)


class MemoryTransport:
    """Keeps delivered mails in a list (tests, and the development of new templates)."""

    def __init__(self) -> None:
        self.delivered: list[tuple[str, str, str]] = []

    def deliver(self, to: str, subject: str, body: str) -> None:
        self.delivered.append((to, subject, body))


def open_queued(db: Any, config: Any, to: str) -> list[str]:
    """The bodies of the mails still queued for `to`, newest first (operators and tests)."""
    current, previous = secret_keys(config)
    sealer = Sealer(current, previous)
    docs = db[MAIL_QUEUE].find({"to": to, "body": {"$exists": True}}).sort("createdAt", -1)
    return [sealer.open(str(doc["body"])) for doc in docs]
