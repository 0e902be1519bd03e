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
from typing import Annotated, Any

from flask import Blueprint
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from api.context import ctx
from api.errors import bad_request
from api.registry import USER, endpoint
from glimpse.market.paper_market import PaperMarket
from glimpse.rules.pairs import PAIR_NAMES
from glimpse.store import db as names

bp = Blueprint("chart", __name__, url_prefix="/glimpse")

SIZE = 60  # one-minute candles, the size the bots trade and the streams store
MAX_COUNT = 720  # twelve hours of minutes: a chart never needs more, and a request stays cheap
# A range that starts earlier than this is a mistake (or a probe), not a chart.
EARLIEST = 946_684_800  # 2000-01-01T00:00:00Z
LATEST = 4_102_444_800  # 2100-01-01T00:00:00Z


def _known_pair(value: str) -> str:
    if value not in PAIR_NAMES:
        raise ValueError(f"unknown pair {value[:20]!r}")
    return value


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


Epoch = Annotated[float, Field(ge=EARLIEST, le=LATEST, allow_inf_nan=False)]


class CandlesQuery(BaseModel):
    """getCandles' query parameters: strings on the wire, read as numbers (so not strict)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    pair: Annotated[str, BeforeValidator(_upper), AfterValidator(_known_pair)] = Field(
        description="the pair, in any letter case", json_schema_extra={"enum": list(PAIR_NAMES)}
    )
    from_: Epoch = Field(alias="from", description="the first candle's time, epoch seconds (2000 to 2100)")
    to: Epoch | None = Field(default=None, description="the last candle's time, epoch seconds (or `count`)")
    count: Annotated[int, Field(ge=1, le=MAX_COUNT)] | None = Field(
        default=None, description=f"how many candles from `from` (1 to {MAX_COUNT}), instead of `to`"
    )

    @model_validator(mode="before")
    @classmethod
    def _blank_is_absent(cls, data: Any) -> Any:
        # `?to=&count=5` is how a form leaves a field out
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip())}
        return data


@functools.lru_cache(maxsize=4)
def _paper(seed: int, payout_min: int, payout_max: int) -> PaperMarket:
    return PaperMarket(seed, payout_min, payout_max)


def _range(query: CandlesQuery, now: float) -> tuple[int, int]:
    """[first, last] candle starts (aligned to the minute, last not after now's candle)."""
    start = int(query.from_)
    end = None if query.to is None else int(query.to)
    count = query.count
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


@endpoint(
    bp,
    "/getCandles",
    access=USER,
    method="GET",
    query=CandlesQuery,
    responses={200: "{pair, size: 60, source: paper|stream, serverTime, candles: [{from, o, c, h, l}]}"},
)
def get_candles(query: CandlesQuery) -> dict[str, Any]:
    """One pair's one-minute candles in a time range: ?pair=EURUSD&from=<epoch s>&to=<epoch s> (or count).

    200: {pair, size: 60, source: paper|stream, serverTime, candles: [{from, o, c, h, l}]}, oldest
    first; 400 names the parameter at fault; 401 without a user's token."""
    c = ctx()
    pair = query.pair
    now = c.clock.now()
    first, last = _range(query, now)
    if last < first:  # the whole range is in the future: nothing has happened yet
        candles: list[dict[str, Any]] = []
    elif c.config.broker == "paper":
        market = _paper(c.config.paper_seed, c.config.paper_payout_min, c.config.paper_payout_max)
        candles = market.candles(pair, first, (last - first) // SIZE + 1, SIZE, until=now)
    else:
        candles = _stored(pair, first, last)
    source = "paper" if c.config.broker == "paper" else "stream"
    return {"pair": pair, "size": SIZE, "source": source, "serverTime": now, "candles": candles}
