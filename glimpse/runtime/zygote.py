"""A pre-fork parent ("zygote"): import everything once, then fork one child per slot.

The IQ Option client library keeps its session in module globals, so a
process holds one broker connection: an IQ Option user costs a whole Python
process. Forked from a parent that has already imported the service's code,
the library, pydantic, pymongo and numpy, the children share those pages
with the parent copy-on-write, and each user costs only what its own
process writes.

What the parent does, in order:
1. `prepare()` (load the configuration; any database client it opens must be
   gone before the first fork: pymongo clients are not fork-safe, and a thread
   alive at fork time may hold a lock the child then never sees released);
2. `gc.disable()`, then `preload()` (imports and warm-ups, no threads, no sockets), then
   `assign_type_versions()` (a write each child would otherwise make to every class it uses);
3. `gc.freeze()` before each fork, so the collector in a child never writes
   to the headers of the parent's objects (which would unshare their pages).

Each child, right after the fork: default signal handlers, a SIGTERM when the
parent dies (Linux), the collector back on, the `after_fork` hooks (the
broker library's globals, fresh random state), then `child(name)`; it opens
its own database client. Its return value is the exit code, and it leaves
with os._exit (the parent's atexit handlers and buffers are not its own).

A child that exits on its own is forked again after a back-off that doubles
from `backoff` to `max_backoff`, starting afresh once a child has run for
`healthy_after` seconds. SIGTERM or SIGINT to the parent sends SIGTERM to
every child, waits up to `stop_timeout` seconds for them (a server lets its
order in flight settle), kills what is left, and returns 0.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import logging
import os
import random
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from types import CodeType, FunctionType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from glimpse.runtime.config import Config

log = logging.getLogger(__name__)

POLL_SECONDS = 0.2  # between looks at the children (waitpid) in the parent
THREADS_GONE_SECONDS = 5.0  # how long the parent waits for prepare()'s threads to end before forking
_PR_SET_PDEATHSIG = 1


@dataclass
class Slot:
    """One child's place: its name, its current process and its restart schedule."""

    name: str
    pid: int | None = None
    started_at: float = 0.0  # time.monotonic() of the current child's fork
    restarts: int = 0
    backoff: float = 0.0  # the next back-off (0: the first death waits `Zygote.backoff`)
    restart_at: float | None = None  # time.monotonic() at which a dead child is forked again
    exits: list[int] = field(default_factory=list)  # exit codes seen (negative: killed by that signal)


def _exit_code(status: int) -> int:
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    return os.WEXITSTATUS(status) if os.WIFEXITED(status) else status


def _die_with_parent(parent: int) -> None:
    """Ask Linux for a SIGTERM when the parent ends, so an orphan never keeps serving a user."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        return  # not Linux: a child outlives a killed parent
    if os.getppid() != parent:  # the parent died before the prctl
        os.kill(os.getpid(), signal.SIGTERM)


def reseed_random() -> None:
    """Fresh random state in a child (random does it at fork itself; numpy's global state does not)."""
    random.seed()
    numpy_random = sys.modules.get("numpy.random")  # loaded lazily: importing it here would cost each child
    if numpy_random is not None:
        numpy_random.seed()


def assign_type_versions() -> int:
    """Give every class its interpreter version tag now, in the parent; returns how many classes were seen.

    CPython 3.11 tags a class lazily, the first time an attribute is looked up through the method
    cache; the adaptive interpreter needs the tag to specialise attribute access. A tag written in a
    child copies the page that holds the class (classes live in the parent's heap); written here, the
    children share it. A lookup through `type.__getattribute__` assigns the tags of the class and of
    its bases, and runs no code of the class's own (no metaclass __getattr__, no descriptor).
    """
    probe = "__glimpse_zygote_version_probe__"
    seen = 0
    for obj in gc.get_objects():
        # type(obj), not isinstance(): isinstance reads obj.__class__, code of its own on a proxy.
        if issubclass(type(obj), type):
            seen += 1
            try:
                type.__getattribute__(obj, probe)
            except Exception:  # noqa: BLE001 - AttributeError as a rule; a tag is only a saving
                pass
    return seen


_replaced_code: list[CodeType] = []  # the code objects cluster_code() replaced, kept alive: see there


def cluster_code(*selects: Callable[[CodeType], bool]) -> int:
    """Give every function whose code `select` picks a copy of its code allocated among the others; returns how many.

    CPython 3.11 writes to a code object each time it runs it (a frame takes a reference to its
    code, and the adaptive interpreter counts down its warm-up and rewrites its bytecode in place),
    so a child copies every page that holds a code object it runs. At import, code objects are
    allocated among the strings, dicts and functions of their module, about one a page. Copied in
    one burst, after every import, they lie side by side, and the code a child runs fills fewer
    pages. The copy equals the original (same bytecode, constants, names, line table); nested code
    objects (in co_consts, for closures made later) are copied too, each once, so a closure made
    before and one made after share one code. The originals stay referenced: freed, they would leave
    holes in the parent's pages that a child's new objects would fill, which copies those pages.
    Generators and frames alive keep their code. Builtins have no __code__ and are never touched.
    """
    every = [obj for obj in gc.get_objects() if type(obj) is FunctionType]
    functions: list[FunctionType] = []
    chosen: set[int] = set()
    for select in selects:  # the first selection's code first, so it lies densest
        for function in every:
            if id(function) not in chosen and select(function.__code__):
                chosen.add(id(function))
                functions.append(function)
    order: list[CodeType] = []  # children before parents, each once
    seen: set[int] = set()

    def visit(code: CodeType) -> None:
        if id(code) in seen:
            return
        seen.add(id(code))
        for const in code.co_consts:
            if type(const) is CodeType:
                visit(const)
        order.append(code)

    for function in functions:
        visit(function.__code__)
    for code in order:
        code.co_code  # noqa: B018 - replace() builds (and caches) these bytes: before the burst, not in it
    copies: dict[int, CodeType] = {}
    for code in order:
        if any(type(const) is CodeType for const in code.co_consts):
            consts = tuple(copies[id(c)] if type(c) is CodeType else c for c in code.co_consts)
            copies[id(code)] = code.replace(co_consts=consts)
        else:
            copies[id(code)] = code.replace()
    for function in functions:
        function.__code__ = copies[id(function.__code__)]
    _replaced_code.extend(order)
    return len(functions)


def code_key(filename: str, qualname: str) -> str:
    """'<file from its import root>:<qualname>', e.g. 'pymongo/synchronous/pool.py:Pool.checkout'.

    The same in a checkout and in an installed wheel, in a virtualenv and in the image.
    """
    for marker in ("/site-packages/", "/dist-packages/"):
        if marker in filename:
            return f"{filename.rsplit(marker, 1)[1]}:{qualname}"
    for root in _import_roots():
        if filename.startswith(root):
            return f"{filename[len(root) :]}:{qualname}"
    return f"{filename}:{qualname}"


@functools.cache
def _import_roots() -> tuple[str, ...]:
    import sysconfig

    project = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return tuple(os.path.join(path, "") for path in (project, sysconfig.get_paths()["stdlib"]))


def _hot_code(code: CodeType) -> bool:
    """The code an operational server's child runs (glimpse/runtime/zygote_hot_code.py, by code_key)."""
    from glimpse.runtime.zygote_hot_code import HOT_CODE

    return code_key(code.co_filename, code.co_qualname) in HOT_CODE


def wait_single_threaded(seconds: float = THREADS_GONE_SECONDS) -> bool:
    """Wait until only the calling thread runs (collecting garbage that holds threads); False on timeout."""
    deadline = time.monotonic() + seconds
    while threading.active_count() > 1:
        gc.collect()
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


class Zygote:
    def __init__(
        self,
        names: Sequence[str],
        child: Callable[[str], int],
        *,
        preload: Callable[[], None] | None = None,
        after_fork: Iterable[Callable[[], None]] = (),
        backoff: float = 1.0,
        max_backoff: float = 30.0,
        healthy_after: float = 60.0,
        stop_timeout: float = 80.0,
        hot_code: Callable[[CodeType], bool] | None = _hot_code,
    ):
        if not names:
            raise ValueError("a zygote needs at least one child")
        if len(set(names)) != len(names):
            raise ValueError("child names must be unique")
        self.slots = [Slot(name) for name in names]
        self.child = child
        self.preload = preload
        self.after_fork = [reseed_random, *after_fork]
        self.backoff, self.max_backoff = backoff, max_backoff
        self.healthy_after, self.stop_timeout = healthy_after, stop_timeout
        self.hot_code = hot_code  # the code the children run, copied side by side (None: left as it is)
        self._stopping = False
        self._parent = os.getpid()

    # --- the parent -----------------------------------------------------------------------------

    def run(self) -> int:
        """Preload, fork every child, keep them running until SIGTERM/SIGINT; then stop them. Returns 0."""
        previous = {sig: signal.signal(sig, self._on_stop_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            if not wait_single_threaded():
                log.warning(
                    "zygote: %d thread(s) still run before the first fork (%s); children inherit none of them",
                    threading.active_count() - 1,
                    ", ".join(t.name for t in threading.enumerate() if t is not threading.current_thread()),
                )
            gc.disable()  # from here no collection leaves holes in pages the children share
            if self.preload is not None:
                self.preload()
            if threading.active_count() > 1:
                log.warning("zygote: preload started threads; the children will not have them")
            assign_type_versions()  # after every import: the last writes to the classes the children share
            if self.hot_code is not None:
                try:  # after every import, like the version tags
                    clustered = cluster_code(self.hot_code)
                    log.info("zygote: the code of %d functions copied side by side", clustered)
                except (
                    Exception
                ):  # an optimisation: what was copied equals the original, the rest is as it was
                    log.exception("zygote: copying the children's code side by side failed; forking as it is")
            self._parent = os.getpid()
            log.info("zygote %d: preloaded; forking %d children", self._parent, len(self.slots))
            for slot in self.slots:
                if self._stopping:
                    break
                self._fork(slot, announce=False)
            # Announced once all are forked: a page the parent writes between two forks is one more
            # copy (the children before keep the old one), and a log record writes many pages.
            for slot in self.slots:
                if slot.pid is not None:
                    log.info("zygote: child %s started (pid %d)", slot.name, slot.pid)
            while not self._stopping:
                self._reap()
                self._restart_due()
                time.sleep(POLL_SECONDS)
            return 0
        finally:
            self._stopping = True
            self._stop_children()  # also when the parent fails: no child outlives it unsupervised
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def pids(self) -> dict[str, int]:
        return {slot.name: slot.pid for slot in self.slots if slot.pid is not None}

    def _on_stop_signal(self, signum: int, frame: object) -> None:
        self._stopping = True

    def _fork(self, slot: Slot, *, announce: bool = True) -> None:
        gc.freeze()  # the parent's objects move to the permanent generation: no child collection writes them
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            pid = os.fork()
        except OSError as exc:  # out of processes or memory: try again later, as after a death
            log.error("zygote: cannot fork child %s: %s", slot.name, exc)
            slot.started_at = time.monotonic()
            self._died(slot, 1)
            return
        if pid == 0:
            self._in_child(slot.name)  # never returns
        slot.pid, slot.started_at, slot.restart_at = pid, time.monotonic(), None
        if announce:
            log.info("zygote: child %s started (pid %d)", slot.name, pid)

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            slot = next((s for s in self.slots if s.pid == pid), None)
            if slot is None:
                continue
            self._died(slot, _exit_code(status))

    def _died(self, slot: Slot, code: int) -> None:
        slot.pid = None
        slot.exits.append(code)
        if self._stopping:
            return
        now = time.monotonic()
        if now - slot.started_at >= self.healthy_after:
            slot.backoff = 0.0  # it ran well for a while: this death starts a fresh back-off
        delay = slot.backoff or self.backoff
        slot.backoff = min(delay * 2, self.max_backoff)
        slot.restart_at = now + delay
        how = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
        log.error("zygote: child %s died (%s); forking it again in %.1f s", slot.name, how, delay)

    def _restart_due(self) -> None:
        now = time.monotonic()
        for slot in self.slots:
            if slot.pid is None and slot.restart_at is not None and now >= slot.restart_at:
                slot.restarts += 1
                self._fork(slot)

    def _stop_children(self) -> None:
        live = [slot for slot in self.slots if slot.pid is not None]
        log.info("zygote: stopping %d children", len(live))
        for slot in live:
            self._signal(slot, signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        while any(slot.pid is not None for slot in self.slots) and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.05)
        for slot in self.slots:
            if slot.pid is not None:
                log.error("zygote: child %s did not stop within %.0f s: killed", slot.name, self.stop_timeout)
                self._signal(slot, signal.SIGKILL)
                try:
                    os.waitpid(slot.pid, 0)
                except ChildProcessError:
                    pass
                slot.pid = None

    @staticmethod
    def _signal(slot: Slot, sig: int) -> None:
        assert slot.pid is not None
        try:
            os.kill(slot.pid, sig)
        except ProcessLookupError:
            pass

    # --- the child ------------------------------------------------------------------------------

    def _in_child(self, name: str) -> None:
        code = 1
        try:
            for sig in (signal.SIGTERM, signal.SIGCHLD):
                signal.signal(sig, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            if self._stopping:  # a SIGTERM for this child reached it before its handlers were reset
                raise SystemExit(0)
            _die_with_parent(self._parent)
            gc.enable()
            for hook in self.after_fork:
                hook()
            log.info("zygote child %s running (pid %d)", name, os.getpid())
            code = int(self.child(name) or 0)
        except KeyboardInterrupt:
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            log.exception("zygote child %s failed", name)
            code = 1
        finally:
            logging.shutdown()
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except Exception:  # noqa: BLE001 - nothing left to report to
                    pass
            os._exit(code)


def run_standalone(
    name: str,
    names: Sequence[str],
    start: Callable[[Config], Callable[[str], int]],
    *,
    preload: Callable[[Config], None] | None = None,
    after_fork: Iterable[Callable[[], None]] = (),
    argv: Sequence[str] | None = None,
    **options: Any,
) -> int:
    """`python -m <service> --zygote N`: the checks of any standalone service, then a zygote.

    The configuration is read and checked as `glimpse.runtime.services.run_standalone` does (the
    command line `argv`, default sys.argv[1:]; a caller that parsed its own passes []; `--help` exits
    before anything starts). A bad configuration, or one that names no real MongoDB, is a message and
    exit code 2, before anything is imported or forked. Then, in the parent: `start(config)` (what every
    child would otherwise do at its start, once: e.g. the database's indexes) returns the child's
    function, `preload(config)` imports what the children use, and `Zygote(names, child, ...)` forks
    them. `options` are the Zygote's (backoff, max_backoff, healthy_after, stop_timeout).
    """
    # The one reader of the standalone configuration's checks, in this package (services.py).
    from glimpse.runtime.services import standalone_config

    config = standalone_config(name, argv)
    if config is None:
        return 2
    child = start(config)
    warm = None if preload is None else (lambda: preload(config))
    return Zygote(names, child, preload=warm, after_fork=after_fork, **options).run()
