"""Serves the built web app (apps/web/dist) at "/", with the single-page fallback:
any path outside /glimpse/ that is not a file gets index.html, so the app's
own router handles it.

Light on a phone: API responses are compressed (brotli or gzip, flask-compress);
the built assets, whose names carry a content hash (dist/assets/), are served
compressed once and kept in memory, with `Cache-Control: public, max-age=31536000,
immutable`, so a phone downloads each version once; index.html and the other
files are `no-cache` (revalidated every time), so a new build is seen at once.
"""

from __future__ import annotations

import gzip
import mimetypes
import threading
from pathlib import Path
from typing import Any

import brotli
from flask import Flask, Response, jsonify, request, send_from_directory
from flask_compress import Compress

IMMUTABLE = "public, max-age=31536000, immutable"
ASSETS = "assets/"
# The API's JSON, CSV and text; the built assets are compressed below, once.
COMPRESSED_TYPES = ["application/json", "text/csv", "text/plain", "text/html", "text/css",
                    "application/javascript", "text/javascript", "image/svg+xml"]  # fmt: skip
ENCODINGS = ("br", "gzip")


def _is_api_route(app: Flask, path: str) -> bool:
    return any(
        rule.rule == path and rule.endpoint not in ("webapp", "webapp_index")
        for rule in app.url_map.iter_rules()
    )


def _accepted(header: str) -> str | None:
    """The best encoding the client accepts (q=0 refuses one)."""
    offered: dict[str, float] = {}
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        offered[name.strip().lower()] = q
    for encoding in ENCODINGS:
        if offered.get(encoding, offered.get("*", 0.0)) > 0:
            return encoding
    return None


SUFFIX = {"br": ".br", "gzip": ".gz"}


class AssetCache:
    """Each hashed asset compressed once per encoding: the build's own `.br`/`.gz` beside it
    (apps/web/vite.config.ts writes them at the best levels), else compressed here on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bytes: dict[tuple[str, float, str], bytes] = {}

    def get(self, file: Path, encoding: str) -> bytes:
        key = (str(file), file.stat().st_mtime, encoding)
        with self._lock:
            found = self._bytes.get(key)
        if found is None:
            built = file.with_name(file.name + SUFFIX[encoding])
            if built.is_file() and built.stat().st_mtime >= key[1]:
                found = built.read_bytes()
            else:
                raw = file.read_bytes()
                found = (
                    brotli.compress(raw, quality=5) if encoding == "br" else gzip.compress(raw, 6, mtime=0)
                )
            with self._lock:
                self._bytes[key] = found
        return found


def _compress_only_when_accepted(app: Flask, compress: Compress) -> None:
    """flask-compress's response hook, run in full only for a request whose Accept-Encoding names
    one of its encodings (or `*`). For any other (none, `identity`: API clients, wrk) it could not
    compress, and only its `Vary: Accept-Encoding` is added, here, for the price of a header."""
    names = tuple(
        {name.lower() for name in (*compress.enabled_algorithms, *compress.streaming_algorithms)}
    ) + ("*",)
    hooks = app.after_request_funcs.get(None, [])
    for at, hook in enumerate(hooks):
        if getattr(hook, "__func__", None) is Compress.after_request:

            def when_accepted(response: Response, full: Any = hook) -> Response:
                accepted = request.environ.get("HTTP_ACCEPT_ENCODING", "").lower()
                if any(name in accepted for name in names):
                    return full(response)
                vary = response.headers.get("Vary")
                if not vary:
                    response.headers["Vary"] = "Accept-Encoding"
                elif "accept-encoding" not in vary.lower():
                    response.headers["Vary"] = f"{vary}, Accept-Encoding"
                return response

            hooks[at] = when_accepted


def register_webapp(app: Flask, dist: str) -> None:
    root = Path(dist)
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED_TYPES)
    app.config.setdefault("COMPRESS_ALGORITHM", list(ENCODINGS))
    app.config.setdefault("COMPRESS_ALGORITHM_STREAMING", ["br", "deflate"])
    app.config.setdefault("COMPRESS_MIN_SIZE", 256)
    _compress_only_when_accepted(app, Compress(app))
    cache = AssetCache()

    def asset(path: str, file: Path):
        encoding = _accepted(request.headers.get("Accept-Encoding", ""))
        if encoding is None:
            response = send_from_directory(root, path)
        else:
            kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            response = Response(cache.get(file, encoding), mimetype=kind)
            response.headers["Content-Encoding"] = encoding
        response.headers["Cache-Control"] = IMMUTABLE
        response.headers["Vary"] = "Accept-Encoding"
        return response

    def serve(path: str = ""):
        if path.startswith("glimpse/") or path == "glimpse":
            if _is_api_route(app, "/" + path):  # the route exists, for another method
                return jsonify({"error": "method not allowed"}), 405
            return jsonify({"error": "no such route"}), 404
        if request.method != "GET":
            return jsonify({"error": "method not allowed"}), 405
        index = root / "index.html"
        if not index.is_file():
            return jsonify(
                {
                    "error": "the web app is not built: run `make up` (needs Node 20) or `npm run build` in apps/web"
                }
            ), 404
        candidate = (root / path).resolve()
        if path and candidate.is_file() and root.resolve() in candidate.parents:
            if path.startswith(ASSETS) and not path.endswith((".br", ".gz")):
                return asset(path, candidate)
            response = send_from_directory(root, path)
            response.headers["Cache-Control"] = "no-cache"
            return response
        response = send_from_directory(root, "index.html")
        response.headers["Cache-Control"] = "no-cache"
        return response

    # Every method, so an unknown /glimpse/ route answers the API's JSON 404 rather than a 405.
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    app.add_url_rule("/", "webapp_index", serve, methods=methods)
    app.add_url_rule("/<path:path>", "webapp", serve, methods=methods)
