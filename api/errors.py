"""JSON errors. Every failure leaves the API as `{"error": ..., "field": ...}`."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class APIError(Exception):
    """An expected failure with its HTTP status and, when a field is at fault, its name."""

    def __init__(self, status: int, error: str, field: str | None = None, **extra):
        super().__init__(error)
        self.status = status
        self.error = error
        self.field = field
        self.extra = extra

    def body(self) -> dict:
        body = {"error": self.error, **self.extra}
        if self.field is not None:
            body["field"] = self.field
        return body


def bad_request(error: str, field: str | None = None) -> APIError:
    return APIError(400, error, field)


def forbidden(error: str = "forbidden", field: str | None = None) -> APIError:
    return APIError(403, error, field)


def unauthorized(error: str = "authentication required") -> APIError:
    return APIError(401, error)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(APIError)
    def _api_error(exc: APIError):
        return jsonify(exc.body()), exc.status

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        messages = {
            404: "no such route",
            405: "method not allowed",
            413: "request body too large",
        }
        code = exc.code or 500
        body: dict = {"error": messages.get(code, exc.description or exc.name)}
        retry_after = getattr(exc, "retry_after", None)  # werkzeug's 429 and 503 carry it
        if isinstance(retry_after, int):
            body["retryAfter"] = retry_after
        response = jsonify(body)
        response.status_code = code
        if isinstance(retry_after, int):
            response.headers["Retry-After"] = str(retry_after)
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.path)
        return jsonify({"error": "internal error"}), 500
