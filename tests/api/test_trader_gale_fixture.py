"""The app's gale calculator (apps/shared/src/gale.ts) is held to cases computed here by the core
rule (glimpse.rules.money): this test keeps the fixture file equal to what the rule says now."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from itertools import product
from pathlib import Path
from typing import Any

from glimpse.rules.money import GALE_TYPES, cycle_nets, gale_entries

FIXTURE = Path(__file__).resolve().parents[2] / "apps" / "shared" / "src" / "fixtures" / "gale_cases.json"
STAKES = ("1", "2", "2.5", "7.33", "1234.56")
PAYOUTS = ("75", "80", "87", "87.5", "100")
SOBRAS = ("0", "1", "2.75")


def _cents(value: Decimal) -> int:
    return int(value * 100)


def cases() -> list[dict[str, Any]]:
    out = []
    for stake, gale_type, payout, gales in product(STAKES, GALE_TYPES, PAYOUTS, (0, 1, 3, 10)):
        for sobra in SOBRAS if gale_type == "sobra" else ("0",):
            entries = gale_entries(Decimal(stake), gale_type, gales, Decimal(payout), Decimal(sobra))
            wins, loss = cycle_nets(entries, Decimal(payout))
            out.append(
                {
                    "stake": stake,
                    "galeType": gale_type,
                    "gales": gales,
                    "payout": payout,
                    "sobra": sobra,
                    "entries": [_cents(e) for e in entries],
                    "wins": [_cents(w) for w in wins],
                    "worstCase": _cents(loss),
                }
            )
    return out


def render() -> str:
    return json.dumps(cases(), separators=(",", ":")) + "\n"


def test_the_apps_fixture_is_what_the_rule_computes():
    assert FIXTURE.read_text() == render(), "regenerate: python -m tests.api.test_trader_gale_fixture"


if __name__ == "__main__":
    FIXTURE.write_text(render())


def test_the_apps_glimpse_money_management_is_the_cores():
    from glimpse.rules.money import GLIMPSE_AUTHOR, GLIMPSE_MM

    source = (FIXTURE.parents[1] / "gale.ts").read_text()
    found = re.search(r"export const GLIMPSE_MM = (\{.*?\}) as const;", source)
    assert found is not None
    as_json = re.sub(r"(\w+):", r'"\1":', found.group(1))
    assert json.loads(as_json) == dict(GLIMPSE_MM)
    assert f'export const GLIMPSE_AUTHOR = "{GLIMPSE_AUTHOR}";' in source
