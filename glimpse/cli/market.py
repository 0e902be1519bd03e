"""`glimpse market ...`: the paper market from the shell.

* `glimpse market colours --pair EURUSD --start ISO --minutes N [--seed S]`
  prints the colours of N one-minute candles as one line of + (green),
  - (red) and 0 (doji). A --start without a UTC offset is read in GLIMPSE_TZ.
* `glimpse market test-candles --out collections/TestCandles.json [--start ISO]
  [--days 30] [--seed S]` writes the TestCandles seed: one document per pair,
  {ativo, candles: "<+-0 x days*1440>", start, seed}, as an Extended JSON array.
The seed defaults to GLIMPSE_PAPER_SEED.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from glimpse.cli import CLIError
from glimpse.market.paper_market import PaperMarket
from glimpse.rules.pairs import PAIR_NAMES, normalize_pair
from glimpse.runtime.config import load_config

# The TestCandles seed in collections/ is this month (midnight in São Paulo)
# with the default seed; the offset is explicit so GLIMPSE_TZ cannot move it.
DEFAULT_TEST_CANDLES_START = "2024-05-01T00:00:00-03:00"
MAX_MINUTES = 366 * 1440
SYMBOLS = {1: "+", -1: "-", 0: "0"}


def register(subparsers) -> None:
    market = subparsers.add_parser("market", help="the paper market: candle colours and test data")
    actions = market.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True

    colours = actions.add_parser("colours", help="print the paper market's candle colours as + - 0")
    colours.add_argument("--pair", required=True, help="e.g. EURUSD or EURUSD-OTC")
    colours.add_argument(
        "--start", required=True, help="ISO date-time of the first minute (GLIMPSE_TZ if no offset)"
    )
    colours.add_argument(
        "--minutes", required=True, type=int, help=f"how many 1-minute candles (1..{MAX_MINUTES})"
    )
    colours.add_argument("--seed", type=int, help="paper market seed (default: GLIMPSE_PAPER_SEED)")
    colours.set_defaults(func=run_colours)

    seed = actions.add_parser("test-candles", help="write the TestCandles seed (one month per pair)")
    seed.add_argument("--out", required=True, help="the file to write, e.g. collections/TestCandles.json")
    seed.add_argument(
        "--start",
        default=DEFAULT_TEST_CANDLES_START,
        help=f"first minute (default {DEFAULT_TEST_CANDLES_START})",
    )
    seed.add_argument("--days", type=int, default=30, help="days per pair (default 30: 43,200 candles)")
    seed.add_argument("--seed", type=int, help="paper market seed (default: GLIMPSE_PAPER_SEED)")
    seed.set_defaults(func=run_test_candles)


def _start_epoch(text: str, zone) -> int:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CLIError(f"--start: not an ISO date-time: {text!r} (e.g. 2024-05-01T09:30)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    epoch = moment.timestamp()
    if epoch < 0:
        raise CLIError(f"--start: {text!r} is before 1970")
    if epoch % 60:
        raise CLIError(f"--start: {text!r} is not at a whole minute")
    return int(epoch)


def _market(seed: int | None, config) -> PaperMarket:
    chosen = config.paper_seed if seed is None else seed
    if chosen < 0:
        raise CLIError(f"--seed: must not be negative, got {chosen}")
    return PaperMarket(chosen, config.paper_payout_min, config.paper_payout_max)


def colour_string(colours) -> str:
    return "".join(SYMBOLS[int(c)] for c in colours)


def run_colours(args: argparse.Namespace) -> int:
    config = load_config()
    pair = normalize_pair(args.pair)
    if pair is None:
        raise CLIError(f"--pair: unknown pair {args.pair!r} (known: {', '.join(PAIR_NAMES)})")
    if not 1 <= args.minutes <= MAX_MINUTES:
        raise CLIError(f"--minutes: must be from 1 to {MAX_MINUTES}, got {args.minutes}")
    start = _start_epoch(args.start, config.zone)
    market = _market(args.seed, config)
    print(colour_string(market.colours(pair, start, args.minutes)))
    return 0


def colour_documents(market: PaperMarket, start: int, days: int) -> list[dict]:
    """The TestCandles documents: one per pair, `days` of 1-minute colours from `start`."""
    start_iso = datetime.fromtimestamp(start, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [
        {
            "ativo": pair,
            "candles": colour_string(market.colours(pair, start, days * 1440)),
            "start": {"$date": start_iso},
            "seed": market.seed,
        }
        for pair in PAIR_NAMES
    ]


def run_test_candles(args: argparse.Namespace) -> int:
    config = load_config()
    if not 1 <= args.days <= 366:
        raise CLIError(f"--days: must be from 1 to 366, got {args.days}")
    start = _start_epoch(args.start, config.zone)
    documents = colour_documents(_market(args.seed, config), start, args.days)
    out = Path(args.out)
    if not out.parent.is_dir():
        raise CLIError(f"--out: the folder {str(out.parent)!r} does not exist")
    # Write next to the target and rename, so a reader never sees half a file.
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(documents, handle, indent=2)
            handle.write("\n")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; a seed file is not
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    print(f"wrote {len(documents)} TestCandles documents ({args.days} days each) to {out}")
    return 0
