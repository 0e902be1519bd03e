"""The account shows the broker's balance as it is after the last settled order (issue 13)."""

from __future__ import annotations

import pytest
from bson import ObjectId

from glimpse.store import accounts
from glimpse.store import db as names
from glimpse.store import trades as ledger
from tests.pipeline.bundle import make_bundle

STRATEGY = {"name": "Qualquer Cor", "nameKey": "qualquer cor", "sequence": "1", "operation": "call",
            "mirror": True, "createdBy": "Teste"}  # fmt: skip
MONEY = {"money": 2, "gale": False, "galeCount": 0, "galeType": "dobro", "sobra": 1,
         "stopLoss": False, "stopLossValue": 0, "stopWin": False, "stopWinValue": 0}  # fmt: skip
EMAIL = "balance@example.com"


@pytest.fixture
def bundle(config, db):
    b = make_bundle(config, db)
    yield b
    b.stop()


def paper_cents(bundle) -> int:
    return bundle.db[names.PAPER_BALANCES].find_one({"email": EMAIL})["cents"]["PRACTICE"]


def test_after_a_settled_paper_order_the_account_holds_the_paper_balance(bundle):
    bundle.db[names.STRATEGIES].insert_one(dict(STRATEGY))
    uid = bundle.user(
        EMAIL, strategy=STRATEGY["name"], ownedStrategies=[STRATEGY["name"]], strategySettings=MONEY
    )
    bundle.start(servers=1)
    bundle.press_start(uid)
    # Connecting stores the balance the broker has before any order.
    bundle.wait_for(lambda: bundle.account(uid).get("iqBalanceAt"), 15, "the balance read on connecting")
    assert bundle.account(uid)["iqBalancePractice"] == 1_000_000
    trade = bundle.wait_for(
        lambda: bundle.db[names.TRADES].find_one({"user": uid, "status": "open"}), 90, "an open order"
    )
    bundle.db[names.ACCOUNTS].update_one(
        {"_id": ObjectId(uid), "glimpseStatus": "operating"}, {"$set": {"glimpseStatus": "stopping"}}
    )
    bundle.wait_for(lambda: bundle.account(uid)["glimpseStatus"] == "off", 60, "the user to end off")
    settled = ledger.get(bundle.db, trade["_id"])
    assert (
        settled is not None and settled.status == ledger.CLOSED and settled.result in ("win", "loss", "doji")
    )
    assert settled.profit is not None
    account = bundle.account(uid)
    assert account["iqBalancePractice"] == paper_cents(bundle) == 1_000_000 + settled.profit
    assert type(account["iqBalancePractice"]) is int  # stored in cents, never a float
    shown = accounts.public_view(account)["iqBalancePractice"]
    assert shown == paper_cents(bundle) / 100  # the figure the app shows, in reais
