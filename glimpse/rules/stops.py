"""Stop loss and stop win, on the session's net result.

`operationPriority` decides when the stops are looked at: "gale" only between
cycles, so a started gale cycle always completes; "stop" after every settled
order, so a cycle can end in the middle of its gales.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from glimpse.rules.money import to_decimal

STOP_LOSS = "loss"
STOP_WIN = "win"


def has_stop(settings: Mapping[str, Any]) -> bool:
    """Whether a stop loss or a stop win is enabled: otherwise no net can reach a stop."""
    return bool(settings.get("stopLoss") or settings.get("stopWin"))


def stop_reached(net: Decimal | float, settings: Mapping[str, Any]) -> str | None:
    """STOP_LOSS when net <= -stopLossValue, STOP_WIN when net >= stopWinValue (each only if enabled)."""
    net = to_decimal(net, "net")
    if settings.get("stopLoss") and net <= -to_decimal(settings.get("stopLossValue", 0), "stopLossValue"):
        return STOP_LOSS
    if settings.get("stopWin") and net >= to_decimal(settings.get("stopWinValue", 0), "stopWinValue"):
        return STOP_WIN
    return None


def checks_now(priority: str, cycle_over: bool) -> bool:
    """Whether the stops are looked at now: always when a cycle is over, mid-cycle only with priority "stop"."""
    if priority not in ("gale", "stop"):
        raise ValueError(f"operationPriority must be gale or stop, got {priority!r}")
    return cycle_over or priority == "stop"
