"""The market-data services' cost per tick: the candle streams and the lister, against their old way.

On the embedded store, for the paper broker and (with --iq) the iqoption adapter
against the fake IQ Option server on loopback, it runs the services' ticks one
market second apart on a manual clock (paper) or on the wall clock (IQ Option,
whose streams are pushed by the server) and measures the CPU time of each tick:

- candles: CandleStreams.tick (the minute cache of the paper market; only what
  changed written) against the old tick, reproduced here: the whole 15-candle
  window of every open pair recomputed (a fresh PaperMarket) and upserted whole;
- lister: Lister.tick (only changes written) against the old one (every pair
  upserted every tick).

Interleaved (old, new, old, new, ...) so the machine's load hits both alike.
Prints one JSON object; ratio_vs_old = old time / new time (above 1: faster now).

    .venv/bin/python bench/market_services.py [--ticks 120] [--iq]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this folder comes first on the path, and its api.py would hide the api package.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

from auxiliar.candles_starter import KEEP, CandleStreams  # noqa: E402
from auxiliar.lister import Lister, listing  # noqa: E402
from glimpse.market.paper_market import PaperMarket  # noqa: E402
from glimpse.rules.pairs import PAIR_NAMES  # noqa: E402
from glimpse.runtime.clock import ManualClock, SystemClock, local_datetime  # noqa: E402
from glimpse.runtime.config import load_config  # noqa: E402
from glimpse.runtime.services import ServiceContext  # noqa: E402
from glimpse.store import db as names  # noqa: E402
from glimpse.store.db import new_embedded_database, upsert_all  # noqa: E402
from glimpse.store.seed import seed_database  # noqa: E402
from tests.fakes.iq_launcher import fake_iq_server, websocket_url  # noqa: E402

START = 1_717_419_600.0  # Monday 2024-06-03 10:00 in São Paulo: the market is open


def old_candle_tick(ctx: ServiceContext, rows: dict[str, list[dict]]) -> None:
    """The old streams' write: every open pair's whole window, every tick."""
    now = ctx.clock.now()
    docs = [
        {"ativo": p, "candles": [dict(c) for c in cs], "lastUpdated": now} for p, cs in rows.items() if cs
    ]
    upsert_all(ctx.db[names.REALTIME_CANDLES], "ativo", docs)


def old_paper_rows(ctx: ServiceContext, pairs: list[str]) -> dict[str, list[dict]]:
    """The old paper stream: the whole window recomputed for each pair (a fresh market has no cache)."""
    now = ctx.clock.now()
    current = now // 60 * 60
    config = ctx.config
    market = PaperMarket(config.paper_seed, config.paper_payout_min, config.paper_payout_max)
    rows = {}
    for pair in pairs:
        market._minutes.clear()
        rows[pair] = market.candles(pair, current - 60 * (KEEP - 1), KEEP, 60, until=now)
    return rows


def old_lister_tick(ctx: ServiceContext, lister: Lister, now: float) -> None:
    assets = lister.account.get().open_assets()
    schedules = {doc["ativo"]: doc for doc in ctx.db[names.ACTIVES_SCHEDULE].find({}, {"_id": 0})}
    docs = listing(assets, schedules, local_datetime(now, ctx.config.zone))
    upsert_all(ctx.db[names.OPENED_ACTIVES], "ativo", [dict(d, updatedAt=now) for d in docs])


def cpu_ms(fn) -> float:
    start = time.process_time()
    fn()
    return (time.process_time() - start) * 1000


def summary(old: list[float], new: list[float]) -> dict[str, Any]:
    old_ms, new_ms = statistics.mean(old), statistics.mean(new)
    return {
        "old_ms_per_tick": round(old_ms, 3),
        "new_ms_per_tick": round(new_ms, 3),
        "ratio_vs_old": round(old_ms / new_ms, 2) if new_ms else None,
    }


def run_paper(ticks: int) -> dict[str, Any]:
    config = load_config({}).with_(password_hash_profile="test")
    db_new, db_old = new_embedded_database("New"), new_embedded_database("Old")
    seed_database(db_new)
    seed_database(db_old)
    clock = ManualClock(START)
    new_ctx = ServiceContext(config=config, db=db_new, clock=clock)
    old_ctx = ServiceContext(config=config, db=db_old, clock=clock)
    lister_new, lister_old = Lister(new_ctx), Lister(old_ctx)
    streams = CandleStreams(new_ctx)
    lister_new.tick(clock.now())
    old_lister_tick(old_ctx, lister_old, clock.now())
    pairs = [d["ativo"] for d in db_new[names.OPENED_ACTIVES].find({"open": "True"}, {"ativo": 1})]
    candles_old, candles_new, list_old, list_new = [], [], [], []
    for _ in range(ticks):
        now = clock.now()
        candles_old.append(cpu_ms(lambda: old_candle_tick(old_ctx, old_paper_rows(old_ctx, pairs))))
        candles_new.append(cpu_ms(lambda now=now: streams.tick(now)))
        list_old.append(cpu_ms(lambda now=now: old_lister_tick(old_ctx, lister_old, now)))
        list_new.append(cpu_ms(lambda now=now: lister_new.tick(now)))
        # The same candles are stored either way.
        stored = {d["ativo"]: d["candles"] for d in db_new[names.REALTIME_CANDLES].find({}, {"_id": 0})}
        expected = {d["ativo"]: d["candles"] for d in db_old[names.REALTIME_CANDLES].find({}, {"_id": 0})}
        assert stored == expected, "the streams stored other candles than the old way"
        clock.advance(1.0)
    return {
        "open_pairs": len(pairs),
        "candles": summary(candles_old, candles_new),
        "lister": summary(list_old, list_new),
    }


def run_iq(ticks: int) -> dict[str, Any]:
    with fake_iq_server() as base:
        config = load_config(
            {
                "GLIMPSE_BROKER": "iqoption",
                "GLIMPSE_IQ_HTTP_BASE": base,
                "GLIMPSE_IQ_WS_URL": websocket_url(base),
                "GLIMPSE_MARKET_EMAIL": "market@example.com",
                "GLIMPSE_MARKET_PASSWORD": "fake-password",  # the fake server's default
            }
        ).with_(password_hash_profile="test")
        db_new, db_old = new_embedded_database("IqNew"), new_embedded_database("IqOld")
        seed_database(db_new)
        seed_database(db_old)
        clock = SystemClock()
        new_ctx = ServiceContext(config=config, db=db_new, clock=clock)
        old_ctx = ServiceContext(config=config, db=db_old, clock=clock)
        lister_new = Lister(new_ctx)
        lister_new.tick(clock.now())
        old_lister_tick(old_ctx, lister_new, clock.now())  # one connection: the lister's, shared
        streams = CandleStreams(new_ctx)
        # The iqoption client keeps its state in module globals: one connection per process, shared here.
        streams.account = lister_new.account
        streams.tick(clock.now())  # starts the streams
        broker = streams._streaming
        assert broker is not None
        pairs = [d["ativo"] for d in db_new[names.OPENED_ACTIVES].find({"open": "True"}, {"ativo": 1})]
        candles_old, candles_new, list_old, list_new = [], [], [], []
        for _ in range(ticks):
            now = clock.now()
            rows = {p: broker.stream_candles(p) for p in pairs if p in PAIR_NAMES}
            candles_old.append(cpu_ms(lambda rows=rows: old_candle_tick(old_ctx, rows)))
            candles_new.append(cpu_ms(lambda now=now: streams.tick(now)))
            list_old.append(cpu_ms(lambda now=now: old_lister_tick(old_ctx, lister_new, now)))
            list_new.append(cpu_ms(lambda now=now: lister_new.tick(now)))
            time.sleep(0.25)
        lister_new.teardown()
        return {
            "open_pairs": len(pairs),
            "note": "the old candle tick is timed on the rows already read (reading is the same either way)",
            "candles": summary(candles_old, candles_new),
            "lister": summary(list_old, list_new),
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ticks", type=int, default=120)
    parser.add_argument(
        "--iq", action="store_true", help="also measure the iqoption adapter on the fake server"
    )
    args = parser.parse_args()
    report: dict[str, Any] = {
        "ticks": args.ticks,
        "load_average": list(os.getloadavg()),
        "paper": run_paper(args.ticks),
    }
    if args.iq:
        report["iqoption"] = run_iq(max(10, args.ticks // 4))
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
