"""Where the backtester's colour series come from.

A colour series is an int8 array, oldest candle first: 1 green, -1 red,
0 doji. The sources:
- `+`/`-`/`0` strings, one character per candle (the app's TestCandles format),
  alone, one per line of a file, or in TestCandles documents `[{ativo, candles}]`;
- stored candle lists `[{o, c, ...}]`;
- a CSV of open/close prices, optionally with a pair column;
- the paper market, for any pairs and period.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from glimpse.rules.pairs import normalize_pair
from glimpse.rules.patterns import PatternError, colours, colours_from_moves

SYMBOLS = {"+": 1, "-": -1, "0": 0}
_INVALID = 127
_DECODE = np.full(256, _INVALID, dtype=np.int8)
for _symbol, _value in SYMBOLS.items():
    _DECODE[ord(_symbol)] = _value
_ENCODE = np.frombuffer(b"-0+", dtype=np.uint8)  # indexed by colour + 1

MINUTES_PER_DAY = 1440


class ColourSourceError(ValueError):
    """Colour data that cannot be read; the message says where."""


# --- +-0 strings --------------------------------------------------------------


def series_from_string(text: str, name: str = "colours") -> np.ndarray:
    """The colours of a `+-0` string (surrounding whitespace ignored)."""
    if not isinstance(text, str):
        raise ColourSourceError(f"{name} must be a string of +, - and 0, got {type(text).__name__}")
    raw = np.frombuffer(text.strip().encode("utf-8"), dtype=np.uint8)
    series = _DECODE[raw]
    bad = np.flatnonzero(series == _INVALID)
    if bad.size:
        at = int(bad[0])
        shown = text.strip().encode("utf-8")[at : at + 1].decode("utf-8", "replace")
        raise ColourSourceError(f"{name}: character {at + 1} is {shown!r}; only +, - and 0 are colours")
    return series


def string_from_series(series: np.ndarray) -> str:
    """The `+-0` string of a colour series."""
    values = np.sign(np.asarray(series, dtype=np.int64)) + 1
    return _ENCODE[values].tobytes().decode("ascii")


def series_from_lines(text: str, name: str = "colours") -> dict[str, np.ndarray]:
    """One series per non-blank line, keyed by the line's index in the text (0 for the first line)."""
    result = {}
    for index, line in enumerate(text.splitlines()):
        if line.strip():
            result[str(index)] = series_from_string(line, f"{name} line {index + 1}")
    if not result:
        raise ColourSourceError(f"{name} holds no colours")
    return result


def read_colours_file(path: str | Path) -> dict[str, np.ndarray]:
    """A `+-0` file: one pair per line, or a single line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ColourSourceError(f"cannot read {path}: {exc}") from None
    return series_from_lines(text, str(path))


def series_from_test_candles(docs: Iterable[Mapping[str, Any]]) -> dict[str, np.ndarray]:
    """Series from TestCandles documents `[{ativo, candles: "+-0..."}]`, keyed by ativo (or position)."""
    result: dict[str, np.ndarray] = {}
    for index, doc in enumerate(docs):
        if not isinstance(doc, Mapping) or "candles" not in doc:
            raise ColourSourceError(f"TestCandles document {index} has no 'candles' string")
        key = str(doc.get("ativo") or index)
        if key in result:
            raise ColourSourceError(f"TestCandles has two documents for {key}")
        result[key] = series_from_string(doc["candles"], f"TestCandles {key}")
    return result


def documents_for_test_candles(series_by_pair: Mapping[str, np.ndarray]) -> list[dict[str, str]]:
    """TestCandles documents `[{ativo, candles}]` for colour series (what getTestCandles serves)."""
    return [{"ativo": pair, "candles": string_from_series(series)} for pair, series in series_by_pair.items()]


# --- prices -------------------------------------------------------------------


def series_from_candles(candles: Sequence[Mapping[str, Any]], name: str = "candles") -> np.ndarray:
    """The colours of stored candles `[{o, c, ...}]`, oldest first."""
    try:
        return colours(candles)
    except PatternError as exc:
        raise ColourSourceError(f"{name}: {exc}") from None


_OPEN = ("open", "o")
_CLOSE = ("close", "c")
_PAIR = ("pair", "ativo", "asset", "symbol")


def series_from_csv(source: str | Path | io.TextIOBase, default_pair: str = "0") -> dict[str, np.ndarray]:
    """Series from a CSV with a header naming open and close columns (open/o, close/c).

    With a pair column (pair/ativo/asset/symbol) rows go to their pair, in
    file order; without one, every row belongs to `default_pair`.
    """
    if isinstance(source, str | Path):
        try:
            with open(source, newline="", encoding="utf-8") as handle:
                return series_from_csv(handle, default_pair)
        except OSError as exc:
            raise ColourSourceError(f"cannot read {source}: {exc}") from None
    reader = csv.reader(source)
    header = next(reader, None)
    if not header:
        raise ColourSourceError("the CSV is empty: it needs a header with open and close columns")
    columns = [name.strip().lower() for name in header]

    def column(names: tuple[str, ...], required: bool) -> int | None:
        for name in names:
            if name in columns:
                return columns.index(name)
        if required:
            raise ColourSourceError(f"the CSV header has no {names[0]} column (accepted: {', '.join(names)})")
        return None

    open_at, close_at, pair_at = column(_OPEN, True), column(_CLOSE, True), column(_PAIR, False)
    assert open_at is not None and close_at is not None  # required columns raise above
    moves: dict[str, list[float]] = {}
    for row_number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        try:
            move = float(row[close_at]) - float(row[open_at])
        except (IndexError, ValueError):
            raise ColourSourceError(
                f"CSV row {row_number}: open and close must be numbers, got {row!r}"
            ) from None
        pair = row[pair_at].strip() if pair_at is not None and pair_at < len(row) else default_pair
        moves.setdefault(pair or default_pair, []).append(move)
    if not moves:
        raise ColourSourceError("the CSV has a header but no candles")
    return {pair: colours_from_moves(np.array(values)) for pair, values in moves.items()}


# --- the paper market ----------------------------------------------------------


class ColourMarket(Protocol):
    """What the backtester needs of a market: colours of 1-minute candles (glimpse.market.paper_market.PaperMarket)."""

    def colours(self, pair: str, start_epoch: int, minutes: int) -> np.ndarray: ...


def parse_pairs(text: str | Iterable[str]) -> list[str]:
    """Pair names from "EURUSD,gbp/usd" or a list; ColourSourceError names an unknown one."""
    items = text.split(",") if isinstance(text, str) else list(text)
    pairs = []
    for item in items:
        if not item.strip():
            continue
        pair = normalize_pair(item)
        if pair is None:
            raise ColourSourceError(f"unknown pair {item.strip()!r}")
        if pair not in pairs:
            pairs.append(pair)
    if not pairs:
        raise ColourSourceError("no pairs given")
    return pairs


def last_complete_minutes(now: float, days: int) -> tuple[int, int]:
    """(start epoch, minutes) of the `days` days of 1-minute candles ending with the minute before `now`'s."""
    if isinstance(days, bool) or not isinstance(days, int) or days <= 0:
        raise ColourSourceError(f"days must be a positive whole number, got {days!r}")
    end = int(now // 60) * 60  # the current minute is still forming
    minutes = days * MINUTES_PER_DAY
    return end - minutes * 60, minutes


def series_from_market(
    market: ColourMarket, pairs: Sequence[str], start_epoch: int, minutes: int
) -> dict[str, np.ndarray]:
    """Each pair's colours over `minutes` minutes from `start_epoch`."""
    return {pair: market.colours(pair, start_epoch, minutes) for pair in pairs}
