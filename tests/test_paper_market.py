"""glimpse.market.paper_market: a deterministic, realistic price model."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glimpse.market.paper_market import FLAT_MINUTE_RATE, PaperMarket
from glimpse.rules.pairs import PAIR_NAMES, PAIRS

SEED = 20240601
MONTH_START = 1_714_532_400  # 2024-05-01 00:00 in São Paulo (03:00 UTC)
MONTH = 30 * 1440
TARGET = {1: 49.0, -1: 48.0, 0: 3.0}  # the real month: 49.1 % green, 48.0 % red, 3.0 % doji


@pytest.fixture(scope="module")
def market() -> PaperMarket:
    return PaperMarket(SEED)


def mix(colours: np.ndarray) -> dict[int, float]:
    return {c: float((colours == c).mean() * 100) for c in (1, -1, 0)}


# --- determinism --------------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_market_in_every_instance():
    a, b = PaperMarket(SEED), PaperMarket(SEED)
    times = MONTH_START + np.array([0.0, 0.5, 59.9, 3600.25, 86400 * 7 + 13.7])
    assert np.array_equal(a.prices("EURUSD", times), b.prices("EURUSD", times))
    assert a.candles("USDJPY", MONTH_START, 50) == b.candles("USDJPY", MONTH_START, 50)
    assert np.array_equal(a.colours("GBPUSD", MONTH_START, 1440), b.colours("GBPUSD", MONTH_START, 1440))
    assert a.payout("EURUSD", date(2024, 5, 2)) == b.payout("EURUSD", date(2024, 5, 2))


def test_seeds_and_pairs_give_different_paths():
    a, b = PaperMarket(1), PaperMarket(2)
    assert not np.array_equal(a.colours("EURUSD", MONTH_START, 1440), b.colours("EURUSD", MONTH_START, 1440))
    assert not np.array_equal(
        a.colours("EURUSD", MONTH_START, 1440), a.colours("EURUSD-OTC", MONTH_START, 1440)
    )


@settings(max_examples=60, deadline=None)
@given(offset=st.floats(min_value=0, max_value=3e7, allow_nan=False), pair=st.sampled_from(PAIR_NAMES))
def test_a_single_price_equals_the_vectorised_candles(market, offset, pair):
    """Every path to a price (one point, candles, colours) computes the same quote."""
    t = MONTH_START + offset
    start = int(t // 60 * 60)
    candle = market.candles(pair, start, 1, until=t)[0]
    assert market.price(pair, start) == candle["o"]
    assert market.price(pair, t) == candle["c"]
    full = market.candles(pair, start, 1)[0]
    assert market.price(pair, start + 59.99) == full["c"]
    assert full["l"] <= candle["l"] <= candle["h"] <= full["h"]
    colour = market.colours(pair, start, 1)[0]
    assert colour == np.sign(round((full["c"] - full["o"]) * 10 ** PAIRS[pair].decimals))


# --- realism ------------------------------------------------------------------------------------


def test_quotes_have_realistic_levels_and_decimals(market):
    for pair in PAIR_NAMES:
        spec = PAIRS[pair]
        a = market.candle_arrays(pair, MONTH_START, 3 * 1440)
        quotes = np.concatenate([a["o"], a["c"], a["h"], a["l"]])
        assert np.all(np.abs(quotes / spec.level - 1) < 0.08), pair
        assert np.array_equal(np.round(quotes, spec.decimals), quotes), pair
        assert not np.array_equal(np.round(quotes, spec.decimals - 1), quotes), pair
    assert (
        1.0 < market.price("EURUSD", MONTH_START) < 1.16 and 138 < market.price("USDJPY", MONTH_START) < 162
    )


def test_one_minute_volatility_is_realistic(market):
    for pair in PAIR_NAMES:
        a = market.candle_arrays(pair, MONTH_START, 5 * 1440)
        returns = np.diff(a["c"]) / a["c"][:-1]
        assert 5e-5 < returns.std() < 3e-4, pair
        assert np.all(a["l"] <= np.minimum(a["o"], a["c"])) and np.all(a["h"] >= np.maximum(a["o"], a["c"]))


def test_thirty_days_of_every_pair_have_the_real_colour_mix(market):
    for pair in PAIR_NAMES:
        shares = mix(market.colours(pair, MONTH_START, MONTH))
        for colour, target in TARGET.items():
            assert abs(shares[colour] - target) <= 1.5, (pair, shares)


@pytest.mark.parametrize("seed", [0, 7, 123456789])
def test_the_colour_mix_holds_for_other_seeds_and_months(seed):
    shares = mix(PaperMarket(seed).colours("EURUSD", MONTH_START + 90 * 86400, MONTH))
    for colour, target in TARGET.items():
        assert abs(shares[colour] - target) <= 1.5, shares


def test_colours_are_nearly_independent_like_the_real_market(market):
    colours = market.colours("EURUSD", MONTH_START, MONTH)
    moves = colours[colours != 0]
    same = float((moves[1:] == moves[:-1]).mean())
    assert 0.47 < same < 0.53  # the real month: 0.497


def test_flat_minutes_are_dojis_with_one_quote(market):
    a = market.candle_arrays("EURUSD", MONTH_START, 1440 * 10)
    flat = a["h"] == a["l"]
    assert 0.2 * FLAT_MINUTE_RATE < flat.mean() < 3 * FLAT_MINUTE_RATE
    assert np.all(a["o"][flat] == a["c"][flat])
    colours = market.colours("EURUSD", MONTH_START, 1440 * 10)
    assert np.array_equal(colours == 0, a["o"] == a["c"])


# --- candles ------------------------------------------------------------------------------------


def test_candles_are_aligned_oldest_first_and_aggregate_to_larger_sizes(market):
    minutes = market.candles("EURUSD", MONTH_START, 10)
    assert [c["from"] for c in minutes] == [MONTH_START + 60 * i for i in range(10)]
    five = market.candles("EURUSD", MONTH_START, 2, size=300)
    for big, group in zip(five, (minutes[:5], minutes[5:]), strict=True):
        assert big["from"] == group[0]["from"]
        assert big["o"] == group[0]["o"] and big["c"] == group[-1]["c"]
        assert big["h"] == max(c["h"] for c in group) and big["l"] == min(c["l"] for c in group)


def test_a_forming_candle_reveals_nothing_after_until(market):
    start = MONTH_START + 600
    for second in (0.0, 1.0, 30.0, 59.0):
        until = start + second
        forming = market.candles("GBPUSD", start, 1, until=until)[0]
        assert forming["c"] == market.price("GBPUSD", until)
        ticks = market.prices("GBPUSD", start + np.arange(0, second + 0.001, 0.9375))
        assert forming["h"] == ticks.max() and forming["l"] == ticks.min()
    with pytest.raises(ValueError, match="not happened"):
        market.candles("GBPUSD", start + 60, 1, until=start + 30)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda m: m.price("XXXYYY", MONTH_START), "unknown pair"),
        (lambda m: m.price("EURUSD", -1), "non-negative"),
        (lambda m: m.candles("EURUSD", MONTH_START + 1, 3), "aligned"),
        (lambda m: m.candles("EURUSD", MONTH_START, 3, size=90), "multiple of 60"),
        (lambda m: m.colours("EURUSD", MONTH_START + 30, 3), "aligned"),
        (lambda m: m.colours("EURUSD", MONTH_START, -1), "non-negative"),
        (lambda m: m.payout("EURUSD", "monday"), "day"),
        (lambda m: m.outcome("EURUSD", "up", MONTH_START, MONTH_START + 60), "direction"),
        (lambda m: m.outcome("EURUSD", "call", MONTH_START, MONTH_START), "after"),
    ],
)
def test_bad_arguments_raise_value_errors(market, call, message):
    with pytest.raises(ValueError, match=message):
        call(market)


def test_bad_constructor_arguments_are_refused():
    with pytest.raises(ValueError, match="seed"):
        PaperMarket(-1)
    with pytest.raises(ValueError, match="payouts"):
        PaperMarket(1, payout_min=95, payout_max=90)


# --- payouts and settlements --------------------------------------------------------------------


def test_payouts_are_daily_integers_within_the_configured_range():
    market = PaperMarket(SEED)
    days = range(19_000, 19_400)
    values = [market.payout("EURUSD", d) for d in days]
    assert all(isinstance(v, int) and 80 <= v <= 92 for v in values)
    assert set(values) == set(range(80, 93))  # the whole range occurs
    assert market.payout("EURUSD", date(2024, 5, 1)) == market.payout("EURUSD", 19_844)
    narrow = PaperMarket(SEED, payout_min=85, payout_max=86)
    assert {narrow.payout(p, 19_844) for p in PAIR_NAMES} == {85, 86}


def test_an_option_settles_on_the_quotes_at_purchase_and_expiry(market):
    opened = MONTH_START + 1000 * 60 + 58.3
    wins = losses = dojis = 0
    for i in range(600):
        t0 = opened + 60 * i
        t1 = (int(t0) // 60 + 2) * 60
        p0, p1 = market.price("EURUSD", t0), market.price("EURUSD", t1)
        call, put = market.outcome("EURUSD", "call", t0, t1), market.outcome("EURUSD", "put", t0, t1)
        assert call == (1 if p1 > p0 else -1 if p1 < p0 else 0)
        assert put == -call
        assert (call == 0) == (p0 == p1)  # a doji exactly when the quote is unchanged
        wins, losses, dojis = wins + (call == 1), losses + (call == -1), dojis + (call == 0)
    assert wins > 200 and losses > 200 and dojis > 0


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    pair=st.sampled_from(PAIR_NAMES),
    times=st.lists(st.floats(1.6e9, 1.9e9, allow_nan=False), min_size=1, max_size=4),
)
def test_a_quote_from_the_minute_cache_equals_the_bridge_walked_down(seed, pair, times):
    # Up to 4 times in at most two minutes are read through the shared minute cache; five or more
    # are walked down the bridge one by one. Both must give the same quotes, bit for bit.
    times = [times[0] + (t - times[0]) % 90 for t in times]  # within two minutes of the first
    cached = PaperMarket(seed).points(pair, times)
    walked = PaperMarket(seed).points(pair, [*times, *[times[0]] * (5 - len(times) % 5)])[: len(times)]
    assert cached.tolist() == walked.tolist()
