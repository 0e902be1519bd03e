"""The order desk's cost per order: one decision instant of N strategy users of one process.

On the embedded store (mongomock) and the paper market, N users (default 375, the simulation's
strategy users: its demo strategies, which match every minute) are operating, each on a server of
the process's pool, with their paper accounts connected and their Glimpse sessions begun, as the
operational server leaves them. The lister and the candle streams fill the market data up to the
instant (ManualClock). Then one instant's entries are decided and sent:

- desk: OrderDesk._decide on every session's armed entry, as the conductor thread runs it at the
  instant, in its parts of ARMED_BATCH; each phase (decide, check, record, send, mark) is timed in
  wall and thread CPU (`time.thread_time`). What happens before the instant is timed apart: the
  sessions' arming (their context and their ledger checks, OrderDesk.precheck), `arming_ms`, and
  the conductor's decisions ahead of the instant (OrderDesk._decide_ahead: one market read, and
  market_problem, decide and first_ticket for each entry, as UserSession._armed_step builds them,
  then one read of the accounts and the write of their intents, OrderDesk._write_ahead), `ahead_ms`.
  The market does not move in between, so every decision made ahead stands, as at 1x in the quiet
  seconds before the instant, and the record phase at the instant has nothing left to write;
- baseline: the same decisions sent one by one as a session without a desk does (cycle.run_cycle's
  path up to the order marked open: its Stop read, stop and blocking checks, write-ahead, broker
  call, mark open), on a twin world built alike.

Each round builds both worlds afresh and runs them in alternating order, so load hits both alike;
`instant_to_last_sent_ms` is the wall time from the instant to the last order sent. The figures
are the median of the rounds, with min and max beside them. `ratio_vs_one_by_one` = one-by-one
time / desk time (above 1: the desk is faster). Prints ONE JSON object.

    .venv/bin/python bench/desk.py [--users 375] [--rounds 5] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import pstats
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this folder comes first on the path, and its api.py would hide the api package.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

from auxiliar.candles_starter import CandleStreams  # noqa: E402
from auxiliar.lister import Lister  # noqa: E402
from glimpse.cli.simulate import _users  # noqa: E402
from glimpse.market import open_broker  # noqa: E402
from glimpse.market.paper import PaperBroker  # noqa: E402
from glimpse.runtime import security  # noqa: E402
from glimpse.runtime.clock import ManualClock  # noqa: E402
from glimpse.runtime.config import load_config  # noqa: E402
from glimpse.runtime.services import ServiceContext  # noqa: E402
from glimpse.store import accounts, trades  # noqa: E402
from glimpse.store import db as names  # noqa: E402
from glimpse.store.db import new_embedded_database  # noqa: E402
from glimpse.store.seed import seed_database  # noqa: E402
from operational_server import cycle  # noqa: E402
from operational_server.desk import Armed, Decided, OrderDesk, Ticket, first_ticket  # noqa: E402
from operational_server.market_view import MarketView  # noqa: E402
from operational_server.modes import mode_for  # noqa: E402
from operational_server.session import ServerIdentity, UserSession  # noqa: E402
from tests.pipeline.test_cycle_rules import start_session  # noqa: E402

# Monday 2024-06-03 10:00 in São Paulo (the market is open); the decision at second 58.5.
START = 1_717_419_600.0
INSTANT = START + 58.5
PHASES = ("decide", "check", "record", "send", "mark")


class World:
    """N strategy users operating in one process's server pool, just before the instant."""

    def __init__(self, users: int):
        self.config = load_config({}).with_(password_hash_profile="test", servers=users)
        self.db = db = new_embedded_database("Desk")
        seed_database(db)
        self.clock = clock = ManualClock(INSTANT - 20)
        ctx = ServiceContext(config=self.config, db=db, clock=clock)
        lister, streams = Lister(ctx), CandleStreams(ctx)
        # The simulation's users (a quarter of them trade signals: those are left out here).
        ids = _users(ctx, users * 4 // 3 + 1, 5)
        strategy_ids = [u for u in ids if (a := accounts.find_by_id(db, u)) and a.mode == "strategy"][:users]
        while clock.now() < INSTANT - 1:  # the market data of the last seconds, as the services write it
            lister.tick(clock.now())
            streams.tick(clock.now())
            clock.advance(1.0)
        clock.set(INSTANT - 1)
        self.market = MarketView(db)
        self.desk = OrderDesk(db, embedded=True, view=self.market)
        self.sessions: list[UserSession] = []
        self.modes: list[Any] = []
        for i, user_id in enumerate(strategy_ids):
            server = f"s{i + 1}"
            accounts_col = db[names.ACCOUNTS]
            account = accounts.find_by_id(db, user_id)
            assert account is not None
            accounts_col.update_one(
                {"_id": account.id}, {"$set": {"glimpseStatus": "operating", "server": server}}
            )
            db[names.SERVERS].insert_one(
                {"name": server, "incarnation": "i1", "status": "operating", "target": user_id,
                 "uptime": clock.now()}
            )  # fmt: skip
            session = UserSession(ctx, ServerIdentity(server, "i1"), user_id, self.market, threading.Event(),
                                  desk=self.desk)  # fmt: skip
            secret = self.config.secret_key.get_secret_value()
            password = security.decrypt_secret(secret, account.iq_password) if account.iq_password else ""
            broker = open_broker(self.config, db, clock, account.iq_email, password)
            assert isinstance(broker, PaperBroker)
            broker.connect()
            session.broker = broker
            session.reload_user()
            mode = mode_for(session, session.user)
            assert mode is not None and mode.name == "strategy"
            start_session(
                session, mode.money_settings(), session.user.settings["glimpse"]["operationPriority"]
            )
            self.sessions.append(session)
            self.modes.append(mode)
        clock.set(INSTANT)

    def prepares(self) -> list[Callable[[], Decided]]:
        """Each session's decision (returning its hand-over), as UserSession._armed_step builds it
        when it arms (with the session's context and its ledger checks, OrderDesk.precheck, read then)."""

        def decide_for(session: UserSession, mode: Any) -> Callable[[], Decided]:
            ctx = session.cycle_context()
            precheck = self.desk.precheck(ctx)

            def decide() -> Decided:
                ticket = None
                if mode.market_problem(INSTANT) is None:
                    decision, _finished = mode.decide(INSTANT)
                    ticket = None if decision is None else first_ticket(ctx, decision, precheck)
                return Decided(ticket, lambda: ticket)

            return decide

        return [decide_for(s, m) for s, m in zip(self.sessions, self.modes, strict=True)]

    def open_orders(self) -> int:
        return self.db[names.TRADES].count_documents({"status": trades.OPEN})


class Phases:
    """Wall and thread-CPU seconds spent in each phase (the desk's methods, wrapped on the instance)."""

    def __init__(self) -> None:
        self.wall = dict.fromkeys(PHASES, 0.0)
        self.cpu = dict.fromkeys(PHASES, 0.0)
        self.last_sent = 0.0

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.wall[name] += time.perf_counter() - wall
                self.cpu[name] += time.thread_time() - cpu
                if name == "send":
                    self.last_sent = time.perf_counter()

        return timed


def run_desk(world: World, profile: cProfile.Profile | None = None) -> dict[str, Any]:
    desk, phases = world.desk, Phases()
    for name in PHASES[1:]:
        setattr(desk, f"_{name}", phases.wrap(name, getattr(desk, f"_{name}")))
    armed_at = time.perf_counter()
    decides = world.prepares()  # the sessions' arming, in their own threads before the instant
    arming = time.perf_counter() - armed_at
    batch = [Armed(INSTANT, phases.wrap("decide", lambda d=d: d().hand_over()), ahead=d) for d in decides]
    # The conductor's decisions ahead of the instant, in the quiet seconds before it.
    world.clock.set(INSTANT - 0.2)
    desk._armed[INSTANT] = list(batch)
    ahead_at = time.perf_counter()
    early, decided = desk._decide_ahead(INSTANT, world.clock)
    ahead = time.perf_counter() - ahead_at
    del desk._armed[INSTANT]
    world.clock.set(INSTANT)
    assert len(decided) == len(batch) and desk._stands(INSTANT, early), "a decision made ahead did not stand"
    for armed, made in decided.items():
        armed.hand_over = phases.wrap("decide", made.hand_over)
    gc.collect()  # building the worlds left garbage: its collection is no part of either path
    start_wall, start_cpu = time.perf_counter(), time.thread_time()
    if profile is not None:
        profile.enable()
    desk._decide(batch)
    if profile is not None:
        profile.disable()
    wall, cpu = time.perf_counter() - start_wall, time.thread_time() - start_cpu
    tickets = [a.ticket for a in batch if a.ticket is not None]
    sent = [t for t in tickets if t.fill is not None]
    assert all(a.error is None for a in batch), [a.error for a in batch if a.error]
    assert all(t.marked for t in sent), "an order was not marked open by the desk"
    return {
        "orders": len(sent),
        "wall_ms": wall * 1000,
        "cpu_ms": cpu * 1000,
        "instant_to_last_sent_ms": (phases.last_sent - start_wall) * 1000 if sent else None,
        "arming_ms": arming * 1000,
        "ahead_ms": ahead * 1000,
        "phases_wall_ms": {k: v * 1000 for k, v in phases.wall.items()},
        "phases_cpu_ms": {k: v * 1000 for k, v in phases.cpu.items()},
        "open_in_ledger": world.open_orders(),
    }


def send_alone(ctx: cycle.CycleContext, ticket: Ticket) -> bool:
    """The first entry as cycle.run_cycle sends it without a desk, up to the trade marked open."""
    decision = ticket.decision
    if not ctx.user_operating() or ctx.clock.now() >= cycle.decision_expiry(decision):
        return False
    if cycle._stop_reason(ctx) or trades.is_blocked(ctx.db, ctx.user_id, ctx.session_id):
        return False
    sent_at = ctx.clock.now()
    trade = cycle.write_intent(ctx, decision, ticket.amount, 0, sent_at, ticket.cycle)
    fill = cycle._place(ctx, decision, trade.id, trade.clientKey, ticket.amount, 0, sent_at)
    trades.mark_open(ctx.db, trade.id, fill.order_id, ctx.clock.now(), fill.open_quote,
                     expires_at=fill.expires_at, quote_source=fill.quote_source)  # fmt: skip
    return True


def run_alone(world: World) -> dict[str, Any]:
    decides = world.prepares()  # the one-by-one path reads its ledger checks again, at the instant
    gc.collect()
    start_wall, start_cpu = time.perf_counter(), time.thread_time()
    sent, last_sent = 0, start_wall
    for decide in decides:
        ticket = decide().hand_over()  # a session without the desk decides at the instant
        if ticket is not None and send_alone(ticket.ctx, ticket):
            sent += 1
            last_sent = time.perf_counter()
    wall, cpu = time.perf_counter() - start_wall, time.thread_time() - start_cpu
    return {
        "orders": sent,
        "wall_ms": wall * 1000,
        "cpu_ms": cpu * 1000,
        "instant_to_last_sent_ms": (last_sent - start_wall) * 1000,
        "open_in_ledger": world.open_orders(),
    }


def spread(values: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=375)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="also print the desk's cProfile to stderr")
    args = parser.parse_args()
    load_before = list(os.getloadavg())
    desk_runs: list[dict[str, Any]] = []
    alone_runs: list[dict[str, Any]] = []
    profile = cProfile.Profile() if args.profile else None
    for round_ in range(args.rounds):
        desk_world, alone_world = World(args.users), World(args.users)
        if round_ % 2:
            alone_runs.append(run_alone(alone_world))
            desk_runs.append(run_desk(desk_world, profile))
        else:
            desk_runs.append(run_desk(desk_world, profile))
            alone_runs.append(run_alone(alone_world))
        assert desk_runs[-1]["orders"] == alone_runs[-1]["orders"], "the two paths sent different orders"
        assert desk_runs[-1]["open_in_ledger"] == desk_runs[-1]["orders"]
    orders = desk_runs[0]["orders"]
    desk_wall = [r["wall_ms"] for r in desk_runs]
    alone_wall = [r["wall_ms"] for r in alone_runs]
    report: dict[str, Any] = {
        "users": args.users,
        "rounds": args.rounds,
        "orders_per_instant": orders,
        "desk": {
            "wall_ms": spread(desk_wall),
            "cpu_ms": spread([r["cpu_ms"] for r in desk_runs]),
            "ms_per_order": spread([w / max(1, orders) for w in desk_wall]),
            "instant_to_last_sent_ms": spread([r["instant_to_last_sent_ms"] for r in desk_runs]),
            "arming_ms": spread([r["arming_ms"] for r in desk_runs]),
            "ahead_ms": spread([r["ahead_ms"] for r in desk_runs]),
            "phases_wall_ms": {p: spread([r["phases_wall_ms"][p] for r in desk_runs]) for p in PHASES},
            "phases_cpu_ms": {p: spread([r["phases_cpu_ms"][p] for r in desk_runs]) for p in PHASES},
        },
        "one_by_one": {
            "wall_ms": spread(alone_wall),
            "cpu_ms": spread([r["cpu_ms"] for r in alone_runs]),
            "ms_per_order": spread([w / max(1, orders) for w in alone_wall]),
            "instant_to_last_sent_ms": spread([r["instant_to_last_sent_ms"] for r in alone_runs]),
        },
        "ratio_vs_one_by_one": round(statistics.median(alone_wall) / statistics.median(desk_wall), 2),
        "load_average": {"start": load_before, "end": list(os.getloadavg())},
    }
    if profile is not None:
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(45)
        print(out.getvalue(), file=sys.stderr)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
