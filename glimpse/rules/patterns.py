"""Candle colours and the sequence finder (the original sequenceFinder rule).

A candle is green (1) when it closed above its open, red (-1) below, and a
doji (0) otherwise. A strategy is a colour `sequence` (oldest first), an
`operation` (call|put) and a `mirror` flag. A pair matches when the colours
of its newest len(sequence) candles equal the sequence, the newest being the
candle now closing; it then trades `operation`. With `mirror`, the inverted
sequence (1 <-> -1, 0 stays) also matches and trades the opposite direction;
an all-doji sequence is its own inverse, so only its primary match counts.

`find` answers one strategy in the original's order. `StrategyBatch` answers
P pairs x S strategies in one numpy pass over a colour matrix: each row's
newest candles are folded into base-3 suffix codes, one per length, and a
strategy matches where the code of its length equals its own code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

CALL = "call"
PUT = "put"
OPERATIONS = (CALL, PUT)
COLOURS = (-1, 0, 1)
# Longer sequences would overflow the int64 base-3 codes (3**39 is the limit);
# the live bot only ever sees 15 candles anyway.
MAX_SEQUENCE_LENGTH = 32


class PatternError(ValueError):
    """A strategy or candle list the finder cannot use; the message names the field."""


# --- colours ---------------------------------------------------------------


def colour(open_price: float, close_price: float) -> int:
    """1 green, -1 red, 0 doji (close - open, as the original computes it)."""
    move = close_price - open_price
    return 1 if move > 0 else -1 if move < 0 else 0


def colours_from_moves(moves: np.ndarray) -> np.ndarray:
    """int8 colours from close - open differences (NaN counts as a doji, like the original)."""
    moves = np.asarray(moves, dtype=float)
    return (moves > 0).astype(np.int8) - (moves < 0).astype(np.int8)


def colours(candles: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """int8 colours of `[{"o": open, "c": close, ...}]`, oldest first."""
    try:
        opens = np.array([candle["o"] for candle in candles], dtype=float)
        closes = np.array([candle["c"] for candle in candles], dtype=float)
    except (KeyError, TypeError, ValueError) as exc:
        raise PatternError(f"candles must be objects with numeric 'o' and 'c' ({exc})") from None
    return colours_from_moves(closes - opens)


# --- strategies ------------------------------------------------------------


def parse_sequence(value: str | Iterable[int | str]) -> tuple[int, ...]:
    """A colour sequence from "-1,-1,0" or [-1, -1, 0]; PatternError when invalid."""
    items = value.split(",") if isinstance(value, str) else list(value)
    sequence = []
    for position, item in enumerate(items):
        text = item.strip() if isinstance(item, str) else item
        if isinstance(text, bool):
            raise PatternError(f"sequence item {position} must be 1, -1 or 0, got {item!r}")
        try:
            number = int(text)
        except (TypeError, ValueError):
            raise PatternError(f"sequence item {position} must be 1, -1 or 0, got {item!r}") from None
        if number not in COLOURS or (not isinstance(text, str) and number != text):
            raise PatternError(f"sequence item {position} must be 1, -1 or 0, got {item!r}")
        sequence.append(number)
    if not sequence:
        raise PatternError("sequence must hold at least one colour")
    if len(sequence) > MAX_SEQUENCE_LENGTH:
        raise PatternError(f"sequence must hold at most {MAX_SEQUENCE_LENGTH} colours, got {len(sequence)}")
    return tuple(sequence)


def format_sequence(sequence: Iterable[int]) -> str:
    return ",".join(str(int(c)) for c in sequence)


def parse_operation(value: str) -> str:
    operation = value.strip().lower() if isinstance(value, str) else value
    if operation not in OPERATIONS:
        raise PatternError(f"operation must be 'call' or 'put', got {value!r}")
    return operation


def parse_mirror(value: bool | str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise PatternError(f"mirror must be true or false, got {value!r}")


def opposite(operation: str) -> str:
    return PUT if operation == CALL else CALL


def inverted(sequence: Iterable[int]) -> tuple[int, ...]:
    return tuple(-c for c in sequence)


def direction_colour(operation: str) -> int:
    """The colour a candle needs for an order in `operation` to win."""
    return 1 if operation == CALL else -1


@dataclass(frozen=True)
class Strategy:
    sequence: tuple[int, ...]
    operation: str
    mirror: bool = False

    @classmethod
    def parse(
        cls, sequence: str | Iterable[int | str], operation: str, mirror: bool | str = False
    ) -> Strategy:
        return cls(parse_sequence(sequence), parse_operation(operation), parse_mirror(mirror))

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Strategy:
        """A strategy from a `Strategies` document ({sequence, operation, mirror})."""
        for field in ("sequence", "operation"):
            if field not in doc:
                raise PatternError(f"strategy document has no {field!r}")
        return cls.parse(doc["sequence"], doc["operation"], doc.get("mirror", False))

    @property
    def mirrored(self) -> bool:
        """Whether the inverted sequence counts too (never for all-doji sequences)."""
        return self.mirror and any(self.sequence)

    def __len__(self) -> int:
        return len(self.sequence)


# --- the finder ------------------------------------------------------------


@dataclass(frozen=True)
class ColourMatrix:
    """Colours of P pairs, right-aligned: column -1 holds each pair's newest candle.

    `counts[p]` is how many of row p's columns hold real candles; the rest
    (on the left) are padding and never match.
    """

    pairs: tuple[str, ...]
    colours: np.ndarray  # int8, shape (P, W)
    counts: np.ndarray  # int64, shape (P,)

    @classmethod
    def of(
        cls, pairs: Sequence[str], colours: np.ndarray, counts: Sequence[int] | None = None
    ) -> ColourMatrix:
        matrix = np.ascontiguousarray(colours, dtype=np.int8)
        if matrix.ndim != 2 or matrix.shape[0] != len(pairs):
            raise PatternError(
                f"colour matrix must have one row per pair, got shape {matrix.shape} for {len(pairs)} pairs"
            )
        width = matrix.shape[1]
        filled = (
            np.full(len(pairs), width, dtype=np.int64)
            if counts is None
            else np.asarray(counts, dtype=np.int64)
        )
        if filled.shape != (len(pairs),) or np.any(filled < 0) or np.any(filled > width):
            raise PatternError(
                "counts must give, per pair, a number of candles between 0 and the matrix width"
            )
        return cls(tuple(pairs), matrix, filled)


def colour_matrix(
    candles_by_pair: Mapping[str, Sequence[Mapping[str, Any]]], window: int | None = None
) -> ColourMatrix:
    """The colour matrix of `{pair: [{o, c}, ...] oldest first}`, keeping the newest `window` candles."""
    pairs = tuple(candles_by_pair)
    rows = [candles_by_pair[pair] for pair in pairs]
    width = max((len(row) for row in rows), default=0) if window is None else int(window)
    # all the pairs' newest candles in one flat list, so numpy converts them in one go
    newest = [row[len(row) - min(len(row), width) :] for row in rows]
    counts = np.array([len(row) for row in newest], dtype=np.int64)
    flat = colours([candle for row in newest for candle in row])
    matrix = np.zeros((len(pairs), width), dtype=np.int8)
    if flat.size:
        row_of = np.repeat(np.arange(len(pairs)), counts)
        ends = np.cumsum(counts)
        column = np.arange(flat.size) - np.repeat(ends - counts, counts) + np.repeat(width - counts, counts)
        matrix[row_of, column] = flat
    return ColourMatrix(pairs, matrix, counts)


def sequence_code(sequence: Sequence[int]) -> int:
    """Base-3 code of a sequence, newest colour as the least significant digit."""
    code = 0
    for c in sequence:  # oldest first, so the oldest ends up most significant
        code = code * 3 + (int(c) + 1)
    return code


class StrategyBatch:
    """Many strategies compiled once, matched against colour matrices in one pass."""

    def __init__(self, strategies: Sequence[Strategy]):
        self.strategies = tuple(strategies)
        self.lengths = np.array([len(s) for s in self.strategies], dtype=np.int64)
        self.codes = np.array([sequence_code(s.sequence) for s in self.strategies], dtype=np.int64)
        self.mirror_codes = np.array(
            [sequence_code(inverted(s.sequence)) for s in self.strategies], dtype=np.int64
        )
        self.mirrored = np.array([s.mirrored for s in self.strategies], dtype=bool)
        self.max_length = int(self.lengths.max(initial=0))
        self._powers = 3 ** np.arange(MAX_SEQUENCE_LENGTH, dtype=np.int64)

    def match(self, matrix: ColourMatrix) -> tuple[np.ndarray, np.ndarray]:
        """Boolean (P, S) arrays: primary matches, and mirrored matches."""
        pairs_count, width = matrix.colours.shape
        depth = min(width, self.max_length)
        if depth == 0 or not self.strategies:
            empty = np.zeros((pairs_count, len(self.strategies)), dtype=bool)
            return empty, empty.copy()
        newest_first = matrix.colours[:, width - depth :][:, ::-1]
        # suffix[p, j]: code of row p's newest j + 1 colours
        suffix = np.cumsum((newest_first + np.int8(1)) * self._powers[:depth], axis=1)
        codes = suffix[:, np.minimum(self.lengths, depth) - 1]
        long_enough = matrix.counts[:, None] >= self.lengths[None, :]
        primary = (codes == self.codes) & long_enough
        mirrored = (codes == self.mirror_codes) & long_enough & self.mirrored
        return primary, mirrored

    def find(self, matrix: ColourMatrix) -> list[list[tuple[str, str]]]:
        """Per strategy, the matches in the original order: primary by pair, then mirrored."""
        primary, mirrored = self.match(matrix)
        strategy_count = len(self.strategies)
        # nonzero() of the transposed matrices lists matches by strategy, then by pair
        found = []
        for hits, flipped in ((primary, False), (mirrored, True)):
            which, pair_index = np.nonzero(hits.T)
            bounds = np.searchsorted(which, np.arange(strategy_count + 1)).tolist()
            names = [matrix.pairs[p] for p in pair_index.tolist()]
            found.append((bounds, names, flipped))
        results = []
        for index, strategy in enumerate(self.strategies):
            matches: list[tuple[str, str]] = []
            for bounds, names, flipped in found:
                direction = opposite(strategy.operation) if flipped else strategy.operation
                matches += [(name, direction) for name in names[bounds[index] : bounds[index + 1]]]
            results.append(matches)
        return results


def find(
    candles_by_pair: Mapping[str, Sequence[Mapping[str, Any]]],
    sequence: str | Iterable[int | str],
    operation: str,
    mirror: bool | str = False,
) -> list[tuple[str, str]]:
    """The pairs whose newest candles match the strategy, as (pair, direction), in the original order."""
    strategy = Strategy.parse(sequence, operation, mirror)
    matrix = colour_matrix(candles_by_pair, window=len(strategy))
    return StrategyBatch([strategy]).find(matrix)[0]
