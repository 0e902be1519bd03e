"""`glimpse backtest --strategy NAME` for a stored quadrant strategy (MHI and its relatives).

The colours below are four 5-minute quadrants, the first candle at minute 0
(so at the start of a quadrant). MHI reads candles 2, 3 and 4 of a quadrant
and enters at the first candle of the next one, in the minority colour
(maioria: the majority colour); a doji or a tie among them means no entry.

    minute   0-4     5-9     10-14   15-19
    colours  ++--+   0--++   -++-+   +-+++
    read     --+     -++     +-+     +++
    MHI      call@5  put@10  put@15  put@20 (past the data: unresolved)
    maioria  put@5   call@10 call@15 call@20 (unresolved)

MHI, 1 gale: call@5 meets a doji, then red, red: a loss (1 doji); put@10 wins
at the entry; put@15 meets green, then red: a win at gale 1.
MHI, 0 gales: call@5 loses at the red after the doji; put@15 loses at once.
Maioria, 1 gale: put@5 wins at the red after the doji; call@10 red then green:
a win at gale 1; call@15 wins at the entry.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from glimpse.backtest import sources
from glimpse.backtest.catalog import quadrant_report
from glimpse.backtest.engine import backtest_report
from glimpse.cli import backtest as command
from glimpse.cli.main import main
from glimpse.market.paper_market import PaperMarket
from glimpse.rules.quadrants import PRESETS

COLOURS = "++--+0--++-++-++-+++"  # the four quadrants of the table above
NOW = 1_717_419_600.0 + 30  # Monday 2024-06-03 13:00:30 UTC
ROOT = Path(__file__).resolve().parent.parent


def _quadrant_doc(name: str, preset: str) -> dict:
    rule = PRESETS[preset].as_document()
    del rule["name"]
    # as createStrategy stores a quadrant strategy (api/routes/strategies.py)
    return {
        "name": name,
        "nameKey": name.casefold(),
        "createdBy": "Glimpse",
        "sequence": "",
        "operation": "",
        "mirror": False,
        "quadrant": rule,
    }


@pytest.fixture
def stored(db, monkeypatch):
    monkeypatch.setattr(command, "_database", lambda: db)
    db["Strategies"].insert_many(
        [
            _quadrant_doc("MHI", "mhi"),
            _quadrant_doc("MHI Maioria", "mhi-maioria"),
            {
                "name": "Two greens",
                "nameKey": "two greens",
                "createdBy": "Glimpse",
                "sequence": "1,1",
                "operation": "put",
                "mirror": True,
            },
        ]
    )
    return db


@pytest.fixture
def colours_file(tmp_path):
    path = tmp_path / "quadrants.txt"
    path.write_text(COLOURS + "\n")
    return path


def counts(entry: dict) -> tuple:
    return entry["signals"], entry["win_at"], entry["loss"], entry["unresolved"], entry["dojis"]


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["backtest", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_stored_quadrant_strategy_is_counted_as_by_hand(stored, colours_file, capsys):
    code, out, err = run_cli(
        capsys, "--strategy", "mhi", "--strategy", "MHI MAIORIA", "--colours", str(colours_file),
        "--gales", "1", "--json",
    )  # fmt: skip
    assert code == 0, err
    reports = json.loads(out)
    assert list(reports) == ["MHI", "MHI Maioria"]
    mhi = reports["MHI"]["total"]
    assert counts(mhi) == (4, [1, 1], 1, 1, 1)
    assert mhi["win_rate_at"] == [1 / 3, 1 / 3]
    assert reports["MHI"]["pairs"]["0"] == mhi  # one line: one pair, named by its index
    maioria = reports["MHI Maioria"]["total"]
    assert counts(maioria) == (4, [2, 1], 0, 1, 1)

    code, out, err = run_cli(capsys, "--strategy", "MHI", "--colours", str(colours_file), "--json")
    assert code == 0, err
    mhi = json.loads(out)["total"]  # one strategy: its report itself
    assert counts(mhi) == (4, [1], 2, 1, 1)


def test_the_text_table_shows_the_same_counts(stored, colours_file, capsys):
    code, out, err = run_cli(capsys, "--strategy", "MHI", "--colours", str(colours_file), "--gales", "1")
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[0] == "strategy MHI (independent, 1 gale)"
    assert lines[1].split() == ["pair", "signals", "win@0", "win@1", "loss", "unres.", "dojis", "win", "rate"]
    assert lines[-1].split() == ["TOTAL", "4", "1", "1", "1", "1", "1", "66.7%"]


def test_first_minute_places_the_quadrants(stored, tmp_path, capsys):
    # One candle more in front, at minute 4 (the last of a quadrant): the same entries as above.
    shifted = tmp_path / "shifted.txt"
    shifted.write_text("-" + COLOURS + "\n")
    code, out, err = run_cli(
        capsys, "--strategy", "MHI", "--colours", str(shifted), "--gales", "1", "--first-minute", "4", "--json",
    )  # fmt: skip
    assert code == 0, err
    total = json.loads(out)["total"]
    assert counts(total) == (4, [1, 1], 1, 1, 1)
    # Taken as starting a quadrant instead, the same file enters elsewhere.
    code, out, _ = run_cli(capsys, "--strategy", "MHI", "--colours", str(shifted), "--gales", "1", "--json")
    assert code == 0
    assert json.loads(out)["total"]["win_at"] != [1, 1]


def test_sequence_and_quadrant_strategies_together(stored, colours_file, capsys):
    code, out, err = run_cli(
        capsys, "--strategy", "two greens", "--strategy", "mhi", "--colours", str(colours_file), "--json"
    )
    assert code == 0, err
    reports = json.loads(out)
    assert list(reports) == ["Two greens", "MHI"]
    series = sources.read_colours_file(colours_file)
    assert reports["Two greens"] == backtest_report(series, "1,1", "put", True, 0)
    assert reports["MHI"]["total"]["win_at"] == [1]


def test_paper_market_pairs_place_the_entries_by_their_time(stored, monkeypatch, capsys):
    class Clock:
        def now(self):
            return NOW

    monkeypatch.setattr(command, "SystemClock", Clock)
    code, out, err = run_cli(
        capsys, "--strategy", "MHI", "--pairs", "EURUSD,GBPUSD", "--days", "1", "--seed", "5", "--gales", "2",
        "--json",
    )  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    start, minutes = sources.last_complete_minutes(NOW, 1)
    market = PaperMarket(5)
    series = {pair: market.colours(pair, start, minutes) for pair in ("EURUSD", "GBPUSD")}
    assert report == quadrant_report(series, PRESETS["mhi"], 2, start // 60)
    # one entry per 5-minute quadrant at most, less the dojis and ties: 288 a day per pair
    assert 0 < report["pairs"]["EURUSD"]["signals"] <= 288


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--strategy", "nonexistent"], "--strategy: no strategy named 'nonexistent'"),
        (["--strategy", "MHI", "--sequential"], "--sequential: 'MHI' is a quadrant strategy"),
        (
            ["--strategy", "MHI", "--sequential", "--stake", "2", "--payout", "87"],
            "--sequential: 'MHI' is a quadrant strategy",
        ),
        (["--strategy", "MHI", "--gales", "4"], "--gales: 'MHI' is a quadrant strategy"),
        (["--strategy", "Broken"], "--strategy 'Broken': period must be"),
        (["--strategy", "MHI", "--first-minute", "-1"], "--first-minute: must be 0 or more"),
        (["--strategy", "MHI", "--pairs", "EURUSD", "--first-minute", "3"], "--first-minute: paper market"),
    ],
)
def test_bad_quadrant_requests_exit_2_naming_the_argument(stored, colours_file, argv, message, capsys):
    broken = _quadrant_doc("Broken", "mhi")
    broken["quadrant"]["period"] = 1
    stored["Strategies"].insert_one(broken)
    data = [] if "--pairs" in argv else ["--colours", str(colours_file)]
    code, out, err = run_cli(capsys, *argv, *data)
    assert code == 2
    assert out == ""
    assert err.startswith("glimpse backtest: ") and message in err


def test_an_unknown_strategy_ends_the_process_with_a_non_zero_status(tmp_path):
    # The `glimpse` console script runs sys.exit(main()): the process, not only main(), must fail.
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLIMPSE_")}
    env["PYTHONPATH"] = str(ROOT)
    colours = tmp_path / "c.txt"
    colours.write_text(COLOURS + "\n")
    done = subprocess.run(
        [sys.executable, "-m", "glimpse.cli.main", "backtest", "--strategy", "nonexistent", "--colours", str(colours)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert "glimpse backtest: --strategy: no strategy named 'nonexistent'" in done.stderr
