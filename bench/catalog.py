"""Benchmark: the catalog, from raw candle colours to the ranked report with its statistics.

Prints one JSON object. The workload: 31 pairs x 30 days of 1-minute
candles (1,339,200) from the paper market; every colour sequence of length
1..9 (29,523), call and put, with and without mirror (88,560 distinct
strategies), plus the 10 quadrant presets, for gales 0..2; ranked on the
first 2/3 with Wilson intervals, break-even, expected net, the exact
binomial test and Benjamini-Hochberg, then checked on the held-out third.

- seconds: catalog_report end to end (median of --repeat runs after a warm-up;
  the minimum is reported too). The paper market's colours are generated
  before, and timed apart (paper_market_seconds).
- candidate_cycles_per_second: the cycles the report counts (every
  candidate's signals at every gale level, in and out of sample) per second.
- ratio_vs_per_sequence: the time `backtest_report` would take to give the
  same figures, one call per (candidate, gale level) on the whole period,
  over `seconds`. The time per call is measured on a sample stratified by
  sequence length (calls on short sequences resolve far more signals) and
  extrapolated per length. ratio_vs_one_call_per_sequence counts only one
  call per sequence (29,523 calls), the most favourable reading for the
  one-at-a-time way.

    .venv/bin/python bench/catalog.py [--repeat 3] [--per-length 3]
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

from glimpse.backtest.catalog import Candidates, ReportSettings, catalog_report, codes_up_to, scan
from glimpse.backtest.engine import backtest_report
from glimpse.market.paper_market import PaperMarket
from glimpse.rules.pairs import PAIR_NAMES
from glimpse.rules.quadrants import PRESETS

PAIRS = 31
DAYS = 30
MINUTES = DAYS * 1440
SEED = 20240601
START = 1_704_067_200  # 2024-01-01 00:00 UTC
MAX_LENGTH = 9
GALES = 2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--per-length", type=int, default=3, help="backtest_report samples per sequence length"
    )
    args = parser.parse_args()

    names = list(PAIR_NAMES[:PAIRS])
    market = PaperMarket(SEED)
    began = time.perf_counter()
    series = {name: market.colours(name, START, MINUTES) for name in names}
    market_seconds = time.perf_counter() - began
    candles = sum(s.size for s in series.values())
    settings = ReportSettings(
        max_length=MAX_LENGTH,
        gales=GALES,
        payout=87,
        stake=2,
        gale_type="sobra",
        quadrants=tuple(PRESETS.values()),
    )

    def run() -> dict:
        return catalog_report(series, settings, first_minutes=START // 60)

    report = run()  # warm up: caches, allocator
    runs = []
    for _ in range(args.repeat):
        began = time.perf_counter()
        run()
        runs.append(time.perf_counter() - began)
    seconds, best = statistics.median(runs), min(runs)

    # the cycles the report counts: every candidate at every gale level, in and out of sample
    cycles = 0
    for begin, end in ((0.0, settings.split), (settings.split, 1.0)):
        part = {
            name: colours[int(colours.size * begin) : int(colours.size * end)]
            for name, colours in series.items()
        }
        catalog = scan(part, MAX_LENGTH, GALES, settings.quadrants, START // 60)
        cycles += sum(int(catalog.counts.outcomes[g].sum()) for g in range(GALES + 1))

    # backtest_report, one call per (candidate, gale level), sampled per sequence length
    candidates = Candidates.all(MAX_LENGTH)
    rng = np.random.default_rng(SEED)
    per_sequence_seconds = 0.0
    one_call_seconds = 0.0
    sampled_calls = 0
    per_length = {}
    for length in range(1, MAX_LENGTH + 1):
        rows = np.flatnonzero(candidates.length == length)
        chosen = rng.choice(rows, size=min(args.per_length, rows.size), replace=False)
        times = []
        for index in chosen.tolist():
            described = candidates.describe(index)
            for g in range(GALES + 1):
                began = time.perf_counter()
                backtest_report(series, described["sequence"], described["operation"], described["mirror"], g)
                times.append(time.perf_counter() - began)
        mean = float(np.mean(times))
        sampled_calls += len(times)
        per_sequence_seconds += mean * rows.size * (GALES + 1)
        one_call_seconds += mean * 3**length
        per_length[length] = round(mean, 6)

    print(
        json.dumps(
            {
                "benchmark": "catalog",
                "data": f"paper market, seed {SEED}, {DAYS} days from 2024-01-01",
                "pairs": PAIRS,
                "candles": candles,
                "sequences": codes_up_to(MAX_LENGTH),
                "candidates": len(candidates) + len(settings.quadrants),
                "gales": GALES,
                "rows_tested": report["tests"],
                "flagged": report["flagged"],
                "verdict": report["verdict"],
                "seconds": round(seconds, 4),
                "seconds_best": round(best, 4),
                "candidate_cycles": cycles,
                "candidate_cycles_per_second": round(cycles / seconds),
                "paper_market_seconds": round(market_seconds, 4),
                "per_sequence_seconds_extrapolated": round(per_sequence_seconds, 1),
                "per_sequence_calls": (len(candidates)) * (GALES + 1),
                "per_sequence_sampled_calls": sampled_calls,
                "backtest_report_seconds_per_call_by_length": per_length,
                "ratio_vs_per_sequence": round(per_sequence_seconds / seconds, 1),
                "ratio_vs_one_call_per_sequence": round(one_call_seconds / seconds, 1),
                "goals": {"seconds_at_most": 1.0, "ratio_vs_per_sequence_at_least": 1000},
                "machine": {
                    "cores": os.cpu_count(),
                    "load_average": [round(v, 2) for v in os.getloadavg()],
                    "python": platform.python_version(),
                    "numpy": np.__version__,
                },
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
