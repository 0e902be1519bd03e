"""The paper market's minute cache: candles extended minute by minute equal a full recompute."""

from __future__ import annotations

from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glimpse.market import paper_market
from glimpse.market.paper_market import PaperMarket
from glimpse.rules.pairs import PAIR_NAMES

SEED = 20240601
START = 1_717_419_600  # 2024-06-03 13:00 UTC, minute aligned


def _full(pair: str, start: int, count: int, size: int = 60, until: float | None = None) -> list[dict]:
    # Without the minute cache: the whole window computed at once, as before the cache.
    size_before = paper_market.MINUTE_CACHE_SIZE
    paper_market.MINUTE_CACHE_SIZE = 0
    try:
        return PaperMarket(SEED).candles(pair, start, count, size, until)
    finally:
        paper_market.MINUTE_CACHE_SIZE = size_before


@pytest.fixture(autouse=True)
def empty_cache():
    paper_market._SHARED_MINUTES.clear()


@pytest.mark.parametrize("pair", ["EURUSD", "USDJPY", "EURUSD-OTC"])
def test_a_streamed_window_equals_the_full_recompute_over_many_minutes(pair):
    market = PaperMarket(SEED)
    keep = 15
    # Every 7 s for 200 minutes: forming candles at every stage, minutes entering and leaving the window.
    for t in np.arange(START + 60 * keep, START + 60 * (keep + 200), 7.0):
        current = int(t // 60 * 60)
        first = current - 60 * (keep - 1)
        streamed = market.candles(pair, first, keep, 60, until=float(t))
        assert streamed == _full(pair, first, keep, 60, float(t)), (pair, t)


def test_every_pair_and_larger_candles_equal_the_full_recompute():
    market = PaperMarket(SEED)
    for pair in PAIR_NAMES:
        for offset in (0, 300, 3600, 86400):
            start = START + offset
            assert market.candles(pair, start, 20) == _full(pair, start, 20), pair
            assert market.candles(pair, start, 4, 300) == _full(pair, start, 4, 300), pair
            until = start + 3 * 300 + 123.4
            assert market.candles(pair, start, 4, 300, until) == _full(pair, start, 4, 300, until), pair


def test_overlapping_and_gapped_requests_fill_the_cache_consistently():
    market = PaperMarket(SEED)
    market.candles("GBPUSD", START + 600, 5)  # cached minutes 10..14
    market.candles("GBPUSD", START + 1800, 5)  # cached minutes 30..34
    # A window over both cached runs and the gaps around and between them.
    assert market.candles("GBPUSD", START, 60) == _full("GBPUSD", START, 60)


def test_a_long_request_bypasses_the_cache_and_the_cache_stays_bounded(monkeypatch):
    monkeypatch.setattr(paper_market, "MINUTE_CACHE_SIZE", 32)
    market = PaperMarket(SEED)
    long = market.candles("AUDCAD", START, 500)
    assert long == _full("AUDCAD", START, 500)
    for k in range(10):
        market.candles("AUDCAD", START + 600 * k, 15)
    assert len(market._minutes["AUDCAD"]) <= 32
    assert market.candles("AUDCAD", START, 15) == long[:15]


def test_cached_rows_are_not_changed_by_a_forming_candle():
    market = PaperMarket(SEED)
    until = START + 30.0
    forming = market.candles("EURJPY", START, 1, until=until)[0]
    complete = market.candles("EURJPY", START, 1)[0]
    assert forming == _full("EURJPY", START, 1, until=until)[0]
    assert complete == _full("EURJPY", START, 1)[0]


def test_markets_of_one_seed_share_their_minutes_and_quotes_read_them():
    streams, broker = PaperMarket(SEED), PaperMarket(SEED)
    window = streams.candles("EURUSD", START, 15, until=START + 14 * 60 + 30.5)
    assert broker._minutes is streams._minutes and START // 60 + 14 in broker._minutes["EURUSD"]
    assert PaperMarket(SEED + 1)._minutes is not streams._minutes
    # A quote inside cached minutes is read from them, and equals the walk down the bridge.
    times = [START + 60 * k + s for k in range(15) for s in (0.0, 17.3, 59.99)]
    cached = [broker.price("EURUSD", t) for t in times]
    paper_market._SHARED_MINUTES.clear()
    walked = [PaperMarket(SEED).price("EURUSD", t) for t in times]
    assert cached == walked
    assert window[-1]["c"] == PaperMarket(SEED).price("EURUSD", START + 14 * 60 + 30.5)


@settings(max_examples=200, deadline=None)
@given(
    pair=st.sampled_from(["EURUSD", "USDJPY", "EURUSD-OTC", "GBPJPY"]),
    t=st.floats(START - 86400 * 400, START + 86400 * 400, allow_nan=False),
)
def test_one_quote_equals_the_quote_of_the_array_path(pair, t):
    market = PaperMarket(SEED)
    quoted = market.price(pair, t)
    # Five times at once take the array path down the bridge, without the minute cache.
    walked = market.prices(pair, [t] * 5)
    assert type(quoted) is float and quoted == float(walked[0])


@settings(max_examples=200, deadline=None)
@given(
    pair=st.sampled_from(["EURUSD", "USDJPY", "EURUSD-OTC", "GBPJPY"]),
    opened=st.floats(START - 86400 * 400, START + 86400 * 400, allow_nan=False),
    minutes=st.integers(1, 15),
)
def test_a_settlements_two_quotes_minutes_apart_come_from_the_cache_and_equal_the_walk(pair, opened, minutes):
    # A turbo order bought at second 58 expires at the end of the next minute: three minutes apart.
    expires = (opened // 60 + 1 + minutes) * 60
    walked = PaperMarket(SEED).prices(pair, [opened] * 2 + [expires] * 3)  # five: the walk down the bridge
    market = PaperMarket(SEED)
    with patch.object(PaperMarket, "_tick_values", lambda *a: pytest.fail("walked down the bridge")):
        quoted = market.prices(pair, [opened, expires])
        move = int(np.sign(walked[2] - walked[0]))
        assert market.outcome(pair, "call", opened, expires) == move
    assert quoted.tolist() == [float(walked[0]), float(walked[2])]
