"""API throughput and latency under concurrent clients, on loopback, side by side with the original.

Starts the real API as `glimpse up` serves it (gunicorn, one gthread worker,
the embedded in-memory database seeded from collections/), fills
RealtimeCandles with the last 15 one-minute candles of every pair (from the
paper market, written through the service route as the candle streams do),
then drives each measured route with N concurrent clients (threads, one
requests.Session each) for a fixed time.

Beside it runs bench/original_api.py, a faithful stand-in for the original
API's getUser, ativos and getCandlesRealtime handlers (same gunicorn
settings, a database seeded from the same collections/, loaded with the same
candles and pairs). The two are measured interleaved, route by route, for
`--rounds` rounds (the order of the two alternates each round), and each
route gets `ratio_vs_original`: the rewrite's requests per second over the
original's, over all rounds, with the lowest and highest round's ratio.
Prints ONE JSON object.

    .venv/bin/python bench/api.py [--clients 12] [--seconds 5] [--rounds 3] [--warmup 1]

The server is always stopped (its whole process group) when the benchmark
ends, fails or is interrupted. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
# Run as a script: the project's packages, not bench/ (where this file would shadow the api package).
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() not in (ROOT, ROOT / "bench")]

from api.service import THREADS as SERVER_THREADS  # noqa: E402
from glimpse.market.paper_market import PaperMarket  # noqa: E402
from glimpse.rules.pairs import PAIR_NAMES  # noqa: E402
from glimpse.rules.schedule import is_open  # noqa: E402
from glimpse.runtime.clock import local_datetime  # noqa: E402
from glimpse.runtime.config import load_config  # noqa: E402
from glimpse.store.seed import COLLECTIONS_DIR, DEMO_LOGINS, load_collection  # noqa: E402

HOST = "127.0.0.1"
CANDLES_PER_PAIR = 15

# The server process: the same gunicorn application `glimpse up` runs, without background services.
SERVER_CODE = (
    "from api.service import service\n"
    "from glimpse.runtime.config import load_config\n"
    "service.serve(load_config(), [], 'bench: API ready', workers=1)\n"
)


ORIGINAL_KEY = "ASD123"  # bench/original_api.py's fixed key, as the original's


@dataclass(frozen=True)
class Target:
    name: str
    method: str
    path: str
    body: dict | None = None
    authenticated: bool = False
    original_body: dict | None = None  # what the original app sent instead, when it differs


TARGETS = (
    Target("getUser", "POST", "/glimpse/getUser", {}, authenticated=True,
           original_body={"userKey": ORIGINAL_KEY, "userMail": "bench@example.com"}),
    Target("ativos", "POST", "/glimpse/ativos", {"type": "full"}),
    Target("getCandlesRealtime", "GET", "/glimpse/getCandlesRealtime"),
)  # fmt: skip


def for_original(target: Target) -> Target:
    """The same route as the original app called it (its body, no token)."""
    if target.original_body is None:
        return Target(target.name, target.method, target.path, target.body)
    return Target(target.name, target.method, target.path, target.original_body)


class BenchError(RuntimeError):
    """The server did not start, or answered a setup request wrongly."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def server_environment(port: int) -> dict[str, str]:
    env = dict(os.environ)
    # Always the embedded database: never seed or load a real MongoDB from a benchmark.
    for name in ("GLIMPSE_MONGO_URI", "GLIMPSE_CLOCK_SPEED"):
        env.pop(name, None)
    env.update(
        GLIMPSE_API_HOST=HOST,
        GLIMPSE_API_PORT=str(port),
        GLIMPSE_SECRET_KEY=secrets.token_urlsafe(48),
        GLIMPSE_SERVICE_TOKEN=secrets.token_urlsafe(32),
    )
    return env


class Server:
    """The API in a subprocess of its own process group, so that stopping it stops its worker too."""

    def __init__(self, env: dict[str, str], log_path: Path, command: list[str] | None = None):
        self.env = env
        self.log_path = log_path
        self.command = command or [sys.executable, "-c", SERVER_CODE]
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, base_url: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        assert self.process is not None, "start() first"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"the server exited with code {self.process.returncode}:\n{self.log_tail()}")
            try:
                if requests.get(base_url + "/glimpse/ping", timeout=1).text == "pong":
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        raise BenchError(
            f"the server did not answer /glimpse/ping within {timeout:.0f} s:\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        for sig, grace in ((signal.SIGTERM, 25.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.process.wait(timeout=grace)
                return
            except subprocess.TimeoutExpired:
                continue


def _expect(response: requests.Response, what: str) -> Any:
    if response.status_code != 200:
        raise BenchError(f"{what}: HTTP {response.status_code}: {response.text[:300]}")
    return response.json()


@dataclass
class Prepared:
    token: str  # the demo user's
    candles: list[Any]  # RealtimeCandles documents as written
    actives: list[Any]  # OpenedActives documents as written


def prepare_data(base_url: str, service_token: str, paper_seed: int, zone) -> Prepared:
    """Writes candles and open pairs as the auxiliary services would (and returns them, with the
    demo user's token)."""
    service = {"Authorization": f"Bearer {service_token}"}
    now = time.time()
    market = PaperMarket(paper_seed)
    first = int(now) // 60 * 60 - CANDLES_PER_PAIR * 60  # the last 15 closed minutes
    candles: list[Any] = [
        {"ativo": pair, "candles": market.candles(pair, first, CANDLES_PER_PAIR)} for pair in PAIR_NAMES
    ]
    body = _expect(requests.post(base_url + "/glimpse/updateCandlesRealtime", json=candles, headers=service, timeout=30),
                   "updateCandlesRealtime")  # fmt: skip
    if body.get("updated") != len(PAIR_NAMES):
        raise BenchError(f"updateCandlesRealtime updated {body.get('updated')} pairs, not {len(PAIR_NAMES)}")
    schedule = {doc["ativo"]: doc for doc in load_collection(COLLECTIONS_DIR / "ActivesSchedule.json")}
    local_now, today = local_datetime(now, zone), local_datetime(now, zone).date()
    actives = [
        {"ativo": pair, "open": "True" if is_open(schedule.get(pair), local_now) else "False",
         "payout": str(market.payout(pair, today))}
        for pair in PAIR_NAMES
    ]  # fmt: skip
    _expect(
        requests.post(base_url + "/glimpse/updateAtivos", json=actives, headers=service, timeout=30),
        "updateAtivos",
    )

    _, email, password = next(login for login in DEMO_LOGINS if login[0] == "user")
    login = _expect(requests.post(base_url + "/glimpse/login", json={"email": email, "password": password}, timeout=30),
                    "login")  # fmt: skip
    if login.get("res") != 1:
        raise BenchError(f"the demo user {email} could not log in: {login}")
    # The documents as the rewrite stored them (updateAtivos keeps a payout only while open).
    stored_candles = [{**doc, "lastUpdated": now} for doc in candles]
    stored_actives = [
        {"ativo": a["ativo"], "open": a["open"], "payout": a["payout"] if a["open"] == "True" else 0}
        for a in actives
    ]
    return Prepared(login["token"], stored_candles, stored_actives)


def load_original(base_url: str, prepared: Prepared) -> None:
    """The same candles and pairs in the original stand-in's database."""
    body = {"RealtimeCandles": prepared.candles, "OpenedActives": prepared.actives}
    _expect(requests.post(base_url + "/bench/load", json=body, timeout=30), "original /bench/load")


def check_original_answers(base_url: str) -> None:
    user = _expect(requests.post(base_url + "/glimpse/getUser", json=TARGETS[0].original_body, timeout=10),
                   "original getUser")  # fmt: skip
    if isinstance(user, str):
        user = json.loads(user)
    if not isinstance(user, dict) or "email" not in user:
        raise BenchError(f"the original's getUser answered no account: {str(user)[:200]}")
    actives = json.loads(requests.post(base_url + "/glimpse/ativos", json={"type": "full"}, timeout=10).text)
    if len(actives) != len(PAIR_NAMES):
        raise BenchError(f"the original's ativos listed {len(actives)} pairs, not {len(PAIR_NAMES)}")
    realtime = json.loads(requests.get(base_url + "/glimpse/getCandlesRealtime", timeout=10).text)
    if len(realtime) != len(PAIR_NAMES) or any(len(doc["candles"]) != CANDLES_PER_PAIR for doc in realtime):
        raise BenchError("the original's getCandlesRealtime does not hold 15 candles for every pair")


def check_answers(base_url: str, token: str) -> None:
    """One request per route before measuring, so the figures are about real answers."""
    headers = {"Authorization": f"Bearer {token}"}
    user = _expect(
        requests.post(base_url + "/glimpse/getUser", json={}, headers=headers, timeout=10), "getUser"
    )
    if user.get("email") != next(email for role, email, _ in DEMO_LOGINS if role == "user"):
        raise BenchError(f"getUser answered another account: {user.get('email')!r}")
    actives = _expect(
        requests.post(base_url + "/glimpse/ativos", json={"type": "full"}, timeout=10), "ativos"
    )
    if len(actives) != len(PAIR_NAMES):
        raise BenchError(f"ativos listed {len(actives)} pairs, not {len(PAIR_NAMES)}")
    realtime = _expect(
        requests.get(base_url + "/glimpse/getCandlesRealtime", timeout=10), "getCandlesRealtime"
    )
    if len(realtime) != len(PAIR_NAMES) or any(len(doc["candles"]) != CANDLES_PER_PAIR for doc in realtime):
        raise BenchError("getCandlesRealtime does not hold 15 candles for every pair")


@dataclass
class ClientResult:
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests only
    errors: int = 0
    first_error: str = ""


ACCEPT_ENCODING = ["identity"]  # set from --accept-encoding before any client starts


def _client(target: Target, base_url: str, token: str, start: threading.Barrier, stop_at: list[float],
            result: ClientResult) -> None:  # fmt: skip
    url = base_url + target.path
    with requests.Session() as session:
        session.headers["Accept-Encoding"] = ACCEPT_ENCODING[0]
        if target.authenticated:
            session.headers["Authorization"] = f"Bearer {token}"
        start.wait()
        deadline = stop_at[0]
        while True:
            began = time.perf_counter()
            if began >= deadline:
                return
            try:
                if target.method == "GET":
                    response = session.get(url, timeout=30)
                else:
                    response = session.post(url, json=target.body, timeout=30)
                ok = response.status_code == 200
                _ = response.content
                failure: object = response.status_code
            except requests.RequestException as exc:
                ok, failure = False, exc
            elapsed = time.perf_counter() - began
            if ok:
                result.latencies.append(elapsed)
            else:
                result.errors += 1
                if not result.first_error:
                    result.first_error = str(failure)[:200]


class _Lean:
    """One keep-alive HTTP/1.1 connection that sends a fixed request and reads the status line,
    the headers (for Content-Length and Connection) and the body, and nothing more: a client as
    cheap as the servers allow, like wrk, so that on a machine it shares with them its own work
    weighs little in the figures. `requests` parses every header through the email package."""

    def __init__(self, host: str, port: int, request: bytes):
        self.address, self.request = (host, port), request
        self.sock: socket.socket | None = None
        self.reader: Any = None

    def exchange(self) -> tuple[int, bytes]:
        if self.sock is None:
            self.sock = socket.create_connection(self.address, timeout=30)
            self.reader = self.sock.makefile("rb")
        self.sock.sendall(self.request)
        status_line = self.reader.readline()
        if not status_line:
            self.close()
            raise ConnectionError("the server closed the connection")
        status = int(status_line.split(b" ", 2)[1])
        length, close = 0, False
        while True:
            line = self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        body = self.reader.read(length) if length else b""
        if close:
            self.close()
        return status, body

    def close(self) -> None:
        if self.sock is not None:
            self.reader.close()
            self.sock.close()
        self.sock = self.reader = None


def lean_request(target: Target, host: str, port: int, token: str) -> bytes:
    body = json.dumps(target.body).encode() if target.method == "POST" else b""
    lines = [f"{target.method} {target.path} HTTP/1.1", f"Host: {host}:{port}",
             f"Accept-Encoding: {ACCEPT_ENCODING[0]}", "Connection: keep-alive"]  # fmt: skip
    if target.authenticated:
        lines.append(f"Authorization: Bearer {token}")
    if target.method == "POST":
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _lean_client(target: Target, base_url: str, token: str, start: threading.Barrier, stop_at: list[float],
                 result: ClientResult) -> None:  # fmt: skip
    host, port = base_url.rsplit("//", 1)[1].rsplit(":", 1)
    connection = _Lean(host, int(port), lean_request(target, host, int(port), token))
    start.wait()
    deadline = stop_at[0]
    try:
        while True:
            began = time.perf_counter()
            if began >= deadline:
                return
            try:
                status, body = connection.exchange()
                ok, failure = status == 200 and bool(body), f"{status} {body[:100]!r}"
            except (OSError, ValueError, IndexError) as exc:
                connection.close()
                ok, failure = False, repr(exc)
            elapsed = time.perf_counter() - began
            if ok:
                result.latencies.append(elapsed)
            else:
                result.errors += 1
                if not result.first_error:
                    result.first_error = failure[:200]
    finally:
        connection.close()


CLIENTS = {"lean": _lean_client, "requests": _client}
CLIENT = ["lean"]  # set from --client before any client starts


def cpu_seconds(pgid: int) -> float:
    """CPU time (user + system) spent so far by a server's process group (gunicorn and its worker)."""
    ticks = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:
                ticks += int(fields[11]) + int(fields[12])
        except (OSError, ValueError, IndexError):
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


def drive(
    target: Target, base_url: str, token: str, clients: int, seconds: float, pgid: int | None = None
) -> dict:
    """`clients` threads send requests back to back for `seconds`; latencies of successful requests,
    and the server's CPU time over them when its process group `pgid` is given."""
    start = threading.Barrier(clients + 1)
    stop_at = [math.inf]
    results = [ClientResult() for _ in range(clients)]
    threads = [
        threading.Thread(
            target=CLIENTS[CLIENT[0]], args=(target, base_url, token, start, stop_at, result), daemon=True
        )
        for result in results
    ]
    for thread in threads:
        thread.start()
    cpu_before = cpu_seconds(pgid) if pgid is not None else 0.0
    began = time.perf_counter()
    stop_at[0] = began + seconds
    start.wait()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    cpu_used = cpu_seconds(pgid) - cpu_before if pgid is not None else None
    latencies = sorted(x for r in results for x in r.latencies)
    errors = sum(r.errors for r in results)
    return {
        "requests": len(latencies),
        "errors": errors,
        "first_error": next((r.first_error for r in results if r.first_error), None),
        "seconds": round(wall, 3),
        "server_cpu_s": None if cpu_used is None else round(cpu_used, 3),
        "requests_per_s": round(len(latencies) / wall, 1),
        "p50_ms": _percentile_ms(latencies, 0.50),
        "p99_ms": _percentile_ms(latencies, 0.99),
        "max_ms": round(latencies[-1] * 1000, 2) if latencies else None,
    }


def _percentile_ms(sorted_seconds: list[float], q: float) -> float | None:
    if not sorted_seconds:
        return None
    index = max(0, math.ceil(q * len(sorted_seconds)) - 1)  # nearest rank
    return round(sorted_seconds[index] * 1000, 2)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=12, help="concurrent client threads (default 12)")
    parser.add_argument(
        "--seconds", type=float, default=5.0, help="measured seconds per route, server and round (default 5)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument(
        "--accept-encoding",
        default="identity",
        help='the clients\' Accept-Encoding (default "identity", as wrk sends none; "gzip, deflate, br" as a '
        "browser: the rewrite then compresses its answers, the original never did)",
    )
    parser.add_argument(
        "--client",
        choices=sorted(CLIENTS),
        default="lean",
        help="lean (default): one socket per client thread that reads only the status, Content-Length and "
        "body, like wrk; requests: a requests.Session each, which parses every header in Python",
    )
    parser.add_argument(
        "--warmup", type=float, default=1.0, help="unmeasured seconds per route first (default 1)"
    )
    parser.add_argument("--startup-timeout", type=float, default=60.0, help="seconds to wait for the server")
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= 256:
        parser.error("--clients must be between 1 and 256")
    if not 0 < args.seconds <= 3600:
        parser.error("--seconds must be more than 0 and at most 3600")
    if not 1 <= args.rounds <= 100:
        parser.error("--rounds must be between 1 and 100")
    if not 0 <= args.warmup <= 600:
        parser.error("--warmup must be between 0 and 600")
    if args.startup_timeout <= 0:
        parser.error("--startup-timeout must be positive")
    return args


def stop_on_sigterm(signum, frame):
    raise SystemExit(128 + signum)  # unwinds through the finally that stops the server


def _combine(runs: list[dict]) -> dict:
    """One route's figures over its rounds: totals, and the worst round's latencies."""
    requests_total = sum(r["requests"] for r in runs)
    seconds_total = sum(r["seconds"] for r in runs)
    return {
        "requests": requests_total,
        "errors": sum(r["errors"] for r in runs),
        "first_error": next((r["first_error"] for r in runs if r["first_error"]), None),
        "seconds": round(seconds_total, 3),
        "requests_per_s": round(requests_total / seconds_total, 1) if seconds_total else 0.0,
        "server_cpu_ms_per_request": _cpu_ms_per_request(runs),
        "requests_per_s_by_round": [r["requests_per_s"] for r in runs],
        "p50_ms": max((r["p50_ms"] for r in runs if r["p50_ms"] is not None), default=None),
        "p99_ms": max((r["p99_ms"] for r in runs if r["p99_ms"] is not None), default=None),
        "max_ms": max((r["max_ms"] for r in runs if r["max_ms"] is not None), default=None),
    }


def _cpu_ms_per_request(runs: list[dict]) -> float | None:
    served = sum(r["requests"] + r["errors"] for r in runs)
    cpu = [r["server_cpu_s"] for r in runs]
    if not served or any(c is None for c in cpu):
        return None
    return round(sum(cpu) / served * 1000, 3)


def _ratio(ours: float, original: float) -> float | None:
    return round(ours / original, 2) if original else None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    ACCEPT_ENCODING[0] = args.accept_encoding
    CLIENT[0] = args.client
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    port, original_port = free_port(), free_port()
    env = server_environment(port)
    config = load_config(env)
    base_url, original_url = f"http://{HOST}:{port}", f"http://{HOST}:{original_port}"
    original_env = {k: v for k, v in env.items() if not k.startswith("GLIMPSE_")}
    original_command = [sys.executable, str(ROOT / "bench" / "original_api.py"), "--host", HOST,
                        "--port", str(original_port)]  # fmt: skip
    ours_runs: dict[str, list[dict]] = {t.name: [] for t in TARGETS}
    original_runs: dict[str, list[dict]] = {t.name: [] for t in TARGETS}
    with tempfile.TemporaryDirectory(prefix="glimpse-bench-api-") as tmp:
        server = Server(env, Path(tmp) / "server.log")
        original = Server(original_env, Path(tmp) / "original.log", original_command)
        try:
            started = time.perf_counter()
            server.start()
            original.start()
            server.wait_ready(base_url, args.startup_timeout)
            startup_s = time.perf_counter() - started
            original.wait_ready(original_url, args.startup_timeout)
            prepared = prepare_data(
                base_url, config.service_token.get_secret_value(), config.paper_seed, config.zone
            )
            load_original(original_url, prepared)
            check_answers(base_url, prepared.token)
            check_original_answers(original_url)
            token = prepared.token
            for round_no in range(args.rounds):
                for target in TARGETS:
                    sides = [(server, base_url, target, ours_runs), (original, original_url, for_original(target), original_runs)]  # fmt: skip
                    if round_no % 2:  # the order alternates, so neither side always runs second
                        sides.reverse()
                    for side, url, side_target, runs in sides:
                        if args.warmup:
                            drive(side_target, url, token, args.clients, args.warmup)
                        pgid = side.process.pid if side.process is not None else None
                        runs[target.name].append(
                            drive(side_target, url, token, args.clients, args.seconds, pgid)
                        )
        except BenchError as exc:
            print(f"bench/api.py: {exc}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("bench/api.py: interrupted; the servers are stopped", file=sys.stderr)
            return 130
        finally:
            server.stop()
            original.stop()
    routes, originals, ratios = {}, {}, {}
    for target in TARGETS:
        key = f"{target.method} {target.path}"
        routes[key] = _combine(ours_runs[target.name])
        originals[key] = _combine(original_runs[target.name])
        by_round = [
            _ratio(o["requests_per_s"], b["requests_per_s"])
            for o, b in zip(ours_runs[target.name], original_runs[target.name], strict=True)
        ]
        ours_cpu, original_cpu = (
            routes[key]["server_cpu_ms_per_request"],
            originals[key]["server_cpu_ms_per_request"],
        )
        ratios[target.name] = {
            "ratio_vs_original": _ratio(routes[key]["requests_per_s"], originals[key]["requests_per_s"]),
            "lowest_round": min((r for r in by_round if r is not None), default=None),
            "highest_round": max((r for r in by_round if r is not None), default=None),
            # The server's own cost: the original's CPU per request over the rewrite's (higher is
            # better). The clients share the machine, so throughput also counts their work.
            "server_cpu_ratio_vs_original": _ratio(original_cpu or 0.0, ours_cpu or 0.0),
        }
    goals = {
        "getCandlesRealtime >= 1.5x": (ratios["getCandlesRealtime"]["ratio_vs_original"] or 0) >= 1.5,
        "every route >= 1.0x": all((r["ratio_vs_original"] or 0) >= 1.0 for r in ratios.values()),
    }
    print(
        json.dumps(
            {
                "benchmark": "api",
                "server": {
                    "wsgi": "gunicorn gthread",
                    "workers": 1,
                    "threads": SERVER_THREADS,
                    "database": "embedded (mongomock)",
                    "startup_s": round(startup_s, 2),
                },
                "original": {
                    "stand_in": "bench/original_api.py: the original's getUser, ativos and getCandlesRealtime "
                    "handlers as ../shared/reference describes them (json.dumps of the documents), "
                    "same gunicorn settings, mongomock seeded from collections/ with the same candles and pairs",
                },
                "clients": args.clients,
                "client": {
                    "lean": "threads, one keep-alive socket each, reading status, Content-Length and body",
                    "requests": "threads, one requests.Session each, keep-alive",
                }[args.client],
                "accept_encoding": args.accept_encoding,
                "seconds_per_route": args.seconds,
                "rounds": args.rounds,
                "warmup_s": args.warmup,
                "measured": "interleaved: per round, each route on both servers in alternating order",
                "ratio_vs_original": ratios,
                "goals_met": goals,
                "routes": routes,
                "original_routes": originals,
                "machine": {
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "load_average": [round(x, 2) for x in os.getloadavg()],
                },
            },
            indent=2,
        )
    )
    failed = sum(route["errors"] for route in (*routes.values(), *originals.values()))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
