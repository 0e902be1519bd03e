"""`glimpse backtest`: how a strategy and its gales would have done on past candles.

    glimpse backtest --sequence "-1,-1,-1" --operation call [--mirror] --gales 2
                     (--colours FILE | --csv FILE | --test-candles | --pairs A,B [--days N])
                     [--sequential [--stake 2 --gale-type sobra --payout 87 --sobra 1]]
                     [--json] [--plot out.png] [--jobs N]

`--strategy NAME` (repeatable) reads strategies from the database instead of
--sequence. A stored quadrant strategy (MHI and its relatives) is backtested by
the catalog's engine (glimpse.backtest.catalog.quadrant_report), in the
independent mode with up to 3 gales; its entries are placed by the minute of
each candle (the paper market's own time, or --first-minute for file data).
`--json` prints `{"total": {...}, "pairs": {...}}`, or with
several --strategy, an object holding one such report per strategy name. Progress bars go to
stderr, and only on a terminal.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np

from glimpse.backtest import sources
from glimpse.backtest.catalog import MAX_GALES as QUADRANT_MAX_GALES
from glimpse.backtest.catalog import CatalogError, quadrant_report
from glimpse.backtest.engine import BacktestError, Batch, run_batch
from glimpse.cli import CLIError
from glimpse.rules.money import GALE_TYPES, MAX_GALES, MoneyPlan
from glimpse.rules.patterns import PatternError, Strategy, format_sequence
from glimpse.rules.quadrants import QuadrantError, QuadrantRule
from glimpse.runtime.clock import SystemClock
from glimpse.runtime.config import load_config

# Show progress bars only when a run is this long (candles x strategies).
PROGRESS_FROM = 5_000_000
MAX_DAYS = 3660

# A stored strategy is a colour sequence or a quadrant rule (glimpse/store/strategies.py).
Rule = Strategy | QuadrantRule


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "backtest",
        help="backtest a strategy with gales on past candle colours",
        description="Backtest a candle-colour strategy and its gales. Counts signals, wins per gale level, "
        "losses, unresolved cycles and dojis per pair and in total.",
    )
    strategy = parser.add_argument_group("strategy (--sequence, or --strategy)")
    strategy.add_argument(
        "--sequence", help='colours oldest first, e.g. "-1,-1,-1" (1 green, -1 red, 0 doji)'
    )
    strategy.add_argument("--operation", choices=("call", "put"), help="direction after the sequence")
    strategy.add_argument(
        "--mirror", action="store_true", help="also trade the inverted sequence the other way"
    )
    strategy.add_argument(
        "--strategy",
        action="append",
        metavar="NAME",
        help="a strategy from the database, sequence or quadrant (MHI...) (repeatable)",
    )
    strategy.add_argument(
        "--gales", type=int, default=0, help=f"gales after the entry, 0..{MAX_GALES} (default 0)"
    )

    data = parser.add_argument_group("data (one of)")
    data.add_argument(
        "--colours", metavar="FILE", help="a +-0 string per line: one pair per line, or a single line"
    )
    data.add_argument("--csv", metavar="FILE", help="a CSV of open,close (and optionally pair) per candle")
    data.add_argument(
        "--test-candles", action="store_true", help="the TestCandles collection of the database"
    )
    data.add_argument(
        "--pairs", help="paper market pairs, e.g. EURUSD,GBPUSD, up to the last complete minute"
    )
    data.add_argument("--days", type=int, help="days of paper market candles (default 30)")
    data.add_argument("--seed", type=int, help="paper market seed (default GLIMPSE_PAPER_SEED)")
    data.add_argument(
        "--first-minute",
        type=int,
        metavar="M",
        help="the minute of the first candle of --colours/--csv/--test-candles data (its minute of the "
        "hour will do): places a quadrant strategy's entries (default 0: the first candle opens a quadrant)",
    )

    mode = parser.add_argument_group("mode and money")
    mode.add_argument(
        "--sequential", action="store_true", help="one bot: a new signal only after the previous cycle"
    )
    mode.add_argument("--stake", help="first entry; adds equity, net profit, drawdown (needs --sequential)")
    mode.add_argument(
        "--gale-type", choices=GALE_TYPES, default="sobra", help="how gales grow (default sobra)"
    )
    mode.add_argument("--payout", help="payout percent, e.g. 87 (needed with --stake)")
    mode.add_argument("--sobra", default="0", help="the sobra gale's extra (default 0)")

    output = parser.add_argument_group("output")
    output.add_argument("--json", action="store_true", help="print the report as JSON")
    output.add_argument("--plot", metavar="PNG", help="draw the equity curve and win rates per gale level")
    output.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: cores)"
    )
    # argparse takes a value starting with "-" for an option unless it looks like a
    # negative number; let it also take a colour sequence such as -1,-1,-1 as a value.
    parser._negative_number_matcher = re.compile(r"^-\d+$|^-\d*\.\d+$|^-?\d+(\s*,\s*-?\d+)*$")
    parser.set_defaults(func=run)


# --- arguments ----------------------------------------------------------------


def _strategies(args: argparse.Namespace) -> dict[str, Rule]:
    if bool(args.sequence) == bool(args.strategy):
        raise CLIError("give either --sequence (with --operation) or --strategy NAME")
    if args.sequence is not None:
        if args.operation is None:
            raise CLIError("--operation: required with --sequence (call or put)")
        try:
            strategy = Strategy.parse(args.sequence, args.operation, args.mirror)
        except PatternError as exc:
            raise CLIError(f"--sequence: {exc}") from None
        return {format_sequence(strategy.sequence): strategy}
    if args.operation is not None or args.mirror:
        raise CLIError("--operation and --mirror go with --sequence; --strategy brings its own")
    from glimpse.store import strategies as stored

    database = _database()
    found: dict[str, Rule] = {}
    for name in args.strategy:
        doc = stored.find_by_name(database, name)
        if doc is None:
            raise CLIError(f"--strategy: no strategy named {name!r}")
        # as the operational server reads it (operational_server/modes.py): a quadrant rule or a sequence
        try:
            quadrant = doc.quadrant_rule()
            found[doc.name or name] = quadrant if quadrant is not None else Strategy.from_document(doc.rule())
        except (PatternError, QuadrantError) as exc:
            raise CLIError(f"--strategy {name!r}: {exc}") from None
    return found


def _database() -> Any:
    from glimpse.store.db import open_database

    return open_database(load_config())


def _money(args: argparse.Namespace) -> MoneyPlan | None:
    if args.stake is None:
        if args.payout is not None:
            raise CLIError("--payout goes with --stake")
        return None
    if not args.sequential:
        raise CLIError("--stake: money figures model one bot, so they need --sequential")
    if args.payout is None:
        raise CLIError("--payout: required with --stake (e.g. 87)")
    try:
        return MoneyPlan.of(args.stake, args.gale_type, args.payout, args.sobra)
    except ValueError as exc:
        raise CLIError(f"--stake/--payout/--sobra: {exc}") from None


def _series(args: argparse.Namespace) -> tuple[dict[str, np.ndarray], int]:
    """The pairs' colours and the minute (since the epoch) of their first candle."""
    chosen = [name for name in ("colours", "csv", "pairs") if getattr(args, name)] + (
        ["test_candles"] if args.test_candles else []
    )
    if len(chosen) != 1:
        raise CLIError("give one data source: --colours FILE, --csv FILE, --test-candles or --pairs A,B")
    if args.days is not None and not args.pairs:
        raise CLIError("--days goes with --pairs")
    first_minute = 0 if args.first_minute is None else args.first_minute
    if args.first_minute is not None:
        if args.pairs:
            raise CLIError(
                "--first-minute: paper market candles carry their own time; it goes with file data"
            )
        if first_minute < 0:
            raise CLIError(f"--first-minute: must be 0 or more, got {first_minute}")
    try:
        if args.colours:
            return sources.read_colours_file(args.colours), first_minute
        if args.csv:
            return sources.series_from_csv(args.csv), first_minute
        if args.test_candles:
            series = sources.series_from_test_candles(_database()["TestCandles"].find({}, {"_id": 0}))
            if not series:
                raise CLIError("--test-candles: the TestCandles collection is empty (run glimpse seed)")
            return series, first_minute
        return _paper_series(args)
    except sources.ColourSourceError as exc:
        raise CLIError(f"--{chosen[0].replace('_', '-')}: {exc}") from None


def _paper_series(args: argparse.Namespace) -> tuple[dict[str, np.ndarray], int]:
    from glimpse.market.paper_market import PaperMarket

    days = 30 if args.days is None else args.days
    if not 1 <= days <= MAX_DAYS:
        raise CLIError(f"--days: must be from 1 to {MAX_DAYS}, got {days}")
    pairs = sources.parse_pairs(args.pairs)
    config = load_config()
    seed = config.paper_seed if args.seed is None else args.seed
    try:
        market = PaperMarket(seed, config.paper_payout_min, config.paper_payout_max)
    except ValueError as exc:
        raise CLIError(f"--seed: {exc}") from None
    start, minutes = sources.last_complete_minutes(SystemClock().now(), days)
    progress = _progress(len(pairs), "paper market", len(pairs) * minutes >= PROGRESS_FROM, "pair")
    series = {}
    for pair in pairs:
        series[pair] = market.colours(pair, start, minutes)
        progress(1)
    progress(0, close=True)
    return series, start // 60


def _progress(total: int, label: str, wanted: bool, unit: str = "job"):
    """A tqdm bar on stderr (terminals only), as a callback `advance(n, close=False)`."""
    bar = None
    if wanted and total > 1:
        from tqdm import tqdm

        bar = tqdm(total=total, desc=label, unit=unit, file=sys.stderr, disable=None, leave=False)

    def advance(count: int, close: bool = False) -> None:
        if bar is not None:
            bar.update(count)
            if close:
                bar.close()

    return advance


# --- the run ------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    if isinstance(args.gales, bool) or not 0 <= args.gales <= MAX_GALES:
        raise CLIError(f"--gales: must be from 0 to {MAX_GALES}, got {args.gales}")
    if args.jobs < 1:
        raise CLIError(f"--jobs: must be at least 1, got {args.jobs}")
    strategies = _strategies(args)
    money = _money(args)
    _check_quadrant_options(strategies, args)
    series, first_minute = _series(args)

    sequences = {name: rule for name, rule in strategies.items() if isinstance(rule, Strategy)}
    found: dict[str, dict] = {}
    if sequences:
        found.update(_sequence_reports(sequences, series, money, args))
    for name, rule in strategies.items():
        if isinstance(rule, QuadrantRule):
            try:
                found[name] = quadrant_report(series, rule, args.gales, first_minute)
            except CatalogError as exc:
                raise CLIError(f"--strategy {name!r}: {exc}") from None
    reports = {name: found[name] for name in strategies}  # in the order the strategies were given

    if args.plot:
        _plot_all(reports, Path(args.plot))
    if args.json:
        # one strategy: exactly its report; several: one report per strategy name
        output = next(iter(reports.values())) if len(reports) == 1 else reports
        json.dump(output, sys.stdout)
        sys.stdout.write("\n")
    else:
        for name, report in reports.items():
            sys.stdout.write(render(name, report, args))
    return 0


def _check_quadrant_options(strategies: dict[str, Rule], args: argparse.Namespace) -> None:
    """The catalog's engine counts every signal as its own cycle, with up to 3 gales: refuse the rest."""
    quadrants = [name for name, rule in strategies.items() if isinstance(rule, QuadrantRule)]
    if not quadrants:
        return
    if args.sequential:
        raise CLIError(
            f"--sequential: {quadrants[0]!r} is a quadrant strategy, backtested in the independent mode only"
        )
    if args.gales > QUADRANT_MAX_GALES:
        raise CLIError(
            f"--gales: {quadrants[0]!r} is a quadrant strategy, backtested with 0 to {QUADRANT_MAX_GALES} "
            f"gales, got {args.gales}"
        )


def _sequence_reports(
    sequences: dict[str, Strategy],
    series: dict[str, np.ndarray],
    money: MoneyPlan | None,
    args: argparse.Namespace,
) -> dict[str, dict]:
    candles = sum(len(s) for s in series.values()) * len(sequences)
    # about four jobs per worker, so that a slow job does not leave the others idle
    pairs_per_job = max(1, math.ceil(len(series) * len(sequences) / (args.jobs * 4)))
    try:
        batch = Batch(sequences, series, args.gales, args.sequential, pairs_per_job=pairs_per_job)
        progress = _progress(len(batch.jobs), "backtest", candles >= PROGRESS_FROM)
        reports = run_batch(batch, money, processes=args.jobs, on_progress=progress)
        progress(0, close=True)
    except BacktestError as exc:
        raise CLIError(str(exc)) from None
    return reports


def _plot_all(reports: dict[str, dict], path: Path) -> None:
    for index, (name, report) in enumerate(reports.items()):
        target = (
            path if len(reports) == 1 else path.with_name(f"{path.stem}-{index + 1}{path.suffix or '.png'}")
        )
        try:
            plot_report(report, name, target)
        except OSError as exc:
            raise CLIError(f"--plot: cannot write {target}: {exc}") from None


def plot_report(report: dict[str, Any], name: str, path: Path) -> None:
    """Draw the equity curves (when there are money figures) and the win rate per gale level per pair."""
    from matplotlib.figure import Figure  # no pyplot: no global state, no display needed

    figure = Figure(figsize=(12, 8.5), layout="constrained")
    equity_axes, rates_axes = figure.subplots(2, 1)
    total = report["total"]
    if "equity" in total:
        for pair, entry in report["pairs"].items():
            equity_axes.plot(entry["equity"], linewidth=0.8, label=pair)
        equity_axes.plot(total["equity"], color="black", linewidth=1.6, label="total")
        equity_axes.set_xlabel("cycle")
        equity_axes.set_ylabel("equity")
        equity_axes.set_title(
            f"{name}: equity (net {total['net_profit']:.2f}, max drawdown {total['max_drawdown']:.2f})"
        )
        if len(report["pairs"]) <= 12:
            equity_axes.legend(fontsize="small", ncols=2)
    else:
        equity_axes.axis("off")
        equity_axes.text(
            0.5, 0.5, "no equity curve: run with --sequential --stake S --payout P", ha="center", va="center"
        )

    names = [*report["pairs"], "TOTAL"]
    entries = [*report["pairs"].values(), total]
    levels = len(total["win_at"])
    positions = np.arange(len(names))
    width = 0.8 / levels
    for level in range(levels):
        heights = [100 * (entry["win_rate_at"][level] or 0) for entry in entries]
        label = "win at entry" if level == 0 else f"win at gale {level}"
        rates_axes.bar(positions + level * width, heights, width, label=label)
    rates_axes.set_xticks(positions + width * (levels - 1) / 2, names, rotation=60, fontsize="small")
    rates_axes.set_ylabel("% of resolved cycles")
    rates_axes.set_title(f"{name}: win rate per gale level ({total['signals']} signals)")
    rates_axes.legend(fontsize="small")
    figure.savefig(path, dpi=100)


# --- text output ---------------------------------------------------------------


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.1f}%"


def render(name: str, report: dict[str, Any], args: argparse.Namespace) -> str:
    """A plain-text table of one strategy's report."""
    mode = "sequential" if args.sequential else "independent"
    levels = len(report["total"]["win_at"])
    header = ["pair", "signals", *[f"win@{j}" for j in range(levels)], "loss", "unres.", "dojis", "win rate"]
    money = "net_profit" in report["total"]
    if money:
        header += ["net", "max dd", "lose run"]
    rows = [header]
    for pair, entry in [*report["pairs"].items(), ("TOTAL", report["total"])]:
        row = [
            pair,
            str(entry["signals"]),
            *map(str, entry["win_at"]),
            str(entry["loss"]),
            str(entry["unresolved"]),
        ]
        row += [str(entry["dojis"]), _percent(entry["win_rate_cumulative"][-1])]
        if money:
            row += [
                f"{entry['net_profit']:.2f}",
                f"{entry['max_drawdown']:.2f}",
                str(entry["longest_losing_streak"]),
            ]
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    gales = levels - 1
    lines = [f"strategy {name} ({mode}, {gales} gale{'' if gales == 1 else 's'})"]
    for row in rows:
        lines.append(
            "  ".join(
                cell.rjust(width) if i else cell.ljust(width)
                for i, (cell, width) in enumerate(zip(row, widths, strict=True))
            )
        )
    return "\n".join(lines) + "\n\n"
