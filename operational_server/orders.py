"""The broker calls of the money path, as the cycle and the reconciler use them.

Thin on purpose: the broker interface (glimpse.market.base: place with an
idempotency key, settlement, find_order, reconnect) does the work; this
module only names what the money path decides on top of it.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from glimpse.market import Broker, BrokerError
from glimpse.market.base import Disconnected, Fill, OrderLookup, Settlement
from glimpse.runtime.clock import Clock

log = logging.getLogger(__name__)

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
    """Whether a failed buy may still have been executed by the broker (then the trade is "unknown")."""
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
) -> Fill:
    return broker.place(amount, pair, direction, 1, client_key=client_key, sent_at=sent_at)


def settlement(broker: Broker, clock: Clock, order_id: int, timeout: float) -> Settlement:
    return broker.settlement(order_id, timeout)


def find_order(
    broker: Broker,
    client_key: str,
    *,
    pair: str,
    direction: str,
    amount: Decimal,
    sent_at: float,
    order_id: int | None = None,
    minutes: int = 1,
) -> OrderLookup:
    """What the broker knows of an order: "open", "settled", "not_placed" or "unknown"."""
    return broker.find_order(
        client_key,
        pair=pair,
        direction=direction,
        amount=amount,
        sent_at=sent_at,
        order_id=order_id,
        minutes=minutes,
    )


def reconnect(broker: Broker) -> bool:
    """Bring a dropped connection back (the adapter backs off); whether it is up."""
    try:
        broker.reconnect()
        return True
    except BrokerError as exc:
        log.warning("broker reconnect failed: %s", exc)
        return False
