"""Which pairs a user may trade now, and which match to take.

A pair is eligible when it is open, is among the user's `preferedActives`
("todos" = all), passes the payout rule (`"> N"`: payout >= N; `"= N"`:
payout == N), and its realtime candles are fresh.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

PAYOUT_RULE = re.compile(r"^([>=]) (\d{1,3})$")
DEFAULT_FRESHNESS_SECONDS = 5.0


@lru_cache(maxsize=256)
def _payout_rule(rule: str) -> tuple[bool, int]:
    """(at least, threshold) of a preferedPayout rule: parsed once per distinct rule, not per pair."""
    match = PAYOUT_RULE.match(rule)
    if match is None:
        raise ValueError(f'preferedPayout must be "> N" or "= N", got {rule!r}')
    return match.group(1) == ">", int(match.group(2))


def payout_passes(payout: int, rule: str) -> bool:
    at_least, threshold = _payout_rule(rule or "")
    return payout >= threshold if at_least else payout == threshold


def preferred(prefered_actives: str) -> set[str] | None:
    """The set of pairs a user chose, or None for all ("todos")."""
    if not prefered_actives or prefered_actives == "todos":
        return None
    return {p.strip() for p in prefered_actives.split(",") if p.strip()}


def payout_of(active: Mapping[str, Any]) -> int:
    """OpenedActives keeps the payout as a string when open ("91") and 0 when closed."""
    try:
        return int(active.get("payout") or 0)
    except (TypeError, ValueError):
        return 0


def eligible_pairs(
    opened_actives: Iterable[Mapping[str, Any]],
    prefered_actives: str,
    payout_rule: str,
    candles_updated: Mapping[str, float],
    now: float,
    freshness: float = DEFAULT_FRESHNESS_SECONDS,
) -> dict[str, int]:
    """{pair: payout} of the pairs the user may trade now."""
    chosen = preferred(prefered_actives)
    out: dict[str, int] = {}
    for active in opened_actives:
        pair = active.get("ativo")
        if not isinstance(pair, str):
            continue
        if active.get("open") != "True" or (chosen is not None and pair not in chosen):
            continue
        payout = payout_of(active)
        if payout <= 0 or not payout_passes(payout, payout_rule):
            continue
        updated = candles_updated.get(pair)
        if updated is None or now - updated > freshness:
            continue
        out[pair] = payout
    return out


def best_match(matches: Iterable[tuple[str, str]], payouts: Mapping[str, int]) -> tuple[str, str] | None:
    """The match on the highest payout; ties go to the pair name first in order."""
    candidates = [(pair, direction) for pair, direction in matches if pair in payouts]
    if not candidates:
        return None
    return min(candidates, key=lambda m: (-payouts[m[0]], m[0]))
