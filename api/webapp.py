"""Serves the built web app (apps/web/dist) at "/", with the single-page fallback:
any path outside /glimpse/ that is not a file gets index.html, so the app's
own router handles it."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, jsonify, request, send_from_directory


def _is_api_route(app: Flask, path: str) -> bool:
    return any(
        rule.rule == path and rule.endpoint not in ("webapp", "webapp_index")
        for rule in app.url_map.iter_rules()
    )


def register_webapp(app: Flask, dist: str) -> None:
    root = Path(dist)

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
            return send_from_directory(root, path)
        response = send_from_directory(root, "index.html")
        response.headers["Cache-Control"] = "no-cache"
        return response

    # Every method, so an unknown /glimpse/ route answers the API's JSON 404 rather than a 405.
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    app.add_url_rule("/", "webapp_index", serve, methods=methods)
    app.add_url_rule("/<path:path>", "webapp", serve, methods=methods)
