"""Logging set-up: plain text (default) or one JSON object per line (GLIMPSE_LOG_FORMAT=json).

A JSON line carries `time`, `level`, `logger`, `message`, the thread, and the
ids that apply: `user`, `session`, `trade`, `server`, `service`, taken from
`extra={...}` on the call or from `bind(...)`, a context manager over a
context variable (each service thread binds its own). Credentials in URLs
(`scheme://user:password@host`) and `password=`-style pairs are masked in
every message, text or JSON.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
CONTEXT_KEYS = ("user", "session", "trade", "server", "service", "assignment", "request", "route")

_context: contextvars.ContextVar[Mapping[str, str] | None] = contextvars.ContextVar(
    "glimpse_log_context", default=None
)

_URL_CREDENTIALS = re.compile(
    r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:@/\s]*):(?P<secret>[^@/\s]+)@"
)
_PAIRS = re.compile(
    r"(?P<key>\b(?:password|passwd|pwd|secret|token|api_key|apikey|iqPassword)\b\s*[=:]\s*)(?P<value>[^\s,;&\"']+)",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """`text` with URL credentials and password/secret/token values masked."""
    text = _URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:***@", text)
    return _PAIRS.sub(lambda m: f"{m['key']}***", text)


@contextmanager
def bind(**ids: Any) -> Iterator[None]:
    """Add ids (user, session, trade, server...) to every log line of this context."""
    merged = {**(_context.get() or {}), **{k: str(v) for k, v in ids.items() if v is not None and v != ""}}
    token = _context.set(merged)
    try:
        yield
    finally:
        _context.reset(token)


def push(**ids: Any) -> contextvars.Token[Mapping[str, str] | None]:
    """`bind` without a with-block (Flask's before/teardown request hooks); undo with `pop(token)`."""
    return _context.set(
        {**(_context.get() or {}), **{k: str(v) for k, v in ids.items() if v not in (None, "")}}
    )


def pop(token: contextvars.Token[Mapping[str, str] | None]) -> None:
    _context.reset(token)


def current_context() -> dict[str, str]:
    return dict(_context.get() or {})


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "thread": record.threadName,
        }
        entry.update(_context.get() or {})
        for key in CONTEXT_KEYS:
            value = getattr(record, key, None)
            if value is not None and value != "":
                entry[key] = str(value)
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def log_format(env: Mapping[str, str] | None = None) -> str:
    """GLIMPSE_LOG_FORMAT (text or json); logging starts before the configuration is loaded."""
    value = ((env if env is not None else os.environ).get("GLIMPSE_LOG_FORMAT") or "text").strip().lower()
    return value if value in FORMATS else "text"


def configure(
    level: int = logging.INFO, fmt: str | None = None, stream: Any = None, force: bool = False
) -> None:
    """Set up the root logger: text or JSON lines on stderr (or `stream`).

    Like `logging.basicConfig`, it leaves a root logger that already has
    handlers of someone else (a test runner's) alone, unless `force`.
    """
    chosen = fmt or log_format()
    root = logging.getLogger()
    if not force and any(not getattr(h, "glimpse_handler", False) for h in root.handlers):
        return
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if chosen == "json" else RedactingFormatter(TEXT_FORMAT))
    for old in list(root.handlers):
        if force or getattr(old, "glimpse_handler", False):
            root.removeHandler(old)
    handler.glimpse_handler = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
