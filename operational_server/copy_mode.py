"""Copy mode: trade what a followed leader's bot enters, with the follower's own money.

The signal is the leader's level-0 trade in the Trades ledger, written
before the leader's buy ("pending", then "open"). A follower's session
polls the ledger at a short wall interval (one query per leader and
interval per process, shared by every follower the process serves) and,
for each new leader entry whose candle has not begun, places the same
pair and direction, decided at the leader's decision instant, so the
cycle drops it once the candle it was meant for has begun. The follower's
own stake (a multiplier of the leader's stake or a fixed stake), gale plan
and stops apply, and the follower runs its own gale cycle on its own
results.

A copy is an order like any other, written ahead under a client key
derived from (follower, leader trade), and its ledger id from that key: the
claim in CopyFanout, then the pending trade (trades.record_intent, which the
cycle writes right before the buy), then the buy with the same key. A kill
between the claim and the trade leaves a claim with no trade, which the
follower's next session takes over (the copy is judged again, never lost
to the crash); a kill after the trade leaves it pending or unknown, and
the next session reconciles it with find_order like any other order. A
second session of the same follower (a successor, a stale one) meets the
same trade and places nothing more, and a retry of the same buy is the same
order for the broker.
"""

from __future__ import annotations

import logging
import threading
import time
from decimal import Decimal
from typing import Any

from glimpse.rules.timing import minute_start
from glimpse.store import alerts, copying, trades
from glimpse.store.accounts import Account
from operational_server.cycle import CycleOutcome, Decision
from operational_server.mode_base import Finished, ModeHost

log = logging.getLogger(__name__)

# How often a follower looks for a new leader entry (wall seconds).
POLL_WALL_SECONDS = 0.05
# How long one `decide` call watches before handing back to the session loop (wall seconds).
WATCH_WALL_SECONDS = 1.0
# How far back a starting follower looks for a leader entry whose candle has not begun (market seconds).
LOOKBACK_SECONDS = 60.0


class _LeaderFeed:
    """The leader entries read once per poll interval for every follower of this process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.cache: dict[tuple[int, str], tuple[float, list[dict[str, Any]]]] = {}

    def entries(self, db: Any, leader: str, since: float) -> list[dict[str, Any]]:
        key = (id(db), leader)
        now = time.monotonic()
        with self.lock:
            hit = self.cache.get(key)
            if hit is None or now - hit[0] >= POLL_WALL_SECONDS:
                # Every entry not closed yet (a handful at most): each follower filters by its own start.
                hit = (now, copying.leader_entries(db, leader, 0.0))
                self.cache[key] = hit
        return [d for d in hit[1] if float(d.get("decidedAt") or 0.0) >= since]


FEED = _LeaderFeed()


class CopyMode:
    name = "copy"
    strategy_doc: dict | None = None

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

        Watching here (the shared feed, in memory between its reads) rather than
        in the session loop keeps a waiting follower to a few database reads a
        second; the session looks at Stop, shutdown and its lease in between,
        and the cycle reads the user's status again right before the buy.
        """
        s = self.session
        if hasattr(s.clock, "advance"):  # a manual clock: one look, the test moves time
            return self._look()
        deadline = time.monotonic() + WATCH_WALL_SECONDS
        stop = getattr(s, "stop_event", None)
        while True:
            found = self._look()
            if found != (None, None) or time.monotonic() >= deadline or (stop is not None and stop.is_set()):
                return found
            time.sleep(POLL_WALL_SECONDS)

    def _look(self) -> tuple[Decision | None, Finished | None]:
        s = self.session
        if self.follow is None:
            return None, (
                "copy_unset",
                alerts.notice(
                    "Modo cópia sem trader.", "Escolha um trader para copiar antes de iniciar.", s.clock.now()
                ),
            )
        leader = self.follow.leader
        for doc in FEED.entries(s.db, leader, self.since):
            leader_trade = str(doc["_id"])
            if leader_trade in self.seen:
                continue
            self.seen.add(leader_trade)
            decision = self._copy(trades.Trade.from_doc(doc))
            if decision is not None:
                return decision, None
        return None, None

    def _copy(self, entry: trades.Trade) -> Decision | None:
        s = self.session
        now = s.clock.now()
        if now >= minute_start(entry.decidedAt) + 60:
            return None  # the candle the leader traded has begun: too late to copy
        if entry.status == trades.CLOSED or self.follow is None:
            return None
        if not copying.is_followable(s.db, self.follow.leader):
            return None  # the manager withdrew the approval: no new entries
        stake = self.follow.stake_for(entry.amount)
        if stake <= 0 or not self._can_pay(stake):
            return None
        key = copying.claim(
            s.db,
            follower=s.user_id,
            leader=self.follow.leader,
            leader_trade=str(entry.id),
            decided_at=entry.decidedAt,
            server_session=str(getattr(s, "server_session", "")),
            now=now,
        )
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

    def record(self, decision: Decision, outcome: CycleOutcome) -> None:
        pass

    def close(self) -> None:
        pass
