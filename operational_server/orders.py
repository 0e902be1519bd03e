"""The broker calls of the money path: place, settlement, find_order, reconnect.

They speak the broker interface of glimpse.market.base (Fill, Settlement,
OrderLookup). A broker that predates it (buy / order_result / late_orders
only) is driven through the same calls here, so the cycle has one shape:
its open quote is then the candle stream's last close, marked "stream".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from glimpse.market import Broker, BrokerError, Unreachable
from glimpse.market.base import turbo_expiry
from glimpse.rules.money import cents, to_decimal
from glimpse.runtime.clock import Clock

log = logging.getLogger(__name__)

try:  # the interface the broker adapters grow into
    from glimpse.market.base import Disconnected, Fill, OrderLookup, Settlement  # type: ignore[attr-defined, unused-ignore]
except ImportError:  # pragma: no cover - until glimpse.market.base has them

    @dataclass(frozen=True)
    class Fill:  # type: ignore[no-redef, unused-ignore]
        order_id: int
        open_quote: float | None
        expires_at: float
        quote_source: str

    @dataclass(frozen=True)
    class Settlement:  # type: ignore[no-redef, unused-ignore]
        profit: Decimal
        close_quote: float | None
        closed_at: float
        quote_source: str

    @dataclass(frozen=True)
    class OrderLookup:  # type: ignore[no-redef, unused-ignore]
        state: str
        fill: Fill | None = None
        settlement: Settlement | None = None

    class Disconnected(Unreachable):  # type: ignore[no-redef, unused-ignore]
        """The broker's socket dropped."""


__all__ = [
    "Disconnected",
    "Fill",
    "OrderLookup",
    "Settlement",
    "place",
    "settlement",
    "find_order",
    "reconnect",
]


def may_have_executed(exc: BaseException) -> bool:
    """Whether a failed buy may still have been executed by the broker."""
    return bool(getattr(exc, "order_may_exist", False)) or isinstance(exc, Disconnected)


def place(
    broker: Broker,
    clock: Clock,
    amount: Decimal,
    pair: str,
    direction: str,
    *,
    client_key: str,
    sent_at: float,
    candles: list[dict[str, Any]],
) -> Fill:
    new = getattr(broker, "place", None)
    if new is not None:
        fill: Fill = new(amount, pair, direction, 1, client_key=client_key, sent_at=sent_at)
        return fill
    order_id = broker.buy(amount, pair, direction, 1)
    quote = float(candles[-1]["c"]) if candles else None
    return Fill(order_id, quote, float(turbo_expiry(clock.now(), 1)), "stream")


def settlement(broker: Broker, clock: Clock, order_id: int, timeout: float) -> Settlement:
    new = getattr(broker, "settlement", None)
    if new is not None:
        result: Settlement = new(order_id, timeout)
        return result
    profit = cents(to_decimal(broker.order_result(order_id, timeout=timeout)))
    return Settlement(profit, None, clock.now(), "stream")


def find_order(
    broker: Broker,
    client_key: str,
    *,
    pair: str,
    direction: str,
    amount: Decimal,
    sent_at: float,
    order_id: int | None = None,
) -> OrderLookup:
    """What the broker knows of an order: "open", "settled", "not_placed" or "unknown"."""
    new = getattr(broker, "find_order", None)
    if new is not None:
        found: OrderLookup = new(
            client_key, pair=pair, direction=direction, amount=amount, sent_at=sent_at, order_id=order_id
        )
        return found
    if order_id is None:  # an older adapter: only its late orders can be matched
        for late in broker.late_orders():
            if (
                late.get("pair") == pair
                and late.get("direction") == direction
                and cents(to_decimal(late.get("amount", 0))) == cents(amount)
            ):
                fill = Fill(int(late["order_id"]), None, float(turbo_expiry(sent_at, 1)), "stream")
                return OrderLookup("open", fill=fill)
    return OrderLookup("unknown")


def reconnect(broker: Broker) -> bool:
    """Try once to bring a dropped connection back; whether it is up."""
    try:
        new = getattr(broker, "reconnect", None)
        if new is not None:
            new()
        else:
            broker.connect()
        return True
    except BrokerError as exc:
        log.warning("broker reconnect failed: %s", exc)
        return False
