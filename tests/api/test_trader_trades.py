"""getUserTrades and exportUserTrades: the caller's own ledger, filtered, paged, in reais, and as CSV."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from glimpse.store import operations_log, trades

T0 = 1_717_419_600.0  # the clock fixture: Monday 2024-06-03 10:00 in São Paulo


def _trade(db, user: str, at: float, *, ativo="EURUSD", level=0, stake="2.00", profit: str | None = "1.74",
           session="s1", account="PRACTICE", open_price=1.08512, close_price=1.08530):  # fmt: skip
    t = trades.record_intent(
        db, user=user, session=session, server="srv", ativo=ativo, operacao="call", amount=Decimal(stake),
        gale_level=level, payout=87, decided_at=at, cycle=f"c{int(at)}", account=account,
    )  # fmt: skip
    trades.mark_open(
        db, t.id, 1000 + int(at) % 1000, at + 1, open_price, expires_at=at + 60, quote_source="broker"
    )
    if profit is not None:
        trades.settle(db, t.id, Decimal(profit), at + 61, close_price, close_source="broker")
    return t.id


@pytest.fixture
def ledger(db, user, other_user):
    operations_log.start(db, user=user.id, session="s1", mode="strategy", strategy={"name": "x"}, money={},
                         account_type="PRACTICE", now=T0)  # fmt: skip
    operations_log.start(db, user=user.id, session="s2", mode="signals", strategy=None, money={},
                         account_type="REAL", now=T0)  # fmt: skip
    ids = [
        _trade(db, user.id, T0, profit="1.74"),
        _trade(db, user.id, T0 + 60, level=1, stake="4.30", profit="-4.30", close_price=1.08400),
        _trade(db, user.id, T0 + 120, ativo="GBPUSD", profit="0.00"),
        # The next day in São Paulo (03:00 UTC on the 4th is 00:00 there).
        _trade(
            db,
            user.id,
            T0 + 14 * 3600 + 60,
            ativo="GBPUSD",
            stake="10.00",
            profit="-10.00",
            session="s2",
            account="REAL",
        ),  # fmt: skip
        _trade(db, user.id, T0 + 14 * 3600 + 120, profit=None, session="s2", account="REAL"),  # still open
        _trade(db, other_user.id, T0 + 30, profit="99.00"),
    ]
    return ids


def _ask(client, user, **body):
    response = client.post("/glimpse/getUserTrades", json=body, headers=user.headers)
    assert response.status_code == 200, response.json
    return response.json


def test_only_the_callers_trades_newest_first_in_reais(client, user, ledger):
    answer = _ask(client, user)
    items = answer["items"]
    assert len(items) == 5 and answer["next"] is None
    assert [i["decidedAt"] for i in items] == sorted((i["decidedAt"] for i in items), reverse=True)
    assert all(i["user"] == user.id for i in items)
    second = next(i for i in items if i["galeLevel"] == 1)
    assert (second["amount"], second["profit"], second["result"]) == (4.3, -4.3, "loss")
    assert (second["openPrice"], second["closePrice"]) == (1.08512, 1.084)
    assert "moneyUnit" not in second
    assert answer["totals"] == {
        "trades": 5,
        "wins": 1,
        "losses": 2,
        "dojis": 1,
        "staked": 18.3,
        "net": -12.56,
    }


def test_filters_by_day_in_sao_paulo_pair_result_mode_and_account(client, user, ledger):
    first_day = _ask(client, user, fromDate="2024-06-03", toDate="2024-06-03")
    assert len(first_day["items"]) == 3 and first_day["totals"]["net"] == -2.56
    assert len(_ask(client, user, fromDate="2024-06-04")["items"]) == 2
    assert {i["ativo"] for i in _ask(client, user, ativo="GBPUSD")["items"]} == {"GBPUSD"}
    assert [i["profit"] for i in _ask(client, user, result="loss")["items"]] == [-10.0, -4.3]
    assert [i["status"] for i in _ask(client, user, result="open")["items"]] == ["open"]
    assert len(_ask(client, user, mode="signals")["items"]) == 2
    assert len(_ask(client, user, mode="strategy")["items"]) == 3
    assert len(_ask(client, user, mode="copy")["items"]) == 0
    assert {i["account"] for i in _ask(client, user, account="REAL")["items"]} == {"REAL"}


def test_pages_cover_every_trade_once(client, user, ledger):
    seen, cursor = [], None
    while True:
        page = _ask(client, user, limit=2, **({"cursor": cursor} if cursor else {}))
        assert len(page["items"]) <= 2 and page["totals"]["trades"] == 5
        seen += [i["_id"] for i in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 5


@pytest.mark.parametrize(
    "body, field",
    [({"fromDate": "03/06/2024"}, "fromDate"), ({"result": "maybe"}, "result"), ({"limit": 0}, "limit"),
     ({"cursor": "!!"}, "cursor"), ({"mode": "auto"}, "mode"), ({"fromDate": "2024-13-45"}, "fromDate")],
)  # fmt: skip
def test_bad_bodies_name_the_field(client, user, body, field):
    response = client.post("/glimpse/getUserTrades", json=body, headers=user.headers)
    assert response.status_code == 400 and response.json["field"] == field


def test_needs_a_token(client):
    assert client.post("/glimpse/getUserTrades", json={}).status_code == 401
    assert client.post("/glimpse/exportUserTrades", json={}).status_code == 401


def test_csv_export_matches_the_ledger(client, db, user, ledger):
    response = client.post("/glimpse/exportUserTrades", json={}, headers=user.headers)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    ledger_rows = {str(t.id): t for t in trades.of_user(db, user.id)}
    assert {r["id"] for r in rows} == set(ledger_rows)
    for row in rows:
        trade = ledger_rows[row["id"]]
        # Money exact from the ledger's integer cents.
        assert Decimal(row["amount"]) * 100 == trade.amount
        assert (
            (row["profit"] == "") if trade.profit is None else (Decimal(row["profit"]) * 100 == trade.profit)
        )
        assert (row["ativo"], int(row["galeLevel"]), row["result"]) == (
            trade.ativo,
            trade.galeLevel,
            trade.result or "",
        )
        assert float(row["openPrice"]) == trade.openPrice
        # São Paulo time, with its offset.
        assert row["time"].endswith("-03:00")
    assert sum(Decimal(r["profit"] or "0") for r in rows) == Decimal("-12.56")


def test_csv_export_applies_the_filters(client, user, ledger):
    text = client.post("/glimpse/exportUserTrades", json={"ativo": "GBPUSD"}, headers=user.headers).get_data(
        as_text=True
    )
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["ativo"] for r in rows] == ["GBPUSD", "GBPUSD"]
    assert rows[0]["time"] == "2024-06-04T00:01:00-03:00"
