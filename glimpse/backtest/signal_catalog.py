"""Signal lists, catalogued: how a pasted list would have done on each of the last N days.

A signal `EURUSD 14:30 CALL` (expiry E minutes, 1 when the list names none)
is replayed on every day D of the period: its cycle enters the E-minute
candle that starts at 14:30 of D in the market's time zone (the decision is
taken just before it), and its gales enter the E-minute candles that follow.
The cycle follows the backtester's rules (glimpse.backtest.engine): a doji
counts one doji and keeps the level, a candle in the direction wins at the
current level, any other candle moves one level up, and a level above the
gales is a loss. A candle that has not closed by `now` ends the data: the
cycle is then unresolved.

The figures are given for every gale level 0..G (as the catalog does), per
day and in total, with the Wilson interval of the hit rate (wins / resolved
cycles), the break-even hit rate of the gale plan at the payout and the
expected net per cycle (glimpse.backtest.stats). Every signal is its own
cycle (the catalog's independent mode); the signal's own gale hint, if the
list names one, is not applied: the levels are the trader's choice.

Colours come from a `ColoursAt` callable, so the rules are tested on any
series; `paper_colours` reads the paper market.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

import numpy as np

from glimpse.backtest.catalog import MAX_GALES, report_entry
from glimpse.backtest.stats import break_even, expected_net, wilson
from glimpse.rules.money import MoneyPlan
from glimpse.rules.signals import ParsedSignal, ParseResult, parse_signals

MAX_DAYS = 30
MAX_SIGNALS = 500
LOSS = -1
UNRESOLVED = -2
# Candles read per cycle at first: the gale levels and a few dojis. Longer cycles read more.
_SLACK = 4

#: (pair, expiry minutes, start epochs) -> the colour (1, -1, 0) of each E-minute candle starting there.
ColoursAt = Callable[[str, int, np.ndarray], np.ndarray]


class SignalCatalogError(ValueError):
    """Input the signal catalog cannot use; the message names the argument."""


def paper_colours(market: Any) -> ColoursAt:
    """Colours of E-minute candles of the paper market (glimpse.market.paper_market.PaperMarket).

    A candle's colour is its close (the quote of its last tick) against its
    open (the quote of its first tick), the rule of `PaperMarket.colours`.
    """

    def colours_at(pair: str, expiry: int, starts: np.ndarray) -> np.ndarray:
        starts = np.asarray(starts, dtype=np.int64)
        if not starts.size:
            return np.zeros(0, dtype=np.int8)
        # half a second before the candle ends lies inside its last tick (ticks are 60/64 s)
        times = np.concatenate([starts, starts + 60 * expiry]).astype(np.float64)
        times[starts.size :] -= 0.5
        points = market.points(pair, times)
        return np.sign(points[starts.size :] - points[: starts.size]).astype(np.int8)

    return colours_at


def read_list(text: str, now: float, zone: tzinfo) -> ParseResult:
    """The signals of a pasted list, read at `now` in the market's zone (as the API's parseSignals reads them)."""
    local = datetime.fromtimestamp(now, zone)
    offset = local.utcoffset()
    return parse_signals(
        text,
        today=local.date(),
        now=local.replace(tzinfo=None),
        market_utc_offset=None if offset is None else int(offset.total_seconds() // 60),
    )


def period_days(today: date, days: int) -> list[date]:
    """The `days` complete days before `today`, oldest first."""
    return [today - timedelta(days=offset) for offset in range(days, 0, -1)]


def entry_epoch(day: date, hora: str, zone: tzinfo) -> int:
    hour, minute = (int(part) for part in hora.split(":"))
    return int(datetime.combine(day, time(hour, minute), tzinfo=zone).timestamp())


@dataclass(frozen=True)
class Outcomes:
    """Per cycle (signal × day) and gale level 0..G: the level won (0..g), LOSS or UNRESOLVED, and the dojis."""

    results: np.ndarray  # int64 (cycles, G + 1)
    dojis: np.ndarray  # int64 (cycles, G + 1)


def resolve(signed: np.ndarray, known: np.ndarray, gales: int) -> tuple[Outcomes, np.ndarray]:
    """The outcomes of cycles from their candles (rows, oldest first).

    `signed`: the candle colours times the direction (1 wins, -1 moves a level
    up, 0 doji); `known`: whether each candle has closed (a closed candle never
    follows an open one). Returns the outcomes and, per row, whether it needs
    more candles than given (all known, neither won nor lost at level G).
    """
    rows, width = signed.shape
    moves = (signed != 0) & known
    rank = np.cumsum(moves, axis=1)  # non-doji candles up to and including each one
    available = rank[:, -1] if width else np.zeros(rows, dtype=np.int64)
    winning = moves & (signed > 0)
    has_win = winning.any(axis=1)
    first_win = np.where(has_win, winning.argmax(axis=1), width)
    # the level of the first winning candle: the non-doji candles before it
    level = np.where(has_win, rank[np.arange(rows), np.minimum(first_win, width - 1)] - 1, width)
    ended = ~known.all(axis=1) if width else np.ones(rows, dtype=bool)
    doji = (signed == 0) & known
    doji_before = np.cumsum(doji, axis=1) - doji  # dojis strictly before each candle
    doji_total = doji.sum(axis=1)
    results = np.empty((rows, gales + 1), dtype=np.int64)
    dojis = np.empty((rows, gales + 1), dtype=np.int64)
    for g in range(gales + 1):
        win = level <= g
        # the (g+1)-th non-doji candle ends a lost cycle
        lost = ~win & (available >= g + 1)
        loss_at = np.argmax(rank >= g + 1, axis=1) if width else np.zeros(rows, dtype=np.int64)
        end = np.where(win, first_win, np.where(lost, loss_at, width))
        results[:, g] = np.where(win, level, np.where(lost, LOSS, UNRESOLVED))
        at = np.minimum(end, width - 1) if width else end
        dojis[:, g] = np.where(end < width, doji_before[np.arange(rows), at], doji_total) if width else 0
    more = (results[:, gales] == UNRESOLVED) & ~ended
    return Outcomes(results, dojis), more


def cycle_outcomes(
    pairs: Sequence[str],
    expiries: Sequence[int],
    starts: np.ndarray,
    directions: np.ndarray,
    gales: int,
    colours_at: ColoursAt,
    now: float,
) -> Outcomes:
    """The outcome of every cycle: pair, expiry, entry epoch and direction (1 call, -1 put) per cycle."""
    count = len(pairs)
    results = np.empty((count, gales + 1), dtype=np.int64)
    dojis = np.empty((count, gales + 1), dtype=np.int64)
    groups: dict[tuple[str, int], list[int]] = {}
    for index, key in enumerate(zip(pairs, expiries, strict=True)):
        groups.setdefault(key, []).append(index)
    for (pair, expiry), members in groups.items():
        pending = np.array(members, dtype=np.int64)
        width = gales + 1 + _SLACK
        while pending.size:
            step = 60 * expiry
            candle_starts = starts[pending, None] + step * np.arange(width, dtype=np.int64)
            known = candle_starts + step <= now
            colours = np.zeros(candle_starts.shape, dtype=np.int8)
            if known.any():
                colours[known] = colours_at(pair, expiry, candle_starts[known])
            signed = colours.astype(np.int64) * directions[pending, None]
            outcomes, more = resolve(signed, known, gales)
            done = pending[~more]
            results[done] = outcomes.results[~more]
            dojis[done] = outcomes.dojis[~more]
            pending = pending[more]
            width *= 2  # a long run of dojis: read further
    return Outcomes(results, dojis)


def level_entry(results: np.ndarray, dojis: np.ndarray, g: int, plan: MoneyPlan) -> dict[str, Any]:
    """The figures of some cycles at gale level g: the backtester's shape, the hit rate and its statistics."""
    column = results[:, g]
    win_at = [int(np.count_nonzero(column == level)) for level in range(g + 1)]
    loss = int(np.count_nonzero(column == LOSS))
    unresolved = int(np.count_nonzero(column == UNRESOLVED))
    entry = report_entry(column.size, win_at, loss, unresolved, int(dojis[:, g].sum()))
    wins = sum(win_at)
    cycles = wins + loss
    low, high = wilson(np.array([wins]), np.array([cycles]))
    net = expected_net(np.array([win_at]), np.array([loss]), plan, g)[0]
    entry.update(
        {
            "gales": g,
            "cycles": cycles,
            "wins": wins,
            "hit_rate": wins / cycles if cycles else None,
            "wilson": [float(low[0]), float(high[0])] if cycles else None,
            "break_even": break_even(plan, g),
            "expected_net": None if np.isnan(net) else round(float(net), 4),
        }
    )
    return entry


def signal_catalog(
    signals: Sequence[ParsedSignal],
    days: int,
    gales: int,
    plan: MoneyPlan,
    colours_at: ColoursAt,
    now: float,
    zone: tzinfo,
) -> dict[str, Any]:
    """How `signals` would have done on each of the `days` complete days before `now`'s day, as JSON.

    {days: [{date, levels}], total: {levels}, signals: [{..., outcomes}], ...}:
    `levels[g]` holds the figures at gale level g; a signal's `outcomes` give
    per day its result at the highest level (the level won, "loss" or
    "unresolved").
    """
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise SignalCatalogError(f"days must be a whole number from 1 to {MAX_DAYS}, got {days!r}")
    if isinstance(gales, bool) or not isinstance(gales, int) or not 0 <= gales <= MAX_GALES:
        raise SignalCatalogError(f"gales must be a whole number from 0 to {MAX_GALES}, got {gales!r}")
    if not signals:
        raise SignalCatalogError("text holds no signal")
    if len(signals) > MAX_SIGNALS:
        raise SignalCatalogError(f"text holds {len(signals)} signals; at most {MAX_SIGNALS} are catalogued")
    today = datetime.fromtimestamp(now, zone).date()
    dates = period_days(today, days)
    pairs, expiries, starts, directions, day_of = [], [], [], [], []
    for signal in signals:
        for d, day in enumerate(dates):
            pairs.append(signal.ativo)
            expiries.append(signal.expiry or 1)
            starts.append(entry_epoch(day, signal.hora, zone))
            directions.append(1 if signal.operacao == "call" else -1)
            day_of.append(d)
    outcomes = cycle_outcomes(
        pairs,
        expiries,
        np.array(starts, dtype=np.int64),
        np.array(directions, dtype=np.int64),
        gales,
        colours_at,
        now,
    )
    day_index = np.array(day_of, dtype=np.int64)
    levels = range(gales + 1)
    per_day = []
    for d, day in enumerate(dates):
        rows = day_index == d
        per_day.append(
            {
                "date": day.isoformat(),
                "levels": [
                    level_entry(outcomes.results[rows], outcomes.dojis[rows], g, plan) for g in levels
                ],
            }
        )
    total = {"levels": [level_entry(outcomes.results, outcomes.dojis, g, plan) for g in levels]}
    by_signal = outcomes.results[:, gales].reshape(len(signals), days)
    names = {LOSS: "loss", UNRESOLVED: "unresolved"}
    return {
        "mode": "independent",
        "from": dates[0].isoformat(),
        "to": dates[-1].isoformat(),
        "gales": gales,
        "payout": float(plan.payout_percent),
        "stake": float(plan.stake),
        "gale_type": plan.gale_type,
        "sobra": float(plan.sobra),
        "break_even": [break_even(plan, g) for g in levels],
        "days": per_day,
        "total": total,
        "signals": [
            {
                "line": signal.line,
                "ativo": signal.ativo,
                "hora": signal.hora,
                "operacao": signal.operacao,
                "expiry": signal.expiry or 1,
                "outcomes": [names.get(int(r), int(r)) for r in by_signal[i]],
            }
            for i, signal in enumerate(signals)
        ],
    }
