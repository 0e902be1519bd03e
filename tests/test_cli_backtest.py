"""`glimpse backtest`: JSON and text output, data sources, strategies from the database, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from glimpse.backtest import sources
from glimpse.backtest.engine import backtest_report
from glimpse.cli import backtest as command
from glimpse.cli.main import main
from glimpse.market.paper_market import PaperMarket

NOW = 1_717_419_600.0 + 30  # Monday 2024-06-03 13:00:30 UTC
DAY = 1440


@pytest.fixture
def colours_file(tmp_path):
    """Three paper-market days, one pair per line: data the project generates."""
    market = PaperMarket(7)
    start = int(NOW // 60) * 60 - 3 * DAY * 60
    lines = [
        sources.string_from_series(market.colours(pair, start, 3 * DAY))
        for pair in ("EURUSD", "GBPUSD", "USDJPY")
    ]
    path = tmp_path / "colours.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["backtest", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_output_is_the_report_object(colours_file, capsys):
    code, out, err = run_cli(
        capsys,
        "--colours",
        str(colours_file),
        "--sequence",
        "-1,-1,-1",
        "--operation",
        "call",
        "--mirror",
        "--gales",
        "2",
        "--json",
        "--jobs",
        "1",
    )
    assert code == 0, err
    report = json.loads(out)
    assert set(report) == {"total", "pairs"}
    assert list(report["pairs"]) == ["0", "1", "2"]
    expected = backtest_report(sources.read_colours_file(colours_file), "-1,-1,-1", "call", True, 2)
    assert report == expected
    assert report["total"]["signals"] > 500  # three reds (or greens) happen about every 4 minutes
    assert (
        sum(report["total"]["win_at"]) + report["total"]["loss"] + report["total"]["unresolved"]
        == report["total"]["signals"]
    )


def test_a_process_pool_prints_the_same_report(colours_file, capsys):
    args = [
        "--colours",
        str(colours_file),
        "--sequence",
        "1,0",
        "--operation",
        "put",
        "--mirror",
        "--gales",
        "3",
        "--json",
    ]
    outputs = []
    for jobs in ("1", "2"):
        code, out, _ = run_cli(
            capsys, *args, "--sequential", "--stake", "2", "--payout", "87", "--sobra", "1", "--jobs", jobs
        )
        assert code == 0
        outputs.append(json.loads(out))
    assert outputs[0] == outputs[1]
    assert {"net_profit", "max_drawdown", "longest_losing_streak", "equity"} <= set(outputs[0]["total"])


def test_single_line_file_and_money_figures(tmp_path, capsys):
    path = tmp_path / "one.txt"
    path.write_text("--+---+\n")
    code, out, _ = run_cli(
        capsys,
        "--colours",
        str(path),
        "--sequence",
        "-1,-1",
        "--operation",
        "call",
        "--gales",
        "2",
        "--sequential",
        "--stake",
        "2",
        "--gale-type",
        "sobra",
        "--payout",
        "87",
        "--sobra",
        "1",
        "--json",
    )
    assert code == 0
    report = json.loads(out)
    assert list(report["pairs"]) == ["0"]
    assert report["total"]["equity"] == [1.74, 2.74]  # see tests/test_backtest.py's worked example
    assert report["total"]["win_at"] == [1, 1, 0]


def test_text_output_is_a_table(colours_file, capsys):
    code, out, _ = run_cli(
        capsys, "--colours", str(colours_file), "--sequence", "-1,-1", "--operation", "call", "--gales", "1"
    )
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0] == "strategy -1,-1 (independent, 1 gale)"
    assert lines[1].split() == ["pair", "signals", "win@0", "win@1", "loss", "unres.", "dojis", "win", "rate"]
    assert [line.split()[0] for line in lines[2:]] == ["0", "1", "2", "TOTAL"]


def test_paper_market_pairs_end_with_the_last_complete_minute(monkeypatch, capsys):
    class Clock:
        def now(self):
            return NOW

    monkeypatch.setattr(command, "SystemClock", Clock)
    code, out, err = run_cli(
        capsys,
        "--pairs",
        "eurusd,GBPUSD",
        "--days",
        "1",
        "--seed",
        "11",
        "--sequence",
        "1,1",
        "--operation",
        "put",
        "--json",
    )
    assert code == 0, err
    report = json.loads(out)
    market = PaperMarket(11)
    start = int(NOW // 60) * 60 - DAY * 60
    expected = backtest_report({p: market.colours(p, start, DAY) for p in ("EURUSD", "GBPUSD")}, "1,1", "put")
    assert report == expected


def test_strategies_from_the_database(db, monkeypatch, capsys, colours_file):
    monkeypatch.setattr(command, "_database", lambda: db)
    db["Strategies"].insert_many(
        [
            {
                "name": "Nine Reds",
                "nameKey": "nine reds",
                "sequence": "-1,-1,-1,-1,-1,-1,-1,-1,-1",
                "operation": "call",
                "mirror": False,
                "createdBy": "Glimpse",
            },
            {
                "name": "Two greens",
                "nameKey": "two greens",
                "sequence": "1,1",
                "operation": "put",
                "mirror": True,
                "createdBy": "Glimpse",
            },
        ]
    )
    code, out, _ = run_cli(
        capsys, "--strategy", "NINE REDS", "--colours", str(colours_file), "--gales", "1", "--json"
    )
    assert code == 0
    single = json.loads(out)
    assert single == backtest_report(
        sources.read_colours_file(colours_file), "-1," * 8 + "-1", "call", False, 1
    )

    code, out, _ = run_cli(
        capsys,
        "--strategy",
        "nine reds",
        "--strategy",
        "Two greens",
        "--colours",
        str(colours_file),
        "--json",
    )
    assert code == 0
    both = json.loads(out)
    assert list(both) == ["Nine Reds", "Two greens"]
    assert both["Two greens"] == backtest_report(
        sources.read_colours_file(colours_file), "1,1", "put", True, 0
    )

    code, _, err = run_cli(capsys, "--strategy", "nope", "--colours", str(colours_file))
    assert code == 2 and "--strategy: no strategy named 'nope'" in err


def test_test_candles_from_the_database(db, monkeypatch, capsys):
    monkeypatch.setattr(command, "_database", lambda: db)
    code, _, err = run_cli(capsys, "--test-candles", "--sequence", "1", "--operation", "call")
    assert code == 2 and "empty" in err
    db["TestCandles"].insert_many(
        [{"ativo": "EURUSD", "candles": "+-+-++"}, {"ativo": "GBPUSD", "candles": "--++"}]
    )
    code, out, _ = run_cli(capsys, "--test-candles", "--sequence", "1", "--operation", "call", "--json")
    assert code == 0
    assert json.loads(out) == backtest_report(series_of({"EURUSD": "+-+-++", "GBPUSD": "--++"}), "1", "call")


def series_of(strings: dict[str, str]) -> dict[str, np.ndarray]:
    return {name: sources.series_from_string(text) for name, text in strings.items()}


def test_csv_source(tmp_path, capsys):
    path = tmp_path / "candles.csv"
    path.write_text("pair,open,close\nEURUSD,1.1,1.0\nEURUSD,1.0,0.9\nEURUSD,0.9,1.0\n")
    code, out, _ = run_cli(capsys, "--csv", str(path), "--sequence", "-1", "--operation", "call", "--json")
    assert code == 0
    assert json.loads(out)["pairs"]["EURUSD"]["win_at"] == [1]  # red, red, green: one win, one loss
    assert json.loads(out)["pairs"]["EURUSD"]["loss"] == 1


def test_plot_draws_a_png(colours_file, tmp_path, capsys):
    for extra in ([], ["--sequential", "--stake", "5", "--gale-type", "cobrir", "--payout", "85"]):
        target = tmp_path / f"plot{len(extra)}.png"
        code, _, err = run_cli(
            capsys,
            "--colours",
            str(colours_file),
            "--sequence",
            "-1,-1,-1",
            "--operation",
            "call",
            "--gales",
            "2",
            "--plot",
            str(target),
            *extra,
        )
        assert code == 0, err
        assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert target.stat().st_size > 10_000


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--colours", "{file}", "--operation", "call"], "either --sequence"),
        (["--colours", "{file}", "--sequence", "1", "--strategy", "x"], "either --sequence"),
        (["--colours", "{file}", "--sequence", "1,2", "--operation", "call"], "--sequence: sequence item 1"),
        (["--colours", "{file}", "--sequence", "1"], "--operation: required"),
        (["--colours", "{file}", "--sequence", "1", "--operation", "call", "--gales", "11"], "--gales"),
        (
            [
                "--colours",
                "{file}",
                "--sequence",
                "1",
                "--operation",
                "call",
                "--stake",
                "2",
                "--payout",
                "80",
            ],
            "--stake: money figures",
        ),
        (
            ["--colours", "{file}", "--sequence", "1", "--operation", "call", "--sequential", "--stake", "2"],
            "--payout: required",
        ),
        (
            [
                "--colours",
                "{file}",
                "--sequence",
                "1",
                "--operation",
                "call",
                "--sequential",
                "--stake",
                "0",
                "--payout",
                "80",
            ],
            "stake",
        ),
        (["--colours", "{missing}", "--sequence", "1", "--operation", "call"], "--colours: cannot read"),
        (["--colours", "{bad}", "--sequence", "1", "--operation", "call"], "--colours: "),
        (["--sequence", "1", "--operation", "call"], "one data source"),
        (
            ["--colours", "{file}", "--pairs", "EURUSD", "--sequence", "1", "--operation", "call"],
            "one data source",
        ),
        (
            ["--colours", "{file}", "--days", "3", "--sequence", "1", "--operation", "call"],
            "--days goes with --pairs",
        ),
        (["--pairs", "EURUSD,XYZ", "--sequence", "1", "--operation", "call"], "--pairs: unknown pair 'XYZ'"),
        (["--pairs", "EURUSD", "--days", "0", "--sequence", "1", "--operation", "call"], "--days"),
        (["--colours", "{file}", "--sequence", "1", "--operation", "call", "--jobs", "0"], "--jobs"),
    ],
)
def test_bad_arguments_exit_2_naming_the_argument(argv, message, tmp_path, capsys):
    good, bad = tmp_path / "good.txt", tmp_path / "bad.txt"
    good.write_text("+-+--+\n")
    bad.write_text("+-x\n")
    paths = {"file": good, "bad": bad, "missing": tmp_path / "missing.txt"}
    code, out, err = run_cli(capsys, *[arg.format(**paths) for arg in argv])
    assert code == 2
    assert out == ""
    assert message in err
    assert err.startswith("glimpse backtest: ")
