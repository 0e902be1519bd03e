"""The strategy editor's quadrant presets (apps/web/src/pages/strategies/quadrants.ts) are the core's."""

from __future__ import annotations

import re
from pathlib import Path

from glimpse.rules.quadrants import PRESETS

TS = Path(__file__).resolve().parents[2] / "apps" / "web" / "src" / "pages" / "strategies" / "quadrants.ts"
CANDLES = {"LAST_THREE": (2, 3, 4), "FIRST_THREE": (0, 1, 2), "ALL_FIVE": (0, 1, 2, 3, 4)}
ROW = re.compile(
    r'\{ key: "(?P<key>[^"]+)", name: "(?P<name>[^"]+)", period: (?P<period>\d+), offset: (?P<offset>\d+), '
    r'candles: (?P<candles>\w+), pick: "(?P<pick>\w+)" \}'
)


def test_the_app_presets_equal_the_core_presets():
    source = TS.read_text(encoding="utf-8")
    assert set(re.findall(r"const (\w+) = \[([\d, ]+)\];", source)) == {
        (name, ", ".join(map(str, candles))) for name, candles in CANDLES.items()
    }
    found = {
        m["key"]: (m["name"], int(m["period"]), int(m["offset"]), CANDLES[m["candles"]], m["pick"])
        for m in ROW.finditer(source)
    }
    assert found == {key: (r.name, r.period, r.offset, r.candles, r.pick) for key, r in PRESETS.items()}
