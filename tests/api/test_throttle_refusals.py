"""Cheap refusals (api/throttle.py, issue 12's bench/abuse.py): a limit once breached answers its
next requests from memory, before the body, the token and the limit storage are read, and
exactly as long as the full check would refuse them."""

from __future__ import annotations

import threading
import time
from ipaddress import ip_network

import pytest

from api import auth, throttle
from tests.api.conftest import PASSWORD

PROXY = "127.0.0.1"


@pytest.fixture
def config(config):
    return config.with_(trusted_proxies=(ip_network(PROXY + "/32"),))


def from_(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


def login(client, email: str, password: str, address: str):
    return client.post("/glimpse/login", json={"email": email, "password": password}, headers=from_(address))


def assert_throttled(response) -> None:
    assert response.status_code == 429, (response.status_code, response.get_data(as_text=True))
    assert int(response.headers["Retry-After"]) >= 1
    assert response.json["error"] and response.json["retryAfter"] >= 1


def test_a_refused_address_is_answered_before_its_body_and_the_limits(client, config, monkeypatch):
    address = "198.18.1.1"
    for i in range(config.login_max_failures * throttle.ADDRESS_FAILURES_FACTOR):
        assert login(client, f"guess{i}@example.com", "wrong password", address).json == {"res": -1}
    first = login(client, "someone@example.com", "wrong password", address)
    assert_throttled(first)

    calls: list[str] = []
    storage = throttle.limiter.storage
    for name in ("acquire_entry", "get_moving_window"):  # what the moving window reads and writes
        real = getattr(storage, name)

        def counting(*args, _real=real, _name=name, **kwargs):
            calls.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(storage, name, counting)
    again = login(client, "another@example.com", "wrong password", address)
    assert_throttled(again)
    assert again.json["error"] == first.json["error"]
    assert calls == []  # answered from the remembered refusal
    # Not even the body is read: a malformed one gets the same 429.
    raw = client.post(
        "/glimpse/login", data=b"{not json", content_type="application/json", headers=from_(address)
    )
    assert_throttled(raw)
    # Another address is not touched by it.
    assert login(client, "someone@example.com", "wrong password", "198.18.1.2").json == {"res": -1}


def test_a_refused_caller_is_answered_without_reading_the_token(client, make_user, monkeypatch):
    user, other = make_user(), make_user("bruno@example.com")
    codes = [
        client.post("/glimpse/useCode", json={"code": f"GUESS{i:05d}"}, headers=user.headers)
        for i in range(11)
    ]
    assert [r.status_code for r in codes[:10]] == [400] * 10
    assert_throttled(codes[10])

    authenticated: list[str] = []
    real_authenticate = auth.authenticate

    def counting(access, data):
        authenticated.append("token")
        return real_authenticate(access, data)

    monkeypatch.setattr(auth, "authenticate", counting)
    assert_throttled(client.post("/glimpse/useCode", json={"code": "GUESS99999"}, headers=user.headers))
    assert authenticated == []  # no token check, no database read
    # The token in the body (the original app's userKey) is the same caller.
    assert_throttled(client.post("/glimpse/useCode", json={"code": "GUESS99998", "userKey": user.token}))
    assert authenticated == []
    # Another user's budget is their own, and goes through the full check.
    assert (
        client.post("/glimpse/useCode", json={"code": "GUESS00000"}, headers=other.headers).status_code == 400
    )
    assert authenticated == ["token"]


def test_behind_a_token_a_stranger_still_gets_401_first(client, make_user, broker_check):
    from glimpse.market import AuthError

    broker_check.error = AuthError("invalid credentials")
    attacker, other = make_user("mallory@example.com"), make_user("olga@example.com")
    body = {"email": "victim.iq@example.com", "password": "guess"}
    for _ in range(10):
        assert client.post("/glimpse/checkIq", json=body, headers=attacker.headers).status_code == 200
    # The broker email's budget is spent: another account is refused by the full check...
    assert_throttled(client.post("/glimpse/checkIq", json=body, headers=other.headers))
    # ...but a request without a token learns nothing of it.
    assert client.post("/glimpse/checkIq", json=body).status_code == 401
    assert (
        client.post("/glimpse/checkIq", json=body, headers={"Authorization": "Bearer forged"}).status_code
        == 401
    )


def test_a_remembered_refusal_ends_with_its_window(client, make_user, config, monkeypatch):
    user = make_user()
    address = "198.18.2.1"
    for _ in range(config.login_max_failures):
        assert login(client, user.email, "wrong password", address).json == {"res": -1}
    assert_throttled(login(client, user.email, PASSWORD, address))
    assert_throttled(login(client, user.email, PASSWORD, address))  # remembered
    # The owner, from an address that has not failed, is never refused.
    assert login(client, user.email, PASSWORD, "198.18.2.2").json["res"] == 1
    later = time.time() + config.login_window_seconds + 1
    monkeypatch.setattr(time, "time", lambda: later)
    assert login(client, user.email, PASSWORD, address).json["res"] == 1


def test_refusals_of_one_limit_do_not_spill_into_another(client, make_user):
    user = make_user()
    # The victim's email is spent from several addresses (3 per email)...
    for i in range(3):
        reset = client.post(
            "/glimpse/requestPasswordReset", json={"email": user.email}, headers=from_(f"198.18.3.{i + 1}")
        )
        assert reset.json == {"res": 1}
    refused = client.post(
        "/glimpse/requestPasswordReset", json={"email": user.email}, headers=from_("198.18.3.9")
    )
    assert_throttled(refused)
    # ...which neither spends that address's budget nor another email's.
    other = client.post(
        "/glimpse/requestPasswordReset", json={"email": "other@example.com"}, headers=from_("198.18.3.9")
    )
    assert other.json == {"res": 1}
    # A stranger's failures against the user, remembered per (account, address), leave the
    # stranger free to log in to an account of their own from that address.
    make_user("eve@example.com")
    for _ in range(5):
        login(client, user.email, "wrong password", "198.18.3.20")
    assert_throttled(login(client, user.email, "wrong password", "198.18.3.20"))
    assert login(client, "eve@example.com", PASSWORD, "198.18.3.20").json["res"] == 1


def test_a_disabled_limiter_ignores_remembered_refusals(client, config):
    address = "198.18.4.1"
    for i in range(config.login_max_failures * throttle.ADDRESS_FAILURES_FACTOR):
        login(client, f"guess{i}@example.com", "wrong password", address)
    assert_throttled(login(client, "x@example.com", "wrong password", address))
    throttle.limiter.enabled = False
    try:
        assert login(client, "x@example.com", "wrong password", address).json == {"res": -1}
    finally:
        throttle.limiter.enabled = True


def test_the_embedded_limit_storage_starts_no_thread_per_request(client, monkeypatch):
    assert isinstance(throttle.limiter.storage, throttle.PacedMemoryStorage)
    timers: list[float] = []
    real_timer = threading.Timer

    def counting_timer(interval, function, *args, **kwargs):
        timers.append(interval)
        return real_timer(interval, function, *args, **kwargs)

    # The parent class starts a timer thread 10 ms after any hit that finds none running.
    monkeypatch.setattr(threading, "Timer", counting_timer)
    for i in range(30):
        login(client, f"guess{i}@example.com", "wrong password", f"198.18.5.{i + 1}")
        time.sleep(0.002)
    assert timers == []


def test_the_paced_storage_still_sweeps_expired_entries(monkeypatch):
    storage = throttle.PacedMemoryStorage("glimpse-memory://")
    assert storage.acquire_entry("address:198.18.6.1", 5, 60)
    assert storage.incr("counter", 60) == 1
    assert storage.events and storage.storage
    later = time.time() + 120
    monkeypatch.setattr(time, "time", lambda: later)
    monkeypatch.setattr(time, "monotonic", lambda: later)
    storage.acquire_entry("address:198.18.6.2", 5, 60)  # the next request sweeps
    assert "address:198.18.6.1" not in storage.events and "counter" not in storage.storage
    assert "address:198.18.6.2" in storage.events


@pytest.fixture
def app_calls(app, monkeypatch):
    """Counts the requests that get past the refusal gate into the Flask app."""
    gate = app.wsgi_app
    assert isinstance(gate, throttle.RefusalGate)
    calls: list[str] = []
    inner = gate.app

    def counting(environ, start_response):
        calls.append(environ["PATH_INFO"])
        return inner(environ, start_response)

    monkeypatch.setattr(gate, "app", counting)
    return calls


def throttled_count(route: str) -> float:
    from glimpse.runtime import metrics

    return metrics.REGISTRY.get_sample_value("glimpse_throttled_requests_total", {"route": route}) or 0.0


def test_the_gate_answers_a_refused_address_outside_flask_with_every_header(client, config, app_calls):
    from api import SECURITY_HEADERS

    address = "198.18.7.1"
    for i in range(config.login_max_failures * throttle.ADDRESS_FAILURES_FACTOR):
        login(client, f"guess{i}@example.com", "wrong password", address)
    first = login(client, "x@example.com", "wrong password", address)
    assert_throttled(first)
    calls_before, counted_before = len(app_calls), throttled_count("/glimpse/login")
    again = login(client, "y@example.com", "wrong password", address)
    assert_throttled(again)
    assert len(app_calls) == calls_before  # answered by the gate
    assert again.json["error"] == first.json["error"]
    for name, value in SECURITY_HEADERS.items():
        assert again.headers[name] == value
    assert "Access-Control-Allow-Origin" not in again.headers
    assert throttled_count("/glimpse/login") == counted_before + 1
    # An allowed browser origin gets its CORS header, as from the app...
    origin = config.cors_origins[0]
    allowed = client.post(
        "/glimpse/login",
        json={"email": "z@example.com", "password": "wrong password"},
        headers=from_(address) | {"Origin": origin},
    )
    assert_throttled(allowed)
    assert allowed.headers["Access-Control-Allow-Origin"] == origin and len(app_calls) == calls_before
    # ...and any other origin is left to the app (still refused, without the header).
    other = client.post(
        "/glimpse/login",
        json={"email": "z@example.com", "password": "wrong password"},
        headers=from_(address) | {"Origin": "https://evil.example"},
    )
    assert_throttled(other)
    assert "Access-Control-Allow-Origin" not in other.headers and len(app_calls) == calls_before + 1
    # The address the gate reads is the app's: a direct peer cannot borrow a refused address.
    direct = client.post(
        "/glimpse/login",
        json={"email": "z@example.com", "password": "wrong password"},
        headers=from_(address),
        environ_base={"REMOTE_ADDR": "192.0.2.50"},
    )
    assert direct.json == {"res": -1}


def test_a_caller_spent_behind_another_limit_is_remembered_by_token(
    client, make_user, broker_check, app_calls
):
    from glimpse.market import AuthError

    broker_check.error = AuthError("invalid credentials")
    attacker, other = make_user("mallory@example.com"), make_user("olga@example.com")
    body = {"email": "victim.iq@example.com", "password": "guess"}
    for _ in range(10):
        assert client.post("/glimpse/checkIq", json=body, headers=attacker.headers).status_code == 200
    # Both the attacker's budget and the broker email's are spent; whichever answers first, the
    # attacker's token is refused from memory from now on, for any broker email.
    assert_throttled(client.post("/glimpse/checkIq", json=body, headers=attacker.headers))
    calls_before = len(app_calls)
    elsewhere = {"email": "mallory.iq@example.com", "password": "guess"}
    assert_throttled(client.post("/glimpse/checkIq", json=elsewhere, headers=attacker.headers))
    assert len(app_calls) == calls_before
    # Another user still goes through the full check: refused for that broker email only.
    assert_throttled(client.post("/glimpse/checkIq", json=body, headers=other.headers))
    broker_check.error = None
    own = {"email": "olga.iq@example.com", "password": "z"}
    assert client.post("/glimpse/checkIq", json=own, headers=other.headers).status_code == 200
    assert len(app_calls) == calls_before + 2
    assert len(broker_check.calls) == 11


def test_the_refusal_table_is_bounded(monkeypatch):
    refusals = throttle.Refusals()
    monkeypatch.setattr(throttle.Refusals, "MAX_ENTRIES", 2)
    route, now = ("POST", "/glimpse/login"), time.time()
    for i in range(3):
        refusals.remember(
            route, throttle.address_key, "20 per 300 second", f"address:{i}", now + 60, "no", "/l"
        )
    limit = (throttle.address_key, "20 per 300 second")
    assert refusals.find(route, limit, "address:1", now) is not None
    assert (
        refusals.find(route, limit, "address:2", now) is None
    )  # full of live entries: left to the slow path
    later = now + 120
    monkeypatch.setattr(time, "time", lambda: later)
    refusals.remember(route, throttle.address_key, "20 per 300 second", "address:3", later + 60, "no", "/l")
    assert refusals.find(route, limit, "address:3", later) == ("no", 60, "/l")
    assert refusals.find(route, limit, "address:0", later) is None


def test_a_route_without_limits_pays_nothing_for_the_limiter(client, monkeypatch):
    resolved: list[str | None] = []
    manager = throttle.limiter.limit_manager
    real_resolve = manager.resolve_limits

    def counting(app, endpoint=None, *args, **kwargs):
        resolved.append(endpoint)
        return real_resolve(app, endpoint, *args, **kwargs)

    monkeypatch.setattr(manager, "resolve_limits", counting)
    assert client.get("/glimpse/ping").status_code == 200
    assert resolved == []  # the limiter's own request hook is not installed: there is nothing for it
    login(client, "someone@example.com", "wrong password", "198.18.8.1")
    assert resolved  # a route's own limits still run, in its decorators
