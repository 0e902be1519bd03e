"""Outgoing mail. The embedded mailer writes messages to the `Outbox`
collection; a deployment with an SMTP relay plugs in another `Mailer`."""

from __future__ import annotations

from typing import Any, Protocol

from glimpse.runtime.clock import Clock
from glimpse.store import db as names


class Mailer(Protocol):
    def send(self, to: str, subject: str, body: str) -> None: ...


class OutboxMailer:
    def __init__(self, db: Any, clock: Clock):
        self.db, self.clock = db, clock

    def send(self, to: str, subject: str, body: str) -> None:
        self.db[names.OUTBOX].insert_one(
            {"to": to, "subject": subject, "body": body, "createdAt": self.clock.now()}
        )
