"""The tarpit (api/tarpit.py): a refused answer is held up to its bound before it leaves, an answer
that is not refused never is, and at most `max_sleeping` answers are held at once. The sleep is
injected: these tests record what would be slept, they never time anything."""

from __future__ import annotations

import threading
from ipaddress import ip_network

import pytest

from api import tarpit, throttle
from tests.api.conftest import PASSWORD

PROXY = "127.0.0.1"
BOUND = 1.5


@pytest.fixture
def config(config):
    return config.with_(trusted_proxies=(ip_network(PROXY + "/32"),))


class Sleeps:
    """Records each sleep instead of sleeping."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)

    def take(self) -> list[float]:
        taken, self.calls = self.calls, []
        return taken


@pytest.fixture
def sleeps(app) -> Sleeps:
    recorder = Sleeps()
    held = tarpit.install(app, max_sleeping=4, seconds=BOUND)
    held.sleep = recorder
    return recorder


def login(client, email: str, password: str, address: str):
    return client.post(
        "/glimpse/login", json={"email": email, "password": password}, headers={"X-Forwarded-For": address}
    )


def test_a_first_failed_login_is_answered_at_once_and_a_repeated_one_is_held(client, config, sleeps):
    address = "198.18.10.1"
    assert login(client, "nobody@example.com", "wrong password", address).json == {"res": -1}
    assert sleeps.take() == []  # a first typo is not held
    assert login(client, "nobody@example.com", "another guess", address).json == {"res": -1}
    assert sleeps.take() == [BOUND]  # this account and address had failed: held, same answer
    # Another account from the same address: the address had failed, so it is held too.
    assert login(client, "someone.else@example.com", "a guess", address).json == {"res": -1}
    assert sleeps.take() == [BOUND]
    # Another account from another address, neither of which failed, is not.
    assert login(client, "nobody.else@example.com", "a guess", "198.18.10.2").json == {"res": -1}
    assert sleeps.take() == []


def test_an_account_that_failed_from_one_address_is_held_from_another(client, config, sleeps):
    email = "botnet.target@example.com"
    assert login(client, email, "guess 1", "198.18.13.1").json == {"res": -1}
    assert sleeps.take() == []
    # A fresh address (a botnet's next one): its budgets are untouched, its failure is held.
    assert login(client, email, "guess 2", "198.18.13.2").json == {"res": -1}
    assert sleeps.take() == [BOUND]
    # Users and managers apart: the same email at /managerLogin has not failed there.
    manager = client.post(
        "/glimpse/managerLogin",
        json={"email": email, "password": "guess 3"},
        headers={"X-Forwarded-For": "198.18.13.3"},
    )
    assert manager.json == {"res": -1}
    assert sleeps.take() == []


def test_the_failed_accounts_table_forgets_past_the_window_and_stays_bounded(monkeypatch):
    table = throttle.FailedAccounts()
    assert table.failed_before("a", now=100.0, window=60) is False
    assert table.failed_before("a", now=150.0, window=60) is True
    assert table.failed_before("a", now=211.0, window=60) is False  # 61 s after the last failure
    monkeypatch.setattr(throttle.FailedAccounts, "MAX_ENTRIES", 3)
    for i in range(10):
        table.failed_before(f"account {i}", now=300.0 + i, window=60)
    assert len(table._last) <= 3


def test_a_correct_password_is_never_held(client, config, make_user, sleeps):
    user = make_user("tarpit.owner@example.com")
    sleeps.take()
    guesser = "198.18.11.1"
    for _ in range(config.login_max_failures):
        login(client, user.email, "wrong password", guesser)
    assert len(sleeps.take()) == config.login_max_failures - 1  # every failure but the first
    # The owner, from their own address, while the guesser is refused: answered at once.
    assert login(client, user.email, PASSWORD, "198.18.11.2").json["res"] == 1
    assert sleeps.take() == []
    # The owner's own typo is held (the account failed, from the guesser), their password is not.
    owner = "198.18.11.3"
    assert login(client, user.email, "a typo", owner).json == {"res": -1}
    assert sleeps.take() == [BOUND]
    assert login(client, user.email, PASSWORD, owner).json["res"] == 1
    assert sleeps.take() == []


def test_a_429_is_held_up_to_its_bound_and_its_retry_after(client, config, sleeps, make_user):
    address = "198.18.12.1"
    for i in range(config.login_max_failures * throttle.ADDRESS_FAILURES_FACTOR):
        login(client, f"guess{i}@example.com", "wrong password", address)
    sleeps.take()
    refused = login(client, "guess@example.com", "wrong password", address)  # the full check refuses it
    assert refused.status_code == 429
    again = login(client, "guess2@example.com", "wrong password", address)  # the refusal gate does
    assert again.status_code == 429
    assert sleeps.take() == [BOUND, BOUND]  # Retry-After is minutes here: the bound applies

    # A victim's own requests meanwhile are not held.
    victim = make_user("tarpit.victim@example.com")
    sleeps.take()
    assert client.post("/glimpse/getUser", json={}, headers=victim.headers).status_code == 200
    assert client.get("/glimpse/ping").status_code == 200
    assert sleeps.take() == []


def test_retry_after_shorter_than_the_bound_bounds_the_hold():
    held = tarpit.Tarpit(app=None, max_sleeping=1, seconds=5.0)
    assert held.delay_for("429 TOO MANY REQUESTS", [("Retry-After", "1")], {}) == 1.0
    assert held.delay_for("429 TOO MANY REQUESTS", [("Retry-After", "60")], {}) == 5.0
    assert held.delay_for("429 TOO MANY REQUESTS", [], {}) == 5.0
    assert held.delay_for("200 OK", [], {}) == 0.0
    assert held.delay_for("200 OK", [], {tarpit.HOLD_KEY: True}) == 5.0
    # Only a login answered as failed is held by the mark, never an error that happened to carry it.
    assert held.delay_for("500 INTERNAL SERVER ERROR", [], {tarpit.HOLD_KEY: True}) == 0.0


def test_at_most_max_sleeping_answers_are_held_at_once():
    release = threading.Event()
    asleep = threading.Semaphore(0)

    def sleep(seconds: float) -> None:
        asleep.release()
        release.wait(10)

    def refused(environ, start_response):
        start_response("429 TOO MANY REQUESTS", [("Retry-After", "30")])
        return [b"{}"]

    held = tarpit.Tarpit(refused, max_sleeping=2, seconds=1.0, sleep=sleep)
    statuses: list[str] = []

    def call() -> None:
        held({}, lambda status, headers, exc_info=None: statuses.append(status))

    sleepers = [threading.Thread(target=call) for _ in range(2)]
    for thread in sleepers:
        thread.start()
    for _ in sleepers:
        assert asleep.acquire(timeout=10)
    assert held.sleeping == 2
    call()  # a third refusal while two sleep: answered at once, not held
    assert held.passed == 1 and held.held == 2
    release.set()
    for thread in sleepers:
        thread.join(10)
    assert held.sleeping == 0
    assert statuses == ["429 TOO MANY REQUESTS"] * 3
    call()  # room again: held
    assert held.held == 3


def test_the_server_puts_the_tarpit_in_front_of_the_refusal_gate(app):
    held = tarpit.install(app, max_sleeping=3)
    assert app.wsgi_app is held
    assert isinstance(held.app, throttle.RefusalGate)
    assert held.max_sleeping == 3 and held.seconds == tarpit.HOLD_SECONDS
