"""Benchmark: the backtester on a year of 1-minute candles for 24 pairs.

Prints one JSON object. The workload: 24 pairs x 525,600 candles (12.6M),
from the paper market (or fixed-seed random colours with --random), one
9-candle strategy with mirror, 2 gales, independent mode.

- seconds, candles_per_second: the vectorised backtester (glimpse.backtest.engine.backtest_report).
- ratio_vs_python: a plain Python loop of the same rules on a 1 % slice of
  every pair, scaled by 100, over the vectorised time.
- ratio_vs_floor: the vectorised time over one np.count_nonzero pass on the
  same int8 array (the least any full read of the data costs).
Times are the median of --repeat runs (the minimum is reported too).

    .venv/bin/python bench/backtest.py [--random] [--repeat 15]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

import numpy as np

from glimpse.backtest.engine import backtest_report
from glimpse.market.paper_market import PaperMarket
from glimpse.rules.pairs import PAIR_NAMES

PAIRS = 24
MINUTES = 365 * 1440
SEED = 20240601
START = 1_704_067_200  # 2024-01-01 00:00 UTC
NINE_REDS = "-1,-1,-1,-1,-1,-1,-1,-1,-1"
MIXED_NINE = "-1,1,-1,1,-1,1,-1,1,-1"  # nine runs of one candle: the most work for the run-based matcher
GALES = 2


def colour_matrix(random: bool) -> tuple[list[str], np.ndarray]:
    names = list(PAIR_NAMES[:PAIRS])
    if random:
        rng = np.random.default_rng(SEED)
        matrix = rng.choice(np.array([-1, 0, 1], dtype=np.int8), size=(PAIRS, MINUTES), p=[0.48, 0.03, 0.49])
    else:
        market = PaperMarket(SEED)
        matrix = np.stack([market.colours(pair, START, MINUTES) for pair in names])
    return names, np.ascontiguousarray(matrix)


def timed(function, repeat: int) -> tuple[float, float]:
    function()  # warm up: caches, allocator
    runs = []
    for _ in range(repeat):
        began = time.perf_counter()
        function()
        runs.append(time.perf_counter() - began)
    return statistics.median(runs), min(runs)


def loop_cycles(
    colours: list[int], directions: list[int], gales: int
) -> tuple[int, list[int], int, int, int]:
    """The gale cycle from each signal (direction +1/-1 at index t; 0 = none), the backtester's rules as a
    plain loop: the reference the vectorised engine and the catalog are checked against (tests import it)."""
    signals, win_at, loss, unresolved, dojis = 0, [0] * (gales + 1), 0, 0, 0
    for t, direction in enumerate(directions):
        if not direction:
            continue
        signals += 1
        level, done = 0, False
        for colour in colours[t + 1 :]:
            if colour == 0:
                dojis += 1
            elif colour == direction:
                win_at[level] += 1
                done = True
                break
            else:
                level += 1
                if level > gales:
                    loss += 1
                    done = True
                    break
        if not done:
            unresolved += 1
    return signals, win_at, loss, unresolved, dojis


def python_loop(
    rows: list[list[int]], sequence: tuple[int, ...], wanted: int, gales: int
) -> tuple[int, list[int], int, int, int]:
    """The rules as a plain loop (independent mode, with mirror)."""
    k = len(sequence)
    inverse = tuple(-c for c in sequence)
    signals, win_at, loss, unresolved, dojis = 0, [0] * (gales + 1), 0, 0, 0
    for colours in rows:
        directions = [0] * len(colours)
        for t in range(k - 1, len(colours)):
            window = tuple(colours[t - k + 1 : t + 1])
            directions[t] = wanted if window == sequence else -wanted if window == inverse else 0
        row = loop_cycles(colours, directions, gales)
        signals, loss, unresolved, dojis = (
            signals + row[0],
            loss + row[2],
            unresolved + row[3],
            dojis + row[4],
        )
        win_at = [a + b for a, b in zip(win_at, row[1], strict=True)]
    return signals, win_at, loss, unresolved, dojis


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--random", action="store_true", help="fixed-seed random colours instead of the paper market"
    )
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    names, matrix = colour_matrix(args.random)
    series = {name: matrix[i] for i, name in enumerate(names)}
    candles = matrix.size

    def run(sequence: str, sequential: bool = False):
        return lambda: backtest_report(series, sequence, "call", True, GALES, sequential)

    seconds, best = timed(run(NINE_REDS), args.repeat)
    floor, floor_best = timed(lambda: np.count_nonzero(matrix), args.repeat * 4)
    mixed, _ = timed(run(MIXED_NINE), args.repeat)
    sequential, _ = timed(run(NINE_REDS, sequential=True), max(3, args.repeat // 3))
    report = run(NINE_REDS)()

    # the plain loop on the first 1 % of every pair, scaled up
    share = MINUTES // 100
    rows = [matrix[i, :share].tolist() for i in range(PAIRS)]
    began = time.perf_counter()
    python_counts = python_loop(rows, tuple(int(c) for c in NINE_REDS.split(",")), 1, GALES)
    python_seconds = (time.perf_counter() - began) * (candles / (share * PAIRS))
    sliced = backtest_report(
        {n: matrix[i, :share] for i, n in enumerate(names)}, NINE_REDS, "call", True, GALES
    )
    total = sliced["total"]
    if python_counts != (
        total["signals"],
        total["win_at"],
        total["loss"],
        total["unresolved"],
        total["dojis"],
    ):
        print("the plain loop and the backtester disagree on the 1 % slice", file=sys.stderr)
        return 1

    print(
        json.dumps(
            {
                "benchmark": "backtest",
                "data": "fixed-seed random colours" if args.random else f"paper market, seed {SEED}, 2024",
                "pairs": PAIRS,
                "candles": candles,
                "strategy": {
                    "sequence": NINE_REDS,
                    "operation": "call",
                    "mirror": True,
                    "gales": GALES,
                    "mode": "independent",
                },
                "signals": report["total"]["signals"],
                "seconds": round(seconds, 6),
                "seconds_best": round(best, 6),
                "candles_per_second": round(candles / seconds),
                "python_seconds_scaled": round(python_seconds, 3),
                "ratio_vs_python": round(python_seconds / seconds, 1),
                "floor_seconds": round(floor, 6),
                "floor_seconds_best": round(floor_best, 6),
                "ratio_vs_floor": round(seconds / floor, 2),
                "mixed_nine_seconds": round(mixed, 6),
                "mixed_nine_ratio_vs_floor": round(mixed / floor, 2),
                "sequential_seconds": round(sequential, 6),
                "goals": {"candles_per_second": 100_000_000, "ratio_vs_floor_at_most": 10},
                "machine": {
                    "cores": os.cpu_count(),
                    "python": platform.python_version(),
                    "numpy": np.__version__,
                },
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
