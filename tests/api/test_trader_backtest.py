"""backtestStrategy in money: net at each pair's payout, equity, drawdown, streak, break-even."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from glimpse.backtest.engine import backtest_report
from glimpse.backtest.stats import break_even
from glimpse.rules.money import MoneyPlan
from glimpse.store import db as names

COLOUR = {"+": 1, "-": -1, "0": 0}


def _planted(seed: int, size: int = 3000) -> str:
    """Random colours, except that two reds are always followed by a green: "-1,-1" call has an edge."""
    rng = np.random.default_rng(seed)
    out: list[str] = []
    for ch in rng.choice(list("+-0"), size=size, p=[0.49, 0.48, 0.03]):
        out.append("+" if out[-2:] == ["-", "-"] else str(ch))
    return "".join(out)


@pytest.fixture
def stored(db):
    strings = {"EURUSD": _planted(1), "GBPUSD": _planted(2)}
    db[names.TEST_CANDLES].insert_many(
        [{"ativo": p, "candles": t, "start": datetime(2024, 5, 1, 3, 0)} for p, t in strings.items()]
    )
    db[names.OPENED_ACTIVES].insert_many(
        [
            {"ativo": "EURUSD", "open": "True", "payout": 87},
            {"ativo": "GBPUSD", "open": "True", "payout": "80"},
        ]
    )
    return {p: np.array([COLOUR[c] for c in t], dtype=np.int8) for p, t in strings.items()}


def _ask(client, user, **body):
    response = client.post("/glimpse/backtestStrategy", json=body, headers=user.headers)
    assert response.status_code == 200, response.json
    return response.json


def test_each_pair_nets_at_its_own_payout_as_the_engine_counts(client, user, stored):
    report = _ask(client, user, sequence="-1,-1", operation="call", gales=1, stake=2, galeType="dobro")
    for pair, payout in (("EURUSD", 87), ("GBPUSD", 80)):
        engine = backtest_report({pair: stored[pair]}, "-1,-1", "call", False, 1, sequential=True,
                                 money=MoneyPlan.of(2, "dobro", payout))["total"]  # fmt: skip
        mine = report["pairs"][pair]
        assert mine["payout"] == payout
        for key in ("net_profit", "max_drawdown", "longest_losing_streak", "win_at", "loss"):
            assert mine[key] == engine[key], (pair, key)
        assert mine["equity"][-1] == engine["equity"][-1] and mine["equity"][0] == 0
        assert mine["break_even"] == pytest.approx(break_even(MoneyPlan.of(2, "dobro", payout), 1))
        assert mine["hit_rate"] == engine["win_rate_cumulative"][-1]
    total = report["total"]
    assert total["net_profit"] == pytest.approx(
        sum(report["pairs"][p]["net_profit"] for p in stored), abs=1e-9
    )
    assert total["net_profit"] > 0 and total["hit_rate"] > total["break_even"]  # the planted edge pays
    assert len(total["equity"]) <= 241
    assert report["money"] == {"stake": 2, "galeType": "dobro", "sobra": 0, "gales": 1}
    assert report["period"] == {"from": 1714532400.0, "to": 1714532400.0 + 3000 * 60, "source": "stored"}


def test_a_strategy_against_the_edge_loses_money_and_says_so(client, user, stored):
    total = _ask(client, user, sequence="-1,-1", operation="put", gales=2, stake=5, galeType="cobrir")[
        "total"
    ]
    assert total["net_profit"] < 0 and total["hit_rate"] < total["break_even"]
    assert total["max_drawdown"] >= -total["net_profit"] > 0
    assert total["longest_losing_streak"] >= 1


def test_last_hours_of_the_paper_market(client, user, clock):
    report = _ask(client, user, sequence="1,1", operation="put", gales=1, pairs=["EURUSD"], hours=6, stake=2,
                  galeType="sobra", sobra=1)  # fmt: skip
    period = report["period"]
    assert period["source"] == "paper" and period["to"] - period["from"] == 6 * 3600
    assert period["to"] <= clock.now() < period["to"] + 60
    assert 80 <= report["pairs"]["EURUSD"]["payout"] <= 92  # the paper market's own, no stored payout here
    assert report["pairs"]["EURUSD"]["signals"] > 0


def test_without_a_stake_the_original_shape_is_kept(client, user, stored):
    report = _ask(client, user, sequence="-1,-1", operation="call", gales=1)
    assert set(report) == {"total", "pairs"} and "net_profit" not in report["total"]


@pytest.mark.parametrize(
    "change, field",
    [({"hours": 721}, "hours"), ({"hours": 2, "days": 1}, "hours"), ({"stake": 0.5}, "stake"),
     ({"galeType": "triple"}, "galeType"), ({"sobra": -1}, "sobra")],
)  # fmt: skip
def test_bad_money_bodies_name_the_field(client, user, change, field):
    body = {"sequence": "1,1", "operation": "put", "stake": 2, **change}
    response = client.post("/glimpse/backtestStrategy", json=body, headers=user.headers)
    assert response.status_code == 400 and response.json["field"] == field
