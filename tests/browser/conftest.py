"""Browser tests: Debian's chromium, driven by Playwright, against the embedded bundle.

The bundle (`glimpse up`) runs as a subprocess on a free loopback port with a
fast market clock and serves the built app at "/". Chromium is never
downloaded: the tests use /usr/bin/chromium (`make test` installs Debian's
package when it can). Without it the tests that drive the browser are skipped,
except under CI=true, where they fail: CI must never pass without them.
GLIMPSE_TEST_CHROMIUM names another executable (also how the skip is tested).
Screenshots of every step go to artifacts/screenshots/ (git-ignored).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.fakes.telegram import FakeTelegram

REPO = Path(__file__).resolve().parents[2]
WEB = REPO / "apps" / "web"
CHROMIUM = Path(os.environ.get("GLIMPSE_TEST_CHROMIUM") or "/usr/bin/chromium")
INSTALL_HINT = "sudo apt-get install chromium"
SCREENSHOTS = REPO / "artifacts" / "screenshots"
CLOCK_SPEED = "30"  # market time runs 30x faster: a 1-minute order settles in 2 s
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
START_TIMEOUT_S = 90
# Each running bundle's log, by base URL: a test that times out waiting on the bundle shows its tail.
BUNDLE_LOGS: dict[str, Path] = {}


def bundle_log_tail(base: str, lines: int = 60) -> str:
    """The last `lines` of the log of the bundle at `base` ("" when there is none)."""
    path = BUNDLE_LOGS.get(base)
    if path is None or not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def _missing_chromium_message() -> str:
    return (
        f"{CHROMIUM} is missing: install Debian's chromium package ({INSTALL_HINT}). "
        "The browser tests never download a browser."
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the tests that need chromium when it is missing, unless this is CI."""
    if CHROMIUM.exists() or _in_ci():
        return
    here = Path(__file__).parent
    skip = pytest.mark.skip(reason=f"BROWSER TESTS SKIPPED: {_missing_chromium_message()}")
    for item in items:
        if here in item.path.parents and "playwright_driver" in getattr(item, "fixturenames", ()):
            item.add_marker(skip)


def _newest_source_mtime() -> float:
    paths = [WEB / "index.html", WEB / "vite.config.ts", WEB / "package-lock.json", WEB / "tsconfig.json"]
    for folder in (WEB / "src", WEB / "public"):
        paths.extend(p for p in folder.rglob("*") if p.is_file())
    return max(p.stat().st_mtime for p in paths if p.exists())


def _run(cmd: list[str], what: str) -> None:
    done = subprocess.run(cmd, cwd=WEB, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        tail = (done.stdout + done.stderr)[-3000:]
        pytest.fail(f"{what} failed (exit {done.returncode}) in {WEB}:\n{tail}")


def _build_web_app(dist: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail(
            "the browser tests need the built app: install Node 20 (with npm) or build apps/web elsewhere"
        )
    installed = WEB / "node_modules" / ".package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < (WEB / "package-lock.json").stat().st_mtime:
        _run([npm, "ci", "--no-audit", "--no-fund"], "npm ci")
    _run([npm, "run", "build"], "npm run build")
    if not (dist / "index.html").is_file():
        pytest.fail(f"npm run build did not produce {dist / 'index.html'}")


@pytest.fixture(scope="session")
def web_dist() -> Path:
    """The built app: GLIMPSE_WEB_DIST when given, else apps/web/dist, rebuilt when its sources are newer."""
    given = os.environ.get("GLIMPSE_WEB_DIST")
    if given:
        dist = Path(given)
        if not (dist / "index.html").is_file():
            pytest.fail(
                f"GLIMPSE_WEB_DIST={given} holds no index.html: build the app first (npm run build in apps/web)"
            )
        return dist
    dist = WEB / "dist"
    index = dist / "index.html"
    if not index.is_file() or index.stat().st_mtime < _newest_source_mtime():
        _build_web_app(dist)
    return dist


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _stop(proc: subprocess.Popen) -> None:
    """Stop the bundle: its own process group (gunicorn master and worker), nothing else."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@contextmanager
def running_bundle(web_dist: Path, log_dir: Path, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """`glimpse up` (embedded, paper broker, fast clock) on a free port, with `extra_env`; yields its base URL."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLIMPSE_")}
    env.update(
        GLIMPSE_API_HOST="127.0.0.1",
        GLIMPSE_API_PORT=str(port),
        GLIMPSE_CLOCK_SPEED=CLOCK_SPEED,
        GLIMPSE_WEB_DIST=str(web_dist),
        # As behind the README's proxy: the tests' registrations name a client address of their own
        # (tests/browser/app.py), so a session of many journeys stays within insertUser's per-address budget.
        GLIMPSE_TRUSTED_PROXIES="127.0.0.1/32",
        no_proxy="127.0.0.1,localhost",
    )
    env.update(extra_env or {})
    log_path = log_dir / "glimpse-up.log"
    glimpse = Path(sys.executable).with_name("glimpse")
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [str(glimpse), "up"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    BUNDLE_LOGS[base] = log_path
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _answers(base + "/glimpse/ping"):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"`glimpse up` did not answer /glimpse/ping on {base}:\n{log_path.read_text()[-3000:]}"
                )
            time.sleep(0.3)
        yield base
    finally:
        _stop(proc)
        BUNDLE_LOGS.pop(base, None)


@pytest.fixture(scope="session")
def bundle(web_dist: Path, tmp_path_factory) -> Iterator[str]:
    """`glimpse up` (embedded, paper broker, fast clock) on a free port; yields its base URL."""
    with running_bundle(web_dist, tmp_path_factory.mktemp("bundle")) as base:
        yield base


@pytest.fixture(scope="module")
def fake_telegram() -> Iterator[FakeTelegram]:
    """The fake Telegram Bot API on loopback (tests/fakes/telegram.py)."""
    fake = FakeTelegram().start()
    try:
        yield fake
    finally:
        fake.close()


@pytest.fixture(scope="module")
def telegram_bundle(web_dist: Path, fake_telegram: FakeTelegram, tmp_path_factory) -> Iterator[str]:
    """A bundle of its own whose notifier talks to `fake_telegram`, for the module that asks for it.

    The session's `bundle` has no bot (the trader journey checks the page says so); this one is
    started and stopped around the module, so the two run side by side only while it lasts."""
    telegram = {"GLIMPSE_TELEGRAM_TOKEN": fake_telegram.token, "GLIMPSE_TELEGRAM_API": fake_telegram.url}
    with running_bundle(web_dist, tmp_path_factory.mktemp("telegram-bundle"), telegram) as base:
        yield base


@pytest.fixture(scope="session")
def playwright_driver():
    if not CHROMIUM.exists():
        # Reached under CI=true (elsewhere these tests were skipped at collection).
        pytest.fail(
            _missing_chromium_message() + (" CI=true: a missing browser is a failure." if _in_ci() else "")
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def new_context(playwright_driver) -> Iterator[Callable]:
    """Open a fresh chromium (own user-data dir) with a locale; closed at the end of the session."""
    opened = []

    def open_context(locale: str = "pt-BR"):
        user_data = tempfile.mkdtemp(prefix="glimpse-chromium-")
        context = playwright_driver.chromium.launch_persistent_context(
            user_data,
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            locale=locale,
            viewport={"width": 412, "height": 900},
        )
        context.set_default_timeout(15_000)

        # loopback only: anything else is refused
        def only_loopback(route):
            url = route.request.url
            if url.startswith(("http://127.0.0.1", "http://localhost", "data:", "blob:")):
                route.continue_()
            else:
                route.abort()

        context.route("**/*", only_loopback)
        opened.append((context, user_data))
        return context

    yield open_context
    for context, user_data in opened:
        try:
            context.close()
        finally:
            shutil.rmtree(user_data, ignore_errors=True)


@pytest.fixture(scope="session")
def screenshot() -> Callable:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
