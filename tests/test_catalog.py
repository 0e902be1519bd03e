"""The catalog scan equals backtest_report (independent mode); quadrant rules equal plain loops."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.backtest import loop_cycles
from glimpse.backtest.catalog import (
    MAX_LENGTH,
    Candidates,
    CatalogError,
    codes_up_to,
    quadrant_report,
    scan,
    sequence_of,
)
from glimpse.backtest.engine import backtest_report
from glimpse.market.paper_market import PaperMarket
from glimpse.rules.patterns import Strategy, sequence_code
from glimpse.rules.quadrants import (
    PRESET_SOURCES,
    PRESETS,
    QuadrantError,
    QuadrantRule,
    decide,
    pick_direction,
    preset,
    signal_directions,
)

COLOURS = np.array([-1, 0, 1], dtype=np.int8)


def random_series(seed: int, sizes: list[int], doji: float = 0.1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = [(1 - doji) / 2, doji, (1 - doji) / 2]
    return {f"P{i}": rng.choice(COLOURS, size=size, p=p) for i, size in enumerate(sizes)}


def assert_equal_to_backtest(catalog, series, index: int) -> None:
    described = catalog.candidates.describe(index)
    for g in range(catalog.gales + 1):
        expected = backtest_report(
            series, described["sequence"], described["operation"], described["mirror"], g
        )
        assert catalog.report(index, g) == expected, (described, g)


# --- the scan against the backtester ------------------------------------------------


def test_every_candidate_equals_backtest_report_on_short_data():
    series = random_series(3, [0, 1, 2, 3, 57, 240, 333])
    series["dojis"] = np.zeros(40, dtype=np.int8)  # nothing ever resolves
    series["edges"] = np.array([0, 0, 1, -1, -1, 0, 1, 1, 1, 0, 0], dtype=np.int8)
    catalog = scan(series, max_length=4, gales=3)
    assert catalog.candidates.sequence_count == 2 * codes_up_to(4) + (codes_up_to(4) - 4)
    for index in range(catalog.candidates.sequence_count):
        assert_equal_to_backtest(catalog, series, index)


def test_a_random_sample_of_300_candidates_equals_backtest_report_on_paper_market_days():
    market = PaperMarket(11)
    start = 1_717_372_800  # 2024-06-03 00:00 UTC
    series = {pair: market.colours(pair, start, 2 * 1440) for pair in ("EURUSD", "GBPUSD", "USDJPY")}
    catalog = scan(series, max_length=MAX_LENGTH, gales=2)
    rng = np.random.default_rng(5)
    # short sequences are few: take them all, then a random sample of the long ones
    short = np.flatnonzero(catalog.candidates.length <= 2)
    sample = np.concatenate([short, rng.choice(catalog.candidates.sequence_count, size=300, replace=False)])
    for index in sample.tolist():
        assert_equal_to_backtest(catalog, series, int(index))
    assert catalog.counts.signals[short].sum() > 0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.sampled_from([-1, 0, 1]), max_size=60), min_size=1, max_size=3),
    st.lists(st.sampled_from([-1, 0, 1]), min_size=1, max_size=3),
    st.sampled_from(["call", "put"]),
    st.booleans(),
)
def test_any_series_any_strategy_equals_backtest_report(rows, sequence, operation, mirror):
    series = {str(i): np.array(row, dtype=np.int8) for i, row in enumerate(rows)}
    catalog = scan(series, max_length=3, gales=3)
    index = catalog.candidates.find(Strategy.parse(sequence, operation, mirror))
    for g in range(4):
        expected = backtest_report(series, sequence, operation, mirror, g)
        assert catalog.report(index, g) == expected


def test_candidates_list_each_strategy_once():
    candidates = Candidates.all(MAX_LENGTH)
    assert codes_up_to(MAX_LENGTH) == 29_523
    # call and put without mirror for every sequence; with mirror once per {S, inverse(S)} and direction
    assert candidates.sequence_count == 2 * 29_523 + (29_523 - MAX_LENGTH)
    keys = set(
        zip(candidates.code.tolist(), candidates.direction.tolist(), candidates.mirror.tolist(), strict=True)
    )
    assert len(keys) == candidates.sequence_count
    # S call with mirror and inverse(S) put with mirror are the same row
    a = candidates.find(Strategy.parse("1,1,-1", "call", True))
    b = candidates.find(Strategy.parse("-1,-1,1", "put", True))
    assert a == b
    assert candidates.describe(a)["mirror"] is True
    # an all-doji sequence has no mirror: asking for one finds the plain row
    assert candidates.find(Strategy.parse("0,0", "put", True)) == candidates.find(
        Strategy.parse("0,0", "put")
    )
    for text in ("1", "-1,0,1", "0,0,0,0,0,0,0,0,1"):
        sequence = Strategy.parse(text, "call").sequence
        assert sequence_of(len(sequence), sequence_code(sequence)) == sequence


def test_bad_arguments_name_the_argument():
    with pytest.raises(CatalogError, match="max_length"):
        scan({"A": [1, -1]}, max_length=10)
    with pytest.raises(CatalogError, match="gales"):
        scan({"A": [1, -1]}, max_length=2, gales=4)


# --- quadrant rules --------------------------------------------------------------------


def loop_directions(rule: QuadrantRule, colours: list[int], first_minute: int) -> list[int]:
    """The rule as a plain loop over entry candles."""
    result = [0] * len(colours)
    for entry in range(1, len(colours) + 1):
        minute = first_minute + entry
        if minute % rule.period != rule.offset:
            continue
        quadrant_start = entry - rule.offset - rule.period
        if quadrant_start + rule.candles[0] < 0:
            continue
        chosen = [colours[quadrant_start + c] for c in rule.candles]
        if 0 in chosen:
            continue
        greens, reds = chosen.count(1), chosen.count(-1)
        if greens == reds:
            continue
        if rule.pick == "majority":
            result[entry - 1] = 1 if greens > reds else -1
        else:
            result[entry - 1] = -1 if greens > reds else 1
    return result


@pytest.mark.parametrize("key", sorted(PRESETS))
def test_presets_equal_a_plain_loop(key):
    rule = PRESETS[key]
    rng = np.random.default_rng(len(key))
    colours = rng.choice(COLOURS, size=500, p=[0.45, 0.1, 0.45])
    for first_minute in (0, 3, 1_000_001):
        expected = loop_directions(rule, colours.tolist(), first_minute)
        assert signal_directions(rule, colours, first_minute).tolist() == expected
    assert key in PRESET_SOURCES


@settings(max_examples=80, deadline=None)
@given(
    st.integers(2, 15).flatmap(
        lambda period: st.tuples(
            st.just(period),
            st.integers(0, period - 1),
            st.sets(st.integers(0, period - 1), min_size=1, max_size=period),
            st.sampled_from(["minority", "majority"]),
        )
    ),
    st.lists(st.sampled_from([-1, 0, 1]), max_size=80),
    st.integers(0, 10_000),
)
def test_any_rule_equals_a_plain_loop_and_the_live_decision(spec, colours, first_minute):
    period, offset, candles, pick = spec
    rule = QuadrantRule.of("r", period, offset, sorted(candles), pick)
    found = signal_directions(rule, np.array(colours, dtype=np.int8), first_minute).tolist()
    assert found == loop_directions(rule, colours, first_minute)
    # the live decision at each entry minute, from the candles closed before it, says the same
    for t in range(len(colours)):
        entry_minute = first_minute + t + 1
        decided = decide(rule, entry_minute, colours[: t + 1])
        assert {"call": 1, "put": -1, None: 0}[decided] == found[t]


def test_mhi_reads_the_last_three_candles_of_the_previous_quadrant():
    mhi, maioria = preset("MHI"), preset("mhi-maioria")
    # minutes 10..14 are the quadrant before the entry at minute 15: green, green, red for 12, 13, 14
    recent = [-1, -1, 1, 1, -1]  # minutes 10..14
    assert decide(mhi, 15, recent) == "put"  # the minority is red
    assert decide(maioria, 15, recent) == "call"
    assert decide(mhi, 16, recent + [1]) is None  # not an entry minute for MHI 1
    assert decide(preset("mhi2"), 16, recent + [1]) == "put"  # MHI 2 enters at the second candle
    assert decide(mhi, 15, [-1, -1, 1, 0, -1]) is None  # a doji: no entry
    assert pick_direction(mhi, [1, -1]) is None  # a tie: no entry
    assert decide(mhi, 15, recent[-2:]) is None  # not enough candles
    # fewer candles than a quadrant: no signal, and no error
    assert signal_directions(mhi, np.array([-1, -1, -1], dtype=np.int8), 1).tolist() == [0, 0, 0]


def test_bad_rules_name_the_field():
    with pytest.raises(QuadrantError, match="offset"):
        QuadrantRule.of("x", 5, 5)
    with pytest.raises(QuadrantError, match="candles"):
        QuadrantRule.of("x", 5, 0, (2, 2))
    with pytest.raises(QuadrantError, match="pick"):
        QuadrantRule.of("x", 5, 0, (2,), "most")
    with pytest.raises(QuadrantError, match="unknown"):
        preset("nope")
    assert QuadrantRule.from_document(PRESETS["milhao"].as_document()) == PRESETS["milhao"]


def test_quadrant_candidates_in_the_scan_equal_a_plain_loop():
    series = random_series(8, [700, 451, 3])
    first_minutes = {"P0": 0, "P1": 7, "P2": 4}
    rules = tuple(PRESETS.values())
    catalog = scan(series, max_length=2, gales=3, quadrants=rules, first_minutes=first_minutes)
    base = catalog.candidates.sequence_count
    for j, rule in enumerate(rules):
        for g in range(4):
            per_pair = []
            for name, colours in series.items():
                directions = signal_directions(rule, colours, first_minutes[name]).tolist()
                counted = loop_cycles(colours.tolist(), directions, g)
                entry = catalog.report(base + j, g)["pairs"][name]
                figures = (
                    entry["signals"],
                    entry["win_at"],
                    entry["loss"],
                    entry["unresolved"],
                    entry["dojis"],
                )
                assert figures == counted
                per_pair.append(counted)
            total = catalog.counts.entry(base + j, g)
            assert total["signals"] == sum(c[0] for c in per_pair)
            assert total["win_at"] == np.sum([c[1] for c in per_pair], axis=0).tolist()
            assert total["loss"] == sum(c[2] for c in per_pair)
            assert total["unresolved"] == sum(c[3] for c in per_pair)
            assert total["dojis"] == sum(c[4] for c in per_pair)
        assert catalog.candidates.describe(base + j)["kind"] == "quadrant"
        assert quadrant_report(series, rule, 3, first_minutes) == catalog.report(base + j, 3)


# --- the command line ---------------------------------------------------------------


class FixedClock:
    def now(self) -> float:
        return 1_717_419_600.0 + 30  # Monday 2024-06-03 13:00:30 UTC


def run_catalog(capsys, monkeypatch, *argv: str) -> tuple[int, str, str]:
    from glimpse.cli import catalog as command
    from glimpse.cli.main import main

    monkeypatch.setattr(command, "SystemClock", FixedClock)
    code = main(["catalog", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_json_is_the_report_of_the_paper_market_days(capsys, monkeypatch):
    from glimpse.backtest.catalog import ReportSettings, catalog_report
    from glimpse.backtest.sources import last_complete_minutes
    from glimpse.runtime.config import load_config

    argv = ["--pairs", "EURUSD,GBPUSD", "--days", "1", "--max-length", "4", "--gales", "1", "--payout", "87"]
    code, out, err = run_catalog(
        capsys, monkeypatch, *argv, "--seed", "5", "--quadrants", "mhi,mhi-maioria", "--json"
    )
    assert code == 0, err
    report = json.loads(out)
    config = load_config()
    market = PaperMarket(5, config.paper_payout_min, config.paper_payout_max)
    start, minutes = last_complete_minutes(FixedClock().now(), 1)
    series = {pair: market.colours(pair, start, minutes) for pair in ("EURUSD", "GBPUSD")}
    settings = ReportSettings(
        max_length=4,
        gales=1,
        payout="87",
        stake="2",
        split=0.67,
        quadrants=(PRESETS["mhi"], PRESETS["mhi-maioria"]),
    )
    assert report == json.loads(json.dumps(catalog_report(series, settings, first_minutes=start // 60)))
    assert report["pairs"] == ["EURUSD", "GBPUSD"] and report["gales"] == 1


def test_cli_text_csv_and_plot(capsys, monkeypatch, tmp_path):
    argv = [
        "--pairs",
        "EURUSD",
        "--days",
        "1",
        "--max-length",
        "3",
        "--gales",
        "0",
        "--payout",
        "90",
        "--top",
        "5",
    ]
    code, out, err = run_catalog(capsys, monkeypatch, *argv, "--plot", str(tmp_path / "c.png"))
    assert code == 0, err
    assert "rows tested" in out.splitlines()[1]
    assert (tmp_path / "c.png").stat().st_size > 10_000
    code, out, err = run_catalog(capsys, monkeypatch, *argv, "--csv")
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0][:3] == ["rank", "strategy", "kind"] and len(rows) >= 6
    assert {row[6] for row in rows[1:]} == {"0"}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--max-length", "10"], "max-length"),
        (["--gales", "4"], "gales"),
        (["--split", "1.5"], "split"),
        (["--days", "0"], "--days"),
        (["--quadrants", "nope"], "--quadrants"),
        (["--payout", "abc"], "--payout"),
        (["--pairs", "NOPE"], "--pairs"),
    ],
)
def test_cli_errors_exit_2_with_a_message(capsys, monkeypatch, extra, message):
    argv = {"--pairs": "EURUSD", "--days": "1", "--max-length": "2", "--payout": "87"}
    for key, value in zip(extra[::2], extra[1::2], strict=True):
        argv[key] = value
    code, out, err = run_catalog(capsys, monkeypatch, *[item for pair in argv.items() for item in pair])
    assert code == 2
    assert message in err and out == ""
