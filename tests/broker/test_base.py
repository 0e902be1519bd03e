"""glimpse.market.base: IQ Option's expiry rule and the shared argument checks."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from glimpse.market.base import (
    BINARY,
    TURBO,
    BrokerTimeout,
    Rejected,
    check_order,
    expiry_at,
    option_expiry,
    turbo_expiry,
)

T = 1_717_419_600  # a minute boundary


@pytest.mark.parametrize(
    "second, expiry",
    [(0, 60), (29, 60), (29.9, 60), (30, 120), (30.5, 120), (45, 120), (59.99, 120)],
)
def test_the_next_minute_or_the_one_after_when_thirty_seconds_or_less_remain(second, expiry):
    assert turbo_expiry(T + second) == T + expiry


def test_longer_turbo_options_add_whole_minutes():
    assert [turbo_expiry(T + 10, minutes) for minutes in (1, 2, 5)] == [T + 60, T + 120, T + 300]
    assert turbo_expiry(T + 50, 3) == T + 240


def test_the_rule_matches_the_client_librarys_own(monkeypatch):
    from iqoptionapi import expiration

    now = int(time.time())
    # The library also reads time.time() itself: pinned, a second ticking over between the two
    # readings (at 30 s left in the minute) cannot make them disagree.
    monkeypatch.setattr(expiration.time, "time", lambda: float(now))
    for minutes in (1, 2, 3, 4, 5):
        assert expiration.get_expiration_time(now, minutes)[0] == turbo_expiry(now, minutes)


@pytest.mark.parametrize("minutes", [1, 2, 3, 4, 5, 15])
def test_option_expiry_and_type_match_the_client_library_all_hour_long(minutes, monkeypatch):
    from iqoptionapi import expiration

    # The library counts the time left from time.time(): pin it to the instant asked about.
    for offset in range(0, 3600, 7):
        now = T + offset
        monkeypatch.setattr(expiration.time, "time", lambda now=now: float(now))
        exp, index = expiration.get_expiration_time(now, minutes)
        # The library's buyv3 makes a turbo option (type 3) of the first five candidates, else binary (1).
        assert option_expiry(now, minutes) == (exp, TURBO if index < 5 else BINARY), (offset, minutes)
        assert expiry_at(now + 0.9, minutes) == exp


def test_fifteen_minutes_is_a_binary_option_on_a_quarter_hour():
    # 10:00:00 -> 10:15 (15 min left); 10:07:30 -> 10:15 (7.5 min, nearer than 22.5); 10:08 -> 10:30.
    assert option_expiry(T, 15) == (T + 900, BINARY)
    assert option_expiry(T + 450, 15) == (T + 900, BINARY)
    assert option_expiry(T + 480, 15) == (T + 1800, BINARY)
    assert option_expiry(T + 10, 5) == (T + 300, TURBO)
    assert check_order(1, "EURUSD", "call", 15) == Decimal("1.00")
    for minutes in (0, 6, 10, 30):
        with pytest.raises(ValueError):
            check_order(1, "EURUSD", "call", minutes)


def test_orders_are_checked_and_rounded_to_cents():
    assert check_order("10.005", "EURUSD", "call", 1) == Decimal("10.01")
    assert check_order(2, "EURUSD-OTC", "put", 5) == Decimal("2.00")
    for args in [
        (1, "EURUSD", "CALL", 1),
        (0.004, "EURUSD", "call", 1),
        (1, "EURUSD", "call", True),
        (1, "EUR", "call", 1),
    ]:
        with pytest.raises(ValueError):
            check_order(*args)


def test_errors_carry_what_the_caller_needs():
    assert Rejected("Insufficient funds").reason == "Insufficient funds"
    assert BrokerTimeout("late", order_may_exist=True).order_may_exist is True
    assert BrokerTimeout("late").order_may_exist is False
