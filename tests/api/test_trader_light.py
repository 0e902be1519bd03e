"""A light app: compressed API answers, hashed assets cached for a year, and a status poll that
answers 304 without a body when nothing but the clock changed."""

from __future__ import annotations

import gzip
import json

import brotli
import pytest

from api import create_app


def _status(client, user, **headers):
    return client.post("/glimpse/status", json={}, headers={**user.headers, **headers})


def test_status_poll_is_a_bodiless_304_until_something_changes(client, user, clock):
    first = _status(client, user)
    assert first.status_code == 200 and first.json["serverTime"] == clock.now()
    tag = first.headers["ETag"]
    assert tag.startswith('W/"') and float(first.headers["X-Glimpse-Server-Time"]) == clock.now()

    clock.advance(1.0)
    same = _status(client, user, **{"If-None-Match": tag})
    assert same.status_code == 304 and same.data == b""
    assert float(same.headers["X-Glimpse-Server-Time"]) == clock.now()
    assert same.headers["ETag"] == tag
    # What a 304 costs on the wire: its headers only.
    assert sum(len(k) + len(v) + 4 for k, v in same.headers.items()) < 1024

    client.post(
        "/glimpse/updateUser", json={"fields": ["preferedPayout"], "values": ["> 88"]}, headers=user.headers
    )
    changed = _status(client, user, **{"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["ETag"] != tag
    assert changed.json["user"]["preferedPayout"] == "> 88"


def test_a_stale_or_foreign_validator_gets_the_body(client, user):
    assert _status(client, user, **{"If-None-Match": 'W/"0000"'}).status_code == 200
    assert _status(client, user, **{"If-None-Match": "*garbage*"}).status_code == 200


@pytest.mark.parametrize("encoding, decode", [("br", brotli.decompress), ("gzip", gzip.decompress)])
def test_api_answers_are_compressed(client, user, encoding, decode):
    plain = _status(client, user)
    packed = _status(client, user, **{"Accept-Encoding": encoding})
    assert packed.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in packed.headers["Vary"]
    body = json.loads(decode(packed.data))
    assert body["user"] == plain.json["user"]
    assert len(packed.data) < len(plain.data)


@pytest.fixture
def dist(tmp_path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><div id=root></div>" + " " * 600)
    (tmp_path / "favicon.svg").write_text("<svg/>")
    script = b"export const x = 1;\n" * 400
    (tmp_path / "assets" / "index-AbC123.js").write_bytes(script)
    (tmp_path / "assets" / "index-AbC123.js.br").write_bytes(brotli.compress(script, quality=11))
    (tmp_path / "assets" / "lazy-Zz9.js").write_bytes(script + b"//lazy")  # no prebuilt .br/.gz
    return tmp_path


@pytest.fixture
def web(config, db, clock, dist):
    app = create_app(config.with_(web_dist=str(dist)), db=db, clock=clock)
    app.testing = True
    return app.test_client()


def test_hashed_assets_are_immutable_and_served_compressed(web, dist):
    script = (dist / "assets" / "index-AbC123.js").read_bytes()
    br = web.get("/assets/index-AbC123.js", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert br.status_code == 200 and br.headers["Content-Encoding"] == "br"
    assert br.data == (dist / "assets" / "index-AbC123.js.br").read_bytes()  # the build's own
    assert brotli.decompress(br.data) == script
    assert br.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "javascript" in br.headers["Content-Type"]
    gz = web.get("/assets/lazy-Zz9.js", headers={"Accept-Encoding": "gzip"})
    assert gz.headers["Content-Encoding"] == "gzip" and gzip.decompress(gz.data).endswith(b"//lazy")
    plain = web.get("/assets/index-AbC123.js", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers and plain.data == script
    assert plain.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    refused = web.get("/assets/index-AbC123.js", headers={"Accept-Encoding": "br;q=0, gzip"})
    assert refused.headers["Content-Encoding"] == "gzip"


def test_index_and_other_files_are_revalidated(web):
    for path in ("/", "/home/operations", "/favicon.svg"):
        response = web.get(path)
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-cache", path
