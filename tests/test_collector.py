"""The garbage collector held off around a decision instant (glimpse.runtime.collector)."""

from __future__ import annotations

import gc
import threading

from glimpse.runtime import collector


def test_held_off_while_any_holder_is_inside_and_restored_after_the_last():
    assert gc.isenabled()
    outer_ready, inner_left = threading.Event(), threading.Event()
    seen: list[bool] = []

    def other_holder() -> None:
        with collector.held_off():
            outer_ready.set()
            inner_left.wait(10)
            seen.append(gc.isenabled())  # the first holder has left; this one is still inside

    thread = threading.Thread(target=other_holder)
    with collector.held_off():
        seen.append(gc.isenabled())
        thread.start()
        assert outer_ready.wait(10)
    inner_left.set()
    thread.join(10)
    assert seen == [False, False]
    assert gc.isenabled()


def test_a_collector_switched_off_before_stays_off():
    gc.disable()
    try:
        with collector.held_off():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_restored_when_the_holder_raises():
    try:
        with collector.held_off():
            raise ValueError("a batch failed")
    except ValueError:
        pass
    assert gc.isenabled()
