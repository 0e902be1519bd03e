"""The abuse findings of issue 12, reproduced: each test is a probe that once succeeded.

The app here sits behind a trusted proxy (the Flask test client connects from
127.0.0.1, listed in GLIMPSE_TRUSTED_PROXIES), so each request names its
client in X-Forwarded-For, as the README's TLS proxy does.
"""

from __future__ import annotations

import re
from ipaddress import ip_network

import pytest

from api import auth
from api.routes.admin import sanitize_terms
from glimpse.runtime import security
from glimpse.store import db as names
from tests.api.conftest import PASSWORD, mailed
from tests.api.samples import SAMPLES

VICTIM_ADDRESS = "198.51.100.7"
PROXY = "127.0.0.1"


@pytest.fixture
def config(config):
    return config.with_(trusted_proxies=(ip_network(PROXY + "/32"),))


def from_(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


def login(client, email: str, password: str, address: str, route: str = "/glimpse/login"):
    return client.post(route, json={"email": email, "password": password}, headers=from_(address))


def stranger(i: int) -> str:
    return f"203.0.113.{i + 1}"


def assert_throttled(response) -> None:
    assert response.status_code == 429, (response.status_code, response.json)
    assert int(response.headers["Retry-After"]) >= 1
    assert response.json["error"] and response.json["retryAfter"] >= 1


# ------------------------------------------------------------------ the client address


@pytest.mark.parametrize(
    "peer, chain, client",
    [
        ("127.0.0.1", "", "127.0.0.1"),  # a trusted peer without a chain is the client
        ("127.0.0.1", "198.51.100.7", "198.51.100.7"),
        ("127.0.0.1", "6.6.6.6, 198.51.100.7", "198.51.100.7"),  # the client's own claim is ignored
        ("127.0.0.1", "198.51.100.7, 10.1.2.3", "198.51.100.7"),  # a second trusted hop is skipped
        ("127.0.0.1", "10.0.0.9, 10.1.2.3", "10.0.0.9"),  # all trusted: the leftmost
        ("192.0.2.50", "198.51.100.7", "192.0.2.50"),  # an untrusted peer cannot name a client
    ],
)
def test_client_address_reads_the_chain_from_the_right(peer, chain, client):
    trusted = (ip_network("127.0.0.1/32"), ip_network("10.0.0.0/8"))
    assert auth.client_address(peer, chain, trusted) == client


def test_forwarded_for_from_an_untrusted_peer_cannot_dodge_the_throttle(client, config):
    # The attacker connects directly and names a new address in each request: all count as one.
    direct = {"REMOTE_ADDR": "192.0.2.50"}
    for i in range(config.login_max_failures * 4):
        response = client.post(
            "/glimpse/login",
            json={"email": f"guess{i}@example.com", "password": "wrong password"},
            headers=from_(stranger(i)),
            environ_base=direct,
        )
        assert response.json == {"res": -1}
    blocked = client.post(
        "/glimpse/login",
        json={"email": "other@example.com", "password": "wrong password"},
        headers=from_("198.18.0.1"),
        environ_base=direct,
    )
    assert_throttled(blocked)


# ------------------------------------------------------------------ no lockout by strangers


def test_21_strangers_cannot_lock_out_a_user_or_a_manager(client, make_user, manager, config):
    user = make_user()
    for i in range(21):
        # Made-up emails, the victim's email with wrong passwords, the manager's too.
        for email in (f"nobody{i}@example.com", user.email):
            assert login(client, email, "not the password", stranger(i)).json == {"res": -1}
        assert login(
            client, manager.email, "not the password", stranger(i), "/glimpse/managerLogin"
        ).json == {"res": -1}
    # Any one stranger who keeps guessing the user's password is slowed down...
    for _ in range(config.login_max_failures):
        login(client, user.email, "still not it", stranger(0))
    assert_throttled(login(client, user.email, PASSWORD, stranger(0)))
    # ...but the owners, from an address that has not failed, get in with the right password:
    # the trader whose token expired can log in to press Stop.
    assert login(client, user.email, PASSWORD, VICTIM_ADDRESS).json["res"] == 1
    assert login(client, manager.email, PASSWORD, VICTIM_ADDRESS, "/glimpse/managerLogin").json["res"] == 1


def test_reset_requests_do_not_lock_the_owner_out_of_login(client, make_user):
    user = make_user()
    for i in range(10):
        client.post("/glimpse/requestPasswordReset", json={"email": user.email}, headers=from_(stranger(i)))
    assert login(client, user.email, PASSWORD, stranger(0)).json["res"] == 1


def test_user_and_manager_logins_count_apart(client, make_user, manager, config):
    user = make_user()
    for _ in range(config.login_max_failures):
        login(client, user.email, "wrong password", VICTIM_ADDRESS)
    assert_throttled(login(client, user.email, PASSWORD, VICTIM_ADDRESS))
    # The same person, the same address, the manager app: a counter of its own.
    assert login(client, manager.email, PASSWORD, VICTIM_ADDRESS, "/glimpse/managerLogin").json["res"] == 1


def test_a_correct_login_clears_the_failures_of_that_account_and_address(client, make_user, config):
    user = make_user()
    for _ in range(config.login_max_failures - 1):
        login(client, user.email, "wrong password", VICTIM_ADDRESS)
    assert login(client, user.email, PASSWORD, VICTIM_ADDRESS).json["res"] == 1
    for _ in range(config.login_max_failures - 1):
        assert login(client, user.email, "wrong password", VICTIM_ADDRESS).json == {"res": -1}
    assert login(client, user.email, PASSWORD, VICTIM_ADDRESS).json["res"] == 1


# ------------------------------------------------------------------ rate limits


def test_check_iq_guessing_gets_429(client, make_user, broker_check):
    from glimpse.market import AuthError

    attacker, other = make_user("mallory@example.com"), make_user("olga@example.com")
    broker_check.error = AuthError("invalid credentials")
    victim_broker = "victim.iq@example.com"
    answers = [
        client.post(
            "/glimpse/checkIq",
            json={"email": victim_broker, "password": f"guess {i}"},
            headers=attacker.headers,
        ).status_code
        for i in range(30)
    ]
    assert answers[:10] == [200] * 10  # refused: {res: reason}, as the original (issue 16)
    assert set(answers[10:]) == {429}
    assert len(broker_check.calls) == 10  # the broker was asked 10 times, not 30
    assert_throttled(
        client.post(
            "/glimpse/checkIq", json={"email": victim_broker, "password": "x"}, headers=attacker.headers
        )
    )
    # Per broker email too: another account cannot take over the guessing.
    assert_throttled(
        client.post("/glimpse/checkIq", json={"email": victim_broker, "password": "y"}, headers=other.headers)
    )
    broker_check.error = None
    own = client.post(
        "/glimpse/checkIq", json={"email": "olga.iq@example.com", "password": "z"}, headers=other.headers
    )
    assert own.status_code == 200


def test_use_code_insert_user_backtest_and_export_are_rate_limited(client, make_user, manager):
    user = make_user()
    codes = [
        client.post("/glimpse/useCode", json={"code": f"GUESS{i:05d}"}, headers=user.headers)
        for i in range(11)
    ]
    assert [r.status_code for r in codes[:10]] == [400] * 10
    assert_throttled(codes[10])

    register = {"userName": "Eve Nine", "userPassword": "a good password", "code": "NOPE"}
    tries = [
        client.post(
            "/glimpse/insertUser",
            json=register | {"userMail": f"eve{i}@example.com"},
            headers=from_("198.18.0.9"),
        )
        for i in range(11)
    ]
    assert [r.status_code for r in tries[:10]] == [400] * 10
    assert_throttled(tries[10])

    backtests = [
        client.post("/glimpse/backtestStrategy", json=SAMPLES["backtest_strategy"], headers=user.headers)
        for _ in range(21)
    ]
    assert all(r.status_code == 200 for r in backtests[:20])
    assert_throttled(backtests[20])

    exports = [
        client.post("/glimpse/exportTrades", json=SAMPLES["export_trades"], headers=manager.headers)
        for _ in range(11)
    ]
    assert all(r.status_code == 200 for r in exports[:10])
    assert_throttled(exports[10])


# ------------------------------------------------------------------ no enumeration


def test_insert_user_with_a_bad_code_answers_the_same_for_any_email(client, make_user):
    user = make_user()
    body = {"userName": "Some One", "userPassword": "a good password", "code": "BOGUS12345"}
    known = client.post("/glimpse/insertUser", json=body | {"userMail": user.email})
    unknown = client.post("/glimpse/insertUser", json=body | {"userMail": "fresh@example.com"})
    assert known.status_code == unknown.status_code == 400
    assert (
        known.json == unknown.json == {"error": "the invite code is unknown or already used", "field": "code"}
    )


def test_reset_answers_and_throttles_known_and_unknown_emails_alike(
    client, make_user, db, monkeypatch, config
):
    user = make_user()
    hashed: list[str] = []
    real_hash = security.hash_password

    def counting_hash(*args, **kwargs):
        hashed.append("argon2")
        return real_hash(*args, **kwargs)

    monkeypatch.setattr(security, "hash_password", counting_hash)
    answers = {}
    for email in (user.email, "ghost@example.com"):
        answers[email] = [
            client.post("/glimpse/requestPasswordReset", json={"email": email}, headers=from_(stranger(i)))
            for i in range(4)
        ]
    known, unknown = answers[user.email], answers["ghost@example.com"]
    assert [r.status_code for r in known] == [r.status_code for r in unknown] == [200, 200, 200, 429]
    assert [r.json for r in known[:3]] == [r.json for r in unknown[:3]] == [{"res": 1}] * 3
    assert known[3].json["error"] == unknown[3].json["error"]
    assert hashed == []  # no argon2 for an unauthenticated reset request
    # The code is stored only as a keyed hash.
    stored = db[names.ACCOUNTS].find_one({"email": user.email})["passwordReset"]["hash"]
    mail = mailed(db, config, user.email)
    found = re.search(r"\b([A-Z2-9]{8})\b", mail)
    assert found is not None
    code = found.group(1)
    assert stored.startswith(security.RESET_HASH_PREFIX) and code not in stored
    assert stored == security.hash_reset_code(
        client.application.extensions["glimpse"].config.secret_key.get_secret_value(), code
    )


def test_reset_requests_are_limited_per_address(client):
    answers = [
        client.post(
            "/glimpse/requestPasswordReset", json={"email": f"x{i}@example.com"}, headers=from_("198.18.0.3")
        )
        for i in range(11)
    ]
    assert [r.status_code for r in answers[:10]] == [200] * 10
    assert_throttled(answers[10])


@pytest.mark.parametrize("route", ["/glimpse/login", "/glimpse/managerLogin"])
def test_login_verifies_one_hash_for_known_and_unknown_emails(client, make_user, manager, monkeypatch, route):
    email = make_user().email if route == "/glimpse/login" else manager.email
    calls: list[str] = []
    real_verify = security.verify_password

    def counting_verify(stored_hash, password):
        calls.append(stored_hash)
        return real_verify(stored_hash, password)

    monkeypatch.setattr(security, "verify_password", counting_verify)
    assert login(client, email, "wrong password", VICTIM_ADDRESS, route).json == {"res": -1}
    assert login(client, "ghost@example.com", "wrong password", VICTIM_ADDRESS, route).json == {"res": -1}
    assert len(calls) == 2 and all(h.startswith(security.HASH_PREFIX) for h in calls)
    assert calls[1] == security.dummy_hash(
        client.application.extensions["glimpse"].config.password_hash_profile
    )


# ------------------------------------------------------------------ bodies that once gave 500


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 1000 + b"]" * 1000,
        b'{"a":' * 1000 + b"1" + b"}" * 1000,
        b'{"email": "a@example.com", "password": ' + b"[" * 40 + b"]" * 40 + b"}",
        b'{"userKey": "\\ud800"}',
        b'{"email": "\\udfff@example.com", "password": "x"}',
        b'{"\\ud800": 1}',
        b'{"email": "a@example.com", "password": "x", "n": 123456789012345678901234567890}',
        b'{"email": "a@example.com", "password": "x", "n": NaN}',
        b'{"email": "a@example.com", "password": "x", "n": 1e999}',
    ],
)
@pytest.mark.parametrize("route", ["/glimpse/login", "/glimpse/getUser", "/glimpse/insertAudit"])
def test_hostile_bodies_get_400(client, raw, route):
    response = client.post(route, data=raw, content_type="application/json")
    assert response.status_code == 400, (response.status_code, response.json)
    assert response.json["field"] == "body"


def test_insert_audit_with_huge_integers_and_surrogates_is_400(client, manager):
    for raw in (
        b'{"target": "t", "didWhat": "d", "to": 99999999999999999999999}',
        b'{"target": "t", "didWhat": "d", "from": {"x": "\\ud83d"}}',
    ):
        response = client.post(
            "/glimpse/insertAudit", data=raw, content_type="application/json", headers=manager.headers
        )
        assert response.status_code == 400, response.json


# ------------------------------------------------------------------ headers


@pytest.mark.parametrize(
    "method, path", [("POST", "/glimpse/ativos"), ("GET", "/glimpse/nothing-here"), ("GET", "/")]
)
def test_security_headers_on_every_response(client, method, path):
    response = client.open(path, method=method, json={} if method == "POST" else None)
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "object-src 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_cors_header_only_for_an_allowed_origin(client, config):
    assert "Access-Control-Allow-Origin" not in client.post("/glimpse/ativos", json={}).headers
    origin = config.cors_origins[0]
    allowed = client.post("/glimpse/ativos", json={}, headers={"Origin": origin})
    assert allowed.headers["Access-Control-Allow-Origin"] == origin
    stranger_site = client.post("/glimpse/ativos", json={}, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in stranger_site.headers


# ------------------------------------------------------------------ the terms sanitiser


@pytest.mark.parametrize(
    "html",
    [
        '<p><a href="jav\tascript:alert(1)">x</a></p>',
        '<p><a href="jav&#9;ascript:alert(1)">x</a></p>',
        '<p><a href=" JaVaScRiPt:alert(1)">x</a></p>',
        '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg><p>x</p>',
        '<p><img src=x onerror="alert(1)">x</p>',
        '<math><a xlink:href="javascript:alert(1)">x</a></math><p>x</p>',
    ],
)
def test_the_terms_sanitiser_strips_hidden_javascript(html, client, manager):
    assert "javascript" not in sanitize_terms(html).lower()
    saved = client.post("/glimpse/setTerms", json={"html": html}, headers=manager.headers)
    assert saved.status_code == 200
    stored = client.post("/glimpse/getTerms", json={}).json[0]["value"]
    assert "javascript" not in stored.lower() and "onerror" not in stored and "xlink" not in stored


def test_the_hand_written_sanitiser_is_gone():
    from pathlib import Path

    source = (Path(__file__).resolve().parents[2] / "apps/web/src/components/SafeHtml.tsx").read_text()
    assert 'from "dompurify"' in source and "DOMPurify.sanitize(" in source
    assert "querySelectorAll" not in source


# ------------------------------------------------------------------ the password policy


@pytest.mark.parametrize(
    "password, problem",
    [
        ("        ", "blank"),
        (" " * 12, "blank"),
        ("short", "at least 10"),
        ("glimpse-demo", "demo"),
        ("GLIMPSE-ADMIN", "demo"),
        ("qwertyuiop", "common"),
        ("Password123", "common"),
        ("1q2w3e4r5t", "common"),
        ("x" * 257, "at most 256"),
    ],
)
def test_the_password_policy_refuses(password, problem):
    found = security.password_problem(password)
    assert found is not None and problem in found


@pytest.mark.parametrize("password", ["correct horse battery", "a good password", "Ünïcødé-senha-9"])
def test_the_password_policy_accepts(password):
    assert security.password_problem(password) is None


def test_the_api_applies_the_policy_everywhere_a_password_is_chosen(client, make_user, db):
    user = make_user()
    db[names.CODES].insert_one(
        {"code": "WELCOME9", "valid": True, "usedBy": "", "usedWhen": 0, "premiumDays": 1}
    )
    for weak in ("glimpse-demo", " " * 10, "qwertyuiop", "8chars!!"):
        register = {
            "userName": "Nova Pessoa",
            "userMail": "nova@example.com",
            "userPassword": weak,
            "code": "WELCOME9",
        }
        answer = client.post("/glimpse/insertUser", json=register)
        assert answer.status_code == 400 and answer.json["field"] == "userPassword", (weak, answer.json)
        change = client.post(
            "/glimpse/changePassword",
            json={"currentPassword": PASSWORD, "newPassword": weak},
            headers=user.headers,
        )
        assert change.status_code == 400 and change.json["field"] == "newPassword", (weak, change.json)
        reset = client.post(
            "/glimpse/resetPassword", json={"email": user.email, "code": "ABCDEFGH", "newPassword": weak}
        )
        assert reset.status_code == 400 and reset.json["field"] == "newPassword", (weak, reset.json)
    assert db[names.CODES].find_one({"code": "WELCOME9"})["valid"] is True


# ------------------------------------------------------------------ hashing under a flood


def test_argon2_runs_on_a_bounded_pool_of_low_priority_threads(monkeypatch):
    import os
    import threading

    seen: list[tuple[str, int]] = []
    active = [0]
    peak = [0]
    lock = threading.Lock()
    release = threading.Event()

    class Recording:
        def hash(self, password: str) -> str:
            with lock:
                active[0] += 1
                peak[0] = max(peak[0], active[0])
                seen.append(
                    (
                        threading.current_thread().name,
                        os.getpriority(os.PRIO_PROCESS, threading.get_native_id()),
                    )
                )
            release.wait(5)
            with lock:
                active[0] -= 1
            return security.HASH_PREFIX + "recorded"

    monkeypatch.setitem(security._HASHERS, "recording", Recording())
    callers = [threading.Thread(target=security.hash_password, args=("pw", "recording")) for _ in range(6)]
    for thread in callers:
        thread.start()
    release.set()
    for thread in callers:
        thread.join(10)
    assert len(seen) == 6 and peak[0] <= security.HASH_THREADS
    assert all(name.startswith("argon2") for name, _ in seen)
    assert all(nice >= security.HASH_NICE for _, nice in seen)


def test_a_burst_of_logins_from_one_address_waits_for_at_most_two_hashes(app, make_user, monkeypatch):
    import threading

    user = make_user()
    inside = threading.Semaphore(0)
    release = threading.Event()
    real_verify = security.verify_password

    def slow_verify(stored_hash, password):
        inside.release()
        release.wait(5)
        return real_verify(stored_hash, password)

    monkeypatch.setattr(security, "verify_password", slow_verify)
    answers: list[int] = []

    def attempt():
        answers.append(login(app.test_client(), user.email, "wrong password", stranger(5)).status_code)

    first = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in first:
        thread.start()
    assert inside.acquire(timeout=5) and inside.acquire(timeout=5)  # both are hashing now
    third = login(app.test_client(), user.email, "wrong password", stranger(5))
    assert third.status_code == 429 and third.headers["Retry-After"] == "1"
    # Another address is not held up by it.
    release.set()
    assert login(app.test_client(), user.email, PASSWORD, VICTIM_ADDRESS).json["res"] == 1
    for thread in first:
        thread.join(10)
    assert answers == [200, 200]
