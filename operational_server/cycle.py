"""One gale cycle: the entry and its gales on one pair and direction.

Each order is written to the ledger before it is sent (write-ahead, with an
idempotency key), and marked open with what the broker reported (order id,
open quote, expiry) before the code waits for its settlement. A buy that
failed in a way that may have executed leaves the trade "unknown": the
broker is asked (operational_server.reconcile) until it answers or a bound
passes, and no new order is placed meanwhile. The next entry is placed as
soon as the previous order settles; a doji repeats the level. The stops are
looked at, on the session's net read from the ledger, after every settled
order when the priority is "stop", and when the cycle is over in any case.
A user who pressed Stop gets no new order: the one in flight settles, and
the cycle ends there. Each order reaches the Operations log as it is placed
and again as it settles.

A cycle lives in one server: when its server dies, the next server settles
the order in flight and starts a new cycle at level 0 on its next decision
(a gale is a bet on the candle right after the loss; that moment is gone
by the time a lease expires). The session's net, and so its stops, carry
over, because they are read from the ledger.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bson import Decimal128, ObjectId

from glimpse.market import AssetClosed, Broker, BrokerError, BrokerTimeout, Unreachable
from glimpse.rules.money import cents, gale_entries
from glimpse.rules.stops import STOP_LOSS, checks_now, stop_reached
from glimpse.rules.timing import minute_start
from glimpse.runtime.clock import Clock
from glimpse.runtime.ids import unique_hex
from glimpse.store import accounts, alerts, operations_log, trades
from glimpse.store.accounts import Account
from glimpse.store.trades import from_cents
from operational_server import orders, reconcile

log = logging.getLogger(__name__)

# How long past an order's expiry we keep asking for its result.
RESULT_GRACE_SECONDS = reconcile.RESULT_GRACE_SECONDS

# Why a cycle ended the session (None: it did not).
STOP_USER = "user"
STOP_LOSS_REACHED = "stop_loss"
STOP_WIN_REACHED = "stop_win"
PAIR_CLOSED = "pair_closed"
ORDER_REFUSED = "order_refused"
SHUTDOWN = "shutdown"
LOST = "lost"
UNRESOLVED = "unresolved"  # an order's fate is unknown: no new order until the broker tells
EXPIRED = "expired"  # the order desk's answer to a decision that came too late (no order)


@dataclass
class Decision:
    pair: str
    direction: str
    payout: int
    decided_at: float
    candles: list[dict] = field(default_factory=list)
    signal_id: str | None = None
    # Copy mode: the leader trade this cycle copies, the entry's deterministic idempotency key,
    # and the follower's own entry stake (None: the money settings' stake).
    copies: str | None = None
    client_key: str | None = None
    stake: Decimal | None = None
    expiry: int = 1  # minutes: every entry of the cycle is an option of this expiry
    gale: int | None = None  # the signal's own gale cap (the trader's setting stays the ceiling)


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
    user: Account  # the account as last read: its alert preferences
    server_name: str
    assignment: str | None  # this assignment of the user to the server (life-cycle writes name it)
    session_id: str  # the Glimpse session: from the user's Start to off, across hand-overs
    server_session: str  # this server's part of it
    account_type: str
    money: dict
    priority: str
    log_id: Any
    user_operating: Callable[[], bool]  # read from the database: the user still wants orders
    lease_kept: Callable[[], bool]  # this server still holds the user
    shutting_down: Callable[[], bool]  # the server process is stopping
    expiry_of: Callable[[float], float]
    record_expired: Callable[[float], None]  # a decision dropped as too late, by its decision time
    record_timing: Callable[[float | None, float], None]
    net: Callable[[], Decimal]  # the session's net result so far
    # The process's order desk (operational_server.desk.OrderDesk, which knows this module, not the
    # other way round): a cycle's first entry goes out with the other sessions' entries of the same
    # instant. None: one by one, as a gale entry always does.
    desk: Any = None
    # Reads the broker's balance and stores it on the account (what the app shows). The cycle calls
    # it for a settled level once the next level's order is out (see run_cycle); the session reads
    # it after the cycle's last settlement.
    refresh_balance: Callable[[], None] | None = None


@dataclass
class CycleOutcome:
    result: str | None = None  # win | loss | doji | failed | None (nothing settled)
    net: Decimal = Decimal(0)
    stop: str | None = None
    orders: int = 0
    gale_level: int = 0  # the level of the last entry placed


def new_cycle_id() -> str:
    """A new cycle's id: 16 hex digits."""
    return unique_hex(64)


def intent_document(
    ctx: CycleContext, decision: Decision, amount: Decimal, level: int, sent_at: float, cycle_id: str
) -> dict[str, Any]:
    """The ledger document of one order's write-ahead (status pending), as write_intent writes it
    and as the order desk writes a batch of them."""
    return trades.intent_document(
        user=ctx.user_id,
        session=ctx.session_id,
        server_session=ctx.server_session,
        server=ctx.server_name,
        ativo=decision.pair,
        operacao=decision.direction,
        amount=amount,
        gale_level=level,
        payout=decision.payout,
        decided_at=decision.decided_at if level == 0 else sent_at,
        sent_at=sent_at,
        cycle=cycle_id,
        account=ctx.account_type,
        client_key=decision.client_key if level == 0 else None,
        copies=decision.copies,
        expiry_minutes=decision.expiry,
        # Managers filter the ledger by mode; the account's mode may change after the order.
        mode="copy" if decision.copies else ctx.user.mode,
    )


def write_intent(
    ctx: CycleContext, decision: Decision, amount: Decimal, level: int, sent_at: float, cycle_id: str
) -> trades.Trade:
    """The write-ahead of one order (status pending), before it is sent."""
    return trades.record_document(ctx.db, intent_document(ctx, decision, amount, level, sent_at, cycle_id))


def plan(ctx: CycleContext, decision: Decision) -> list[Decimal]:
    money = ctx.money
    gales = int(money.get("galeCount", 0)) if money.get("gale") else 0
    if decision.gale is not None:
        gales = max(0, min(gales, decision.gale))
    stake = money["money"] if decision.stake is None else decision.stake
    gale_type, sobra = money.get("galeType", "dobro"), money.get("sobra", 0)
    # Every session of a process plans the same few settings at every instant, and reading a stored
    # Decimal128 as a Decimal is most of the plan: the entries of one exact set of values are kept.
    key = _plan_key(stake, gale_type, gales, decision.payout, sobra)
    entries = _PLANS.get(key) if key is not None else None
    if entries is None:
        entries = tuple(gale_entries(stake, gale_type, gales, decision.payout, sobra))
        if key is not None:
            if len(_PLANS) >= _PLANS_KEPT:
                _PLANS.clear()
            _PLANS[key] = entries
    return list(entries)


# The gale plans computed lately, by the exact values they were computed from (see _plan_key).
_PLANS: dict[tuple[Any, ...], tuple[Decimal, ...]] = {}
_PLANS_KEPT = 1024


def _plan_key(*values: Any) -> tuple[Any, ...] | None:
    """The values as a key that tells apart any two of them gale_entries might read differently:
    the type, and the exact digits (a Decimal's exponent too); None for anything else."""
    key: list[Any] = []
    for value in values:
        kind = type(value)
        if kind is Decimal128:
            key.append((kind, value.bid))
        elif kind in (Decimal, int, float, str):
            key.append((kind, repr(value)))
        else:
            return None
    return tuple(key)


def decision_expiry(decision: Decision) -> float:
    """The end of the minute in which the decision was made: after it, the order would cover the wrong candle."""
    return minute_start(decision.decided_at) + 60


def _set_operating(
    ctx: CycleContext, decision: Decision, entries: list[Decimal], level: int, started: float, first: bool
) -> None:
    update: dict[str, Any] = {
        "operating": True,
        "active": decision.pair,
        "operacao": decision.direction,
        "money": trades.to_cents(entries[level]),  # cents, like every stored amount
    }
    if first:  # a new cycle: one try per planned entry
        tries: list[dict[str, Any]] = [{"start": 0, "result": ""} for _ in entries]
        tries[0]["start"] = f"{started:.3f}"
        update["tries"] = tries
    else:
        update[f"tries.{level}.start"] = f"{started:.3f}"
    accounts.update_operating(ctx.db, ctx.user_id, ctx.server_name, update, assignment=ctx.assignment)


def _set_try_result(ctx: CycleContext, level: int, result: str) -> None:
    accounts.update_operating(
        ctx.db, ctx.user_id, ctx.server_name, {f"tries.{level}.result": result}, assignment=ctx.assignment
    )


def run_cycle(ctx: CycleContext, decision: Decision, armed: Any = None) -> CycleOutcome:
    """Run the cycle of `decision`. `armed`: its first entry's ticket (operational_server.desk.Ticket,
    which knows this module, not the other way round), already answered by the order desk at the
    decision instant (OrderDesk.arm) and built for this ctx."""
    outcome = CycleOutcome()
    entries = plan(ctx, decision)
    cycle_id = new_cycle_id() if armed is None else armed.cycle
    entry = operations_log.cycle_entry(
        decision.pair, decision.decided_at, decision.direction, entries[0], decision.candles, cycle_id
    )
    resolver = reconcile.Reconciler(
        ctx.db, ctx.clock, ctx.broker, lambda: not ctx.shutting_down() and ctx.lease_kept()
    )
    level = 0
    while level < len(entries):
        amount = entries[level]
        # The first entry of a cycle decided at an instant goes out through the desk, with the
        # entries of the process's other sessions: the desk makes the same checks, for all at once.
        ticket = None  # the desk's answer (operational_server.desk.Ticket)
        first = level == 0 and outcome.orders == 0
        if first and (armed is not None or ctx.desk is not None):
            if armed is not None:
                ticket = armed
            else:
                if ctx.clock.now() >= decision_expiry(decision):
                    _too_late(ctx, decision)
                    break
                ticket = ctx.desk.submit(ctx, decision, amount, cycle_id, decision_expiry(decision))
            if ticket.declined:
                # A keyed intent (a copy) the ledger held already: the one-by-one path below meets that
                # trade and sends it only if it is this session's own pending order.
                ticket = None
            elif ticket.verdict == EXPIRED:
                _too_late(ctx, decision)
                break
            elif ticket.verdict is not None:
                outcome.stop = ticket.verdict  # no order: the user stopped, a stop, or a blocking trade
                break
            elif ticket.trade is None or not ticket.attempted:
                # Nothing was sent: its intent was not written (as if the write-ahead itself failed), or,
                # written ahead of the instant, was closed as never sent when its batch failed.
                raise ticket.error or RuntimeError("the order desk sent no order")
        if ticket is None and not ctx.user_operating():  # read from the database right before each buy
            outcome.stop = STOP_USER  # place no new order
            break
        if ticket is None and first and ctx.clock.now() >= decision_expiry(decision):
            # The candle the order was meant to cover has begun: a late order would trade another one.
            _too_late(ctx, decision)
            break
        if ticket is None and outcome.orders == 0:
            # A stop reached before this cycle (by another server of the same session, say): no new cycle.
            outcome.stop = _stop_reason(ctx)
            if outcome.stop:
                break
        if ticket is None and trades.is_blocked(ctx.db, ctx.user_id, ctx.session_id):
            # An order whose fate the broker has not told: no new order until it has.
            outcome.stop = UNRESOLVED
            break
        if ticket is not None:
            assert ticket.trade is not None and ticket.sent_at is not None
            trade, sent_at = ticket.trade, ticket.sent_at
        else:
            sent_at = ctx.clock.now()
            trade = write_intent(ctx, decision, amount, level, sent_at, cycle_id)
            if trade.serverSession != ctx.server_session or trade.status != trades.PENDING:
                # A keyed order (a copy) whose write-ahead another session made first: the order is
                # that session's to send, or reconciliation's to resolve. Sending it too could double
                # it at a broker that knows no client keys (IQ Option).
                log.warning(
                    "user %s: order %s was written by another session; not sent", ctx.user_id, trade.id
                )
                break
        settlement: orders.Settlement | None = None
        try:
            if ticket is None:
                fill = _place(ctx, decision, trade.id, trade.clientKey, amount, level, sent_at)
            elif ticket.fill is not None:
                fill = ticket.fill
            else:
                # The desk's buy failed: handled here exactly as this session's own failed buy.
                raise ticket.error or RuntimeError("the order desk gave the order no answer")
        except BrokerError as exc:
            if not (orders.may_have_executed(exc) or isinstance(exc, BrokerTimeout)):
                if isinstance(exc, Unreachable) and ctx.broker.is_connected():
                    # Never sent (the connection was down), and back too late for this candle: no order,
                    # no result; the session goes on with its next decision.
                    trades.mark_failed(ctx.db, trade.id, f"not sent, connection lost: {exc}", ctx.clock.now())
                    break
                _refused(ctx, decision, entry, trade, amount, exc, outcome)
                break
            # The broker may have taken it: only the broker can say (never "failed").
            log.warning("user %s: buy on %s may have executed: %s", ctx.user_id, decision.pair, exc)
            trades.mark_unknown(ctx.db, trade.id, f"{type(exc).__name__}: {exc}", ctx.clock.now())
            if isinstance(exc, orders.Disconnected):
                orders.reconnect(ctx.broker)  # the broker can only be asked once it is back
            operations_log.order_placed(ctx.db, ctx.log_id, entry, trade.id, None)
            outcome.orders += 1
            outcome.gale_level = level
            resolved = _resolve(ctx, resolver, trade)
            if resolved is None:
                outcome.stop = (
                    SHUTDOWN if ctx.shutting_down() else LOST if not ctx.lease_kept() else UNRESOLVED
                )
                return outcome
            if resolved.status == trades.CLOSED:
                if resolved.result == trades.NOT_PLACED:
                    break  # nothing was placed: the cycle's moment is gone, so it ends without a result
                settlement = orders.Settlement(
                    from_cents(resolved.profit or 0), resolved.closePrice, resolved.closedAt or 0.0, "ledger"
                )
            trade = resolved
            fill = orders.Fill(
                int(trade.brokerOrderId or 0),
                trade.openPrice,
                float(trade.expiresAt or resolver.expiry(trade)),
                trade.quoteSource or "broker",
            )
        else:
            placed_at = ticket.placed_at if ticket is not None and ticket.placed_at else ctx.clock.now()
            # The decision's own order only: a doji's repeat of the entry goes out after a settlement.
            ctx.record_timing(decision.decided_at if first else None, placed_at)
            if ticket is None or not ticket.marked:  # the desk marks its orders open in one write
                trades.mark_open(
                    ctx.db,
                    trade.id,
                    fill.order_id,
                    placed_at,
                    fill.open_quote,
                    expires_at=fill.expires_at,
                    quote_source=fill.quote_source,
                )
            operations_log.order_placed(ctx.db, ctx.log_id, entry, trade.id, fill.open_quote)
            outcome.orders += 1
            outcome.gale_level = level
            trade = trades.get(ctx.db, trade.id) or trade
        _set_operating(ctx, decision, entries, level, trade.placedAt or sent_at, first=outcome.orders == 1)
        if outcome.orders > 1:
            # The previous level has settled. Its balance is read now, while this order runs, and
            # never between that settlement and this buy: a gale entry goes out at once.
            _refresh_balance(ctx, decision, level)
        if settlement is None:
            settlement = resolver.wait_settlement(trade, fill.expires_at + reconcile.RESULT_GRACE_SECONDS)
            if settlement is None:
                outcome.stop = (
                    SHUTDOWN if ctx.shutting_down() else LOST if not ctx.lease_kept() else UNRESOLVED
                )
                return outcome  # the open trade is reconciled by whoever serves the user next
            resolver.apply(trade, settlement)
        profit = cents(settlement.profit)
        outcome.net += profit
        outcome.result = trades.result_of(profit)
        _set_try_result(ctx, level, outcome.result)
        if profit < 0:
            level += 1
            if level == len(entries):
                operations_log.add_marker(ctx.db, ctx.log_id, entry, "SLR", sum(entries, Decimal(0)))
        over = profit > 0 or level == len(entries)
        if checks_now(ctx.priority, cycle_over=over):
            outcome.stop = _stop_reason(ctx)
        if over or outcome.stop:
            break
    return outcome


def _refresh_balance(ctx: CycleContext, decision: Decision, level: int) -> None:
    """Store the broker's balance; a failed read keeps the last one and never ends the cycle."""
    if ctx.refresh_balance is None:
        return
    try:
        ctx.refresh_balance()
    except Exception as exc:  # the order in flight matters more than the figure shown
        log.warning(
            "user %s: balance not refreshed during the cycle on %s (level %d): %s",
            ctx.user_id, decision.pair, level, exc,
        )  # fmt: skip


def _too_late(ctx: CycleContext, decision: Decision) -> None:
    log.warning("user %s: decision for %s came too late to place; dropped", ctx.user_id, decision.pair)
    ctx.record_expired(decision.decided_at)


def _place(
    ctx: CycleContext,
    decision: Decision,
    trade_id: ObjectId,
    client_key: str,
    amount: Decimal,
    level: int,
    sent_at: float,
) -> orders.Fill:
    """Send the buy; when the connection was down before it was sent, reconnect and send it once more.

    The second try carries the same idempotency key, so a broker that did get
    the first one returns that order instead of placing a second.
    """
    try:
        return _send(ctx, decision, client_key, amount, sent_at)
    except Unreachable as exc:
        if orders.may_have_executed(exc) or not orders.reconnect(ctx.broker):
            raise
        now = ctx.clock.now()
        if level == 0 and now >= decision_expiry(decision):
            raise  # back too late: the candle the order was for has begun
        log.warning("user %s: the buy was not sent (%s); reconnected, sending it again", ctx.user_id, exc)
        trades.mark_sent(ctx.db, trade_id, now)
        return _send(ctx, decision, client_key, amount, now)


def _send(
    ctx: CycleContext, decision: Decision, client_key: str, amount: Decimal, sent_at: float
) -> orders.Fill:
    # The broker makes a turbo option of 1-5 minutes and a binary one of 15 (a signal's M15).
    return ctx.broker.place(
        amount, decision.pair, decision.direction, decision.expiry,
        client_key=client_key, sent_at=sent_at,
    )  # fmt: skip


def _resolve(ctx: CycleContext, resolver: reconcile.Reconciler, trade: trades.Trade) -> trades.Trade | None:
    """Ask the broker about an unknown buy until it answers or the bound passes; the trade, or None.

    None: still unknown (flagged when the bound passed, or left for the next
    server when this one must stop).
    """
    while resolver.keep_going():
        status = resolver.lookup(trade)
        if status in (trades.OPEN, trades.CLOSED):
            return trades.get(ctx.db, trade.id)
        if ctx.clock.now() > resolver.bound(trade):
            resolver.flag(trade)
            return None
        ctx.clock.sleep(resolver.slice())
    return None


def _refused(
    ctx: CycleContext,
    decision: Decision,
    entry: dict,
    trade: trades.Trade,
    amount: Decimal,
    exc: BrokerError,
    outcome: CycleOutcome,
) -> None:
    """A buy the broker proved it did not place: closed as failed, no money moved."""
    now = ctx.clock.now()
    if isinstance(exc, AssetClosed):
        trades.mark_failed(ctx.db, trade.id, f"pair closed: {exc}", now)
        operations_log.add_marker(ctx.db, ctx.log_id, entry, "CLO", amount)
        alerts.push(
            ctx.db, ctx.user_id, alerts.make(ctx.user, alerts.PAIR_CLOSED, f"{decision.pair} fechou.", now)
        )
        outcome.result, outcome.stop = trades.FAILED, PAIR_CLOSED
        return
    trades.mark_failed(ctx.db, trade.id, f"refused: {exc}", now)
    operations_log.open_cycle(ctx.db, ctx.log_id, entry)
    alerts.push(ctx.db, ctx.user_id, alerts.notice("Ordem recusada.", str(exc), now))
    log.warning("order refused for user %s on %s: %s", ctx.user_id, decision.pair, exc)
    outcome.result, outcome.stop = trades.FAILED, ORDER_REFUSED


def _stop_reason(ctx: CycleContext) -> str | None:
    hit = stop_reached(ctx.net(), ctx.money)
    if hit is None:
        return None
    return STOP_LOSS_REACHED if hit == STOP_LOSS else STOP_WIN_REACHED
