"""The live quadrant decision on the bot's candles (by their minute) agrees with `decide` on colours."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from glimpse.rules.quadrants import PRESETS, decide, decide_on_candles


def _candles(colours: list[int], last_minute: int) -> list[dict]:
    first = last_minute - len(colours) + 1
    return [{"from": (first + i) * 60, "o": 1.0, "c": 1.0 + 0.001 * c} for i, c in enumerate(colours)]


@given(
    st.lists(st.sampled_from([-1, 0, 1]), min_size=1, max_size=15),
    st.integers(min_value=28_000_000, max_value=28_000_100),
    st.sampled_from(sorted(PRESETS)),
)
def test_by_minute_equals_decide_on_consecutive_colours(colours, entry_minute, key):
    rule = PRESETS[key]
    candles = _candles(colours, entry_minute - 1)
    assert decide_on_candles(rule, entry_minute, candles) == decide(rule, entry_minute, colours)
    # the original's stored form (no `from`) reads as consecutive minutes ending before the entry
    untimed = [{"o": c["o"], "c": c["c"]} for c in candles]
    assert decide_on_candles(rule, entry_minute, untimed) == decide(rule, entry_minute, colours)


def test_a_lagging_or_gapped_stream_decides_nothing():
    mhi = PRESETS["mhi"]
    entry = 5 * 5_600_003  # an MHI entry minute
    colours = [
        1,
        1,
        -1,
        -1,
        1,
        1,
        1,
        -1,
        -1,
        1,
    ]  # previous quadrant's candles 2..4: -1, -1, 1 → minority green
    candles = _candles(colours, entry - 1)
    assert decide_on_candles(mhi, entry, candles) == "call"
    assert decide_on_candles(PRESETS["mhi-maioria"], entry, candles) == "put"
    assert decide_on_candles(mhi, entry + 1, candles) is None  # not an entry minute
    lagging = _candles(colours, entry - 3)  # the stream stopped two minutes ago
    assert decide_on_candles(mhi, entry, lagging) is None
    gapped = [c for c in candles if c["from"] != (entry - 2) * 60]
    assert decide_on_candles(mhi, entry, gapped) is None
    assert decide_on_candles(mhi, entry, [{"from": 0, "o": "x", "c": 1}]) is None
