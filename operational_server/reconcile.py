"""Resolving trades whose money is not known yet, by asking the broker. Never by guessing.

The rules:
- an "open" trade settles with the broker's settlement (waited for until
  its expiry + RESULT_GRACE_SECONDS; a dropped connection is reconnected
  meanwhile);
- a "pending" trade (its server died around the buy) and an "unknown" one
  (the buy failed in a way that may have executed) are looked up with
  find_order(clientKey, pair, direction, amount, send time, order id): a
  match becomes open, or settled with its real result; a trade the broker
  proves it never placed becomes "not_placed";
- a trade still unresolved UNKNOWN_BOUND_SECONDS after its expiry + grace is
  flagged for the operator and the user is told, once. It stays unresolved
  in the ledger (status unknown/open): nobody guesses its result.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from glimpse.market import Broker, BrokerError, BrokerTimeout, Unreachable
from glimpse.market.base import turbo_expiry
from glimpse.runtime.clock import Clock, wall_span
from glimpse.store import alerts, trades
from glimpse.store.trades import Trade
from operational_server import orders
from operational_server.orders import Settlement

log = logging.getLogger(__name__)

# How long past an order's expiry we keep asking for its result (market seconds).
RESULT_GRACE_SECONDS = 30.0
# How long past expiry + grace an unresolved trade may stay so before it is flagged (market seconds).
UNKNOWN_BOUND_SECONDS = 120.0
# Each wait on the broker is cut into slices this long (wall seconds), so a shutdown is noticed.
SLICE_WALL_SECONDS = 0.5

FLAGGED_TITLE = "Ordem sem confirmação."


@dataclass
class Reconciler:
    db: Any
    clock: Clock
    broker: Broker
    keep_going: Callable[[], bool]  # False once the server shuts down or loses the user

    def expiry(self, trade: Trade) -> float:
        if trade.expiresAt is not None:
            return float(trade.expiresAt)
        return float(turbo_expiry(trade.sentAt if trade.sentAt is not None else trade.decidedAt, 1))

    def bound(self, trade: Trade) -> float:
        """When an unresolved trade is flagged for the operator."""
        return self.expiry(trade) + RESULT_GRACE_SECONDS + UNKNOWN_BOUND_SECONDS

    def slice(self) -> float:
        return wall_span(self.clock, SLICE_WALL_SECONDS)

    # --- one question to the broker ---------------------------------------------------------

    def apply(self, trade: Trade, settlement: Settlement) -> bool:
        """Record a settlement in the ledger (credited to the user and written to the Operations log)."""
        done = trades.settle(
            self.db,
            trade.id,
            settlement.profit,
            settlement.closed_at,
            settlement.close_quote,
            close_source=settlement.quote_source,
        )
        return done

    def lookup(self, trade: Trade) -> str:
        """Ask the broker about a pending or unknown trade; its status afterwards."""
        try:
            found = orders.find_order(
                self.broker,
                trade.clientKey,
                pair=trade.ativo,
                direction=trade.operacao,
                amount=trade.stake,
                sent_at=trade.sentAt if trade.sentAt is not None else trade.decidedAt,
                order_id=trade.brokerOrderId,
                minutes=trade.expiryMinutes,
            )
        except BrokerError as exc:
            log.warning("trade %s: the broker could not be asked: %s", trade.id, exc)
            if isinstance(exc, Unreachable):
                orders.reconnect(self.broker)
            return trade.status
        if found.state in ("open", "settled") and found.fill is not None:
            fill = found.fill
            trades.mark_open(
                self.db,
                trade.id,
                fill.order_id,
                self.clock.now(),
                fill.open_quote,
                expires_at=fill.expires_at,
                quote_source=fill.quote_source,
            )
        if found.state == "settled" and found.settlement is not None:
            self.apply(trades.get(self.db, trade.id) or trade, found.settlement)
            return trades.CLOSED
        if found.state == "open" and found.fill is not None:
            return trades.OPEN
        if found.state == "not_placed":
            trades.mark_not_placed(self.db, trade.id, "the broker has no such order", self.clock.now())
            return trades.CLOSED
        return trades.UNKNOWN if trade.status != trades.OPEN else trades.OPEN

    def wait_settlement(self, trade: Trade, deadline: float) -> Settlement | None:
        """The settlement of an open trade, or None when the deadline passed or the server must stop."""
        assert trade.brokerOrderId is not None
        while self.keep_going():
            remaining = deadline - self.clock.now()
            try:
                return orders.settlement(
                    self.broker, self.clock, int(trade.brokerOrderId), max(0.0, min(self.slice(), remaining))
                )
            except BrokerTimeout:
                if remaining <= 0:
                    return None
            except Unreachable as exc:  # a dropped socket: reconnect, then ask again
                log.warning("trade %s: connection lost while waiting: %s", trade.id, exc)
                if remaining <= 0:
                    return None
                if not orders.reconnect(self.broker):
                    self.clock.sleep(min(self.slice(), max(remaining, 0.0)))
            except BrokerError as exc:
                log.warning("trade %s: the broker gave no settlement: %s", trade.id, exc)
                return None
        return None

    def flag(self, trade: Trade, user: dict[str, Any] | None = None) -> bool:
        if not trades.flag(self.db, trade.id, self.clock.now()):
            return False
        log.error(
            "trade %s of user %s unresolved past its bound: flagged for the operator", trade.id, trade.user
        )
        alerts.push(
            self.db,
            trade.user,
            alerts.notice(
                FLAGGED_TITLE,
                f"A corretora não confirmou a ordem de R$ {trade.stake:.2f} em {trade.ativo}; "
                "o suporte vai verificá-la. O Glimpse não fará novas ordens até lá.",
                self.clock.now(),
            ),
        )
        return True

    # --- a whole user ------------------------------------------------------------------------

    def run(self, user: str, *, wait: bool = True) -> list[Trade]:
        """Resolve what can be resolved of the user's trades; the ones still unresolved (flagged included)."""
        trades.heal_credits(self.db, user)
        for trade in trades.unresolved(self.db, user):
            if not self.keep_going():
                break
            status = trade.status
            if status in (trades.PENDING, trades.UNKNOWN) or trade.brokerOrderId is None:
                status = self.lookup(trade)
            current = trades.get(self.db, trade.id)
            if current is None or current.status == trades.CLOSED:
                continue
            if current.status == trades.OPEN and current.brokerOrderId is not None:
                deadline = self.expiry(current) + RESULT_GRACE_SECONDS
                settlement = self.wait_settlement(current, deadline if wait else self.clock.now())
                if settlement is None and self.clock.now() > deadline:
                    self.lookup(current)  # the broker may know it settled although the wait failed
                    current = trades.get(self.db, trade.id) or current
                elif settlement is not None:
                    self.apply(current, settlement)
                    log.info("trade %s reconciled: %s", trade.id, settlement.profit)
                    continue
            if current.status != trades.CLOSED and self.clock.now() > self.bound(current):
                self.flag(current)
        trades.heal_credits(self.db, user)
        return trades.unresolved(self.db, user, include_flagged=True)
