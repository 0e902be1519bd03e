"""Python's cyclic garbage collector, held off while a decision instant's orders go out.

A process serving hundreds of sessions on the embedded store holds millions of
objects, and a full collection of them took 75-150 ms. Started by whatever
thread happened to allocate at the time, one landed inside an instant's batch
of orders and delayed every order behind it by that much. Held off for the
instant (under a second of allocations), the collections the process owes run
right after it instead: nothing is leaked, only moved out of the instant.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_was_enabled = False  # whether the collector ran automatically before the first holder


@contextmanager
def held_off() -> Iterator[None]:
    """No automatic collection while any thread is inside; the collector as it was once the last leaves."""
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()
