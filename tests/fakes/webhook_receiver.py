"""A local webhook receiver that checks Glimpse's signature, like a trader's endpoint would.

Every POST is recorded with its headers, body and whether the signature
(HMAC-SHA256 over "timestamp.body" with `secret`) verified. `statuses`
scripts the answers (e.g. [500, 500] then 200 for ever). `hold()` makes
requests wait (a dead endpoint that accepts and never answers) until
`release()`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    signature_ok: bool
    status: int

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver:
    def __init__(self, secret: str = "", path: str = "/hook"):
        self.secret = secret
        self.path = path
        self.statuses: list[int] = []
        self.received: list[Received] = []
        self.arrived = 0  # requests that reached the handler (held ones included)
        self._held = threading.Event()
        self._held.set()
        self._cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver._cond:
                    receiver.arrived += 1
                    receiver._cond.notify_all()
                receiver._held.wait(30)
                status = receiver.answer()
                record = Received(
                    self.path, dict(self.headers.items()), body, receiver.verify(self.headers, body), status
                )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                with receiver._cond:
                    receiver.received.append(record)
                    receiver._cond.notify_all()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="webhook-receiver", daemon=True)

    @property
    def url(self) -> str:
        host, port = str(self.server.server_address[0]), int(self.server.server_address[1])
        return f"http://{host}:{port}{self.path}"

    def start(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def close(self) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()

    def answer(self) -> int:
        with self._cond:
            return self.statuses.pop(0) if self.statuses else 200

    def verify(self, headers: Any, body: bytes) -> bool:
        stamp = headers.get("X-Glimpse-Timestamp") or ""
        given = headers.get("X-Glimpse-Signature") or ""
        expected = (
            "sha256="
            + hmac.new(self.secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        )
        return bool(self.secret) and hmac.compare_digest(expected, given)

    def hold(self) -> None:
        self._held.clear()

    def release(self) -> None:
        self._held.set()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        with self._cond:
            self._cond.wait_for(lambda: len(self.received) >= count, timeout)
            return list(self.received)

    def wait_arrived(self, count: int, timeout: float = 10.0) -> int:
        with self._cond:
            self._cond.wait_for(lambda: self.arrived >= count, timeout)
            return self.arrived
