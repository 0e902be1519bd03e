"""The trading modes: what to trade at a decision instant.

Strategy mode matches the user's strategy on the eligible pairs and takes
the match with the highest payout. A quadrant strategy (MHI and its
relatives) decides only at its entry minutes, from the chosen candles of
the previous quadrant (glimpse.rules.quadrants). Signals mode trades the user's own
signal for the minute that is about to start, and writes its result back
into the list.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from glimpse.market.base import EXPIRY_MINUTES
from glimpse.rules.money import money_management
from glimpse.rules.patterns import PatternError, Strategy
from glimpse.rules.quadrants import QuadrantError, QuadrantRule, decide_on_candles
from glimpse.rules.selection import (
    DEFAULT_FRESHNESS_SECONDS,
    best_match,
    eligible_pairs,
    payout_of,
    payout_passes,
)
from glimpse.rules.timing import coming_minute, minute_start
from glimpse.runtime.clock import wall_span
from glimpse.runtime.config import Config
from glimpse.store import alerts, signals, strategies
from glimpse.store.accounts import Account
from glimpse.store.signals import Signal
from operational_server.copy_mode import CopyMode
from operational_server.cycle import CycleOutcome, Decision
from operational_server.market_view import Snapshot
from operational_server.mode_base import Finished, Mode, ModeHost

log = logging.getLogger(__name__)


def freshness(clock) -> float:
    """How old candles may be: 5 s of market time, but never less than a quarter of a wall
    second, which on a fast clock is what the candle writer can keep up with."""
    return max(DEFAULT_FRESHNESS_SECONDS, wall_span(clock, 0.25))


# How old the open-pairs list may be, in lister intervals (it is rewritten every interval, but not
# in the quiet seconds around the decision instant), and at least (market seconds).
LIST_INTERVALS = 4
LIST_MIN_SECONDS = 15.0


def list_freshness(clock, config: Config) -> float:
    """How old the lister's open-pairs list may be (market seconds; at least one wall second)."""
    return max(LIST_INTERVALS * float(config.lister_interval), LIST_MIN_SECONDS, wall_span(clock, 1.0))


# How many snapshots' decisions DECISIONS keeps (a process decides at one instant at a time; tests
# and a late instant may interleave a few).
MEMO_SNAPSHOTS = 4
_UNKNOWN = object()


class DecisionMemo:
    """The strategy decisions of a market snapshot, shared by the sessions of a process.

    At an instant the order desk decides for hundreds of sessions from one snapshot, and most of
    them share a strategy, a pairs setting and a payout rule: the choice (eligible pairs, matches,
    best payout) is a pure function of those and the snapshot, so it is made once per key. Keyed by
    the snapshot object itself (held here, so its id is not reused while its decisions are kept).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_snapshot: dict[int, tuple[Snapshot, dict[Any, Any]]] = {}

    def get(self, snap: Snapshot, key: Any, compute: Callable[[], Any]) -> Any:
        try:
            hash(key)
        except TypeError:  # a setting of an unexpected shape: decided alone
            return compute()
        with self._lock:
            entry = self._by_snapshot.get(id(snap))
            if entry is None or entry[0] is not snap:
                entry = self._by_snapshot[id(snap)] = (snap, {})
                while len(self._by_snapshot) > MEMO_SNAPSHOTS:
                    del self._by_snapshot[next(iter(self._by_snapshot))]
            found = entry[1].get(key, _UNKNOWN)
        if found is _UNKNOWN:
            found = compute()  # outside the lock: two threads may both compute, and agree
            with self._lock:
                entry[1].setdefault(key, found)
        return found

    def clear(self) -> None:
        with self._lock:
            self._by_snapshot.clear()


DECISIONS = DecisionMemo()


class StrategyMode:
    name = "strategy"
    # It decides from the market snapshot alone (no database write, nothing but the account as last read),
    # so the order desk's thread may decide for it at the instant (OrderDesk.arm).
    decides_from_the_market = True

    def __init__(self, session: ModeHost, user: Account):
        self.session = session
        name = user.strategy
        found = strategies.find_by_name(session.db, name)
        # The original's shape, for the money rules and the Operations log.
        self.strategy_doc: dict | None = found.public() if found is not None else None
        self.strategy: Strategy | None = None
        self.quadrant: QuadrantRule | None = None
        self.problem: str | None = None
        if found is None:
            self.problem = f"A estratégia {name!r} não existe mais."
        else:
            try:
                self.quadrant = found.quadrant_rule()
                if self.quadrant is None:
                    self.strategy = Strategy.from_document(found.rule())
            except (PatternError, QuadrantError) as exc:
                self.problem = f"A estratégia {name!r} é inválida: {exc}"
        if self.strategy is not None:
            session.market.register(self.strategy)

    def money_settings(self) -> dict:
        return money_management(self.session.user.strategy_settings, self.strategy_doc)

    def market_problem(self, instant: float) -> str | None:
        s = self.session
        snap = s.market.snapshot(instant)
        return snap.problem(s.clock.now(), list_freshness(s.clock, s.config), freshness(s.clock))

    def decide(self, instant: float) -> tuple[Decision | None, Finished | None]:
        s = self.session
        if self.strategy is None and self.quadrant is None:
            return None, (
                "strategy_missing",
                alerts.notice("Estratégia indisponível.", self.problem or "", s.clock.now()),
            )
        snap = s.market.snapshot(instant)
        user = s.user
        pairs, payout_rule = _pairs_setting(user.prefered_actives), user.prefered_payout
        now, fresh = s.clock.now(), freshness(s.clock)
        # Everything the choice depends on besides the snapshot: sessions with the same key share it.
        # The clock counts only through which pairs' candles are stale (the test eligible_pairs makes):
        # on a running clock every session reads another `now`, and most of them the same stale pairs.
        stale = tuple(now - updated > fresh for updated in snap.updated.values())
        key = (self.quadrant or self.strategy, s.market, pairs, payout_rule, instant, fresh, stale)
        best = DECISIONS.get(snap, key, lambda: self._best(snap, instant, pairs, payout_rule, now, fresh))
        if best is None:
            return None, None
        pair, direction, payout = best
        return Decision(pair, direction, payout, instant, list(snap.candles.get(pair, []))), None

    def _best(
        self, snap: Snapshot, instant: float, pairs: str, payout_rule: str, now: float, fresh: float
    ) -> tuple[str, str, int] | None:
        """(pair, direction, payout) of the match to trade, or None: a pure function of its arguments."""
        eligible = eligible_pairs(snap.actives, pairs, payout_rule, snap.updated, now, fresh)
        if not eligible:
            return None
        if self.quadrant is not None:
            # the order opens at the start of the coming minute: that is the entry minute
            entry = int(minute_start(instant) // 60) + 1
            found = [
                (pair, direction)
                for pair in eligible
                if (direction := decide_on_candles(self.quadrant, entry, snap.candles.get(pair, [])))
            ]
            best = best_match(found, eligible)
        else:
            assert self.strategy is not None
            best = best_match(self.session.market.matches(snap, self.strategy, list(eligible)), eligible)
        return None if best is None else (best[0], best[1], eligible[best[0]])

    def record(self, decision: Decision, outcome: CycleOutcome) -> None:
        pass

    def close(self) -> None:
        if self.strategy is not None:
            self.session.market.unregister(self.strategy)


class SignalsMode:
    name = "signals"
    strategy_doc: dict | None = None

    def __init__(self, session: ModeHost, user: Account):
        self.session = session
        self.started_minute = coming_minute(session.clock.now() - 60, session.config.zone)

    def money_settings(self) -> dict:
        return dict(self.session.user.signal_settings)

    def market_problem(self, instant: float) -> str | None:
        # Signals are traded on the open-pairs list (open, payout); candles only go to the log.
        s = self.session
        return s.market.snapshot(instant).problem(s.clock.now(), list_freshness(s.clock, s.config), None)

    def _signals(self) -> list[Signal]:
        found = signals.find_for_user(self.session.db, self.session.user_id)
        return found.active() if found is not None else []

    def _write(self, signal_id: str, resultado: str) -> None:
        signals.record_result(self.session.db, self.session.user_id, signal_id, resultado)

    def decide(self, instant: float) -> tuple[Decision | None, Finished | None]:
        s = self.session
        minute = coming_minute(instant, s.config.zone)
        rows = self._signals()
        # Signals whose minute went by while a cycle was running were not traded: say so.
        for sig in rows:
            if self.started_minute <= sig.hora < minute:
                self._write(sig.id, "skipped")
        due = [sig for sig in rows if sig.hora == minute]
        future = [sig for sig in rows if sig.hora > minute]
        actives = {a["ativo"]: a for a in s.market.snapshot(instant).actives}
        chosen = None
        for sig in due:
            active = actives.get(sig.ativo)
            payout = payout_of(active or {})
            tradable = active is not None and active.get("open") == "True" and payout > 0
            tradable = tradable and _expiry_of(sig) in EXPIRY_MINUTES
            if chosen is None and tradable and payout_passes(payout, s.user.prefered_payout):
                chosen = (sig, payout)
            else:
                self._write(sig.id, "skipped")
        if chosen is None:
            if not due and not future:
                return None, (
                    "signals_done",
                    alerts.notice(
                        "Lista de sinais encerrada.",
                        "Não há mais sinais ativos para hoje.",
                        s.clock.now(),
                        "info",
                    ),
                )
            return None, None
        sig, payout = chosen
        snap = s.market.snapshot(instant)
        return Decision(
            sig.ativo,
            sig.operacao,
            payout,
            instant,
            list(snap.candles.get(sig.ativo, [])),
            signal_id=sig.id,
            expiry=_expiry_of(sig),
            gale=sig.gale,
        ), None

    def record(self, decision: Decision, outcome: CycleOutcome) -> None:
        if decision.signal_id and outcome.result is not None:
            self._write(decision.signal_id, outcome.result)

    def close(self) -> None:
        pass


def _expiry_of(sig: Signal) -> int:
    """The signal's expiry in minutes: its own (M1, M5, M15), or 1 when the list named none."""
    return sig.expiry if sig.expiry is not None else 1


def _pairs_setting(prefered: str | list[str]) -> str:
    """preferedActives as the rules read it: "todos" or pairs separated by commas."""
    return ",".join(prefered) if isinstance(prefered, list) else prefered


def mode_for(session: ModeHost, user: Account) -> Mode | None:
    mode = user.mode
    if mode == "strategy":
        return StrategyMode(session, user)
    if mode == "signals":
        return SignalsMode(session, user)
    if mode == "copy":
        return CopyMode(session, user)
    return None
