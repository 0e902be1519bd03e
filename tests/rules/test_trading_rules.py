"""Stops, pair selection and timing: pure rules."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from glimpse.rules import selection, stops, timing

SETTINGS = {"stopLoss": True, "stopLossValue": 20, "stopWin": True, "stopWinValue": 10}


def test_stops_on_the_net_result():
    assert stops.stop_reached(Decimal("-20"), SETTINGS) == stops.STOP_LOSS
    assert stops.stop_reached(Decimal("-19.99"), SETTINGS) is None
    assert stops.stop_reached(10, SETTINGS) == stops.STOP_WIN
    assert stops.stop_reached(9.99, SETTINGS) is None
    assert stops.stop_reached(-100, dict(SETTINGS, stopLoss=False)) is None
    assert stops.stop_reached(100, dict(SETTINGS, stopWin=False)) is None


@given(
    net=st.decimals(min_value=-1000, max_value=1000, places=2),
    loss=st.decimals(0, 500, places=2),
    win=st.decimals(0, 500, places=2),
)
def test_stop_reached_matches_its_definition(net, loss, win):
    settings = {"stopLoss": True, "stopLossValue": loss, "stopWin": True, "stopWinValue": win}
    result = stops.stop_reached(net, settings)
    if net <= -loss:
        assert result == stops.STOP_LOSS
    elif net >= win:
        assert result == stops.STOP_WIN
    else:
        assert result is None


@given(
    net=st.decimals(min_value=-1000, max_value=1000, places=2),
    loss_on=st.booleans(),
    win_on=st.booleans(),
)
def test_without_a_stop_enabled_no_net_reaches_one(net, loss_on, win_on):
    """The order desk skips reading a session's net when has_stop says no stop can be reached."""
    settings = {"stopLoss": loss_on, "stopLossValue": 0, "stopWin": win_on, "stopWinValue": 0}
    assert stops.has_stop(settings) == (loss_on or win_on)
    if not stops.has_stop(settings):
        assert stops.stop_reached(net, settings) is None
    else:
        assert stops.stop_reached(0, settings) is not None  # a zero bound is met at once


def test_priority_decides_when_stops_are_checked():
    assert stops.checks_now("gale", cycle_over=True) and not stops.checks_now("gale", cycle_over=False)
    assert stops.checks_now("stop", cycle_over=True) and stops.checks_now("stop", cycle_over=False)
    with pytest.raises(ValueError):
        stops.checks_now("never", True)


def test_payout_rule():
    assert selection.payout_passes(87, "> 85") and selection.payout_passes(85, "> 85")
    assert not selection.payout_passes(84, "> 85")
    assert selection.payout_passes(85, "= 85") and not selection.payout_passes(86, "= 85")
    with pytest.raises(ValueError):
        selection.payout_passes(85, ">85")


ACTIVES: list[dict[str, Any]] = [
    {"ativo": "EURUSD", "open": "True", "payout": "87"},
    {"ativo": "GBPUSD", "open": "True", "payout": "91"},
    {"ativo": "USDJPY", "open": "False", "payout": 0},
    {"ativo": "AUDCAD", "open": "True", "payout": "80"},
    {"ativo": "EURJPY", "open": "True", "payout": "91"},
]


def test_eligible_pairs():
    fresh = {a["ativo"]: 100.0 for a in ACTIVES}
    assert selection.eligible_pairs(ACTIVES, "todos", "> 85", fresh, now=103.0) == {
        "EURUSD": 87,
        "GBPUSD": 91,
        "EURJPY": 91,
    }
    assert selection.eligible_pairs(ACTIVES, "EURUSD,USDJPY,AUDCAD", "> 75", fresh, now=103.0) == {
        "EURUSD": 87,
        "AUDCAD": 80,
    }
    assert selection.eligible_pairs(ACTIVES, "todos", "= 91", fresh, now=103.0) == {
        "GBPUSD": 91,
        "EURJPY": 91,
    }
    stale = dict(fresh, GBPUSD=90.0)
    assert "GBPUSD" not in selection.eligible_pairs(ACTIVES, "todos", "> 85", stale, now=103.0)
    assert selection.eligible_pairs(ACTIVES, "todos", "> 85", {}, now=103.0) == {}


def test_best_match_takes_the_highest_payout_then_the_name():
    payouts = {"EURUSD": 87, "GBPUSD": 91, "EURJPY": 91}
    matches = [("EURUSD", "call"), ("GBPUSD", "put"), ("EURJPY", "call"), ("USDJPY", "call")]
    assert selection.best_match(matches, payouts) == ("EURJPY", "call")
    assert selection.best_match([("USDJPY", "call")], payouts) is None


def test_decision_instants():
    assert timing.next_decision(120.0) == 178.5
    assert timing.next_decision(178.5) == 178.5
    assert timing.next_decision(178.6) == 238.5
    assert timing.next_decision(0.0, second=0.0) == 0.0
    with pytest.raises(ValueError):
        timing.next_decision(0.0, second=60)


def test_signal_minute_is_the_one_after_the_decision():
    zone = ZoneInfo("America/Sao_Paulo")
    # 2024-06-03 13:29:58.5 UTC = 10:29:58.5 in São Paulo: the next minute is 10:30.
    assert timing.coming_minute(1717421398.5, zone) == "10:30"
    assert timing.local_day(1717421398.5, zone) == "2024-06-03"
    # 2024-06-04 03:00 UTC is midnight in São Paulo: the next midnight is a day away; an hour before, one hour.
    assert timing.seconds_until_local_midnight(1717470000.0, zone) == 86400.0
    assert timing.seconds_until_local_midnight(1717470000.0 - 3600, zone) == 3600.0
