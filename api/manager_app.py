"""Serves the built manager app (apps/manager/dist) at /manager/, with the
single-page fallback: a path under /manager/ that is not a file gets the
app's index.html, so its own router handles it.

The folder is GLIMPSE_MANAGER_DIST when set, else `manager/dist` beside the
web app's folder (apps/web/dist → apps/manager/dist).
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, jsonify, redirect, request, send_from_directory

from glimpse.runtime.config import Config


def manager_dist(config: Config) -> Path:
    configured = getattr(config, "manager_dist", None) or os.environ.get("GLIMPSE_MANAGER_DIST")
    if configured:
        return Path(configured)
    return Path(config.web_dist).resolve().parent.parent / "manager" / "dist"


def register_manager_app(app: Flask, config: Config) -> None:
    root = manager_dist(config)

    def serve(path: str = ""):
        if request.method != "GET":
            return jsonify({"error": "method not allowed"}), 405
        index = root / "index.html"
        if not index.is_file():
            return jsonify(
                {"error": "the manager app is not built: run `npm run build` in apps/manager"}
            ), 404
        candidate = (root / path).resolve()
        if path and candidate.is_file() and root.resolve() in candidate.parents:
            return send_from_directory(root, path)
        response = send_from_directory(root, "index.html")
        response.headers["Cache-Control"] = "no-cache"
        return response

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    app.add_url_rule("/manager", "manager_app_bare", lambda: redirect("/manager/"), methods=["GET"])
    app.add_url_rule("/manager/", "manager_app_index", serve, methods=methods)
    app.add_url_rule("/manager/<path:path>", "manager_app", serve, methods=methods)
