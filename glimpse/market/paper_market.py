"""The paper market: a deterministic price for every pair at every instant.

The price of a pair is a pure function of (seed, pair, time). Every process
that knows the seed computes the same ticks, candles and settlements, with no
shared state and no clock inside this module.

The model
---------
* Time is cut into ticks of 60/64 s (64 per minute). A tick's price holds
  until the next tick.
* Prices are integers in points (the pair's last decimal), carried with 16
  extra fraction bits. Everything is integer arithmetic on a counter-based
  hash (splitmix64), so the result is bit-identical on every machine, for a
  single price or a vectorised month.
* The path is a Brownian bridge built top-down by dyadic midpoint
  refinement over blocks of 2**20 ticks (2**14 minutes, about 11 days). The
  value at any tick is reached in 20 halvings, so any instant is random
  access, and increments are independent at every scale below the block,
  which keeps candle colours independent like the real market's. Block
  anchors scatter around the pair's typical level, so the price stays
  realistic forever.
* A small share of minutes is flat (no tick moved the quote), as in quiet
  moments of the real market; together with the quantisation to points
  this gives the real mix of about 49 % green, 48 % red and 3 % doji.
"""

from __future__ import annotations

import hashlib
import math
import threading
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from glimpse.rules.pairs import PAIRS

TICKS_PER_MINUTE = 64
TICK_SECONDS = 60 / TICKS_PER_MINUTE
_MINUTE_LEVELS = 6  # 2**6 ticks per minute
BLOCK_LEVELS = 20  # a block holds 2**20 ticks
BLOCK_TICKS = 1 << BLOCK_LEVELS

# Standard deviation of the change over one minute, in points (1.6 pips for
# EURUSD, 0.016 for USDJPY: a relative 1-minute volatility of 0.8 to 2.6e-4
# across the pairs, which is what majors and crosses show).
MINUTE_SIGMA_POINTS = 16.0
# Share of minutes in which the quote never moves.
FLAT_MINUTE_RATE = 0.005
# Relative standard deviation of the block anchors around the typical level.
ANCHOR_RELATIVE_SD = 0.004
# Minutes of ticks each pair keeps computed (64 int64 each: 32 KB per pair per 64 minutes).
# The candle streams ask for the same 15 minutes every second; a request longer
# than this (a backtest's month) is computed directly instead of filling the cache.
MINUTE_CACHE_SIZE = 256

_FRACTION_BITS = 16
_HALF_POINT = 1 << (_FRACTION_BITS - 1)
_SCALE_SHIFT = 24
# Standard deviation of _gaussian_ints(): 2 * (sum of four 16-bit uniforms) - 4 * 65535.
_GAUSS_SD = 65536 * math.sqrt(4 / 3)

_U64 = (1 << 64) - 1
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_MASK16 = np.uint64(0xFFFF)


def _splitmix(x: np.ndarray) -> np.ndarray:
    """splitmix64's output function on a uint64 array (wrapping arithmetic)."""
    z = x + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


def _splitmix_int(x: int) -> int:
    z = (x + 0x9E3779B97F4A7C15) & _U64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _U64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _U64
    return z ^ (z >> 31)


def _stream(base: np.uint64, index: np.ndarray) -> np.ndarray:
    """The index-th output of the hash stream `base` (index: int64 array, >= 0)."""
    return _splitmix(index.astype(np.uint64) * _GOLDEN + base)


def _gaussian_ints(base: np.uint64, index: np.ndarray) -> np.ndarray:
    """Centred integers, close to normal with sd _GAUSS_SD (Irwin-Hall of four uniforms)."""
    h = _stream(base, index)
    total = (
        (h & _MASK16)
        + ((h >> np.uint64(16)) & _MASK16)
        + ((h >> np.uint64(32)) & _MASK16)
        + (h >> np.uint64(48))
    )
    return total.astype(np.int64) * 2 - 4 * 65535


def _scale(sd_points: float) -> int:
    """Integer multiplier turning _gaussian_ints() into fixed-point noise of `sd_points`."""
    return round(sd_points * (1 << _FRACTION_BITS) / _GAUSS_SD * (1 << _SCALE_SHIFT))


def _apply_scale(g: np.ndarray, scale: int) -> np.ndarray:
    return (g * np.int64(scale) + np.int64(1 << (_SCALE_SHIFT - 1))) >> np.int64(_SCALE_SHIFT)


def _key(seed: int, pair: str, domain: str) -> int:
    digest = hashlib.blake2b(f"glimpse-paper/{seed}/{pair}/{domain}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


@dataclass(frozen=True)
class _PairModel:
    name: str
    decimals: int
    level: int  # typical price, fixed point
    node_base: np.uint64
    anchor_base: np.uint64
    flat_base: np.uint64
    payout_key: int
    level_scales: tuple[int, ...]  # index: refinement level (interval of 2**level ticks)
    anchor_scale: int
    flat_threshold: np.uint64


def _model(seed: int, name: str) -> _PairModel:
    pair = PAIRS[name]
    level_points = round(pair.level * 10**pair.decimals)
    tick_sd = MINUTE_SIGMA_POINTS / math.sqrt(TICKS_PER_MINUTE)
    # A bridge over 2**level ticks puts its midpoint at N(mean, tick_sd**2 * 2**level / 4).
    scales = tuple(
        0 if level == 0 else _scale(tick_sd * math.sqrt(1 << level) / 2) for level in range(BLOCK_LEVELS + 1)
    )
    return _PairModel(
        name=name,
        decimals=pair.decimals,
        level=level_points << _FRACTION_BITS,
        node_base=np.uint64(_key(seed, name, "node")),
        anchor_base=np.uint64(_key(seed, name, "anchor")),
        flat_base=np.uint64(_key(seed, name, "flat")),
        payout_key=_key(seed, name, "payout"),
        level_scales=scales,
        anchor_scale=_scale(ANCHOR_RELATIVE_SD * level_points),
        flat_threshold=np.uint64(int(FLAT_MINUTE_RATE * 2.0**64)),
    )


# seed -> pair -> minute -> ticks: the minute cache every PaperMarket of the process shares.
_SHARED_MINUTES: dict[int, dict[str, dict[int, np.ndarray]]] = {}
_SHARED_LOCK = threading.Lock()


def _epoch_seconds(value: Any, name: str) -> float:
    try:
        t = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be epoch seconds, got {value!r}") from None
    if not math.isfinite(t) or t < 0:
        raise ValueError(f"{name} must be non-negative epoch seconds, got {value!r}")
    return t


def tick_index(t: float) -> int:
    """The tick in force at epoch second `t`."""
    return math.floor(t * TICKS_PER_MINUTE / 60)


class PaperMarket:
    """Deterministic prices, candles, colours, payouts and settlements for every pair."""

    def __init__(self, seed: int, payout_min: int = 80, payout_max: int = 92):
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        if not (
            isinstance(payout_min, int)
            and isinstance(payout_max, int)
            and 1 <= payout_min <= payout_max <= 100
        ):
            raise ValueError(
                f"payouts must be integers with 1 <= min <= max <= 100, got {payout_min!r}..{payout_max!r}"
            )
        self.seed = seed
        self.payout_min = payout_min
        self.payout_max = payout_max
        self._models: dict[str, _PairModel] = {}
        # pair -> minute -> that minute's 64 tick values (fixed point, flat minutes applied).
        # A minute's ticks are a pure function of (seed, pair, minute): computed once, reused by
        # every market of the process with this seed (the candle streams warm them for the brokers).
        with _SHARED_LOCK:
            self._minutes = _SHARED_MINUTES.setdefault(seed, {})
        self._minutes_lock = _SHARED_LOCK

    # --- the model ------------------------------------------------------------------------------

    def _pair(self, pair: str) -> _PairModel:
        model = self._models.get(pair)
        if model is None:
            if pair not in PAIRS:
                raise ValueError(f"unknown pair {pair!r}")
            model = self._models[pair] = _model(self.seed, pair)
        return model

    def _anchors(self, m: _PairModel, block: np.ndarray) -> np.ndarray:
        return m.level + _apply_scale(_gaussian_ints(m.anchor_base, block), m.anchor_scale)

    def _midpoints(
        self, m: _PairModel, mid: np.ndarray, level: int, v_lo: np.ndarray, v_hi: np.ndarray
    ) -> np.ndarray:
        return ((v_lo + v_hi) >> 1) + _apply_scale(_gaussian_ints(m.node_base, mid), m.level_scales[level])

    def _flat(self, m: _PairModel, minute: np.ndarray) -> np.ndarray:
        return _stream(m.flat_base, minute) < m.flat_threshold

    def _tick_values(self, m: _PairModel, n: np.ndarray) -> np.ndarray:
        """Fixed-point values of the bridge at ticks `n`, each point walked down on its own."""
        block = n >> BLOCK_LEVELS
        lo = block << BLOCK_LEVELS
        v_lo = self._anchors(m, block)
        v_hi = self._anchors(m, block + 1)
        for level in range(BLOCK_LEVELS, 0, -1):
            mid = lo + (1 << (level - 1))
            v_mid = self._midpoints(m, mid, level, v_lo, v_hi)
            right = n >= mid
            lo = np.where(right, mid, lo)
            v_lo = np.where(right, v_mid, v_lo)
            v_hi = np.where(right, v_hi, v_mid)
        return v_lo

    def _grid(self, m: _PairModel, n0: int, n1: int, step_level: int) -> np.ndarray:
        """Values at ticks n0, n0 + 2**step_level, ..., n1 (both multiples of that step).

        Refines every interval that overlaps the range once, level by level:
        the same nodes _tick_values() computes, without recomputing shared ones.
        """
        b0 = n0 >> BLOCK_LEVELS
        b1 = max(-((-n1) >> BLOCK_LEVELS), b0 + 1)
        blocks = np.arange(b0, b1 + 1, dtype=np.int64)
        ticks = blocks << BLOCK_LEVELS
        values = self._anchors(m, blocks)
        for level in range(BLOCK_LEVELS, step_level, -1):
            mids = ticks[:-1] + (1 << (level - 1))
            v_mids = self._midpoints(m, mids, level, values[:-1], values[1:])
            merged_ticks = np.empty(2 * len(ticks) - 1, dtype=np.int64)
            merged_values = np.empty_like(merged_ticks)
            merged_ticks[0::2], merged_ticks[1::2] = ticks, mids
            merged_values[0::2], merged_values[1::2] = values, v_mids
            first = int(np.searchsorted(merged_ticks, n0, side="right")) - 1
            last = int(np.searchsorted(merged_ticks, n1, side="left"))
            ticks, values = merged_ticks[first : last + 1], merged_values[first : last + 1]
        return values

    def _points(self, values: np.ndarray) -> np.ndarray:
        return (values + _HALF_POINT) >> _FRACTION_BITS

    def _to_price(self, m: _PairModel, points: np.ndarray) -> np.ndarray:
        # Dividing the integer by 10**d is correctly rounded: it gives the same
        # float as the decimal quote itself, e.g. 108123 / 1e5 == 1.08123.
        return points / float(10**m.decimals)

    # --- prices ---------------------------------------------------------------------------------

    def points(self, pair: str, times: Any) -> np.ndarray:
        """The quotes at epoch seconds `times`, as integers in points."""
        m = self._pair(pair)
        t = np.atleast_1d(np.asarray(times, dtype=np.float64))
        if t.size and (not np.all(np.isfinite(t)) or t.min() < 0):
            raise ValueError("times must be non-negative epoch seconds")
        n = np.floor(t * TICKS_PER_MINUTE / 60).astype(np.int64)
        if 0 < n.size <= 4:
            # A quote or a settlement: from the shared minute cache, computing a missing minute once.
            # Every order of one instant (a desk batch, a copy fan-out) asks for the same minute, and
            # walking the bridge down for each cost most of a paper order. Each tick from its own
            # minute's row: a turbo order bought at second 58 expires two minutes on, and its
            # settlement walked the bridge down twice (about 2.5 ms) when only adjacent minutes came
            # from the cache.
            last = TICKS_PER_MINUTE - 1
            return self._points(
                np.array([self._cached_row(m, int(tick) >> _MINUTE_LEVELS)[int(tick) & last] for tick in n])
            )
        minute = n >> _MINUTE_LEVELS
        n = np.where(self._flat(m, minute), minute << _MINUTE_LEVELS, n)
        return self._points(self._tick_values(m, n))

    def prices(self, pair: str, times: Any) -> np.ndarray:
        return self._to_price(self._pair(pair), self.points(pair, times))

    def price(self, pair: str, t: float) -> float:
        """The quote of `pair` at epoch second `t`, at the pair's precision.

        The same arithmetic as `prices` for one time, on Python numbers: every paper order reads
        one quote, and the array machinery for one value cost most of the read.
        """
        m = self._pair(pair)
        tick = math.floor(_epoch_seconds(t, "t") * TICKS_PER_MINUTE / 60)
        row = self._cached_row(m, tick >> _MINUTE_LEVELS)
        value = int(row[tick & (TICKS_PER_MINUTE - 1)])
        return ((value + _HALF_POINT) >> _FRACTION_BITS) / float(10**m.decimals)

    # --- candles --------------------------------------------------------------------------------

    def _computed_ticks(self, m: _PairModel, m0: int, count: int) -> np.ndarray:
        """Fixed-point values of every tick of minutes m0 .. m0+count-1, shape (count, 64), computed."""
        first, end = m0 << _MINUTE_LEVELS, (m0 + count) << _MINUTE_LEVELS
        ticks = self._grid(m, first, end, 0)[:-1].reshape(count, TICKS_PER_MINUTE)
        flat = self._flat(m, np.arange(m0, m0 + count, dtype=np.int64))
        ticks[flat] = ticks[flat, :1]
        return ticks

    def _cached_row(self, m: _PairModel, minute: int) -> np.ndarray:
        """One minute's ticks from the cache (read-only), computed and kept when missing."""
        row = self._minutes.get(m.name, {}).get(minute)
        return row if row is not None else self._cached_ticks(m, minute, 1)[0]

    def _cached_ticks(self, m: _PairModel, m0: int, count: int) -> np.ndarray:
        """Like _computed_ticks(), computing only the minutes not computed before (a fresh array)."""
        with self._minutes_lock:
            cache = self._minutes.setdefault(m.name, {})
            rows = [cache.get(minute) for minute in range(m0, m0 + count)]
            missing = [i for i, row in enumerate(rows) if row is None]
            if missing:
                # One grid over the span of the missing minutes: its nodes are the same
                # whatever the span, so the values equal a full recompute bit for bit.
                lo, hi = missing[0], missing[-1]
                fresh = self._computed_ticks(m, m0 + lo, hi - lo + 1)
                for i in range(lo, hi + 1):
                    if rows[i] is None:
                        row = fresh[i - lo].copy()
                        row.flags.writeable = False
                        rows[i] = cache[m0 + i] = row
                while len(cache) > MINUTE_CACHE_SIZE:
                    del cache[next(iter(cache))]  # the oldest computed first
        return np.stack(rows)  # type: ignore[arg-type]

    def _minute_ticks(self, m: _PairModel, m0: int, count: int, until: float | None) -> np.ndarray:
        """Fixed-point values of every tick of minutes m0 .. m0+count-1, shape (count, 64)."""
        first = m0 << _MINUTE_LEVELS
        if count <= MINUTE_CACHE_SIZE // 2:
            ticks = self._cached_ticks(m, m0, count)
        else:
            ticks = self._computed_ticks(m, m0, count)
        if until is not None:
            # Ticks after `until` have not happened yet: hold the last known quote.
            last = tick_index(until) - first
            if last < ticks.size - 1:
                row = ticks.reshape(-1)
                row[last + 1 :] = row[last]
        return ticks

    def candle_arrays(
        self, pair: str, start: float, count: int, size: int = 60, until: float | None = None
    ) -> dict[str, np.ndarray]:
        """Candles of `size` seconds from `start` (aligned to `size`), as arrays.

        Keys: from (int64 epoch), o, c, h, l (float64 quotes). With `until`,
        the candle that contains it is still forming: its close is the quote
        at `until`, and nothing after `until` is revealed.
        """
        m = self._pair(pair)
        if isinstance(size, bool) or not isinstance(size, int) or size <= 0 or size % 60:
            raise ValueError(f"size must be a positive multiple of 60 seconds, got {size!r}")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"count must be a non-negative integer, got {count!r}")
        start_s = _epoch_seconds(start, "start")
        if start_s % size:
            raise ValueError(f"start must be aligned to {size} seconds, got {start!r}")
        per = size // 60
        if until is not None:
            until = _epoch_seconds(until, "until")
            if count and start_s + (count - 1) * size > until:
                raise ValueError("the requested candles start after `until`: they have not happened yet")
        froms = int(start_s) + size * np.arange(count, dtype=np.int64)
        if count == 0:
            empty = np.empty(0)
            return {"from": froms, "o": empty, "c": empty, "h": empty, "l": empty}
        ticks = self._minute_ticks(m, int(start_s) // 60, count * per, until)
        ticks = ticks.reshape(count, per * TICKS_PER_MINUTE)
        points = self._points(ticks)
        return {
            "from": froms,
            "o": self._to_price(m, points[:, 0]),
            "c": self._to_price(m, points[:, -1]),
            "h": self._to_price(m, points.max(axis=1)),
            "l": self._to_price(m, points.min(axis=1)),
        }

    def candles(
        self, pair: str, start: float, count: int, size: int = 60, until: float | None = None
    ) -> list[dict]:
        """Like candle_arrays(), as a list of {from, o, c, h, l}, oldest first."""
        a = self.candle_arrays(pair, start, count, size, until)
        return [
            {"from": int(f), "o": float(o), "c": float(c), "h": float(h), "l": float(lo)}
            for f, o, c, h, lo in zip(a["from"], a["o"], a["c"], a["h"], a["l"], strict=True)
        ]

    def colours(self, pair: str, start_epoch: int, minutes: int) -> np.ndarray:
        """Colours of the 1-minute candles from `start_epoch` (minute aligned):
        int8 array, 1 green (close > open), -1 red, 0 doji."""
        m = self._pair(pair)
        start = _epoch_seconds(start_epoch, "start_epoch")
        if start % 60:
            raise ValueError(f"start_epoch must be aligned to a minute, got {start_epoch!r}")
        if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 0:
            raise ValueError(f"minutes must be a non-negative integer, got {minutes!r}")
        if minutes == 0:
            return np.empty(0, dtype=np.int8)
        m0 = int(start) // 60
        bounds = self._grid(m, m0 << _MINUTE_LEVELS, (m0 + minutes) << _MINUTE_LEVELS, _MINUTE_LEVELS)
        v_open, v_next = bounds[:-1], bounds[1:]
        # Walk each minute down to its last tick (index 63: always the right half).
        lo = (np.arange(m0, m0 + minutes, dtype=np.int64)) << _MINUTE_LEVELS
        v_lo = v_open
        for level in range(_MINUTE_LEVELS, 0, -1):
            lo = lo + (1 << (level - 1))
            v_lo = self._midpoints(m, lo, level, v_lo, v_next)
        change = self._points(v_lo) - self._points(v_open)
        colours = np.sign(change).astype(np.int8)
        colours[self._flat(m, np.arange(m0, m0 + minutes, dtype=np.int64))] = 0
        return colours

    # --- payouts and settlement -----------------------------------------------------------------

    def payout(self, pair: str, day: date | int) -> int:
        """The payout percentage of `pair` on `day` (a date, or days since 1970-01-01)."""
        m = self._pair(pair)
        if isinstance(day, date):
            day = (day - date(1970, 1, 1)).days
        if isinstance(day, bool) or not isinstance(day, int):
            raise ValueError(f"day must be a date or a day number, got {day!r}")
        spread = self.payout_max - self.payout_min + 1
        return self.payout_min + _splitmix_int((m.payout_key + day * 0x9E3779B97F4A7C15) & _U64) % spread

    def outcome(self, pair: str, direction: str, opened_at: float, expires_at: float) -> int:
        """1 if an option bought at `opened_at` wins at `expires_at`, -1 if it loses, 0 for a doji.

        A call wins when the quote at expiry is above the quote at purchase,
        a put when it is below; equal quotes are a doji.
        """
        if direction not in ("call", "put"):
            raise ValueError(f"direction must be 'call' or 'put', got {direction!r}")
        opened = _epoch_seconds(opened_at, "opened_at")
        expires = _epoch_seconds(expires_at, "expires_at")
        if expires <= opened:
            raise ValueError("expires_at must be after opened_at")
        before, after = self.points(pair, [opened, expires])
        move = int(np.sign(after - before))
        return move if direction == "call" else -move
