"""What every request passes through outside the routes: the security headers (a WSGI wrapper),
the request metrics (a WSGI wrapper and the first request hook), CORS only for an Origin."""

from __future__ import annotations

from api import SECURITY_HEADERS, SecurityHeaders
from glimpse.runtime import metrics
from tests.api.conftest import PASSWORD


def sample(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def test_security_headers_keep_a_header_the_response_set_itself():
    def inner(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain"), ("x-frame-options", "SAMEORIGIN")])
        return [b"ok"]

    seen: list[list[tuple[str, str]]] = []
    wrapped = SecurityHeaders(inner, SECURITY_HEADERS)
    assert wrapped({}, lambda status, headers, exc_info=None: seen.append(headers)) == [b"ok"]
    names = [name.lower() for name, _ in seen[0]]
    assert names.count("x-frame-options") == 1
    assert ("x-frame-options", "SAMEORIGIN") in seen[0]
    for name, value in SECURITY_HEADERS.items():
        if name.lower() != "x-frame-options":
            assert (name, value) in seen[0]


def test_errors_and_unknown_paths_carry_the_security_headers(client):
    for response in (client.post("/glimpse/getUser", json={}), client.get("/glimpse/no-such-route")):
        assert response.status_code in (401, 404)
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value


def test_requests_are_counted_and_timed_by_route_and_status(client, user):
    labels = {"route": "/glimpse/getUser", "method": "POST", "status": "200"}
    counted = sample("glimpse_api_requests_total", **labels)
    timed = sample("glimpse_api_request_seconds_count", route="/glimpse/getUser")
    assert client.post("/glimpse/getUser", json={}, headers=user.headers).status_code == 200
    assert sample("glimpse_api_requests_total", **labels) == counted + 1
    assert sample("glimpse_api_request_seconds_count", route="/glimpse/getUser") == timed + 1
    refused = {**labels, "status": "401"}
    before = sample("glimpse_api_requests_total", **refused)
    assert client.post("/glimpse/getUser", json={}).status_code == 401
    assert sample("glimpse_api_requests_total", **refused) == before + 1


def test_a_body_refused_by_an_early_hook_is_counted_under_its_route(client):
    labels = {"route": "/glimpse/login", "method": "POST", "status": "400"}
    before = sample("glimpse_api_requests_total", **labels)
    response = client.post("/glimpse/login", data=b"{not json", content_type="application/json")
    assert response.status_code == 400
    assert sample("glimpse_api_requests_total", **labels) == before + 1


def test_only_failed_logins_are_counted_as_failures(client, user):
    before = sample("glimpse_login_failures_total", kind="user")
    assert client.post("/glimpse/login", json={"email": user.email, "password": PASSWORD}).json["res"] == 1
    assert sample("glimpse_login_failures_total", kind="user") == before
    wrong = client.post("/glimpse/login", json={"email": user.email, "password": "not the password"})
    assert wrong.json == {"res": -1}
    assert sample("glimpse_login_failures_total", kind="user") == before + 1


def test_cors_headers_only_for_an_allowed_origin(client, config):
    origin = next(iter(config.cors_origins))
    allowed = client.get("/glimpse/ping", headers={"Origin": origin})
    assert allowed.headers["Access-Control-Allow-Origin"] == origin
    assert "Access-Control-Allow-Origin" not in client.get("/glimpse/ping").headers
    stranger = client.get("/glimpse/ping", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in stranger.headers
