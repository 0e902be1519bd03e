"""The broker interface every service trades through, and its typed errors.

Two adapters implement it: `paper` (the deterministic paper market, the
default) and `iqoption` (the IQ Option client library). Every call is
bounded in time: it returns, or raises one of the errors below, within its
timeout. Arguments that can never be valid (an unknown pair, a direction
other than call/put, a non-positive amount) raise ValueError before any
broker traffic.
"""

from __future__ import annotations

import logging
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TypedDict

from glimpse.rules.money import cents, to_decimal
from glimpse.rules.pairs import PAIRS

log = logging.getLogger(__name__)

ACCOUNT_MODES = ("PRACTICE", "REAL")
DIRECTIONS = ("call", "put")
TURBO_MINUTES = (1, 2, 3, 4, 5)
#: Binary options (IQ Option's option type 1): expiries on a 15-minute boundary.
BINARY_MINUTES = (15,)
EXPIRY_MINUTES = TURBO_MINUTES + BINARY_MINUTES
TURBO, BINARY = "turbo", "binary"
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


class Disconnected(Unreachable):
    """The connection dropped: while waiting on an order, or during a buy (then order_may_exist=True).

    Call reconnect(), then settlement() or find_order() again: the broker
    still holds the order.
    """


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


# Where a quote of a Fill or a Settlement comes from: the broker's own
# messages, our candle stream (the broker did not say), or nowhere.
QUOTE_SOURCES = ("broker", "stream", "none")
ORDER_STATES = ("open", "settled", "not_placed", "unknown")


@dataclass(frozen=True)
class Fill:
    """The broker took the order."""

    order_id: int
    open_quote: float | None  # the open quote as the broker reports it
    expires_at: float  # epoch seconds
    quote_source: str  # "broker", "stream" or "none" (where open_quote came from)


@dataclass(frozen=True)
class Settlement:
    """The broker settled the order."""

    profit: Decimal  # whole cents (rules.money.cents): > 0 win, < 0 loss, 0 doji
    close_quote: float | None
    closed_at: float  # epoch seconds: the option's close (its expiry)
    quote_source: str  # "broker", "stream" or "none" (where close_quote came from)


@dataclass(frozen=True)
class OrderLookup:
    """What the broker says about an order we may have placed (Broker.find_order)."""

    state: str  # "open" | "settled" | "not_placed" | "unknown"
    fill: Fill | None = None
    settlement: Settlement | None = None

    def __post_init__(self) -> None:
        if self.state not in ORDER_STATES:
            raise ValueError(f"state must be one of {ORDER_STATES}, got {self.state!r}")
        if self.state in ("open", "settled") and self.fill is None:
            raise ValueError(f"an {self.state} order has a fill")
        if (self.state == "settled") != (self.settlement is not None):
            raise ValueError("a settlement comes with, and only with, the settled state")


def check_client_key(client_key: str) -> str:
    if not isinstance(client_key, str) or not 1 <= len(client_key) <= 200:
        raise ValueError(f"client_key must be a string of 1 to 200 characters, got {client_key!r}")
    return client_key


# Reconnection back-off: the first pause, the cap, and the default budget (seconds).
RECONNECT_FIRST_PAUSE = 0.5
RECONNECT_MAX_PAUSE = 30.0
RECONNECT_BUDGET = 300.0


def reconnect_with_backoff(
    connect: Callable[[], None],
    what: str,
    *,
    budget: float = RECONNECT_BUDGET,
    first_pause: float = RECONNECT_FIRST_PAUSE,
    max_pause: float = RECONNECT_MAX_PAUSE,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Call `connect` until it succeeds, pausing 0.5, 1, 2, 4 ... s (capped) between tries.

    Returns the number of attempts. AuthError is raised at once (a password
    does not get better by waiting); any other BrokerError is retried until
    `budget` seconds have gone, then raised as Unreachable. It logs one line
    per state change (lost, back), not one per attempt.
    """
    start = time.monotonic()
    pause = first_pause
    attempts = 0
    log.warning("%s: connection lost, reconnecting", what)
    while True:
        attempts += 1
        try:
            connect()
        except AuthError:
            log.error("%s: the broker refused the credentials while reconnecting", what)
            raise
        except BrokerError as exc:
            remaining = budget - (time.monotonic() - start)
            if remaining <= 0:
                log.error("%s: still disconnected after %d attempts, giving up", what, attempts)
                raise Unreachable(f"{what}: could not reconnect within {budget:g} s ({exc})") from exc
            sleep(min(pause, remaining))
            pause = min(pause * 2, max_pause)
            continue
        log.warning("%s: reconnected after %d attempt(s)", what, attempts)
        return attempts


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
    if isinstance(minutes, bool) or minutes not in EXPIRY_MINUTES:
        raise ValueError(
            f"minutes must be one of {TURBO_MINUTES} (turbo) or {BINARY_MINUTES} (binary options), got {minutes!r}"
        )
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


# The client library offers binary expiries on 15-minute boundaries more than 5 minutes away.
BINARY_STEP_SECONDS = 900
BINARY_MIN_AHEAD_SECONDS = 300


def option_expiry(t: float, minutes: int = 1) -> tuple[int, str]:
    """IQ Option's expiry, and the option type ("turbo" or "binary"), for `minutes` bought at `t`.

    The client library's rule (iqoptionapi.expiration.get_expiration_time):
    the candidates are the five turbo expiries, then the 15-minute boundaries
    more than 5 minutes away; the one whose time left is closest to
    `minutes` wins (the earlier on a tie). Only a turbo candidate makes a
    turbo option. So 1-5 minutes are turbo options, and 15 minutes is a
    binary option expiring on the 15-minute boundary 7.5 to 22.5 minutes away.
    """
    now = int(t)
    first = turbo_expiry(now, 1)
    candidates = [(first + 60 * k, TURBO) for k in range(5)]
    boundary = now - now % 60
    boundary += -boundary % BINARY_STEP_SECONDS
    while boundary - now <= BINARY_MIN_AHEAD_SECONDS:
        boundary += BINARY_STEP_SECONDS
    candidates += [(boundary + BINARY_STEP_SECONDS * k, BINARY) for k in range(3)]
    return min(candidates, key=lambda c: abs(c[0] - now - 60 * minutes))


def expiry_at(t: float, minutes: int = 1) -> int:
    """The epoch second at which an option of `minutes` bought at `t` expires (IQ Option's rule)."""
    return option_expiry(t, minutes)[0]


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

    # --- orders with an idempotency key (the ledger's write-ahead) --------------------------------

    def place(
        self,
        amount,
        pair: str,
        direction: str,
        minutes: int = 1,
        *,
        client_key: str,
        sent_at: float | None = None,
    ) -> Fill:
        """Open an option like buy(), and return what the broker reported.

        `client_key` is our idempotency key, written to the ledger before the
        call; placing again with the same key returns the first order's fill
        and never places twice. `sent_at` (optional) is when the ledger wrote
        the intent: an adapter may refuse (Rejected) to send an intent so old
        that find_order() may already have declared it not placed. Any error
        after the request may have reached the broker (a timeout, a dropped
        socket) is raised with order_may_exist=True; then ask find_order().
        This default (for adapters without quotes) wraps buy().
        """
        check_client_key(client_key)
        order_id = self.buy(amount, pair, direction, minutes)
        return Fill(order_id, None, float(expiry_at(time.time(), minutes)), "none")

    def settlement(self, order_id: int, timeout: float) -> Settlement:
        """Like order_result(), with the close quote.

        Raises BrokerTimeout when the order is not settled within `timeout`,
        Disconnected when the connection dropped. This default wraps order_result().
        """
        profit = self.order_result(order_id, timeout)
        return Settlement(cents(to_decimal(profit)), None, time.time(), "none")

    def find_order(
        self,
        client_key: str,
        *,
        pair: str,
        direction: str,
        amount,
        sent_at: float,
        order_id: int | None = None,
        minutes: int = 1,
    ) -> OrderLookup:
        """Ask the broker whether it holds this order (`minutes`: its expiry, from the ledger).

        "open" (with its fill), "settled" (fill and settlement), "not_placed"
        when the broker proves it never placed it and never will, "unknown"
        when it cannot tell yet (ask again later). It never raises a
        BrokerError: a broker that cannot be asked answers "unknown".
        """
        return OrderLookup("unknown")

    def reconnect(self) -> None:
        """After a dropped connection: log in again with exponential back-off (capped)."""
        reconnect_with_backoff(self._reconnect_once, type(self).__name__)

    def _reconnect_once(self) -> None:
        self.close()
        self.connect()

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
