"""Outgoing mail for the API.

`QueueMailer` (from `mailer_for(config, db)`) is the mailer of a deployment:
`send` and `send_template` only queue the mail, sealed, in `MailQueue`
(glimpse/runtime/mail.py); a drain thread of this process hands it to the
SMTP server (GLIMPSE_SMTP_URL) off the request path, retries failures, and
deletes it once delivered.

`OutboxMailer` is what create_app builds by default today. When the app's
configuration names an SMTP server (GLIMPSE_SMTP_URL) it hands every mail to
the queueing mailer above; without one it writes plain messages to `Outbox`,
where the API test suites read reset codes back. That plain fallback stores
codes readable, so create_app should default to `mailer_for(config, db)`
(sealed queue; log delivery in the embedded bundle) once those suites read
codes with `glimpse.runtime.mail.open_queued`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, Protocol

from flask import current_app, has_app_context

from glimpse.runtime import mail
from glimpse.runtime.clock import Clock
from glimpse.runtime.mail_templates import render
from glimpse.store import db as names


class Mailer(Protocol):
    def send(self, to: str, subject: str, body: str) -> None: ...


class QueueMailer:
    def __init__(self, queue: mail.MailQueue, *, start: bool = True):
        self.queue = queue
        self.autostart = start

    def send(self, to: str, subject: str, body: str, *, kind: str = "") -> None:
        self.queue.enqueue(to, subject, body, kind=kind)
        if self.autostart:
            # Started on first use, so the thread lives in the process (gunicorn worker) that serves.
            self.queue.start()

    def send_template(self, to: str, template: str, lang: str | None, data: Mapping[str, Any]) -> None:
        """Queue template `template` (glimpse/runtime/mail_templates) in `lang` (pt-BR by default)."""
        subject, body = render(template, lang, data)
        self.send(to, subject, body, kind=template)


def mailer_for(config: Any, db: Any, **options: Any) -> QueueMailer:
    """The queueing mailer for this configuration (SMTP, or the log in the embedded bundle)."""
    return QueueMailer(mail.queue_for(config, db, **options))


class OutboxMailer:
    def __init__(self, db: Any, clock: Clock):
        self.db, self.clock = db, clock
        self._smtp: QueueMailer | None = None
        self._lock = threading.Lock()

    def _smtp_mailer(self) -> QueueMailer | None:
        """The queueing mailer when the serving app has GLIMPSE_SMTP_URL (built once)."""
        if self._smtp is None and has_app_context():
            config = current_app.extensions["glimpse"].config
            if getattr(config, "smtp_url", None) is not None:
                with self._lock:
                    if self._smtp is None:
                        self._smtp = mailer_for(config, self.db)
        return self._smtp

    def send(self, to: str, subject: str, body: str) -> None:
        smtp = self._smtp_mailer()
        if smtp is not None:
            smtp.send(to, subject, body)
            return
        self.db[names.OUTBOX].insert_one(
            {"to": to, "subject": subject, "body": body, "createdAt": self.clock.now()}
        )

    def send_template(self, to: str, template: str, lang: str | None, data: Mapping[str, Any]) -> None:
        subject, body = render(template, lang, data)
        self.send(to, subject, body)
