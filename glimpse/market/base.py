"""The broker interface every service trades through, and its typed errors.

Two adapters implement it: `paper` (the deterministic paper market, the
default) and `iqoption` (the IQ Option client library). Every call is
bounded in time: it returns, or raises one of the errors below, within its
timeout. Arguments that can never be valid (an unknown pair, a direction
other than call/put, a non-positive amount) raise ValueError before any
broker traffic.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from decimal import Decimal
from typing import TypedDict

from glimpse.rules.money import cents, to_decimal
from glimpse.rules.pairs import PAIRS

ACCOUNT_MODES = ("PRACTICE", "REAL")
DIRECTIONS = ("call", "put")
TURBO_MINUTES = (1, 2, 3, 4, 5)
CANDLE_SECONDS = 60


class BrokerError(Exception):
    """Base of every broker failure.

    `order_may_exist` is True when the failed request was a buy that the
    broker may still have executed (IQ Option's "buy late": the reply never
    came, or the connection dropped after the buy was sent). The caller must
    then not assume that no order was placed; see Broker.late_orders().
    """

    def __init__(self, message: str, *, order_may_exist: bool = False):
        super().__init__(message)
        self.order_may_exist = order_may_exist


class AuthError(BrokerError):
    """The broker refused the credentials."""


class Unreachable(BrokerError):
    """The broker cannot be reached, or the connection was lost."""


class BrokerTimeout(BrokerError):
    """The broker did not answer in time."""


class AssetClosed(BrokerError):
    """The pair is closed or suspended for trading."""


class Rejected(BrokerError):
    """The broker refused the request; `reason` says why (e.g. insufficient funds)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class ConnectionInUse(BrokerError):
    """This process already holds its one live connection to the broker."""


# One candle: `from` is its start (epoch seconds); o, c, h, l are quotes at the
# pair's precision. ("from" is a keyword, hence the functional form.)
Candle = TypedDict("Candle", {"from": int, "o": float, "c": float, "h": float, "l": float})


def check_pair(pair: str) -> str:
    if pair not in PAIRS:
        raise ValueError(f"unknown pair {pair!r}")
    return pair


def check_mode(mode: str) -> str:
    if mode not in ACCOUNT_MODES:
        raise ValueError(f"account mode must be PRACTICE or REAL, got {mode!r}")
    return mode


def check_order(amount, pair: str, direction: str, minutes: int) -> Decimal:
    """Validate a buy; returns the amount in cents (a Decimal)."""
    check_pair(pair)
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be 'call' or 'put', got {direction!r}")
    if isinstance(minutes, bool) or minutes not in TURBO_MINUTES:
        raise ValueError(f"minutes must be one of {TURBO_MINUTES} (turbo options), got {minutes!r}")
    value = cents(to_decimal(amount))
    if value <= 0:
        raise ValueError(f"amount must be at least 0.01, got {amount!r}")
    return value


def check_timeout(timeout: float, name: str = "timeout") -> float:
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, (int, float))
        or not math.isfinite(timeout)
        or timeout < 0
    ):
        raise ValueError(f"{name} must be a non-negative number of seconds, got {timeout!r}")
    return float(timeout)


def turbo_expiry(t: float, minutes: int = 1) -> int:
    """IQ Option's expiry for a turbo option bought at epoch second `t`.

    The next minute boundary, or the one after when 30 s or less remain
    (counted in whole seconds, as the client library counts them), then
    `minutes - 1` more minutes.
    """
    now = int(t)
    boundary = now - now % 60 + 60
    if boundary - now <= 30:
        boundary += 60
    return boundary + 60 * (minutes - 1)


class Broker(ABC):
    """A connection to one broker account."""

    @abstractmethod
    def connect(self) -> None:
        """Log in. Raises AuthError, Unreachable or BrokerTimeout."""

    @abstractmethod
    def is_connected(self) -> bool: ...

    @abstractmethod
    def change_balance(self, mode: str) -> None:
        """Trade on the PRACTICE or the REAL balance from now on."""

    @abstractmethod
    def get_balance(self) -> float:
        """The amount of the selected balance."""

    @abstractmethod
    def open_assets(self) -> dict[str, dict]:
        """{pair: {"open": bool, "payout": int percent}} for 1-minute (turbo) options."""

    @abstractmethod
    def start_stream(self, pair: str, keep: int = 15) -> None:
        """Start streaming the 60 s candles of `pair`, keeping the last `keep`."""

    @abstractmethod
    def stream_candles(self, pair: str) -> list[Candle]:
        """The streamed candles, oldest first; the last one is still forming."""

    @abstractmethod
    def stop_stream(self, pair: str) -> None: ...

    @abstractmethod
    def candles(self, pair: str, size: int, count: int, end: float | None = None) -> list[Candle]:
        """`count` candles of `size` seconds, oldest first, the last one containing `end`.

        `end` is epoch seconds, counted whole (default: now); the candle that
        contains it holds the quotes up to `end` only.
        """

    @abstractmethod
    def buy(self, amount, pair: str, direction: str, minutes: int = 1) -> int:
        """Open an option; returns its order id. Raises AssetClosed, Rejected or BrokerTimeout."""

    @abstractmethod
    def order_result(self, order_id: int, timeout: float) -> float:
        """Wait (at most `timeout` s) for the option to settle; the profit: > 0 win, < 0 loss, 0 doji."""

    @abstractmethod
    def close(self) -> None:
        """Disconnect; safe to call more than once."""

    def late_orders(self) -> list[dict]:
        """Buys that failed with order_may_exist and that the broker turned out to execute.

        Each is {"order_id", "pair", "direction", "amount"}; the caller
        reconciles them (a late order settles like any other: order_result()).
        """
        return []

    def __enter__(self) -> Broker:
        self.connect()
        return self

    def __exit__(self, *exc) -> None:
        self.close()
