"""Strategies: listing, creating and editing candle-colour strategies, and the test candles.

createStrategy and editStrategy take the original body ({name, sequence,
operation, mirror}) or a quadrant strategy: {name, quadrant} where
`quadrant` is a preset key ("mhi", "mhi-maioria", ...) or the rule
{period, offset, candles, pick}. A quadrant strategy is stored with empty
`sequence` and `operation` and its rule under `quadrant`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from flask import Blueprint
from pydantic import Field, field_validator

from api import audit, auth, schemas, throttle
from api.backtest_money import money_report
from api.context import ctx
from api.errors import APIError, bad_request, forbidden
from api.registry import MANAGER, USER_OR_MANAGER, endpoint
from api.schemas import BacktestMoneyBody, Body, Empty
from glimpse.backtest.engine import backtest_report
from glimpse.backtest.sources import series_from_market, series_from_test_candles
from glimpse.market.paper_market import PaperMarket
from glimpse.rules.money import GLIMPSE_AUTHOR
from glimpse.rules.pairs import PAIR_NAMES
from glimpse.rules.patterns import Strategy
from glimpse.rules.quadrants import MAX_PERIOD, PRESETS, QuadrantError, QuadrantRule
from glimpse.store import accounts, strategies
from glimpse.store import db as names
from glimpse.store.strategies import StrategyDoc

bp = Blueprint("strategies", __name__, url_prefix="/glimpse")


def short_name(name: str) -> str:
    """First and last word, as the original app showed a user's name and signed strategies."""
    words = name.split()
    return " ".join([words[0], words[-1]]) if len(words) > 1 else (words[0] if words else "")


def user_author(name: str) -> str:
    """A trader's signature on a strategy. Only managers sign "Glimpse": a trader who calls
    themselves Glimpse must not publish a strategy that reads as official."""
    author = short_name(name)
    return "Trader" if author.casefold().startswith(GLIMPSE_AUTHOR.casefold()) else author


class QuadrantFields(Body):
    period: Annotated[int, Field(ge=2, le=MAX_PERIOD)] = Field(description="minutes per quadrant (MHI: 5)")
    offset: Annotated[int, Field(ge=0, lt=MAX_PERIOD)] = Field(
        description="entry minutes: minute mod period == offset (MHI: 0, MHI 2: 1, MHI 3: 2)"
    )
    candles: Annotated[list[int], Field(min_length=1, max_length=MAX_PERIOD)] = Field(
        description="the previous quadrant's candles read, 0 its first (MHI: [2, 3, 4])"
    )
    pick: Literal["minority", "majority"]


class StrategyBody(schemas.StrategyBody):
    """The original strategy body, or a quadrant strategy ({name, quadrant})."""

    sequence: str = Field(
        default="",
        description='Candle colours, oldest first: "1" green, "-1" red, "0" doji; 3 to 12 of them '
        "(empty for a quadrant strategy)",
    )
    operation: Literal["call", "put"] | None = None  # type: ignore[assignment]
    mirror: bool = False
    quadrant: Annotated[str, Field(min_length=1, max_length=40)] | QuadrantFields | None = Field(
        default=None,
        description=f"a quadrant strategy: a preset ({', '.join(PRESETS)}) or the rule itself",
    )

    @field_validator("sequence")
    @classmethod
    def _sequence(cls, value: str) -> str:
        return "" if not value.strip() else schemas.StrategyBody._sequence(value)


def _rule_of(body: StrategyBody) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """({sequence, operation, mirror}, quadrant rule or None) of a body; 400 naming the field at fault."""
    if body.quadrant is None:
        if not body.sequence:
            raise bad_request("sequence: a sequence strategy needs 3 to 12 colours", "sequence")
        if body.operation is None:
            raise bad_request("operation: a sequence strategy needs call or put", "operation")
        return {"sequence": body.sequence, "operation": body.operation, "mirror": body.mirror}, None
    if body.sequence:
        raise bad_request("sequence: a quadrant strategy has no sequence", "sequence")
    try:
        if isinstance(body.quadrant, str):
            if body.quadrant not in PRESETS:
                raise QuadrantError(
                    f"unknown quadrant preset {body.quadrant!r} (known: {', '.join(PRESETS)})"
                )
            rule = PRESETS[body.quadrant]
        else:
            q = body.quadrant
            rule = QuadrantRule.of(body.name, q.period, q.offset, q.candles, q.pick)
    except QuadrantError as exc:
        raise bad_request(f"quadrant: {exc}", "quadrant") from None
    quadrant = rule.as_document()
    del quadrant["name"]  # the strategy's own name names it
    return {"sequence": "", "operation": "", "mirror": False}, quadrant


@endpoint(bp, "/getStrategies", access=USER_OR_MANAGER, body=Empty)
def get_strategies(body: Empty):
    """Strategies: a user sees Glimpse's and their own; a manager sees all."""
    p = auth.principal()
    owned = p.account.owned_strategies if p.account is not None else None
    return [strategy.public() for strategy in strategies.visible(ctx().db, owned)]


@endpoint(bp, "/createStrategy", access=USER_OR_MANAGER, body=StrategyBody)
def create_strategy(body: StrategyBody):
    """Create a strategy: {res: 1}, or {res: 0} when the name is taken (in any letter case)."""
    p = auth.principal()
    reserved = "glimpse" in body.name.casefold()
    if p.kind == "user" and reserved:
        raise bad_request('names containing "Glimpse" are reserved', "name")
    rule, quadrant = _rule_of(body)
    author = GLIMPSE_AUTHOR if p.account is None else user_author(p.account.name)
    strategy = StrategyDoc(
        name=body.name,
        created_by=author,
        sequence=rule["sequence"],
        operation=rule["operation"],
        mirror=rule["mirror"],
        owner=p.id_hex,
        created_at=ctx().clock.now(),
        quadrant=quadrant,
    )
    if not strategies.insert(ctx().db, strategy):
        return {"res": 0}
    if p.account is not None and p.id is not None:
        accounts.add_owned_strategy(ctx().db, p.id, body.name)
    else:
        audit.record(body.name, "createStrategy", None, strategy.rule())
    return {"res": 1}


@endpoint(bp, "/editStrategy", access=USER_OR_MANAGER, body=StrategyBody)
def edit_strategy(body: StrategyBody):
    """Change a strategy's candles, direction and mirror: {res: 1}, or {res: 0} when no strategy has that name."""
    p = auth.principal()
    current = strategies.find_by_name(ctx().db, body.name)
    if current is None or current.id is None:
        return {"res": 0}
    if p.kind == "user" and current.owner != p.id_hex:
        raise forbidden("only the strategy's creator or a manager may edit it", "name")
    rule, quadrant = _rule_of(body)
    change = dict(rule)
    if quadrant is not None:
        change["quadrant"] = quadrant
    strategies.set_rule(ctx().db, current.id, rule["sequence"], rule["operation"], rule["mirror"], quadrant)
    if p.kind == "manager":
        audit.record(current.name, "editStrategy", current.rule(), change)
    return {"res": 1}


@endpoint(bp, "/getTestCandles", access=USER_OR_MANAGER, body=Empty)
def get_test_candles(body: Empty):
    """A month of 1-minute candle colours per pair ("+" green, "-" red, "0" doji)."""
    return list(ctx().db[names.TEST_CANDLES].find({}).sort("ativo", 1))


@endpoint(bp, "/getTestCandlesAnnually", access=MANAGER, body=Empty)
def get_test_candles_annually(body: Empty):
    """A year of candle colours per pair, when an operator has loaded it."""
    return list(ctx().db[names.TEST_CANDLES_ANNUALLY].find({}).sort("ativo", 1))


def _payout(value: object) -> int | None:
    """A stored payout (85 or "85") as a percentage; None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    return value if isinstance(value, int) and 0 < value <= 100 else None


@endpoint(
    bp,
    "/backtestStrategy",
    access=USER_OR_MANAGER,
    body=BacktestMoneyBody,
    responses={404: "no stored candles for these pairs (and no `days` asked of the paper market)"},
)
@throttle.backtest_limit
def backtest_strategy(body: BacktestMoneyBody):
    """How a strategy did on history, per pair and per gale level: {total, pairs, period}.

    Without `days` or `hours`, on the month of candle colours stored per pair
    (TestCandles); with them, on the paper market's last N days or hours. With
    `stake`, in money too (sequential, as the bot trades): net result at each
    pair's payout, equity curve, maximum drawdown, longest losing streak and the
    break-even hit rate beside the measured one.
    """
    c = ctx()
    pairs = body.pairs or list(PAIR_NAMES)
    market = PaperMarket(c.config.paper_seed, c.config.paper_payout_min, c.config.paper_payout_max)
    if body.days is not None or body.hours is not None:
        end = int(c.clock.now() // 60) * 60  # the current minute is still forming
        minutes = body.days * 1440 if body.days is not None else (body.hours or 0) * 60
        start = end - minutes * 60
        series = series_from_market(market, pairs, start, minutes)
        period = {"from": start, "to": end, "source": "paper"}
    else:
        docs = list(
            c.db[names.TEST_CANDLES].find({"ativo": {"$in": pairs}}, {"ativo": 1, "candles": 1, "start": 1})
        )
        series = series_from_test_candles(docs)
        if not series:
            raise APIError(
                404, "no stored candles for these pairs: ask for `days` of the paper market", "pairs"
            )
        starts = [d["start"] for d in docs if isinstance(d.get("start"), datetime)]
        first = min(starts).replace(tzinfo=starts[0].tzinfo or UTC).timestamp() if starts else None
        length = max(len(d.get("candles") or "") for d in docs)
        period = {"from": first, "to": None if first is None else first + length * 60, "source": "stored"}
    if body.stake is None:
        report = backtest_report(series, body.sequence, body.operation, body.mirror, body.gales)
    else:
        # Each pair at the payout the app shows for it now, or the paper market's today.
        shown = {
            d["ativo"]: d.get("payout")
            for d in c.db[names.OPENED_ACTIVES].find({}, {"ativo": 1, "payout": 1})
        }
        today = datetime.fromtimestamp(c.clock.now(), UTC).date()
        payouts = {p: _payout(shown.get(p)) or market.payout(p, today) for p in series}
        strategy = Strategy.parse(body.sequence, body.operation, body.mirror)
        report = money_report(series, strategy, body.gales, body.stake, body.galeType, body.sobra, payouts)
        report["money"] = {
            "stake": body.stake,
            "galeType": body.galeType,
            "sobra": body.sobra,
            "gales": body.gales,
        }
        report["period"] = period  # the real dates (the original shape, without money, stays as it was)
    return report
