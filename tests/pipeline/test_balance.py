"""The account shows the broker's balance as it is after the last settled order (issue 13)."""

from __future__ import annotations

from decimal import Decimal

from bson import ObjectId

from glimpse.market.base import Disconnected
from glimpse.store import accounts
from glimpse.store import db as names
from glimpse.store import trades as ledger
from operational_server.cycle import run_cycle
from tests.pipeline.bundle import FLAT_MONEY
from tests.pipeline.test_cycle_rules import ScriptedBroker, decision, make_session, money, stored_account

EMAIL = "balance@example.com"


def paper_cents(bundle) -> int:
    return bundle.db[names.PAPER_BALANCES].find_one({"email": EMAIL})["cents"]["PRACTICE"]


def test_after_a_settled_paper_order_the_account_holds_the_paper_balance(bundle):
    uid = bundle.trader(EMAIL, FLAT_MONEY)
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


# --- between the levels of a gale cycle ------------------------------------------------------


class BalanceBroker(ScriptedBroker):
    """A scripted broker with a balance, moved as a broker moves it: the stake leaves it at the buy,
    stake and profit come back at a win's settlement, nothing at a loss's. Records each read and
    what the app would show (the stored account) at each buy and each settlement wait."""

    def __init__(self, outcomes, cents: int = 1_000_000, **kwargs):
        super().__init__(outcomes, **kwargs)
        self.cents = cents
        self.reads = 0
        self.failing_reads: set[int] = set()  # the read numbers (1-based) that fail
        self.credited: set[int] = set()
        self.session = None
        self.at_buy: dict[int, tuple[int, int]] = {}  # buy number: (reads so far, stored balance)
        self.at_wait: dict[int, tuple[int, int]] = {}  # order id: (broker balance, stored balance)

    def stored(self) -> int:
        return stored_account(self.session)["iqBalancePractice"]

    def place(self, amount, pair, direction, minutes=1, *, client_key, sent_at=None):
        self.at_buy[len(self.bought) + 1] = (self.reads, self.stored())
        fill = super().place(amount, pair, direction, minutes, client_key=client_key, sent_at=sent_at)
        self.cents -= ledger.to_cents(Decimal(str(amount)))
        return fill

    def settlement(self, order_id, timeout):
        self.at_wait[order_id] = (self.cents, self.stored())
        settled = super().settlement(order_id, timeout)
        if order_id not in self.credited:
            self.credited.add(order_id)
            if settled.profit >= 0:
                self.cents += ledger.to_cents(self.orders[order_id]["amount"] + settled.profit)
        return settled

    def get_balance(self):
        self.reads += 1
        if self.reads in self.failing_reads:
            raise Disconnected("socket closed while reading the balance")
        return self.cents / 100


def gale_session(outcomes):
    broker = BalanceBroker(outcomes)
    session = make_session(broker, money(gales=1, gale_type="dobro"))  # reads the balance once
    broker.session = session
    return broker, session


def test_a_lost_gale_level_shows_the_brokers_balance_while_the_next_level_runs():
    broker, session = gale_session([-1, +1])
    assert broker.stored() == 1_000_000 and broker.reads == 1
    outcome = run_cycle(session.cycle_context(), decision())
    assert outcome.orders == 2 and outcome.result == "win"
    stake1, stake2 = (ledger.to_cents(amount) for amount, _, _ in broker.bought)
    assert (stake1, stake2) == (200, 400)
    # The gale entry went out with no balance read after the first level settled: nothing held it back.
    assert broker.at_buy[2] == (1, 1_000_000)
    # While the second level ran (before the cycle ended), the account held the broker's balance
    # after the first level's loss (and the second stake, which the broker takes at the buy).
    broker_cents, stored_cents = broker.at_wait[2]
    assert stored_cents == broker_cents == 1_000_000 - stake1 - stake2
    shown = accounts.public_view(stored_account(session))["iqBalancePractice"]
    assert shown == broker_cents / 100
    # The first level's wait saw the balance read at connection: no read happens before a settlement.
    assert broker.at_wait[1] == (1_000_000 - stake1, 1_000_000)


def test_a_failing_balance_read_between_levels_keeps_the_last_balance_and_the_cycle(caplog):
    broker, session = gale_session([-1, -1])
    broker.failing_reads = {2}  # the read after the first level
    outcome = run_cycle(session.cycle_context(), decision())
    assert outcome.orders == 2 and outcome.result == "loss" and outcome.net == Decimal("-6.00")
    assert broker.reads == 2
    assert broker.stored() == 1_000_000  # the last balance read, kept
    assert [t.result for t in ledger.of_user(session.db, session.user_id)] == ["loss", "loss"]
    assert "balance not refreshed" in caplog.text and session.user_id in caplog.text
    session.refresh_balance()  # what the session does after the cycle
    assert broker.stored() == broker.cents == 1_000_000 - 600
