"""The backtester: how a strategy and its gales would have done on past colours.

Rules (the issue's, exactly):
- A signal at index t (t >= k-1, k = len(sequence)) when colours[t-k+1..t]
  equal the sequence (direction = operation) or, with mirror, its inverse
  (the opposite direction). All-doji sequences only count their primary match.
- The entry is candle t+1. Walking forward at level 0: a doji counts one doji
  and keeps the level; a candle in the direction wins at the current level;
  any other candle moves one level up, and a level above `gales` is a loss.
  Data that ends first leaves the signal unresolved.
- Independent mode counts every signal. Sequential mode models one bot: after
  a cycle resolved at candle r, the next signal may only be at index >= r+1.

How it is fast: the colours of all pairs become two bit planes of 64-candle
words (non-doji, red), one pair after another, each starting on a fresh word
and followed by an empty one. A sequence is split into runs of one colour; a
run of length m is found with log2(m) shifted ANDs, and the runs are ANDed at
their offsets, so every position of every pair is tested in a few dozen word
operations. Each signal is then resolved from the 64 candles after it, read
as one word per plane: the first winning candle and the (gales+1)-th opposite
one are found with bit tricks, and the rare signal whose cycle runs longer
than 64 candles simply reads the next word.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from glimpse.rules.money import MAX_GALES, MoneyPlan
from glimpse.rules.patterns import PatternError, Strategy

LOSS = -1
UNRESOLVED = -2

_ONE = np.uint64(1)
_ALL = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
_WORD = 64


class BacktestError(ValueError):
    """Input the backtester cannot use; the message names the argument."""


# --- input -----------------------------------------------------------------


def as_colours(values: Any, name: str = "colours") -> np.ndarray:
    """A 1-D int8 colour array, read by sign: > 0 green, < 0 red, 0 doji.

    The sign rule is the candle rule (close - open) itself, so any integer
    array is a valid series; an int8 array is used as it is, without a copy.
    """
    array = np.asarray(values)
    if array.ndim != 1:
        raise BacktestError(f"{name} must be a flat list of colours, got shape {array.shape}")
    if array.dtype == np.int8:
        return np.ascontiguousarray(array)
    if array.size and not (np.issubdtype(array.dtype, np.integer) or array.dtype == bool):
        raise BacktestError(f"{name} must hold the integers -1, 0 and 1, got {array.dtype} values")
    return np.sign(array).astype(np.int8)


def check_gales(gales: int) -> int:
    if isinstance(gales, bool) or not isinstance(gales, int | np.integer) or not 0 <= gales <= MAX_GALES:
        raise BacktestError(f"gales must be an integer from 0 to {MAX_GALES}, got {gales!r}")
    return int(gales)


# --- bit planes ------------------------------------------------------------

# Work in slices that stay in the CPU cache: 2**13 words of 64 candles.
_CHUNK_WORDS = 1 << 13


@dataclass(frozen=True)
class BitPlanes:
    """Series laid out as little-endian 64-candle words: bit t%64 of word t//64 is candle t."""

    bits: np.ndarray  # '<u8', shape (2, words): row 0 non-doji candles, row 1 red candles
    starts: np.ndarray  # int64 global index of each series' first candle (a multiple of 64)
    lengths: np.ndarray  # int64 candles per series
    series_by_word: np.ndarray  # int32 the series each word belongs to (with its padding)

    @property
    def nonzero(self) -> np.ndarray:
        return self.bits[0]

    @property
    def red(self) -> np.ndarray:
        return self.bits[1]

    @classmethod
    def build(cls, series: Sequence[np.ndarray]) -> BitPlanes:
        lengths = np.array([len(s) for s in series], dtype=np.int64)
        # one empty word first, then each series on a fresh word followed by two
        # empty ones: a 64-candle window read from anywhere up to a series' end
        # sees only dojis past that end, never the next series, and a match that
        # looks back before a series' start sees only padding
        words = (lengths + _WORD - 1) // _WORD + 2
        first_words = np.concatenate(([1], 1 + np.cumsum(words)[:-1])).astype(np.int64)
        total = 1 + int(words.sum())
        bits = np.empty((2, total), dtype="<u8")  # every byte is written below
        bits[:, 0] = 0
        nonzero_bytes, red_bytes = bits[0].view(np.uint8), bits[1].view(np.uint8)
        step = 1 << 20
        is_red = np.empty(min(step, int(lengths.max(initial=0))), dtype=bool)
        for colours, first, size in zip(series, first_words.tolist(), words.tolist(), strict=True):
            at = first * 8
            for begin in range(0, len(colours), step):
                part = colours[begin : begin + step]
                packed = (len(part) + 7) // 8
                # any non-zero byte packs to 1: -1 (0xFF) and 1 alike
                nonzero_bytes[at : at + packed] = np.packbits(part.view(np.uint8), bitorder="little")
                np.less(part, 0, out=is_red[: len(part)])
                red_bytes[at : at + packed] = np.packbits(is_red[: len(part)], bitorder="little")
                at += packed
            nonzero_bytes[at : (first + size) * 8] = 0  # the rest of the last word, and the padding
            red_bytes[at : (first + size) * 8] = 0
        series_by_word = np.repeat(np.arange(len(series), dtype=np.int32), words)
        return cls(bits, first_words * _WORD, lengths, np.concatenate(([0], series_by_word)).astype(np.int32))

    def series_of(self, positions: np.ndarray) -> np.ndarray:
        """The series whose words hold the global `positions` (the padding after a series counts as its own)."""
        return self.series_by_word.take(positions >> 6)

    @property
    def ends(self) -> np.ndarray:
        return self.starts + self.lengths


def _and_moved(a: np.ndarray, b: np.ndarray, by: int, out: np.ndarray | None = None) -> np.ndarray:
    """a & (b moved `by` candles later): bit t of the result is a[t] & b[t - by] (0 < by < 64).

    Whole bytes move for free as a byte offset, so a move by a multiple of 8 costs one operation.
    """
    whole, bits = divmod(by, 8)
    moved = b
    if bits:
        moved = np.left_shift(b, np.uint64(bits))
        moved[1:] |= b[:-1] >> np.uint64(_WORD - bits)
    if out is None:
        out = moved if moved is not b and not whole else np.empty_like(a)
    if not whole:
        return np.bitwise_and(a, moved, out=out)
    out_bytes = out.view(np.uint8)
    np.bitwise_and(a.view(np.uint8)[whole:], moved.view(np.uint8)[:-whole], out=out_bytes[whole:])
    out_bytes[:whole] = 0
    return out


class _PlaneMatcher:
    """Finds a sequence's matches on a slice of the bit planes, and its mirror's at the same time.

    With `mirror`, every plane holds two halves: the first for the sequence,
    the second for its mirror (the same runs, with green and red swapped), so
    one operation serves both. The first word of each half is lead-in, its
    bits meaningless. A matcher serves one match() call, whose result the
    caller may overwrite.
    """

    def __init__(self, nonzero: np.ndarray, red: np.ndarray, mirror: bool):
        self._nonzero = nonzero
        self._red = red
        self._mirror = mirror
        self._runs: dict[tuple[int, int], np.ndarray] = {}

    def _colour(self, colour: int) -> np.ndarray:
        if colour == 0:
            doji = ~self._nonzero
            return np.concatenate((doji, doji)) if self._mirror else doji
        green_red = (np.bitwise_xor(self._nonzero, self._red), self._red)  # red is a subset of non-doji
        first, second = green_red if colour == 1 else green_red[::-1]
        if self._mirror:
            return np.concatenate((first, second))
        return first if first is not self._red else first.copy()  # match() results may be written

    def _run(self, colour: int, length: int) -> np.ndarray:
        """Bit t set when candles t-length+1..t all have `colour`."""
        key = (colour, length)
        plane = self._runs.get(key)
        if plane is not None:
            return plane
        if length == 1:
            plane = self._colour(colour)
        else:
            # the newest `half` candles (half a power of two), and the older rest moved back by `half`
            half = 1 << ((length - 1).bit_length() - 1)
            plane = _and_moved(self._run(colour, half), self._run(colour, length - half), half)
        self._runs[key] = plane
        return plane

    def match(self, sequence: Sequence[int]) -> np.ndarray:
        """Bit t set when the colours ending at candle t equal `sequence` (oldest first)."""
        runs: list[list[int]] = []
        for c in sequence:
            if runs and runs[-1][0] == c:
                runs[-1][1] += 1
            else:
                runs.append([c, 1])
        runs.reverse()  # newest run first: it needs no move
        result = self._run(*runs[0])
        offset = runs[0][1]
        for number, (colour, length) in enumerate(runs[1:]):
            result = _and_moved(
                result, self._run(colour, length), offset, out=None if number == 0 else result
            )
            offset += length
        return result


def _low_bits(count: np.ndarray) -> np.ndarray:
    """Words with the lowest `count` bits set (count in 0..63)."""
    return (_ONE << count.astype(np.uint64)) - _ONE


def _bits_of(words: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The global indices of the set bits of `words`, whose word numbers are `at` (unordered).

    The words are put in order of how many bits they hold, so that round i
    takes the lowest remaining bit of the first n_i words: no filtering,
    however many bits a word holds (a long run of one colour sets many
    neighbouring bits).
    """
    counts = np.bitwise_count(words)
    # by count, most first; within a count in word order, so that the signals come
    # out in a few ascending sweeps and their cycles are read with few cache misses
    order = np.argsort(-counts.astype(np.int16), kind="stable")
    words, at, counts = words.take(order), at.take(order) * _WORD, counts.take(order)
    # holding[i]: how many words hold more than i bits
    holding = np.searchsorted(
        -counts.astype(np.int64), -np.arange(int(counts[0]) if counts.size else 0), side="left"
    )
    found = []
    for size in holding.tolist():
        head = words[:size]
        low = head & (~head + _ONE)
        found.append(at[:size] + np.bitwise_count(low - _ONE))
        head ^= low
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class Cycles:
    """Every signal of a run with its resolved cycle (in no particular order)."""

    series: np.ndarray  # int64 index of the series
    index: np.ndarray  # int64 signal index t within the series
    level: np.ndarray  # int64: win level, LOSS or UNRESOLVED
    resolved_at: np.ndarray  # int64 index r of the candle that ended the cycle (-1 if unresolved)
    dojis: np.ndarray  # int64 dojis met on the walk

    def take(self, chosen: np.ndarray) -> Cycles:
        return Cycles(
            self.series[chosen],
            self.index[chosen],
            self.level[chosen],
            self.resolved_at[chosen],
            self.dojis[chosen],
        )


def find_signals(planes: BitPlanes, strategy: Strategy) -> tuple[np.ndarray, np.ndarray]:
    """Global positions of the signals (in no particular order), and whether each one trades call."""
    sequence = strategy.sequence
    total = planes.nonzero.size
    found_words, found_at, chunk_counts, chunk_firsts, chunk_sizes = [], [], [], [], []
    for first in range(1, total, _CHUNK_WORDS):
        # one word of lead-in (the planes start with an empty one): a match looks back at most 31 candles
        part = slice(first - 1, min(first + _CHUNK_WORDS, total))
        size = part.stop - part.start
        both = _PlaneMatcher(planes.nonzero[part], planes.red[part], strategy.mirrored).match(sequence)
        both[0] = 0  # the lead-in words
        if strategy.mirrored:
            both[size] = 0
        at = np.flatnonzero(both != 0)
        found_words.append(both.take(at))
        found_at.append(at)
        chunk_counts.append(at.size)
        chunk_firsts.append(part.start)
        chunk_sizes.append(size)
    # words of the mirror's half are numbered from `total` on
    at = np.concatenate(found_at)
    firsts = np.repeat(np.array(chunk_firsts), chunk_counts)
    sizes = np.repeat(np.array(chunk_sizes), chunk_counts)
    at += firsts + (at >= sizes) * (total - sizes)
    positions = _bits_of(np.concatenate(found_words), at)
    mirrored = positions >= total * _WORD
    positions -= mirrored * (total * _WORD)
    calls = ~mirrored if strategy.operation == "call" else mirrored
    if 0 in sequence:
        # Outside the data (the padding around each series) every candle reads
        # as a doji, so a sequence with dojis can match there: keep the matches
        # that end inside a series, with the whole sequence inside it.
        series = planes.series_of(positions)
        local = positions - planes.starts[series]
        keep = np.flatnonzero((local >= len(sequence) - 1) & (local < planes.lengths[series]))
        positions, calls = positions.take(keep), calls.take(keep)
    return positions, calls


def _windows(planes: BitPlanes, cursor: np.ndarray) -> np.ndarray:
    """Shape (2, n): the 64 candles from each cursor on, as non-doji and red bits."""
    word = cursor >> 6
    shift = (cursor & 63).astype(np.uint64)
    head = planes.bits.take(word, axis=1)
    head >>= shift
    tail = planes.bits.take(word + 1, axis=1)
    tail <<= _ONE  # two steps, as a shift by 64 is undefined
    tail <<= np.uint64(63) - shift
    head |= tail
    return head


@dataclass
class _Walk:
    """The state of cycles still open: where each stands, and what it has met."""

    signal: np.ndarray  # index into the signal arrays
    cursor: np.ndarray  # global index of the next candle to read
    climbed: np.ndarray  # levels climbed so far
    flip: np.ndarray  # all ones for a call (its winning colour is green = non-doji ^ red), 0 for a put


@dataclass
class _Reading:
    """What the 64 candles from each cursor hold for an open cycle, and where (if anywhere) it ends."""

    nonzero: np.ndarray  # non-doji candles
    against: np.ndarray  # candles against the direction
    before: np.ndarray  # the candles before the one that ends the cycle (all 64 when none does)
    stop: np.ndarray  # uint8: how many candles that is
    won: np.ndarray  # bool: the cycle ends with a win


def _read(
    planes: BitPlanes, cursor: np.ndarray, flip: np.ndarray, to_clear: np.ndarray | int, gales: int
) -> _Reading:
    """Read 64 candles per open cycle. `to_clear` opposite candles may come before the one that loses it."""
    nonzero, wins = _windows(planes, cursor)  # wins holds the red candles for now
    wins ^= nonzero & flip
    against = nonzero ^ wins
    fatal = against.copy()
    if isinstance(to_clear, int):
        for _ in range(to_clear):
            fatal &= fatal - _ONE
    else:
        for cleared in range(gales):
            fatal = np.where(to_clear > cleared, fatal & (fatal - _ONE), fatal)
    # the first winning or fatal candle ends the cycle; its bit, less one, masks the candles before it
    ending = wins | fatal
    ending &= ~ending + _ONE
    before = ending - _ONE
    won = (wins & ending) != 0
    return _Reading(nonzero, against, before, np.bitwise_count(before), won)


# Signals are resolved in blocks this long, so that the work arrays stay in the CPU cache.
_BLOCK = 8192


def resolve(planes: BitPlanes, positions: np.ndarray, calls: np.ndarray, gales: int) -> Cycles:
    """Walk every signal's cycle at once, 64 candles at a time.

    Candles past a series' end read as dojis (its padding), so they never
    resolve a cycle; a cycle still open when its series ends is unresolved.
    """
    count = positions.size
    series = planes.series_of(positions).astype(np.int64)
    starts = planes.starts.take(series)
    index = positions - starts
    level = np.empty(count, dtype=np.int64)
    resolved_at = np.empty(count, dtype=np.int64)
    dojis = np.empty(count, dtype=np.int64)
    flips = calls.astype(np.uint64) * _ALL
    after = index + 1  # the entry candle's index
    longer = []
    for begin in range(0, count, _BLOCK):
        block = slice(begin, begin + _BLOCK)
        # the first 64 candles of every cycle, without branching per signal
        # (small integers stay uint8 until stored: mixed-type arithmetic is slow)
        seen = _read(planes, positions[block] + 1, flips[block], gales, gales)
        climbed = np.bitwise_count(seen.against & seen.before)
        climbed += np.uint8(1)
        climbed *= seen.won.view(np.uint8)
        level[block] = climbed
        level[block] -= 1  # the win level, or LOSS
        resolved_at[block] = seen.stop
        resolved_at[block] += after[block]
        dojis[block] = np.bitwise_count(~seen.nonzero & seen.before)
        open_ = np.flatnonzero(seen.stop == _WORD)  # nothing in these 64 candles ends the cycle
        if open_.size:
            longer.append((open_ + begin, seen.nonzero.take(open_), seen.against.take(open_)))
    if longer:
        # the few cycles longer than 64 candles, or cut short by the end of the data
        signal = np.concatenate([item[0] for item in longer])
        walk = _Walk(signal, positions[signal] + 1, np.zeros(signal.size, dtype=np.int64), flips[signal])
        nonzero = np.concatenate([item[1] for item in longer])
        against = np.concatenate([item[2] for item in longer])
        _walk_on(
            planes, planes.ends.take(series), starts, walk, nonzero, against, gales, level, resolved_at, dojis
        )
    return Cycles(series, index, level, resolved_at, dojis)


def _walk_on(
    planes: BitPlanes,
    ends: np.ndarray,
    starts: np.ndarray,
    walk: _Walk,
    nonzero: np.ndarray,
    against: np.ndarray,
    gales: int,
    level: np.ndarray,
    resolved_at: np.ndarray,
    dojis: np.ndarray,
) -> None:
    """Carry on the open cycles of `walk` past the 64 candles just read (`nonzero`, `against`), filling the outputs."""
    level[walk.signal] = UNRESOLVED
    resolved_at[walk.signal] = -1
    dojis[walk.signal] = 0
    while True:
        # take in the candles just read (those past the series' end are padding)
        available = np.clip(ends[walk.signal] - walk.cursor, 0, _WORD)
        read = np.where(available >= _WORD, _ALL, _low_bits(np.minimum(available, 63)))
        dojis[walk.signal] += np.bitwise_count(~nonzero & read)
        walk.climbed += np.bitwise_count(against)
        walk.cursor += available
        alive = walk.cursor < ends[walk.signal]  # the others ran out of data: unresolved
        walk = _Walk(walk.signal[alive], walk.cursor[alive], walk.climbed[alive], walk.flip[alive])
        if not walk.signal.size:
            return
        seen = _read(planes, walk.cursor, walk.flip, gales - walk.climbed, gales)
        ended = seen.stop < _WORD
        done = walk.signal[ended]
        before = seen.before[ended]
        climbed_here = np.bitwise_count(seen.against[ended] & before)
        level[done] = np.where(seen.won[ended], walk.climbed[ended] + climbed_here, LOSS)
        resolved_at[done] = walk.cursor[ended] - starts[done] + seen.stop[ended]
        dojis[done] += np.bitwise_count(~seen.nonzero[ended] & before)
        going = ~ended
        walk = _Walk(walk.signal[going], walk.cursor[going], walk.climbed[going], walk.flip[going])
        nonzero, against = seen.nonzero[going], seen.against[going]


def evaluate(series: Sequence[np.ndarray], strategy: Strategy, gales: int) -> Cycles:
    """Every signal of `strategy` on each series, with its cycle resolved (independent mode)."""
    gales = check_gales(gales)
    planes = BitPlanes.build([as_colours(s) for s in series])
    positions, calls = find_signals(planes, strategy)
    return resolve(planes, positions, calls, gales)


def sequential(cycles: Cycles) -> np.ndarray:
    """Indices of the cycles one bot per series would run, in order: a signal only after the previous cycle ended."""
    count = cycles.index.size
    if not count:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((cycles.index, cycles.series))
    ordered = cycles.take(order)
    # number the signals on one axis, each series after the previous one
    stride = int(max(ordered.index.max(), ordered.resolved_at.max())) + 2
    key = ordered.series * stride + ordered.index
    # an unresolved cycle holds the bot until its series ends
    free_from = np.where(
        ordered.level == UNRESOLVED,
        (ordered.series + 1) * stride,
        ordered.series * stride + ordered.resolved_at + 1,
    )
    following = np.searchsorted(key, free_from, side="left").tolist()
    taken = []
    at = 0
    while at < count:
        taken.append(at)
        at = following[at]
    return order[taken]


# --- reports ---------------------------------------------------------------


@dataclass
class PairResult:
    """What a pair's run adds up to; `levels`/`resolved_at` list its cycles in sequential mode."""

    signals: int
    win_at: list[int]
    loss: int
    unresolved: int
    dojis: int
    levels: np.ndarray | None = None
    resolved_at: np.ndarray | None = None


@dataclass
class MoneyFigures:
    equity_cents: np.ndarray
    losses: np.ndarray  # bool per resolved cycle

    def as_dict(self, include_equity: bool) -> dict[str, Any]:
        equity = self.equity_cents
        with_start = np.concatenate(([0], equity))
        drawdown = np.maximum.accumulate(with_start) - with_start
        figures: dict[str, Any] = {
            "net_profit": float(with_start[-1]) / 100,
            "max_drawdown": float(drawdown.max()) / 100,
            "longest_losing_streak": _longest_run(self.losses),
        }
        if include_equity:
            figures["equity"] = (equity / 100).tolist()
        return figures


def _longest_run(flags: np.ndarray) -> int:
    if not flags.any():
        return 0
    padded = np.concatenate(([False], flags, [False])).astype(np.int8)
    edges = np.diff(padded)
    return int((np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)).max())


def pair_results(cycles: Cycles, pair_count: int, gales: int, as_one_bot: bool) -> list[PairResult]:
    """Per series totals of `cycles` (all of them, or the sequential bot's)."""
    if as_one_bot:
        cycles = cycles.take(sequential(cycles))
    # one count per (series, outcome); outcome columns: unresolved, loss, win at 0..gales
    columns = gales + 3
    outcomes = np.bincount(
        cycles.series * columns + (cycles.level - UNRESOLVED), minlength=pair_count * columns
    )
    outcomes = outcomes.reshape(pair_count, columns)
    dojis = np.bincount(cycles.series, weights=cycles.dojis, minlength=pair_count)
    results = []
    for p in range(pair_count):
        row = outcomes[p].tolist()
        results.append(PairResult(sum(row), row[2:], row[1], row[0], int(dojis[p])))
    if as_one_bot:
        # the bot's cycles are in (series, index) order
        bounds = np.searchsorted(cycles.series, np.arange(pair_count + 1))
        for p, result in enumerate(results):
            part = cycles.take(np.arange(bounds[p], bounds[p + 1]))
            settled = part.level != UNRESOLVED
            result.levels = part.level[settled]
            result.resolved_at = part.resolved_at[settled]
    return results


def _net_cents(plan: MoneyPlan, gales: int) -> np.ndarray:
    """Cents won per win level, then the cents of a loss (last item)."""
    wins, lost = plan.nets(gales)
    return np.array([int(v * 100) for v in [*wins, lost]], dtype=np.int64)


def _money(levels: np.ndarray, nets: np.ndarray) -> MoneyFigures:
    per_cycle = nets[np.where(levels == LOSS, nets.size - 1, levels)]
    return MoneyFigures(np.cumsum(per_cycle), levels == LOSS)


def report_entry(
    signals: int, win_at: Sequence[int], loss: int, unresolved: int, dojis: int
) -> dict[str, Any]:
    """The figures of one pair or of the total in backtest_report (the catalog's rows use the same)."""
    resolved = sum(win_at) + loss
    cumulative = np.cumsum(win_at).tolist() if len(win_at) else []
    return {
        "signals": int(signals),
        "win_at": [int(w) for w in win_at],
        "loss": int(loss),
        "unresolved": int(unresolved),
        "dojis": int(dojis),
        "win_rate_at": [w / resolved if resolved else None for w in win_at],
        "win_rate_cumulative": [w / resolved if resolved else None for w in cumulative],
    }


def combine(
    results: Mapping[str, PairResult], gales: int, money: MoneyPlan | None = None, include_equity: bool = True
) -> dict[str, Any]:
    """The report `{"total": {...}, "pairs": {name: {...}}}` from per-pair results (in pair order)."""
    levels = gales + 1
    pairs: dict[str, Any] = {}
    total = PairResult(0, [0] * levels, 0, 0, 0)
    nets = _net_cents(money, gales) if money is not None else None
    merged_levels: list[np.ndarray] = []
    merged_at: list[np.ndarray] = []
    for name, result in results.items():
        entry = report_entry(result.signals, result.win_at, result.loss, result.unresolved, result.dojis)
        if nets is not None:
            if result.levels is None or result.resolved_at is None:
                raise BacktestError("money figures need the sequential mode")
            entry.update(_money(result.levels, nets).as_dict(include_equity))
            merged_levels.append(result.levels)
            merged_at.append(result.resolved_at)
        pairs[name] = entry
        total.signals += result.signals
        total.win_at = [a + b for a, b in zip(total.win_at, result.win_at, strict=True)]
        total.loss += result.loss
        total.unresolved += result.unresolved
        total.dojis += result.dojis
    summary = report_entry(total.signals, total.win_at, total.loss, total.unresolved, total.dojis)
    if nets is not None:
        # the pairs' bots side by side: their cycles in the order they ended (ties in pair order)
        all_levels = np.concatenate(merged_levels) if merged_levels else np.zeros(0, dtype=np.int64)
        all_at = np.concatenate(merged_at) if merged_at else np.zeros(0, dtype=np.int64)
        order = np.argsort(all_at, kind="stable")
        summary.update(_money(all_levels[order], nets).as_dict(include_equity))
    return {"total": summary, "pairs": pairs}


def money_plan(money: MoneyPlan | Mapping[str, Any] | None) -> MoneyPlan | None:
    """A MoneyPlan from itself or `{stake, gale_type|galeType, payout, sobra}`."""
    if money is None or isinstance(money, MoneyPlan):
        return money
    try:
        return MoneyPlan.of(
            money["stake"],
            money.get("gale_type", money.get("galeType", "dobro")),
            money["payout"],
            money.get("sobra", 0),
        )
    except KeyError as exc:
        raise BacktestError(f"money needs {exc.args[0]!r}") from None
    except ValueError as exc:
        raise BacktestError(str(exc)) from None


def run_pairs(
    series_by_pair: Mapping[str, Any], strategy: Strategy, gales: int, sequential_mode: bool
) -> dict[str, PairResult]:
    """The per-pair results of one strategy on a group of pairs (what each worker computes)."""
    names = list(series_by_pair)
    series = [as_colours(series_by_pair[name], f"colours of {name}") for name in names]
    cycles = evaluate(series, strategy, gales)
    return dict(zip(names, pair_results(cycles, len(names), gales, sequential_mode), strict=True))


def backtest_report(
    series_by_pair: Mapping[str, Any],
    sequence: str | Iterable[int | str],
    operation: str,
    mirror: bool | str = False,
    gales: int = 0,
    sequential: bool = False,
    money: MoneyPlan | Mapping[str, Any] | None = None,
    include_equity: bool = True,
) -> dict[str, Any]:
    """The backtest of one strategy on colour series per pair, as a JSON-ready dict.

    `{"total": {...}, "pairs": {pair: {...}}}`, each holding signals, win_at
    (gales + 1 counts), loss, unresolved, dojis, win_rate_at and
    win_rate_cumulative; with `money` (sequential mode only) also net_profit,
    max_drawdown, longest_losing_streak and the equity curve (in currency).
    """
    try:
        strategy = Strategy.parse(sequence, operation, mirror)
    except PatternError as exc:
        raise BacktestError(str(exc)) from None
    gales = check_gales(gales)
    plan = money_plan(money)
    if plan is not None and not sequential:
        raise BacktestError("money figures need the sequential mode")
    results = run_pairs(series_by_pair, strategy, gales, sequential)
    return combine(results, gales, plan, include_equity)


# --- many strategies, many processes ---------------------------------------


@dataclass(frozen=True)
class Job:
    name: str
    strategy: Strategy
    pairs: tuple[str, ...]


@dataclass
class Batch:
    """Many strategies over many pairs, split into jobs of `pairs_per_job` pairs."""

    strategies: Mapping[str, Strategy]
    series_by_pair: Mapping[str, Any]
    gales: int
    sequential: bool = False
    pairs_per_job: int = 8
    jobs: list[Job] = field(init=False)

    def __post_init__(self) -> None:
        self.gales = check_gales(self.gales)
        names = tuple(self.series_by_pair)
        size = max(1, int(self.pairs_per_job))
        self.jobs = [
            Job(name, strategy, names[i : i + size])
            for name, strategy in self.strategies.items()
            for i in range(0, len(names), size)
        ] or [Job(name, strategy, ()) for name, strategy in self.strategies.items()]


def _run_job(
    job: Job, series: Mapping[str, Any], gales: int, sequential_mode: bool
) -> tuple[str, dict[str, PairResult]]:
    return job.name, run_pairs(series, job.strategy, gales, sequential_mode)


def run_batch(
    batch: Batch,
    money: MoneyPlan | None = None,
    processes: int = 1,
    include_equity: bool = True,
    on_progress: Callable[[int], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """A report per strategy. With `processes` > 1 the jobs run in a process pool; the reports are the same."""
    if money is not None and not batch.sequential:
        raise BacktestError("money figures need the sequential mode")
    per_strategy: dict[str, dict[str, PairResult]] = {name: {} for name in batch.strategies}
    arguments = [
        (job, {pair: batch.series_by_pair[pair] for pair in job.pairs}, batch.gales, batch.sequential)
        for job in batch.jobs
    ]
    if processes > 1 and len(arguments) > 1:
        with ProcessPoolExecutor(max_workers=min(processes, len(arguments))) as pool:
            outcomes = pool.map(_run_job, *zip(*arguments, strict=True))
            for name, results in outcomes:
                per_strategy[name].update(results)
                if on_progress:
                    on_progress(1)
    else:
        for args in arguments:
            name, results = _run_job(*args)
            per_strategy[name].update(results)
            if on_progress:
                on_progress(1)
    reports = {}
    for name, results in per_strategy.items():
        ordered = {pair: results[pair] for pair in batch.series_by_pair}
        reports[name] = combine(ordered, batch.gales, money, include_equity)
    return reports
