"""The catalog: every colour sequence up to a length, both ways, with and without mirror, at once.

For a set of pairs' colour series it counts, for every candidate strategy
and every gale level 0..G, what `backtest_report` counts in its
independent mode (every signal is its own cycle): signals, wins per level,
losses, unresolved cycles and the dojis met on the way. The figures are
the backtester's exactly; tests hold the two against each other.

How it is fast: a cycle's outcome from a given candle does not depend on
which strategy signalled there, only on the direction. So each candle t is
classed once by what follows it (the colour of the first non-doji candle,
how long its run of that colour lasts and how many non-doji candles are
left, both capped at G + 1): that class decides the outcome of a cycle from
t in either direction at every gale level. The classes are then counted per
base-3 suffix code (newest colour least significant) with one bincount for
the longest length L; a shorter length's table is the longer one summed
over its oldest colour, plus the one candle per pair that is only old
enough for the shorter one. The dojis of a cycle depend on its end, so they
are summed the same way from per-candle doji counts. A candidate's figures
are then a small matrix product: its code's class counts times the class ->
outcome table of its direction and gale level (plus its mirror's).

Quadrant rules (glimpse.rules.quadrants) are extra candidates: their
signals and directions come from the minute of each candle, and their
counts from the same per-candle classes.

`catalog_report` ranks the rows (candidate, gale level) on the earlier part
of the period and tests them honestly (see glimpse.backtest.stats): Wilson
intervals, break-even at the payout, expected net for the stake and gale
type, Benjamini–Hochberg over every row tested, and replication on the
held-out part. Only the independent mode is catalogued: the sequential
one-bot mode depends on every earlier cycle of the same strategy, which
no shared per-candle class can hold.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from glimpse.backtest.engine import as_colours, report_entry
from glimpse.backtest.stats import benjamini_hochberg, binomial_sf, break_even, expected_net, wilson
from glimpse.rules.money import MoneyPlan
from glimpse.rules.patterns import CALL, PUT, Strategy, format_sequence, sequence_code
from glimpse.rules.quadrants import QuadrantRule, signal_directions_many

MAX_LENGTH = 9
MAX_GALES = 3
# outcome columns of a counts table: unresolved, loss, then wins at levels 0..g
UNRESOLVED_COLUMN = 0
LOSS_COLUMN = 1
FIRST_WIN_COLUMN = 2
DIRECTIONS = (CALL, PUT)  # direction index 0 trades call (wins on green), 1 put (wins on red)


class CatalogError(ValueError):
    """Input the catalog cannot use; the message names the argument."""


def _check(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or not low <= value <= high:
        raise CatalogError(f"{name} must be a whole number from {low} to {high}, got {value!r}")
    return int(value)


def offset_of_length(length: int) -> int:
    """Where the codes of `length` start in the tables of all lengths (1: 0, 2: 3, 3: 12, ...)."""
    return (3**length - 3) // 2


def codes_up_to(length: int) -> int:
    """How many sequences of length 1..`length` there are (9: 29,523)."""
    return offset_of_length(length + 1)


def sequence_of(length: int, code: int) -> tuple[int, ...]:
    """The sequence (oldest first) of a base-3 code of `length` colours."""
    digits = []
    for _ in range(length):
        code, digit = divmod(code, 3)
        digits.append(digit - 1)
    return tuple(reversed(digits))


# --- per-candle classes ------------------------------------------------------


def classify(colours: np.ndarray, gales: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each candle t of one series, classed by the cycle that would enter at t + 1.

    Returns (classes, side, dojis_first, dojis_other): the class (see
    `outcome_tables`), whether the first non-doji candle after t is red
    (side 1) or not (0), the dojis met by the direction that candle wins,
    and per gale level (rows) the dojis met by the other direction.
    """
    size = colours.size
    cap = gales + 1
    nonzero = colours != 0
    positions = np.flatnonzero(nonzero).astype(np.int32)
    count = positions.size
    after = np.arange(1, size + 1, dtype=np.int32)  # the entry candle of a signal at t
    # f[t]: the index (among the non-doji candles) of the first one after t
    f = np.cumsum(nonzero, dtype=np.int32)
    left = count - f  # non-doji candles after t
    compact = colours[positions]
    # run[i]: how many non-doji candles from i on share its colour, capped at gales + 1
    run = np.ones(count + 1, dtype=np.int32)
    same = np.zeros(count + cap, dtype=bool)
    if count > 1:
        np.equal(compact[1:], compact[:-1], out=same[: count - 1])
    still = np.ones(count, dtype=bool)
    for k in range(1, cap):
        still &= same[k - 1 : k - 1 + count]
        run[:count] += still
    padded = np.append(positions, np.int32(size))
    red = np.append(compact < 0, False)
    side = red[f].astype(np.int8)  # f == count (nothing after t) reads the False pad
    r = np.minimum(run[f], left)  # run[count] is a pad; left is 0 there
    classes = np.minimum(r, cap) - 1
    classes *= cap
    classes += np.minimum(left, cap) - 1
    classes += side.astype(np.int32) * (cap * cap) + 1
    classes[left == 0] = 0
    # dojis: the candles before the one that ends the cycle, less the non-doji ones among them;
    # an unresolved cycle "ends" past the last non-doji candle (padded[count] = size)
    dojis_first = padded[f] - after
    dojis_other = np.empty((cap, size), dtype=np.int32)
    for g in range(cap):
        win = (r <= g) & (r < left)
        end = np.where(win, r, np.minimum(left, g))
        dojis_other[g] = padded[f + end] - after - end
    return classes.astype(np.int8), side, dojis_first, dojis_other


@dataclass(frozen=True)
class Candles:
    """The pairs' colours side by side, each candle classed by what follows it (for gales up to `gales`)."""

    names: tuple[str, ...]
    flat: np.ndarray  # int8 colours, the pairs one after another
    starts: np.ndarray  # int64, shape (P + 1,): pair p holds flat[starts[p]:starts[p + 1]]
    first_minutes: np.ndarray  # int64 minute (since the epoch) of each pair's first candle
    gales: int
    classes: np.ndarray  # int8 class of the cycle from each candle (see `outcome_tables`)
    side: np.ndarray  # int8: 1 when the first non-doji candle after it is red, else 0
    dojis_first: np.ndarray  # int32 dojis met by the direction the first non-doji candle wins
    dojis_other: np.ndarray  # int32 (gales + 1, N): dojis met by the other direction per gale level
    dojis_any: np.ndarray  # bool: whether a cycle from the candle meets a doji in any direction and level

    @property
    def size(self) -> int:
        return int(self.flat.size)

    @property
    def class_count(self) -> int:
        return 1 + 2 * (self.gales + 1) ** 2

    def pair_of(self, positions: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.starts, positions, side="right") - 1

    def local(self, positions: np.ndarray) -> np.ndarray:
        return positions - self.starts[self.pair_of(positions)]

    @classmethod
    def build(
        cls,
        series_by_pair: Mapping[str, Any],
        gales: int,
        first_minutes: Mapping[str, int] | int | None = None,
        classified: bool = True,
    ) -> Candles:
        """The pairs' candles; without `classified`, only the colours (for slicing), no classes."""
        gales = _check(gales, "gales", 0, MAX_GALES)
        names = tuple(series_by_pair)
        series = [as_colours(series_by_pair[name], f"colours of {name}") for name in names]
        lengths = np.array([s.size for s in series], dtype=np.int64)
        starts = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
        size = int(starts[-1])
        if first_minutes is None or isinstance(first_minutes, int | np.integer):
            minutes = np.full(len(names), int(first_minutes or 0), dtype=np.int64)
        else:
            minutes = np.array([int(first_minutes.get(name, 0)) for name in names], dtype=np.int64)
        flat = np.concatenate(series) if series else np.zeros(0, dtype=np.int8)
        work = size if classified else 0
        classes = np.empty(work, dtype=np.int8)
        side = np.empty(work, dtype=np.int8)
        dojis_first = np.empty(work, dtype=np.int32)
        dojis_other = np.empty((gales + 1, work), dtype=np.int32)
        # one pair at a time: no pair boundaries to mind, and the work arrays stay in cache
        for p, colours in enumerate(series if classified else ()):
            part = slice(int(starts[p]), int(starts[p + 1]))
            classes[part], side[part], dojis_first[part], dojis_other[:, part] = classify(colours, gales)
        dojis_any = (dojis_first != 0) | np.bitwise_or.reduce(dojis_other, axis=0).astype(bool)
        return cls(names, flat, starts, minutes, gales, classes, side, dojis_first, dojis_other, dojis_any)

    def slice(self, begin: float, end: float) -> dict[str, np.ndarray]:
        """Each pair's colours from fraction `begin` to `end` of its length (for splits)."""
        result = {}
        for p, name in enumerate(self.names):
            length = int(self.starts[p + 1] - self.starts[p])
            a, b = int(length * begin), int(length * end)
            result[name] = self.flat[self.starts[p] + a : self.starts[p] + b]
        return result

    def minutes_from(self, begin: float) -> dict[str, int]:
        """The first minute of each pair's slice starting at fraction `begin`."""
        return {
            name: int(self.first_minutes[p]) + int(int(self.starts[p + 1] - self.starts[p]) * begin)
            for p, name in enumerate(self.names)
        }


def outcome_tables(gales: int) -> np.ndarray:
    """float64 (2 directions, gales + 1 levels, classes, gales + 3 columns): the one-hot outcome of each class.

    Class 0: no non-doji candle follows (unresolved). Class 1 + s·C² + (r-1)·C + (a-1)
    (C = gales + 1): the first non-doji candle is green (s 0) or red (s 1), its
    run lasts r (capped at C) and a non-doji candles are left (capped at C).
    For a gale level g, the direction of that first candle wins at level 0;
    the other one wins at level r when r <= g and a candle ends the run,
    loses when g + 1 candles are left, and is unresolved otherwise. Columns
    past g + 2 stay empty (levels above g do not exist).
    """
    cap = gales + 1
    table = np.zeros((2, cap, 1 + 2 * cap * cap, gales + 3))
    for direction in range(2):
        for g in range(cap):
            table[direction, g, 0, UNRESOLVED_COLUMN] = 1
            for side in range(2):
                for r in range(1, cap + 1):
                    for a in range(r, cap + 1):
                        klass = 1 + side * cap * cap + (r - 1) * cap + (a - 1)
                        if side == direction:
                            column = FIRST_WIN_COLUMN
                        elif r <= g and r < a:
                            column = FIRST_WIN_COLUMN + r
                        elif a >= g + 1:
                            column = LOSS_COLUMN
                        else:
                            column = UNRESOLVED_COLUMN
                        table[direction, g, klass, column] = 1
    return table


def project(by_class: np.ndarray, direction: int, g: int) -> np.ndarray:
    """int64 (rows, g + 3) outcome counts from (rows, classes) class counts, for a direction and gale level."""
    gales = (int(np.sqrt((by_class.shape[1] - 1) // 2))) - 1
    columns = outcome_tables(gales)[direction, g].argmax(axis=1)
    result = np.empty((by_class.shape[0], g + 3), dtype=np.int64)
    for column in range(g + 3):
        result[:, column] = by_class[:, columns == column].sum(axis=1)
    return result


# --- the counts ----------------------------------------------------------------


@dataclass
class Counts:
    """Per row (a candidate, or a candidate on one pair) and gale level: the backtester's figures."""

    outcomes: list[np.ndarray]  # per gale level g: int64 (rows, g + 3) unresolved, loss, win at 0..g
    dojis: list[np.ndarray]  # per gale level g: int64 (rows,)

    @property
    def signals(self) -> np.ndarray:
        return self.outcomes[0].sum(axis=1)

    def win_at(self, g: int) -> np.ndarray:
        return self.outcomes[g][:, FIRST_WIN_COLUMN:]

    def wins(self, g: int) -> np.ndarray:
        """Cycles won at any level."""
        return self.outcomes[g][:, FIRST_WIN_COLUMN:].sum(axis=1)

    def loss(self, g: int) -> np.ndarray:
        return self.outcomes[g][:, LOSS_COLUMN]

    def unresolved(self, g: int) -> np.ndarray:
        return self.outcomes[g][:, UNRESOLVED_COLUMN]

    def entry(self, row: int, g: int) -> dict[str, Any]:
        """Row `row` at gale level g, in backtest_report's shape."""
        outcome = self.outcomes[g][row].tolist()
        win_at = outcome[FIRST_WIN_COLUMN:]
        return report_entry(
            sum(outcome), win_at, outcome[LOSS_COLUMN], outcome[UNRESOLVED_COLUMN], int(self.dojis[g][row])
        )


def tally(
    candles: Candles, positions: np.ndarray, directions: np.ndarray, groups: np.ndarray, group_count: int
) -> Counts:
    """The counts of the cycles from `positions` (global candle indices) trading `directions`
    (0 call, 1 put), summed per group."""
    k = candles.class_count
    cap = candles.gales + 1
    key = (groups * 2 + directions) * k + candles.classes[positions]
    by_class = np.bincount(key, minlength=group_count * 2 * k).reshape(group_count, 2, k)
    # dojis are rare: only the cycles that meet one are read
    some = np.flatnonzero(candles.dojis_any[positions])
    at, groups_at = positions[some], groups[some]
    first = candles.side[at] == directions[some]  # the direction of the first non-doji candle
    outcomes, dojis = [], []
    for g in range(cap):
        outcomes.append(project(by_class[:, 0], 0, g) + project(by_class[:, 1], 1, g))
        met = np.where(first, candles.dojis_first[at], candles.dojis_other[g][at])
        dojis.append(np.rint(np.bincount(groups_at, weights=met, minlength=group_count)).astype(np.int64))
    return Counts(outcomes, dojis)


@dataclass(frozen=True)
class SequenceTables:
    """Per sequence code of every length 1..L (concatenated by length): class counts and doji sums."""

    max_length: int
    by_class: np.ndarray  # int64 (codes, classes)
    dojis_first: np.ndarray  # int64 (codes, 2 sides)
    dojis_other: np.ndarray  # int64 (gales + 1, codes, 2 sides)


def suffix_codes(candles: Candles, length: int) -> np.ndarray:
    """int32 base-3 code of the `length` colours ending at each candle (meaningless for the
    first length - 1 candles of each pair)."""
    digits = (candles.flat + 1).astype(np.int32)
    size = digits.size
    code = digits.copy()
    for i in range(1, length):
        code[i:] += digits[: size - i] * np.int32(3**i)
    return code


def _young(candles: Candles, length: int) -> np.ndarray:
    """The candle of each pair with exactly `length` colours up to it (its index length - 1)."""
    starts, ends = candles.starts[:-1], candles.starts[1:]
    at = starts + length - 1
    return at[at < ends]


def _weighted(key: np.ndarray, weights: np.ndarray, bins: int) -> np.ndarray:
    return np.rint(np.bincount(key, weights=weights, minlength=bins)).astype(np.int64)


def sequence_tables(candles: Candles, max_length: int) -> SequenceTables:
    """Count every candle's class under each of its suffix codes of length 1..max_length."""
    length = _check(max_length, "max_length", 1, MAX_LENGTH)
    k = candles.class_count
    cap = candles.gales + 1
    code = suffix_codes(candles, length)
    full = 3**length
    # the candles too early in their pair for the longest length go to a dump row
    for young_length in range(1, length):
        code[_young(candles, young_length)] = full
    key = code * np.int32(k)
    key += candles.classes
    by_class = np.bincount(key, minlength=(full + 1) * k).reshape(full + 1, k)[:-1]
    # dojis are rare: only the candles whose cycles meet one are read
    some = np.flatnonzero(candles.dojis_any)
    side_key = code[some] * 2 + candles.side[some]
    bins = (full + 1) * 2
    dojis_first = _weighted(side_key, candles.dojis_first[some], bins).reshape(full + 1, 2)[:-1]
    dojis_other = np.stack(
        [
            _weighted(side_key, candles.dojis_other[g][some], bins).reshape(full + 1, 2)[:-1]
            for g in range(cap)
        ]
    )
    tables_class = [by_class]
    tables_first = [dojis_first]
    tables_other = [dojis_other]
    for shorter in range(length - 1, 0, -1):
        # the codes of `shorter` colours: the longer table summed over its oldest colour ...
        span = 3**shorter
        cls_table = tables_class[-1].reshape(3, span, k).sum(axis=0)
        first_table = tables_first[-1].reshape(3, span, 2).sum(axis=0)
        other_table = tables_other[-1].reshape(cap, 3, span, 2).sum(axis=1)
        # ... plus the candle of each pair exactly old enough for `shorter` colours, not one more
        young = _young(candles, shorter)
        if young.size:
            young_code = suffix_codes_at(candles, young, shorter)
            np.add.at(cls_table, (young_code, candles.classes[young]), 1)
            young_side = candles.side[young]
            np.add.at(first_table, (young_code, young_side), candles.dojis_first[young])
            for g in range(cap):
                np.add.at(other_table[g], (young_code, young_side), candles.dojis_other[g][young])
        tables_class.append(cls_table)
        tables_first.append(first_table)
        tables_other.append(other_table)
    # shortest first, so that length l starts at offset_of_length(l)
    return SequenceTables(
        length,
        np.concatenate(tables_class[::-1]).astype(np.int64),
        np.concatenate(tables_first[::-1]),
        np.concatenate(tables_other[::-1], axis=1),
    )


def suffix_codes_at(candles: Candles, positions: np.ndarray, length: int) -> np.ndarray:
    """The codes of the `length` colours ending at each of `positions` (all old enough)."""
    code = np.zeros(positions.size, dtype=np.int64)
    for i in range(length - 1, -1, -1):
        code = code * 3 + (candles.flat[positions - i].astype(np.int64) + 1)
    return code


# --- candidates ------------------------------------------------------------------


@dataclass(frozen=True)
class Candidates:
    """The sequence candidates as arrays (no Python object per candidate), then the quadrant rules.

    Sequence candidate i: the sequence of `code[i]` (an index into the tables
    of all lengths, length `length[i]`), trading `direction[i]` (0 call,
    1 put), with its mirror when `mirror[i]`. Mirrored candidates are listed
    once: S call with mirror is the same strategy as inverse(S) put with
    mirror, and only the one whose code is the smaller is kept; an all-doji
    sequence has no mirror, so it has no mirrored candidate.
    """

    code: np.ndarray  # int64 global code index
    length: np.ndarray  # int64
    direction: np.ndarray  # int64 0 call, 1 put
    mirror: np.ndarray  # bool
    quadrants: tuple[QuadrantRule, ...]

    @classmethod
    def all(cls, max_length: int, quadrants: Sequence[QuadrantRule] = ()) -> Candidates:
        codes, lengths, directions, mirrors = [], [], [], []
        for length in range(1, max_length + 1):
            local = np.arange(3**length, dtype=np.int64)
            inverse = 3**length - 1 - local
            base = offset_of_length(length)
            for direction in (0, 1):
                codes.append(local + base)
                directions.append(np.full(local.size, direction))
                mirrors.append(np.zeros(local.size, dtype=bool))
                lengths.append(np.full(local.size, length))
            kept = local[local < inverse]
            for direction in (0, 1):
                codes.append(kept + base)
                directions.append(np.full(kept.size, direction))
                mirrors.append(np.ones(kept.size, dtype=bool))
                lengths.append(np.full(kept.size, length))
        return cls(
            np.concatenate(codes),
            np.concatenate(lengths).astype(np.int64),
            np.concatenate(directions).astype(np.int64),
            np.concatenate(mirrors),
            tuple(quadrants),
        )

    @property
    def sequence_count(self) -> int:
        return int(self.code.size)

    def __len__(self) -> int:
        return self.sequence_count + len(self.quadrants)

    def inverse_code(self) -> np.ndarray:
        offsets = (3**self.length - 3) // 2
        return offsets + (3**self.length - 1 - (self.code - offsets))

    def describe(self, index: int) -> dict[str, Any]:
        """A candidate as JSON: `{kind: sequence, sequence, operation, mirror}` or `{kind: quadrant, ...rule}`."""
        if index >= self.sequence_count:
            rule = self.quadrants[index - self.sequence_count]
            return {"kind": "quadrant", **rule.as_document()}
        return {
            "kind": "sequence",
            "sequence": format_sequence(self.sequence(index)),
            "operation": DIRECTIONS[int(self.direction[index])],
            "mirror": bool(self.mirror[index]),
        }

    def sequence(self, index: int) -> tuple[int, ...]:
        length = int(self.length[index])
        return sequence_of(length, int(self.code[index]) - offset_of_length(length))

    def label(self, index: int) -> str:
        if index >= self.sequence_count:
            return self.quadrants[index - self.sequence_count].name
        described = self.describe(index)
        return f"{described['sequence']} {described['operation']}" + (
            " mirror" if described["mirror"] else ""
        )

    def find(self, strategy: Strategy) -> int:
        """The index of a sequence strategy (its mirrored twin's, when it is listed under that one)."""
        length = len(strategy.sequence)
        code = offset_of_length(length) + sequence_code(strategy.sequence)
        direction = DIRECTIONS.index(strategy.operation)
        mirror = strategy.mirrored
        if mirror:
            local = code - offset_of_length(length)
            inverse = 3**length - 1 - local
            if inverse < local:
                code, direction = offset_of_length(length) + inverse, 1 - direction
        hits = np.flatnonzero((self.code == code) & (self.direction == direction) & (self.mirror == mirror))
        if not hits.size:
            raise CatalogError(f"{format_sequence(strategy.sequence)} is not among the catalog's candidates")
        return int(hits[0])


def _sequence_counts(tables: SequenceTables, candidates: Candidates, gales: int) -> Counts:
    inverse = candidates.inverse_code()
    by_class = tables.by_class
    code, direction, mirror = candidates.code, candidates.direction, candidates.mirror
    outcomes, dojis = [], []
    for g in range(gales + 1):
        per_direction = [project(by_class, d, g) for d in (0, 1)]
        # a direction d meets the first-candle dojis where the first candle is its colour (side d)
        doji_direction = [tables.dojis_first[:, d] + tables.dojis_other[g][:, 1 - d] for d in (0, 1)]
        out = np.where(direction[:, None] == 0, per_direction[0][code], per_direction[1][code])
        met = np.where(direction == 0, doji_direction[0][code], doji_direction[1][code])
        if mirror.any():
            rows = np.flatnonzero(mirror)
            other = 1 - direction[rows]
            out[rows] += np.where(
                other[:, None] == 0, per_direction[0][inverse[rows]], per_direction[1][inverse[rows]]
            )
            met[rows] += np.where(
                other == 0, doji_direction[0][inverse[rows]], doji_direction[1][inverse[rows]]
            )
        outcomes.append(out)
        dojis.append(met)
    return Counts(outcomes, dojis)


def quadrant_signals(candles: Candles, rules: Sequence[QuadrantRule]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per rule: the global positions of its signals and their directions (0 call, 1 put)."""
    found: list[list[np.ndarray]] = [[] for _ in rules]
    directions: list[list[np.ndarray]] = [[] for _ in rules]
    for p in range(len(candles.names)):
        begin, end = int(candles.starts[p]), int(candles.starts[p + 1])
        signals = signal_directions_many(rules, candles.flat[begin:end], int(candles.first_minutes[p]))
        for j, signal in enumerate(signals):
            at = np.flatnonzero(signal)
            found[j].append(at + begin)
            directions[j].append((signal[at] < 0).astype(np.int64))
    empty = np.zeros(0, dtype=np.int64)
    return [
        (np.concatenate(at) if at else empty, np.concatenate(way) if way else empty)
        for at, way in zip(found, directions, strict=True)
    ]


def _concat(parts: Sequence[Counts]) -> Counts:
    gales = len(parts[0].outcomes)
    return Counts(
        [np.concatenate([p.outcomes[g] for p in parts]) for g in range(gales)],
        [np.concatenate([p.dojis[g] for p in parts]) for g in range(gales)],
    )


# --- the catalog -----------------------------------------------------------------


@dataclass
class Catalog:
    """Every candidate's figures in total (`counts`), per pair on demand (`pair_counts`)."""

    candles: Candles
    candidates: Candidates
    counts: Counts
    max_length: int
    _codes: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    def codes(self, length: int) -> np.ndarray:
        """The suffix codes of `length` colours at every candle (cached; shorter ones by modulo)."""
        if length not in self._codes:
            if self.max_length not in self._codes:
                self._codes[self.max_length] = suffix_codes(self.candles, self.max_length)
            self._codes[length] = self._codes[self.max_length] % np.int32(3**length)
        return self._codes[length]

    @property
    def gales(self) -> int:
        return self.candles.gales

    def signal_positions(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Global positions and directions (0 call, 1 put) of a candidate's signals."""
        candidates = self.candidates
        if index >= candidates.sequence_count:
            return quadrant_signals(self.candles, [candidates.quadrants[index - candidates.sequence_count]])[
                0
            ]
        length = int(candidates.length[index])
        sequence = candidates.sequence(index)
        direction = int(candidates.direction[index])
        code = self.codes(length)

        def matching(sequence: tuple[int, ...]) -> np.ndarray:
            at = np.flatnonzero(code == sequence_code(sequence))
            return at[self.candles.local(at) >= length - 1]

        primary = matching(sequence)
        found = [primary]
        directions = [np.full(primary.size, direction, dtype=np.int64)]
        if candidates.mirror[index]:
            mirrored = matching(tuple(-c for c in sequence))
            found.append(mirrored)
            directions.append(np.full(mirrored.size, 1 - direction, dtype=np.int64))
        return np.concatenate(found), np.concatenate(directions)

    def pair_counts(self, indices: Sequence[int]) -> Counts:
        """Rows pair-major: row p * len(indices) + j is candidate indices[j] on pair p."""
        width = len(indices)
        positions, directions, groups = [], [], []
        for j, index in enumerate(indices):
            at, direction = self.signal_positions(int(index))
            positions.append(at)
            directions.append(direction)
            groups.append(self.candles.pair_of(at) * width + j)
        pairs = len(self.candles.names)
        if not positions:
            return tally(self.candles, np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64), 0)
        return tally(
            self.candles,
            np.concatenate(positions),
            np.concatenate(directions),
            np.concatenate(groups),
            pairs * width,
        )

    def report(self, index: int, gales: int) -> dict[str, Any]:
        """One candidate at `gales`, as `backtest_report` shows it: `{"total": ..., "pairs": {...}}`."""
        g = _check(gales, "gales", 0, self.gales)
        per_pair = self.pair_counts([index])
        pairs = {name: per_pair.entry(p, g) for p, name in enumerate(self.candles.names)}
        return {"total": self.counts.entry(index, g), "pairs": pairs}


def scan(
    series_by_pair: Mapping[str, Any],
    max_length: int = MAX_LENGTH,
    gales: int = 2,
    quadrants: Sequence[QuadrantRule] = (),
    first_minutes: Mapping[str, int] | int | None = None,
    candidates: Candidates | None = None,
) -> Catalog:
    """The catalog of every sequence of length 1..max_length (and the `quadrants`) on the pairs' colours.

    `first_minutes`: the minute (since the epoch) of each pair's first candle,
    which places the quadrant rules' entries; 0 when not given.
    """
    length = _check(max_length, "max_length", 1, MAX_LENGTH)
    candles = Candles.build(series_by_pair, gales, first_minutes)
    if candidates is None:
        candidates = Candidates.all(length, quadrants)
    parts = []
    if candidates.sequence_count:
        parts.append(_sequence_counts(sequence_tables(candles, length), candidates, candles.gales))
    if candidates.quadrants:
        positions, directions, groups = [], [], []
        for j, (at, direction) in enumerate(quadrant_signals(candles, candidates.quadrants)):
            positions.append(at)
            directions.append(direction)
            groups.append(np.full(at.size, j, dtype=np.int64))
        parts.append(
            tally(
                candles,
                np.concatenate(positions),
                np.concatenate(directions),
                np.concatenate(groups),
                len(candidates.quadrants),
            )
        )
    return Catalog(candles, candidates, _concat(parts), length)


def quadrant_report(
    series_by_pair: Mapping[str, Any],
    rule: QuadrantRule,
    gales: int = 0,
    first_minutes: Mapping[str, int] | int | None = None,
) -> dict[str, Any]:
    """The backtest of one quadrant rule, in backtest_report's shape (independent mode).

    `first_minutes`: the minute since the epoch of each pair's first candle
    (or one for all), which places the entries; 0 when not given.
    """
    g = _check(gales, "gales", 0, MAX_GALES)
    empty = np.zeros(0, dtype=np.int64)
    candidates = Candidates(empty, empty, empty, np.zeros(0, dtype=bool), (rule,))
    catalog = scan(series_by_pair, 1, g, first_minutes=first_minutes, candidates=candidates)
    return catalog.report(0, g)


# --- the ranked report -------------------------------------------------------------

NOTHING_SURVIVED = "nenhuma estratégia superou o acaso neste período"


@dataclass(frozen=True)
class ReportSettings:
    """What the trader asks of a catalog report."""

    max_length: int = MAX_LENGTH
    gales: int = 2
    payout: Any = 87
    stake: Any = 2
    gale_type: str = "sobra"
    sobra: Any = 0
    split: float = 2 / 3
    fdr: float = 0.05
    min_signals: int = 20
    top: int = 20
    folds: int = 0
    quadrants: tuple[QuadrantRule, ...] = ()

    def plan(self) -> MoneyPlan:
        try:
            return MoneyPlan.of(self.stake, self.gale_type, self.payout, self.sobra)
        except ValueError as exc:
            raise CatalogError(str(exc)) from None

    def check(self) -> None:
        _check(self.max_length, "max_length", 1, MAX_LENGTH)
        _check(self.gales, "gales", 0, MAX_GALES)
        _check(self.min_signals, "min_signals", 1, 10**9)
        _check(self.top, "top", 1, 10_000)
        _check(self.folds, "folds", 0, 20)
        if not isinstance(self.split, float | int) or not 0.05 <= float(self.split) <= 0.95:
            raise CatalogError(f"split must be a fraction from 0.05 to 0.95, got {self.split!r}")
        if not isinstance(self.fdr, float | int) or not 0 < float(self.fdr) < 1:
            raise CatalogError(f"fdr must be between 0 and 1, got {self.fdr!r}")
        self.plan()


@dataclass
class Evidence:
    """Per (candidate, gale level) row of one catalog: the figures the statistics read."""

    wins: np.ndarray  # (gales + 1, candidates)
    cycles: np.ndarray
    break_even: np.ndarray  # (gales + 1,)

    @classmethod
    def of(cls, catalog: Catalog, break_even: np.ndarray) -> Evidence:
        levels = range(catalog.gales + 1)
        wins = np.stack([catalog.counts.wins(g) for g in levels])
        cycles = wins + np.stack([catalog.counts.loss(g) for g in levels])
        return cls(wins, cycles, break_even)

    def score(self) -> np.ndarray:
        """How far the Wilson lower bound sits above break-even (the ranking key)."""
        low, _ = wilson(self.wins, self.cycles)
        return low - self.break_even[:, None]

    def p_values(self, rows: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
        """One-sided binomial p-values against break-even.

        Only rows whose hit rate is above break-even are computed: at or
        below it, the p-value is at least 1/2 (a binomial's median is within
        one of its mean), which no correction can ever call significant;
        those rows get 1. The report computes the exact value of every row it shows.
        """
        wins, cycles = (self.wins, self.cycles) if rows is None else (self.wins[rows], self.cycles[rows])
        threshold = self.break_even[:, None] if rows is None else self.break_even[rows[0]]
        result = np.ones(wins.shape)
        above = wins > cycles * threshold
        if above.any():
            p = np.broadcast_to(threshold, wins.shape)
            result[above] = binomial_sf(wins[above], cycles[above], p[above])
        return result


def _rows_ranked(evidence: Evidence, min_signals: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows (level, candidate) with enough cycles, best score first."""
    score = evidence.score()
    eligible = evidence.cycles >= min_signals
    levels, candidates = np.nonzero(eligible)
    values = score[levels, candidates]
    order = np.lexsort((-evidence.cycles[levels, candidates], -values))
    return levels[order], candidates[order], values[order]


def _figures(catalog: Catalog, index: int, g: int, plan: MoneyPlan, threshold: float) -> dict[str, Any]:
    entry = catalog.counts.entry(index, g)
    wins = sum(entry["win_at"])
    cycles = wins + entry["loss"]
    low, high = wilson(np.array([wins]), np.array([cycles]))
    net = expected_net(np.array([entry["win_at"]]), np.array([entry["loss"]]), plan, g)[0]
    entry.update(
        {
            "cycles": cycles,
            "wins": wins,
            "hit_rate": wins / cycles if cycles else None,
            "wilson": [float(low[0]), float(high[0])] if cycles else None,
            "p_value": float(binomial_sf(np.array([wins]), np.array([cycles]), threshold)[0]),
            "expected_net": None if np.isnan(net) else round(float(net), 4),
        }
    )
    return entry


def _pair_rates(counts: Counts, row: int, g: int) -> dict[str, Any]:
    wins = int(counts.wins(g)[row])
    cycles = wins + int(counts.loss(g)[row])
    return {
        "signals": int(counts.signals[row]),
        "cycles": cycles,
        "hit_rate": wins / cycles if cycles else None,
    }


def _walk_forward(
    candles: Candles, candidates: Candidates, settings: ReportSettings, break_even: np.ndarray
) -> dict[str, Any]:
    """Rank on everything before each block, test the top rows on the block (an expanding window)."""
    folds = settings.folds
    blocks = folds + 1
    results: list[dict[str, Any]] = []
    shown = beating = 0
    for fold in range(1, blocks):
        begin, end = fold / blocks, (fold + 1) / blocks
        train = scan(
            candles.slice(0, begin),
            settings.max_length,
            settings.gales,
            (),
            candles.minutes_from(0),
            candidates,
        )
        test = scan(
            candles.slice(begin, end),
            settings.max_length,
            settings.gales,
            (),
            candles.minutes_from(begin),
            candidates,
        )
        train_evidence = Evidence.of(train, break_even)
        test_evidence = Evidence.of(test, break_even)
        levels, chosen, _ = _rows_ranked(train_evidence, settings.min_signals)
        levels, chosen = levels[: settings.top], chosen[: settings.top]
        test_wins = test_evidence.wins[levels, chosen]
        test_cycles = test_evidence.cycles[levels, chosen]
        train_rate = train_evidence.wins[levels, chosen] / np.maximum(
            train_evidence.cycles[levels, chosen], 1
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            test_rate = test_wins / test_cycles
        beat = test_rate > break_even[levels]
        shown += int(levels.size)
        beating += int(np.count_nonzero(beat))
        results.append(
            {
                "fold": fold,
                "train": [0.0, round(begin, 4)],
                "test": [round(begin, 4), round(end, 4)],
                "top": [
                    {
                        "strategy": candidates.describe(int(c)),
                        "gales": int(g),
                        "train_hit_rate": float(tr),
                        "test_hit_rate": None if np.isnan(te) else float(te),
                        "test_cycles": int(n),
                        "break_even": float(break_even[g]),
                    }
                    for g, c, tr, te, n in zip(
                        levels[:5], chosen[:5], train_rate[:5], test_rate[:5], test_cycles[:5], strict=True
                    )
                ],
                "top_beating_break_even": int(np.count_nonzero(beat)),
                "top_count": int(levels.size),
            }
        )
    return {
        "folds": results,
        "share_of_top_beating_break_even": beating / shown if shown else None,
    }


def catalog_report(
    series_by_pair: Mapping[str, Any],
    settings: ReportSettings | None = None,
    first_minutes: Mapping[str, int] | int | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """The ranked catalog with its statistics, as JSON.

    Rank on the first `split` of each pair's candles; show the `top` rows
    (candidate, gale level) with their held-out figures beside; flag a row
    only when Benjamini–Hochberg over every row tested in-sample (hit rate
    against break-even, one-sided binomial) rejects it at `fdr`, and the
    held-out figures replicate it: BH at `fdr` over the in-sample
    discoveries' held-out p-values, and an expected net above zero in both
    parts. `verdict` says so in words.
    """
    settings = settings or ReportSettings()
    settings.check()
    plan = settings.plan()
    advance = on_progress or (lambda stage: None)
    candles = Candles.build(series_by_pair, settings.gales, first_minutes, classified=False)
    if not candles.size:
        raise CatalogError("no candles to catalog")
    candidates = Candidates.all(settings.max_length, settings.quadrants)
    split = float(settings.split)
    minutes = candles.minutes_from(0)
    inside = scan(candles.slice(0, split), settings.max_length, settings.gales, (), minutes, candidates)
    advance("in-sample scan")
    outside = scan(
        candles.slice(split, 1),
        settings.max_length,
        settings.gales,
        (),
        candles.minutes_from(split),
        candidates,
    )
    advance("out-of-sample scan")
    break_even_rates = np.array([break_even(plan, g) for g in range(settings.gales + 1)])
    evidence_in = Evidence.of(inside, break_even_rates)
    evidence_out = Evidence.of(outside, break_even_rates)

    levels, chosen, scores = _rows_ranked(evidence_in, settings.min_signals)
    tested = levels.size
    p_in = evidence_in.p_values((levels, chosen))
    discovered, q_in = benjamini_hochberg(p_in, settings.fdr)
    found = np.flatnonzero(discovered)
    replicated = np.zeros(tested, dtype=bool)
    q_out = np.full(tested, np.nan)
    if found.size:
        rows = (levels[found], chosen[found])
        p_out = binomial_sf(evidence_out.wins[rows], evidence_out.cycles[rows], break_even_rates[rows[0]])
        again, q_again = benjamini_hochberg(p_out, settings.fdr)
        q_out[found] = q_again
        replicated[found] = again
    advance("statistics")

    shown = list(range(min(settings.top, tested)))
    flagged_rows = []
    for position in found.tolist():
        if not replicated[position]:
            continue
        g, index = int(levels[position]), int(chosen[position])
        nets = [
            expected_net(c.counts.win_at(g)[index : index + 1], c.counts.loss(g)[index : index + 1], plan, g)[
                0
            ]
            for c in (inside, outside)
        ]
        if all(net > 0 for net in nets):
            flagged_rows.append(position)
    flagged = set(flagged_rows)
    shown += [position for position in flagged_rows if position not in shown]

    unique = sorted({int(chosen[position]) for position in shown})
    column = {index: j for j, index in enumerate(unique)}
    pairs_in = inside.pair_counts(unique)
    pairs_out = outside.pair_counts(unique)
    names = candles.names
    ranked = []
    for position in shown:
        g, index = int(levels[position]), int(chosen[position])
        threshold = float(break_even_rates[g])
        figures_in = _figures(inside, index, g, plan, threshold)
        figures_in["q_value"] = float(q_in[position])
        figures_out = _figures(outside, index, g, plan, threshold)
        figures_out["q_value"] = None if np.isnan(q_out[position]) else float(q_out[position])
        width = len(unique)
        j = column[index]
        ranked.append(
            {
                "rank": position + 1,
                "strategy": candidates.describe(index),
                "label": candidates.label(index),
                "gales": g,
                "break_even": threshold,
                "score": float(scores[position]),
                "in_sample": figures_in,
                "out_of_sample": figures_out,
                "significant_in_sample": bool(discovered[position]),
                "flagged": position in flagged,
                "pairs": {
                    name: {
                        "in_sample": _pair_rates(pairs_in, p * width + j, g),
                        "out_of_sample": _pair_rates(pairs_out, p * width + j, g),
                    }
                    for p, name in enumerate(names)
                },
            }
        )
    advance("report")
    count = len(flagged)
    if not count:
        verdict = NOTHING_SURVIVED
    elif count == 1:
        verdict = "1 estratégia superou o acaso neste período (corrigido para {} testes e confirmada fora da amostra)"
        verdict = verdict.format(tested)
    else:
        verdict = (
            f"{count} estratégias superaram o acaso neste período "
            f"(corrigido para {tested} testes e confirmadas fora da amostra)"
        )
    report: dict[str, Any] = {
        "mode": "independent",
        "pairs": list(names),
        "candles": {
            "in_sample": sum(int(len(s)) for s in candles.slice(0, split).values()),
            "out_of_sample": sum(int(len(s)) for s in candles.slice(split, 1).values()),
        },
        "split": split,
        "max_length": settings.max_length,
        "gales": settings.gales,
        "payout": float(plan.payout_percent),
        "stake": float(plan.stake),
        "gale_type": plan.gale_type,
        "sobra": float(plan.sobra),
        "candidates": len(candidates),
        "tests": int(tested),
        "fdr": float(settings.fdr),
        "min_signals": settings.min_signals,
        "break_even": [float(v) for v in break_even_rates],
        "flagged": count,
        "verdict": verdict,
        "ranked": ranked,
        "walk_forward": None,
    }
    if settings.folds:
        report["walk_forward"] = _walk_forward(candles, candidates, settings, break_even_rates)
        advance("walk-forward")
    return report
