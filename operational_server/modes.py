"""The trading modes: what to trade at a decision instant.

Strategy mode matches the user's strategy on the eligible pairs and takes
the match with the highest payout. A quadrant strategy (MHI and its
relatives) decides only at its entry minutes, from the chosen candles of
the previous quadrant (glimpse.rules.quadrants). Signals mode trades the user's own
signal for the minute that is about to start, and writes its result back
into the list.

Both decide at the instant from what they read then and write nothing while
deciding (`decides_from_the_market`), so the order desk's thread may decide
for them (OrderDesk.arm). A write the decision calls for (a signal list's
skipped rows) waits in the mode until the session calls `after_decision()`:
on the desk's path once the desk has answered, otherwise right after `decide`.

Both decide as at the instant: the age of the market data is judged at the
instant, not at the reading of a running clock. So the desk may decide them
ahead of the instant (`decides_ahead`), on a market read it checks at the
instant. A signals decision also depends on the user's list: it is read ahead
too, and the decision is handed over only when the list read at the instant is
the same (`decision_stands`); otherwise it is made again. So a signal removed
up to the instant is not traded either way.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
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
from glimpse.store.signals import Signal, SignalList
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

# How many instants' signal lists LISTS keeps (as MEMO_SNAPSHOTS; tests interleave databases too).
LIST_INSTANTS = 8


class SignalListMemo:
    """The signal lists of a process's signal sessions, read once per decision instant.

    At an instant the order desk decides for every armed session in its one thread. A find_one
    per user scans the whole Signals collection on the embedded store (125 lists: 25 ms against
    2 ms for one `$in`), so the first session to need an instant's lists reads the lists of every
    registered user of its database in one query. That read happens when first needed, which is
    at the instant (the desk's thread has slept until it; a session without the desk has waited
    for it): a signal removed up to the instant is not traded. A read ahead of the instant (for
    decisions made ahead, `ahead`) is kept apart and never served at the instant.

    A list read before one of the user's own result writes is never used after it: each write
    bumps the user's version, and a list is served only at the version it was read at (otherwise
    read again, alone), so a signal whose result is written is no longer active to any decision.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # id(db) -> (db, how many sessions registered each user); the db is held so its id is not reused.
        self._users: dict[int, tuple[Any, Counter[str]]] = {}
        self._versions: dict[tuple[int, str], int] = {}
        # (id(db), instant, read ahead of it) -> (db, user -> (version read at, the list or None when they
        # have none)). A read ahead of the instant is kept apart: it is never served at the instant.
        self._read: dict[tuple[int, float, bool], tuple[Any, dict[str, tuple[int, SignalList | None]]]] = {}

    def register(self, db: Any, user: str) -> None:
        with self._lock:
            self._users.setdefault(id(db), (db, Counter()))[1][user] += 1

    def unregister(self, db: Any, user: str) -> None:
        with self._lock:
            entry = self._users.get(id(db))
            if entry is None or entry[0] is not db:
                return
            entry[1][user] -= 1
            if entry[1][user] <= 0:
                del entry[1][user]
                self._versions.pop((id(db), user), None)
            if not entry[1]:
                del self._users[id(db)]

    def written(self, db: Any, user: str) -> None:
        """The user's list was just written: lists read before are not served to them any more."""
        with self._lock:
            key = (id(db), user)
            self._versions[key] = self._versions.get(key, 0) + 1

    def get(self, db: Any, user: str, instant: float, ahead: bool = False) -> SignalList | None:
        """The user's list as read at `instant` (read now for every registered user on first need), or,
        `ahead`, as read ahead of it (for a decision made ahead, which the read at the instant confirms)."""
        key = (id(db), instant, ahead)
        # Under the lock: the sessions of an instant wait for the one read rather than each making it.
        with self._lock:
            version = self._versions.get((id(db), user), 0)
            entry = self._read.get(key)
            if entry is not None and entry[0] is db:
                found = entry[1].get(user)
                if found is not None and found[0] == version:
                    return found[1]
                wanted = [user]  # registered since the read, or wrote since: this user alone
            else:
                entry = self._read[key] = (db, {})
                while len(self._read) > LIST_INSTANTS:
                    del self._read[next(iter(self._read))]
                registered = self._users.get(id(db))
                others = list(registered[1]) if registered is not None and registered[0] is db else []
                wanted = list(dict.fromkeys([user, *others]))
            try:
                lists = signals.find_for_users(db, wanted)
            except BaseException:
                if not entry[1]:
                    self._read.pop(key, None)  # nothing read: the next need tries again
                raise
            for one in wanted:
                entry[1][one] = (self._versions.get((id(db), one), 0), lists.get(one))
            return lists.get(user)

    def clear(self) -> None:
        with self._lock:
            self._read.clear()


LISTS = SignalListMemo()


class StrategyMode:
    name = "strategy"
    # It decides at the instant from what it reads then (the market snapshot, the account as last read)
    # and writes nothing while deciding, so the order desk's thread may decide for it (OrderDesk.arm).
    decides_from_the_market = True
    decides_ahead = True

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
        # As at the instant (see the module's docstring): the same answer ahead of it and at it.
        return snap.problem(instant, list_freshness(s.clock, s.config), freshness(s.clock))

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
        # The data's age is judged as at the instant (see the module's docstring).
        now, fresh = instant, freshness(s.clock)
        # Everything the choice depends on besides the snapshot: sessions with the same key share it.
        # The clock counts only through which pairs' candles are stale (the test eligible_pairs makes).
        stale = snap.stale_pairs(now, fresh)
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

    def decision_stands(self, instant: float) -> bool:
        return True  # it depends on the market snapshot alone, which the desk checks

    def after_decision(self) -> None:
        pass  # a strategy's decision writes nothing

    def record(self, decision: Decision, outcome: CycleOutcome) -> None:
        pass

    def close(self) -> None:
        if self.strategy is not None:
            self.session.market.unregister(self.strategy)


class SignalsMode:
    name = "signals"
    strategy_doc: dict | None = None
    # It decides from the open-pairs list and the user's list as read at the instant (LISTS), and
    # defers the writes of skipped rows to after_decision(): the order desk's thread may decide for it.
    decides_from_the_market = True
    decides_ahead = True  # on the list read ahead, which decision_stands() compares with the instant's

    def __init__(self, session: ModeHost, user: Account):
        self.session = session
        self.started_minute = coming_minute(session.clock.now() - 60, session.config.zone)
        self._skipped: list[str] = []  # ids the last decision skipped, written by after_decision()
        self._decided_on: SignalList | None = None  # the list the last decision read
        LISTS.register(session.db, session.user_id)

    def money_settings(self) -> dict:
        return dict(self.session.user.signal_settings)

    def market_problem(self, instant: float) -> str | None:
        # Signals are traded on the open-pairs list (open, payout); candles only go to the log. As at the
        # instant, like a strategy's (the module's docstring).
        s = self.session
        return s.market.snapshot(instant).problem(instant, list_freshness(s.clock, s.config), None)

    def _signals(self, instant: float) -> list[Signal]:
        s = self.session
        found = LISTS.get(s.db, s.user_id, instant, ahead=s.market.deciding_ahead_of(instant))
        self._decided_on = found
        return found.active() if found is not None else []

    def decision_stands(self, instant: float) -> bool:
        """Whether the list the last decision read (ahead of the instant) is the list read at it."""
        s = self.session
        at_instant = LISTS.get(s.db, s.user_id, instant)
        return at_instant is self._decided_on or at_instant == self._decided_on

    def _write(self, signal_id: str, resultado: str) -> None:
        try:
            signals.record_result(self.session.db, self.session.user_id, signal_id, resultado)
        finally:  # even when it failed: it may have been written before the error reached us
            LISTS.written(self.session.db, self.session.user_id)

    def decide(self, instant: float) -> tuple[Decision | None, Finished | None]:
        """The signal to trade at `instant`; writes nothing (the skipped rows wait for after_decision())."""
        s = self.session
        self._skipped = []
        minute = coming_minute(instant, s.config.zone)
        rows = self._signals(instant)
        # Signals whose minute went by while a cycle was running were not traded: say so.
        skipped = [sig.id for sig in rows if self.started_minute <= sig.hora < minute]
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
                skipped.append(sig.id)
        self._skipped = skipped
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

    def after_decision(self) -> None:
        """Write the rows the last decision skipped (in the session's thread, never the desk's)."""
        # Not kept on a failure: each of them is before the next decision's minute, which skips it again.
        skipped, self._skipped = self._skipped, []
        for signal_id in skipped:
            self._write(signal_id, "skipped")

    def record(self, decision: Decision, outcome: CycleOutcome) -> None:
        if decision.signal_id and outcome.result is not None:
            self._write(decision.signal_id, outcome.result)

    def close(self) -> None:
        LISTS.unregister(self.session.db, self.session.user_id)


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
