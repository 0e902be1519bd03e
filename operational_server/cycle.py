"""One gale cycle: the entry and its gales on one pair and direction.

Each order is written to the ledger before it is sent, and marked open with
the broker's id before the code waits for its result. The next entry is
placed as soon as the previous order settles; a doji repeats the level. The
stops are looked at after every settled order when the priority is "stop",
and when the cycle is over in any case. A user who pressed Stop gets no new
order: the one in flight settles, and the cycle ends there.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from glimpse.market import AssetClosed, Broker, BrokerError, BrokerTimeout, Rejected
from glimpse.rules.money import cents, gale_entries, to_decimal
from glimpse.rules.stops import STOP_LOSS, checks_now, stop_reached
from glimpse.rules.timing import minute_start
from glimpse.runtime.clock import Clock, wall_span
from glimpse.store import alerts, ledger, operations_log
from glimpse.store import db as names
from glimpse.store.lifecycle import oid

log = logging.getLogger(__name__)

# How long past an order's expiry we keep asking for its result.
RESULT_GRACE_SECONDS = 30.0
# Each wait on the broker is cut into slices this long (wall seconds), so a shutdown is noticed.
RESULT_SLICE_WALL_SECONDS = 0.5

# Why a cycle ended the session (None: it did not).
STOP_USER = "user"
STOP_LOSS_REACHED = "stop_loss"
STOP_WIN_REACHED = "stop_win"
PAIR_CLOSED = "pair_closed"
ORDER_REFUSED = "order_refused"
SHUTDOWN = "shutdown"
LOST = "lost"


@dataclass
class Decision:
    pair: str
    direction: str
    payout: int
    decided_at: float
    candles: list[dict] = field(default_factory=list)
    signal_id: str | None = None


@dataclass
class CycleContext:
    """What a gale cycle needs from the session that runs it, and nothing more.

    The session builds one per cycle; the cycle never sees the session itself,
    so the dependency points one way (session → cycle).
    """

    db: Any
    clock: Clock
    broker: Broker
    user_id: str
    user: dict  # the account as last read: its alert preferences
    server_name: str
    session_id: str
    account_type: str
    money: dict
    priority: str
    log_id: Any
    user_operating: Callable[[], bool]  # read from the database: the user still wants orders
    lease_kept: Callable[[], bool]  # this server still holds the user
    shutting_down: Callable[[], bool]  # the server process is stopping
    expiry_of: Callable[[float], float]
    record_expired: Callable[[], None]
    record_timing: Callable[[float | None, float], None]
    net: Callable[[], Decimal]  # the session's net result so far


@dataclass
class CycleOutcome:
    result: str | None = None  # win | loss | doji | failed | None (nothing settled)
    net: Decimal = Decimal(0)
    stop: str | None = None
    orders: int = 0


def plan(ctx: CycleContext, decision: Decision) -> list[Decimal]:
    money = ctx.money
    gales = int(money.get("galeCount", 0)) if money.get("gale") else 0
    return gale_entries(
        money["money"], money.get("galeType", "dobro"), gales, decision.payout, money.get("sobra", 0)
    )


def decision_expiry(decision: Decision) -> float:
    """The end of the minute in which the decision was made: after it, the order would cover the wrong candle."""
    return minute_start(decision.decided_at) + 60


def last_close(candles: list[dict]) -> float | None:
    """The price at purchase as the candle stream last saw it (a broker answers a buy with an id only)."""
    return float(candles[-1]["c"]) if candles else None


def _set_operating(
    ctx: CycleContext, decision: Decision, entries: list[Decimal], level: int, started: float, first: bool
) -> None:
    update = {
        "operating.operating": True,
        "operating.active": decision.pair,
        "operating.operacao": decision.direction,
        "operating.money": float(entries[level]),
    }
    if first:  # a new cycle: one try per planned entry
        tries = [{"start": 0, "result": ""} for _ in entries]
        tries[0]["start"] = f"{started:.3f}"
        update["operating.tries"] = tries
    else:
        update[f"operating.tries.{level}.start"] = f"{started:.3f}"
    ctx.db[names.ACCOUNTS].update_one({"_id": oid(ctx.user_id), "server": ctx.server_name}, {"$set": update})


def _set_try_result(ctx: CycleContext, level: int, result: str) -> None:
    ctx.db[names.ACCOUNTS].update_one(
        {"_id": oid(ctx.user_id), "server": ctx.server_name},
        {"$set": {f"operating.tries.{level}.result": result}},
    )


def wait_result(ctx: CycleContext, order_id: int, expires_at: float) -> Decimal | None:
    """The order's profit, or None when the server is shutting down or lost its user first."""
    deadline = expires_at + RESULT_GRACE_SECONDS
    while True:
        if ctx.shutting_down() or not ctx.lease_kept():
            return None
        remaining = deadline - ctx.clock.now()
        try:
            slice_ = wall_span(ctx.clock, RESULT_SLICE_WALL_SECONDS)
            return to_decimal(ctx.broker.order_result(order_id, timeout=max(0.0, min(slice_, remaining))))
        except BrokerTimeout:
            if remaining <= 0:
                raise


def run_cycle(ctx: CycleContext, decision: Decision) -> CycleOutcome:
    outcome = CycleOutcome()
    entries = plan(ctx, decision)
    cycle_id = secrets.token_hex(8)
    entry = operations_log.cycle_entry(
        decision.pair, decision.decided_at, decision.direction, entries[0], decision.candles
    )
    level = 0
    try:
        while level < len(entries):
            if not ctx.user_operating():  # read from the database right before each buy
                outcome.stop = STOP_USER  # place no new order
                break
            if level == 0 and outcome.orders == 0 and ctx.clock.now() >= decision_expiry(decision):
                # The candle the order was meant to cover has begun: a late order would trade another one.
                log.warning(
                    "user %s: decision for %s came too late to place; dropped", ctx.user_id, decision.pair
                )
                ctx.record_expired()
                break
            amount = entries[level]
            trade_id = ledger.open_trade(
                ctx.db,
                user=ctx.user_id,
                session=ctx.session_id,
                server=ctx.server_name,
                ativo=decision.pair,
                operacao=decision.direction,
                amount=amount,
                gale_level=level,
                payout=decision.payout,
                decided_at=decision.decided_at if level == 0 else ctx.clock.now(),
                cycle=cycle_id,
                account=ctx.account_type,
            )
            try:
                order_id = ctx.broker.buy(amount, decision.pair, decision.direction, 1)
            except AssetClosed as exc:
                ledger.mark_failed(ctx.db, trade_id, f"pair closed: {exc}", ctx.clock.now())
                operations_log.add_marker(entry, "CLO", amount)
                alerts.push(
                    ctx.db,
                    ctx.user_id,
                    alerts.make(ctx.user, alerts.PAIR_CLOSED, f"{decision.pair} fechou.", ctx.clock.now()),
                )
                outcome.result, outcome.stop = ledger.FAILED, PAIR_CLOSED
                break
            except (Rejected, BrokerError) as exc:
                ledger.mark_failed(ctx.db, trade_id, f"refused: {exc}", ctx.clock.now())
                alerts.push(
                    ctx.db,
                    ctx.user_id,
                    alerts.notice("Ordem recusada.", str(exc), ctx.clock.now()),
                )
                log.warning("order refused for user %s on %s: %s", ctx.user_id, decision.pair, exc)
                outcome.result, outcome.stop = ledger.FAILED, ORDER_REFUSED
                break
            placed_at = ctx.clock.now()
            ctx.record_timing(decision.decided_at if level == 0 else None, placed_at)
            open_price = last_close(decision.candles)
            ledger.mark_open(ctx.db, trade_id, order_id, placed_at, open_price)
            _set_operating(ctx, decision, entries, level, placed_at, first=outcome.orders == 0)
            outcome.orders += 1
            profit = wait_result(ctx, order_id, ctx.expiry_of(placed_at))
            if profit is None:
                outcome.stop = SHUTDOWN if ctx.shutting_down() else LOST
                return outcome  # the open trade is reconciled by whoever serves the user next
            profit = cents(profit)
            ledger.settle(ctx.db, trade_id, profit, ctx.clock.now(), None)
            operations_log.add_order(entry, open_price, profit)
            outcome.net += profit
            outcome.result = ledger.result_of(profit)
            _set_try_result(ctx, level, outcome.result)
            if profit < 0:
                level += 1
                if level == len(entries):
                    operations_log.add_marker(entry, "SLR", sum(entries, Decimal(0)))
            over = profit > 0 or level == len(entries)
            if checks_now(ctx.priority, cycle_over=over):
                outcome.stop = _stop_reason(ctx)
            if over or outcome.stop:
                break
    finally:
        if outcome.stop not in (SHUTDOWN, LOST) and (outcome.orders or outcome.result == ledger.FAILED):
            operations_log.push_cycle(ctx.db, ctx.log_id, entry)
    return outcome


def _stop_reason(ctx: CycleContext) -> str | None:
    hit = stop_reached(ctx.net(), ctx.money)
    if hit is None:
        return None
    return STOP_LOSS_REACHED if hit == STOP_LOSS else STOP_WIN_REACHED
