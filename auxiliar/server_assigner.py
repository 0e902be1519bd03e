"""The server assigner: every waiting user gets a live waiting server.

Each tick it releases servers whose heartbeat expired while they held a
user (the user goes back to waiting and is reassigned; whoever serves them
next reconciles their open orders), ends the Stop of users no server holds,
and then assigns every waiting user, oldest first. A user is claimed with
one conditional update (waiting → assigning) and a server with another
(waiting → assigned), so assigners running side by side never give a user
two servers. It also counts premiumDays down once a day, idempotently.

Run alone: python -m auxiliar.server_assigner
"""

from __future__ import annotations

import logging
import sys

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

    def __init__(self, ctx: ServiceContext, interval: float = 1.0):
        super().__init__(ctx, NAME, interval)
        self.assigned = 0

    def tick(self, now: float) -> None:
        config, db = self.ctx.config, self.ctx.db
        lease = wall_span(self.ctx.clock, config.lease_seconds)
        for server in lifecycle.dead_servers(db, now, lease):
            user = lifecycle.release_dead_server(db, server, now, lease)
            if user:
                log.warning("server %s stopped beating while serving user %s: released", server.name, user)
        self._finish_orphan_stops(now)
        self.assign_waiting(now)
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
