"""Copy mode: trade what a followed leader's bot enters, with the follower's own money.

The signal is the leader's level-0 trade in the Trades ledger, once the
broker took it ("open": the leader's bot placed it). One watcher thread per
leader and process reads the leader's open entries (from the embedded
store's (user, decidedAt) index, or MongoDB's) as soon as a change stream
reports a write to one of them where the database has change streams (a
replica set), or at a short wall interval elsewhere, and wakes the
followers the process serves as soon as a new one appears;
each follower, for each new leader entry whose candle has not begun, places
the same pair, direction and expiry, decided at the leader's decision
instant, so the cycle drops it once the candle it was meant for has begun. The follower's
own stake (a multiplier of the leader's stake or a fixed stake), gale plan
and stops apply, and the follower runs its own gale cycle on its own
results.

A copy is an order like any other, written ahead under a client key
derived from (follower, leader trade), and its ledger id from that key: the
pending trade (trades.record_intent, which the cycle writes right before
the buy) is the claim on the copy, and the buy carries the same key. A kill
before that write leaves nothing, and the follower's next session judges
the copy again (not lost to the crash); a kill after it leaves the copy
pending or unknown, and the next session reconciles it with find_order like
any other order. A second session of the same follower (a successor, a
stale one) meets the same trade and places nothing more, and a retry of the
same buy is the same order for the broker.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from pymongo.errors import PyMongoError

from glimpse.rules.timing import minute_start
from glimpse.store import alerts, copying, trades
from glimpse.store import db as names
from glimpse.store.accounts import Account
from operational_server.cycle import CycleOutcome, Decision
from operational_server.mode_base import Finished, ModeHost

log = logging.getLogger(__name__)

# How often the process's watcher of a leader reads the leader's entries (wall seconds).
POLL_WALL_SECONDS = 0.02
# How long one `decide` call watches before handing back to the session loop (wall seconds).
WATCH_WALL_SECONDS = 1.0
# A waiting follower wakes at least this often, to see a shutdown (wall seconds).
WAKE_WALL_SECONDS = 0.25
# A watcher no follower looked at for this long ends its thread (wall seconds).
IDLE_WALL_SECONDS = 10.0
# A watcher whose last read is this old (its thread died, or a read hangs) is replaced (wall seconds).
STALE_WALL_SECONDS = 5.0
# On a change stream, the longest wait for a change before reading the entries again (wall seconds).
STREAM_WAIT_WALL_SECONDS = 1.0
# How far back a starting follower looks for a leader entry whose candle has not begun (market seconds).
LOOKBACK_SECONDS = 60.0


class _Watcher:
    """One leader's open entries in this process: read by one thread, shared by every follower here.

    The thread reads them every POLL_WALL_SECONDS and wakes the waiting
    followers as soon as they change, so a new entry reaches every follower
    at once, and hundreds of waiting followers cost one read per interval
    instead of one wake-up each.
    """

    def __init__(self, feed: _LeaderFeed, db: Any, leader: str):
        self.feed, self.db, self.leader = feed, db, leader
        self.changed = threading.Condition()
        self.entries = copying.leader_entries(db, leader, 0.0)  # read before anyone waits
        # Read with the entries, so that a new entry costs each follower no read of its own: a
        # manager's withdrawal reaches the followers within one interval.
        self.followable = copying.is_followable(db, leader)
        self.version = 0
        self.used = self.read_at = time.monotonic()
        self.thread = threading.Thread(target=self._run, name=f"copy-feed-{leader}", daemon=True)

    def current(self) -> tuple[int, list[dict[str, Any]]]:
        with self.changed:
            self.used = time.monotonic()
            return self.version, self.entries

    def wait(self, version: int, timeout: float) -> None:
        """Until the entries differ from `version`, or `timeout` wall seconds."""
        with self.changed:
            self.used = time.monotonic()
            if self.version == version:
                self.changed.wait(timeout)

    def _run(self) -> None:
        collection = self.db[names.TRADES]
        # A change stream where the database has them (a replica set); the embedded store has none.
        if hasattr(type(collection), "watch"):
            try:
                self._follow_changes(collection)
                return
            except PyMongoError as exc:  # a standalone server, or the stream broke: poll instead
                why = getattr(exc, "code", None) or type(exc).__name__
                log.info("copy feed of leader %s: no change stream (%s); polling", self.leader, why)
        while not self.feed.retire_if_idle(self):
            time.sleep(POLL_WALL_SECONDS)
            self._read()

    def _follow_changes(self, collection: Any) -> None:
        """Read the entries again as soon as one of the leader's entries is written, and at least every
        STREAM_WAIT_WALL_SECONDS (an entry settling)."""
        pipeline = [
            {
                "$match": {
                    "operationType": {"$in": ["insert", "update", "replace"]},
                    "fullDocument.user": self.leader,
                    "fullDocument.galeLevel": 0,
                }
            }
        ]
        wait_ms = int(STREAM_WAIT_WALL_SECONDS * 1000)
        with collection.watch(pipeline, full_document="updateLookup", max_await_time_ms=wait_ms) as stream:
            while not self.feed.retire_if_idle(self):
                stream.try_next()  # a change, or None once the wait is over: read again either way
                self._read()

    def _read(self) -> None:
        try:
            # Every entry not closed yet (a handful at most): each follower filters by its own start.
            entries = copying.leader_entries(self.db, self.leader, 0.0)
            followable = copying.is_followable(self.db, self.leader)
        except Exception as exc:  # the database is away: the followers keep the last entries meanwhile
            log.warning("copy feed of leader %s: entries not read: %s", self.leader, exc)
            return
        with self.changed:
            if [d["_id"] for d in entries] != [d["_id"] for d in self.entries]:
                self.version += 1
                self.changed.notify_all()
            self.entries, self.followable = entries, followable
            self.read_at = time.monotonic()


class _LeaderFeed:
    """The watchers of this process, one per (database, leader) some follower here copies."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.watchers: dict[tuple[int, str], _Watcher] = {}

    def watcher(self, db: Any, leader: str) -> _Watcher:
        # Keyed by the handle's id: the watcher holds the handle, so the id is not reused while it runs.
        key = (id(db), leader)
        with self.lock:
            found = self.watchers.get(key)
            now = time.monotonic()
            # A dead or stuck watcher would leave its followers on old entries for ever: replace it.
            if found is not None and found.thread.is_alive() and now - found.read_at < STALE_WALL_SECONDS:
                found.used = now
                return found
            if found is not None:
                log.warning("copy feed of leader %s: its watcher stopped reading; replaced", leader)
            made = self.watchers[key] = _Watcher(self, db, leader)
            made.thread.start()
        return made

    def retire_if_idle(self, watcher: _Watcher) -> bool:
        """Whether `watcher` must end: replaced, or idle (then it is forgotten here)."""
        with self.lock:
            key = (id(watcher.db), watcher.leader)
            if self.watchers.get(key) is not watcher:
                return True
            if time.monotonic() - watcher.used <= IDLE_WALL_SECONDS:
                return False
            del self.watchers[key]
            return True


FEED = _LeaderFeed()


class CopyMode:
    name = "copy"
    strategy_doc: dict | None = None
    # It looks for its leader's entries every few milliseconds, on its own thread: never armed.
    decides_from_the_market = False
    decides_ahead = False

    def __init__(self, session: ModeHost, user: Account):
        self.session = session
        self.follow = copying.following(session.db, session.user_id)
        self.since = session.clock.now() - LOOKBACK_SECONDS
        self.seen: set[str] = set()
        self.broke_alerted = False

    def money_settings(self) -> dict:
        # The follower's own gale plan and stops; the entry stake comes with each decision.
        return dict(self.session.user.strategy_settings)

    def market_problem(self, instant: float) -> str | None:
        return None  # the leader decided on fresh data; the follower only mirrors that decision

    def next_instant(self, now: float) -> float:
        """Copy mode has no decision instant of its own: `decide` watches for leader entries at once."""
        return now

    def decide(self, instant: float) -> tuple[Decision | None, Finished | None]:
        """A copy of a new leader entry, watched for up to WATCH_WALL_SECONDS.

        Watching here (the process's watcher of the leader, which wakes this
        follower when an entry appears) rather than in the session loop keeps
        a waiting follower to no database read of its own; the session looks
        at Stop, shutdown and its lease in between, and the cycle reads the
        user's status again right before the buy.
        """
        s = self.session
        if self.follow is None:
            return None, (
                "copy_unset",
                alerts.notice(
                    "Modo cópia sem trader.", "Escolha um trader para copiar antes de iniciar.", s.clock.now()
                ),
            )
        leader = self.follow.leader
        if hasattr(s.clock, "advance"):  # a manual clock: one look at the ledger, the test moves time
            entries = copying.leader_entries(s.db, leader, 0.0)
            return self._look(entries, lambda: copying.is_followable(s.db, leader)), None
        deadline = time.monotonic() + WATCH_WALL_SECONDS
        stop = getattr(s, "stop_event", None)
        watcher = FEED.watcher(s.db, leader)
        version, entries = watcher.current()
        while True:
            found = self._look(entries, lambda: watcher.followable)
            left = deadline - time.monotonic()
            if found is not None or left <= 0 or (stop is not None and stop.is_set()):
                return found, None
            watcher.wait(version, min(left, WAKE_WALL_SECONDS))
            version, entries = watcher.current()

    def _look(self, entries: list[dict[str, Any]], followable: Callable[[], bool]) -> Decision | None:
        for doc in entries:
            leader_trade = str(doc["_id"])
            if leader_trade in self.seen or float(doc.get("decidedAt") or 0.0) < self.since:
                continue
            self.seen.add(leader_trade)
            decision = self._copy(trades.Trade.from_doc(doc), followable)
            if decision is not None:
                return decision
        return None

    def _copy(self, entry: trades.Trade, followable: Callable[[], bool]) -> Decision | None:
        s = self.session
        now = s.clock.now()
        if now >= minute_start(entry.decidedAt) + 60:
            return None  # the candle the leader traded has begun: too late to copy
        if entry.status == trades.CLOSED or self.follow is None:
            return None
        if not followable():
            return None  # the manager withdrew the approval: no new entries
        stake = self.follow.stake_for(entry.amount)
        if stake <= 0 or not self._can_pay(stake):
            return None
        key = copying.claim(s.db, follower=s.user_id, leader_trade=str(entry.id), decided_at=entry.decidedAt)
        if key is None:
            log.info("user %s: copy of %s already in the ledger; not placed again", s.user_id, entry.id)
            return None
        return Decision(
            entry.ativo,
            entry.operacao,
            entry.payout,
            entry.decidedAt,
            [],
            copies=str(entry.id),
            client_key=key,
            stake=stake,
            expiry=entry.expiryMinutes,  # the leader's M1, M5 or M15: the same option
        )

    def _can_pay(self, stake: Decimal) -> bool:
        """Out of money: skip the copy (and say so once), rather than let the broker refuse it."""
        s = self.session
        broker = getattr(s, "broker", None)
        if broker is None:
            return True
        try:
            balance = Decimal(str(broker.get_balance()))
        except Exception as exc:
            log.warning("user %s: balance unknown before a copy (%s); copying anyway", s.user_id, exc)
            return True
        if balance >= stake:
            return True
        if not self.broke_alerted:
            self.broke_alerted = True
            alerts.push(
                s.db,
                s.user_id,
                alerts.notice(
                    "Saldo insuficiente para copiar.",
                    f"O saldo ({balance}) não cobre a entrada de {stake}; a cópia foi ignorada.",
                    s.clock.now(),
                    "danger",
                ),
            )
        return False

    def decision_stands(self, instant: float) -> bool:
        return False  # never decided ahead (decides_ahead): a copy follows its leader's trades as they come

    def after_decision(self) -> None:
        pass  # a copy's decision writes nothing

    def record(self, decision: Decision, outcome: CycleOutcome) -> None:
        pass

    def close(self) -> None:
        pass
