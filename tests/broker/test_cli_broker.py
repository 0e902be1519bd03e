"""`glimpse broker check`: the checkIq answer, for operators, with both adapters."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.broker.conftest import ROOT


def glimpse(*args: str, env: dict, stdin: str | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GLIMPSE_")}
    environment.update({"GLIMPSE_SECRET_KEY": "cli-test-secret-key-" + "x" * 32, **env})
    return subprocess.run(
        [sys.executable, "-m", "glimpse.cli.main", *args],
        cwd=ROOT,
        env=environment,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_paper_check_prints_the_check_iq_json():
    done = glimpse(
        "broker", "check", "--email", "op@example.com", "--password", "pw-1", env={"GLIMPSE_BROKER": "paper"}
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "res": 1,
        "account": "op@example.com",
        "treinamento": 10000.0,
        "real": 0.0,
    }


def test_iqoption_check_against_the_fake_server(fake):
    env = {
        "GLIMPSE_BROKER": "iqoption",
        "GLIMPSE_IQ_HTTP_BASE": fake.url,
        "GLIMPSE_IQ_WS_URL": fake.url.replace("http://", "ws://") + "/echo/websocket",
    }
    done = glimpse(
        "broker", "check", "--email", "op@example.com", "--password-stdin", env=env, stdin="fake-password\n"
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "res": 1,
        "account": "op@example.com",
        "treinamento": 10000.0,
        "real": 0.0,
    }
    refused = glimpse("broker", "check", "--email", "op@example.com", "--password", "nope", env=env)
    assert refused.returncode == 1
    answer = json.loads(refused.stdout)
    assert answer["error"] == "AuthError" and "credentials" in answer["res"]
    assert "nope" not in refused.stdout + refused.stderr


def test_bad_arguments_exit_2():
    empty = glimpse("broker", "check", "--email", "op@example.com", "--password-stdin", env={}, stdin="\n")
    assert empty.returncode == 2 and "--password" in empty.stderr
    missing = glimpse("broker", "check", "--password", "x", env={})
    assert missing.returncode == 2 and "--email" in missing.stderr
