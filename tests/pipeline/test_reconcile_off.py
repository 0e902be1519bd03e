"""Continuous reconciliation (issue 10): an off user's unknown trade is resolved without a Start.

The broker took an order whose buy reply never came (the ledger holds it
"unknown") and the user went off. The assigner gives the user a
reconcile-only session: the server asks the broker, records the real result
and credits it, and is freed; the user stays off, with no alert and no
notification.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from auxiliar.server_assigner import Assigner
from glimpse.market import open_broker
from glimpse.store import db as names
from glimpse.store import lifecycle, notifications
from glimpse.store import trades as ledger
from tests.pipeline.bundle import make_bundle

EMAIL = "offline@example.com"


@pytest.fixture
def bundle(config, db):
    b = make_bundle(config, db)
    yield b
    b.stop()


def _unknown_trade_the_broker_took(bundle, uid) -> ledger.Trade:
    ctx = bundle.ctx
    now = ctx.clock.now()
    trade = ledger.record_intent(
        bundle.db, user=uid, session="gone-session", server="gone_server", ativo="EURUSD", operacao="call",
        amount=Decimal("2.00"), gale_level=0, payout=87, decided_at=now, sent_at=now, cycle="c1",
        account="PRACTICE",
    )  # fmt: skip
    broker = open_broker(ctx.config, bundle.db, ctx.clock, EMAIL, "paper-pass")
    broker.connect()
    broker.change_balance("PRACTICE")
    broker.place(Decimal("2.00"), "EURUSD", "call", 1, client_key=trade.clientKey, sent_at=now)
    broker.close()
    # The reply was lost: only the broker knows the order exists.
    assert ledger.mark_unknown(bundle.db, trade.id, "BrokerTimeout: no reply to the buy", now)
    return trade


def test_an_off_user_s_unknown_trade_is_resolved_without_pressing_start(bundle):
    uid = bundle.user(EMAIL)
    trade = _unknown_trade_the_broker_took(bundle, uid)
    alerts_before = len(bundle.account(uid)["alerts"])
    bundle.start(servers=1)
    closed = bundle.wait_for(
        lambda: (t := ledger.get(bundle.db, trade.id)) is not None and t.status == ledger.CLOSED and t,
        60,
        "the unknown trade to be resolved",
    )
    assert closed.result in ("win", "loss", "doji") and closed.brokerOrderId is not None
    assert closed.profit is not None and closed.credited
    account = bundle.account(uid)
    assert account["glimpseStatus"] == "off" and not account.get("server")
    assert account["iqPeriodProfit"] - account["iqPeriodLoss"] == closed.profit
    assert len(account["alerts"]) == alerts_before  # no "Você parou o Glimpse.", no alert at all
    paper = bundle.db[names.PAPER_BALANCES].find_one({"email": EMAIL})
    assert paper["cents"]["PRACTICE"] == 1_000_000 + closed.profit  # one order, the one in the ledger
    # The server was freed and nothing was queued for the notifier.
    bundle.wait_for(lambda: not lifecycle.held(bundle.db, uid), 10, "the server to be freed")
    assert not notifications.claim_events(bundle.db, bundle.ctx.clock.now(), 60.0, 100)
    assert ledger.users_to_reconcile(bundle.db, bundle.ctx.clock.now()) == []
    assert sum(s.reconciles for s in bundle.running if isinstance(s, Assigner)) >= 1


def test_an_open_trade_in_flight_is_left_to_its_session_until_past_its_expiry(db, clock):
    trade = ledger.record_intent(
        db, user="u1", session="s", server="x", ativo="EURUSD", operacao="call", amount=Decimal("2.00"),
        gale_level=0, payout=87, decided_at=clock.now(), cycle="c", account="PRACTICE",
    )  # fmt: skip
    expires = clock.now() + 60
    ledger.mark_open(db, trade.id, 7, clock.now(), 1.1, expires_at=expires, quote_source="broker")
    assert ledger.users_to_reconcile(db, expires) == []
    assert ledger.users_to_reconcile(db, expires + ledger.SETTLE_GRACE_SECONDS + 1) == ["u1"]
    assert ledger.flag(db, trade.id, expires + 500)
    assert ledger.users_to_reconcile(db, expires + 500) == []  # flagged: the operator's now
