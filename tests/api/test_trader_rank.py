"""The rank orders traders by their net result for the period, not by gross wins."""

from __future__ import annotations

from glimpse.store import db as names


def _set_period(db, email: str, profit_cents: int, loss_cents: int) -> None:
    db[names.ACCOUNTS].update_one(
        {"email": email}, {"$set": {"iqPeriodProfit": profit_cents, "iqPeriodLoss": loss_cents}}
    )


def test_a_net_loser_never_ranks_above_a_net_winner(client, db, user, other_user):
    # The case: large gross wins, net −7.42, against a modest +1.00.
    _set_period(db, user.email, 8784, 9526)
    _set_period(db, other_user.email, 100, 0)
    rank = client.post("/glimpse/getRank", json={}, headers=user.headers).json
    assert [(r["me"], round(r["profit"] - r["loss"], 2)) for r in rank] == [(False, 1.0), (True, -7.42)]


def test_rank_is_by_net_over_many_traders_and_ties_are_stable(client, db, make_user):
    me = make_user("ana@example.com")
    figures = {"b@example.com": (5000, 4999), "c@example.com": (300, 0), "d@example.com": (0, 0)}
    for email, (profit, loss) in figures.items():
        make_user(email, name="Outra Pessoa")
        _set_period(db, email, profit, loss)
    _set_period(db, me.email, 200, 0)
    nets = [
        round(r["profit"] - r["loss"], 2)
        for r in client.post("/glimpse/getRank", json={}, headers=me.headers).json
    ]
    assert nets == sorted(nets, reverse=True) == [3.0, 2.0, 0.01, 0.0]


def test_legacy_reais_floats_rank_like_cents(client, db, user, other_user):
    # A document written before the cents conversion holds reais as floats.
    db[names.ACCOUNTS].update_one(
        {"email": user.email}, {"$set": {"iqPeriodProfit": 12.5, "iqPeriodLoss": 0.0}}
    )
    _set_period(db, other_user.email, 1200, 0)
    rank = client.post("/glimpse/getRank", json={}, headers=user.headers).json
    assert [(r["me"], r["profit"]) for r in rank] == [(True, 12.5), (False, 12.0)]
