"""Quadrant strategies: MHI and its relatives, as pure rules.

Time is cut into quadrants of `period` minutes (minute mod period == 0 opens
one; with period 5 they open at :00, :05, :10...). A rule trades only at the
entry minutes, where minute mod period == offset, and takes its direction
from chosen candles of the quadrant before the one holding the entry:
- `minority`: the colour fewer of the chosen candles have;
- `majority`: the colour more of them have.
A doji among the chosen candles, or a tie, means no trade: the community
bots skip the entry then ("alto risco de LOSS").

The entry candle is the one of the entry minute, exactly as a sequence
strategy's entry is the candle after its signal: a rule "signals" at the
candle before the entry minute, and its gales follow in the next candles.

Presets (see PRESET_SOURCES for where each definition comes from):
- MHI 1/2/3 minoria and maioria: the last 3 candles of the previous
  5-minute quadrant, entry at the 1st/2nd/3rd candle of the next one;
- Milhão minoria/maioria: all 5 candles of the previous quadrant, entry at
  the 3rd candle of the next one;
- Vituxo 2.0 minoria/maioria: the first 3 candles of the previous quadrant,
  entry at the 3rd candle of the next one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

MINORITY = "minority"
MAJORITY = "majority"
PICKS = (MINORITY, MAJORITY)
MAX_PERIOD = 60


class QuadrantError(ValueError):
    """A quadrant rule that cannot be used; the message names the field."""


def _whole(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or not low <= value <= high:
        raise QuadrantError(f"{name} must be a whole number from {low} to {high}, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class QuadrantRule:
    """Entry at minutes where minute % period == offset; direction from `candles` of the previous quadrant."""

    name: str
    period: int
    offset: int
    candles: tuple[int, ...]
    pick: str

    @classmethod
    def of(
        cls,
        name: str,
        period: int = 5,
        offset: int = 0,
        candles: Sequence[int] = (2, 3, 4),
        pick: str = MINORITY,
    ) -> QuadrantRule:
        if not isinstance(name, str) or not name.strip():
            raise QuadrantError("name must be a non-empty string")
        size = _whole(period, "period", 2, MAX_PERIOD)
        start = _whole(offset, "offset", 0, size - 1)
        if isinstance(candles, str) or not isinstance(candles, Sequence) or not candles:
            raise QuadrantError("candles must list at least one candle of the quadrant (0 is its first)")
        chosen = tuple(_whole(c, "candles item", 0, size - 1) for c in candles)
        if len(set(chosen)) != len(chosen):
            raise QuadrantError(f"candles must not repeat a candle, got {list(chosen)}")
        if pick not in PICKS:
            raise QuadrantError(f"pick must be 'minority' or 'majority', got {pick!r}")
        return cls(name.strip(), size, start, tuple(sorted(chosen)), pick)

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> QuadrantRule:
        """A rule from `{name, period, offset, candles, pick}` (as as_document() writes it)."""
        try:
            return cls.of(doc["name"], doc["period"], doc["offset"], doc["candles"], doc["pick"])
        except KeyError as exc:
            raise QuadrantError(f"quadrant rule has no {exc.args[0]!r}") from None

    def as_document(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "period": self.period,
            "offset": self.offset,
            "candles": list(self.candles),
            "pick": self.pick,
        }

    @property
    def lookback(self) -> int:
        """How many candles before the entry candle the decision reads (the oldest chosen one included)."""
        return self.offset + self.period - self.candles[0]

    def is_entry(self, minute: int) -> bool:
        """Whether `minute` (minutes since the epoch, or of the hour when period divides 60) is an entry minute."""
        return minute % self.period == self.offset

    def analysed_minutes(self, entry_minute: int) -> list[int]:
        """The minutes of the candles the decision at `entry_minute` reads, oldest first."""
        previous = entry_minute - self.offset - self.period
        return [previous + c for c in self.candles]


def pick_direction(rule: QuadrantRule, chosen: Sequence[int]) -> str | None:
    """'call', 'put' or None (a doji, or a tie) from the colours of the chosen candles."""
    if any(c == 0 for c in chosen):
        return None
    greens = sum(1 for c in chosen if c > 0)
    reds = len(chosen) - greens
    if greens == reds:
        return None
    majority_green = greens > reds
    green = majority_green if rule.pick == MAJORITY else not majority_green
    return "call" if green else "put"


def decide(rule: QuadrantRule, entry_minute: int, recent: Sequence[int]) -> str | None:
    """The live decision: the direction to trade at `entry_minute`, or None.

    `recent` holds colours oldest first, its last item the candle of minute
    entry_minute - 1 (the one just closed). None outside entry minutes and
    when `recent` is too short to hold the analysed candles.
    """
    if not rule.is_entry(entry_minute) or len(recent) < rule.lookback:
        return None
    size = len(recent)
    chosen = [recent[size - (entry_minute - minute)] for minute in rule.analysed_minutes(entry_minute)]
    return pick_direction(rule, chosen)


def decide_on_candles(
    rule: QuadrantRule, entry_minute: int, candles: Sequence[Mapping[str, Any]]
) -> str | None:
    """The live decision from the bot's candles: `[{from: epoch seconds, o, c}, ...]`.

    Each analysed candle is found by its minute (`from`), so a stream that
    lags or skipped a minute yields None rather than a decision read from the
    wrong candles. Candles without `from` (the original's stored form) are
    taken as consecutive minutes ending at entry_minute - 1.
    """
    if not rule.is_entry(entry_minute):
        return None
    by_minute: dict[int, int] = {}
    timed = [
        c for c in candles if isinstance(c.get("from"), int | float) and not isinstance(c.get("from"), bool)
    ]
    try:
        if timed:
            for candle in timed:
                move = float(candle["c"]) - float(candle["o"])
                by_minute[int(candle["from"]) // 60] = 1 if move > 0 else -1 if move < 0 else 0
        else:
            for back, candle in enumerate(reversed(candles), start=1):
                move = float(candle["c"]) - float(candle["o"])
                by_minute[entry_minute - back] = 1 if move > 0 else -1 if move < 0 else 0
    except (KeyError, TypeError, ValueError):
        return None
    minutes = rule.analysed_minutes(entry_minute)
    if any(m not in by_minute for m in minutes):
        return None
    return pick_direction(rule, [by_minute[m] for m in minutes])


def signal_directions(rule: QuadrantRule, colours: np.ndarray, first_minute: int) -> np.ndarray:
    """Per candle index t of a series whose candle 0 is minute `first_minute`: the direction
    (1 call, -1 put, 0 none) of a trade entering at candle t + 1, as an int8 array.

    The last candle may signal too (its entry lies past the data), as a
    sequence strategy's last candle does in the backtester.
    """
    return signal_directions_many([rule], colours, first_minute)[0]


def signal_directions_many(
    rules: Sequence[QuadrantRule], colours: np.ndarray, first_minute: int
) -> list[np.ndarray]:
    """signal_directions for several rules at once: rules with the same period and candles
    share the counting (MHI 1, 2 and 3, minoria and maioria, all read one count)."""
    colours = np.asarray(colours)
    size = colours.size
    counted: dict[tuple[int, tuple[int, ...]], tuple[int, np.ndarray, np.ndarray, np.ndarray]] = {}
    results = []
    for rule in rules:
        period = rule.period
        result = np.zeros(size, dtype=np.int8)
        results.append(result)
        key = (period, rule.candles)
        if key not in counted:
            # one quadrant per row, row 0 starting `lead` candles before the data (the quadrant
            # holding candle 0); the cells before the data hold a marker that is no colour
            lead = first_minute % period
            rows = (lead + size) // period  # complete quadrants: an entry always follows one
            grid = np.full(max(rows, 0) * period, 2, dtype=np.int8)
            if rows > 0:
                grid[lead:] = colours[: rows * period - lead]
            chosen = grid.reshape(rows, period)[:, list(rule.candles)]
            greens = (chosen == 1).sum(axis=1)
            reds = (chosen == -1).sum(axis=1)
            clean = (greens + reds == len(rule.candles)) & (greens != reds)
            counted[key] = (lead, np.flatnonzero(clean), greens, reds)
        lead, clean_rows, greens, reds = counted[key]
        if not clean_rows.size:
            continue
        majority_green = greens[clean_rows] > reds[clean_rows]
        green = majority_green if rule.pick == MAJORITY else ~majority_green
        # the decision from quadrant row q enters at the candle `offset` into row q + 1
        signal_at = (clean_rows + 1) * period + rule.offset - lead - 1
        keep = signal_at < size
        result[signal_at[keep]] = np.where(green[keep], 1, -1)
    return results


def _preset(name: str, offset: int, candles: tuple[int, ...], pick: str) -> QuadrantRule:
    return QuadrantRule.of(name, 5, offset, candles, pick)


PRESETS: Mapping[str, QuadrantRule] = {
    "mhi": _preset("MHI", 0, (2, 3, 4), MINORITY),
    "mhi-maioria": _preset("MHI maioria", 0, (2, 3, 4), MAJORITY),
    "mhi2": _preset("MHI 2", 1, (2, 3, 4), MINORITY),
    "mhi2-maioria": _preset("MHI 2 maioria", 1, (2, 3, 4), MAJORITY),
    "mhi3": _preset("MHI 3", 2, (2, 3, 4), MINORITY),
    "mhi3-maioria": _preset("MHI 3 maioria", 2, (2, 3, 4), MAJORITY),
    "milhao": _preset("Milhão minoria", 2, (0, 1, 2, 3, 4), MINORITY),
    "milhao-maioria": _preset("Milhão maioria", 2, (0, 1, 2, 3, 4), MAJORITY),
    "vituxo": _preset("Vituxo 2.0 minoria", 2, (0, 1, 2), MINORITY),
    "vituxo-maioria": _preset("Vituxo 2.0 maioria", 2, (0, 1, 2), MAJORITY),
}

# Where each preset's definition comes from (public community bots and their docs).
PRESET_SOURCES: Mapping[str, str] = {
    "mhi": "github.com/guilhersantos/iq_bots bots/bots_estrategias.md (MHI UM MINORIA) and bots/mhi_um_minoria.py "
    "(no entry on a doji); github.com/tiagobreism/BotMHI_IQOption mhi.py (candles 2, 3, 4 of the quadrant, "
    "against the majority, no entry on a doji)",
    "mhi-maioria": "github.com/guilhersantos/iq_bots bots/bots_estrategias.md (MHI UM MAIORIA)",
    "mhi2": "github.com/guilhersantos/iq_bots bots/bots_mhi.md (MHI 2: entry at the 2nd candle)",
    "mhi2-maioria": "github.com/guilhersantos/iq_bots bots/bots_estrategias.md (MHI DOIS MAIORIA)",
    "mhi3": "github.com/guilhersantos/iq_bots bots/bots_mhi.md (MHI 3: entry at the 3rd candle)",
    "mhi3-maioria": "github.com/guilhersantos/iq_bots bots/bots_estrategias.md (MHI TRES MAIORIA)",
    "milhao": "github.com/guilhersantos/iq_bots bots/bots_estrategias.md (MILHAO MINORIA)",
    "milhao-maioria": "github.com/guilhersantos/iq_bots bots/bots_estrategias.md (MILHAO MAIORIA)",
    "vituxo": "github.com/guilhersantos/iq_bots bots/bots_estrategias.md (VITUXO 2.0 MINORIA)",
    "vituxo-maioria": "github.com/guilhersantos/iq_bots bots/bots_estrategias.md (VITUXO 2.0 MAIORIA)",
}


def preset(name: str) -> QuadrantRule:
    """A preset by key ('mhi', 'mhi-maioria', ...) or by its display name, case-insensitive."""
    wanted = name.strip().casefold()
    for key, rule in PRESETS.items():
        if wanted in (key, rule.name.casefold()):
            return rule
    raise QuadrantError(f"unknown quadrant preset {name!r} (known: {', '.join(PRESETS)})")
