"""What every trading mode is to the session that runs it (strategy, signals, copy).

Its own module so that the modes (modes.py, copy_mode.py) and the session depend on it, and not
on each other in a circle.
"""

from __future__ import annotations

from typing import Any, Protocol

from glimpse.runtime.clock import Clock
from glimpse.runtime.config import Config
from glimpse.store.accounts import Account
from operational_server.cycle import CycleOutcome, Decision
from operational_server.market_view import MarketView

# (why the session ends, the alert to push), or None while it goes on.
Finished = tuple[str, dict | None]


class ModeHost(Protocol):
    """What a mode reads from the session that runs it."""

    db: Any
    clock: Clock
    config: Config
    market: MarketView
    user_id: str
    user: Account


class Mode(Protocol):
    name: str
    strategy_doc: dict | None
    # Whether the order desk's thread may decide for it at the instant (OrderDesk.arm): it decides from
    # what it reads then, and any write its decision calls for waits for after_decision().
    decides_from_the_market: bool
    # Whether its decision is a function of what it reads (the instant's market snapshot, the clock counting
    # as the instant, and what decision_stands() checks), so the desk may make it ahead of the instant on
    # reads that are checked at the instant (OrderDesk.arm).
    decides_ahead: bool

    def money_settings(self) -> dict: ...

    def market_problem(self, instant: float) -> str | None:
        """Why the market data at `instant` is too old to decide on, or None."""
        ...

    def decide(self, instant: float) -> tuple[Decision | None, Finished | None]: ...

    def decision_stands(self, instant: float) -> bool:
        """Whether what the last decide() read besides the market snapshot (ahead of the instant) is what
        a decision at the instant reads (the desk checks the snapshot itself)."""
        ...

    def after_decision(self) -> None:
        """The writes the last decide() deferred, made in the session's own thread."""
        ...

    def record(self, decision: Decision, outcome: CycleOutcome) -> None: ...

    def close(self) -> None: ...
