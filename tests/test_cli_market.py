"""`glimpse market colours` and `glimpse market test-candles`, run as separate processes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import datetime

import pytest

from glimpse.cli.market import DEFAULT_TEST_CANDLES_START
from glimpse.market.paper_market import PaperMarket
from glimpse.rules.pairs import PAIR_NAMES
from glimpse.store.seed import COLLECTIONS_DIR, load_collection

SEED = 20240601
TARGET = {"+": 49.0, "-": 48.0, "0": 3.0}


def glimpse(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GLIMPSE_")}
    environment.update({"GLIMPSE_SECRET_KEY": "cli-test-secret-key-" + "x" * 32, **(env or {})})
    return subprocess.run(
        [sys.executable, "-m", "glimpse.cli.main", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
    )


def colours(*extra: str, start: str = "2024-05-01T00:00", env: dict | None = None) -> str:
    done = glimpse("market", "colours", "--pair", "EURUSD", "--start", start, *extra, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_two_processes_with_the_same_seed_print_the_same_colours():
    first = colours("--minutes", "1440", "--seed", "77")
    second = colours("--minutes", "1440", env={"GLIMPSE_PAPER_SEED": "77"})
    assert first == second
    assert len(first) == 1440 and set(first) <= {"+", "-", "0"}
    assert colours("--minutes", "1440", "--seed", "78") != first


def test_the_colours_are_the_paper_markets():
    printed = colours("--minutes", "300", "--seed", str(SEED))
    start = int(
        datetime.fromisoformat("2024-05-01T00:00-03:00").timestamp()
    )  # GLIMPSE_TZ defaults to São Paulo
    expected = PaperMarket(SEED).colours("EURUSD", start, 300)
    assert printed == "".join({1: "+", -1: "-", 0: "0"}[int(c)] for c in expected)
    # The same instant written with an offset, and in another GLIMPSE_TZ without one.
    assert colours("--minutes", "300", "--seed", str(SEED), start="2024-05-01T03:00+00:00") == printed
    assert (
        colours("--minutes", "300", "--seed", str(SEED), start="2024-05-01T03:00", env={"GLIMPSE_TZ": "UTC"})
        == printed
    )


def test_a_thirty_day_run_has_the_real_colour_mix():
    text = colours("--minutes", str(30 * 1440), "--seed", str(SEED))
    counts = Counter(text)
    for symbol, target in TARGET.items():
        assert abs(counts[symbol] / len(text) * 100 - target) <= 1.5, counts


@pytest.mark.parametrize(
    "args, message",
    [
        (["--pair", "XYZABC", "--start", "2024-05-01T00:00", "--minutes", "5"], "--pair"),
        (["--pair", "EURUSD", "--start", "yesterday", "--minutes", "5"], "--start"),
        (["--pair", "EURUSD", "--start", "2024-05-01T00:00:30", "--minutes", "5"], "whole minute"),
        (["--pair", "EURUSD", "--start", "2024-05-01T00:00", "--minutes", "0"], "--minutes"),
        (["--pair", "EURUSD", "--start", "2024-05-01T00:00", "--minutes", "5", "--seed", "-3"], "--seed"),
    ],
)
def test_bad_arguments_exit_2_naming_the_argument(args, message):
    done = glimpse("market", "colours", *args)
    assert done.returncode == 2 and message in done.stderr and done.stdout == ""


def test_test_candles_writes_one_reproducible_document_per_pair(tmp_path):
    out = tmp_path / "TestCandles.json"
    done = glimpse("market", "test-candles", "--out", str(out), "--days", "2", "--seed", "5")
    assert done.returncode == 0, done.stderr
    first = out.read_bytes()
    docs = load_collection(out)
    assert [d["ativo"] for d in docs] == list(PAIR_NAMES)
    assert all(len(d["candles"]) == 2 * 1440 and set(d["candles"]) <= {"+", "-", "0"} for d in docs)
    assert all(d["seed"] == 5 and d["start"] == datetime(2024, 5, 1, 3, 0) for d in docs)
    assert glimpse("market", "test-candles", "--out", str(out), "--days", "2", "--seed", "5").returncode == 0
    assert out.read_bytes() == first
    missing = glimpse("market", "test-candles", "--out", str(tmp_path / "no" / "x.json"))
    assert missing.returncode == 2 and "--out" in missing.stderr


def test_the_committed_test_candles_are_the_default_regeneration(tmp_path):
    out = tmp_path / "TestCandles.json"
    assert glimpse("market", "test-candles", "--out", str(out)).returncode == 0
    assert out.read_bytes() == (COLLECTIONS_DIR / "TestCandles.json").read_bytes()
    docs = load_collection(out)
    assert len(docs) == len(PAIR_NAMES) and all(len(d["candles"]) == 43_200 for d in docs)
    assert DEFAULT_TEST_CANDLES_START == "2024-05-01T00:00:00-03:00"
    assert all(d["start"] == datetime(2024, 5, 1, 3, 0) and d["seed"] == SEED for d in docs)  # UTC
    for doc in docs:
        counts = Counter(doc["candles"])
        for symbol, target in TARGET.items():
            assert abs(counts[symbol] / 432 - target) <= 1.5, (doc["ativo"], counts)
