"""A dead webhook endpoint never slows an order (issue 15, "Sending never delays an order").

The embedded bundle trades on a fast clock with the notifier running, and
the trader's webhook accepts every request and never answers. The orders
must still be placed inside their candle, while the notifier keeps at most
one request in flight to that endpoint and backs off after each timeout.
The figures (order timing with and without the dead endpoint) are in
bench/notify_timing.py; this test checks the behaviour only.
"""

from __future__ import annotations

import time

import pytest

from auxiliar.notifier import NotifierService, backoff
from glimpse.rules.timing import minute_start
from glimpse.runtime.security import encrypt_secret
from glimpse.store import db as names
from glimpse.store import notifications as store
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.pipeline.bundle import make_bundle

MONEY = {"money": 2, "gale": False, "galeCount": 0, "galeType": "dobro", "sobra": 0,
         "stopLoss": False, "stopLossValue": 0, "stopWin": False, "stopWinValue": 0}  # fmt: skip
pytestmark = pytest.mark.slow

ORDERS = 3
SEND_TIMEOUT = 1.0  # wall seconds the notifier waits on the dead endpoint


@pytest.fixture
def dead():
    receiver = WebhookReceiver("whsec-timing").start()
    receiver.hold()  # accepts the connection and never answers
    yield receiver
    receiver.release()
    receiver.close()


def test_orders_stay_inside_their_candle_while_the_notifier_waits_on_a_dead_endpoint(config, db, dead):
    # Decisions at second 40 leave 20 market seconds (2 wall seconds at 10x) to place inside the candle.
    bundle = make_bundle(config.with_(decision_second=40, webhook_allow_private=True), db, speed=10.0)
    clock = bundle.ctx.clock
    user = bundle.trader("ana@example.com", MONEY)
    secret = encrypt_secret(config.secret_key.get_secret_value(), "whsec-timing")
    assert store.add_webhook(db, user, store.SCOPE_USER, dead.url, secret, clock.now()) is not None
    notifier = NotifierService(send_timeout=SEND_TIMEOUT, poll_timeout=0).start(bundle.ctx)
    bundle.start(servers=1)
    try:
        bundle.press_start(user)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            placed = db[names.TRADES].count_documents({"user": user, "placedAt": {"$ne": None}})
            if placed >= ORDERS:
                break
            time.sleep(0.05)
        trades = list(db[names.TRADES].find({"user": user, "placedAt": {"$ne": None}}))
        deliveries = list(db[store.DELIVERIES].find({"user": user}))
    finally:
        notifier.stop()
        notifier.join(10)
        bundle.stop()
    assert len(trades) >= ORDERS, "the bot placed too few orders"
    for trade in trades:
        assert trade["placedAt"] < minute_start(trade["decidedAt"]) + 60, (
            "an order was placed after its candle"
        )
    # The notifier did try the dead endpoint, one request at a time, and backed off after each timeout:
    # every request the endpoint got is an attempt the notifier recorded, but for the one in flight.
    tried = [d for d in deliveries if d.get("attempts", 0) >= 1]
    assert tried and 1 <= dead.arrived <= sum(d["attempts"] for d in tried) + 1
    assert all(d["status"] in (store.PENDING, store.SENDING) for d in tried)  # never given up
    for d in tried:
        assert d["lastError"] == "ReadTimeoutError"
        assert d["nextAttemptAt"] >= d["lastAttemptAt"] + backoff(d["attempts"])
    # The other events wait for the endpoint's back-off instead of piling onto it.
    waiting = [d for d in deliveries if d.get("attempts", 0) == 0]
    assert waiting and all(w["nextAttemptAt"] >= min(d["nextAttemptAt"] for d in tried) for w in waiting)
