"""What the bots see of the market at a decision instant, read once per process.

Every session of a process decides at the same instant, so the open pairs
and the realtime candles are read from MongoDB once per instant, and every
registered strategy is matched in one numpy pass (operational_server.sequence_finder)
over the colour matrix of the pairs.

Market data can go stale (the lister or the candle streams stopped):
`problem` says so, and the bots decide nothing on such a snapshot.
"""

from __future__ import annotations

import copy
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from glimpse.rules.patterns import Strategy
from glimpse.store import db as names
from glimpse.store.db import every_document
from operational_server.desk import OrderDesk
from operational_server.sequence_finder import candles_by_pair, find_all

MAX_CACHED_INSTANTS = 4
STALE_LIST = "open-pairs list stale"
STALE_CANDLES = "candles stale"


@dataclass
class Snapshot:
    instant: float
    actives: list[dict]
    docs: list[dict]  # RealtimeCandles
    candles: dict[str, list[dict]]
    updated: dict[str, float]
    matches: dict[Strategy, list[tuple[str, str]]] = field(default_factory=dict)

    # Cached: at an instant the order desk asks one snapshot for every session of the process.
    @cached_property
    def listed_at(self) -> float | None:
        """When the lister last wrote the open-pairs list (its newest entry), or None without one."""
        times = [float(a["updatedAt"]) for a in self.actives if isinstance(a.get("updatedAt"), (int, float))]
        return max(times) if times else None

    @cached_property
    def open_pairs(self) -> list[str]:
        return [str(a.get("ativo")) for a in self.actives if a.get("open") == "True"]

    @cached_property
    def candles_written_at(self) -> float:
        """When the candles of an open pair were last written (the newest of them; -inf without any)."""
        return max((self.updated.get(pair, float("-inf")) for pair in self.open_pairs), default=float("-inf"))

    @cached_property
    def oldest_update(self) -> float:
        """When the pair whose candles were written longest ago was written (inf without any)."""
        return min(self.updated.values(), default=float("inf"))

    def stale_pairs(self, now: float, bound: float) -> tuple[bool, ...] | None:
        """For each pair of `updated`, whether its candles are older than `bound` at `now`; None when none is.

        Every session of an instant asks at its own `now` of a running clock, and most of them
        find no pair stale: that answer costs one comparison."""
        if now - self.oldest_update <= bound:
            return None
        return tuple(now - updated > bound for updated in self.updated.values())

    def same_data(self, other: Snapshot) -> bool:
        """Whether `other` read the very same open-pairs list and candles (so every decision agrees)."""
        return self.actives == other.actives and self.docs == other.docs

    def problem(self, now: float, list_bound: float, candle_bound: float | None) -> str | None:
        """Why this market data may not be decided on, or None when it is fresh.

        The open-pairs list must be younger than `list_bound`; with a
        `candle_bound`, at least one open pair must have candles younger than
        it (the streams write every open pair). A market with no open pair
        is closed, not stale.
        """
        listed = self.listed_at
        if self.actives and (listed is None or now - listed > list_bound):
            return STALE_LIST
        if candle_bound is not None:
            if self.open_pairs and not now - self.candles_written_at <= candle_bound:
                return STALE_CANDLES
        return None


def _by_pair(doc: dict) -> tuple[int, str]:
    """The order of a find sorted by ativo: a document without a pair name first."""
    pair = doc.get("ativo")
    return (1, pair) if isinstance(pair, str) else (0, "")


class MarketView:
    def __init__(self, db: Any):
        self.db = db
        self._lock = threading.Lock()
        self._snapshots: dict[float, Snapshot] = {}
        self._strategies: Counter[Strategy] = Counter()
        self._desk: OrderDesk | None = None
        self._failed: tuple[float, Exception] | None = None  # the last failed read: its instant, its error
        self._early: dict[float, Snapshot] = {}  # read ahead of their instant (see early)
        self._local = threading.local()  # .early: the snapshot this thread decides ahead on

    def desk(self, embedded: bool) -> OrderDesk:
        """The process's order desk: its sessions share it as they share this view."""
        with self._lock:
            if self._desk is None:
                self._desk = OrderDesk(self.db, embedded, view=self)
            return self._desk

    def register(self, strategy: Strategy) -> None:
        with self._lock:
            self._strategies[strategy] += 1

    def unregister(self, strategy: Strategy) -> None:
        with self._lock:
            self._strategies[strategy] -= 1
            if self._strategies[strategy] <= 0:
                del self._strategies[strategy]

    def early(self, instant: float) -> Snapshot:
        """The market read now, ahead of `instant`, to decide on before it (see OrderDesk.arm).

        It is never served as the instant's snapshot unless the read at the instant finds the very
        same data (Snapshot.same_data): then that read adopts it, and every decision made on it
        ahead is the one the instant would have made.
        """
        snap = self._read(instant)
        with self._lock:
            self._early[instant] = snap
            for old in sorted(self._early)[:-MAX_CACHED_INSTANTS]:
                del self._early[old]
        return snap

    @contextmanager
    def deciding_early(self, snap: Snapshot) -> Iterator[None]:
        """In this thread, snapshot(snap.instant) is `snap` (read ahead) until the block ends."""
        self._local.early = snap
        try:
            yield
        finally:
            self._local.early = None

    def deciding_ahead_of(self, instant: float) -> bool:
        """Whether this thread decides ahead of `instant` (in deciding_early)."""
        early = getattr(self._local, "early", None)
        return early is not None and early.instant == instant

    def snapshot(self, instant: float) -> Snapshot:
        early = getattr(self._local, "early", None)
        if early is not None and early.instant == instant:
            return early
        # Every session of the process asks at the same instant: the one that reads takes the lock,
        # the others read the cached snapshot without it. Hundreds of threads queueing for a lock
        # that each holds for a lookup woke one by one, each waiting for the interpreter lock too:
        # at 500 sessions that queue was most of the time from the decision instant to the order.
        snap = self._snapshots.get(instant)
        if snap is not None:
            return snap
        with self._lock:
            snap = self._snapshots.get(instant)
            if snap is None:
                if self._failed is not None and self._failed[0] == instant:
                    # One read per instant, a failed one too: the order desk decides for hundreds of
                    # sessions in one thread, and each would otherwise wait out the same dead database.
                    raise copy.copy(self._failed[1])
                try:
                    snap = self._read(instant)
                except Exception as exc:
                    self._failed = (instant, exc)
                    raise
                ahead = self._early.pop(instant, None)
                if ahead is not None and ahead.same_data(snap):
                    snap = ahead  # nothing changed since: the decisions made on it ahead stand
                self._snapshots[instant] = snap
                for old in sorted(self._snapshots)[:-MAX_CACHED_INSTANTS]:
                    del self._snapshots[old]
            return snap

    def _read(self, instant: float) -> Snapshot:
        actives = every_document(self.db[names.OPENED_ACTIVES], {"_id": 0})
        docs = sorted(every_document(self.db[names.REALTIME_CANDLES], {"_id": 0}), key=_by_pair)
        updated = {doc["ativo"]: float(doc.get("lastUpdated") or 0) for doc in docs if doc.get("ativo")}
        return Snapshot(instant, actives, docs, candles_by_pair(docs), updated)

    def matches(self, snap: Snapshot, strategy: Strategy, pairs: list[str]) -> list[tuple[str, str]]:
        """The strategy's matches among `pairs`, in the original order (primary by pair, then mirrored)."""
        found = snap.matches.get(strategy)  # computed once per instant for every strategy: no lock then
        if found is None:
            with self._lock:
                if strategy not in snap.matches:
                    wanted = [*self._strategies, strategy]
                    for s, found_s in find_all(snap.docs, wanted).items():
                        snap.matches.setdefault(s, found_s)
                found = snap.matches[strategy]
        allowed = set(pairs)
        return [m for m in found if m[0] in allowed]
