"""Ids that need only be unique, not secret (cycle ids, paper order ids, request ids).

They come from one generator per process, seeded from the system once and again in every
forked child (a zygote's, gunicorn's workers), instead of a system call each: the order desk
makes hundreds of them at one decision instant.
"""

from __future__ import annotations

import os
import random

_ids = random.Random()
os.register_at_fork(after_in_child=_ids.seed)


def unique_hex(bits: int) -> str:
    """A new id of `bits` random bits, as lower-case hex digits (bits / 4 of them)."""
    return f"{_ids.getrandbits(bits):0{bits // 4}x}"


def unique_int(upper: int) -> int:
    """A new id from 1 to `upper` - 1."""
    return _ids.randrange(1, upper)
