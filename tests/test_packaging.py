"""Packaging: the version, the service modules' --help, and a wheel that seeds and serves.

The slow test builds the wheel, installs it into an empty virtualenv (its
dependencies come from the package index, through pip's cache) and runs the
installed `glimpse` from a directory outside the repository, so nothing can be
imported from the source tree.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import glimpse

REPO = Path(__file__).resolve().parents[1]
GLIMPSE = Path(sys.executable).with_name("glimpse")
SERVICE_MODULES = [
    "auxiliar.lister",
    "auxiliar.candles_starter",
    "auxiliar.server_assigner",
    "operational_server",
    "api.service",
]
# What the build reads: pyproject.toml, the files it names, and the packages.
BUILD_INPUTS = (
    "pyproject.toml",
    "README.md",
    "requirements.txt",
    "glimpse",
    "api",
    "auxiliar",
    "operational_server",
)
INDEX_MARKER = "glimpse-packaging-probe"


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment without any GLIMPSE_ setting or source path, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLIMPSE_") and k != "PYTHONPATH"}
    env["no_proxy"] = "127.0.0.1,localhost"
    env.update(extra)
    return env


def test_glimpse_version_prints_the_package_version():
    done = subprocess.run([str(GLIMPSE), "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"glimpse {glimpse.__version__}"


def test_the_version_is_written_once():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "version" not in project["project"]
    assert "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "glimpse.__version__"}


@pytest.fixture
def silent_mongo():
    """A loopback port that listens like a MongoDB would; it records whether anyone connected."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.setblocking(False)

        def connections() -> int:
            count = 0
            while True:
                try:
                    conn, _ = listener.accept()
                except BlockingIOError:
                    return count
                conn.close()
                count += 1

        yield f"mongodb://127.0.0.1:{listener.getsockname()[1]}/?serverSelectionTimeoutMS=500", connections


@pytest.mark.parametrize("module", SERVICE_MODULES)
def test_service_module_help_prints_usage_and_starts_nothing(module, silent_mongo):
    uri, connections = silent_mongo
    env = _clean_env(
        GLIMPSE_MONGO_URI=uri,
        GLIMPSE_SECRET_KEY="k" * 40,
        GLIMPSE_SERVICE_TOKEN="t" * 20,
        GLIMPSE_SERVERS="1",
    )
    done = subprocess.run(
        [sys.executable, "-m", module, "--help"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: python -m {module}"), done.stdout
    assert "GLIMPSE_MONGO_URI" in done.stdout
    assert connections() == 0, "--help connected to the database"


@pytest.mark.parametrize("module", ["auxiliar.lister", "operational_server"])
def test_service_module_refuses_unknown_arguments(module):
    done = subprocess.run(
        [sys.executable, "-m", module, "--no-such-option"],
        cwd=REPO,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "unrecognized arguments: --no-such-option" in done.stderr


# The wheel in an empty virtualenv ----------------------------------------------------------------


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float = 900) -> str:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{cmd} exited {done.returncode}:\n{(done.stdout + done.stderr)[-3000:]}"
    return done.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, str] | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except (urllib.error.URLError, OSError):
        return None


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A wheel of the repository installed into an empty virtualenv; returns the virtualenv's bin/."""
    root = tmp_path_factory.mktemp("wheel")
    env = _clean_env(PIP_DISABLE_PIP_VERSION_CHECK="1")
    # setuptools builds in the source folder and keeps what it finds in build/ (modules since
    # deleted included), so the wheel is built from a clean copy of what the build reads.
    source = root / "source"
    source.mkdir()
    for name in BUILD_INPUTS:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(REPO / name, source / name)
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(root / "dist"), str(source)],
        root,
        env,
    )
    wheels = sorted((root / "dist").glob("glimpse-*.whl"))
    assert len(wheels) == 1, wheels
    _run([sys.executable, "-m", "venv", str(root / "venv")], root, env)
    bin_dir = root / "venv" / "bin"
    _run([str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheels[0])], root, env)
    return bin_dir


@pytest.mark.slow
def test_the_installed_wheel_seeds_and_serves(installed: Path, tmp_path: Path):
    work = tmp_path / "elsewhere"  # outside the repository: the source tree cannot be imported from here
    work.mkdir()
    web = tmp_path / "web"
    web.mkdir()
    (web / "index.html").write_text(f"<!doctype html><title>{INDEX_MARKER}</title>")
    port = _free_port()
    env = _clean_env(
        GLIMPSE_WEB_DIST=str(web),
        GLIMPSE_API_HOST="127.0.0.1",
        GLIMPSE_API_PORT=str(port),
        GLIMPSE_SERVERS="1",
        HOME=str(tmp_path),  # gunicorn keeps a control socket under $HOME
    )

    where = _run(
        [str(installed / "python"), "-c", "import glimpse, api; print(glimpse.__file__, api.__file__)"],
        work,
        env,
    )
    assert all(Path(p).is_relative_to(installed.parent) for p in where.split()), where
    assert not any(Path(p).is_relative_to(REPO) for p in where.split()), where

    assert (
        _run([str(installed / "glimpse"), "--version"], work, env).strip() == f"glimpse {glimpse.__version__}"
    )

    seeded = _run([str(installed / "glimpse"), "seed"], work, env, timeout=120)
    total = re.search(r"^(\d+) documents inserted into database 'Glimpse'\.$", seeded, re.MULTILINE)
    assert total and int(total.group(1)) > 0, seeded
    assert re.search(r"^Accounts\s+\d+ inserted", seeded, re.MULTILINE), seeded

    log_path = tmp_path / "glimpse-up.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [str(installed / "glimpse"), "up"],
            cwd=work,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        index = None
        for _ in range(600):  # up to about 2 minutes on a loaded machine
            index = _get(base + "/")
            if index is not None or proc.poll() is not None:
                break
            time.sleep(0.2)  # polling interval, not an assertion
        assert index is not None, f"`glimpse up` did not answer on {base}:\n{log_path.read_text()[-3000:]}"
        assert index[0] == 200 and INDEX_MARKER in index[1], index
        health = _get(base + "/glimpse/health")
        assert health is not None and health[0] == 200, health
        assert json.loads(health[1])["database"] == "ok", health
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            returncode = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    assert returncode == 0, log_path.read_text()[-3000:]
