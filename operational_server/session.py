"""One user's session on an operational server, from assignment to off.

The server connects the user's broker account, reconciles any order a
previous server left open, sets the user operating, and then, at every
decision instant, asks the user's mode (strategy or signals) for a decision
and runs its gale cycle. It ends when the user presses Stop (after the
order in flight settles), when a stop is reached, when a buy fails, when a
signal list runs out, or when the server shuts down or loses its lease.
"""

from __future__ import annotations

import logging
import secrets
import threading
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pymongo.errors import ConnectionFailure

from glimpse.market import Broker, BrokerError, open_broker
from glimpse.market.base import turbo_expiry
from glimpse.rules.timing import next_decision
from glimpse.runtime import metrics, notify
from glimpse.runtime.clock import wall_span
from glimpse.runtime.security import DecryptError, decrypt_secret
from glimpse.runtime.services import ServiceContext
from glimpse.store import accounts, alerts, lifecycle, notifications, operations_log, trades
from glimpse.store.accounts import Account
from operational_server import cycle, reconcile
from operational_server.desk import Decided, OrderDesk, Ticket, first_ticket
from operational_server.market_view import MarketView
from operational_server.mode_base import Mode
from operational_server.modes import mode_for

log = logging.getLogger(__name__)

# Wall-clock period at which a waiting session looks at the user's status.
STATUS_POLL_WALL_SECONDS = 0.25
# How often a session whose database went away tries again (wall seconds).
DATABASE_RETRY_WALL_SECONDS = 1.0
# What the account's `operating.paused` says while the market data is too old to trade on.
STALE_STATUS = "market data stale"
# How long stale market data may last before the user is alerted (market seconds; once per episode).
STALE_ALERT_SECONDS = 120.0
STALE_ALERT_TITLE = "Dados de mercado atrasados."
# How long before a decision instant a strategy session makes its checks and arms its entry with the
# order desk (wall seconds): long enough for every session of a large process to have armed by then.
ARM_LEAD_WALL_SECONDS = 0.5


@dataclass(frozen=True)
class ServerIdentity:
    name: str
    incarnation: str


class TimingLog:
    """Order timing, placedAt − decision instant, in wall-clock milliseconds (for simulate)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.samples: list[float] = []
        self.expired = 0  # decisions dropped because the candle they were for had begun
        self.expired_minutes: set[int] = set()  # the decision minutes (epoch minutes) of those

    def add(self, ms: float) -> None:
        with self.lock:
            self.samples.append(ms)

    def add_expired(self, decided_at: float) -> None:
        with self.lock:
            self.expired += 1
            self.expired_minutes.add(int(decided_at // 60))


class UserSession:
    def __init__(
        self,
        ctx: ServiceContext,
        server: ServerIdentity,
        user_id: str,
        market: MarketView,
        stop_event: threading.Event,
        timings: TimingLog | None = None,
        watch=None,
        *,
        assignment: str | None = None,
        purpose: str = "",
        desk: OrderDesk | None = None,
    ):
        self.ctx = ctx
        self.db = ctx.db
        self.clock = ctx.clock
        self.config = ctx.config
        self.server = server
        self.user_id = user_id
        self.market = market
        self.stop_event = stop_event
        self.timings = timings
        self.watch = watch  # the process's PoolWatch, when the session runs in a server pool
        # This assignment of the user to this server: every life-cycle write names it, so a stale
        # session can never free, finish or stop a newer assignment of the same user.
        self.assignment = assignment
        # lifecycle.RECONCILE: only resolve an off user's unresolved trades, then free the server.
        self.purpose = purpose
        self.server_session = secrets.token_hex(8)
        # The Glimpse session (Start to off, across hand-overs); adopted from the account in _run.
        self.session_id = self.server_session
        self.continued = False  # whether this server took over a Glimpse session another one began
        self.user: Account = Account()  # the account as last read
        self.broker: Broker | None = None
        self.account_type = "PRACTICE"
        self.money: dict = {}
        self.priority = "gale"
        self.log_id: Any = None
        self.stale_since: float | None = None  # since when the market data is too old to trade on
        self.database_down = False  # a step met a database connection error and has not completed since
        self.stale_alerted = False
        # The process's order desk (a server pool's sessions share one); None: every buy one by one.
        self.desk = desk

    # --- helpers the cycle uses -------------------------------------------------------------

    def reload_user(self) -> Account | None:
        """Read the account again; None when it is gone (the last read stays in `self.user`)."""
        account = accounts.find_by_id(self.db, self.user_id)
        if account is not None:
            self.user = account
        return account

    def still_held(self) -> bool:
        return lifecycle.holds(
            self.db, self.server.name, self.server.incarnation, self.user_id, assignment=self.assignment
        )

    def lease_kept(self) -> bool:
        """Whether this server still holds the user: the watch's word, confirmed in the database on a "no"."""
        return (
            self.watch is not None and self.watch.holds(self.server.name, self.user_id)
        ) or self.still_held()

    def user_operating(self) -> bool:
        """Read from the database (one count: this runs right before every buy)."""
        return lifecycle.operating_on(self.db, self.user_id, self.server.name, assignment=self.assignment)

    def expiry_of(self, placed_at: float) -> float:
        return float(turbo_expiry(placed_at, 1))

    def record_expired(self, decided_at: float) -> None:
        metrics.count_dropped_decision()
        if self.timings is not None:
            self.timings.add_expired(decided_at)

    def record_timing(self, decided_at: float | None, placed_at: float) -> None:
        """placedAt − decision instant, in wall milliseconds (clock seconds ÷ speed)."""
        if decided_at is None:
            return
        ms = (placed_at - decided_at) / getattr(self.clock, "speed", 1.0) * 1000.0
        metrics.observe_order_latency(ms)
        if self.timings is not None:
            self.timings.add(ms)

    def net(self) -> Decimal:
        """The session's net result, from the ledger (so a later server sees the same figure)."""
        return trades.session_net(self.db, self.user_id, self.session_id)

    def _net_cents(self) -> int:
        return trades.session_net_cents(self.db, self.user_id, self.session_id)

    def _notify(self, event: str, *, with_net: bool = True, **data: Any) -> None:
        """Queue a notification (one insert; the notifier delivers it). Never lets a failure end the session."""
        try:
            if with_net:
                data["net"] = self._net_cents()
            notify.enqueue(self.db, self.user_id, event, data, self.clock.now())
        except Exception:
            log.exception("user %s: notification %s not queued", self.user_id, event)

    def cycle_context(self) -> cycle.CycleContext:
        assert self.broker is not None
        return cycle.CycleContext(
            db=self.db,
            clock=self.clock,
            broker=self.broker,
            user_id=self.user_id,
            user=self.user,
            server_name=self.server.name,
            assignment=self.assignment,
            session_id=self.session_id,
            server_session=self.server_session,
            account_type=self.account_type,
            money=self.money,
            priority=self.priority,
            log_id=self.log_id,
            user_operating=self.user_operating,
            lease_kept=self.lease_kept,
            shutting_down=self.stop_event.is_set,
            expiry_of=self.expiry_of,
            record_expired=self.record_expired,
            record_timing=self.record_timing,
            net=self.net,
            desk=self.desk,
            refresh_balance=self.refresh_balance,
        )

    # --- the session ------------------------------------------------------------------------

    def run(self) -> str:
        if self.purpose == lifecycle.RECONCILE:
            return self.reconcile_only()
        reason = "error"
        end_alert = None
        try:
            reason, end_alert = self._run()
        except Exception:
            log.exception("session of user %s on %s failed", self.user_id, self.server.name)
            end_alert = alerts.notice(
                "Glimpse parou.", "Ocorreu um erro no servidor; a operação foi encerrada.", self.clock.now()
            )
        finally:
            if self.broker is not None:
                try:
                    self.broker.close()
                except Exception:
                    log.exception("closing the broker of user %s", self.user_id)
            if reason not in (cycle.SHUTDOWN, cycle.LOST):
                ended = lifecycle.finish(
                    self.db, self.user_id, self.server.name, end_alert, assignment=self.assignment
                )
                trades.end_glimpse_session(self.db, self.user_id, self.session_id)
                if ended and reason != "gone":  # not when a newer assignment holds the user
                    self._notify(notifications.SESSION_STOPPED, reason=reason)
            lifecycle.free_server(
                self.db, self.server.name, self.server.incarnation, self.user_id, assignment=self.assignment
            )
        log.info("session of user %s on %s ended: %s", self.user_id, self.server.name, reason)
        return reason

    def reconcile_only(self) -> str:
        """Ask the broker about the trades of a user who is off, then free the server.

        Continuous reconciliation (issue 10): an unknown or stale open trade
        must not wait for the user's next Start. Nothing else happens: no
        status change, no alert, no notification (a flagged trade alerts the
        user through the Reconciler, as in a session).
        """
        outcome = "error"
        try:
            if self.reload_user() is None:
                outcome = "gone"
            else:
                ok, why = self._connect()
                if not ok:
                    log.warning("user %s: cannot reconcile, broker connection failed: %s", self.user_id, why)
                    outcome = "connect_failed"
                else:
                    left = self.reconciler().run(self.user_id, wait=False)
                    self.refresh_balance()
                    outcome = f"reconciled ({len(left)} left)"
        except Exception:
            log.exception("reconciling user %s on %s failed", self.user_id, self.server.name)
        finally:
            if self.broker is not None:
                try:
                    self.broker.close()
                except Exception:
                    log.exception("closing the broker of user %s", self.user_id)
            lifecycle.free_server(
                self.db, self.server.name, self.server.incarnation, self.user_id, assignment=self.assignment
            )
        log.info("reconcile-only session of user %s on %s: %s", self.user_id, self.server.name, outcome)
        return outcome

    def _connect(self) -> tuple[bool, str]:
        user = self.user
        try:
            password = decrypt_secret(
                self.config.secret_key.get_secret_value(),
                user.iq_password,
                previous=self.config.previous_secret_keys(),
            )
        except DecryptError:
            return False, "Credenciais da corretora ilegíveis: informe-as novamente."
        broker = open_broker(self.config, self.db, self.clock, user.iq_email, password, slot_wait=5.0)
        try:
            broker.connect()
            self.account_type = "REAL" if user.iq_account_type == "real" else "PRACTICE"
            broker.change_balance(self.account_type)
        except BrokerError as exc:
            log.warning("user %s: broker connection failed: %s", self.user_id, exc)
            broker.close()
            return False, str(exc)
        self.broker = broker
        self.refresh_balance()
        return True, ""

    def refresh_balance(self) -> None:
        """Store the broker's balance on the account (what the app shows); a failed read only logs."""
        if self.broker is None:
            return
        try:
            value = self.broker.get_balance()
            trades.record_broker_balance(
                self.db, self.user_id, self.account_type, trades.to_cents(value), self.clock.now()
            )
        except Exception as exc:
            log.warning("user %s: balance not refreshed: %s", self.user_id, exc)

    def reconciler(self) -> reconcile.Reconciler:
        assert self.broker is not None
        return reconcile.Reconciler(
            self.db, self.clock, self.broker, lambda: not self.stop_event.is_set() and self.lease_kept()
        )

    def _reconcile(self, wait: bool = True) -> list[trades.Trade]:
        """Resolve the orders a previous server (or this one) left unresolved; those that block new orders."""
        self.reconciler().run(self.user_id, wait=wait)
        return trades.blocking(self.db, self.user_id, self.session_id)

    def begin_glimpse_session(self, now: float) -> None:
        """Continue the user's Glimpse session (after a hand-over) or begin one; then reconcile.

        Continuing means the same session key: the same net (read from the
        ledger), so the same stop distance, and the same Operations log.
        """
        with self._start_step():
            self.session_id, self.continued = trades.glimpse_session(
                self.db, self.user_id, self.server_session, now
            )
        self._reconcile()
        self.refresh_balance()  # reconciling may have settled orders

    def _flagged(self) -> bool:
        return any(t.flagged for t in trades.blocking(self.db, self.user_id, self.session_id))

    def _run(self) -> tuple[str, dict | None]:
        user = self.reload_user()
        if user is None:
            return "gone", None
        status = user.glimpse_status
        now = self.clock.now()
        self._after_quiet_time()  # outside the startup gate: a broker's connect waits on the network
        ok, why = self._connect()
        if not ok:
            accounts.set_broker_disconnected(self.db, self.user_id)
            return "connect_failed", alerts.notice(
                "Erro ao conectar.", why or "A corretora recusou a conexão.", now
            )
        self.begin_glimpse_session(now)  # (its reconciliation may wait for a result: not gated)
        with self._start_step():
            if status == "stopping" or not lifecycle.start_operating(
                self.db, self.user_id, self.server.name, assignment=self.assignment
            ):
                return cycle.STOP_USER, alerts.make(
                    self.reload_user() or self.user, alerts.STOPPED, "Você parou o Glimpse.", self.clock.now()
                )
            user = self.reload_user() or self.user
            mode: Mode | None = mode_for(self, user)
            if mode is None:
                return "copy_mode", alerts.notice(
                    "Modo cópia indisponível.",
                    "O modo cópia ainda não está disponível; escolha estratégia ou sinais.",
                    now,
                    "info",
                )
            if not self.continued:  # a hand-over is not a new start
                alerts.push(
                    self.db,
                    self.user_id,
                    alerts.make(user, alerts.STARTED, "O Glimpse começou a operar.", now),
                )
                self._notify(notifications.SESSION_STARTED, with_net=False, mode=mode.name)
            self.money = mode.money_settings()
            self.priority = user.operation_priority
        with self._start_step():
            self.log_id = operations_log.start(
                self.db, user=self.user_id, session=self.session_id, mode=mode.name, strategy=mode.strategy_doc,
                money=self.money, account_type=self.account_type, now=now,
            )  # fmt: skip
        try:
            # Its first instant is one it arms for in time, not the one whose quiet time it started in.
            self._after_quiet_time()
            return self._loop(mode)
        finally:
            mode.close()

    def _after_quiet_time(self) -> None:
        """Wait out the quiet time around a decision instant (PoolWatch.quiet_left), as the background
        services do: a session starting up takes the interpreter and the database lock from the
        order desk's instant otherwise. On a fast clock hundreds start within the first minutes'
        instants: between its steps, each waits for the instant's orders to be out."""
        if self.watch is not None:
            self.watch.after_quiet_time(self.stop_event)

    def _start_step(self) -> AbstractContextManager[None]:
        """A startup step that waits for no one else: after the quiet time, a few sessions at a time
        (PoolWatch.start_step)."""
        return nullcontext() if self.watch is None else self.watch.start_step(self.stop_event)

    def _loop(self, mode: Mode) -> tuple[str, dict | None]:
        while True:
            try:
                ended = self._step(mode)
                if self.database_down:
                    self.database_down = False
                    log.info("user %s on %s: database back; trading on", self.user_id, self.server.name)
            except ConnectionFailure as exc:
                ended = self._database_unreachable(exc)
            if ended is not None:
                return ended

    def _database_unreachable(self, exc: ConnectionFailure) -> tuple[str, dict | None] | None:
        """The database went away mid-step: wait for it, then go on with the same Glimpse session.

        Ending the session would turn the user off for a blip (a replica-set election, a paused
        server). Nothing is lost by waiting: an order sent before the failure is in the ledger
        (written ahead), so the next step finds it unresolved and reconciles it with the broker
        before deciding anything; a gale planned after it is not placed, as when a server dies.
        A Stop, a lost lease and a shutdown are still seen: by the next step's checks once the
        database answers, and by the stop event meanwhile.
        """
        if not self.database_down:  # one line per outage, not one per try
            self.database_down = True
            log.warning(
                "user %s on %s: database unreachable (%s: %s); waiting for it",
                self.user_id, self.server.name, type(exc).__name__, exc,
            )  # fmt: skip
        if self.stop_event.wait(DATABASE_RETRY_WALL_SECONDS):
            return cycle.SHUTDOWN, None
        return None

    def _step(self, mode: Mode) -> tuple[str, dict | None] | None:
        """One decision instant: how the session ended, or None to go on."""
        # Copy mode has no decision instant: it looks for its leader's entries every few milliseconds.
        next_instant = getattr(mode, "next_instant", None)
        now = self.clock.now()
        instant = next_instant(now) if next_instant else next_decision(now, self.config.decision_second)
        # An order whose fate the broker has not told yet: ask again, and decide nothing until it answers.
        # (Checked before waiting, so the decision instant itself costs nothing more.)
        blocked = trades.is_blocked(self.db, self.user_id, self.session_id) and bool(
            self._reconcile(wait=False)
        )
        if blocked and self._flagged():
            return cycle.UNRESOLVED, None  # the user was told when the order was flagged
        if self.desk is not None and not blocked and mode.decides_from_the_market:
            return self._armed_step(mode, instant)
        state = self._wait_until(instant)
        if state is not None:
            return state
        if blocked:
            return None
        if self._market_stale(mode.market_problem(instant)):
            return None  # never decide on old candles or an old open-pairs list
        decision, finished = mode.decide(instant)
        mode.after_decision()
        if finished is not None:
            return finished
        if decision is None:
            return None
        return self._after_cycle(mode, decision, cycle.run_cycle(self.cycle_context(), decision))

    def _armed_step(self, mode: Mode, instant: float) -> tuple[str, dict | None] | None:
        """`_step` through the order desk's instant: this thread sleeps through the instant itself.

        The session makes its checks shortly before the instant and arms its entry
        (OrderDesk.arm); at the instant, the desk's thread decides for it from the
        one market snapshot (and a signal list read at the instant) and sends its
        first entry with every other session's. A Stop or a lost assignment after
        the checks is seen by the desk's own check before the order. The writes the
        decision deferred (a signal list's skipped rows) are made here, once the
        desk has answered: none is made on the desk's thread.
        """
        state = self._wait_until(
            max(self.clock.now(), instant - wall_span(self.clock, ARM_LEAD_WALL_SECONDS))
        )
        if state is not None:
            return state
        seen: dict[str, Any] = {}  # what `prepare` found, for this thread to act on afterwards
        assert self.desk is not None
        # Read here, not on the desk's thread at the instant: nothing this session's order needs from
        # them can change while it is armed (see Precheck); the desk checks Stop and the lease there.
        ctx = self.cycle_context()
        precheck = self.desk.precheck(ctx)

        def decide(ahead: bool) -> Decided:  # on the desk's thread, at the instant or ahead
            problem = mode.market_problem(instant)
            decision, finished = (None, None) if problem is not None else mode.decide(instant)
            ticket = None if decision is None else first_ticket(ctx, decision, precheck)

            def hand_over() -> Ticket | None:  # at the instant
                if self.stop_event.is_set():
                    return None  # nothing seen: shutting down
                if ahead and not mode.decision_stands(instant):
                    # What it read ahead besides the market changed: decided now.
                    return decide(False).hand_over()
                seen["problem"], seen["finished"] = problem, finished
                return ticket

            return Decided(ticket, hand_over)

        def prepare() -> Ticket | None:
            if self.stop_event.is_set():
                return None  # nothing seen, nothing decided: shutting down
            return decide(False).hand_over()

        def decide_ahead() -> Decided:
            return decide(True)

        armed = self.desk.arm(
            instant, prepare, self.clock, ahead=decide_ahead if mode.decides_ahead else None
        )
        try:
            mode.after_decision()
        except Exception:
            if armed.ticket is None:
                raise  # nothing in flight: the step fails as the decision's own writes would have
            # An order is in flight and its cycle must run. The skipped rows are bookkeeping, and
            # the next decision writes them (their minute is behind it).
            log.exception(
                "user %s: a decision's deferred writes failed; the next decision makes them", self.user_id
            )
        if armed.error is not None:
            raise armed.error
        if "problem" not in seen:
            return cycle.SHUTDOWN, None
        if self._market_stale(seen["problem"]):
            return None
        if seen.get("finished") is not None:
            return seen["finished"]
        ticket = armed.ticket
        if ticket is None:
            return None
        return self._after_cycle(mode, ticket.decision, cycle.run_cycle(ticket.ctx, ticket.decision, ticket))

    def _after_cycle(
        self, mode: Mode, decision: cycle.Decision, outcome: cycle.CycleOutcome
    ) -> tuple[str, dict | None] | None:
        """What the session does with a cycle's outcome: how it ended, or None to go on."""
        mode.record(decision, outcome)
        if outcome.orders:
            # After the cycle's last settlement, not between its orders: a gale entry goes out at once.
            self.refresh_balance()
        if outcome.orders and outcome.result in (trades.WIN, trades.LOSS, trades.DOJI):
            self._notify(
                notifications.CYCLE_RESULT,
                with_net=False,
                ativo=decision.pair,
                operacao=decision.direction,
                levels=outcome.orders,
                galeLevel=outcome.gale_level,
                result=outcome.result,
                net=trades.to_cents(outcome.net),
                sessionNet=self._net_cents(),
            )
        if outcome.stop == cycle.STOP_USER:
            # The check before the buy (the desk's, or the cycle's) sees only that the user is not
            # operating here. When another server holds them now, they did not press Stop: the
            # session is lost, as when _wait_until finds it, and nobody is told they stopped.
            if not self.lease_kept():
                return cycle.LOST, None
            return cycle.STOP_USER, alerts.make(
                self.user, alerts.STOPPED, "Você parou o Glimpse.", self.clock.now()
            )
        if outcome.stop in (cycle.SHUTDOWN, cycle.LOST):
            return outcome.stop, None
        if outcome.stop == cycle.UNRESOLVED:
            if self._flagged():
                return cycle.UNRESOLVED, None  # the user was told when the order was flagged
            return None  # reconciled before the next decision
        if outcome.stop == cycle.STOP_LOSS_REACHED:
            self._notify(notifications.STOP_LOSS)
            return outcome.stop, alerts.make(
                self.user, alerts.STOP_LOSS, "O stop loss foi atingido.", self.clock.now()
            )
        if outcome.stop == cycle.STOP_WIN_REACHED:
            self._notify(notifications.STOP_WIN)
            return outcome.stop, alerts.make(
                self.user, alerts.STOP_WIN, "O stop win foi atingido.", self.clock.now()
            )
        if outcome.stop is not None:
            return outcome.stop, None  # pair closed / order refused: the alert went out with the failure
        return None

    def _market_stale(self, problem: str | None) -> bool:
        """Pause while the market data is stale: shown on the account at once, alerted once if it lasts."""
        now = self.clock.now()
        if problem is None:
            if self.stale_since is not None:
                log.info("user %s: market data fresh again; trading resumes", self.user_id)
                self.stale_since, self.stale_alerted = None, False
                self._set_paused("")
            return False
        if self.stale_since is None:
            self.stale_since = now
            log.warning("user %s: %s: trading paused", self.user_id, problem)
            self._set_paused(STALE_STATUS)
        elif not self.stale_alerted and now - self.stale_since > STALE_ALERT_SECONDS:
            self.stale_alerted = True
            minutes = int(STALE_ALERT_SECONDS // 60)
            log.error("user %s: %s for over %d minutes", self.user_id, problem, minutes)
            alerts.push(
                self.db,
                self.user_id,
                alerts.notice(
                    STALE_ALERT_TITLE,
                    f"Os dados de mercado estão parados há mais de {minutes} minutos; "
                    "o Glimpse pausou as ordens e volta sozinho quando eles voltarem.",
                    now,
                    "danger",
                ),
            )
        return True

    def _set_paused(self, status: str) -> None:
        accounts.update_operating(
            self.db, self.user_id, self.server.name, {"paused": status}, assignment=self.assignment
        )

    def _wait_until(self, instant: float) -> tuple[str, dict | None] | None:
        """Wait for the decision instant, watching for Stop, shutdown and a lost lease."""
        while True:
            if self.stop_event.is_set():
                return cycle.SHUTDOWN, None
            # The watch's view may lag by a beat: a "no" is confirmed in the database before acting on it.
            if not self.lease_kept():
                return cycle.LOST, None
            if (
                not (self.watch is not None and self.watch.operating(self.server.name, self.user_id))
                and not self.user_operating()
            ):
                return cycle.STOP_USER, alerts.make(
                    self.user, alerts.STOPPED, "Você parou o Glimpse.", self.clock.now()
                )
            remaining = instant - self.clock.now()
            if remaining <= 0:
                return None
            speed = getattr(self.clock, "speed", 1.0)
            wall = min(STATUS_POLL_WALL_SECONDS, remaining / speed)
            if hasattr(self.clock, "advance"):  # a manual clock: move it instead of sleeping
                self.clock.sleep(min(remaining, STATUS_POLL_WALL_SECONDS))
            elif self.stop_event.wait(wall):
                return cycle.SHUTDOWN, None
