"""A user's correct password logs them in while a botnet guesses logins from fresh addresses
(issue 12): nothing refuses it, and its verification is computed even when the idle-class hash
thread gets no CPU at all (glimpse/runtime/security.py: the standby takes the hashes a starved
hash thread does not finish). The starvation is simulated by a hash thread that blocks."""

from __future__ import annotations

import itertools
import threading
from ipaddress import ip_network

import pytest

from glimpse.runtime import security
from tests.api.conftest import PASSWORD, insert_user

PROXY = "127.0.0.1"
BOTS = 8


@pytest.fixture
def config(config):
    return config.with_(trusted_proxies=(ip_network(PROXY + "/32"),))


def _login(client, email: str, password: str, address: str):
    return client.post(
        "/glimpse/login", json={"email": email, "password": password}, headers={"X-Forwarded-For": address}
    )


def test_a_correct_password_logs_in_while_a_botnet_guesses_and_the_hash_thread_starves(
    app, config, db, clock, monkeypatch
):
    owner = "owner@example.com"
    insert_user(db, config, clock, owner)
    monkeypatch.setattr(security, "_hash_pool", security.HashPool(1, starved_after=0.05))
    starving = threading.Event()  # the hash thread holds a botnet hash
    fed = threading.Event()  # set: the hash thread gets the CPU again
    real_verify = security._verify_on_one_core

    def verify(stored_hash: str, password: str) -> bool:
        if threading.current_thread().name.startswith("argon2-hash"):
            starving.set()
            fed.wait(30)
        return real_verify(stored_hash, password)

    monkeypatch.setattr(security, "_verify_on_one_core", verify)
    stop = threading.Event()
    addresses = (f"198.18.{n // 250}.{n % 250 + 1}" for n in itertools.count())  # never repeated
    lock = threading.Lock()
    answers: list[object] = []

    def bot(index: int) -> None:
        client = app.test_client()
        for n in itertools.count():
            if stop.is_set():
                return
            email = owner if n % 2 else f"guess{index}.{n}@example.com"
            with lock:
                address = next(addresses)
            response = _login(client, email, f"guess number {n}", address)
            with lock:
                answers.append(response.json)

    bots = [threading.Thread(target=bot, args=(i,), daemon=True) for i in range(BOTS)]
    try:
        for thread in bots:
            thread.start()
        assert starving.wait(30)
        response = _login(app.test_client(), owner, PASSWORD, "203.0.113.9")
        assert response.status_code == 200
        assert response.json["res"] == 1 and response.json["token"]
    finally:
        stop.set()
        fed.set()
        for thread in bots:
            thread.join(30)
    assert not any(thread.is_alive() for thread in bots)
    assert answers and all(answer == {"res": -1} for answer in answers)
