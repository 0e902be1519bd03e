"""The sequence finder as the bots use it: RealtimeCandles documents in, matches out.

A RealtimeCandles document is `{ativo, candles: [{o, c, ...}] oldest first
(the last one still forming), lastUpdated: epoch}`. The original stored the
candle list as a JSON string; both forms are read. A document older than
`max_age` seconds at `now` is stale and never matched. The matching itself
is glimpse.rules.patterns'.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from glimpse.rules.patterns import Strategy, StrategyBatch, colour_matrix

log = logging.getLogger(__name__)


def candles_by_pair(
    docs: Iterable[Mapping[str, Any]], now: float | None = None, max_age: float | None = None
) -> dict[str, list[dict]]:
    """`{ativo: candles}` from RealtimeCandles documents, in document order, without stale or unreadable ones."""
    result: dict[str, list[dict]] = {}
    for doc in docs:
        pair = doc.get("ativo")
        if not pair:
            log.warning(
                "RealtimeCandles document without ativo ignored: %r",
                {k: doc[k] for k in doc if k != "candles"},
            )
            continue
        if now is not None and max_age is not None and now - float(doc.get("lastUpdated") or 0) > max_age:
            continue
        candles = doc.get("candles") or []
        if isinstance(candles, str):
            try:
                candles = json.loads(candles)
            except ValueError as exc:
                log.warning("RealtimeCandles of %s hold unreadable JSON, pair skipped: %s", pair, exc)
                continue
        if not isinstance(candles, list):
            log.warning(
                "RealtimeCandles of %s hold %s instead of a list, pair skipped", pair, type(candles).__name__
            )
            continue
        result[pair] = candles
    return result


def find_all(
    docs: Iterable[Mapping[str, Any]],
    strategies: Sequence[Strategy],
    now: float | None = None,
    max_age: float | None = None,
) -> dict[Strategy, list[tuple[str, str]]]:
    """Every strategy's matches, `[(ativo, "call"|"put")]` in the original order, from one pass over the pairs."""
    wanted = list(dict.fromkeys(strategies))
    if not wanted:
        return {}
    market = candles_by_pair(docs, now, max_age)
    matrix = colour_matrix(market, window=max(len(s) for s in wanted))
    return dict(zip(wanted, StrategyBatch(wanted).find(matrix), strict=True))


def find(
    docs: Iterable[Mapping[str, Any]],
    sequence: str | Iterable[int | str],
    operation: str,
    mirror: bool | str = False,
    now: float | None = None,
    max_age: float | None = None,
) -> list[tuple[str, str]]:
    """One strategy's matches, as the original sequenceFinder gave them (an empty list instead of False)."""
    strategy = Strategy.parse(sequence, operation, mirror)
    return find_all(docs, [strategy], now, max_age)[strategy]
