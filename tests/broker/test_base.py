"""glimpse.market.base: IQ Option's expiry rule and the shared argument checks."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from glimpse.market.base import BrokerTimeout, Rejected, check_order, turbo_expiry

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


def test_the_rule_matches_the_client_librarys_own():
    from iqoptionapi.expiration import get_expiration_time

    now = int(time.time())
    for minutes in (1, 2, 3, 4, 5):
        assert get_expiration_time(now, minutes)[0] == turbo_expiry(now, minutes)


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
