"""getCandles: one pair's one-minute candles by time range, for the app's candlestick charts."""

from __future__ import annotations

import pytest

from api import create_app
from glimpse.market.paper_market import PaperMarket
from glimpse.store import db as names
from tests.api.conftest import app, broker_check, client, make_user, manager, user  # noqa: F401 (fixtures)

ROUTE = "/glimpse/getCandles"


def _get(client, headers, **params):  # noqa: F811 (the fixture's name)
    return client.get(ROUTE, query_string=params, headers=headers)


def _market(config) -> PaperMarket:
    return PaperMarket(config.paper_seed, config.paper_payout_min, config.paper_payout_max)


def test_a_past_range_is_the_paper_markets_candles(client, user, config, clock):  # noqa: F811
    now = int(clock.now())
    start = now - now % 60 - 30 * 60
    answer = _get(client, user.headers, pair="EURUSD", **{"from": start, "to": start + 9 * 60})
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert body["pair"] == "EURUSD" and body["size"] == 60 and body["source"] == "paper"
    candles = body["candles"]
    assert [c["from"] for c in candles] == [start + 60 * i for i in range(10)]
    # The same candles every process of the bundle sees (the market is a pure function of time).
    assert candles == _market(config).candles("EURUSD", start, 10)
    for c in candles:
        assert c["l"] <= min(c["o"], c["c"]) <= max(c["o"], c["c"]) <= c["h"]


def test_the_range_stops_at_the_forming_candle(client, user, config, clock):  # noqa: F811
    clock.set(clock.now() + 25)  # 25 s into a minute
    now = clock.now()
    minute = int(now) - int(now) % 60
    answer = _get(client, user.headers, pair="EURUSD-OTC", **{"from": minute - 120, "to": minute + 600})
    candles = answer.json["candles"]
    assert [c["from"] for c in candles] == [minute - 120, minute - 60, minute]
    # Nothing after now is revealed: the forming candle closes at the quote of now.
    assert candles[-1]["c"] == pytest.approx(_market(config).price("EURUSD-OTC", now))


def test_count_instead_of_to_and_unaligned_from(client, user, clock):  # noqa: F811
    now = int(clock.now())
    start = now - now % 60 - 3600
    answer = _get(client, user.headers, pair="gbpusd", count=5, **{"from": start + 17})
    assert answer.status_code == 200
    assert answer.json["pair"] == "GBPUSD"
    assert [c["from"] for c in answer.json["candles"]] == [start + 60 * i for i in range(5)]


def test_a_range_in_the_future_is_empty(client, user, clock):  # noqa: F811
    now = int(clock.now())
    answer = _get(client, user.headers, pair="EURUSD", **{"from": now + 600, "to": now + 1200})
    assert answer.status_code == 200
    assert answer.json["candles"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": 1_717_419_000, "to": 1_717_419_600}, "pair"),
        ({"pair": "XAUUSD", "from": 1_717_419_000, "to": 1_717_419_600}, "pair"),
        ({"pair": "EURUSD", "to": 1_717_419_600}, "from"),
        ({"pair": "EURUSD", "from": "yesterday", "to": 1_717_419_600}, "from"),
        ({"pair": "EURUSD", "from": "nan", "to": 1_717_419_600}, "from"),
        ({"pair": "EURUSD", "from": 12, "to": 1_717_419_600}, "from"),
        ({"pair": "EURUSD", "from": 1_717_419_000}, "to"),
        ({"pair": "EURUSD", "from": 1_717_419_000, "to": 1_717_418_000}, "to"),
        ({"pair": "EURUSD", "from": 1_717_000_000, "to": 1_717_419_600}, "to"),
        ({"pair": "EURUSD", "from": 1_717_419_000, "count": 0}, "count"),
        ({"pair": "EURUSD", "from": 1_717_419_000, "count": 721}, "count"),
        ({"pair": "EURUSD", "from": 1_717_419_000, "count": "-3"}, "count"),
        ({"pair": "EURUSD", "from": 1_717_419_000, "count": 3, "to": 1_717_419_600}, "count"),
    ],
)
def test_bad_parameters_are_400_naming_the_field(client, user, params, field):  # noqa: F811
    answer = _get(client, user.headers, **params)
    assert answer.status_code == 400
    assert answer.json["field"] == field


def test_a_users_token_is_needed(client, manager):  # noqa: F811
    params = {"pair": "EURUSD", "from": 1_717_419_000, "count": 3}
    assert _get(client, {}, **params).status_code == 401
    assert _get(client, {"Authorization": "Bearer not-a-token"}, **params).status_code == 401
    assert _get(client, manager.headers, **params).status_code in (401, 403)


def test_with_the_real_broker_the_streams_candles_in_range(config, db, clock, user, broker_check):  # noqa: F811
    live = create_app(
        config.with_(broker="iqoption"), db=db, clock=clock, check_broker_credentials=broker_check
    )
    now = int(clock.now())
    minute = now - now % 60
    stored = [{"from": minute - 60 * i, "o": 1.1, "c": 1.2, "h": 1.3, "l": 1.0} for i in range(14, -1, -1)]
    db[names.REALTIME_CANDLES].insert_one({"ativo": "EURUSD", "candles": stored, "lastUpdated": now})
    answer = live.test_client().get(
        ROUTE, query_string={"pair": "EURUSD", "from": minute - 300, "to": minute - 120}, headers=user.headers
    )
    assert answer.status_code == 200
    body = answer.json
    assert body is not None and body["source"] == "stream"
    assert [c["from"] for c in body["candles"]] == [minute - 300 + 60 * i for i in range(4)]
    # A pair the streams hold nothing of: no candles, not an error.
    other = live.test_client().get(
        ROUTE, query_string={"pair": "GBPUSD", "from": minute - 300, "count": 3}, headers=user.headers
    )
    assert other.status_code == 200
    assert other.json is not None and other.json["candles"] == []
