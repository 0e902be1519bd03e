"""The order desk: the first entries of one decision instant go out together.

Every session of a process decides at the same instant. Instead of each
session thread reading its user's status, its session net and its blocking
trades, writing its intent and calling its broker on its own (hundreds of
threads fighting for the interpreter and the database lock at once), the
sessions hand their entry to the desk and wait. The first to arrive leads:
it takes every ticket queued so far and, for the whole batch,

1. checks that each user is still operating on this server in this
   assignment (one read of the accounts), that no stop is reached (one
   read of the settled trades of the sessions that have a stop) and that
   no unresolved trade blocks the user (one read of the unresolved trades);
   on the embedded store, where those reads are in-memory lookups, the
   sessions' own checks, one after the other;
2. writes the pending intents, in one write, before any broker call;
3. sends each order to its user's broker (one call per order, with the
   intent's idempotency key; cycle._place reconnects and resends like a
   session would), unless the candle it was for has begun meanwhile (a
   large batch): then it is closed as never sent and answered EXPIRED;
4. marks the placed orders open, in one write.

Tickets that arrive meanwhile make the next batch, so a batch is whatever
queued up while the previous one ran. Each ticket gets exactly one answer:
a verdict (no order: the check that failed), an error (the session handles
it as it handles a failed buy) or a fill. Whatever goes wrong in a batch,
every one of its tickets is answered; an order whose intent was written and
that was never sent stays pending in the ledger, where reconciliation
proves it not placed (find_order's fence), as after a crash.

A keyed entry (a copy: its intent id derives from its client key, so the
intent is the claim on the order) goes in the same batch. When its intent
is in the ledger already (another server session of the user wrote it, or
an earlier try), the insert meets that trade and the desk declines the
ticket: the session takes the one-by-one path, whose write-ahead returns
that trade and sends it only when it is this session's own pending order.
So a keyed order is never sent by two sessions, batch or not.

Gale entries and sessions outside a server pool keep the one-by-one path.

A strategy session does not even wake at the instant: it arms its entry
shortly before (`arm`), and one thread, the first to arm for that instant,
sleeps until the instant and then, for every armed session, decides from the
one market snapshot and sends the batch. Hundreds of session threads woken
at the instant each took their turn at the interpreter before the desk could
start, and that queue, not the orders, was most of an order's delay.

An entry whose decision is a function of what it reads (a strategy's: the
market snapshot; a signal list's: the snapshot and the list) is decided ahead:
in the quiet seconds before the instant, when no candle write starts
(glimpse.rules.timing.quiet_window), the conductor reads the market once and
decides those entries on it. At the instant the market is read again as
always; when it holds the very same data (MarketView.snapshot then adopts the
early read) and the entry's own reads stand (a signal list is read again and
compared: Mode.decision_stands), the decision made ahead is the instant's own,
and its order goes out first, with nothing left to decide. Otherwise it is
decided again on the new data. The intents of the entries decided ahead are
written ahead too, in one write (`_write_ahead`); the checks of the user's
Stop and lease, and the orders, are made only at the instant. An intent
written ahead whose order does not go out at the instant (decided again, a
check that failed, a failed batch) is closed as never sent before its
session is answered (`_void`), so each gets exactly one result.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, Protocol

from bson import ObjectId
from pymongo import UpdateOne
from pymongo.errors import BulkWriteError

from glimpse.market.base import Fill
from glimpse.rules.stops import STOP_LOSS, has_stop, stop_reached
from glimpse.rules.timing import quiet_before
from glimpse.runtime import collector
from glimpse.runtime.clock import Clock, sleep_until, wall_span
from glimpse.store import db as names
from glimpse.store import lifecycle, trades
from operational_server.cycle import (
    EXPIRED,
    STOP_LOSS_REACHED,
    STOP_USER,
    STOP_WIN_REACHED,
    UNRESOLVED,
    CycleContext,
    Decision,
    _place,
    decision_expiry,
    intent_document,
    new_cycle_id,
    plan,
)

log = logging.getLogger(__name__)

# MongoDB's duplicate key error: a keyed intent already in the ledger.
DUPLICATE_KEY = 11000

# Why an intent was closed as never sent (its failure, "not sent: ..."), by the ticket's verdict.
NOT_SENT = {STOP_USER: "its user stopped or left this server", EXPIRED: "its candle had begun"}

# A waiting session wakes when its ticket is answered, or when a leader leaves the queue to it (its
# thread raised); this is only the longest it sleeps without either (wall seconds). Waiters do not poll:
# hundreds of sessions waking every few milliseconds would take the interpreter from the batch.
FOLLOWER_WAIT_WALL_SECONDS = 1.0

# How long before a decision instant the conductor holds the garbage collector off (wall seconds): longer
# than a full collection of a process of 500 sessions on the embedded store (75-150 ms measured).
COLLECTOR_HOLD_WALL_SECONDS = 0.2

# How many armed entries the desk checks, writes and sends together (see OrderDesk._decide).
ARMED_BATCH = 20

# A ticket's verdict, when it gets no order, is the cycle's stop reason (STOP_USER, STOP_LOSS_REACHED,
# STOP_WIN_REACHED, UNRESOLVED) or EXPIRED.
__all__ = [
    "EXPIRED",
    "STOP_LOSS_REACHED",
    "STOP_USER",
    "STOP_WIN_REACHED",
    "UNRESOLVED",
    "Armed",
    "Decided",
    "OrderDesk",
    "Ticket",
]


@dataclass(eq=False)
class Ticket:
    """One session's first entry of a cycle, and the desk's one answer to it."""

    ctx: CycleContext
    decision: Decision
    amount: Decimal
    cycle: str
    expires: float  # the decision's deadline: the candle the order is for begins
    # The answer (exactly one of verdict, error, fill, declined is set once `done` is):
    verdict: str | None = None
    error: BaseException | None = None
    fill: Fill | None = None
    doc: dict[str, Any] | None = None  # the intent's ledger document, once written
    sent_at: float | None = None
    # Its intent was written ahead of the instant (OrderDesk._write_ahead): True, or None when that write
    # failed in a way that may have written it (the instant's write then counts its own duplicate as it).
    ahead: bool | None = False
    attempted: bool = False  # the desk took it to its broker (or closed it there as too late)
    placed_at: float | None = None
    marked: bool = False  # the trade was marked open with the fill
    # A keyed intent the ledger held already: the desk sent nothing, the session's one-by-one path decides.
    declined: bool = False
    # What the session read from the ledger when it armed the entry (OrderDesk.precheck); None: the desk reads it.
    precheck: Precheck | None = None
    # The intent's document, built with the decision (ahead of the instant, when decided ahead): the desk
    # writes it with its sentAt, the time of the write (None: the desk builds it then).
    draft: dict[str, Any] | None = field(default=None, repr=False)
    _trade: trades.Trade | None = field(default=None, repr=False)
    # The answer's events: made by `submit` before it queues the ticket (its session waits on them), and
    # for an armed entry (whose session waits on its Armed) by the desk once it answers, not at the instant.
    _done: threading.Event | None = field(default=None, repr=False)
    _wake: threading.Event | None = field(default=None, repr=False)

    @property
    def done(self) -> threading.Event:
        """Set once the ticket is answered."""
        if self._done is None:
            self._done = threading.Event()
        return self._done

    @property
    def wake(self) -> threading.Event:
        """Set with `done`, and when the queue needs a new leader: what a submitting session sleeps on."""
        if self._wake is None:
            self._wake = threading.Event()
        return self._wake

    @property
    def trade(self) -> trades.Trade | None:
        """The intent as a trade, once written: built when the session asks, not on the desk's thread."""
        if self._trade is None and self.doc is not None:
            self._trade = trades.Trade.from_doc(self.doc)
        return self._trade


@dataclass(frozen=True)
class Precheck:
    """A session's ledger checks, read when it arms its entry, shortly before the instant.

    While the entry is armed, the session's own thread is parked in OrderDesk.arm, and a new
    unresolved trade of the user is written only by a server that holds the user's assignment,
    which the desk checks at the instant. So neither figure can change until the desk sends the
    entry: a trade of the session that could still settle is unresolved, and blocks it (see
    trades.is_blocked), and nothing else moves the session's net.
    """

    net_cents: int | None  # the session's net, when it has a stop loss or a stop win
    blocked: bool  # an unresolved trade forbids a new order (trades.is_blocked)


def first_ticket(ctx: CycleContext, decision: Decision, precheck: Precheck | None = None) -> Ticket:
    """The ticket of a new cycle's first entry: its stake, a new cycle id, the candle's start as deadline,
    and its intent's document but for the time it is written."""
    amount, cycle_id = plan(ctx, decision)[0], new_cycle_id()
    draft = intent_document(ctx, decision, amount, 0, decision.decided_at, cycle_id)
    if "_id" not in draft:  # a keyed intent's id derives from its key
        draft["_id"] = ObjectId()
    return Ticket(ctx, decision, amount, cycle_id, decision_expiry(decision), precheck=precheck, draft=draft)


@dataclass(frozen=True)
class Decided:
    """A decision made ahead of the instant, on the market as read then."""

    ticket: Ticket | None  # its ticket (None: nothing to send), whose intent the desk may write ahead
    # Called at the instant: the ticket to send (decided again there when what it read has moved).
    hand_over: Callable[[], Ticket | None]


Decide = Callable[[], Decided]


class EarlyMarket(Protocol):
    """The process's market view, as the desk reads it ahead of an instant (MarketView)."""

    def early(self, instant: float) -> Any: ...

    def deciding_early(self, snap: Any) -> AbstractContextManager[None]: ...

    def snapshot(self, instant: float) -> Any: ...


@dataclass(eq=False)
class Armed:
    """A session's entry for a coming instant: the desk decides it at the instant (see OrderDesk.arm).

    `prepare` runs on the desk's thread at the instant and returns the ticket to
    send, or None when the session has nothing to send (it keeps what it needs
    to know why). With `ahead`, the decision may be made before the instant, on
    the market read then, and the function it returns is called at the instant
    instead of `prepare` when that read stands. Once `done` is set, either
    `error` holds what `prepare` (or the hand-over) raised, or `ticket` is the
    answered ticket (or None).
    """

    instant: float
    prepare: Callable[[], Ticket | None]
    ahead: Decide | None = None
    # What `ahead` returned, once the desk decided the entry ahead and that market read stands.
    hand_over: Callable[[], Ticket | None] | None = None
    # Decided ahead into no order (a signal list with nothing for this minute): handed over after the
    # entries decided into one, as its hand-over may read again what it decided on.
    none_ahead: bool = False
    # The ticket decided ahead whose intent the desk wrote then: voided at the instant unless it is sent.
    written: Ticket | None = None
    ticket: Ticket | None = None
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)
    wake: threading.Event = field(default_factory=threading.Event)


class _Capture:
    """A stand-in database that keeps the update a ledger function would make, instead of making it.

    The desk batches the ledger's own mark of an order as open (trades.mark_open): the update is
    built in one place, and only its sending is grouped. (The intents it writes are the cycle's
    own documents, cycle.intent_document.)
    """

    def __init__(self) -> None:
        self.update: tuple[dict[str, Any], dict[str, Any]] | None = None

    def __getitem__(self, name: str) -> _Capture:
        return self

    def update_one(self, filter_: dict[str, Any], update: dict[str, Any]) -> Any:
        self.update = (filter_, update)
        return SimpleNamespace(modified_count=1, matched_count=1)


def _ledger_verdict(ctx: CycleContext, net_cents: int | None, blocked: bool = False) -> str | None:
    """A stop reached by the session's net (None: not read, as it has no stop), else a blocking trade."""
    if net_cents is not None and has_stop(ctx.money):
        hit = stop_reached(trades.from_cents(net_cents), ctx.money)
        if hit is not None:
            return STOP_LOSS_REACHED if hit == STOP_LOSS else STOP_WIN_REACHED
    return UNRESOLVED if blocked else None


# What tells two intents of the same order apart: each decision draws its own cycle and key.
_INTENT_IDENTITY = frozenset(("_id", "clientKey", "cycle", "sentAt"))


def _order_of(intent: dict[str, Any]) -> dict[str, Any]:
    """An intent's fields but its identity: what says which order it is."""
    return {k: v for k, v in intent.items() if k not in _INTENT_IDENTITY}


def _adopt_written(armed: Armed) -> None:
    """Let an entry decided again at the instant send the intent written ahead when it is the same
    intent (the same pair, direction, stake, payout, expiry... all but its identity): the market read
    ahead moved on, say, without changing the decision. Otherwise that intent is closed as never
    sent (OrderDesk._void). The ticket keeps the instant's decision; it takes the intent's identity."""
    written, ticket = armed.written, armed.ticket
    if written is None or ticket is None or ticket is written or written.ahead is not True:
        return
    draft, doc = ticket.draft, written.doc
    # Without its session's checks (Precheck) the desk would read the ledger, and find this intent.
    if draft is None or doc is None or ticket.precheck is None:
        return
    if _order_of(doc) != _order_of(draft):
        return
    ticket.doc, ticket.draft, ticket.ahead = doc, None, True
    ticket.sent_at, ticket.cycle = written.sent_at, written.cycle
    armed.written = ticket


def _signal(ticket: Ticket) -> None:
    """Hand the answered ticket to its session."""
    ticket.done.set()
    ticket.wake.set()


class OrderDesk:
    def __init__(self, db: Any, embedded: bool, view: EarlyMarket | None = None):
        self.db = db
        self.embedded = embedded
        self.view = view  # the market the armed entries decide on; None: none is decided ahead
        self._lock = threading.Lock()
        self._queue: list[Ticket] = []
        self._leading = False
        self.batches = 0
        self.largest = 0
        self._armed: dict[float, list[Armed]] = {}  # by instant
        self._conducting: set[float] = set()  # instants a thread is deciding for

    # --- the sessions' side ---------------------------------------------------------------------

    def submit(
        self, ctx: CycleContext, decision: Decision, amount: Decimal, cycle: str, expires: float
    ) -> Ticket:
        """Queue the cycle's first entry and return its ticket answered (leading a batch if nobody leads)."""
        ticket = Ticket(
            ctx, decision, amount, cycle, expires, _done=threading.Event(), _wake=threading.Event()
        )
        with self._lock:
            self._queue.append(ticket)
            lead = not self._leading
            self._leading = True
        if lead:
            self._lead()
        while not ticket.done.is_set():
            ticket.wake.wait(FOLLOWER_WAIT_WALL_SECONDS)
            ticket.wake.clear()  # a wake after this is seen by the next wait; the state is read below
            if ticket.done.is_set():
                break
            with self._lock:
                lead = not self._leading and ticket in self._queue
                if lead:
                    self._leading = True
            if lead:
                self._lead()
        return ticket

    def _lead(self) -> None:
        try:
            while True:
                with self._lock:
                    batch, self._queue = self._queue, []
                    if not batch:
                        self._leading = False
                        return
                self._run(batch)
        except BaseException:
            with self._lock:
                self._leading = False  # a follower takes over the queue
                waiting = list(self._queue)
            for ticket in waiting:
                ticket.wake.set()
            raise

    def arm(
        self,
        instant: float,
        prepare: Callable[[], Ticket | None],
        clock: Clock,
        ahead: Decide | None = None,
    ) -> Armed:
        """Arm an entry for `instant` and return it answered, once the instant has come and gone.

        The first session to arm for an instant conducts it: it sleeps until the
        instant, calls every armed entry's `prepare` there, in its own thread, and
        sends the tickets they return as one batch. The other sessions sleep until
        their entry is answered. An entry armed after its instant's batch was taken
        makes the next batch, at once. A conductor that raises answers its batch
        (with the error), wakes the entries armed meanwhile, and one of them conducts.

        `ahead` (a decision on the market snapshot alone) may be called before the
        instant, on the market read then (see the module's docstring); the function
        it returns hands the ticket over at the instant, when that read stands.
        """
        armed = Armed(instant, prepare, ahead)
        with self._lock:
            self._armed.setdefault(instant, []).append(armed)
            lead = instant not in self._conducting
            if lead:
                self._conducting.add(instant)
        if lead:
            self._conduct(instant, clock)
        while not armed.done.is_set():
            # No wake before the instant's batch is done: hundreds of them would slow it down.
            to_instant = max(0.0, instant - clock.now()) / getattr(clock, "speed", 1.0)
            armed.wake.wait(to_instant + FOLLOWER_WAIT_WALL_SECONDS)
            armed.wake.clear()
            if armed.done.is_set():
                break
            with self._lock:
                lead = instant not in self._conducting and armed in self._armed.get(instant, ())
                if lead:
                    self._conducting.add(instant)
            if lead:
                self._conduct(instant, clock)
        return armed

    def precheck(self, ctx: CycleContext) -> Precheck:
        """The session's ledger checks, read in its own thread as it arms its entry (see Precheck)."""
        net = trades.session_net_cents(self.db, ctx.user_id, ctx.session_id) if has_stop(ctx.money) else None
        return Precheck(net, trades.is_blocked(self.db, ctx.user_id, ctx.session_id))

    def _conduct(self, instant: float, clock: Clock) -> None:
        try:
            # No collection starts in the last moments before the instant (one started then would still
            # run at the instant, and wake the conductor late) or during the batch. Held no earlier:
            # on a fast clock whose instants come closer together than that, the holds would join up
            # and the collector would never run.
            sleep_until(clock, instant - wall_span(clock, COLLECTOR_HOLD_WALL_SECONDS))
            with collector.held_off():
                early, decided = self._decide_ahead(instant, clock)
                sleep_until(clock, instant)
                if decided and self._stands(instant, early):
                    for armed, made in decided.items():
                        armed.hand_over, armed.none_ahead = made.hand_over, made.ticket is None
                # (Otherwise the market moved since: they are decided again on the instant's data.)
                while True:
                    with self._lock:
                        batch = self._armed.pop(instant, [])
                        if not batch:
                            self._conducting.discard(instant)
                            return
                    self._decide(batch)
        except BaseException:
            with self._lock:
                self._conducting.discard(instant)  # an armed session takes over
                waiting = list(self._armed.get(instant, ()))
            for armed in waiting:
                armed.wake.set()
            raise

    def _decide_ahead(self, instant: float, clock: Clock) -> tuple[Any, dict[Armed, Decided]]:
        """The market read ahead of `instant`, and the decisions made on it: the entries armed by then
        with `ahead`, as many as the time before the instant allows (the others are decided at it).
        Their intents are written then too (`_write_ahead`), when time is left.

        Read once the quiet seconds before the instant have begun: no candle write starts in them,
        so the read is usually the instant's own data (and is checked to be, at the instant).
        """
        if self.view is None:
            return None, {}
        sleep_until(clock, instant - quiet_before(getattr(clock, "speed", 1.0)))
        with self._lock:
            # (An entry with an intent written ahead by a conductor that then failed is decided at the instant.)
            entries = [
                armed
                for armed in self._armed.get(instant, ())
                if armed.ahead is not None and armed.written is None
            ]
        if not entries or clock.now() >= instant:
            return None, {}
        try:
            early = self.view.early(instant)
        except Exception:
            # Not swallowed: the read at the instant meets the same database and its sessions raise it.
            log.warning("order desk: the market could not be read ahead of %s", instant, exc_info=True)
            return None, {}
        decided: dict[Armed, Decided] = {}
        with self.view.deciding_early(early):
            for armed in entries:
                if clock.now() >= instant:
                    break  # the rest is decided at the instant
                assert armed.ahead is not None
                try:
                    decided[armed] = armed.ahead()
                except Exception:  # decided again at the instant, where its failure is its session's
                    continue
        if clock.now() < instant:
            self._write_ahead(decided)
        return early, decided

    def _write_ahead(self, decided: dict[Armed, Decided]) -> None:
        """The pending intents of the entries decided ahead, in one write, before the instant.

        Only an unkeyed entry (a keyed one's intent is its claim: see the module's docstring) whose
        session's own checks (Precheck) let it trade, and whose user is operating on its server as
        this write begins. That is read again at the instant: read here, it spares an intent that a
        Stop seen already would void (on a fast clock the sessions' view of a Stop lags by market
        seconds). The session's checks were read before this write, so its own intent never blocks
        it. An intent that a failed write left out is written at the instant; one that a failed
        write may have written (`Ticket.ahead` None) is written again there, where meeting its own
        id means it was. Whatever is not sent at the instant is closed as never sent (`_void`). The
        intent's sentAt is the time of this write, as for any intent.
        """
        chosen: list[tuple[Armed, Ticket, dict[str, Any]]] = []
        for armed, made in decided.items():
            ticket = made.ticket
            if ticket is None or ticket.draft is None or ticket.precheck is None:
                continue
            if ticket.decision.client_key is not None:
                continue
            if _ledger_verdict(ticket.ctx, ticket.precheck.net_cents, ticket.precheck.blocked) is not None:
                continue  # it cannot trade: nothing to write
            chosen.append((armed, ticket, ticket.draft))
        if not chosen:
            return
        try:
            operating = self._operating([ticket for _, ticket, _ in chosen])
        except Exception:
            log.warning(
                "order desk: no accounts read ahead; the intents are written at the instant", exc_info=True
            )
            return
        chosen = [(armed, ticket, doc) for armed, ticket, doc in chosen if ticket in operating]
        if not chosen:
            return
        for _, ticket, doc in chosen:
            doc["sentAt"] = ticket.sent_at = ticket.ctx.clock.now()
        left_out: set[int] = set()
        unsure = False
        try:
            self.db[names.TRADES].insert_many([doc for _, _, doc in chosen], ordered=False)
        except BulkWriteError as exc:
            left_out = {int(e["index"]) for e in exc.details.get("writeErrors", [])}
            unsure = bool(exc.details.get("writeConcernErrors"))
            log.warning("order desk: %d intents not written ahead; written at the instant", len(left_out))
        except Exception:
            unsure = True
            log.warning("order desk: writing %d intents ahead failed", len(chosen), exc_info=True)
        for index, (armed, ticket, doc) in enumerate(chosen):
            if index in left_out:
                ticket.sent_at = None  # the draft is written at the instant, as if never tried
                continue
            armed.written = ticket
            if unsure:
                ticket.ahead = None  # the draft stays: the instant's write finds out
            else:
                ticket.ahead, ticket.draft, ticket.doc = True, None, doc

    def _stands(self, instant: float, early: Any) -> bool:
        """Whether the market read at the instant is the one read ahead (MarketView.snapshot adopts it)."""
        assert self.view is not None
        try:
            return bool(self.view.snapshot(instant) is early)
        except Exception:  # the instant's read failed: each session meets that failure as it decides
            return False

    def _decide(self, batch: list[Armed]) -> None:
        """Each armed entry's decision and its order, ARMED_BATCH entries at a time; every entry answered.

        The entries decided ahead into an order (their `hand_over`: the market read ahead stands) go
        first: they have nothing left to decide. Then those decided ahead into none, whose hand-over may
        read again what they decided on (a signal list), then the rest. In parts: the first orders go
        out while the later entries are still decided, and an entry whose candle has begun by the time
        its part is checked gets no intent written (hundreds written at once would have to close their
        late part as never sent). The placed orders are marked open, and the sessions woken, only once
        every part is sent: a session woken earlier runs its cycle's own writes on the interpreter and
        the database lock the later parts need.
        """
        batch = sorted(batch, key=lambda armed: 2 if armed.hand_over is None else int(armed.none_ahead))
        ran: list[Ticket] = []  # tickets whose part ran: answered, not yet signalled
        try:
            for start in range(0, len(batch), ARMED_BATCH):
                tickets: list[Ticket] = []
                for armed in batch[start : start + ARMED_BATCH]:
                    try:
                        hand_over = armed.hand_over
                        armed.ticket = hand_over() if hand_over is not None else armed.prepare()
                    except Exception as exc:  # that session's own failure: it raises it in its thread
                        armed.error = exc
                    _adopt_written(armed)
                    if armed.ticket is not None:
                        tickets.append(armed.ticket)
                if tickets:
                    self._run(tickets, deferred=ran)
        finally:
            try:
                self._mark([t for t in ran if t.fill is not None])  # logs its own failure: never raises
            finally:
                self._void(batch)  # never raises
                for answered in ran:
                    _signal(answered)
                for armed in batch:
                    ticket = armed.ticket
                    if ticket is not None and not ticket.done.is_set():  # its part never ran: nothing written
                        ticket.error = RuntimeError("the order desk gave this order no answer")
                        _signal(ticket)
                    armed.done.set()
                    armed.wake.set()

    def _void(self, batch: list[Armed]) -> None:
        """Close as never sent each intent written ahead whose order did not go out: its entry was
        decided again at the instant (the market or its signal list moved, or its session stopped),
        or that decision failed, or its check failed (a Stop, a stop reached, the lease, too late),
        or its batch failed.

        Before the sessions are answered, so none finds its own unsent intent pending. A close that
        fails leaves the intent pending, where reconciliation proves it not placed, as after a crash.
        """
        for armed in batch:
            written = armed.written
            if written is None or (written is armed.ticket and written.attempted):
                continue
            if armed.error is not None:
                why = "its decision at the instant failed"
            elif written is not armed.ticket:
                why = "its entry was decided again at the instant"
            else:
                why = NOT_SENT.get(
                    written.verdict or "", written.verdict or "its batch failed before it was sent"
                )
            doc = written.doc or written.draft or {}
            try:
                trades.mark_failed(self.db, doc["_id"], f"not sent: {why}", written.ctx.clock.now())
            except Exception:
                log.exception(
                    "order desk: closing the unsent intent %s failed; it stays pending", doc.get("_id")
                )

    # --- a batch --------------------------------------------------------------------------------

    def _run(self, batch: list[Ticket], deferred: list[Ticket] | None = None) -> None:
        """Check, record, send and mark open one batch, and answer every ticket of it.

        With `deferred`, the placed orders are not marked and no ticket is signalled: the
        answered tickets are added to it, for the caller to mark and signal.
        """
        self.batches += 1
        self.largest = max(self.largest, len(batch))
        failure: BaseException | None = None
        try:
            self._check(batch)
            live = [t for t in batch if t.verdict is None]
            self._record(live)
            for ticket in live:
                if ticket.doc is not None:
                    self._send(ticket)
            if deferred is None:
                self._mark([t for t in live if t.fill is not None])
        except BaseException as exc:
            failure = exc
            log.exception("order desk: a batch of %d failed", len(batch))
            if not isinstance(exc, Exception):
                raise
        finally:
            for ticket in batch:
                answered = ticket.verdict or ticket.error or ticket.fill or ticket.declined
                if not answered:
                    ticket.error = failure or RuntimeError("the order desk gave this order no answer")
                if deferred is None:
                    _signal(ticket)
            if deferred is not None:
                deferred.extend(batch)

    def _check(self, batch: list[Ticket]) -> None:
        """The checks a session makes before its first buy, for the whole batch.

        The user's Stop and the assignment: one read of the accounts, at the
        instant. The stops and a blocking trade: what the session read when it
        armed the entry (Precheck), or else, on MongoDB, one read of the settled
        trades of the sessions that have a stop and one of the unresolved
        trades for the batch. On the embedded store, where those reads are
        in-memory lookups, they are the session's own per-user ones (lookups in
        the ledger's sorted (user, decidedAt) index), where a batched `$in`
        would make mongomock compare every trade with every id: the desk runs
        those, one after the other in this one thread.
        """
        operating = self._operating(batch)  # looked up by id on the embedded store, not a query per ticket
        unread: list[Ticket] = []  # tickets whose ledger checks the desk reads itself
        for ticket in batch:
            if ticket not in operating:
                ticket.verdict = STOP_USER
            elif ticket.ctx.clock.now() >= ticket.expires:
                ticket.verdict = EXPIRED
            elif ticket.precheck is not None:
                ticket.verdict = _ledger_verdict(
                    ticket.ctx, ticket.precheck.net_cents, ticket.precheck.blocked
                )
            else:
                unread.append(ticket)
        if self.embedded:
            for ticket in unread:
                ctx = ticket.ctx
                if has_stop(ctx.money) and (hit := stop_reached(ctx.net(), ctx.money)):
                    ticket.verdict = STOP_LOSS_REACHED if hit == STOP_LOSS else STOP_WIN_REACHED
                elif trades.is_blocked(self.db, ctx.user_id, ctx.session_id):
                    ticket.verdict = UNRESOLVED
            return
        with_stops = [t for t in unread if has_stop(t.ctx.money)]
        nets = trades.session_nets_cents(self.db, [(t.ctx.user_id, t.ctx.session_id) for t in with_stops])
        for ticket in with_stops:
            ticket.verdict = _ledger_verdict(
                ticket.ctx, nets.get((ticket.ctx.user_id, ticket.ctx.session_id), 0)
            )
        blocked = self._blocked([t for t in unread if t.verdict is None])
        for ticket in unread:
            if ticket.verdict is None and (ticket.ctx.user_id, ticket.ctx.session_id) in blocked:
                ticket.verdict = UNRESOLVED

    def _operating(self, batch: list[Ticket]) -> set[Ticket]:
        """The tickets whose user is operating on their server, in their assignment."""
        holding = lifecycle.operating_among(
            self.db, [(t.ctx.user_id, t.ctx.server_name, t.ctx.assignment) for t in batch]
        )
        return {t for t in batch if (t.ctx.user_id, t.ctx.server_name, t.ctx.assignment) in holding}

    def _blocked(self, batch: list[Ticket]) -> set[tuple[str, str]]:
        """(user, session) pairs with a trade that forbids a new order (trades.is_blocked)."""
        if not batch:
            return set()
        query = {
            "user": {"$in": list({t.ctx.user_id for t in batch})},
            "status": {"$in": list(trades.UNRESOLVED)},
        }
        rows: dict[str, list[dict[str, Any]]] = {}
        for row in self.db[names.TRADES].find(query, {"user": 1, "session": 1, "flagged": 1}):
            rows.setdefault(str(row.get("user")), []).append(row)
        out = set()
        for ticket in batch:
            user, session = ticket.ctx.user_id, ticket.ctx.session_id
            # Any unflagged one, and the flagged ones of this session (trades.blocking).
            if any(r.get("flagged") is not True or r.get("session") == session for r in rows.get(user, [])):
                out.add((user, session))
        return out

    def _record(self, batch: list[Ticket]) -> None:
        """The pending intents of the batch, in one write, before any of its orders is sent.

        A keyed intent already in the ledger (its id derives from its client
        key) is not written again: its ticket is declined, and every other
        intent of the batch is written all the same (an unordered insert).
        Any other failure fails the batch before anything is sent.
        """
        batch = [ticket for ticket in batch if ticket.ahead is not True]  # the others are written
        if not batch:
            return
        docs = []
        for ticket in batch:
            ctx = ticket.ctx
            if ticket.ahead is None:
                # As tried ahead (its sentAt then), so that a duplicate is the same document. Its draft
                # stays until it is written: what `_void` closes if it is not sent.
                assert ticket.draft is not None
                docs.append(ticket.draft)
                continue
            # The document exactly as a session's own write-ahead builds it (level 0: the first entry).
            doc, ticket.draft = ticket.draft, None
            sent_at = ctx.clock.now()
            if doc is None:
                doc = intent_document(ctx, ticket.decision, ticket.amount, 0, sent_at, ticket.cycle)
                if "_id" not in doc:
                    doc["_id"] = ObjectId()
            doc["sentAt"] = sent_at
            ticket.sent_at = sent_at
            docs.append(doc)
        duplicates: set[int] = set()
        ours: set[int] = set()  # duplicates that are this desk's own write ahead, landed after all
        try:
            self.db[names.TRADES].insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            duplicates = {int(e["index"]) for e in errors if e.get("code") == DUPLICATE_KEY}
            keyed = {i for i, t in enumerate(batch) if t.decision.client_key is not None}
            ours = {i for i in duplicates if batch[i].ahead is None}
            if (
                not errors
                or any(e.get("code") != DUPLICATE_KEY for e in errors)
                or not duplicates <= keyed | ours
            ):
                raise  # not only keyed intents met in the ledger: nothing of the batch is sent
        for index, (ticket, doc) in enumerate(zip(batch, docs, strict=True)):
            ticket.draft = None
            if index in duplicates and index not in ours:
                ticket.declined = True
                log.info(
                    "user %s: order %s is in the ledger already; declined", ticket.ctx.user_id, doc["_id"]
                )
            else:
                ticket.doc = doc  # nothing changes the document after: the trade is built from it

    def _send(self, ticket: Ticket) -> None:
        assert ticket.doc is not None and ticket.sent_at is not None
        ticket.attempted = True
        trade_id = ticket.doc["_id"]
        now = ticket.ctx.clock.now()
        if now >= ticket.expires:
            # The batch ran into the candle the order was for: sent now, it would trade the next one.
            # Never sent, so nothing was placed: closed as a buy never sent (a copy's claim stays spent).
            trades.mark_failed(self.db, trade_id, f"not sent: {NOT_SENT[EXPIRED]}", now)
            ticket.verdict = EXPIRED
            return
        try:
            ticket.fill = _place(
                ticket.ctx,
                ticket.decision,
                trade_id,
                ticket.doc["clientKey"],
                ticket.amount,
                0,
                ticket.sent_at,
            )
            ticket.placed_at = ticket.ctx.clock.now()
        except Exception as exc:  # the session handles it as its own failed buy
            ticket.error = exc

    def _mark(self, batch: list[Ticket]) -> None:
        """pending → open with each fill, in one write (trades.mark_open); a miss is left to the session."""
        if not batch:
            return
        ops: list[tuple[dict[str, Any], dict[str, Any]]] = []
        for ticket in batch:
            assert ticket.doc is not None and ticket.fill is not None and ticket.placed_at is not None
            fill, capture = ticket.fill, _Capture()
            trades.mark_open(
                capture,
                ticket.doc["_id"],
                fill.order_id,
                ticket.placed_at,
                fill.open_quote,
                expires_at=fill.expires_at,
                quote_source=fill.quote_source,
            )
            assert capture.update is not None
            ops.append(capture.update)
        try:
            collection = self.db[names.TRADES]
            if self.embedded:  # mongomock's bulk_write takes no current pymongo operations
                for ticket, (filter_, update) in zip(batch, ops, strict=True):
                    ticket.marked = int(collection.update_one(filter_, update).modified_count) == 1
            else:
                result = collection.bulk_write([UpdateOne(f, u) for f, u in ops], ordered=False)
                if int(result.modified_count) == len(ops):
                    for ticket in batch:
                        ticket.marked = True
        except Exception:
            # The orders are placed: each session marks its own trade open (or it stays pending,
            # and reconciliation finds the order at the broker).
            log.exception("order desk: marking %d placed orders open failed; the sessions retry", len(ops))
