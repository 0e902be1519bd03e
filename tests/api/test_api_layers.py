"""The app's per-request layers after their cuts (issue 14, bench/api.py's getUser): the app-wide
hooks run from one function each, in Flask's order; the limiter's response hook runs only for a
request that met a limit; flask-compress's runs in full only for a client that accepts one of its
encodings. Each keeps what it did: these tests check the answers, not the time."""

from __future__ import annotations

import gzip

from api import throttle


def test_one_hook_each_keeps_flasks_order_and_the_first_answer(app, client):
    assert len(app.before_request_funcs[None]) == 1
    assert len(app.after_request_funcs[None]) == 1
    calls: list[str] = []

    # Registered after create_app: Flask runs them around the fused hooks, in its usual order.
    @app.before_request
    def late_before():
        calls.append("before")

    @app.after_request
    def late_after(response):
        calls.append("after")
        response.headers["X-Late"] = "1"
        return response

    answer = client.get("/glimpse/ping")
    assert answer.status_code == 200 and answer.headers["X-Late"] == "1"
    assert calls == ["before", "after"]
    # The fused before-hooks still answer first: a public body that does not parse is a 400 before
    # the view, and the security headers and Vary are still on it.
    bad = client.post("/glimpse/login", data=b"{not json", content_type="application/json")
    assert bad.status_code == 400 and bad.json["field"] == "body"
    assert bad.headers["X-Content-Type-Options"] == "nosniff"
    assert "Accept-Encoding" in bad.headers["Vary"]


def test_failed_logins_still_count_without_the_limiters_hook_on_other_requests(client, config, user):
    address = {"REMOTE_ADDR": "198.18.40.1"}
    for _ in range(config.login_max_failures):
        answer = client.post(
            "/glimpse/login", json={"email": user.email, "password": "wrong password"}, environ_base=address
        )
        assert answer.json == {"res": -1}
        # A request that meets no limit in between.
        assert client.post("/glimpse/getUser", json={}, headers=user.headers).status_code == 200
    refused = client.post(
        "/glimpse/login", json={"email": user.email, "password": "wrong again"}, environ_base=address
    )
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert not any(getattr(hook, "__name__", "") == "__release_context" for hook in _teardowns(client))
    throttle.refusals_of(client.application).clear()


def _teardowns(client):
    return client.application.teardown_request_funcs.get(None, [])


def test_compression_only_for_a_client_that_accepts_it(client, user):
    headers = dict(user.headers)
    plain = client.post("/glimpse/getUser", json={}, headers=headers)
    identity = client.post("/glimpse/getUser", json={}, headers={**headers, "Accept-Encoding": "identity"})
    for answer in (plain, identity):
        assert answer.status_code == 200 and "Content-Encoding" not in answer.headers
        assert answer.headers["Vary"] == "Accept-Encoding"
    assert identity.json == plain.json
    assert len(plain.get_data()) >= 256  # large enough to be compressed for a client that accepts it

    for accepted in ("gzip", "gzip, deflate, br", "*"):
        packed = client.post("/glimpse/getUser", json={}, headers={**headers, "Accept-Encoding": accepted})
        assert packed.status_code == 200, accepted
        assert packed.headers["Content-Encoding"] in ("gzip", "br", "deflate"), accepted
        assert "Accept-Encoding" in packed.headers["Vary"]
        if packed.headers["Content-Encoding"] == "gzip":
            assert gzip.decompress(packed.get_data()) == plain.get_data()
