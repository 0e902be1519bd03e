"""Benchmark: the batch sequence finder against the original loop.

Prints one JSON object. The workload: 1,000 pairs x 100 strategies, a window
of 15 candles per pair, random colours and strategies from a fixed seed.

- batch_us: one StrategyBatch.match over the colour matrix (all pairs x all
  strategies), the pass the operational servers make at each decision instant.
- batch_find_us: the same, plus the per-strategy match lists in the original order.
- matrix_from_candles_us: building the colour matrix from candle documents.
- original_us: the same work done the way the original did it, in pure Python:
  per strategy, per pair, decode the candles' JSON string, build the colour
  list and compare it, newest to oldest, with the sequence and then its mirror.
- ratio_vs_original: original_us / batch_us.
Times are medians over --repeat runs (the original: over --original-repeat runs).

    .venv/bin/python bench/finder.py [--repeat 200] [--original-repeat 3]
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

from glimpse.rules.patterns import ColourMatrix, Strategy, StrategyBatch, colour_matrix

PAIRS = 1000
STRATEGIES = 100
WINDOW = 15
SEED = 20240601


def workload() -> tuple[list[str], np.ndarray, list[Strategy], list[dict]]:
    rng = np.random.default_rng(SEED)
    pairs = [f"PAIR{i:04d}" for i in range(PAIRS)]
    colours = rng.choice(np.array([-1, 0, 1], dtype=np.int8), size=(PAIRS, WINDOW), p=[0.485, 0.03, 0.485])
    strategies = []
    for _ in range(STRATEGIES):
        length = int(rng.integers(2, 10))
        sequence = tuple(int(c) for c in rng.choice([-1, 0, 1], size=length, p=[0.48, 0.04, 0.48]))
        strategies.append(Strategy(sequence, str(rng.choice(["call", "put"])), bool(rng.integers(0, 2))))
    # RealtimeCandles documents as the original stored them: the candle list as a JSON string
    docs = []
    for pair, row in zip(pairs, colours, strict=True):
        opens = np.round(1.1 + rng.normal(0, 0.001, WINDOW), 5)
        closes = np.round(opens + row * rng.uniform(0.00001, 0.0005, WINDOW), 5)
        candles = [{"o": float(o), "c": float(c)} for o, c in zip(opens, closes, strict=True)]
        docs.append({"ativo": pair, "candles": json.dumps(candles)})
    return pairs, colours, strategies, docs


def original_sequence_finder(docs: list[dict], sequence: list[int], operation: str, mirror: bool):
    """One call of the original finder, re-implemented faithfully in plain Python."""
    found, mirrored = [], []
    inverse = [-c for c in sequence]
    opposite = "put" if operation == "call" else "call"
    for doc in docs:
        candles = json.loads(doc["candles"])
        colours = []
        for candle in candles:
            move = candle["c"] - candle["o"]
            colours.append(-1 if move < 0 else 1 if move > 0 else 0)
        if len(colours) < len(sequence):
            continue
        matched = True
        for back in range(1, len(sequence) + 1):  # newest to oldest
            if colours[-back] != sequence[-back]:
                matched = False
                break
        if matched:
            found.append([doc["ativo"], operation])
            continue
        if mirror and any(sequence):
            matched = True
            for back in range(1, len(sequence) + 1):
                if colours[-back] != inverse[-back]:
                    matched = False
                    break
            if matched:
                mirrored.append([doc["ativo"], opposite])
    return found + mirrored


def median_seconds(function, repeat: int) -> float:
    function()
    runs = []
    for _ in range(repeat):
        began = time.perf_counter()
        function()
        runs.append(time.perf_counter() - began)
    return statistics.median(runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--original-repeat", type=int, default=3)
    args = parser.parse_args()

    pairs, colours, strategies, docs = workload()
    matrix = ColourMatrix.of(pairs, colours)
    batch = StrategyBatch(strategies)
    market = {doc["ativo"]: json.loads(doc["candles"]) for doc in docs}

    batch_seconds = median_seconds(lambda: batch.match(matrix), args.repeat)
    find_seconds = median_seconds(lambda: batch.find(matrix), args.repeat)
    build_seconds = median_seconds(lambda: colour_matrix(market, window=WINDOW), max(5, args.repeat // 10))
    compile_seconds = median_seconds(lambda: StrategyBatch(strategies), max(5, args.repeat // 10))

    def original():
        return [original_sequence_finder(docs, list(s.sequence), s.operation, s.mirror) for s in strategies]

    original_seconds = median_seconds(original, args.original_repeat)

    # both give the same answers
    expected = [[tuple(match) for match in found] for found in original()]
    if batch.find(colour_matrix(market, window=WINDOW)) != expected:
        print("the batch finder and the original loop disagree", file=sys.stderr)
        return 1

    print(
        json.dumps(
            {
                "benchmark": "finder",
                "pairs": PAIRS,
                "strategies": STRATEGIES,
                "window": WINDOW,
                "matches": sum(len(found) for found in expected),
                "batch_us": round(batch_seconds * 1e6, 1),
                "batch_find_us": round(find_seconds * 1e6, 1),
                "matrix_from_candles_us": round(build_seconds * 1e6, 1),
                "compile_strategies_us": round(compile_seconds * 1e6, 1),
                "original_us": round(original_seconds * 1e6, 1),
                "ratio_vs_original": round(original_seconds / batch_seconds, 1),
                "goals": {"batch_us_below": 1000, "ratio_vs_original_at_least": 200},
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
