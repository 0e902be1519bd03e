"""The pool that runs every argon2 hash (glimpse/runtime/security.py, issue 12's bench/abuse.py):
its hash threads are in the kernel's idle class, and a standby at nice HASH_NICE computes a hash
that a starved hash thread does not finish, so other work that keeps the cores busy cannot keep a
login waiting. Starvation is simulated by a hash thread that blocks; nothing here is timed."""

from __future__ import annotations

import os
import threading

import pytest

from glimpse.runtime import security


def _idle_class_allowed() -> bool:
    """Whether this system lets a thread enter SCHED_IDLE (probed on a thread of its own)."""
    if not hasattr(os, "SCHED_IDLE"):
        return False
    allowed: list[bool] = []

    def probe() -> None:
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
            allowed.append(True)
        except OSError:
            allowed.append(False)

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join()
    return allowed[0]


def _where() -> tuple[str, int, int]:
    native = threading.get_native_id()
    return (
        threading.current_thread().name,
        os.sched_getscheduler(native),
        os.getpriority(os.PRIO_PROCESS, native),
    )


@pytest.mark.skipif(not _idle_class_allowed(), reason="no SCHED_IDLE here")
def test_hashes_run_in_the_idle_class_and_the_caller_keeps_its_class():
    pool = security.HashPool(1, starved_after=3600)
    name, policy, nice = pool.run(_where)
    assert name == "argon2-hash-0"
    assert policy == os.SCHED_IDLE and nice >= security.HASH_NICE
    assert os.sched_getscheduler(threading.get_native_id()) != os.SCHED_IDLE


def test_a_refused_idle_class_falls_back_to_nice(monkeypatch):
    def refused(*args):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "sched_setscheduler", refused)
    pool = security.HashPool(1, starved_after=3600)
    name, policy, nice = pool.run(_where)
    assert name == "argon2-hash-0" and policy != os.SCHED_IDLE and nice >= security.HASH_NICE
    assert pool.run(lambda: 6 * 7) == 42


def test_a_hash_a_starved_thread_does_not_finish_is_computed_by_the_standby():
    pool = security.HashPool(1, starved_after=0.05)
    starved = threading.Event()  # set: the hash thread gets the CPU again
    ran: list[str] = []

    def work(answer: str):
        def compute() -> str:
            name = threading.current_thread().name
            ran.append(name)
            if name.startswith("argon2-hash"):
                starved.wait(30)
            return answer

        return compute

    try:
        # The hash thread takes the first hash and gets no CPU: the standby computes it too and
        # answers, then takes the next hashes while the hash thread stays starved.
        assert pool.run(work("first")) == "first"
        assert pool.run(work("second")) == "second"
        assert pool.run(work("third")) == "third"
        assert ran == ["argon2-hash-0", "argon2-standby-0", "argon2-standby-0", "argon2-standby-0"]
    finally:
        starved.set()
    with pool._cond:  # the hash thread ends the first hash (its answer was given already)
        assert pool._cond.wait_for(lambda: not pool._running, timeout=30)
    # Back to the CPU, the hash thread takes the hashes again (the standby no longer needed).
    ran.clear()
    assert pool.run(work("fourth")) == "fourth"
    assert ran == ["argon2-hash-0"]


def test_an_error_reaches_the_caller_and_the_pool_goes_on():
    pool = security.HashPool(1, starved_after=3600)

    def broken() -> str:
        raise ValueError("no hash")

    with pytest.raises(ValueError, match="no hash"):
        pool.run(broken)
    assert pool.run(lambda: "still here") == "still here"


def test_the_hash_threads_take_at_most_their_number_of_hashes_at_once():
    pool = security.HashPool(2, starved_after=3600)
    lock = threading.Lock()
    release = threading.Event()
    active = [0, 0]  # now, peak

    def work() -> None:
        with lock:
            active[0] += 1
            active[1] = max(active[1], active[0])
            if active[1] == 2:
                release.set()
        release.wait(30)
        with lock:
            active[0] -= 1

    callers = [threading.Thread(target=pool.run, args=(work,)) for _ in range(8)]
    for thread in callers:
        thread.start()
    for thread in callers:
        thread.join(30)
    assert not any(thread.is_alive() for thread in callers)
    assert active == [0, 2]
