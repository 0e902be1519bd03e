"""`glimpse catalog`: every strategy on every pair, ranked, with statistics that do not lie.

    glimpse catalog --pairs EURUSD,GBPUSD --days 30 --max-length 9 --gales 2 --payout 87
                    [--split 0.67] [--folds 4] [--stake 2 --gale-type sobra --sobra 0]
                    [--quadrants mhi,mhi-maioria | all | none] [--min-signals 20] [--top 20]
                    [--json | --csv] [--plot out.png]

Candles come from the paper market, up to the last complete minute. Every
colour sequence of length 1..L (both directions, with and without mirror)
and the quadrant presets are counted for gales 0..G on the first `split` of
the period, ranked, and shown beside their results on the held-out rest.
A row is flagged only when it beats break-even after the Benjamini–Hochberg
correction for every row tested, and again out of sample. A progress bar
goes to stderr, on terminals only.

    glimpse catalog --signals FILE --days N --gales G --payout P [--stake 2 --gale-type sobra] [--json]

With `--signals`, a pasted signal list (as the app's parser reads it) is
replayed on each of the last N complete days of the paper market instead:
per gale level, per day and in total (glimpse.backtest.signal_catalog).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from glimpse.backtest import sources
from glimpse.backtest.catalog import MAX_GALES, MAX_LENGTH, CatalogError, ReportSettings, catalog_report
from glimpse.cli import CLIError
from glimpse.rules.money import GALE_TYPES
from glimpse.rules.quadrants import PRESETS, QuadrantError, QuadrantRule, preset
from glimpse.runtime.clock import SystemClock
from glimpse.runtime.config import load_config

MAX_DAYS = 366
STAGES = ("in-sample scan", "out-of-sample scan", "statistics", "report", "walk-forward")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "catalog",
        help="rank every colour sequence and quadrant preset on paper-market pairs, honestly",
        description="Catalog every colour sequence of length 1..L (call and put, with and without mirror) "
        "and the quadrant presets for gales 0..G; rank them on the earlier part of the period and show "
        "their held-out results, the Wilson interval, break-even, expected net and a multiple-testing flag.",
    )
    parser.add_argument("--pairs", help="paper market pairs, e.g. EURUSD,GBPUSD (not with --signals)")
    parser.add_argument(
        "--signals",
        metavar="FILE",
        help="catalog a pasted signal list instead: each signal on each of the last --days complete days",
    )
    parser.add_argument("--days", type=int, default=30, help=f"days of candles, 1..{MAX_DAYS} (default 30)")
    parser.add_argument("--seed", type=int, help="paper market seed (default GLIMPSE_PAPER_SEED)")
    parser.add_argument(
        "--max-length", type=int, default=MAX_LENGTH, help=f"longest sequence, 1..{MAX_LENGTH} (default 9)"
    )
    parser.add_argument("--gales", type=int, default=2, help=f"gales 0..{MAX_GALES} (default 2)")
    parser.add_argument("--payout", required=True, help="payout percent, e.g. 87")
    parser.add_argument("--stake", default="2", help="first entry, for the expected net (default 2)")
    parser.add_argument(
        "--gale-type", choices=GALE_TYPES, default="sobra", help="how gales grow (default sobra)"
    )
    parser.add_argument("--sobra", default="0", help="the sobra gale's extra (default 0)")
    parser.add_argument(
        "--split", type=float, default=0.67, help="share of the period to rank on (default 0.67)"
    )
    parser.add_argument("--folds", type=int, default=0, help="walk-forward folds (default 0: none)")
    parser.add_argument("--fdr", type=float, default=0.05, help="false discovery rate (default 0.05)")
    parser.add_argument(
        "--min-signals", type=int, default=20, help="fewest in-sample cycles to rank a row (default 20)"
    )
    parser.add_argument("--top", type=int, default=20, help="rows to show (default 20)")
    parser.add_argument(
        "--quadrants",
        default="all",
        help=f"quadrant presets to add: all, none, or a list of {', '.join(PRESETS)} (default all)",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the report as JSON")
    output.add_argument("--csv", action="store_true", help="print the ranked rows as CSV")
    parser.add_argument(
        "--plot", metavar="PNG", help="draw hit rates in and out of sample, and a per-pair heat map"
    )
    parser.set_defaults(func=run)


def _quadrants(text: str) -> tuple[QuadrantRule, ...]:
    wanted = text.strip().lower()
    if wanted == "all":
        return tuple(PRESETS.values())
    if wanted in ("", "none"):
        return ()
    try:
        return tuple(preset(name) for name in text.split(",") if name.strip())
    except QuadrantError as exc:
        raise CLIError(f"--quadrants: {exc}") from None


def _progress(total: int):
    """A tqdm bar on stderr (terminals only), as a callback `advance(stage)`, and a closer."""
    from tqdm import tqdm

    bar = tqdm(total=total, desc="catalog", unit="step", file=sys.stderr, disable=None, leave=False)

    def advance(stage: str) -> None:
        bar.set_postfix_str(stage)
        bar.update(1)

    return advance, bar.close


def _paper_market(config, seed: int | None):
    """The paper market of the bundle (`--seed` may pick another one)."""
    from glimpse.market.paper_market import PaperMarket

    try:
        return PaperMarket(
            config.paper_seed if seed is None else seed, config.paper_payout_min, config.paper_payout_max
        )
    except ValueError as exc:
        raise CLIError(f"--seed: {exc}") from None


def _series(args: argparse.Namespace, advance) -> tuple[dict[str, np.ndarray], int]:
    if not 1 <= args.days <= MAX_DAYS:
        raise CLIError(f"--days: must be from 1 to {MAX_DAYS}, got {args.days}")
    try:
        pairs = sources.parse_pairs(args.pairs)
    except sources.ColourSourceError as exc:
        raise CLIError(f"--pairs: {exc}") from None
    config = load_config()
    market = _paper_market(config, args.seed)
    start, minutes = sources.last_complete_minutes(SystemClock().now(), args.days)
    series = {}
    for pair in pairs:
        series[pair] = market.colours(pair, start, minutes)
        advance(f"candles {pair}")
    return series, start // 60


def run(args: argparse.Namespace) -> int:
    try:
        float(args.payout)
    except ValueError:
        raise CLIError(f"--payout: must be a number, got {args.payout!r}") from None
    if args.signals:
        if args.pairs:
            raise CLIError("--pairs: the pairs of a signal list are its own; give --signals or --pairs")
        return run_signals(args)
    if not args.pairs:
        raise CLIError("--pairs: required (or --signals FILE)")
    settings = ReportSettings(
        max_length=args.max_length,
        gales=args.gales,
        payout=args.payout,
        stake=args.stake,
        gale_type=args.gale_type,
        sobra=args.sobra,
        split=args.split,
        fdr=args.fdr,
        min_signals=args.min_signals,
        top=args.top,
        folds=args.folds,
        quadrants=_quadrants(args.quadrants),
    )
    try:
        settings.check()
    except CatalogError as exc:
        raise CLIError(str(exc).replace("_", "-", 1)) from None
    pair_count = len([p for p in args.pairs.split(",") if p.strip()])
    advance, close = _progress(pair_count + 4 + (1 if args.folds else 0))
    try:
        series, first_minute = _series(args, advance)
        report = catalog_report(series, settings, first_minutes=first_minute, on_progress=advance)
    except CatalogError as exc:
        raise CLIError(str(exc)) from None
    finally:
        close()
    if args.plot:
        try:
            plot_report(report, Path(args.plot))
        except OSError as exc:
            raise CLIError(f"--plot: cannot write {args.plot}: {exc}") from None
    if args.json:
        json.dump(report, sys.stdout)
        sys.stdout.write("\n")
    elif args.csv:
        write_csv(report, sys.stdout)
    else:
        sys.stdout.write(render(report))
    return 0


def run_signals(args: argparse.Namespace) -> int:
    """`--signals FILE`: the list replayed on the last --days complete days of the paper market."""
    from glimpse.backtest.signal_catalog import (
        SignalCatalogError,
        paper_colours,
        read_list,
        signal_catalog,
    )
    from glimpse.rules.money import MoneyPlan

    try:
        text = Path(args.signals).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CLIError(f"--signals: cannot read {args.signals}: {exc}") from None
    try:
        plan = MoneyPlan.of(args.stake, args.gale_type, args.payout, args.sobra)
    except ValueError as exc:
        raise CLIError(f"--payout/--stake: {exc}") from None
    config = load_config()
    market = _paper_market(config, args.seed)
    now = SystemClock().now()
    parsed = read_list(text, now, config.zone)
    try:
        report = signal_catalog(
            parsed.signals, args.days, args.gales, plan, paper_colours(market), now, config.zone
        )
    except SignalCatalogError as exc:
        message = str(exc)
        flag = (
            "--days"
            if message.startswith("days")
            else "--gales"
            if message.startswith("gales")
            else "--signals"
        )
        raise CLIError(f"{flag}: {message}") from None
    report["rejected"] = [r.to_json() for r in parsed.rejected]
    if args.json:
        json.dump(report, sys.stdout)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_signals(report))
    return 0


def render_signals(report: dict[str, Any]) -> str:
    """Per day and in total: cycles, wins per level, losses, hit rate with its interval, break-even."""
    gales = report["gales"]
    lines = [
        f"{len(report['signals'])} signals on {len(report['days'])} days ({report['from']} to {report['to']}), "
        f"payout {report['payout']:g}%, stake {report['stake']:.2f} {report['gale_type']}; "
        f"{len(report['rejected'])} lines not read",
    ]
    header = ["day", "gales", "signals", "wins per level", "loss", "dojis", "open", "hit", "95% interval"]
    header += ["break-even", "net/cycle"]
    rows = [header]
    for label, levels in [(d["date"], d["levels"]) for d in report["days"]] + [
        ("total", report["total"]["levels"])
    ]:
        for entry in levels:
            interval = entry["wilson"]
            rows.append(
                [
                    label,
                    str(entry["gales"]),
                    str(entry["signals"]),
                    "/".join(str(w) for w in entry["win_at"]),
                    str(entry["loss"]),
                    str(entry["dojis"]),
                    str(entry["unresolved"]),
                    _percent(entry["hit_rate"]),
                    "-" if not interval else f"{interval[0] * 100:.1f}-{interval[1] * 100:.1f}%",
                    _percent(entry["break_even"]),
                    "-" if entry["expected_net"] is None else f"{entry['expected_net']:.2f}",
                ]
            )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for r in rows:
        lines.append("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)))
    lines.append(f"levels 0..{gales}; open: cycles the data ended before they resolved")
    return "\n".join(lines) + "\n"


# --- output ----------------------------------------------------------------------

CSV_COLUMNS = (
    "rank",
    "strategy",
    "kind",
    "sequence",
    "operation",
    "mirror",
    "gales",
    "break_even",
    "in_cycles",
    "in_hit_rate",
    "in_wilson_low",
    "in_wilson_high",
    "in_p_value",
    "in_q_value",
    "in_expected_net",
    "out_cycles",
    "out_hit_rate",
    "out_wilson_low",
    "out_wilson_high",
    "out_expected_net",
    "flagged",
)


def _csv_row(row: dict[str, Any]) -> list[Any]:
    strategy = row["strategy"]
    inside, outside = row["in_sample"], row["out_of_sample"]

    def bounds(figures: dict[str, Any]) -> list[Any]:
        return figures["wilson"] if figures["wilson"] else ["", ""]

    return [
        row["rank"],
        row["label"],
        strategy["kind"],
        strategy.get("sequence", ""),
        strategy.get("operation", ""),
        strategy.get("mirror", ""),
        row["gales"],
        row["break_even"],
        inside["cycles"],
        inside["hit_rate"],
        *bounds(inside),
        inside["p_value"],
        inside["q_value"],
        inside["expected_net"],
        outside["cycles"],
        outside["hit_rate"],
        *bounds(outside),
        outside["expected_net"],
        row["flagged"],
    ]


def write_csv(report: dict[str, Any], stream) -> None:
    writer = csv.writer(stream)
    writer.writerow(CSV_COLUMNS)
    for row in report["ranked"]:
        writer.writerow(_csv_row(row))


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.1f}%"


def render(report: dict[str, Any]) -> str:
    """The verdict and a plain-text table of the ranked rows."""
    header = ["#", "strategy", "gales", "cycles", "hit", "95% interval", "break-even", "net/cycle", "q"]
    header += ["held-out", "hit", "net/cycle", "flag"]
    rows = [header]
    for row in report["ranked"]:
        inside, outside = row["in_sample"], row["out_of_sample"]
        interval = inside["wilson"]
        rows.append(
            [
                str(row["rank"]),
                row["label"],
                str(row["gales"]),
                str(inside["cycles"]),
                _percent(inside["hit_rate"]),
                "-" if not interval else f"{interval[0] * 100:.1f}-{interval[1] * 100:.1f}%",
                _percent(row["break_even"]),
                "-" if inside["expected_net"] is None else f"{inside['expected_net']:.2f}",
                f"{inside['q_value']:.3g}",
                str(outside["cycles"]),
                _percent(outside["hit_rate"]),
                "-" if outside["expected_net"] is None else f"{outside['expected_net']:.2f}",
                "*" if row["flagged"] else "",
            ]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = [
        f"{report['verdict']}",
        f"{len(report['pairs'])} pairs, {report['candles']['in_sample']} candles ranked, "
        f"{report['candles']['out_of_sample']} held out; {report['candidates']} candidates, "
        f"{report['tests']} rows tested (FDR {report['fdr']:g}); payout {report['payout']:g}%, "
        f"stake {report['stake']:.2f} {report['gale_type']}",
    ]
    for r in rows:
        lines.append(
            "  ".join(
                c.rjust(w) if i not in (1,) else c.ljust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
    walk = report.get("walk_forward")
    if walk:
        share = walk["share_of_top_beating_break_even"]
        lines.append(
            f"walk-forward: {_percent(share)} of each fold's top rows beat break-even on the next block"
        )
    return "\n".join(lines) + "\n"


def plot_report(report: dict[str, Any], path: Path) -> None:
    """Hit rates in and out of sample with Wilson intervals and break-even; a per-pair heat map below."""
    from matplotlib.figure import Figure  # no pyplot: no global state, no display needed

    ranked = report["ranked"][:20]
    figure = Figure(figsize=(12, 9), layout="constrained")
    rates_axes, heat_axes = figure.subplots(2, 1)
    positions = np.arange(len(ranked))
    for shift, key, label in ((-0.2, "in_sample", "ranked on"), (0.2, "out_of_sample", "held out")):
        rates = [100 * (row[key]["hit_rate"] or 0) for row in ranked]
        low = [100 * (row[key]["wilson"] or [0, 0])[0] for row in ranked]
        high = [100 * (row[key]["wilson"] or [0, 0])[1] for row in ranked]
        errors = np.array([np.subtract(rates, low), np.subtract(high, rates)])
        rates_axes.bar(positions + shift, rates, 0.4, yerr=errors, capsize=2, label=label)
    rates_axes.scatter(
        positions,
        [100 * row["break_even"] for row in ranked],
        marker="_",
        s=300,
        color="black",
        label="break-even",
    )
    labels = [f"{row['label']} g{row['gales']}{' *' if row['flagged'] else ''}" for row in ranked]
    rates_axes.set_xticks(positions, labels, rotation=60, fontsize="small", ha="right")
    rates_axes.set_ylabel("hit rate (%)")
    rates_axes.set_title(report["verdict"])
    rates_axes.legend(fontsize="small")

    pairs = report["pairs"]
    # each row against its own break-even, so that rows of different gale levels compare
    heat = np.array(
        [
            [
                100 * ((row["pairs"][pair]["in_sample"]["hit_rate"] or np.nan) - row["break_even"])
                for pair in pairs
            ]
            for row in ranked
        ]
    ).reshape(len(ranked), len(pairs))
    reach = float(np.nanmax(np.abs(heat))) if np.isfinite(heat).any() else 1.0
    image = heat_axes.imshow(heat, aspect="auto", cmap="RdYlGn", vmin=-reach, vmax=reach)
    heat_axes.set_xticks(np.arange(len(pairs)), pairs, rotation=60, fontsize="small")
    heat_axes.set_yticks(positions, labels, fontsize="x-small")
    heat_axes.set_title("in-sample hit rate minus break-even, per pair (points)")
    figure.colorbar(image, ax=heat_axes)
    figure.savefig(path, dpi=100)
