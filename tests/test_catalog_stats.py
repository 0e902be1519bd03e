"""Statistics that do not lie: the numbers themselves, and the catalog's honesty on chance and on an edge."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

from glimpse.backtest.catalog import NOTHING_SURVIVED, CatalogError, ReportSettings, catalog_report
from glimpse.backtest.sources import series_from_market
from glimpse.backtest.stats import (
    benjamini_hochberg,
    binomial_sf,
    break_even,
    cycle_net_cents,
    expected_net,
    log_gamma,
    wilson,
)
from glimpse.market.paper_market import PaperMarket
from glimpse.rules.money import MoneyPlan
from glimpse.rules.quadrants import PRESETS

COLOURS = np.array([-1, 0, 1], dtype=np.int8)


# --- the numbers -------------------------------------------------------------------


def exact_tail(k: int, n: int, p: float) -> float:
    q = Fraction(p)
    return float(sum(math.comb(n, i) * q**i * (1 - q) ** (n - i) for i in range(max(k, 0), n + 1)))


def log_sum_tail(k: int, n: int, p: float) -> float:
    terms = [
        math.lgamma(n + 1)
        - math.lgamma(i + 1)
        - math.lgamma(n - i + 1)
        + i * math.log(p)
        + (n - i) * math.log1p(-p)
        for i in range(k, n + 1)
    ]
    top = max(terms)
    return math.exp(top) * math.fsum(math.exp(t - top) for t in terms)


def test_binomial_tail_equals_the_exact_sum():
    rng = np.random.default_rng(1)
    n = rng.integers(1, 150, 400)
    k = (rng.random(400) * (n + 2)).astype(np.int64) - 1
    p = rng.choice([0.5, 0.5348, 0.7835, 0.9, 0.05], 400)
    got = binomial_sf(k, n, p)
    for i in range(400):
        expected = exact_tail(int(k[i]), int(n[i]), float(p[i]))
        assert got[i] == pytest.approx(expected, rel=1e-9, abs=1e-300)


@pytest.mark.parametrize(
    ("k", "n", "p"), [(2700, 5000, 0.5), (2500, 5000, 0.5), (50_500, 100_000, 0.5), (54_000, 100_000, 0.5348)]
)
def test_binomial_tail_for_large_samples(k, n, p):
    assert binomial_sf(k, n, p) == pytest.approx(log_sum_tail(k, n, p), rel=1e-8)


def test_binomial_tail_edges():
    assert binomial_sf(np.array([0, 5, 6]), np.array([5, 5, 5]), 0.5) == pytest.approx(
        [1.0, 1 / 32, 0.0], rel=1e-12
    )
    assert binomial_sf(3, 5, 1.0) == 1.0
    assert binomial_sf(3, 5, 0.0) == 0.0


def test_log_gamma():
    for x in (0.5, 1.0, 2.0, 3.5, 7.9, 8.0, 10.0, 123.4, 1e5, 1.3e6):
        assert log_gamma(np.array([x]))[0] == pytest.approx(math.lgamma(x), rel=1e-13, abs=1e-13)


def test_wilson_interval():
    low, high = wilson(np.array([8, 0, 50, 0]), np.array([10, 10, 100, 0]))
    # textbook values (Wilson 1927 / Newcombe 1998): 8/10 -> 0.4902..0.9433, 0/10 -> 0..0.2775
    assert low[0] == pytest.approx(0.4902, abs=1e-4) and high[0] == pytest.approx(0.9433, abs=1e-4)
    assert low[1] == 0 and high[1] == pytest.approx(0.2775, abs=1e-4)
    assert low[2] == pytest.approx(1 - high[2])
    assert np.isnan(low[3]) and np.isnan(high[3])


def loop_bh(p: list[float], q: float) -> list[bool]:
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    largest = 0
    for rank, i in enumerate(order, start=1):
        if p[i] <= q * rank / m:
            largest = rank
    rejected = [False] * m
    for i in order[:largest]:
        rejected[i] = True
    return rejected


def test_benjamini_hochberg_equals_the_step_up_rule():
    rng = np.random.default_rng(3)
    for _ in range(50):
        p = np.concatenate([rng.random(40), rng.random(int(rng.integers(0, 10))) * 0.002])
        rejected, adjusted = benjamini_hochberg(p, 0.05)
        assert rejected.tolist() == loop_bh(p.tolist(), 0.05)
        assert np.all(adjusted >= p) and np.all(adjusted <= 1)


def test_break_even_without_gale_is_loss_over_loss_plus_win():
    for gale_type in ("dobro", "cobrir", "sobra"):
        plan = MoneyPlan.of(2, gale_type, 87)
        assert break_even(plan, 0) == pytest.approx(2 / (2 + 1.74), abs=1e-12)


@pytest.mark.parametrize("gale_type", ["dobro", "cobrir", "sobra"])
@pytest.mark.parametrize("gales", [1, 2, 3])
def test_break_even_with_gales(gale_type, gales):
    plan = MoneyPlan.of(10, gale_type, 80, 1)
    rate = break_even(plan, gales)
    # every order is the same fair bet at pi = 1 / (1 + payout), whatever the stakes: the gale
    # type only moves the break-even through the rounding to cents
    pi = 1 / 1.8
    assert rate == pytest.approx(1 - (1 - pi) ** (gales + 1), abs=2e-3)
    # and at that rate, a no-edge trader's expected net per cycle is zero
    wins, lost = cycle_net_cents(plan, gales)
    p = 1 - (1 - rate) ** (1 / (gales + 1))
    mix = np.array([p * (1 - p) ** j for j in range(gales + 1)])
    assert float(mix @ wins - (1 - p) ** (gales + 1) * lost) == pytest.approx(0, abs=1e-6)


def test_expected_net_in_money():
    plan = MoneyPlan.of(2, "dobro", 87)
    # dobro 2, 4, 8: a win at 0 nets 1.74, at 1: 3.48 - 2 = 1.48, at 2: 6.96 - 6 = 0.96; a loss costs 14
    assert cycle_net_cents(plan, 2)[0].tolist() == [174, 148, 96]
    assert cycle_net_cents(plan, 2)[1] == 1400
    net = expected_net(np.array([[5, 3, 1], [0, 0, 0]]), np.array([1, 0]), plan, 2)
    expected = (Decimal("1.74") * 5 + Decimal("1.48") * 3 + Decimal("0.96") - 14) / 10
    assert net[0] == pytest.approx(float(expected))
    assert np.isnan(net[1])


# --- honesty -------------------------------------------------------------------------


def independent_series(seed: int, pairs: int = 4, minutes: int = 2 * 1440) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {f"P{i}": rng.choice(COLOURS, size=minutes, p=[0.485, 0.03, 0.485]) for i in range(pairs)}


def planted_series(seed: int, pairs: int = 4, minutes: int = 3 * 1440) -> dict[str, np.ndarray]:
    """Independent colours, except that after three reds the candle is green 70 % of the time."""
    rng = np.random.default_rng(seed)
    result = {}
    for i in range(pairs):
        colours = rng.choice(COLOURS, size=minutes, p=[0.485, 0.03, 0.485])
        draws = rng.random(minutes)
        for t in range(3, minutes):
            if colours[t - 1] == colours[t - 2] == colours[t - 3] == -1:
                colours[t] = 1 if draws[t] < 0.7 else -1
        result[f"P{i}"] = colours
    return result


def test_on_independent_colours_nothing_is_flagged_in_95_percent_of_runs():
    # payout 100 puts break-even at exactly the no-edge hit rate: the hardest case for honesty
    settings = ReportSettings(max_length=5, gales=2, payout=100, quadrants=tuple(PRESETS.values()), top=5)
    runs = 40
    flagged = sum(catalog_report(independent_series(seed), settings)["flagged"] > 0 for seed in range(runs))
    assert flagged <= runs * 0.05


def test_on_the_paper_market_nothing_is_flagged_in_95_percent_of_runs():
    settings = ReportSettings(max_length=6, gales=2, payout=90, quadrants=tuple(PRESETS.values()), top=5)
    start = 1_717_372_800
    runs = 20
    flagged = 0
    for seed in range(runs):
        market = PaperMarket(seed)
        series = series_from_market(market, ["EURUSD", "GBPUSD", "USDJPY"], start, 2 * 1440)
        report = catalog_report(series, settings, first_minutes=start // 60)
        flagged += report["flagged"] > 0
        if not report["flagged"]:
            assert report["verdict"] == NOTHING_SURVIVED
    assert flagged <= runs * 0.05


def test_a_planted_edge_is_found_and_flagged():
    report = catalog_report(planted_series(7), ReportSettings(max_length=5, gales=2, payout=87, top=10))
    assert report["verdict"] != NOTHING_SURVIVED
    flagged = [row for row in report["ranked"] if row["flagged"]]
    planted = [
        row
        for row in flagged
        if row["strategy"]
        == {"kind": "sequence", "sequence": "-1,-1,-1", "operation": "call", "mirror": False}
    ]
    assert [row["gales"] for row in planted if row["gales"] == 0] == [0]
    row = next(row for row in planted if row["gales"] == 0)
    assert row["in_sample"]["hit_rate"] == pytest.approx(0.7, abs=0.04)
    assert row["out_of_sample"]["hit_rate"] == pytest.approx(0.7, abs=0.05)
    assert row["in_sample"]["wilson"][0] > row["break_even"]
    assert row["in_sample"]["expected_net"] > 0 and row["out_of_sample"]["expected_net"] > 0
    # every flagged row rides the planted pattern: reds last, traded call (alone, or as a mirror twin);
    # shorter tails such as "-1,-1 call" and "-1 call" carry part of the edge too (after one or two
    # reds, three are more likely than after a green)
    for row in flagged:
        strategy = row["strategy"]
        sequence = [int(c) for c in strategy["sequence"].split(",")]
        if strategy["operation"] == "put":
            assert strategy["mirror"]
            sequence = [-c for c in sequence]
        assert sequence[-1] == -1, strategy
    json.dumps(report)


def test_the_report_shape_and_walk_forward():
    report = catalog_report(
        planted_series(2, pairs=2, minutes=2000), ReportSettings(max_length=3, gales=1, top=3, folds=3)
    )
    assert report["tests"] > 0 and len(report["ranked"]) >= 3
    first = report["ranked"][0]
    assert set(first["pairs"]) == {"P0", "P1"}
    assert first["in_sample"]["cycles"] == sum(p["in_sample"]["cycles"] for p in first["pairs"].values())
    assert first["out_of_sample"]["cycles"] == sum(
        p["out_of_sample"]["cycles"] for p in first["pairs"].values()
    )
    folds = report["walk_forward"]["folds"]
    assert [fold["fold"] for fold in folds] == [1, 2, 3]
    assert folds[0]["test"] == [0.25, 0.5]
    assert report["candles"]["in_sample"] + report["candles"]["out_of_sample"] == 4000


def test_report_settings_are_checked():
    with pytest.raises(CatalogError, match="split"):
        catalog_report(independent_series(1), ReportSettings(split=1.0))
    with pytest.raises(CatalogError, match="gale type"):
        catalog_report(independent_series(1), ReportSettings(gale_type="triple"))
    with pytest.raises(CatalogError, match="no candles"):
        catalog_report({"A": []}, ReportSettings())
