"""The zygote's public entry point (`glimpse.runtime.zygote.run_standalone`), the operational
server's `--zygote` on it, and the class version tags the parent assigns before forking.

The entry point runs in a subprocess of its own: it configures logging, installs signal handlers
and forks, none of which belongs in the test runner's process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from glimpse.runtime import zygote
from tests.fakes.mongo_server import MongoServer
from tests.faults.harness import ROOT, wait_for
from tests.test_zygote import alive, children_of

SCRIPT = textwrap.dedent(
    """
    import json, os, sys, time
    from glimpse.runtime import zygote

    out = sys.argv[1]

    def note(kind, **fields):
        path = os.path.join(out, f"{kind}.{os.getpid()}")
        with open(path + ".part", "w") as f:
            json.dump(fields, f)
        os.replace(path + ".part", path)  # whole, or not there yet

    def start(config):
        note("start", db=config.db_name, uri=config.mongo_uri.get_secret_value())

        def child(name):
            note(name, parent=os.getppid(), db=config.db_name)
            while True:
                time.sleep(0.1)

        return child

    sys.exit(zygote.run_standalone(
        "toy", ["a", "b"], start, preload=lambda config: note("preload", db=config.db_name),
        argv=[], backoff=0.2, stop_timeout=10,
    ))
    """
)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLIMPSE_")}
    env.update(
        GLIMPSE_SECRET_KEY="zygote-test-secret-key-" + "x" * 32,
        GLIMPSE_SERVICE_TOKEN="zygote-test-service-token",
        GLIMPSE_LOG_FORMAT="text",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def _notes(tmp_path: Path) -> dict[str, list[tuple[int, str]]]:
    found: dict[str, list[tuple[int, str]]] = {}
    for path in tmp_path.iterdir():
        kind, _, pid = path.name.partition(".")
        if pid.isdigit():
            found.setdefault(kind, []).append((int(pid), path.read_text()))
    return found


def _run(tmp_path: Path, env: dict[str, str]) -> subprocess.Popen:
    script = tmp_path / "toy.py"
    script.write_text(SCRIPT)
    notes = tmp_path / "notes"
    notes.mkdir()
    log = open(tmp_path / "toy.log", "w")  # noqa: SIM115 - the child process writes it until it ends
    return subprocess.Popen([sys.executable, str(script), str(notes)], cwd=ROOT, env=env, stderr=log)


def test_an_embedded_configuration_is_refused_before_anything_starts_or_forks(tmp_path):
    process = _run(tmp_path, _env())  # no GLIMPSE_MONGO_URI: the embedded database
    assert process.wait(60) == 2
    assert "set GLIMPSE_MONGO_URI" in (tmp_path / "toy.log").read_text()
    assert _notes(tmp_path / "notes") == {}  # neither start() nor preload() nor a child ran


def test_the_parent_reads_the_configuration_and_starts_once_and_its_children_share_it(tmp_path):
    with MongoServer() as server:
        process = _run(tmp_path, _env(GLIMPSE_MONGO_URI=server.uri, GLIMPSE_DB="ZygoteEntry"))
        notes = tmp_path / "notes"
        try:
            seen = wait_for(
                lambda: process.poll() is not None or ({"a", "b"} <= set(_notes(notes)) and _notes(notes)),
                60,
                "two children",
            )
            assert process.poll() is None, (tmp_path / "toy.log").read_text()
            # start() and preload() ran once, in the parent, with the configuration it read.
            assert [pid for pid, _ in seen["start"]] == [process.pid]
            assert '"db": "ZygoteEntry"' in seen["start"][0][1] and server.uri in seen["start"][0][1]
            assert [pid for pid, _ in seen["preload"]] == [process.pid]
            children = {pid for name in ("a", "b") for pid, _ in seen[name]}
            assert children_of(process.pid) == children
            for name in ("a", "b"):
                (text,) = [text for _, text in seen[name]]
                assert f'"parent": {process.pid}' in text and '"db": "ZygoteEntry"' in text
            process.send_signal(signal.SIGTERM)
            assert process.wait(30) == 0
            assert not any(alive(pid) for pid in children)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(10)


def test_operational_server_zygote_refuses_an_embedded_configuration():
    result = subprocess.run(
        [sys.executable, "-m", "operational_server", "--zygote", "2"],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "operational_server: set GLIMPSE_MONGO_URI" in result.stderr
    assert "forking" not in result.stderr


@pytest.mark.parametrize("count", [0, 501])
def test_operational_server_zygote_counts_from_1_to_500(count):
    from operational_server.__main__ import main

    assert main(["--zygote", str(count)]) == 2


def test_assigning_class_version_tags_runs_no_code_of_the_classes():
    called: list[str] = []

    class Lazy(type):
        # A metaclass that would import or compute on a missing attribute: never reached.
        def __getattr__(cls, name):
            called.append(name)
            raise AttributeError(name)

    class Loud(metaclass=Lazy):
        pass

    class Guarded(type):
        def __getattribute__(cls, name):
            called.append(name)
            raise RuntimeError("no attribute of this class may be read")

    class Quiet(metaclass=Guarded):
        pass

    seen = zygote.assign_type_versions()
    assert seen > 100  # every class of the process, these two among them
    assert called == []
    assert Loud.__name__ == "Loud" and type.__getattribute__(Quiet, "__name__") == "Quiet"


def test_assigning_class_version_tags_reads_no_attribute_of_other_objects():
    import weakref

    class Target:
        pass

    target = Target()
    proxy = weakref.proxy(target)
    del target  # a dead proxy raises ReferenceError on any attribute read, __class__ included
    holder = [proxy]
    assert zygote.assign_type_versions() > 100
    assert len(holder) == 1
