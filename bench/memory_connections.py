"""What one more IQ Option connection costs inside a process that already holds some (a feasibility measure).

The IQ Option client library keeps its session in module globals, so today a process holds one
connection (glimpse.market.iqoption refuses a second) and each user costs a process: about 15 MB
of private memory even forked from a zygote (bench/memory.py). This measures the alternative the
issue names, several connections per process, at the level of the client library alone:

- the library's package (61 modules) is loaded K times, each time into module objects of its own
  (sys.modules emptied of `iqoptionapi*` around the import, then restored), so each copy has its
  own `global_value` and its own classes (their class-level dicts hold session state too);
- each copy logs one account in to the fake IQ Option server on loopback, selects the practice
  balance, reads it and starts a candle stream, as an operational server's session does first.

It prints the process's private memory (Private_Clean + Private_Dirty from /proc/self/smaps_rollup)
after the first connection and at the end, and per additional connection; also per library copy
(loaded before any connection: a zygote's parent could load them before forking). It checks that
the connections are apart (one SSID each). It does not run Glimpse's server session (the order
desk, the session thread, the database client), which a multi-connection process would add per
user, and the adapter does not support it today.

    .venv/bin/python bench/memory_connections.py [--connections 10]

Prints one JSON object. Linux only.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import platform
import sys
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

from tests.fakes.iq_launcher import fake_iq_server, websocket_url  # noqa: E402

MB = 2**20
PACKAGE = "iqoptionapi"
PASSWORD = "fake-password"  # the fake server's default
REAL_HTTP_HOSTS = ("https://auth.iqoption.com", "https://iqoption.com", "https://event.iqoption.com")


def private_bytes() -> int:
    total = 0
    with open("/proc/self/smaps_rollup") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("Private_Clean", "Private_Dirty"):
                total += int(rest.split()[0]) * 1024
    return total


def _ours(name: str) -> bool:
    return name == PACKAGE or name.startswith(PACKAGE + ".")


def library_copy() -> dict[str, ModuleType]:
    """The client library loaded anew into module objects of its own; sys.modules is left as it was."""
    saved = {name: sys.modules.pop(name) for name in list(sys.modules) if _ours(name)}
    try:
        importlib.import_module(f"{PACKAGE}.stable_api")
        return {name: module for name, module in sys.modules.items() if _ours(name)}
    finally:
        for name in [n for n in sys.modules if _ours(n)]:
            del sys.modules[name]
        sys.modules.update(saved)


def point_at(copy: dict[str, ModuleType], http_base: str, ws_url: str) -> None:
    """This copy's IQOptionAPI talks to the fake server (what the adapter's patch does, per copy)."""
    cls: Any = copy[f"{PACKAGE}.api"].IQOptionAPI
    original_init, original_v2 = cls.__init__, cls.send_http_request_v2

    def __init__(self: Any, host: str, username: str, password: str, proxies: Any = None) -> None:
        original_init(self, host, username, password, proxies)
        self.https_url, self.wss_url = http_base + "/api", ws_url

    def send_http_request_v2(self: Any, url: str, method: str, data: Any = None, params: Any = None,
                             headers: Any = None) -> Any:  # fmt: skip
        for real in REAL_HTTP_HOSTS:
            if url.startswith(real):
                url = http_base + url[len(real) :]
        return original_v2(self, url, method, data=data, params=params, headers=headers)

    cls.__init__, cls.send_http_request_v2 = __init__, send_http_request_v2


def connect(copy: dict[str, ModuleType], email: str) -> Any:
    iq = copy[f"{PACKAGE}.stable_api"].IQ_Option(email, PASSWORD)
    ok, reason = iq.connect()
    if not ok:
        raise RuntimeError(f"{email}: {reason}")
    iq.change_balance("PRACTICE")
    iq.get_balance()
    iq.start_candles_stream("EURUSD", 60, 15)
    return iq


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--settle", type=float, default=5.0, help="seconds after the last connection")
    args = parser.parse_args(argv)
    if args.connections < 2:
        parser.error("--connections must be at least 2")
    load_before = [round(x, 2) for x in os.getloadavg()]
    # What an operational server's process imports (the zygote's preload), before measuring.
    from operational_server import service

    service.preload("iqoption")
    os.environ["no_proxy"] = ",".join(filter(None, [os.environ.get("no_proxy"), "127.0.0.1,localhost"]))
    with fake_iq_server() as http_base:
        ws_url = websocket_url(http_base)
        gc.collect()
        before_copies = private_bytes()
        copies = [library_copy() for _ in range(args.connections)]
        gc.collect()
        per_copy = (private_bytes() - before_copies) / args.connections
        connections = []
        after_first = 0
        for i, copy in enumerate(copies):
            point_at(copy, http_base, ws_url)
            connections.append(connect(copy, f"user{i:03d}@memory.test"))
            if i == 0:
                time.sleep(1.0)
                after_first = private_bytes()
        time.sleep(args.settle)
        gc.collect()
        end = private_bytes()
        ssids = {copy[f"{PACKAGE}.global_value"].SSID for copy in copies}
        report = {
            "machine": {
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "load_before": load_before,
                "load_after": [round(x, 2) for x in os.getloadavg()],
            },
            "connections": args.connections,
            "distinct_sessions": len(ssids),
            "threads": threading.active_count(),
            "library_copy_mb": round(per_copy / MB, 2),
            "private_after_first_connection_mb": round(after_first / MB, 2),
            "private_at_end_mb": round(end / MB, 2),
            "private_per_additional_connection_mb": round(
                (end - after_first) / (args.connections - 1) / MB, 2
            ),
        }
        print(json.dumps(report, indent=2))
        for iq in connections:
            iq.api.close()
        return 0 if len(ssids) == args.connections else 1


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # skip the library's atexit logouts: its server is gone
