"""Money: the one place amounts are rounded, and the martingale ("gale") plans.

Every amount the bundle stakes, wins or loses goes through `cents`, which
rounds half up to 0.01, the way the broker and the original bot count. The
gale formulas are the original's (dobro, cobrir, sobra), each entry rounded
to cents before the next one is computed from it.

Everything here is pure: no clock, no database, no broker.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

CENT = Decimal("0.01")
GALE_TYPES = ("dobro", "cobrir", "sobra")
MAX_GALES = 10

# Strategies created by "Glimpse" trade with their own money management,
# whatever the user's settings say (original rule, kept).
GLIMPSE_AUTHOR = "Glimpse"
GLIMPSE_MM: Mapping[str, Any] = MappingProxyType(
    {"money": 2, "gale": True, "galeCount": 1, "galeType": "sobra", "sobra": 1}
)

Amount = Decimal | int | float | str


def to_decimal(value: Amount, name: str = "amount") -> Decimal:
    """`value` as an exact Decimal; floats go through their shortest repr (2.675 -> 2.675)."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        result = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not result.is_finite():
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return result


def cents(value: Amount) -> Decimal:
    """`value` rounded half up to a whole cent."""
    return to_decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def _payout_fraction(payout_percent: Amount) -> Decimal:
    payout = to_decimal(payout_percent, "payout")
    if payout <= 0:
        raise ValueError(f"payout must be positive, got {payout_percent!r}")
    return payout / 100


def win_profit(amount: Amount, payout_percent: Amount) -> Decimal:
    """The profit of a winning order of `amount` at `payout_percent`."""
    return cents(to_decimal(amount, "amount") * _payout_fraction(payout_percent))


def gale_entries(
    stake: Amount, gale_type: str, gale_count: int, payout_percent: Amount, sobra: Amount = 0
) -> list[Decimal]:
    """The stakes of one cycle: the first entry, then `gale_count` gales.

    dobro:  next = previous × 2
    cobrir: next = sum(previous entries) / (payout / 100)
    sobra:  next = (sum(previous entries) + sobra) / (payout / 100)
    """
    first = cents(to_decimal(stake, "stake"))
    if first <= 0:
        raise ValueError(f"stake must be at least 0.01, got {stake!r}")
    if gale_type not in GALE_TYPES:
        raise ValueError(f"gale type must be one of {', '.join(GALE_TYPES)}, got {gale_type!r}")
    if (
        isinstance(gale_count, bool)
        or not isinstance(gale_count, numbers.Integral)
        or not 0 <= gale_count <= MAX_GALES
    ):
        raise ValueError(f"gale count must be an integer from 0 to {MAX_GALES}, got {gale_count!r}")
    extra = to_decimal(sobra, "sobra")
    if extra < 0:
        raise ValueError(f"sobra must not be negative, got {sobra!r}")
    fraction = _payout_fraction(payout_percent) if gale_type != "dobro" else None

    entries = [first]
    for _ in range(int(gale_count)):
        if gale_type == "dobro":
            entries.append(cents(entries[-1] * 2))
        elif gale_type == "cobrir":
            entries.append(cents(sum(entries) / fraction))
        else:
            entries.append(cents((sum(entries) + extra) / fraction))
    return entries


def cycle_nets(entries: list[Decimal], payout_percent: Amount) -> tuple[list[Decimal], Decimal]:
    """The net result of a cycle: won at each level, and lost.

    A win at level j earns entries[j]'s profit minus the stakes lost before
    it; a loss costs every stake of the cycle. Dojis cost nothing.
    """
    wins = [
        win_profit(entry, payout_percent) - sum(entries[:level], Decimal(0))
        for level, entry in enumerate(entries)
    ]
    return wins, -sum(entries, Decimal(0))


@dataclass(frozen=True)
class MoneyPlan:
    """A stake and how to gale it: what a money-management setting boils down to."""

    stake: Decimal
    gale_type: str
    payout_percent: Decimal
    sobra: Decimal = Decimal(0)

    @classmethod
    def of(cls, stake: Amount, gale_type: str, payout_percent: Amount, sobra: Amount = 0) -> MoneyPlan:
        plan = cls(
            cents(to_decimal(stake, "stake")),
            gale_type,
            to_decimal(payout_percent, "payout"),
            to_decimal(sobra, "sobra"),
        )
        plan.entries(0)  # validates the stake, the gale type and the sobra
        _payout_fraction(plan.payout_percent)  # a win pays stake x payout, whatever the gale type
        return plan

    def entries(self, gales: int) -> list[Decimal]:
        return gale_entries(self.stake, self.gale_type, gales, self.payout_percent, self.sobra)

    def nets(self, gales: int) -> tuple[list[Decimal], Decimal]:
        return cycle_nets(self.entries(gales), self.payout_percent)


def money_management(
    settings: Mapping[str, Any], strategy: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The money settings a strategy trades with: the user's, unless "Glimpse" wrote the strategy."""
    effective = dict(settings)
    if strategy is not None and strategy.get("createdBy") == GLIMPSE_AUTHOR:
        effective.update(GLIMPSE_MM)
    return effective
