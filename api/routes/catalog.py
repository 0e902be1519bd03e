"""The catalog: every strategy on the chosen pairs ranked honestly, and pasted signal lists replayed.

Both routes are heavy compared with the rest of the API, so their inputs are
bounded (at most 30 days, sequences up to 9 candles, 3 gales, 100 rows shown,
500 signals) and each caller has the backtester's budget per route, with one
request of theirs in flight at a time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import numpy as np
from flask import Blueprint
from pydantic import Field, field_validator

from api import throttle
from api.context import ctx
from api.errors import APIError, bad_request
from api.registry import USER_OR_MANAGER, endpoint
from api.schemas import Body
from glimpse.backtest import sources
from glimpse.backtest.catalog import MAX_GALES, MAX_LENGTH, CatalogError, ReportSettings, catalog_report
from glimpse.backtest.signal_catalog import (
    MAX_DAYS,
    MAX_SIGNALS,
    SignalCatalogError,
    paper_colours,
    read_list,
    signal_catalog,
)
from glimpse.market.paper_market import PaperMarket
from glimpse.rules.money import MoneyPlan
from glimpse.rules.pairs import PAIR_NAMES, PAIRS
from glimpse.rules.quadrants import PRESETS
from glimpse.store import db as names

bp = Blueprint("catalog", __name__, url_prefix="/glimpse")

MAX_TOP = 100
MAX_TEXT = 20_000

catalog_limit = throttle.per_caller(throttle.BACKTEST_PER_CALLER, "too many catalogs: try again in a minute")
signals_limit = throttle.per_caller(
    throttle.BACKTEST_PER_CALLER, "too many signal catalogs: try again in a minute"
)
one_at_a_time = throttle.at_most_in_flight(1, throttle.caller, "another catalog of yours")


class MoneyFields(Body):
    payout: Annotated[float, Field(gt=0, le=100)] | None = Field(
        default=None, description="payout percent; default: the lowest current payout of the pairs"
    )
    stake: Annotated[float, Field(ge=1, le=100_000)] = Field(
        default=2, description="first entry, for the expected net per cycle"
    )
    galeType: Literal["dobro", "cobrir", "sobra"] = "sobra"
    sobra: Annotated[float, Field(ge=0, le=100_000)] = 0


class CatalogBody(MoneyFields):
    pairs: Annotated[list[str], Field(min_length=1, max_length=len(PAIRS))] | None = Field(
        default=None, description="default: every pair"
    )
    days: Annotated[int, Field(ge=1, le=MAX_DAYS)] | Literal["month"] = Field(
        default="month",
        description='the paper market\'s last N days, or "month": the stored month (TestCandles)',
    )
    maxLength: Annotated[int, Field(ge=1, le=MAX_LENGTH)] = MAX_LENGTH
    gales: Annotated[int, Field(ge=0, le=MAX_GALES)] = 2
    split: Annotated[float, Field(ge=0.05, le=0.95)] = 0.67
    minSignals: Annotated[int, Field(ge=1, le=1_000_000)] = 20
    top: Annotated[int, Field(ge=1, le=MAX_TOP)] = 20
    folds: Annotated[int, Field(ge=0, le=5)] = 0
    quadrants: Annotated[list[str], Field(max_length=len(PRESETS))] | None = Field(
        default=None, description=f"quadrant presets to add ({', '.join(PRESETS)}); default: all"
    )

    @field_validator("pairs")
    @classmethod
    def _pairs(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        for pair in value:
            if pair not in PAIRS:
                raise ValueError(f"unknown pair {pair!r}")
        return list(dict.fromkeys(value))

    @field_validator("quadrants")
    @classmethod
    def _quadrants(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        for name in value:
            if name not in PRESETS:
                raise ValueError(f"unknown quadrant preset {name!r} (known: {', '.join(PRESETS)})")
        return list(dict.fromkeys(value))


class CatalogSignalsBody(MoneyFields):
    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT)] = Field(
        description=f"a pasted signal list (as parseSignals reads it); up to {MAX_SIGNALS} signals"
    )
    days: Annotated[int, Field(ge=1, le=MAX_DAYS)] = Field(default=7, description="the last N complete days")
    gales: Annotated[int, Field(ge=0, le=MAX_GALES)] = 2


def _market() -> PaperMarket:
    config = ctx().config
    return PaperMarket(config.paper_seed, config.paper_payout_min, config.paper_payout_max)


def _stored_payout(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    return value if isinstance(value, int) and 0 < value <= 100 else None


def _payout(body: MoneyFields, pairs: list[str], market: PaperMarket) -> float:
    """The asked payout, or the lowest the pairs pay now: the one that asks the most of a strategy."""
    if body.payout is not None:
        return body.payout
    c = ctx()
    shown = {
        d["ativo"]: d.get("payout") for d in c.db[names.OPENED_ACTIVES].find({}, {"ativo": 1, "payout": 1})
    }
    today = datetime.fromtimestamp(c.clock.now(), UTC).date()
    return float(min(_stored_payout(shown.get(p)) or market.payout(p, today) for p in pairs))


def _plan(body: MoneyFields, payout: float) -> MoneyPlan:
    try:
        return MoneyPlan.of(body.stake, body.galeType, payout, body.sobra)
    except ValueError as exc:
        raise bad_request(str(exc), "payout") from None


# CatalogError messages start with the argument at fault, in the core's spelling.
_FIELDS = {
    "max_length": "maxLength",
    "min_signals": "minSignals",
    "gales": "gales",
    "split": "split",
    "top": "top",
    "folds": "folds",
}


def _field_of(message: str) -> str:
    first = message.split(" ", 1)[0]
    return _FIELDS.get(first, "body")


def _series(body: CatalogBody, pairs: list[str], market: PaperMarket):
    c = ctx()
    if body.days != "month":
        start, minutes = sources.last_complete_minutes(c.clock.now(), body.days)
        series = sources.series_from_market(market, pairs, start, minutes)
        return series, start // 60, {"from": start, "to": start + minutes * 60, "source": "paper"}
    docs = list(
        c.db[names.TEST_CANDLES].find({"ativo": {"$in": pairs}}, {"ativo": 1, "candles": 1, "start": 1})
    )
    try:
        series = sources.series_from_test_candles(docs)
    except sources.ColourSourceError as exc:
        raise APIError(409, f"the stored month cannot be read: {exc}", "days") from None
    series = {pair: colours for pair, colours in series.items() if colours.size}
    if not series:
        raise APIError(404, "no stored candles for these pairs: ask for `days` of the paper market", "days")
    first_of: dict[str, int] = {}
    for doc in docs:
        start = doc.get("start")
        if isinstance(start, datetime):
            first_of[str(doc["ativo"])] = int(start.replace(tzinfo=start.tzinfo or UTC).timestamp()) // 60
    firsts = [first_of[p] * 60 for p in series if p in first_of]
    length = max(int(s.size) for s in series.values())
    first = min(firsts) if firsts else None
    period = {"from": first, "to": None if first is None else first + length * 60, "source": "stored"}
    return series, first_of, period


@endpoint(
    bp,
    "/catalog",
    access=USER_OR_MANAGER,
    body=CatalogBody,
    responses={404: "no stored candles for these pairs (ask for `days` of the paper market)"},
)
@catalog_limit
@one_at_a_time
def catalog(body: CatalogBody):
    """Every colour sequence up to `maxLength` (call and put, with and without mirror) and the quadrant
    presets, for gales 0..`gales`, ranked on the first `split` of the period beside their held-out results,
    with Wilson intervals, break-even, expected net and the Benjamini–Hochberg flag; `verdict` says in words
    whether anything beat chance ("nenhuma estratégia superou o acaso neste período")."""
    pairs = body.pairs or list(PAIR_NAMES)
    market = _market()
    payout = _payout(body, pairs, market)
    _plan(body, payout)
    series, first_minutes, period = _series(body, pairs, market)
    presets = tuple(PRESETS.values()) if body.quadrants is None else tuple(PRESETS[n] for n in body.quadrants)
    settings = ReportSettings(
        max_length=body.maxLength,
        gales=body.gales,
        payout=payout,
        stake=body.stake,
        gale_type=body.galeType,
        sobra=body.sobra,
        split=body.split,
        min_signals=body.minSignals,
        top=body.top,
        folds=body.folds,
        quadrants=presets,
    )
    try:
        report = catalog_report(series, settings, first_minutes=first_minutes)
    except CatalogError as exc:
        raise bad_request(str(exc), _field_of(str(exc))) from None
    report["period"] = period
    return _plain(report)


def _plain(value: Any) -> Any:
    """The report with numpy scalars as Python numbers and NaN as null (JSON has no NaN)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


@endpoint(bp, "/catalogSignals", access=USER_OR_MANAGER, body=CatalogSignalsBody)
@signals_limit
@one_at_a_time
def catalog_signals(body: CatalogSignalsBody):
    """How a pasted signal list would have done on each of the last `days` complete days of the paper market:
    per gale level 0..`gales`, per day and in total (wins per level, losses, dojis, unresolved, hit rate,
    Wilson interval, break-even, expected net), each signal's result per day, and the lines not read."""
    c = ctx()
    now = c.clock.now()
    zone = c.config.zone
    parsed = read_list(body.text, now, zone)
    if not parsed.signals:
        raise bad_request(f"no signal could be read ({len(parsed.rejected)} lines rejected)", "text")
    if len(parsed.signals) > MAX_SIGNALS:
        raise bad_request(f"{len(parsed.signals)} signals: at most {MAX_SIGNALS} are catalogued", "text")
    market = _market()
    pairs = list(dict.fromkeys(s.ativo for s in parsed.signals))
    plan = _plan(body, _payout(body, pairs, market))
    try:
        report = signal_catalog(parsed.signals, body.days, body.gales, plan, paper_colours(market), now, zone)
    except SignalCatalogError as exc:
        field = "days" if str(exc).startswith("days") else "gales" if str(exc).startswith("gales") else "text"
        raise bad_request(str(exc), field) from None
    report["rejected"] = [r.to_json() for r in parsed.rejected]
    report["source"] = "paper"
    return _plain(report)
