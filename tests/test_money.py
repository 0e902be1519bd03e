"""glimpse.rules.money: rounding to cents, the gale formulas, cycle results, Glimpse's money rule."""

from __future__ import annotations

from decimal import Decimal

import pytest

from glimpse.rules.money import (
    GLIMPSE_MM,
    MoneyPlan,
    cents,
    cycle_nets,
    gale_entries,
    money_management,
    to_decimal,
    win_profit,
)

D = Decimal


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (2.675, "2.68"),  # the float 2.675 is 2.67499999...; its shortest repr is what the user typed
        (2.665, "2.67"),
        (1.005, "1.01"),
        (-1.005, "-1.01"),  # half up means away from zero
        (D("3.4482758"), "3.45"),
        ("7.4137", "7.41"),
        (5, "5.00"),
        (0, "0.00"),
    ],
)
def test_cents_rounds_half_up_to_a_cent(value, expected):
    assert cents(value) == D(expected)
    assert str(cents(value)) == expected


@pytest.mark.parametrize("bad", ["abc", "", float("nan"), float("inf"), True, None, [1]])
def test_cents_rejects_what_is_not_a_finite_number(bad):
    with pytest.raises(ValueError, match="amount"):
        cents(bad)


def test_to_decimal_names_the_field():
    with pytest.raises(ValueError, match="stake"):
        to_decimal("x", "stake")


def test_sobra_worked_example():
    # stake 2, payout 87 %, sobra 1, two gales:
    #   gale 1 = (2 + 1) / 0.87 = 3.4482... -> 3.45
    #   gale 2 = (2 + 3.45 + 1) / 0.87 = 6.45 / 0.87 = 7.4137... -> 7.41
    assert gale_entries(2, "sobra", 2, 87, 1) == [D("2.00"), D("3.45"), D("7.41")]


def test_cobrir_worked_example():
    # stake 5, payout 85 %, two gales:
    #   gale 1 = 5 / 0.85 = 5.882... -> 5.88
    #   gale 2 = (5 + 5.88) / 0.85 = 10.88 / 0.85 = 12.8 exactly
    assert gale_entries(5, "cobrir", 2, 85) == [D("5.00"), D("5.88"), D("12.80")]


def test_dobro_worked_example():
    assert gale_entries(10, "dobro", 3, 80) == [D("10"), D("20"), D("40"), D("80")]


def test_gale_entries_without_gales_is_the_stake_rounded():
    assert gale_entries("2.005", "sobra", 0, 87, 1) == [D("2.01")]


def test_gale_entries_build_on_rounded_previous_entries():
    # cobrir at 70 %: 1 / 0.7 = 1.428571 -> 1.43; (1 + 1.43) / 0.7 = 3.4714 -> 3.47;
    # (1 + 1.43 + 3.47) / 0.7 = 8.428571 -> 8.43
    assert gale_entries(1, "cobrir", 3, 70) == [D("1.00"), D("1.43"), D("3.47"), D("8.43")]


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((0, "dobro", 1, 80), "stake"),
        ((-2, "dobro", 1, 80), "stake"),
        ((2, "martingale", 1, 80), "gale type"),
        ((2, "dobro", 11, 80), "gale count"),
        ((2, "dobro", -1, 80), "gale count"),
        ((2, "dobro", 1.5, 80), "gale count"),
        ((2, "cobrir", 1, 0), "payout"),
        ((2, "sobra", 1, "x"), "payout"),
    ],
)
def test_gale_entries_reject_bad_settings(args, field):
    with pytest.raises(ValueError, match=field):
        gale_entries(*args)


def test_gale_entries_reject_negative_sobra():
    with pytest.raises(ValueError, match="sobra"):
        gale_entries(2, "sobra", 1, 87, -1)


def test_win_profit_is_rounded_to_cents():
    assert win_profit(2, 87) == D("1.74")
    assert win_profit("3.45", 87) == D("3.00")  # 3.0015
    assert win_profit("7.41", 87) == D("6.45")  # 6.4467


def test_cycle_nets_of_the_sobra_example():
    entries = gale_entries(2, "sobra", 2, 87, 1)
    wins, loss = cycle_nets(entries, 87)
    # level 0: 1.74; level 1: 3.00 - 2 = 1.00; level 2: 6.45 - (2 + 3.45) = 1.00 (sobra keeps about 1 over)
    assert wins == [D("1.74"), D("1.00"), D("1.00")]
    assert loss == D("-12.86")


def test_money_plan_validates_and_builds_entries():
    plan = MoneyPlan.of("2", "sobra", 87, 1)
    assert plan.entries(2) == [D("2.00"), D("3.45"), D("7.41")]
    assert plan.nets(0) == ([D("1.74")], D("-2.00"))
    with pytest.raises(ValueError, match="gale type"):
        MoneyPlan.of(2, "triple", 87)


def test_glimpse_strategies_force_their_money_management():
    settings = {"money": 50, "gale": False, "galeCount": 3, "galeType": "dobro", "sobra": 0, "stopLoss": True}
    forced = money_management(settings, {"name": "Nine reds", "createdBy": "Glimpse"})
    assert forced == {
        "money": 2,
        "gale": True,
        "galeCount": 1,
        "galeType": "sobra",
        "sobra": 1,
        "stopLoss": True,
    }
    assert settings["money"] == 50  # the user's settings are left alone
    assert dict(GLIMPSE_MM) == {"money": 2, "gale": True, "galeCount": 1, "galeType": "sobra", "sobra": 1}


def test_other_strategies_keep_the_users_money_management():
    settings = {"money": 50, "gale": True, "galeCount": 3, "galeType": "dobro"}
    assert money_management(settings, {"createdBy": "maria@example.com"}) == settings
    assert money_management(settings) == settings
