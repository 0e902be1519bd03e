"""Signal lists catalogued: the vectorised walk against a plain loop, the paper market's colours, the days."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from glimpse.backtest.signal_catalog import (
    LOSS,
    UNRESOLVED,
    SignalCatalogError,
    cycle_outcomes,
    paper_colours,
    period_days,
    signal_catalog,
)
from glimpse.backtest.stats import break_even, wilson
from glimpse.market.paper_market import PaperMarket
from glimpse.rules.money import MoneyPlan
from glimpse.rules.signals import parse_signals

ZONE = ZoneInfo("America/Sao_Paulo")
# Friday 2026-11-27 12:00 in São Paulo
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=ZONE).timestamp()


def hashed_colours(seed: int, doji_share: float):
    """A colour for every (pair, expiry, start): a pure function, with many dojis to exercise them."""

    def colour(pair: str, expiry: int, start: int) -> int:
        rng = np.random.default_rng([seed, sum(map(ord, pair)), expiry, start])
        return int(rng.choice([1, -1, 0], p=[(1 - doji_share) / 2, (1 - doji_share) / 2, doji_share]))

    def colours_at(pair: str, expiry: int, starts: np.ndarray) -> np.ndarray:
        return np.array([colour(pair, expiry, int(s)) for s in starts], dtype=np.int8)

    return colour, colours_at


def plain_walk(colour, pair, expiry, start, direction, g, now):
    """The engine's rules, one candle at a time: (level won | LOSS | UNRESOLVED, dojis)."""
    level = dojis = 0
    at = start
    while at + 60 * expiry <= now:
        c = colour(pair, expiry, at) * direction
        if c == 0:
            dojis += 1
        elif c > 0:
            return level, dojis
        else:
            level += 1
            if level > g:
                return LOSS, dojis
        at += 60 * expiry
    return UNRESOLVED, dojis


@pytest.mark.parametrize("seed", range(4))
def test_cycles_equal_a_plain_loop(seed):
    colour, colours_at = hashed_colours(seed, doji_share=0.3)
    rng = np.random.default_rng(seed)
    count = 300
    pairs = [str(p) for p in rng.choice(["EURUSD", "GBPUSD"], count)]
    expiries = [int(e) for e in rng.choice([1, 5], count)]
    # some cycles start just before `now`: they run out of closed candles
    starts = NOW - 60 * rng.integers(1, 600, count)
    starts -= starts % 60
    directions = rng.choice([1, -1], count)
    gales = 3
    outcomes = cycle_outcomes(pairs, expiries, starts, directions, gales, colours_at, NOW)
    seen = set()
    for i in range(count):
        for g in range(gales + 1):
            expected = plain_walk(colour, pairs[i], expiries[i], int(starts[i]), int(directions[i]), g, NOW)
            assert (outcomes.results[i, g], outcomes.dojis[i, g]) == expected, (i, g)
            seen.add(expected[0])
    assert {0, 1, LOSS, UNRESOLVED} <= seen  # every kind of ending was met


def test_long_doji_runs_read_further():
    # every candle a doji until the tenth: the cycle reads past its first window
    def colours_at(pair, expiry, starts):
        return np.where((starts - 1_000_020) // 60 >= 10, 1, 0).astype(np.int8)

    outcomes = cycle_outcomes(["EURUSD"], [1], np.array([1_000_020]), np.array([1]), 1, colours_at, 2_000_000)
    assert outcomes.results.tolist() == [[0, 0]] and outcomes.dojis.tolist() == [[10, 10]]


def test_paper_colours_match_the_markets_one_minute_candles():
    market = PaperMarket(7)
    start = 1_717_419_600 - 600 * 60
    starts = start + 60 * np.arange(600)
    assert np.array_equal(paper_colours(market)("EURUSD", 1, starts), market.colours("EURUSD", start, 600))
    five = paper_colours(market)("GBPUSD", 5, starts[:300:5])
    candles = market.candle_arrays("GBPUSD", start, 60, size=300)
    expected = np.sign(candles["c"] - candles["o"])
    assert np.array_equal(five, expected)


def test_the_report_per_day_and_in_total():
    colour, colours_at = hashed_colours(11, doji_share=0.05)
    parsed = parse_signals(
        "M1;EURUSD;09:30;CALL\nM5;GBPUSD;10:00;PUT\nEURUSD 23:58 PUT", today=date(2026, 11, 27)
    )
    plan = MoneyPlan.of(2, "sobra", 87)
    report = signal_catalog(parsed.signals, 5, 2, plan, colours_at, NOW, ZONE)
    assert [d["date"] for d in report["days"]] == [
        "2026-11-22", "2026-11-23", "2026-11-24", "2026-11-25", "2026-11-26"
    ]  # fmt: skip
    assert report["break_even"] == [break_even(plan, g) for g in range(3)]
    for g in range(3):
        total = report["total"]["levels"][g]
        days = [d["levels"][g] for d in report["days"]]
        assert total["signals"] == 15 == sum(d["signals"] for d in days)
        assert total["win_at"] == [sum(d["win_at"][k] for d in days) for k in range(g + 1)]
        assert total["loss"] == sum(d["loss"] for d in days)
        wins = sum(total["win_at"])
        assert total["hit_rate"] == wins / (wins + total["loss"])
        low, high = wilson(wins, wins + total["loss"])
        assert total["wilson"] == [pytest.approx(float(low)), pytest.approx(float(high))]
    # each signal's outcome on each day is the plain walk's at the highest level
    for signal in report["signals"]:
        for day, outcome in zip(period_days(date(2026, 11, 27), 5), signal["outcomes"], strict=True):
            hour, minute = map(int, signal["hora"].split(":"))
            start = int(datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE).timestamp())
            direction = 1 if signal["operacao"] == "call" else -1
            level, _ = plain_walk(colour, signal["ativo"], signal["expiry"], start, direction, 2, NOW)
            assert outcome == {LOSS: "loss", UNRESOLVED: "unresolved"}.get(level, level)
    assert [s["expiry"] for s in report["signals"]] == [1, 5, 1]


def test_bad_input_names_the_argument():
    _, colours_at = hashed_colours(1, 0.0)
    signals = parse_signals("EURUSD 09:30 CALL").signals
    plan = MoneyPlan.of(2, "sobra", 87)
    with pytest.raises(SignalCatalogError, match="days"):
        signal_catalog(signals, 31, 1, plan, colours_at, NOW, ZONE)
    with pytest.raises(SignalCatalogError, match="gales"):
        signal_catalog(signals, 3, 4, plan, colours_at, NOW, ZONE)
    with pytest.raises(SignalCatalogError, match="no signal"):
        signal_catalog([], 3, 1, plan, colours_at, NOW, ZONE)


# ------------------------------------------------------------------ the CLI

CLI_NOW = 1_717_419_600.0 + 30  # Monday 2024-06-03 13:00:30 UTC


class FixedClock:
    def now(self) -> float:
        return CLI_NOW


def run_cli(capsys, monkeypatch, *argv: str) -> tuple[int, str, str]:
    from glimpse.cli import catalog as command
    from glimpse.cli.main import main

    monkeypatch.setattr(command, "SystemClock", FixedClock)
    code = main(["catalog", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_signals_json_is_the_cores_report_on_the_paper_market(capsys, monkeypatch, tmp_path):
    import json

    from glimpse.backtest.signal_catalog import read_list
    from glimpse.runtime.config import load_config

    listing = tmp_path / "lista.txt"
    listing.write_text("M1;EURUSD;09:30;CALL\nM5;GBPUSD;10:00;PUT\nEURUSD 25:10 CALL\n", encoding="utf-8")
    argv = ["--signals", str(listing), "--days", "4", "--gales", "2", "--payout", "85", "--seed", "3"]
    code, out, _ = run_cli(capsys, monkeypatch, *argv, "--json")
    assert code == 0
    report = json.loads(out)
    config = load_config()
    parsed = read_list(listing.read_text(encoding="utf-8"), CLI_NOW, config.zone)
    market = PaperMarket(3, config.paper_payout_min, config.paper_payout_max)
    core = signal_catalog(
        parsed.signals, 4, 2, MoneyPlan.of(2, "sobra", 85), paper_colours(market), CLI_NOW, config.zone
    )
    assert report["total"] == core["total"] and report["days"] == core["days"]
    assert [r["line"] for r in report["rejected"]] == [3]
    code, out, _ = run_cli(capsys, monkeypatch, *argv)
    assert code == 0 and out.splitlines()[-2].split()[:3] == ["total", "2", "8"]


@pytest.mark.parametrize(
    "extra, message",
    [(["--days", "31"], "--days"), (["--gales", "4"], "--gales"), (["--pairs", "EURUSD"], "--pairs")],
)
def test_cli_signals_errors_exit_2_naming_the_option(capsys, monkeypatch, tmp_path, extra, message):
    listing = tmp_path / "lista.txt"
    listing.write_text("EURUSD 09:30 CALL\n", encoding="utf-8")
    code, out, err = run_cli(capsys, monkeypatch, "--signals", str(listing), "--payout", "87", *extra)
    assert code == 2 and message in err and out == ""


def test_cli_signals_from_a_missing_file_exits_2(capsys, monkeypatch, tmp_path):
    code, _, err = run_cli(capsys, monkeypatch, "--signals", str(tmp_path / "none.txt"), "--payout", "87")
    assert code == 2 and "--signals" in err
