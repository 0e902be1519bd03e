"""The currency pairs Glimpse trades: names, typical price levels, decimals.

Names are IQ Option's (`iqoptionapi.constants.ACTIVES` keys). The 23 forex
pairs of the original, plus the OTC variants IQ Option lists for them. The
level and decimals are what a quote of that pair looks like; the paper market
starts its price walk there.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pair:
    name: str
    level: float  # a typical price
    decimals: int  # quote precision

    @property
    def otc(self) -> bool:
        return self.name.endswith("-OTC")

    @property
    def base(self) -> str:
        """The underlying forex pair (EURUSD for EURUSD-OTC)."""
        return self.name.removesuffix("-OTC")


_FOREX = (
    ("EURUSD", 1.08, 5),
    ("GBPUSD", 1.27, 5),
    ("USDJPY", 150.0, 3),
    ("USDCHF", 0.88, 5),
    ("USDCAD", 1.36, 5),
    ("AUDUSD", 0.66, 5),
    ("NZDUSD", 0.61, 5),
    ("EURGBP", 0.86, 5),
    ("EURJPY", 162.0, 3),
    ("EURCHF", 0.95, 5),
    ("EURAUD", 1.64, 5),
    ("EURCAD", 1.47, 5),
    ("EURNZD", 1.78, 5),
    ("GBPJPY", 190.0, 3),
    ("GBPCHF", 1.12, 5),
    ("GBPAUD", 1.92, 5),
    ("GBPCAD", 1.72, 5),
    ("GBPNZD", 2.08, 5),
    ("AUDJPY", 98.0, 3),
    ("AUDCAD", 0.90, 5),
    ("CADJPY", 110.0, 3),
    ("CADCHF", 0.65, 5),
    ("CHFJPY", 170.0, 3),
)

# IQ Option lists an OTC (weekend) variant for these.
_OTC = ("EURUSD", "GBPUSD", "USDJPY", "USDCHF", "EURGBP", "EURJPY", "NZDUSD", "AUDCAD")

FOREX_PAIRS: tuple[Pair, ...] = tuple(Pair(n, lvl, d) for n, lvl, d in _FOREX)
OTC_PAIRS: tuple[Pair, ...] = tuple(
    Pair(p.name + "-OTC", p.level, p.decimals) for p in FOREX_PAIRS if p.name in _OTC
)
PAIRS: dict[str, Pair] = {p.name: p for p in FOREX_PAIRS + OTC_PAIRS}
PAIR_NAMES: tuple[str, ...] = tuple(sorted(PAIRS))


def is_pair(name: str) -> bool:
    return name in PAIRS


def normalize_pair(text: str) -> str | None:
    """The canonical pair name for user text such as 'eur/usd' or 'EURUSD-otc'; None if unknown."""
    candidate = text.strip().upper().replace("/", "").replace(" ", "").replace("_", "-")
    return candidate if candidate in PAIRS else None
