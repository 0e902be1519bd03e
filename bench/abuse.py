"""A normal user's latency while strangers hammer the public and costly routes.

Starts the real API as bench/api.py does (gunicorn, one gthread worker, the
embedded database, GLIMPSE_TRUSTED_PROXIES=127.0.0.1 as behind the README's
proxy), logs the demo user in, and measures their `getUser` latency with one
client sending requests back to back:

1. quiet: nobody else is calling;
2. attack from one address: 16 clients cycle through `requestPasswordReset`
   (the victim's email and made-up ones), `login` (wrong passwords for the
   victim and for made-up emails) and `checkIq` (someone else's broker email,
   from an attacker's own account);
3. attack from many addresses: the same, each request naming a fresh client
   address in X-Forwarded-For, as a botnet behind the trusted proxy would
   look; per-address budgets then never fill, only per-account ones do.

Goal: the victim's p99 under attack stays within 2x its quiet value. Prints ONE
JSON object; the exit code is 0 when every phase measured something (the goal
is reported, not enforced). Only 127.0.0.1 is contacted.

    .venv/bin/python bench/abuse.py [--attackers 16] [--seconds 10]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
# Run as a script: import the sibling benchmark as `bench.api`, not bench/ as the top level.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

from bench.api import (  # noqa: E402
    HOST,
    SERVER_THREADS,
    BenchError,
    Server,
    _percentile_ms,
    free_port,
    prepare_data,
    server_environment,
    stop_on_sigterm,
)
from glimpse.runtime.config import load_config  # noqa: E402
from glimpse.store.seed import DEMO_CODES, DEMO_LOGINS  # noqa: E402

ATTACKER_EMAIL = "mallory@example.com"
ATTACKER_PASSWORD = "mallory's long passphrase"
VICTIM_EMAIL = next(email for role, email, _ in DEMO_LOGINS if role == "user")
VICTIM_BROKER_EMAIL = "victim.iq@example.com"


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)  # "route status" -> count
    errors: int = 0


def _victim(base_url: str, token: str, stop: threading.Event, tally: Tally) -> None:
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {token}"
        while not stop.is_set():
            began = time.perf_counter()
            try:
                response = session.post(base_url + "/glimpse/getUser", json={}, timeout=60)
                _ = response.content
                ok = response.status_code == 200
            except requests.RequestException:
                ok = False
            if ok:
                tally.latencies.append(time.perf_counter() - began)
            else:
                tally.errors += 1


def _attacker(
    index: int, base_url: str, token: str, spread: bool, stop: threading.Event, tally: Tally
) -> None:
    rng = random.Random(index)
    counter = itertools.count()
    with requests.Session() as session:
        while not stop.is_set():
            n = next(counter)
            headers = {}
            if spread:  # a fresh address each time: 10.x.y.z, never a trusted proxy
                headers["X-Forwarded-For"] = (
                    f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
                )
            kind = (index + n) % 3
            if kind == 0:
                route, body = (
                    "requestPasswordReset",
                    {"email": VICTIM_EMAIL if n % 2 else f"x{index}.{n}@example.com"},
                )
            elif kind == 1:
                email = VICTIM_EMAIL if n % 2 else f"guess{index}.{n}@example.com"
                route, body = "login", {"email": email, "password": f"guess number {n}"}
            else:
                headers["Authorization"] = f"Bearer {token}"
                route, body = "checkIq", {"email": VICTIM_BROKER_EMAIL, "password": f"guess number {n}"}
            try:
                response = session.post(f"{base_url}/glimpse/{route}", json=body, headers=headers, timeout=60)
                _ = response.content
                tally.statuses[f"{route} {response.status_code}"] += 1
            except requests.RequestException:
                tally.errors += 1


def _group_rss_mib(pgid: int) -> float:
    """Resident memory of every process in the server's process group (gunicorn and its worker)."""
    total_kib = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[2]) != pgid:
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kib += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return round(total_kib / 1024, 1)


def phase(base_url: str, victim_token: str, attacker_token: str, attackers: int, spread: bool,
          seconds: float, pgid: int) -> dict[str, Any]:  # fmt: skip
    stop = threading.Event()
    victim, attack = Tally(), Tally()
    threads = [threading.Thread(target=_victim, args=(base_url, victim_token, stop, victim), daemon=True)]
    threads += [
        threading.Thread(
            target=_attacker, args=(i, base_url, attacker_token, spread, stop, attack), daemon=True
        )
        for i in range(attackers)
    ]
    for thread in threads:
        thread.start()
    peak_rss = 0.0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        peak_rss = max(peak_rss, _group_rss_mib(pgid))
        time.sleep(0.25)
    stop.set()
    for thread in threads:
        thread.join()
    latencies = sorted(victim.latencies)
    return {
        "attackers": attackers,
        "attacker_addresses": "many (X-Forwarded-For)" if spread else ("one" if attackers else None),
        "victim_getUser": {
            "requests": len(latencies),
            "errors": victim.errors,
            "p50_ms": _percentile_ms(latencies, 0.50),
            "p99_ms": _percentile_ms(latencies, 0.99),
            "max_ms": round(latencies[-1] * 1000, 2) if latencies else None,
        },
        "attack_answers": dict(sorted(attack.statuses.items())),
        "attack_errors": attack.errors,
        "server_peak_rss_mib": peak_rss,
    }


def attacker_token(base_url: str) -> str:
    """An account of the attacker's own (checkIq needs one), registered with a demo invite code."""
    for code in DEMO_CODES:
        body = {
            "userName": "Mallory Test",
            "userMail": ATTACKER_EMAIL,
            "userPassword": ATTACKER_PASSWORD,
            "code": code,
        }
        if requests.post(base_url + "/glimpse/insertUser", json=body, timeout=30).status_code == 200:
            break
    else:
        raise BenchError("no demo invite code registered the attacker's account")
    login = requests.post(
        base_url + "/glimpse/login", json={"email": ATTACKER_EMAIL, "password": ATTACKER_PASSWORD}, timeout=30
    ).json()
    if login.get("res") != 1:
        raise BenchError(f"the attacker could not log in: {login}")
    return login["token"]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--attackers", type=int, default=16, help="attacking clients (default 16)")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per phase (default 10)")
    parser.add_argument("--startup-timeout", type=float, default=60.0, help="seconds to wait for the server")
    args = parser.parse_args(argv)
    if not 1 <= args.attackers <= 256:
        parser.error("--attackers must be between 1 and 256")
    if not 0 < args.seconds <= 3600:
        parser.error("--seconds must be more than 0 and at most 3600")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    port = free_port()
    env = server_environment(port) | {"GLIMPSE_TRUSTED_PROXIES": "127.0.0.1/32"}
    config = load_config(env)
    base_url = f"http://{HOST}:{port}"
    with tempfile.TemporaryDirectory(prefix="glimpse-bench-abuse-") as tmp:
        server = Server(env, Path(tmp) / "server.log")
        try:
            server.start()
            server.wait_ready(base_url, args.startup_timeout)
            assert server.process is not None
            pgid = server.process.pid
            victim = prepare_data(
                base_url, config.service_token.get_secret_value(), config.paper_seed, config.zone
            )
            attacker = attacker_token(base_url)
            phase(base_url, victim, attacker, 0, False, 1.0, pgid)  # warm-up, unmeasured
            quiet = phase(base_url, victim, attacker, 0, False, args.seconds, pgid)
            one = phase(base_url, victim, attacker, args.attackers, False, args.seconds, pgid)
            many = phase(base_url, victim, attacker, args.attackers, True, args.seconds, pgid)
        except BenchError as exc:
            print(f"bench/abuse.py: {exc}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("bench/abuse.py: interrupted; the server is stopped", file=sys.stderr)
            return 130
        finally:
            server.stop()
    quiet_p99 = quiet["victim_getUser"]["p99_ms"]

    def ratio(result: dict[str, Any]) -> float | None:
        p99 = result["victim_getUser"]["p99_ms"]
        return round(p99 / quiet_p99, 2) if p99 and quiet_p99 else None

    ratios = {"one_address": ratio(one), "many_addresses": ratio(many)}
    print(
        json.dumps(
            {
                "benchmark": "abuse",
                "server": {"wsgi": "gunicorn gthread", "workers": 1, "threads": SERVER_THREADS,
                           "database": "embedded (mongomock)", "password_hash": "argon2id standard profile"},
                "seconds_per_phase": args.seconds,
                "phases": {"quiet": quiet, "attack_one_address": one, "attack_many_addresses": many},
                "p99_ratio_to_quiet": ratios,
                "goal": "victim p99 within 2x quiet",
                "goal_met": {name: value is not None and value <= 2.0 for name, value in ratios.items()},
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            },
            indent=2,
        )
    )  # fmt: skip
    measured = all(p["victim_getUser"]["requests"] for p in (quiet, one, many))
    return 0 if measured else 1


if __name__ == "__main__":
    sys.exit(main())
