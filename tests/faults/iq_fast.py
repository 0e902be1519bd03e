"""The fake IQ Option server on the cluster's shared fast clock.

    GLIMPSE_CLOCK_SPEED=15 GLIMPSE_CLOCK_ANCHOR=... python -m tests.faults.iq_fast --port 0

tests/fakes/iq_server.py reads the wall clock; the cluster's services read
market time from a fast clock. The iqoption adapter takes its time from the
server's timeSync and checks a buy against the ledger's intent time, so the
fake must tell the services' time: its `time.time` is the shared clock here.
Waits (settle delay, buy reply delay) stay in wall seconds.
"""

from __future__ import annotations

import os
import sys
import time
import types

from glimpse.runtime.clock import FastClock
from tests.fakes import iq_server


def main(argv: list[str] | None = None) -> int:
    clock = FastClock(
        float(os.environ["GLIMPSE_CLOCK_SPEED"]), anchor=float(os.environ["GLIMPSE_CLOCK_ANCHOR"])
    )
    fast_time = types.SimpleNamespace(**{k: getattr(time, k) for k in dir(time) if not k.startswith("__")})
    fast_time.time = clock.now
    iq_server.time = fast_time  # type: ignore[assignment]
    return iq_server.main(argv)


if __name__ == "__main__":
    sys.exit(main())
