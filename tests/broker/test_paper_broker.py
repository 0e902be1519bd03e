"""The paper broker: accounts, balances and settlements shared through MongoDB, time from the clock."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from decimal import Decimal
from typing import Any

import pytest
from pymongo.errors import ServerSelectionTimeoutError

from glimpse.market import AuthError, BrokerTimeout, Rejected, Unreachable, check_credentials, open_broker
from glimpse.market.base import AssetClosed, turbo_expiry
from glimpse.market.paper import PaperBroker
from glimpse.market.paper_market import PaperMarket
from glimpse.rules.money import win_profit
from glimpse.runtime.clock import FastClock, ManualClock
from glimpse.runtime.security import is_hashed
from glimpse.store.db import ACTIVES_SCHEDULE, PAPER_BALANCES
from glimpse.store.seed import COLLECTIONS_DIR, load_collection

EMAIL, PASSWORD = "trader@example.com", "paper-password"
MONDAY_10H = 1_717_419_600.0  # 2024-06-03 10:00 in São Paulo


@pytest.fixture
def paper_config(config):
    return config.with_(broker="paper")


@pytest.fixture
def schedule(db):
    db[ACTIVES_SCHEDULE].insert_many(load_collection(COLLECTIONS_DIR / "ActivesSchedule.json"))


def connected(config, db, clock, email=EMAIL, password=PASSWORD) -> PaperBroker:
    broker = open_broker(config, db, clock, email, password)
    assert isinstance(broker, PaperBroker)
    broker.connect()
    return broker


def account(db, email=EMAIL) -> dict:
    return db[PAPER_BALANCES].find_one({"email": email})


def test_the_first_connect_registers_the_account_with_a_password_hash(paper_config, db, clock):
    connected(paper_config, db, clock, email="  Trader@Example.com ")
    doc = account(db)
    assert doc["cents"] == {"PRACTICE": 1_000_000, "REAL": 0}
    assert is_hashed(doc["passwordHash"]) and PASSWORD not in json.dumps(doc, default=str)
    assert doc["open"] == [] and doc["settled"] == []
    with pytest.raises(AuthError):
        connected(paper_config, db, clock, password="another-password")
    connected(paper_config, db, clock)  # the registered password still works
    assert db[PAPER_BALANCES].count_documents({}) == 1


@pytest.mark.parametrize("email, password", [("", PASSWORD), (EMAIL, ""), ("not an email", PASSWORD)])
def test_missing_or_malformed_credentials_are_auth_errors(paper_config, db, clock, email, password):
    with pytest.raises(AuthError):
        connected(paper_config, db, clock, email, password)
    assert db[PAPER_BALANCES].count_documents({}) == 0


def test_balances_survive_restarts_and_agree_across_brokers(paper_config, db, clock, schedule):
    first = connected(paper_config, db, clock)
    order_id = first.buy(10, "EURUSD", "call", 1)
    first.close()
    # Another process (here: another broker on the same database) sees the stake gone...
    second = connected(paper_config, db, clock)
    assert second.get_balance() == 9_990.0
    assert account(db)["settled"] == []
    # ...and, once the order has expired, its settlement, though nobody asked for the result.
    clock.advance(120)
    balance = second.get_balance()
    (record,) = account(db)["settled"]
    assert record["id"] == order_id and account(db)["open"] == []
    assert balance == round(
        9_990.0 + {"win": 10 + record["profitCents"] / 100, "loss": 0, "doji": 10}[record["result"]], 2
    )
    first.connect()  # the buyer, back after a restart, reads the same result
    assert first.order_result(order_id, 0) == record["profitCents"] / 100


def test_an_order_settles_exactly_once_when_two_processes_race(paper_config, db, clock, schedule):
    brokers = [connected(paper_config, db, clock) for _ in range(4)]
    order_id = brokers[0].buy(10, "EURUSD", "put", 1)
    clock.advance(120)
    results: list[float] = []
    threads = [
        threading.Thread(target=lambda b=b: results.append(b.order_result(order_id, 0))) for b in brokers
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(results) == 4 and len(set(results)) == 1
    doc = account(db)
    assert len(doc["settled"]) == 1 and doc["open"] == []
    credit = {"win": 10 + results[0], "loss": 0, "doji": 10}[doc["settled"][0]["result"]]
    assert doc["cents"]["PRACTICE"] == 1_000_000 - 1000 + round(credit * 100)


def test_a_doji_settles_exactly_when_the_quote_is_unchanged(paper_config, db, schedule):
    market = PaperMarket(paper_config.paper_seed)
    clock = ManualClock(MONDAY_10H)
    broker = connected(paper_config, db, clock)
    seen = set()
    for i in range(150):
        clock.set(MONDAY_10H + 37 * i + 0.4)
        direction = "call" if i % 2 else "put"
        order_id = broker.buy(1, "EURUSD", direction, 1)
        opened = clock.now()
        profit = broker.order_result(order_id, 120)
        before, after = market.price("EURUSD", opened), market.price("EURUSD", turbo_expiry(opened))
        up = after > before if direction == "call" else after < before
        expected = (
            0.0
            if after == before
            else float(win_profit(1, market.payout("EURUSD", int(opened // 86400))))
            if up
            else -1.0
        )
        assert profit == expected
        seen.add("doji" if after == before else "win" if up else "loss")
    assert seen == {"win", "loss", "doji"}
    # Every record carries the two quotes it was settled on.
    for record in account(db)["settled"]:
        assert (record["result"] == "doji") == (record["openPrice"] == record["closePrice"])


def test_another_process_settles_the_same_orders_the_same_way(paper_config, db, clock, schedule):
    broker = connected(paper_config, db, clock)
    orders = []
    for i in range(40):
        clock.set(MONDAY_10H + 61 * i + 12.5)
        orders.append(broker.buy(5, "USDJPY", "call", 1))
    clock.advance(200)
    profits = [broker.order_result(o, 0) for o in orders]
    records = [
        {k: r[k] for k in ("ativo", "direction", "openedAt", "expiresAt")} for r in account(db)["settled"]
    ]
    code = (
        "import json, sys\n"
        "from glimpse.market.paper_market import PaperMarket\n"
        f"m = PaperMarket({paper_config.paper_seed})\n"
        "print(json.dumps([m.outcome(r['ativo'], r['direction'], r['openedAt'], r['expiresAt']) for r in json.load(sys.stdin)]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], input=json.dumps(records), capture_output=True, text=True, timeout=60
    )
    outcomes = json.loads(done.stdout)
    assert [(p > 0) - (p < 0) for p in profits] == outcomes


def test_the_stake_is_rounded_to_cents_and_leaves_at_purchase(paper_config, db, clock, schedule):
    broker = connected(paper_config, db, clock)
    broker.buy("10.005", "EURUSD", "call", 1)
    assert broker.get_balance() == 9_989.99
    assert account(db)["open"][0]["amountCents"] == 1001


def test_order_result_returns_as_soon_as_the_simulated_expiry_passes(paper_config, db, schedule):
    clock = ManualClock(MONDAY_10H + 40)  # 20 s left in the minute: expiry is the boundary after next
    broker = connected(paper_config, db, clock)
    order_id = broker.buy(10, "EURUSD", "call", 1)
    expiry = account(db)["open"][0]["expiresAt"]
    assert expiry == MONDAY_10H + 120
    with pytest.raises(BrokerTimeout):
        broker.order_result(order_id, 30)
    assert clock.now() == MONDAY_10H + 70  # it waited its whole timeout on the clock
    broker.order_result(order_id, 300)
    assert expiry <= clock.now() < expiry + 0.5  # and no longer than the expiry


def test_waiting_on_an_order_before_it_expires_reads_no_account(paper_config, db, schedule):
    """Hundreds of sessions wait on their orders at once: the waits must not read the database."""
    clock = ManualClock(MONDAY_10H + 40)
    broker = connected(paper_config, db, clock)
    order_id = broker.buy(10, "EURUSD", "call", 1)
    reads: list[str] = []
    accounts = broker._accounts

    class Counting:
        def __getattr__(self, name: str) -> Any:
            reads.append(name)
            return getattr(accounts, name)

    broker._accounts = Counting()
    for _ in range(4):
        with pytest.raises(BrokerTimeout):
            broker.settlement(order_id, 15)
    assert reads == [] and clock.now() == MONDAY_10H + 100  # waited on the clock, read nothing
    settled = broker.settlement(order_id, 300)  # past its expiry: read, settled, like any other
    assert reads and clock.now() == MONDAY_10H + 120
    assert settled.profit == broker.settlement(order_id, 1).profit  # the settlement is kept, read again
    assert account(db)["open"] == [] and len(account(db)["settled"]) == 1


def test_a_market_day_runs_in_moments_on_a_fast_clock(paper_config, db, schedule):
    clock = FastClock(speed=3000, start=MONDAY_10H)
    broker = connected(paper_config, db, clock)
    total = Decimal(0)
    for _ in range(20):
        total += Decimal(str(broker.order_result(broker.buy(2, "GBPUSD", "put", 1), 300)))
    assert clock.now() - MONDAY_10H >= 20 * 60  # twenty one-minute orders of market time
    assert Decimal(str(broker.get_balance())) == Decimal(10_000) + total


def test_the_stream_shows_the_forming_candle(paper_config, db, schedule):
    clock = ManualClock(MONDAY_10H + 10)
    broker = connected(paper_config, db, clock)
    broker.start_stream("EURUSD", 15)
    first = broker.stream_candles("EURUSD")
    clock.advance(40)
    later = broker.stream_candles("EURUSD")
    market = PaperMarket(paper_config.paper_seed)
    assert len(first) == 15 and first[-1]["from"] == MONDAY_10H and first[:-1] == later[:-1]
    assert first[-1]["c"] == market.price("EURUSD", MONDAY_10H + 10)
    assert later[-1]["c"] == market.price("EURUSD", MONDAY_10H + 50)
    clock.advance(20)
    assert broker.stream_candles("EURUSD")[-1]["from"] == MONDAY_10H + 60


def test_pairs_open_and_close_with_the_schedule(paper_config, db, schedule):
    clock = ManualClock(MONDAY_10H)
    broker = connected(paper_config, db, clock)
    monday = broker.open_assets()
    assert monday["EURUSD"]["open"] and not monday["EURUSD-OTC"]["open"]
    clock.set(MONDAY_10H + 5 * 86400 + 7200)  # Saturday noon
    saturday = broker.open_assets()
    assert not saturday["EURUSD"]["open"] and saturday["EURUSD-OTC"]["open"]
    broker.buy(1, "EURUSD-OTC", "call", 1)


def test_payouts_come_from_the_configured_range(config, db, clock, schedule):
    narrow = config.with_(broker="paper", paper_payout_min=85, paper_payout_max=85)
    broker = connected(narrow, db, clock)
    assert {info["payout"] for info in broker.open_assets().values()} == {85}


def test_a_database_failure_is_unreachable(paper_config, clock):
    class Down:
        def __getitem__(self, name):
            return self

        def find_one(self, *args, **kwargs):
            raise ServerSelectionTimeoutError("no servers")

    with pytest.raises(Unreachable, match="database"):
        PaperBroker(paper_config, Down(), clock, EMAIL, PASSWORD).connect()


def test_check_credentials_returns_the_check_iq_balances(paper_config, db, clock):
    assert check_credentials(paper_config, db, clock, EMAIL, PASSWORD) == {
        "account": EMAIL,
        "treinamento": 10_000.0,
        "real": 0.0,
    }
    with pytest.raises(AuthError):
        check_credentials(paper_config, db, clock, EMAIL, "wrong")


def test_the_factory_follows_glimpse_broker(config, db, clock):
    from glimpse.market.iqoption import IQOptionBroker

    assert isinstance(open_broker(config.with_(broker="paper"), db, clock, EMAIL, PASSWORD), PaperBroker)
    assert isinstance(
        open_broker(config.with_(broker="iqoption"), db, clock, EMAIL, PASSWORD), IQOptionBroker
    )
    with pytest.raises(ValueError, match="GLIMPSE_BROKER"):
        open_broker(config.with_(broker="other"), db, clock, EMAIL, PASSWORD)


# --- the order book keyed by client_key (issue 10) ------------------------------------------------

ORDER: dict[str, Any] = {"pair": "EURUSD", "direction": "call", "amount": 10}


def test_racing_places_with_one_key_place_one_order(paper_config, db, clock, schedule):
    brokers = [connected(paper_config, db, clock) for _ in range(4)]
    fills = []
    threads = [
        threading.Thread(target=lambda b=b: fills.append(b.place(10, "EURUSD", "call", 1, client_key="k-1")))
        for b in brokers
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(fills) == 4 and len({f.order_id for f in fills}) == 1
    doc = account(db)
    assert [o["clientKey"] for o in doc["open"]] == ["k-1"]
    assert doc["cents"]["PRACTICE"] == 1_000_000 - 1000


def test_a_write_that_lands_after_not_placed_is_refused(paper_config, db, clock, schedule):
    """A paused process: its intent was reconciled as not placed before its buy reached the database."""
    paused = connected(paper_config, db, clock)
    reconciler = connected(paper_config, db, clock)
    sent_at = clock.now()
    clock.advance(30)
    assert reconciler.find_order("k-late", **ORDER, sent_at=sent_at).state == "not_placed"
    with pytest.raises(Rejected, match="not placed"):
        paused.place(10, "EURUSD", "call", 1, client_key="k-late")
    doc = account(db)
    assert doc["open"] == [] and doc["cents"]["PRACTICE"] == 1_000_000
    assert reconciler.find_order("k-late", **ORDER, sent_at=sent_at).state == "not_placed"


def test_an_order_that_landed_first_is_found_not_voided(paper_config, db, clock, schedule):
    buyer = connected(paper_config, db, clock)
    fill = buyer.place(10, "EURUSD", "call", 1, client_key="k-landed")
    found = connected(paper_config, db, clock).find_order("k-landed", **ORDER, sent_at=clock.now())
    assert found.state == "open" and found.fill == fill
    assert "k-landed" not in account(db).get("voided", [])
    # Expired meanwhile: find_order settles it, as the broker would have.
    clock.advance(120)
    settled = buyer.find_order("k-landed", **ORDER, sent_at=clock.now())
    assert settled.state == "settled" and settled.settlement is not None
    (record,) = account(db)["settled"]
    assert settled.settlement.profit == Decimal(record["profitCents"]) / 100
    assert settled.settlement.close_quote == record["closePrice"] and record["clientKey"] == "k-landed"


def test_quotes_are_the_paper_markets_exactly(paper_config, db, schedule):
    market = PaperMarket(paper_config.paper_seed)
    clock = ManualClock(MONDAY_10H + 12.25)
    broker = connected(paper_config, db, clock)
    fill = broker.place(10, "GBPUSD", "put", 1, client_key="k-quotes")
    assert fill.open_quote == float(market.prices("GBPUSD", [MONDAY_10H + 12.25])[0])
    assert fill.expires_at == turbo_expiry(MONDAY_10H + 12.25) and fill.quote_source == "broker"
    settled = broker.settlement(fill.order_id, 300)
    assert settled.close_quote == market.price("GBPUSD", fill.expires_at)
    assert settled.closed_at == fill.expires_at and settled.quote_source == "broker"


def test_an_unreachable_database_during_a_place_may_have_placed_it(paper_config, clock):
    from unittest import mock

    from pymongo.errors import AutoReconnect

    broker = PaperBroker(paper_config, mock.MagicMock(), clock, EMAIL, PASSWORD)
    broker._connected = True
    broker._schedule = lambda pair=None: {}  # type: ignore[method-assign]
    broker._is_open = lambda doc, t: True  # type: ignore[method-assign,assignment]
    broker._accounts.find_one_and_update.side_effect = AutoReconnect("primary stepped down")
    with pytest.raises(Unreachable) as caught:
        broker.place(10, "EURUSD", "call", 1, client_key="k-db")
    assert caught.value.order_may_exist is True
    # And a lookup that cannot read the book answers unknown rather than raising.
    broker._accounts.find_one.side_effect = AutoReconnect("no primary")
    assert broker.find_order("k-db", **ORDER, sent_at=0).state == "unknown"


def test_the_brokers_of_a_process_share_one_read_of_the_schedule(paper_config, db, clock, schedule):
    from glimpse.market import paper

    paper.SCHEDULES.forget()
    clock.set(MONDAY_10H + 10)
    first = connected(paper_config, db, clock)
    assert first.open_assets()["EURUSD"]["open"] is True
    # The schedule is gone from the database; a broker connected later answers from the process's read.
    db[ACTIVES_SCHEDULE].delete_many({})
    second = connected(paper_config, db, clock, email="second@example.com")
    assert second.open_assets()["EURUSD"]["open"] is True
    second.buy(10, "EURUSD", "call", 1)
    # Once the read is forgotten (or older than SCHEDULE_CACHE_WALL_SECONDS), the database is asked again.
    paper.SCHEDULES.forget()
    assert second.open_assets()["EURUSD"]["open"] is False
    with pytest.raises(AssetClosed):
        second.buy(10, "EURUSD", "call", 1)


def test_another_database_has_a_schedule_read_of_its_own(paper_config, db, clock, schedule):
    from glimpse.market import paper
    from glimpse.store.db import new_embedded_database

    clock.set(MONDAY_10H + 10)
    assert connected(paper_config, db, clock).open_assets()["EURUSD"]["open"] is True
    empty = new_embedded_database("NoSchedule")
    assert connected(paper_config, empty, clock).open_assets()["EURUSD"]["open"] is False
    paper.SCHEDULES.forget()


def test_the_brokers_of_a_process_share_one_market_that_quotes_as_a_fresh_one(paper_config, db, schedule):
    # One market per (seed, payouts): its pair models are built once, not once per session's broker.
    clock = ManualClock(MONDAY_10H)
    first, second = (
        connected(paper_config, db, clock),
        connected(paper_config, db, clock, email="b@example.com"),
    )
    assert first.market is second.market
    other_seed = connected(paper_config.with_(paper_seed=paper_config.paper_seed + 1), db, clock)
    assert other_seed.market is not first.market
    fresh = PaperMarket(paper_config.paper_seed, paper_config.paper_payout_min, paper_config.paper_payout_max)
    for i, pair in enumerate(["EURUSD", "GBPUSD", "USDJPY", "AUDCAD"]):
        clock.set(MONDAY_10H + 97 * i + 0.3)
        fill = first.place(3, pair, "call", 1, client_key=f"shared-market-{i}")
        assert fill.open_quote == fresh.price(pair, clock.now())
        (order,) = [o for o in account(db)["open"] if o["clientKey"] == f"shared-market-{i}"]
        assert order["payout"] == fresh.payout(pair, int(clock.now() // 86400))
        assert first.open_assets()[pair]["payout"] == order["payout"]


def test_a_schedule_read_that_has_aged_is_read_again_once_not_at_every_buy(
    paper_config, db, clock, schedule, monkeypatch
):
    from glimpse.market import paper

    paper.SCHEDULES.forget()
    clock.set(MONDAY_10H + 10)
    broker = connected(paper_config, db, clock)
    wall = [1000.0]
    monkeypatch.setattr(paper.time, "monotonic", lambda: wall[0])
    reads: list[float] = []

    class Counted:  # the schedule collection, counting its reads
        def __init__(self, collection: Any):
            self.collection = collection

        def find(self, *args: Any, **kwargs: Any) -> Any:
            reads.append(wall[0])
            return self.collection.find(*args, **kwargs)

    monkeypatch.setattr(broker, "_schedules", Counted(broker._schedules))
    for _ in range(3):
        broker.buy(10, "EURUSD", "call", 1)
    assert reads == [1000.0]  # one read for the three buys
    wall[0] += paper.SCHEDULE_CACHE_WALL_SECONDS + 1  # the read has aged
    for _ in range(3):
        broker.buy(10, "EURUSD", "call", 1)
    assert reads == [1000.0, wall[0]]  # read again once, then kept
    paper.SCHEDULES.forget()
