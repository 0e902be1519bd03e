"""The balance the API shows is the broker's after every settled order (issue 13, Done when).

A user session trades on the paper broker over the API's own database and clock: a gale cycle of
two levels (at most), then what the session does after a cycle. After each settled order, the
balance getUser and status show is the one the broker reports, in reais, to the cent.
"""

from __future__ import annotations

import dataclasses
import threading
from decimal import Decimal

import pytest

from glimpse.market.paper import PaperBroker
from glimpse.runtime import security
from glimpse.runtime.services import ServiceContext
from glimpse.store import db as names
from glimpse.store import operations_log
from glimpse.store import trades as ledger
from glimpse.store.seed import COLLECTIONS_DIR, load_collection
from operational_server import cycle
from operational_server.market_view import MarketView
from operational_server.session import ServerIdentity, UserSession

MONDAY_10H = 1_717_419_600.0  # 2024-06-03 10:00 in São Paulo: the forex market is open
MONEY = {"money": 2, "gale": True, "galeCount": 1, "galeType": "dobro", "sobra": 1,
         "stopLoss": False, "stopLossValue": 0, "stopWin": False, "stopWinValue": 0}  # fmt: skip


@pytest.fixture
def session(config, db, clock, make_user):
    config = config.with_(broker="paper")
    db[names.ACTIVES_SCHEDULE].insert_many(load_collection(COLLECTIONS_DIR / "ActivesSchedule.json"))
    caller = make_user(
        iqEmail="ana.iq@example.com",
        iqPassword=security.encrypt_secret(config.secret_key.get_secret_value(), "paper-pass"),
        iqConnected=True,
        glimpseStatus="operating",
        server="s1",
        strategySettings=MONEY,
    )
    db[names.SERVERS].insert_one(
        {"name": "s1", "incarnation": "i1", "status": "operating", "target": caller.id, "uptime": clock.now()}
    )
    ctx = ServiceContext(config=config, db=db, clock=clock)
    user_session = UserSession(ctx, ServerIdentity("s1", "i1"), caller.id, MarketView(db), threading.Event())
    user_session.reload_user()
    ok, why = user_session._connect()  # connects the paper broker and reads the balance, as _run does
    assert ok, why
    user_session.money, user_session.priority = MONEY, "gale"
    user_session.begin_glimpse_session(clock.now())
    user_session.log_id = operations_log.start(
        db, user=caller.id, session=user_session.session_id, mode="strategy", strategy=None,
        money=MONEY, account_type="PRACTICE", now=clock.now(),
    )  # fmt: skip
    user_session.caller = caller  # type: ignore[attr-defined]
    return user_session


def shown(client, caller) -> tuple[float, float]:
    user = client.post("/glimpse/getUser", json={}, headers=caller.headers).json
    status = client.post("/glimpse/status", json={}, headers=caller.headers).json
    return user["iqBalancePractice"], status["user"]["iqBalancePractice"]


def test_the_balance_shown_after_each_settled_order_is_the_brokers(client, db, clock, session):
    caller = session.caller
    broker = session.broker
    assert isinstance(broker, PaperBroker)
    assert shown(client, caller) == (10_000.0, 10_000.0) == (broker.get_balance(),) * 2
    between_levels: list[tuple[tuple[float, float], float]] = []

    def refresh_and_look() -> None:  # the cycle's read after a settled level, while the next one runs
        session.refresh_balance()
        between_levels.append((shown(client, caller), broker.get_balance()))

    minute = 0
    while not between_levels:  # until a first level loses and its gale goes out (the paper market's minutes)
        assert minute < 30, "no lost first level in 30 minutes of the paper market"
        clock.set(MONDAY_10H + 60 * minute + 59.5)  # a decision instant, near the minute's end
        context = dataclasses.replace(session.cycle_context(), refresh_balance=refresh_and_look)
        outcome = cycle.run_cycle(context, cycle.Decision("EURUSD", "call", 87, clock.now(), []))
        assert outcome.orders >= 1 and outcome.result in (ledger.WIN, ledger.LOSS, ledger.DOJI)
        session.refresh_balance()  # what the session does after each cycle
        settled = ledger.of_user(db, caller.id)
        assert settled and all(t.status == ledger.CLOSED for t in settled)
        net = sum((ledger.from_cents(t.profit or 0) for t in settled), Decimal(0))
        broker_balance = broker.get_balance()
        assert shown(client, caller) == (broker_balance, broker_balance)
        assert Decimal(str(broker_balance)) == Decimal(10_000) + net  # the ledger agrees, to the cent
        minute += 1
    for (from_get_user, from_status), broker_balance in between_levels:
        assert from_get_user == from_status == broker_balance
