"""The strategy test in money: what a strategy nets at each pair's payout with the trader's stake
and gale type, beside its hit rates.

The bot trades one cycle at a time per pair, so money is counted on the sequential run
(glimpse.backtest.engine, `sequential=True`): a cycle that starts while another is open on the
same pair is skipped, as the bot would. Each pair nets at its own payout, so each pair gets its own
money plan; the total lays the pairs' cycles side by side in the order they ended. Amounts are
integer cents until the JSON edge.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from glimpse.backtest.engine import LOSS, MoneyFigures, PairResult, combine, run_pairs
from glimpse.backtest.stats import break_even, cycle_net_cents
from glimpse.rules.money import MoneyPlan
from glimpse.rules.patterns import Strategy

EQUITY_POINTS = 240  # the curve the app draws: enough for a phone's width


def _thin(curve: np.ndarray, points: int = EQUITY_POINTS) -> list[float]:
    """At most `points` samples of an equity curve in reais, always keeping its last value."""
    if curve.size <= points:
        return (curve / 100).tolist()
    picks = np.unique(np.linspace(0, curve.size - 1, points).round().astype(np.int64))
    return (curve[picks] / 100).tolist()


def _per_cycle_cents(levels: np.ndarray, plan: MoneyPlan, gales: int) -> np.ndarray:
    wins, lost = cycle_net_cents(plan, gales)
    return np.where(levels == LOSS, -lost, wins[np.clip(levels, 0, gales)])


def _money_figures(per_cycle: np.ndarray, losses: np.ndarray) -> dict[str, Any]:
    figures = MoneyFigures(np.cumsum(per_cycle), losses).as_dict(include_equity=False)
    figures["equity"] = _thin(np.concatenate(([0], np.cumsum(per_cycle))))
    return figures


def money_report(
    series_by_pair: Mapping[str, Any],
    strategy: Strategy,
    gales: int,
    stake: float,
    gale_type: str,
    sobra: float,
    payouts: Mapping[str, int],
) -> dict[str, Any]:
    """`{total, pairs}` like backtest_report, each with payout, net_profit, max_drawdown,
    longest_losing_streak, equity (thinned), hit_rate and break_even (the cycle hit rate that nets 0)."""
    results: dict[str, PairResult] = run_pairs(series_by_pair, strategy, gales, True)
    report = combine(results, gales)
    all_cents: list[np.ndarray] = []
    all_at: list[np.ndarray] = []
    all_losses: list[np.ndarray] = []
    weighted_payout = 0.0
    resolved_total = 0
    for name, result in results.items():
        assert result.levels is not None and result.resolved_at is not None  # the sequential run
        plan = MoneyPlan.of(stake, gale_type, payouts[name], sobra)
        per_cycle = _per_cycle_cents(result.levels, plan, gales)
        entry = report["pairs"][name]
        entry.update(_money_figures(per_cycle, result.levels == LOSS))
        entry["payout"] = payouts[name]
        entry["hit_rate"] = entry["win_rate_cumulative"][-1] if entry["win_rate_cumulative"] else None
        entry["break_even"] = break_even(plan, gales)
        all_cents.append(per_cycle)
        all_at.append(result.resolved_at)
        all_losses.append(result.levels == LOSS)
        weighted_payout += payouts[name] * result.levels.size
        resolved_total += result.levels.size
    total = report["total"]
    if all_cents:
        order = np.argsort(np.concatenate(all_at), kind="stable")
        total.update(_money_figures(np.concatenate(all_cents)[order], np.concatenate(all_losses)[order]))
    else:
        total.update(_money_figures(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)))
    # The pairs pay differently: the total's break-even is the one at their payout weighted by cycles.
    mean_payout = (
        round(weighted_payout / resolved_total) if resolved_total else round(np.mean(list(payouts.values())))
    )
    total["payout"] = mean_payout
    total["hit_rate"] = total["win_rate_cumulative"][-1] if total["win_rate_cumulative"] else None
    total["break_even"] = break_even(MoneyPlan.of(stake, gale_type, mean_payout, sobra), gales)
    return report
