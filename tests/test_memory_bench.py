"""bench/memory.py's per-child readings: threads, and the memory a forked child made after its fork."""

from __future__ import annotations

import mmap
import os
import signal
import threading
import time

import pytest

from bench.memory import new_since_fork, threads

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/smaps"), reason="Linux /proc only")


def _fork(child_body) -> int:
    """Fork a child that runs child_body(), says so on a pipe and sleeps; returns its pid."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            keep = child_body()
            os.write(write_end, b"x")
            while keep is not None:
                time.sleep(1)
        finally:
            os._exit(0)
    os.close(write_end)
    assert os.read(read_end, 1) == b"x"
    os.close(read_end)
    return pid


def _stop(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def test_a_child_that_maps_and_writes_new_memory_counts_it_and_its_threads():
    size = 2 * 2**20

    def body():
        area = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE)  # anonymous, not in the parent
        area.write(b"\1" * size)  # every page written
        started = threading.Event()

        def idle() -> None:
            started.set()
            time.sleep(3600)

        threading.Thread(target=idle, daemon=True).start()
        started.wait()
        return area

    pid = _fork(body)
    try:
        assert threads(pid) == 2
        assert new_since_fork(os.getpid(), pid) >= size
        assert new_since_fork(os.getpid(), pid) < size + 2**20  # the parent's pages are not counted
    finally:
        _stop(pid)


def test_a_child_that_only_sleeps_has_little_new_memory_and_one_thread():
    pid = _fork(lambda: True)
    try:
        assert threads(pid) == 1
        assert new_since_fork(os.getpid(), pid) < 2**20
    finally:
        _stop(pid)


def test_pages_a_child_copies_from_its_parent_are_not_new_memory():
    size = 2 * 2**20
    shared = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE)
    shared.write(b"\1" * size)  # in memory in the parent before the fork

    def body():
        for offset in range(0, size, mmap.PAGESIZE):  # one byte a page: no large buffer of its own
            shared[offset] = 2  # copy-on-write: the child's own copy of each of the parent's pages
        return True

    pid = _fork(body)
    try:
        assert new_since_fork(os.getpid(), pid) < 2**20
    finally:
        _stop(pid)
        shared.close()
