"""The trader app on a phone-like link: how long until the dashboard is usable, how many bytes the
first load moves, and how many bytes an hour the status poll costs.

Starts `glimpse up` (embedded, paper broker) on a free loopback port, unless --url names a running
bundle, and drives Debian's Chromium (/usr/bin/chromium; browsers are never downloaded) through
Playwright. Throttling is the DevTools protocol's: Network.emulateNetworkConditions with a 3G-like
profile (Chrome DevTools' "Fast 3G": 562.5 ms round trip, 1.44 Mbit/s down, 675 kbit/s up) and
Emulation.setCPUThrottlingRate 4 (a 4x slower CPU).

- usable_ms: from navigation start to the dashboard's Start button shown and enabled (cold cache,
  signed in: the token is in localStorage as after a login);
- first_load_bytes: bytes received on the wire (headers included) until then;
- warm_usable_ms / warm_load_bytes: the same with the cache the first load left;
- status poll: --poll-seconds of the dashboard left open (no trading), bytes received and sent by
  `status` calls, scaled to an hour.

Goals (issue 13): usable <= 3 s; <= 350 KB on the wire for the first load; <= 2 MB an hour of
polling. Prints ONE JSON object.

    .venv/bin/python -m bench.app_load [--url http://127.0.0.1:5000] [--poll-seconds 30]
    .venv/bin/python -m bench.app_load --baseline-dist /tmp/old-dist   # ratios against an older build

Also printed: the first load's waterfall (each request's start, end and bytes) and the main thread's
busy time (script, style, layout), which say whether the network or the CPU holds the screen back.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
# Run as a script, this folder comes first on the path, where a module may shadow the standard
# library's: look modules up from the repository instead.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
CHROMIUM = Path(os.environ.get("GLIMPSE_TEST_CHROMIUM") or "/usr/bin/chromium")
DEMO = ("demo@glimpse.local", "glimpse-demo")
FAST_3G = {
    "offline": False,
    "latency": 562.5,
    "downloadThroughput": 1_440_000 / 8,
    "uploadThroughput": 675_000 / 8,
}
CPU_SLOWDOWN = 4


def _post(base: str, route: str, body: dict[str, Any], token: str | None = None) -> Any:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(
        f"{base}/glimpse/{route}", json.dumps(body).encode(), headers, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_bundle(dist: Path = REPO / "apps" / "web" / "dist") -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLIMPSE_")}
    env.update(GLIMPSE_API_HOST="127.0.0.1", GLIMPSE_API_PORT=str(port), no_proxy="127.0.0.1,localhost",
               GLIMPSE_WEB_DIST=str(dist))  # fmt: skip
    glimpse = Path(sys.executable).with_name("glimpse")
    proc = subprocess.Popen([str(glimpse), "up"], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/glimpse/ping", timeout=2) as r:
                if r.status == 200:
                    return proc, base
        except OSError:
            time.sleep(0.5)
    _stop(proc)
    raise SystemExit("glimpse up did not answer within 120 s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


class Wire:
    """Bytes on the wire per request, from the DevTools protocol's own accounting."""

    def __init__(self, cdp: Any) -> None:
        self.urls: dict[str, str] = {}
        self.sent: dict[str, int] = {}
        self.received: dict[str, int] = {}
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.loadingFinished", self._done)
        cdp.on("Network.responseReceivedExtraInfo", self._headers)
        self.header_bytes: dict[str, int] = {}
        self.began: dict[str, float] = {}
        self.ended: dict[str, float] = {}

    def _sent(self, event: dict[str, Any]) -> None:
        request = event["request"]
        headers = sum(len(k) + len(str(v)) + 4 for k, v in request.get("headers", {}).items())
        body = len((request.get("postData") or "").encode())
        self.urls[event["requestId"]] = request["url"]
        self.began.setdefault(event["requestId"], float(event.get("timestamp", 0)))
        self.sent[event["requestId"]] = len(request["url"]) + 16 + headers + body

    def _done(self, event: dict[str, Any]) -> None:
        self.received[event["requestId"]] = int(event.get("encodedDataLength", 0))
        self.ended[event["requestId"]] = float(event.get("timestamp", 0))

    def _headers(self, event: dict[str, Any]) -> None:
        # The raw response head, for answers whose encodedDataLength leaves it out (a 304 read by fetch).
        text = event.get("headersText") or "".join(
            f"{k}: {v}\r\n" for k, v in event.get("headers", {}).items()
        )
        self.header_bytes[event["requestId"]] = len(text.encode())

    def reset(self) -> None:
        self.urls.clear()
        self.sent.clear()
        self.received.clear()
        self.header_bytes.clear()
        self.began.clear()
        self.ended.clear()

    def waterfall(self) -> list[dict[str, Any]]:
        """Each request of the load: when it started and ended (ms from the first) and its bytes."""
        if not self.began:
            return []
        zero = min(self.began.values())
        rows = []
        for i, url in sorted(self.urls.items(), key=lambda kv: self.began.get(kv[0], 0)):
            end = self.ended.get(i)
            rows.append({
                "url": url.split("//", 1)[-1].split("/", 1)[-1][:80],
                "start_ms": round((self.began.get(i, zero) - zero) * 1000),
                "end_ms": round((end - zero) * 1000) if end else None,
                "bytes": max(self.received.get(i, 0), self.header_bytes.get(i, 0)),
            })  # fmt: skip
        return rows

    def total(self, needle: str = "") -> tuple[int, int, int]:
        ids = [i for i, url in self.urls.items() if needle in url]
        received = sum(max(self.received.get(i, 0), self.header_bytes.get(i, 0)) for i in ids)
        return len(ids), received, sum(self.sent.get(i, 0) for i in ids)


def _load(page: Any, base: str) -> float:
    page.goto(base + "/home", wait_until="commit")
    start = page.get_by_test_id("start")
    start.wait_for(state="visible", timeout=120_000)
    page.wait_for_function("() => !document.querySelector('[data-testid=start]').disabled", timeout=60_000)
    return float(page.evaluate("() => performance.now()"))


def _main_thread(cdp: Any) -> dict[str, int]:
    """The main thread's busy time so far (ms, as the throttled CPU ran it): script, style, layout, all tasks."""
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    names = {"ScriptDuration": "script_ms", "RecalcStyleDuration": "style_ms", "LayoutDuration": "layout_ms",
             "TaskDuration": "tasks_ms"}  # fmt: skip
    return {out: round(float(metrics.get(name, 0)) * 1000) for name, out in names.items()}


def measure(base: str, poll_seconds: float) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    token = _post(base, "login", {"email": DEMO[0], "password": DEMO[1]})["token"]
    _post(base, "updateUser", {"fields": ["readTerms"], "values": [True]}, token)
    with sync_playwright() as driver, tempfile.TemporaryDirectory(prefix="glimpse-bench-") as data:
        context = driver.chromium.launch_persistent_context(
            data, executable_path=str(CHROMIUM), headless=True, viewport={"width": 412, "height": 900},
            args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-quic",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )  # fmt: skip
        context.add_init_script(f"localStorage.setItem('glimpse.token', {json.dumps(token)})")
        page = context.pages[0] if context.pages else context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", FAST_3G)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
        wire = Wire(cdp)

        cdp.send("Performance.enable")
        usable = _load(page, base)
        count, first_bytes, first_sent = wire.total()
        waterfall = wire.waterfall()
        cpu = _main_thread(cdp)
        wire.reset()
        warm = _load(page, base)
        _, warm_bytes, _ = wire.total()

        page.wait_for_timeout(3000)  # the first polls after the load
        wire.reset()
        began = time.monotonic()
        page.wait_for_timeout(poll_seconds * 1000)
        elapsed = time.monotonic() - began
        polls, poll_received, poll_sent = wire.total("/glimpse/status")
        context.close()
    per_hour = 3600 / elapsed
    return {
        "profile": {"network": "Fast 3G (DevTools)", **FAST_3G, "cpu_slowdown": CPU_SLOWDOWN},
        "usable_ms": round(usable),
        "first_load_requests": count,
        "first_load_bytes": first_bytes,
        "first_load_kb": round(first_bytes / 1024, 1),
        "first_load_sent_bytes": first_sent,
        "warm_usable_ms": round(warm),
        "warm_load_bytes": warm_bytes,
        "poll_seconds": round(elapsed, 1),
        "status_polls": polls,
        "status_bytes_per_poll": round(poll_received / polls) if polls else None,
        "status_received_bytes_per_hour": round(poll_received * per_hour),
        "status_sent_bytes_per_hour": round(poll_sent * per_hour),
        "status_mb_per_hour": round((poll_received + poll_sent) * per_hour / 1e6, 2),
        "first_load_main_thread": cpu,
        "first_load_waterfall": waterfall,
        "goals": {"usable_ms": 3000, "first_load_kb": 350, "status_mb_per_hour": 2},
    }


def _measure_dist(dist: Path, poll_seconds: float) -> dict[str, Any]:
    proc, base = _start_bundle(dist)
    try:
        return measure(base, poll_seconds)
    finally:
        _stop(proc)


RATIO_KEYS = ("usable_ms", "first_load_kb", "warm_usable_ms", "status_mb_per_hour")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running bundle (default: start `glimpse up` here)")
    parser.add_argument(
        "--dist", type=Path, default=REPO / "apps" / "web" / "dist", help="the built app to serve"
    )
    parser.add_argument(
        "--baseline-dist",
        type=Path,
        help="another build of the app (an older commit's) measured first in the same run: ratios against it",
    )
    parser.add_argument("--poll-seconds", type=float, default=30.0)
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print(json.dumps({"error": f"{CHROMIUM} is missing: install Debian's chromium package"}))
        return 2
    load = os.getloadavg()[0]
    if args.url:
        result = measure(args.url.rstrip("/"), args.poll_seconds)
    elif args.baseline_dist:
        baseline = _measure_dist(args.baseline_dist, args.poll_seconds)
        current = _measure_dist(args.dist, args.poll_seconds)
        ratios = {
            k: round(current[k] / baseline[k], 3) for k in RATIO_KEYS if current.get(k) and baseline.get(k)
        }
        result = {"current": current, "baseline": baseline, "ratio_current_to_baseline": ratios}
    else:
        result = _measure_dist(args.dist, args.poll_seconds)
    result["load_average_1m"] = [round(load, 2), round(os.getloadavg()[0], 2)]
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
