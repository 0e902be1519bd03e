"""API fixtures: an app over a fresh database, accounts, and their tokens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from api import create_app
from api.mailer import QueueMailer
from glimpse.runtime import mail, security
from glimpse.store import db as names
from glimpse.store.accounts import new_account

PASSWORD = "correct horse battery"


class FakeBrokerCheck:
    """Stands in for glimpse.market.check_credentials in API tests."""

    def __init__(self):
        self.calls: list[tuple[str, str]] = []
        self.error: Exception | None = None

    def __call__(self, email: str, password: str) -> dict:
        self.calls.append((email, password))
        if self.error is not None:
            raise self.error
        return {"account": email, "treinamento": 10000.0, "real": 0.0}


@dataclass
class Caller:
    """An account with a live token."""

    id: str
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def broker_check() -> FakeBrokerCheck:
    return FakeBrokerCheck()


@pytest.fixture
def app(config, db, clock, broker_check):
    # Mails stay in the sealed queue (no drain thread), where `mailed` opens them.
    mailer = QueueMailer(mail.queue_for(config, db, transport=None), start=False)
    application = create_app(config, db=db, clock=clock, mailer=mailer, check_broker_credentials=broker_check)
    application.testing = True
    return application


@pytest.fixture
def client(app):
    return app.test_client()


def insert_user(db, config, clock, email: str, name: str = "Ana Maria Silva", **fields: Any) -> str:
    doc = new_account(
        name,
        email,
        security.hash_password(PASSWORD, config.password_hash_profile),
        clock.now(),
        premium_days=30,
    )
    doc.update(fields)
    return str(db[names.ACCOUNTS].insert_one(doc).inserted_id)


def login(client, email: str, password: str = PASSWORD, route: str = "/glimpse/login") -> dict:
    response = client.post(route, json={"email": email, "password": password})
    assert response.status_code == 200, response.json
    return response.json


@pytest.fixture
def make_user(client, db, config, clock):
    def make(email: str = "ana@example.com", **fields: Any) -> Caller:
        user_id = insert_user(db, config, clock, email, **fields)
        body = login(client, email)
        assert body["res"] == 1
        return Caller(user_id, email, body["token"])

    return make


@pytest.fixture
def user(make_user) -> Caller:
    return make_user()


@pytest.fixture
def other_user(make_user) -> Caller:
    return make_user("bruno@example.com", name="Bruno Costa")


@pytest.fixture
def manager(client, db, config) -> Caller:
    email = "boss@example.com"
    inserted = db[names.MANAGER_ACCOUNTS].insert_one(
        {
            "user": email,
            "name": "Chefe",
            "password": security.hash_password(PASSWORD, config.password_hash_profile),
        }
    )
    body = login(client, email, route="/glimpse/managerLogin")
    assert body["res"] == 1
    return Caller(str(inserted.inserted_id), email, body["token"])


@pytest.fixture
def service_headers(config) -> dict[str, str]:
    return {"Authorization": f"Bearer {config.service_token.get_secret_value()}"}


def mailed(db, config, email: str) -> str:
    """The newest mail queued for `email`, opened with the secret key (it is stored sealed)."""
    bodies = mail.open_queued(db, config, email)
    assert bodies, f"no mail queued for {email}"
    return bodies[0]
