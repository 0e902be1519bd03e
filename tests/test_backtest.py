"""glimpse.backtest.engine and glimpse.backtest.sources: the rules, checked by hand and against a plain loop."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glimpse.backtest import sources
from glimpse.backtest.engine import (
    BacktestError,
    Batch,
    as_colours,
    backtest_report,
    run_batch,
)
from glimpse.rules.money import MoneyPlan
from glimpse.rules.patterns import Strategy, format_sequence

FIELDS = {"signals", "win_at", "loss", "unresolved", "dojis", "win_rate_at", "win_rate_cumulative"}
MONEY_FIELDS = {"net_profit", "max_drawdown", "longest_losing_streak", "equity"}


def series(**strings: str) -> dict[str, np.ndarray]:
    return {name: sources.series_from_string(text) for name, text in strings.items()}


def counts(entry: dict) -> tuple:
    return entry["signals"], entry["win_at"], entry["loss"], entry["unresolved"], entry["dojis"]


# --- the reference: the rules as a plain loop ------------------------------------------


def reference_cycles(
    colours: list[int], strategy: Strategy, gales: int
) -> list[tuple[int, object, int, int]]:
    """(signal index, outcome, index that ended it, dojis) for every signal; outcome is a level, 'loss' or None."""
    k = len(strategy.sequence)
    inverse = tuple(-c for c in strategy.sequence)
    wanted = 1 if strategy.operation == "call" else -1
    cycles: list[tuple[int, object, int, int]] = []
    for t in range(k - 1, len(colours)):
        window = tuple(colours[t - k + 1 : t + 1])
        if window == strategy.sequence:
            direction = wanted
        elif strategy.mirror and any(strategy.sequence) and window == inverse:
            direction = -wanted
        else:
            continue
        level, dojis, ended = 0, 0, -1
        outcome: object = None
        for r in range(t + 1, len(colours)):
            if colours[r] == 0:
                dojis += 1
            elif colours[r] == direction:
                outcome, ended = level, r
                break
            else:
                level += 1
                if level > gales:
                    outcome, ended = "loss", r
                    break
        cycles.append((t, outcome, ended, dojis))
    return cycles


def one_bot(cycles: list[tuple]) -> list[tuple]:
    taken, free_from = [], 0
    for cycle in cycles:
        if cycle[0] < free_from:
            continue
        taken.append(cycle)
        if cycle[1] is None:
            break
        free_from = cycle[2] + 1
    return taken


def reference_counts(cycles: list[tuple], gales: int) -> tuple:
    win_at = [sum(1 for c in cycles if c[1] == level) for level in range(gales + 1)]
    return (
        len(cycles),
        win_at,
        sum(1 for c in cycles if c[1] == "loss"),
        sum(1 for c in cycles if c[1] is None),
        sum(c[3] for c in cycles),
    )


def reference_money(cycles: list[tuple], plan: MoneyPlan, gales: int) -> dict:
    entries = plan.entries(gales)
    equity, balance, peak, drawdown, streak, longest = [], Decimal(0), Decimal(0), Decimal(0), 0, 0
    for cycle in cycles:
        if cycle[1] is None:
            continue
        if cycle[1] == "loss":
            balance -= sum(entries)
            streak += 1
        else:
            level = cycle[1]
            balance += (entries[level] * plan.payout_percent / 100).quantize(Decimal("0.01"), "ROUND_HALF_UP")
            balance -= sum(entries[:level], Decimal(0))
            streak = 0
        longest = max(longest, streak)
        equity.append(float(balance))
        peak = max(peak, balance)
        drawdown = max(drawdown, peak - balance)
    return {
        "net_profit": float(balance),
        "max_drawdown": float(drawdown),
        "longest_losing_streak": longest,
        "equity": equity,
    }


# --- worked examples ----------------------------------------------------------------


def test_independent_counts_every_signal_and_sequential_waits_for_the_cycle():
    # "---+" with two reds -> call, one gale:
    #   signal at 1: candle 2 is red (gale 1), candle 3 green: win at gale 1, ended at 3
    #   signal at 2: candle 3 green: win at the entry
    data = series(A="---+")
    independent = backtest_report(data, "-1,-1", "call", gales=1)
    assert counts(independent["pairs"]["A"]) == (2, [1, 1], 0, 0, 0)
    assert independent["pairs"]["A"]["win_rate_at"] == [0.5, 0.5]
    assert independent["pairs"]["A"]["win_rate_cumulative"] == [0.5, 1.0]
    one = backtest_report(data, "-1,-1", "call", gales=1, sequential=True)
    assert counts(one["pairs"]["A"]) == (1, [0, 1], 0, 0, 0)  # the signal at 2 falls inside the first cycle


def test_dojis_keep_the_level_and_one_opposite_too_many_is_a_loss():
    # signal at 1; candles: 2 doji, 3 red (gale 1), 4 doji, 5 red: gale 2 > 1 gale -> loss, 2 dojis
    assert counts(backtest_report(series(A="--0-0-+"), "-1,-1", "call", gales=1)["total"]) == (
        1,
        [0, 0],
        1,
        0,
        2,
    )
    # with two gales the same cycle reaches gale 2 and wins on candle 6
    assert counts(backtest_report(series(A="--0-0-+"), "-1,-1", "call", gales=2)["total"]) == (
        1,
        [0, 0, 1],
        0,
        0,
        2,
    )


def test_data_that_ends_first_leaves_the_signal_unresolved():
    report = backtest_report(series(A="--0", B="--"), "-1,-1", "call")
    assert counts(report["pairs"]["A"]) == (1, [0], 0, 1, 1)
    assert counts(report["pairs"]["B"]) == (1, [0], 0, 1, 0)  # the signal is the last candle: no entry candle
    assert report["total"]["win_rate_at"] == [None]  # nothing resolved: no rate, rather than NaN


def test_mirror_trades_the_other_way_and_puts_win_on_red():
    # "++-": the mirror of two reds (two greens) trades a put, and candle 2 is red
    assert counts(backtest_report(series(A="++-"), "-1,-1", "call", mirror=True)["total"]) == (
        1,
        [1],
        0,
        0,
        0,
    )
    assert counts(backtest_report(series(A="++-"), "-1,-1", "call", mirror=False)["total"]) == (
        0,
        [0],
        0,
        0,
        0,
    )
    # a put after two reds loses on a green candle with no gales
    assert counts(backtest_report(series(A="--+"), "-1,-1", "put")["total"]) == (1, [0], 1, 0, 0)


def test_all_doji_sequences_count_only_their_primary_match():
    assert backtest_report(series(A="00+"), "0,0", "call", mirror=True)["total"]["signals"] == 1


def test_cycles_longer_than_a_word_of_64_candles():
    # 150 dojis and 70 reds between the signal and its outcome
    text = "--" + "0" * 150 + "-" * 7 + "0" * 63 + "+"
    report = backtest_report(series(A=text), "-1,-1", "call", gales=10)
    # the signals are at 1 and at every red of the run that closes a "--" window
    cycles = reference_cycles(list(sources.series_from_string(text)), Strategy((-1, -1), "call"), 10)
    assert counts(report["total"]) == reference_counts(cycles, 10)
    assert cycles[0] == (1, 7, len(text) - 1, 213)  # 7 reds climbed, 213 dojis met
    lost = backtest_report(series(A=text), "-1,-1", "call", gales=6)
    assert lost["total"]["loss"] >= 1


def test_money_worked_example_sequential():
    # sobra, stake 2, payout 87, sobra 1, two gales: entries 2, 3.45, 7.41;
    # a win nets 1.74 (entry), 1.00 (gale 1), 1.00 (gale 2); a loss costs 12.86.
    # A "--+---+": signal 1 wins at the entry (ends at 2); signal 4 wins at gale 1 (ends at 6)
    # B "------": signal 1 loses (candles 2, 3, 4 red; ends at 4); signal 5 is unresolved
    plan = MoneyPlan.of(2, "sobra", 87, 1)
    report = backtest_report(
        series(A="--+---+", B="------"), "-1,-1", "call", gales=2, sequential=True, money=plan
    )
    a, b, total = report["pairs"]["A"], report["pairs"]["B"], report["total"]
    assert counts(a) == (2, [1, 1, 0], 0, 0, 0)
    assert a["equity"] == [1.74, 2.74] and a["net_profit"] == 2.74 and a["max_drawdown"] == 0.0
    assert counts(b) == (2, [0, 0, 0], 1, 1, 0)
    assert b["equity"] == [-12.86] and b["max_drawdown"] == 12.86 and b["longest_losing_streak"] == 1
    # the two bots side by side, in the order their cycles ended: A@2, B@4, A@6
    assert total["equity"] == [1.74, -11.12, -10.12]
    assert total["net_profit"] == -10.12
    assert total["max_drawdown"] == 12.86
    assert total["longest_losing_streak"] == 1


def test_report_shape_is_exact_and_json_ready():
    report = backtest_report(series(EURUSD="--+-", GBPUSD="++--+"), "-1,-1", "call", gales=2)
    assert set(report) == {"total", "pairs"}
    assert list(report["pairs"]) == ["EURUSD", "GBPUSD"]
    for entry in [report["total"], *report["pairs"].values()]:
        assert set(entry) == FIELDS
        assert len(entry["win_at"]) == len(entry["win_rate_at"]) == len(entry["win_rate_cumulative"]) == 3
    assert json.loads(json.dumps(report)) == report
    with_money = backtest_report(
        series(A="--+"),
        "-1,-1",
        "call",
        gales=1,
        sequential=True,
        money={"stake": 2, "galeType": "dobro", "payout": 80},
    )
    assert set(with_money["total"]) == FIELDS | MONEY_FIELDS
    assert with_money["total"]["net_profit"] == 1.6
    without_curve = backtest_report(
        series(A="--+"),
        "-1,-1",
        "call",
        sequential=True,
        money=MoneyPlan.of(2, "dobro", 80),
        include_equity=False,
    )
    assert "equity" not in without_curve["total"] and without_curve["total"]["net_profit"] == 1.6


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sequence": "1,5", "operation": "call"}, "item 1"),
        ({"sequence": "1", "operation": "sell"}, "operation"),
        ({"sequence": "1", "operation": "call", "gales": 11}, "gales"),
        ({"sequence": "1", "operation": "call", "gales": -1}, "gales"),
        ({"sequence": "1", "operation": "call", "gales": True}, "gales"),
        ({"sequence": "1", "operation": "call", "money": {"stake": 2, "payout": 80}}, "sequential"),
        ({"sequence": "1", "operation": "call", "sequential": True, "money": {"payout": 80}}, "stake"),
        (
            {"sequence": "1", "operation": "call", "sequential": True, "money": {"stake": 2, "payout": 0}},
            "payout",
        ),
    ],
)
def test_bad_requests_are_refused_with_a_clear_error(kwargs, message):
    with pytest.raises(BacktestError, match=message):
        backtest_report(series(A="+-+"), **kwargs)


def test_colour_arrays_are_read_by_sign():
    assert as_colours(np.array([5, -3, 0, 1])).tolist() == [1, -1, 0, 1]
    assert as_colours([1, 0, -1]).dtype == np.int8
    int8 = np.array([1, -1], dtype=np.int8)
    assert as_colours(int8) is int8  # no copy
    with pytest.raises(BacktestError, match="integers"):
        as_colours(np.array([0.5, 1.0]))
    with pytest.raises(BacktestError, match="flat"):
        as_colours(np.zeros((2, 2), dtype=np.int8))


def test_a_process_pool_gives_the_same_reports_as_one_process():
    rng = np.random.default_rng(7)
    data = {
        f"P{i}": rng.choice(np.array([-1, 0, 1], dtype=np.int8), size=3000, p=[0.48, 0.04, 0.48])
        for i in range(6)
    }
    plans = {
        "three reds": Strategy((-1, -1, -1), "call", True),
        "doji": Strategy((0,), "put"),
        "mixed": Strategy((1, 0, -1), "put", True),
    }
    plan = MoneyPlan.of(2, "sobra", 87, 1)
    for sequential, money in ((False, None), (True, plan)):
        batch = Batch(plans, data, gales=2, sequential=sequential, pairs_per_job=2)
        assert len(batch.jobs) == 9
        one = run_batch(batch, money, processes=1)
        many = run_batch(batch, money, processes=2)
        assert many == one
        for name, strategy in plans.items():
            single = backtest_report(
                data, strategy.sequence, strategy.operation, strategy.mirror, 2, sequential, money
            )
            assert one[name] == single


# --- property: the vectorised backtester equals the plain loop -----------------------------


@st.composite
def colour_strings(draw):
    alphabet = draw(st.sampled_from(["+-", "+-0", "+-0", "+-0000000000", "0", "-0", "+--"]))
    return draw(st.text(alphabet=alphabet, max_size=draw(st.sampled_from([20, 200, 400]))))


@st.composite
def strategies_for(draw, rows: list[list[int]]):
    length = draw(st.integers(1, 12))
    source = draw(st.sampled_from(["random", "doji", "copied", "copied"]))
    long_rows = [row for row in rows if len(row) >= length]
    if source == "copied" and long_rows:
        row = draw(st.sampled_from(long_rows))
        start = draw(st.integers(0, len(row) - length))
        sequence = tuple(row[start : start + length])
    elif source == "doji":
        sequence = (0,) * length
    else:
        sequence = tuple(draw(st.lists(st.sampled_from([-1, 0, 1]), min_size=length, max_size=length)))
    return Strategy(sequence, draw(st.sampled_from(["call", "put"])), draw(st.booleans()))


@settings(max_examples=250, deadline=None)
@given(st.data())
def test_backtester_equals_the_reference_loop(data):
    texts = data.draw(st.lists(colour_strings(), min_size=1, max_size=4))
    colours = {f"S{i}": sources.series_from_string(text) for i, text in enumerate(texts)}
    rows = [c.tolist() for c in colours.values()]
    strategy = data.draw(strategies_for(rows))
    gales = data.draw(st.integers(0, 4))
    sequential = data.draw(st.booleans())
    plan = MoneyPlan.of(
        data.draw(st.sampled_from(["1", "2.5"])),
        data.draw(st.sampled_from(["dobro", "cobrir", "sobra"])),
        87,
        1,
    )
    money = plan if sequential and data.draw(st.booleans()) else None

    report = backtest_report(
        colours,
        format_sequence(strategy.sequence),
        strategy.operation,
        strategy.mirror,
        gales,
        sequential,
        money,
    )

    totals: list[Any] = [0, [0] * (gales + 1), 0, 0, 0]
    all_cycles = []
    for name, row in zip(colours, rows, strict=True):
        cycles = reference_cycles(row, strategy, gales)
        if sequential:
            cycles = one_bot(cycles)
        expected = reference_counts(cycles, gales)
        assert counts(report["pairs"][name]) == expected
        totals = [
            totals[0] + expected[0],
            [a + b for a, b in zip(totals[1], expected[1], strict=True)],
            *(totals[i] + expected[i] for i in (2, 3, 4)),
        ]
        if money:
            wanted = reference_money(cycles, plan, gales)
            got = {key: report["pairs"][name][key] for key in wanted}
            assert got == wanted
            all_cycles += cycles
    assert counts(report["total"]) == tuple(totals)
    resolved = sum(totals[1]) + totals[2]
    if resolved:
        assert report["total"]["win_rate_at"] == [w / resolved for w in totals[1]]
        assert report["total"]["win_rate_cumulative"][-1] == pytest.approx(sum(totals[1]) / resolved)
    if money:
        # the total: every pair's cycles in the order they ended (ties in pair order)
        merged = sorted((c for c in all_cycles if c[1] is not None), key=lambda c: c[2])
        assert report["total"]["net_profit"] == reference_money(merged, plan, gales)["net_profit"]


# --- colour sources ---------------------------------------------------------------------


def test_colour_strings_round_trip_and_name_the_bad_character():
    assert sources.series_from_string(" +-0+ ").tolist() == [1, -1, 0, 1]
    assert sources.string_from_series(np.array([1, -1, 0], dtype=np.int8)) == "+-0"
    with pytest.raises(sources.ColourSourceError, match=r"character 3 is 'x'"):
        sources.series_from_string("+-x")


def test_colours_files_are_keyed_by_line_index(tmp_path):
    path = tmp_path / "colours.txt"
    path.write_text("+-+\n\n--0\n")
    assert {k: v.tolist() for k, v in sources.read_colours_file(path).items()} == {
        "0": [1, -1, 1],
        "2": [-1, -1, 0],
    }
    path.write_text("+-?\n")
    with pytest.raises(sources.ColourSourceError, match="line 1"):
        sources.read_colours_file(path)
    with pytest.raises(sources.ColourSourceError, match="cannot read"):
        sources.read_colours_file(tmp_path / "missing.txt")


def test_test_candles_documents_both_ways():
    docs = [{"ativo": "EURUSD", "candles": "+-0"}, {"candles": "--"}]
    got = sources.series_from_test_candles(docs)
    assert list(got) == ["EURUSD", "1"]
    assert sources.documents_for_test_candles(got) == [
        {"ativo": "EURUSD", "candles": "+-0"},
        {"ativo": "1", "candles": "--"},
    ]
    with pytest.raises(sources.ColourSourceError, match="two documents"):
        sources.series_from_test_candles([{"ativo": "A", "candles": "+"}, {"ativo": "A", "candles": "-"}])
    with pytest.raises(sources.ColourSourceError, match="no 'candles'"):
        sources.series_from_test_candles([{"ativo": "A"}])


def test_csv_of_open_and_close():
    text = "time,Open,Close,pair\n1,1.10,1.20,EURUSD\n2,1.20,1.10,GBPUSD\n3,1.2,1.2,EURUSD\n"
    got = sources.series_from_csv(io.StringIO(text))
    assert {k: v.tolist() for k, v in got.items()} == {"EURUSD": [1, 0], "GBPUSD": [-1]}
    plain = sources.series_from_csv(io.StringIO("o,c\n1,2\n2,1\n"))
    assert {k: v.tolist() for k, v in plain.items()} == {"0": [1, -1]}
    with pytest.raises(sources.ColourSourceError, match="no close column"):
        sources.series_from_csv(io.StringIO("open,high\n1,2\n"))
    with pytest.raises(sources.ColourSourceError, match="row 3"):
        sources.series_from_csv(io.StringIO("open,close\n1,2\n1,x\n"))


def test_stored_candles():
    assert sources.series_from_candles([{"o": 1, "c": 2}, {"o": 2, "c": 2}]).tolist() == [1, 0]
    with pytest.raises(sources.ColourSourceError, match="'o' and 'c'"):
        sources.series_from_candles([{"open": 1}])


def test_paper_market_window_ends_with_the_last_complete_minute():
    now = 1_717_419_600.0 + 42.5  # 13:00:42.5 UTC: the 13:00 candle is still forming
    start, minutes = sources.last_complete_minutes(now, 2)
    assert minutes == 2880
    assert start + minutes * 60 == 1_717_419_600  # the last candle is 12:59
    with pytest.raises(sources.ColourSourceError, match="days"):
        sources.last_complete_minutes(now, 0)


def test_series_from_a_market():
    class FakeMarket:
        def __init__(self):
            self.calls = []

        def colours(self, pair, start_epoch, minutes):
            self.calls.append((pair, start_epoch, minutes))
            return np.ones(minutes, dtype=np.int8)

    market = FakeMarket()
    got = sources.series_from_market(market, ["EURUSD", "GBPUSD"], 600, 5)
    assert list(got) == ["EURUSD", "GBPUSD"] and got["GBPUSD"].tolist() == [1] * 5
    assert market.calls == [("EURUSD", 600, 5), ("GBPUSD", 600, 5)]


def test_the_paper_market_is_a_colour_source():
    from glimpse.market.paper_market import PaperMarket

    got = sources.series_from_market(PaperMarket(1), ["EURUSD"], 1_717_419_600 - 1440 * 60, 1440)
    assert got["EURUSD"].dtype == np.int8 and got["EURUSD"].size == 1440
    assert set(np.unique(got["EURUSD"]).tolist()) <= {-1, 0, 1}


def test_pairs_are_normalised_and_checked():
    assert sources.parse_pairs("eur/usd, GBPUSD,EURUSD") == ["EURUSD", "GBPUSD"]
    with pytest.raises(sources.ColourSourceError, match="unknown pair 'XYZ'"):
        sources.parse_pairs("EURUSD,XYZ")
    with pytest.raises(sources.ColourSourceError, match="no pairs"):
        sources.parse_pairs(" , ")
