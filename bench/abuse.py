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
   look; per-address budgets then never fill, only per-account ones do;
4. reference, many addresses without logins: phase 3 with every login
   replaced by a `checkIq`, which isolates what the logins' password hashing
   costs the victim (each botnet login is from an address that has not failed,
   so it gets its argon2 verification, of the account's hash or a dummy one);
5. reference, a flood of pings: the same number of clients sending
   `GET /glimpse/ping` (no body, no token, no database) back to back. Its
   ratio is what a flood of that many clients costs the victim on this
   machine and this server (HTTP parsing, the request hooks, the queue for the
   worker's threads and its interpreter lock) before any route does work.

The victim runs in a process of its own: in the attackers' process it would
wait for their interpreter lock after each answer, and the figure would be the
client's, not the server's. The attackers keep sharing one process, as before.

The server holds refused answers (api/tarpit.py: a 429, a repeated failed
login) up to a second, as `glimpse up` does, so the attackers' closed loops
slow down; `attack_answers` counts what they got in the time.

Goal: the victim's p99 under attack stays within 2x its quiet value. Prints ONE
JSON object; the exit code is 0 when every phase measured something (the goal
is reported, not enforced). The machine's load average is reported with the
figures: on a shared 2-core machine other work moves them. Only 127.0.0.1 is
contacted.

The phases take turns (`--rounds`, default 3: each phase runs three times for
a third of its seconds), so that other work on the machine weighs on all of
them alike; each phase's figures pool its rounds, and its p99 per round is
listed too.

    .venv/bin/python bench/abuse.py [--attackers 16] [--seconds 10] [--rounds 3]
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
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
from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError

ROOT = Path(__file__).resolve().parent.parent
# Run as a script: import the sibling benchmark as `bench.api`, not bench/ as the top level.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

from api.tarpit import HOLD_SECONDS  # noqa: E402
from bench.api import (  # noqa: E402
    HOST,
    SERVER_THREADS,
    BenchError,
    Server,
    _percentile_ms,
    cpu_seconds,
    free_port,
    prepare_data,
    server_environment,
    stop_on_sigterm,
)
from glimpse.runtime.config import load_config  # noqa: E402
from glimpse.store.seed import DEMO_CODES, DEMO_LOGINS  # noqa: E402

ATTACKER_EMAIL = "mallory@example.com"
MODES = ("quiet", "one", "many", "many-no-login", "ping")  # the phases, in the order they take turns
ATTACKER_PASSWORD = "mallory's long passphrase"
VICTIM_EMAIL = next(email for role, email, _ in DEMO_LOGINS if role == "user")
VICTIM_BROKER_EMAIL = "victim.iq@example.com"


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)  # "route status" -> count
    errors: int = 0


def _victim(base_url: str, token: str, seconds: float, results: Any) -> None:
    """Runs in a process of its own (see the module docstring); sends back (latencies, errors)."""
    latencies: list[float] = []
    errors = 0
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {token}"
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            began = time.perf_counter()
            try:
                response = session.post(base_url + "/glimpse/getUser", json={}, timeout=60)
                _ = response.content
                ok = response.status_code == 200
            except requests.RequestException:
                ok = False
            if ok:
                latencies.append(time.perf_counter() - began)
            else:
                errors += 1
    results.put((latencies, errors))


def _pinger(base_url: str, stop: threading.Event, tally: Tally) -> None:
    with requests.Session() as session:
        while not stop.is_set():
            try:
                response = session.get(base_url + "/glimpse/ping", timeout=60)
                _ = response.content
                tally.statuses[f"ping {response.status_code}"] += 1
            except requests.RequestException:
                tally.errors += 1


def _attacker(
    index: int,
    base_url: str,
    token: str,
    spread: bool,
    stop: threading.Event,
    tally: Tally,
    logins: bool = True,
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
            if kind == 1 and not logins:
                kind = 2
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


@dataclass
class Slice:
    """One stretch of one phase, as measured."""

    attackers: int
    latencies: list[float]
    errors: int
    attack: Tally
    cpu_seconds: float
    elapsed: float
    peak_rss_mib: float


def run_slice(base_url: str, victim_token: str, attacker_token: str, attackers: int, mode: str,
              seconds: float, pgid: int) -> Slice:  # fmt: skip
    """mode: "quiet", "one" (one address), "many" (X-Forwarded-For), "many-no-login" (the same
    without logins) or "ping" (a flood of pings)."""
    stop = threading.Event()
    attack = Tally()
    if mode == "ping":
        threads = [
            threading.Thread(target=_pinger, args=(base_url, stop, attack), daemon=True)
            for _ in range(attackers)
        ]
    elif mode in ("one", "many", "many-no-login"):
        threads = [
            threading.Thread(
                target=_attacker,
                args=(i, base_url, attacker_token, mode != "one", stop, attack, mode != "many-no-login"),
                daemon=True,
            )
            for i in range(attackers)
        ]
    else:
        threads = []
    spawn = multiprocessing.get_context("spawn")
    results = spawn.SimpleQueue()
    victim = spawn.Process(target=_victim, args=(base_url, victim_token, seconds, results), daemon=True)
    for thread in threads:
        thread.start()
    cpu_before, began = cpu_seconds(pgid), time.monotonic()
    victim.start()
    peak_rss = 0.0
    while victim.is_alive() and time.monotonic() < began + seconds + 60:
        peak_rss = max(peak_rss, _group_rss_mib(pgid))
        victim.join(0.25)
    cpu_used, elapsed = cpu_seconds(pgid) - cpu_before, time.monotonic() - began
    stop.set()
    for thread in threads:  # each finishes the request it has in flight: nothing spills over
        thread.join()
    if victim.is_alive():
        victim.terminate()
        raise BenchError("the victim's process did not finish")
    latencies, errors = results.get()
    return Slice(len(threads), latencies, errors, attack, cpu_used, elapsed, peak_rss)


ADDRESSES = {"one": "one", "many": "many (X-Forwarded-For)", "many-no-login": "many (X-Forwarded-For)",
             "ping": "one"}  # fmt: skip


def summarize(mode: str, slices: list[Slice]) -> dict[str, Any]:
    latencies = sorted(x for part in slices for x in part.latencies)
    answers: Counter = Counter()
    for part in slices:
        answers.update(part.attack.statuses)
    elapsed = sum(part.elapsed for part in slices)
    return {
        "attackers": slices[0].attackers,
        "attacker_addresses": ADDRESSES.get(mode),
        "victim_getUser": {
            "requests": len(latencies),
            "errors": sum(part.errors for part in slices),
            "p50_ms": _percentile_ms(latencies, 0.50),
            "p99_ms": _percentile_ms(latencies, 0.99),
            "max_ms": round(latencies[-1] * 1000, 2) if latencies else None,
            "p99_ms_per_round": [_percentile_ms(sorted(part.latencies), 0.99) for part in slices],
        },
        "attack_answers": dict(sorted(answers.items())),
        "attack_errors": sum(part.attack.errors for part in slices),
        "server_cpu_seconds_per_second": round(sum(p.cpu_seconds for p in slices) / elapsed, 2)
        if elapsed
        else None,
        "server_peak_rss_mib": max(part.peak_rss_mib for part in slices),
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


def argon2_verify_ms(rounds: int = 3) -> float:
    """The median time of one verification of a standard-profile hash on this machine, here and
    now: each login the botnet sends costs the server one (a dummy hash for unknown emails)."""
    hasher = PasswordHasher()  # the standard profile's parameters (glimpse/runtime/security.py)
    stored = hasher.hash("a password nobody guesses")
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        try:
            hasher.verify(stored, "a wrong guess")
        except VerifyMismatchError:
            pass
        times.append(time.perf_counter() - began)
    return round(sorted(times)[rounds // 2] * 1000, 1)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--attackers", type=int, default=16, help="attacking clients (default 16)")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per phase (default 10)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="the phases take turns this many times, seconds/rounds each (default 3)")  # fmt: skip
    parser.add_argument("--startup-timeout", type=float, default=60.0, help="seconds to wait for the server")
    args = parser.parse_args(argv)
    if not 1 <= args.attackers <= 256:
        parser.error("--attackers must be between 1 and 256")
    if not 1 <= args.rounds <= 100:
        parser.error("--rounds must be between 1 and 100")
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
            prepared = prepare_data(
                base_url, config.service_token.get_secret_value(), config.paper_seed, config.zone
            )
            # The demo user's token (bench/api.py returns it alone, or in a Prepared).
            victim = prepared if isinstance(prepared, str) else prepared.token
            attacker = attacker_token(base_url)
            load_before = os.getloadavg()
            verify_ms = argon2_verify_ms()
            run_slice(base_url, victim, attacker, 0, "quiet", 1.0, pgid)  # warm-up, unmeasured
            # The phases take turns, round after round, so a change in the machine's other load
            # falls on all of them alike rather than on whichever phase it happens in.
            slices: dict[str, list[Slice]] = {mode: [] for mode in MODES}
            for _ in range(args.rounds):
                for mode in MODES:
                    attackers = 0 if mode == "quiet" else args.attackers
                    slices[mode].append(
                        run_slice(
                            base_url, victim, attacker, attackers, mode, args.seconds / args.rounds, pgid
                        )
                    )
            quiet, one, many, no_login, pings = (summarize(mode, slices[mode]) for mode in MODES)
            load_after = os.getloadavg()
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
    references = {"many_addresses_without_logins": ratio(no_login), "ping_flood": ratio(pings)}
    print(
        json.dumps(
            {
                "benchmark": "abuse",
                "server": {"wsgi": "gunicorn gthread", "workers": 1, "threads": SERVER_THREADS,
                           "database": "embedded (mongomock)", "password_hash": "argon2id standard profile",
                           "tarpit": {"hold_seconds": HOLD_SECONDS, "held_at_most": SERVER_THREADS // 2}},
                "seconds_per_phase": args.seconds,
                "rounds": args.rounds,
                "phases": {"quiet": quiet, "attack_one_address": one, "attack_many_addresses": many,
                           "reference_many_addresses_without_logins": no_login, "reference_ping_flood": pings},
                "p99_ratio_to_quiet": ratios,
                "goal": "victim p99 within 2x quiet",
                "goal_met": {name: value is not None and value <= 2.0 for name, value in ratios.items()},
                "reference_p99_ratio_to_quiet": references,
                "argon2_verify_ms": verify_ms,
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                            "load_average_before": [round(x, 2) for x in load_before],
                            "load_average_after": [round(x, 2) for x in load_after]},
            },
            indent=2,
        )
    )  # fmt: skip
    measured = all(p["victim_getUser"]["requests"] for p in (quiet, one, many, no_login, pings))
    return 0 if measured else 1


if __name__ == "__main__":
    sys.exit(main())
