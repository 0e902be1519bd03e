"""A loopback TCP proxy for fault injection: cut every connection for N seconds; pause a process.

    with TcpProxy(("127.0.0.1", mongo_port)) as proxy:
        uri = f"mongodb://127.0.0.1:{proxy.port}"   # give the services this address
        proxy.cut(30)          # every connection reset now, new ones refused for 30 s
        pause(mongo_pid, 30)   # "the database is paused": SIGSTOP, SIGCONT 30 s later

A cut resets both ends of every open connection (SO_LINGER 0: the peers
see ECONNRESET, as after a network failure or a primary stepping down), and
while it lasts every new connection is accepted and reset at once, so a
client cannot get through until it ends. Bytes are forwarded unchanged
otherwise. Only loopback addresses are bound and targeted.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import select
import signal
import socket
import struct
import threading
import time

_LINGER_RESET = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends RST


def _reset(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
    with contextlib.suppress(OSError):
        sock.close()


def _check_loopback(host: str) -> None:
    if not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"the TCP proxy works on loopback addresses only, not {host}")


class TcpProxy:
    def __init__(self, target: tuple[str, int], host: str = "127.0.0.1", port: int = 0):
        _check_loopback(target[0])
        _check_loopback(host)
        self.target = target
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, port))
        self._listener.listen(128)
        self._lock = threading.Lock()
        self._pairs: set[tuple[socket.socket, socket.socket]] = set()
        self._cut_until = 0.0  # time.monotonic() before which connections are refused
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        self.accepted = 0
        self.refused = 0
        self.resets = 0

    @property
    def port(self) -> int:
        return self._listener.getsockname()[1]

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> TcpProxy:
        self._thread = threading.Thread(target=self._accept_loop, name="tcp-proxy", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._closed.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self._reset_all()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- faults ---------------------------------------------------------------------------------

    def cut(self, seconds: float) -> int:
        """Reset every open connection and refuse new ones for `seconds`; the number reset."""
        with self._lock:
            self._cut_until = time.monotonic() + seconds
        return self._reset_all()

    def heal(self) -> None:
        """End a cut early."""
        with self._lock:
            self._cut_until = 0.0

    @property
    def is_cut(self) -> bool:
        return time.monotonic() < self._cut_until

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._pairs)

    def _reset_all(self) -> int:
        with self._lock:
            pairs, self._pairs = self._pairs, set()
        for client, upstream in pairs:
            _reset(client)
            _reset(upstream)
        self.resets += len(pairs)
        return len(pairs)

    # --- forwarding -----------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.is_cut:
                self.refused += 1
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _reset(client)
                continue
            upstream.settimeout(None)
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            pair = (client, upstream)
            with self._lock:
                self._pairs.add(pair)
            self.accepted += 1
            threading.Thread(target=self._pump, args=(pair,), name="tcp-proxy-pump", daemon=True).start()

    def _pump(self, pair: tuple[socket.socket, socket.socket]) -> None:
        client, upstream = pair
        other = {client: upstream, upstream: client}
        try:
            while True:
                readable, _, _ = select.select([client, upstream], [], [], 1.0)
                for sock in readable:
                    data = sock.recv(1 << 16)
                    if not data:
                        return
                    other[sock].sendall(data)
                with self._lock:
                    if pair not in self._pairs:  # cut meanwhile
                        return
        except (OSError, ValueError):
            return
        finally:
            with self._lock:
                self._pairs.discard(pair)
            for sock in pair:
                with contextlib.suppress(OSError):
                    sock.close()


def pause(pid: int, seconds: float) -> threading.Timer:
    """SIGSTOP `pid` now and SIGCONT it `seconds` later (the timer that resumes it)."""
    os.kill(pid, signal.SIGSTOP)
    timer = threading.Timer(seconds, _resume, (pid,))
    timer.daemon = True
    timer.start()
    return timer


def _resume(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGCONT)
