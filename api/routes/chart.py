"""Candles by time range, for the app's candlestick charts (the dashboard's live pair, a cycle's candles).

GET /glimpse/getCandles?pair=EURUSD&from=<epoch s>&to=<epoch s> (or `count` instead of `to`).

Where the candles come from:
- the paper market (GLIMPSE_BROKER=paper): its price is a pure function of (seed, pair, time), so any
  past range is computed exactly as every process saw it, and nothing after now is revealed (the last
  candle may still be forming);
- the real broker: the candles the streams store (RealtimeCandles, the last few minutes of each open
  pair, written by auxiliar.candles_starter), kept to the range. Older candles of a cycle are in its
  Operations log, which the app merges in.
"""

from __future__ import annotations

import functools
import math
from typing import Any

from flask import Blueprint, Response, request

from api import auth
from api.context import ctx
from api.errors import bad_request
from api.jsonio import json_response
from api.registry import USER
from glimpse.market.paper_market import PaperMarket
from glimpse.rules.pairs import PAIR_NAMES
from glimpse.store import db as names

bp = Blueprint("chart", __name__, url_prefix="/glimpse")

SIZE = 60  # one-minute candles, the size the bots trade and the streams store
MAX_COUNT = 720  # twelve hours of minutes: a chart never needs more, and a request stays cheap
# A range that starts earlier than this is a mistake (or a probe), not a chart.
EARLIEST = 946_684_800  # 2000-01-01T00:00:00Z


@functools.lru_cache(maxsize=4)
def _paper(seed: int, payout_min: int, payout_max: int) -> PaperMarket:
    return PaperMarket(seed, payout_min, payout_max)


def _epoch(name: str, *, required: bool) -> int | None:
    """Query parameter `name` as whole epoch seconds, or a 400 naming it."""
    raw = request.args.get(name)
    if raw is None or raw.strip() == "":
        if required:
            raise bad_request(f"{name}: required (epoch seconds)", name)
        return None
    try:
        value = float(raw)
    except ValueError:
        raise bad_request(f"{name}: must be a number of epoch seconds", name) from None
    if not math.isfinite(value) or value < EARLIEST or value > 4_102_444_800:  # before 2100
        raise bad_request(f"{name}: out of range (epoch seconds between 2000 and 2100)", name)
    return int(value)


def _count() -> int | None:
    raw = request.args.get("count")
    if raw is None or raw.strip() == "":
        return None
    if not raw.strip().isdigit():
        raise bad_request(f"count: must be a whole number from 1 to {MAX_COUNT}", "count")
    value = int(raw)
    if not 1 <= value <= MAX_COUNT:
        raise bad_request(f"count: must be from 1 to {MAX_COUNT}", "count")
    return value


def _pair() -> str:
    pair = (request.args.get("pair") or "").strip().upper()
    if not pair:
        raise bad_request("pair: required", "pair")
    if pair not in PAIR_NAMES:
        raise bad_request(f"pair: unknown pair {pair[:20]!r}", "pair")
    return pair


def _range(now: float) -> tuple[int, int]:
    """[first, last] candle starts (aligned to the minute, last not after now's candle)."""
    start = _epoch("from", required=True)
    end = _epoch("to", required=False)
    count = _count()
    assert start is not None
    if end is not None and count is not None:
        raise bad_request("count: give either `to` or `count`, not both", "count")
    first = start - start % SIZE
    if count is not None:
        last = first + (count - 1) * SIZE
    elif end is not None:
        if end < start:
            raise bad_request("to: must not be before `from`", "to")
        last = end - end % SIZE
        if (last - first) // SIZE + 1 > MAX_COUNT:
            raise bad_request(f"to: at most {MAX_COUNT} candles a request", "to")
    else:
        raise bad_request("to: required (or `count`)", "to")
    now_candle = int(now) - int(now) % SIZE
    return first, min(last, now_candle)


def _stored(pair: str, first: int, last: int) -> list[dict[str, Any]]:
    doc = ctx().db[names.REALTIME_CANDLES].find_one({"ativo": pair}, {"candles": 1}) or {}
    out = []
    for candle in doc.get("candles") or []:
        start = candle.get("from") if isinstance(candle, dict) else None
        if isinstance(start, int | float) and first <= start <= last:
            out.append({k: candle[k] for k in ("from", "o", "c", "h", "l") if k in candle})
    return sorted(out, key=lambda c: c["from"])


# Served outside api.registry for now: the registry and its OpenAPI document describe JSON bodies,
# not query parameters, and the generated-requests test needs every documented route to reach a 2xx,
# which a GET without its parameters cannot. The token check is the registry's (auth.authenticate).
@bp.get("/getCandles")
def get_candles() -> Response:
    """One pair's one-minute candles in a time range: ?pair=EURUSD&from=<epoch s>&to=<epoch s> (or count).

    200: {pair, size: 60, source: paper|stream, serverTime, candles: [{from, o, c, h, l}]}, oldest
    first; 400 names the parameter at fault; 401 without a user's token."""
    auth.authenticate(USER, {})
    c = ctx()
    pair = _pair()
    now = c.clock.now()
    first, last = _range(now)
    if last < first:  # the whole range is in the future: nothing has happened yet
        candles: list[dict[str, Any]] = []
    elif c.config.broker == "paper":
        market = _paper(c.config.paper_seed, c.config.paper_payout_min, c.config.paper_payout_max)
        candles = market.candles(pair, first, (last - first) // SIZE + 1, SIZE, until=now)
    else:
        candles = _stored(pair, first, last)
    source = "paper" if c.config.broker == "paper" else "stream"
    return json_response(
        {"pair": pair, "size": SIZE, "source": source, "serverTime": now, "candles": candles}
    )
