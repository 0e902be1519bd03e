"""The lister and the candle streams write only what changed, and what they store stays exact."""

from __future__ import annotations

import pytest

from auxiliar import candles_starter
from auxiliar.candles_starter import KEEP, REFRESH_SECONDS, CandleStreams
from auxiliar.lister import STAMP_INTERVALS, Lister
from glimpse.market.paper_market import PaperMarket
from glimpse.runtime.services import ServiceContext
from glimpse.store import db as names
from glimpse.store.seed import seed_database


@pytest.fixture
def ctx(config, db, clock):
    seed_database(db)
    return ServiceContext(config=config, db=db, clock=clock)


def _window(ctx, pair: str) -> list[dict]:
    now = ctx.clock.now()
    current = int(now // 60 * 60)
    market = PaperMarket(ctx.config.paper_seed, ctx.config.paper_payout_min, ctx.config.paper_payout_max)
    return market.candles(pair, current - 60 * (KEEP - 1), KEEP, 60, until=now)


def _stored(ctx) -> dict[str, dict]:
    return {d["ativo"]: d for d in ctx.db[names.REALTIME_CANDLES].find({}, {"_id": 0})}


class CountingWrites:
    def __init__(self, monkeypatch):
        self.ops: list[tuple[dict, dict, bool]] = []
        real = candles_starter._write

        def write(collection, ops, embedded):
            self.ops += ops
            return real(collection, ops, embedded)

        monkeypatch.setattr(candles_starter, "_write", write)


def test_the_stored_candles_equal_the_stream_at_every_tick_across_minutes(ctx, monkeypatch):
    Lister(ctx).tick(ctx.clock.now())
    streams = CandleStreams(ctx)
    writes = CountingWrites(monkeypatch)
    partial = whole = 0
    for _ in range(150):  # 2.5 minutes, one tick a second
        streams.tick(ctx.clock.now())
        stored = _stored(ctx)
        assert stored, "the open pairs are streamed"
        for pair in ("EURUSD", "USDJPY", "GBPJPY"):
            assert stored[pair]["candles"] == _window(ctx, pair), (pair, ctx.clock.now())
            assert ctx.clock.now() - stored[pair]["lastUpdated"] < REFRESH_SECONDS + 1
        partial += sum(1 for _, u, _ in writes.ops if "candles" not in u["$set"])
        whole += sum(1 for _, u, _ in writes.ops if "candles" in u["$set"])
        writes.ops.clear()
        ctx.clock.advance(1.0)
    # Within a minute only the forming candle is written; the window is written whole at a roll-over.
    assert partial > 10 * whole > 0


def test_an_unchanged_pair_is_not_written_until_its_stamp_gets_old(ctx, monkeypatch):
    Lister(ctx).tick(ctx.clock.now())
    streams = CandleStreams(ctx)
    streams.tick(ctx.clock.now())
    first = _stored(ctx)
    writes = CountingWrites(monkeypatch)
    streams.tick(ctx.clock.now())  # the same instant: nothing moved, nothing old
    assert writes.ops == [] and _stored(ctx) == first
    ctx.clock.advance(REFRESH_SECONDS)
    streams.tick(ctx.clock.now())
    assert all(d["lastUpdated"] == ctx.clock.now() for d in _stored(ctx).values())


def test_another_writer_in_between_gets_the_window_rewritten_whole(ctx):
    Lister(ctx).tick(ctx.clock.now())
    streams = CandleStreams(ctx)
    streams.tick(ctx.clock.now())
    ctx.clock.advance(0.5)
    ctx.db[names.REALTIME_CANDLES].update_one(
        {"ativo": "EURUSD"}, {"$set": {"candles": [], "lastUpdated": ctx.clock.now()}}
    )
    for _ in range(3):
        ctx.clock.advance(1.0)
        streams.tick(ctx.clock.now())
    assert _stored(ctx)["EURUSD"]["candles"] == _window(ctx, "EURUSD")


def test_the_lister_writes_only_changes_and_keeps_its_stamp_fresh(ctx):
    lister = Lister(ctx)
    coll = ctx.db[names.OPENED_ACTIVES]
    t0 = ctx.clock.now()
    lister.tick(t0)
    listed = {d["ativo"]: d for d in coll.find({}, {"_id": 0})}
    assert listed and all(d["updatedAt"] == t0 for d in listed.values())
    assert any(d["open"] == "True" for d in listed.values())
    ctx.clock.advance(lister.interval)
    lister.tick(ctx.clock.now())
    assert {d["ativo"]: d for d in coll.find({}, {"_id": 0})} == listed  # nothing changed: nothing written
    # A write from elsewhere (the updateAtivos route) is put right on the next tick.
    coll.update_one({"ativo": "EURUSD"}, {"$set": {"payout": "1"}})
    ctx.clock.advance(lister.interval)
    t2 = ctx.clock.now()
    lister.tick(t2)
    now_listed = {d["ativo"]: d for d in coll.find({}, {"_id": 0})}
    assert now_listed["EURUSD"]["payout"] == listed["EURUSD"]["payout"]
    assert now_listed["EURUSD"]["updatedAt"] == t2
    # Unchanged entries get their stamp refreshed once it is STAMP_INTERVALS intervals old.
    assert STAMP_INTERVALS == 2 and all(now_listed[p]["updatedAt"] == t2 for p in listed)
    assert {k: {f: v for f, v in d.items() if f != "updatedAt"} for k, d in now_listed.items()} == {
        k: {f: v for f, v in d.items() if f != "updatedAt"} for k, d in listed.items()
    }


def test_a_ticks_partial_writes_find_each_pairs_document_by_id_not_by_a_scan(ctx, monkeypatch):
    from mongomock.collection import Collection

    Lister(ctx).tick(ctx.clock.now())
    ctx.clock.set((ctx.clock.now() // 60 + 1) * 60 + 10)  # second 10: the next ticks stay in this minute
    streams = CandleStreams(ctx)
    streams.tick(ctx.clock.now())  # the first write is whole, by pair
    ids = {d["ativo"]: d["_id"] for d in ctx.db[names.REALTIME_CANDLES].find({}, {"ativo": 1})}
    writes = CountingWrites(monkeypatch)
    general: list[dict] = []  # updates mongomock made itself: it matches every document, and copies
    real = Collection._update

    def counted(self, spec, document, *args, **kwargs):
        general.append(spec)
        return real(self, spec, document, *args, **kwargs)

    monkeypatch.setattr(Collection, "_update", counted)
    for _ in range(3):
        ctx.clock.advance(1.0)
        streams.tick(ctx.clock.now())
    assert writes.ops and all(f["_id"] == ids[f["ativo"]] for f, _, _ in writes.ops)
    assert general == []
    assert _stored(ctx)["EURUSD"]["candles"] == _window(ctx, "EURUSD")


def test_a_pairs_document_replaced_by_another_writer_is_written_whole_and_then_by_its_new_id(
    ctx, monkeypatch
):
    Lister(ctx).tick(ctx.clock.now())
    ctx.clock.set((ctx.clock.now() // 60 + 1) * 60 + 10)  # the ticks below stay in this minute
    streams = CandleStreams(ctx)
    streams.tick(ctx.clock.now())
    coll = ctx.db[names.REALTIME_CANDLES]
    old = coll.find_one({"ativo": "EURUSD"})
    coll.delete_one({"_id": old["_id"]})
    coll.insert_one({"ativo": "EURUSD", "candles": [], "lastUpdated": ctx.clock.now()})
    for _ in range(3):  # the partial write misses; the next tick writes it whole; then partial again
        ctx.clock.advance(1.0)
        streams.tick(ctx.clock.now())
    (doc,) = coll.find({"ativo": "EURUSD"})
    assert doc["_id"] != old["_id"] and doc["candles"] == _window(ctx, "EURUSD")
    writes = CountingWrites(monkeypatch)
    ctx.clock.advance(REFRESH_SECONDS)  # its stamp at least is written
    streams.tick(ctx.clock.now())
    (partial,) = [f for f, u, _ in writes.ops if f["ativo"] == "EURUSD"]
    assert partial["_id"] == doc["_id"] and "lastUpdated" in partial
