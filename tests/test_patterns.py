"""glimpse.rules.patterns: candle colours, strategy parsing, `find` and the batch finder."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glimpse.rules.patterns import (
    MAX_SEQUENCE_LENGTH,
    ColourMatrix,
    PatternError,
    Strategy,
    StrategyBatch,
    colour,
    colour_matrix,
    colours,
    find,
    format_sequence,
    parse_mirror,
    parse_operation,
    parse_sequence,
)

GREEN = {"o": 1.0, "c": 1.5}
RED = {"o": 1.5, "c": 1.0}
DOJI = {"o": 1.2, "c": 1.2}
BY_COLOUR = {1: GREEN, -1: RED, 0: DOJI}


def candles_of(text: str) -> list[dict]:
    """Candles from a +-0 string, oldest first."""
    return [BY_COLOUR[{"+": 1, "-": -1, "0": 0}[ch]] for ch in text]


# --- colours ------------------------------------------------------------------


def test_colour_is_the_sign_of_close_minus_open():
    assert colour(1.08, 1.09) == 1
    assert colour(1.09, 1.08) == -1
    assert colour(1.08, 1.08) == 0
    assert colour(1.0, math.nan) == 0  # the original's "otherwise 0"


def test_colours_of_candle_documents():
    got = colours([GREEN, RED, DOJI, {"o": "1.1", "c": "1.2", "h": 2}])
    assert got.dtype == np.int8
    assert got.tolist() == [1, -1, 0, 1]
    assert colours([]).tolist() == []


@pytest.mark.parametrize("bad", [[{"o": 1}], [{"c": 1}], [{"o": "x", "c": 1}], [3]])
def test_colours_reject_candles_without_open_and_close(bad):
    with pytest.raises(PatternError, match="'o' and 'c'"):
        colours(bad)


# --- strategies ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-1,-1,-1", (-1, -1, -1)),
        (" 1, 0 ,-1 ", (1, 0, -1)),
        ("0", (0,)),
        ([1, -1, 0], (1, -1, 0)),
        (["1", "-1"], (1, -1)),
        (np.array([1, -1], dtype=np.int8), (1, -1)),
    ],
)
def test_parse_sequence(text, expected):
    assert parse_sequence(text) == expected


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("", "item 0"),
        ([], "at least one"),
        ("1,,1", "item 1"),
        ("1,2", "item 1"),
        ("green", "item 0"),
        ([1.5], "item 0"),
        ([True], "item 0"),
        (",".join(["1"] * (MAX_SEQUENCE_LENGTH + 1)), "at most"),
    ],
)
def test_parse_sequence_rejects_bad_sequences(bad, message):
    with pytest.raises(PatternError, match=message):
        parse_sequence(bad)


def test_operation_and_mirror_parsing():
    assert parse_operation("CALL ") == "call"
    assert parse_operation("put") == "put"
    with pytest.raises(PatternError, match="operation"):
        parse_operation("buy")
    assert parse_mirror(True) is True
    assert parse_mirror("false") is False
    with pytest.raises(PatternError, match="mirror"):
        parse_mirror("yes")


def test_strategy_from_document_and_format():
    strategy = Strategy.from_document(
        {"name": "x", "sequence": "-1,-1,0", "operation": "put", "mirror": True}
    )
    assert strategy == Strategy((-1, -1, 0), "put", True)
    assert format_sequence(strategy.sequence) == "-1,-1,0"
    assert strategy.mirrored
    assert not Strategy((0, 0), "call", True).mirrored  # all dojis: its own inverse
    with pytest.raises(PatternError, match="operation"):
        Strategy.from_document({"sequence": "1"})


# --- find: worked examples ---------------------------------------------------------


def test_a_pair_matches_on_its_newest_candles():
    market = {"EURUSD": candles_of("++---"), "GBPUSD": candles_of("---++"), "USDJPY": candles_of("+---")}
    assert find(market, "-1,-1,-1", "call") == [("EURUSD", "call"), ("USDJPY", "call")]


def test_order_is_primary_matches_by_pair_then_mirrored_ones():
    market = {"A": candles_of("+++"), "B": candles_of("--+"), "C": candles_of("---"), "D": candles_of("++-")}
    # sequence "-1,-1,1": B matches it; D matches its mirror "1,1,-1"
    assert find(market, "-1,-1,1", "call", mirror=True) == [("B", "call"), ("D", "put")]
    assert find(market, "-1,-1,-1", "put", mirror=True) == [("C", "put"), ("A", "call")]
    assert find(market, "-1,-1,-1", "put", mirror=False) == [("C", "put")]


def test_a_pair_with_fewer_candles_than_the_sequence_never_matches():
    assert find({"A": candles_of("--"), "B": []}, "-1,-1,-1", "call", True) == []
    assert find({"A": candles_of("00")}, "0,0,0", "call") == []


def test_all_doji_sequences_only_count_their_primary_match():
    market = {"A": candles_of("+00"), "B": candles_of("000")}
    assert find(market, "0,0", "call", mirror=True) == [("A", "call"), ("B", "call")]


def test_dojis_inside_a_sequence_stay_dojis_in_the_mirror():
    market = {"A": candles_of("+0-"), "B": candles_of("-0+")}
    assert find(market, "1,0,-1", "call", mirror=True) == [("A", "call"), ("B", "put")]


def test_find_validates_its_strategy():
    with pytest.raises(PatternError, match="operation"):
        find({}, "1", "sell")
    with pytest.raises(PatternError):
        find({}, "1,3", "call")


def test_colour_matrix_right_aligns_and_counts_real_candles():
    matrix = colour_matrix({"A": candles_of("+-"), "B": candles_of("0-+-"), "C": []}, window=3)
    assert matrix.colours.tolist() == [[0, 1, -1], [-1, 1, -1], [0, 0, 0]]
    assert matrix.counts.tolist() == [2, 3, 0]


def test_colour_matrix_of_arrays_checks_its_shape():
    with pytest.raises(PatternError, match="one row per pair"):
        ColourMatrix.of(["A"], np.zeros((2, 3)))
    with pytest.raises(PatternError, match="counts"):
        ColourMatrix.of(["A"], np.zeros((1, 3)), counts=[4])


def test_batch_longer_than_the_window_never_matches():
    matrix = ColourMatrix.of(["A"], np.array([[-1, -1]]))
    batch = StrategyBatch([Strategy((-1, -1, -1), "call"), Strategy((-1,), "put", True)])
    assert batch.find(matrix) == [[], [("A", "put")]]


# --- property: find, the batch and a plain loop agree -------------------------------


def reference_find(colours_by_pair: dict[str, list[int]], strategy: Strategy) -> list[tuple[str, str]]:
    """The original loop, written plainly."""
    k = len(strategy.sequence)
    found = []
    for pair, row in colours_by_pair.items():
        if len(row) >= k and tuple(row[-k:]) == strategy.sequence:
            found.append((pair, strategy.operation))
    if strategy.mirror and any(strategy.sequence):
        inverse = tuple(-c for c in strategy.sequence)
        for pair, row in colours_by_pair.items():
            if len(row) >= k and tuple(row[-k:]) == inverse:
                found.append((pair, "put" if strategy.operation == "call" else "call"))
    return found


colour_values = st.sampled_from([-1, 0, 1])
prices = st.sampled_from([1.0, 1.00001, 1.5, 150.25, 0.99999])


@st.composite
def markets(draw):
    names = draw(
        st.lists(
            st.sampled_from(["EURUSD", "GBPUSD", "USDJPY", "AUDCAD", "EURJPY", "NZDUSD"]),
            unique=True,
            max_size=6,
        )
    )
    market = {}
    for name in names:
        count = draw(st.integers(0, 16))
        market[name] = [{"o": draw(prices), "c": draw(prices)} for _ in range(count)]
    return market


@st.composite
def strategies_for(draw, market):
    """Random strategies of 1-12 colours: random, all-doji, or copied from a pair so that matches happen."""
    length = draw(st.integers(1, 12))
    source = draw(st.sampled_from(["random", "doji", "copied"]))
    rows = [colours(c).tolist() for c in market.values() if len(c) >= length]
    if source == "copied" and rows:
        row = draw(st.sampled_from(rows))
        sequence = tuple(row[-length:])
        if draw(st.booleans()):
            sequence = tuple(-c for c in sequence)  # so that the mirror matches
    elif source == "doji":
        sequence = (0,) * length
    else:
        sequence = tuple(draw(st.lists(colour_values, min_size=length, max_size=length)))
    return Strategy(sequence, draw(st.sampled_from(["call", "put"])), draw(st.booleans()))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_find_batch_and_reference_agree(data):
    market = data.draw(markets())
    plans = data.draw(st.lists(strategies_for(market), min_size=1, max_size=8))
    colours_by_pair = {pair: colours(c).tolist() for pair, c in market.items()}
    expected = [reference_find(colours_by_pair, s) for s in plans]

    singles = [find(market, format_sequence(s.sequence), s.operation, s.mirror) for s in plans]
    assert singles == expected

    window = data.draw(st.integers(12, 20))
    batch = StrategyBatch(plans).find(colour_matrix(market, window=window))
    assert batch == expected

    primary, mirrored = StrategyBatch(plans).match(colour_matrix(market))
    assert primary.shape == mirrored.shape == (len(market), len(plans))
    assert not (primary & mirrored).any()


# --- the service-side adapter -------------------------------------------------------


def test_sequence_finder_reads_realtime_candles_documents(caplog):
    import json

    from operational_server import sequence_finder

    docs = [
        {"ativo": "EURUSD", "candles": candles_of("+---"), "lastUpdated": 1000.0},
        {
            "ativo": "GBPUSD",
            "candles": json.dumps(candles_of("0+++")),
            "lastUpdated": 1000.0,
        },  # the original's JSON string
        {
            "ativo": "USDJPY",
            "candles": candles_of("---"),
            "lastUpdated": 900.0,
        },  # stale at 1000 with max_age 5
        {"ativo": "AUDCAD", "candles": "{not json", "lastUpdated": 1000.0},
    ]
    assert sequence_finder.find(docs, "-1,-1,-1", "call", True, now=1000.0, max_age=5) == [
        ("EURUSD", "call"),
        ("GBPUSD", "put"),
    ]
    assert "AUDCAD" in caplog.text  # the unreadable document is reported, not silently dropped
    # without a clock, staleness is not judged
    assert ("USDJPY", "call") in sequence_finder.find(docs, "-1,-1,-1", "call")

    nine_reds, three_greens = Strategy((-1,) * 9, "call"), Strategy((1, 1, 1), "put")
    assert sequence_finder.find_all(docs, [nine_reds, three_greens, three_greens]) == {
        nine_reds: [],
        three_greens: [("GBPUSD", "put")],
    }
