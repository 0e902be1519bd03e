"""The server assigner: every waiting user gets a live waiting server.

Each tick it releases servers whose heartbeat expired while they held a
user (the user goes back to waiting and is reassigned; whoever serves them
next reconciles their open orders), ends the Stop of users no server holds,
and then assigns every waiting user, oldest first. With servers to spare, it
then gives users who are off but have a trade only the broker can resolve
(unknown, pending, or open past its expiry) a reconcile-only session: the
server asks the broker and is freed, the user stays off (continuous
reconciliation, issue 10). A user is claimed with
one conditional update (waiting → assigning) and a server with another
(waiting → assigned), so assigners running side by side never give a user
two servers. It also counts premiumDays down once a day, idempotently.

Run alone: python -m auxiliar.server_assigner
"""

from __future__ import annotations

import logging
import sys
import time

from bson import ObjectId

from glimpse.rules.timing import local_day
from glimpse.runtime.clock import wall_span
from glimpse.runtime.services import ServiceContext, run_standalone
from glimpse.runtime.ticker import Ticker, TickerService
from glimpse.store import accounts, alerts, lifecycle
from glimpse.store import db as names
from glimpse.store import trades as ledger

log = logging.getLogger(__name__)
NAME = "Server Assigner"
COUNTDOWN = "premiumCountdown"
# How often an off user's unresolved trades are asked about again (market seconds; at least RECONCILE_MIN_WALL).
RECONCILE_EVERY_SECONDS = 15.0
RECONCILE_MIN_WALL_SECONDS = 0.5
# How often waiting users are assigned (market seconds; the ticker's wall floor applies).
ASSIGN_INTERVAL_SECONDS = 0.2
# How often the rest of the round runs (market seconds; at least HOUSEKEEPING_MIN_WALL_SECONDS of wall time).
HOUSEKEEPING_SECONDS = 1.0
HOUSEKEEPING_MIN_WALL_SECONDS = 0.25


def count_down_premium(db, now: float, zone) -> bool:
    """Take one day off every subscription, once per day in GLIMPSE_TZ; True if this call did it."""
    today = local_day(now, zone)
    aux = db[names.AUXILIAR]
    aux.update_one({"name": COUNTDOWN}, {"$setOnInsert": {"value": today}}, upsert=True)
    claimed = aux.find_one_and_update(
        {"name": COUNTDOWN, "value": {"$lt": today}}, {"$set": {"value": today}}
    )
    if claimed is None:
        return False
    accounts.count_down_premium_days(db)
    return True


class Assigner(Ticker):
    quiet_around_decisions = True
    # On a fast clock, a round every tenth of a wall second at most (each reads the waiting users).
    min_wall_seconds = 0.1

    def __init__(self, ctx: ServiceContext, interval: float = ASSIGN_INTERVAL_SECONDS):
        super().__init__(ctx, NAME, interval)
        self.assigned = 0
        self.reconciles = 0
        self._next_reconcile: dict[str, float] = {}  # user -> time.monotonic() of their next try
        self._housekept: float | None = None  # clock time of the last housekeeping round

    def tick(self, now: float) -> None:
        # A user who pressed Start waits for at most one short interval; releasing dead servers,
        # ending orphan Stops, reconciling off users and the premium count-down (reads over whole
        # collections) need not run that often.
        config, db = self.ctx.config, self.ctx.db
        every = max(HOUSEKEEPING_SECONDS, wall_span(self.ctx.clock, HOUSEKEEPING_MIN_WALL_SECONDS))
        housekeeping = self._housekept is None or not 0 <= now - self._housekept < every
        if housekeeping:
            self._housekept = now
            lease = wall_span(self.ctx.clock, config.lease_seconds)
            for server in lifecycle.dead_servers(db, now, lease):
                user = lifecycle.release_dead_server(db, server, now, lease)
                if user:
                    log.warning(
                        "server %s stopped beating while serving user %s: released", server.name, user
                    )
            self._finish_orphan_stops(now)
        self.assign_waiting(now)
        if housekeeping:
            # After the waiting users: an off user's reconciliation takes only a server to spare.
            self.reconcile_off_users(now)
            count_down_premium(db, now, config.zone)

    def _finish_orphan_stops(self, now: float) -> None:
        """Users stopping with no server: off at once, unless an order of theirs is still open."""
        db = self.ctx.db
        for user in accounts.stopping_without_server(db):
            if ledger.open_trades(db, str(user.id)):
                continue  # a server must settle it first: assign_waiting gives them one
            accounts.end_orphan_stop(
                db, user, alerts.make(user, alerts.STOPPED, "Você parou o Glimpse.", now)
            )

    def reconcile_off_users(self, now: float) -> int:
        """Give off users with trades only the broker can resolve a reconcile-only session; how many got one."""
        db, clock = self.ctx.db, self.ctx.clock
        every = max(RECONCILE_EVERY_SECONDS, wall_span(clock, RECONCILE_MIN_WALL_SECONDS))
        wall_every = every / getattr(clock, "speed", 1.0)
        claims = lifecycle.ServerClaims(db, now, wall_span(clock, self.ctx.config.lease_seconds))
        started = 0
        for user_id in ledger.users_to_reconcile(db, now):
            if self._next_reconcile.get(user_id, 0.0) > time.monotonic():
                continue
            user = accounts.find_by_id(db, user_id)
            if user is None or user.glimpse_status != "off" or user.server or lifecycle.held(db, user_id):
                continue  # a session (or a reconcile-only one) takes care of them
            server = claims.claim(user_id, lifecycle.new_assignment(), purpose=lifecycle.RECONCILE)
            if server is None:
                break  # no server to spare this tick
            self._next_reconcile[user_id] = time.monotonic() + wall_every
            log.info("user %s is off with unresolved trades: %s reconciles them", user_id, server)
            started += 1
        self.reconciles += started
        moment = time.monotonic()
        self._next_reconcile = {u: t for u, t in self._next_reconcile.items() if t > moment}
        return started

    def assign_waiting(self, now: float) -> int:
        config, db = self.ctx.config, self.ctx.db
        waiting = accounts.awaiting_server(db)
        claims = lifecycle.ServerClaims(db, now, wall_span(self.ctx.clock, config.lease_seconds))
        servers_left = True
        count = 0
        for user in waiting:
            if user.id is None:
                continue
            uid: ObjectId = user.id
            status = user.glimpse_status
            if status == "stopping" and not ledger.open_trades(db, str(uid)):
                continue
            if status == "waiting" and user.premium_days <= 0:
                lifecycle.deny(
                    db,
                    uid,
                    "waiting",
                    alerts.notice(
                        "Não é assinante", "Sua assinatura terminou: use um código para renová-la.", now
                    ),
                )
                continue
            assignment = lifecycle.new_assignment()
            server = claims.claim(str(uid), assignment) if servers_left else None
            if server is None:
                servers_left = False
                since = user.waiting_since or now
                if status == "waiting" and now - since > wall_span(
                    self.ctx.clock, config.assign_grace_seconds
                ):
                    lifecycle.deny(
                        db,
                        uid,
                        "waiting",
                        alerts.notice(
                            "Sem operadores disponíveis",
                            "Nenhum servidor livre agora; tente de novo em instantes.",
                            now,
                        ),
                    )
                continue
            if lifecycle.claim_user(db, uid, status, server, self.ctx.clock.now(), assignment=assignment):
                count += 1
            else:
                lifecycle.unclaim_server(db, server, str(uid), assignment=assignment)
        self.assigned += count
        return count


service = TickerService("server_assigner", Assigner)

if __name__ == "__main__":
    sys.exit(run_standalone(service.name, service.start))
