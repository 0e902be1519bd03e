"""Outgoing mail for the API.

`QueueMailer` (from `mailer_for(config, db)`) is the mailer of a deployment:
`send` and `send_template` only queue the mail, sealed, in `MailQueue`
(glimpse/runtime/mail.py); a drain thread of this process hands it to the
SMTP server (GLIMPSE_SMTP_URL) off the request path, retries failures, and
deletes it once delivered.

It is what create_app builds by default: without GLIMPSE_SMTP_URL (the
embedded bundle) the drain thread delivers to the log. No mail, and so no
reset code, is ever stored readable: queued bodies are sealed with the
secret key, and a delivered mail is deleted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from glimpse.runtime import mail
from glimpse.runtime.mail_templates import render


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
