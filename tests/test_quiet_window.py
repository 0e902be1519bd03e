"""Background services keep quiet around the decision instant, and only until its orders are out."""

from __future__ import annotations

import pytest

from auxiliar.candles_starter import CandleStreams
from auxiliar.lister import Lister
from glimpse.rules.timing import (
    QUIET_AFTER_SECONDS,
    QUIET_BEFORE_SECONDS,
    QUIET_BEFORE_WALL_SECONDS,
    quiet_before,
    quiet_window,
)
from glimpse.runtime.clock import ManualClock
from glimpse.runtime.services import ServiceContext
from glimpse.runtime.ticker import Ticker
from glimpse.store import db as names
from glimpse.store.seed import seed_database

MINUTE = 1_717_419_600.0  # second 0 of a minute


def test_the_quiet_window_ends_shortly_after_the_instant_at_real_speed():
    start, end = quiet_window(58.5)
    assert start == pytest.approx(58.5 - QUIET_BEFORE_SECONDS)
    assert end == pytest.approx(58.5 + QUIET_AFTER_SECONDS) and end < 60


def test_on_a_fast_clock_the_quiet_lasts_wall_time_and_never_past_the_minute():
    assert quiet_window(58.5, speed=2)[1] == pytest.approx(58.5 + 2 * QUIET_AFTER_SECONDS)
    assert quiet_window(58.5, speed=60) == pytest.approx((58.5 - 60 * QUIET_BEFORE_WALL_SECONDS, 60.0))
    assert quiet_window(30.0, speed=10)[1] == pytest.approx(30.0 + 10 * QUIET_AFTER_SECONDS)
    assert quiet_window(58.5, speed=0.5)[1] == pytest.approx(
        58.5 + QUIET_AFTER_SECONDS
    )  # a slow clock: market time


def test_the_quiet_before_the_instant_lasts_market_time_but_never_less_than_its_wall_floor():
    # At 1x (production) and on a slowish fast clock: 0.3 market seconds.
    assert quiet_before(1.0) == quiet_before(2.0) == QUIET_BEFORE_SECONDS
    assert quiet_window(58.5, speed=2)[0] == pytest.approx(58.5 - QUIET_BEFORE_SECONDS)
    # At 60x 0.3 market seconds are 5 wall ms, less than the order desk needs to decide ahead.
    assert quiet_before(60.0) == pytest.approx(60 * QUIET_BEFORE_WALL_SECONDS)
    assert quiet_before(60.0) / 60 >= QUIET_BEFORE_WALL_SECONDS > QUIET_BEFORE_SECONDS / 60


@pytest.mark.parametrize(("second", "speed"), [(60.0, 1.0), (-1.0, 1.0), (58.5, 0.0), (58.5, -2.0)])
def test_a_bad_decision_second_or_speed_is_refused(second, speed):
    with pytest.raises(ValueError):
        quiet_window(second, speed)


class _Recorder(Ticker):
    quiet_around_decisions = True
    min_wall_seconds = 0.0

    def __init__(self, ctx: ServiceContext, ticks: int):
        super().__init__(ctx, "Recorder", interval=0.1)
        self.at: list[float] = []
        self.wanted = ticks

    def tick(self, now: float) -> None:
        self.at.append(now % 60)
        if len(self.at) >= self.wanted:
            self.stop_event.set()


def test_a_ticker_in_the_quiet_time_resumes_when_the_orders_are_out_not_at_the_minutes_end(config, db):
    clock = ManualClock(MINUTE + 58.3)  # a user pressed Start just after the quiet time began
    ticker = _Recorder(ServiceContext(config=config.with_(decision_second=58.5), db=db, clock=clock), ticks=2)
    ticker.run()
    first, second = ticker.at
    assert first == pytest.approx(58.5 + QUIET_AFTER_SECONDS)  # it used to wait for second 60
    assert second == pytest.approx(first + 0.1)  # then ticks at its interval


def test_a_ticker_outside_the_quiet_time_ticks_at_once(config, db):
    clock = ManualClock(MINUTE + 10)
    ticker = _Recorder(ServiceContext(config=config.with_(decision_second=58.5), db=db, clock=clock), ticks=1)
    ticker.run()
    assert ticker.at == [pytest.approx(10.0)]


def _slow(monkeypatch, service, clock: ManualClock, seconds: float) -> None:
    """The service's broker connection takes `seconds` of the clock to hand over (a busy interpreter)."""
    real = service.account.get

    def get():
        found = real()
        clock.advance(seconds)
        return found

    monkeypatch.setattr(service.account, "get", get)


@pytest.mark.parametrize("began, written", [(58.0, False), (58.9, True), (57.0, True)])
def test_a_candle_write_whose_tick_began_before_the_quiet_time_is_not_made_in_it(
    config, db, monkeypatch, began, written
):
    # At 1x the quiet time is [58.2, 58.9): a tick begun at 58.0 that reaches its write at 58.3 would
    # land after the order desk's read ahead of the instant, and every decision made on it would be
    # made again at the instant.
    clock = ManualClock(MINUTE + began)
    ctx = ServiceContext(config=config.with_(decision_second=58.5), db=db, clock=clock)
    seed_database(db)
    Lister(ctx).tick(clock.now())
    streams = CandleStreams(ctx)
    _slow(monkeypatch, streams, clock, 0.3)
    streams.tick(clock.now())
    stored = db[names.REALTIME_CANDLES].count_documents({})
    assert (stored > 0) is written
    if not written:
        clock.set(MINUTE + 59.0)  # after the quiet time: the next tick writes it all
        streams.tick(clock.now())
        assert db[names.REALTIME_CANDLES].count_documents({}) > 0


@pytest.mark.parametrize("began, written", [(58.0, False), (58.9, True)])
def test_an_open_pairs_write_whose_tick_began_before_the_quiet_time_is_not_made_in_it(
    config, db, monkeypatch, began, written
):
    clock = ManualClock(MINUTE + began)
    ctx = ServiceContext(config=config.with_(decision_second=58.5), db=db, clock=clock)
    seed_database(db)
    listed = db[names.OPENED_ACTIVES]
    seeded = list(listed.find({}, {"_id": 0}))
    lister = Lister(ctx)
    _slow(monkeypatch, lister, clock, 0.3)
    lister.tick(clock.now())
    assert (list(listed.find({}, {"_id": 0})) != seeded) is written
