"""The zygote's code clustering (glimpse.runtime.zygote.cluster_code): behaviour is kept, the list is optional."""

from __future__ import annotations

import dataclasses
import functools
import os
import subprocess
import sys
import sysconfig
from functools import partial
from pathlib import Path
from types import CodeType, FunctionType

from glimpse.runtime import zygote
from glimpse.runtime.zygote_hot_code import HOT_CODE

ROOT = Path(__file__).resolve().parent.parent


def _counter(start: int):
    count = start

    def step(by: int = 1) -> int:
        nonlocal count
        count += by
        return count

    return step


def _squares(n: int):
    for i in range(n):
        yield i * i


def _decorated(function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        return ("wrapped", function(*args, **kwargs))

    return wrapper


@_decorated
def _doubled(x: int, *, extra: int = 0) -> int:
    return 2 * x + extra


class _Base:
    def greet(self) -> str:
        return "base"


class _Shape(_Base):
    sides = 4

    def __init__(self, size: int):
        self.size = size

    def area(self) -> int:
        return self.size * self.size

    def greet(self) -> str:
        return f"shape<{super().greet()}>"  # zero-argument super(): the __class__ cell

    @staticmethod
    def unit() -> str:
        return "cm"

    @classmethod
    def square(cls, size: int) -> _Shape:
        return cls(size)

    @property
    def perimeter(self) -> int:
        return self.sides * self.size


@dataclasses.dataclass(frozen=True)
class _Point:
    x: int
    y: int = 0

    def moved(self, dx: int) -> _Point:
        return dataclasses.replace(self, x=self.x + dx)


def _behaviour(step) -> list[object]:
    shape = _Shape.square(3)
    return [
        step(),
        step(5),
        list(_squares(4)),
        _doubled(4, extra=1),
        shape.area(),
        shape.greet(),
        _Shape.unit(),
        shape.perimeter,
        _Point(1).moved(2),
        hash(_Point(1, 2)) == hash(_Point(1, 2)),
        sorted((lambda *xs: xs)(3, 1, 2)),
        [len(s) for s in ("a", "bb")],
    ]


def _ours(code: CodeType) -> bool:
    return code.co_filename == __file__


def _functions_here() -> list[FunctionType]:
    import gc

    return [f for f in gc.get_objects() if type(f) is FunctionType and _ours(f.__code__)]


def test_clustered_code_equals_the_old_and_every_function_method_and_closure_behaves_the_same():
    before_step, after_step = _counter(10), _counter(10)
    expected = _behaviour(before_step)
    running = _squares(3)
    assert next(running) == 0  # a generator alive across the clustering keeps its frame and code
    functions = _functions_here()
    old = {id(f): f.__code__ for f in functions}
    assert len(functions) >= 15  # the methods, the property, the wrapped function, the closure above

    clustered = zygote.cluster_code(_ours)

    assert clustered == len(functions)
    for f in functions:
        assert f.__code__ is not old[id(f)], f.__qualname__
        assert f.__code__ == old[id(f)], f.__qualname__  # equal by value: bytecode, consts, names, lines
        assert f.__code__.co_qualname == old[id(f)].co_qualname
        assert f.__code__.co_firstlineno == old[id(f)].co_firstlineno
    assert _behaviour(after_step) == expected
    assert list(running) == [1, 4]
    # A closure made now comes from the copied enclosing code: it shares the copy of its code with
    # the closures made before (one nested copy per code object).
    assert _counter(0).__code__ is before_step.__code__
    assert _counter.__code__.co_consts.count(before_step.__code__) == 1
    assert _doubled.__wrapped__.__code__.co_name == "_doubled"


def test_a_selection_that_picks_nothing_changes_nothing():
    functions = _functions_here()
    old = {id(f): f.__code__ for f in functions}
    assert zygote.cluster_code(lambda code: False) == 0
    assert all(f.__code__ is old[id(f)] for f in functions)


def test_a_function_picked_by_two_selections_is_copied_once():
    def area(code: CodeType) -> bool:
        return code.co_name == "area"

    functions = _functions_here()
    assert any(f.__code__.co_name == "area" for f in functions)
    assert zygote.cluster_code(area, _ours) == len(functions)


def test_code_key_is_the_file_from_its_import_root_and_the_qualified_name():
    stdlib = sysconfig.get_paths()["stdlib"]
    assert (
        zygote.code_key(f"{stdlib}/http/cookiejar.py", "CookieJar.add") == "http/cookiejar.py:CookieJar.add"
    )
    assert zygote.code_key("/usr/lib/python3/dist-packages/a/b.py", "f") == "a/b.py:f"
    assert (
        zygote.code_key("/x/.venv/lib/python3.11/site-packages/pymongo/pool.py", "P.c")
        == "pymongo/pool.py:P.c"
    )
    assert zygote.code_key(str(ROOT / "glimpse" / "runtime" / "zygote.py"), "Zygote.run") == (
        "glimpse/runtime/zygote.py:Zygote.run"
    )
    assert (
        zygote.code_key("<string>", "__create_fn__.<locals>.__init__")
        == "<string>:__create_fn__.<locals>.__init__"
    )


def test_the_shipped_list_names_relative_files_only():
    assert HOT_CODE
    for name in HOT_CODE:
        where, _, qualname = name.partition(":")
        assert where and qualname, name
        assert not where.startswith("/"), name  # machine-independent: no checkout, venv or image path


# The list is only an optimisation: a stale one (names gone, functions renamed) clusters less and
# must break nothing. The run below preloads an operational server's imports as a zygote's parent
# does, clusters with the shipped list plus names that exist nowhere, and uses what it clustered.
_PRELOAD_AND_CLUSTER = """
import json, sys
import operational_server.service as service
service.preload("iqoption")
from glimpse.runtime import zygote
from glimpse.runtime.zygote_hot_code import HOT_CODE
stale = HOT_CODE | {"glimpse/gone.py:nothing", "pymongo/gone.py:Gone.method"}
found = set()
def select(code):
    key = zygote.code_key(code.co_filename, code.co_qualname)
    if key in stale:
        found.add(key)
        return True
    return False
clustered = zygote.cluster_code(select)
# Code of the clustered libraries, run after the clustering:
import bson
assert bson.decode(bson.encode({"a": 1, "b": [1, 2]})) == {"a": 1, "b": [1, 2]}
import urllib.parse, http.cookiejar
assert urllib.parse.urlsplit("https://x.test/a?b=1").query == "b=1"
print(json.dumps({"clustered": clustered, "found": len(found), "listed": len(HOT_CODE)}))
"""


def test_a_stale_list_breaks_nothing_and_the_shipped_one_still_names_the_code_a_server_imports():
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLIMPSE_")}
    done = subprocess.run(
        [sys.executable, "-c", _PRELOAD_AND_CLUSTER],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    import json

    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["clustered"] >= report["found"] > 0
    # Half the names gone means the list is stale: regenerate it with bench/zygote_hot_code.py.
    assert report["found"] >= report["listed"] // 2, report


def test_the_shipped_list_is_what_the_regenerating_tool_writes():
    from bench.zygote_hot_code import TARGET, render

    assert (
        render(set(HOT_CODE) | {"?:?"}) == TARGET.read_text()
    )  # a name memory_cow could not read is left out


# A zygote's parent clusters before it forks: its children run the copied code; a failing selection
# is logged and the children are forked all the same.
TOY = """
import json, os, sys, time
from glimpse.runtime.zygote import Zygote

def work(x):
    return [x * i for i in range(3)]

original = work.__code__
out, mode = sys.argv[1], sys.argv[2]

def select(code):
    if mode == "fail":
        raise RuntimeError("selection failed")
    return code.co_name == "work"

def child(name):
    with open(os.path.join(out, name), "w") as f:
        json.dump({"copied": work.__code__ is not original, "equal": work.__code__ == original, "result": work(2)}, f)
    while True:
        time.sleep(0.1)

sys.exit(Zygote(["a"], child, hot_code=select, stop_timeout=10).run())
"""


def _written(path: Path) -> bool:
    return path.exists() and path.read_text().endswith("}")


def test_a_zygote_s_children_run_the_copied_code_and_a_failing_selection_stops_nothing(tmp_path):
    import json
    import signal

    from tests.faults.harness import wait_for

    script = tmp_path / "toy.py"
    script.write_text(TOY)
    for mode, copied in (("select", True), ("fail", False)):
        out = tmp_path / mode
        out.mkdir()
        with open(tmp_path / f"{mode}.log", "w") as log:
            parent = subprocess.Popen([sys.executable, str(script), str(out), mode], cwd=ROOT, stderr=log)
        try:
            wait_for(partial(_written, out / "a"), 30, "the child")
            seen = json.loads((out / "a").read_text())
            assert seen == {"copied": copied, "equal": True, "result": [0, 2, 4]}, mode
            parent.send_signal(signal.SIGTERM)
            assert parent.wait(30) == 0
        finally:
            if parent.poll() is None:
                parent.kill()
                parent.wait(10)
    assert "copying the children's code side by side failed" in (tmp_path / "fail.log").read_text()
