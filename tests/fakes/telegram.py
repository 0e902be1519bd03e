"""A fake Telegram Bot API on loopback: getMe, getUpdates (long poll) and sendMessage.

Point GLIMPSE_TELEGRAM_API at `fake.url`. Tests play the trader with
`user_says(chat_id, text)` (an update for getUpdates) and read what the bot
sent with `wait_for_messages(chat_id, n)`. `fail_sends` makes the next
sendMessage calls answer with an HTTP error (Telegram's error shape).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Sent:
    chat_id: int
    text: str


class FakeTelegram:
    def __init__(self, token: str = "123456:TEST-TOKEN", username: str = "GlimpseTestBot"):
        self.token = token
        self.username = username
        self.updates: list[dict[str, Any]] = []
        self.sent: list[Sent] = []
        self.calls: list[str] = []
        self.fail_sends: list[int] = []  # HTTP statuses for the next sendMessage calls
        self._next_update = 1000
        self._cond = threading.Condition()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b"{}"
                try:
                    payload = json.loads(raw or b"{}")
                except ValueError:
                    payload = {}
                status, body = fake.handle(self.path, payload)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="fake-telegram", daemon=True)

    @property
    def url(self) -> str:
        host, port = str(self.server.server_address[0]), int(self.server.server_address[1])
        return f"http://{host}:{port}"

    def start(self) -> FakeTelegram:
        self.thread.start()
        return self

    def close(self) -> None:
        with self._cond:
            self._cond.notify_all()
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------------ the Bot API

    def handle(self, path: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        prefix = f"/bot{self.token}/"
        if not path.startswith(prefix):
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        method = path[len(prefix) :]
        with self._cond:
            self.calls.append(method)
        if method == "getMe":
            return 200, {"ok": True, "result": {"id": 123456, "is_bot": True, "username": self.username}}
        if method == "getUpdates":
            return 200, {"ok": True, "result": self._get_updates(payload)}
        if method == "sendMessage":
            return self._send_message(payload)
        return 404, {"ok": False, "error_code": 404, "description": "Not Found"}

    def _get_updates(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(payload.get("offset") or 0)
        timeout = min(float(payload.get("timeout") or 0), 5.0)
        with self._cond:
            self._cond.wait_for(lambda: any(u["update_id"] >= offset for u in self.updates), timeout)
            # Telegram forgets the updates before the offset once they are confirmed.
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
            return list(self.updates)

    def _send_message(self, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        chat_id, text = payload.get("chat_id"), payload.get("text")
        if not isinstance(chat_id, int) or not isinstance(text, str) or not text:
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: message text is empty"}
        with self._cond:
            if self.fail_sends:
                status = self.fail_sends.pop(0)
                body: dict[str, Any] = {
                    "ok": False,
                    "error_code": status,
                    "description": "Internal Server Error",
                }
                if status == 429:
                    body = {
                        "ok": False,
                        "error_code": 429,
                        "description": "Too Many Requests",
                        "parameters": {"retry_after": 7},
                    }
                return status, body
            self.sent.append(Sent(chat_id, text))
            self._cond.notify_all()
            return 200, {
                "ok": True,
                "result": {"message_id": len(self.sent), "chat": {"id": chat_id}, "text": text},
            }

    # ------------------------------------------------------------------ the test's side

    def user_says(self, chat_id: int, text: str, *, username: str = "ana", language: str = "pt-br") -> None:
        with self._cond:
            self._next_update += 1
            self.updates.append(
                {
                    "update_id": self._next_update,
                    "message": {
                        "message_id": self._next_update,
                        "from": {
                            "id": chat_id,
                            "is_bot": False,
                            "first_name": "Ana",
                            "language_code": language,
                        },
                        "chat": {"id": chat_id, "type": "private", "username": username},
                        "date": 0,
                        "text": text,
                    },
                }
            )
            self._cond.notify_all()

    def messages_to(self, chat_id: int) -> list[str]:
        with self._cond:
            return [m.text for m in self.sent if m.chat_id == chat_id]

    def wait_for_messages(self, chat_id: int, count: int, timeout: float = 10.0) -> list[str]:
        with self._cond:
            self._cond.wait_for(lambda: sum(1 for m in self.sent if m.chat_id == chat_id) >= count, timeout)
            return [m.text for m in self.sent if m.chat_id == chat_id]
