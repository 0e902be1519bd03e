"""The broker contract: checks every adapter must pass, run against a harness.

A harness builds brokers of one adapter and knows what a test needs to drive
it: a fresh account, an open and a closed pair, the paper market its prices
come from, how to let time pass, and how to make the next order settle as a
win, a loss or a doji. test_contract.py runs every check against the paper
adapter (in-process, ManualClock) and the IQ Option adapter (in a subprocess,
against the fake server: see iq_driver.py).
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from glimpse.market import (
    AssetClosed,
    AuthError,
    Broker,
    BrokerError,
    BrokerTimeout,
    Rejected,
    Unreachable,
    open_broker,
)
from glimpse.market.base import Disconnected, Fill, OrderLookup, Settlement, expiry_at, turbo_expiry
from glimpse.market.paper_market import PaperMarket
from glimpse.rules.money import cents, win_profit
from glimpse.rules.pairs import PAIR_NAMES
from glimpse.runtime.clock import ManualClock, SystemClock
from glimpse.runtime.config import Config, load_config
from glimpse.store.db import ACTIVES_SCHEDULE
from glimpse.store.seed import COLLECTIONS_DIR, load_collection
from tests.fakes import iq_server

AMOUNT = 10
E = TypeVar("E", bound=BaseException)


class Harness:
    """What the checks need from an adapter; subclasses fill it in."""

    name = "?"
    password = "contract-password"
    initial_practice = 10_000.0
    initial_real = 0.0
    open_pair = "EURUSD"
    closed_pair = "EURUSD-OTC"
    result_timeout = 120.0
    market: PaperMarket

    def __init__(self) -> None:
        self._brokers: list[Broker] = []

    def make_broker(self, email: str, password: str) -> Broker:
        raise NotImplementedError

    def now(self) -> float:
        raise NotImplementedError

    def let_time_pass(self, seconds: float) -> None:
        raise NotImplementedError

    def force(self, pair: str, direction: str, outcome: str) -> None:
        """Make the next order of `pair`/`direction` settle as outcome (win, loss, doji)."""
        raise NotImplementedError

    def hold_settlements(self) -> None:
        """Keep the next orders open for a while (until let_time_pass or a few seconds)."""

    def drop(self) -> None:
        """Drop the broker connection (only harnesses in DROP_HARNESSES)."""
        raise NotImplementedError

    # shared

    def new_key(self) -> str:
        return f"contract-{uuid.uuid4().hex}"

    def fresh_email(self) -> str:
        return f"contract-{uuid.uuid4().hex[:12]}@example.com"

    def broker(self, email: str | None = None, password: str | None = None) -> Broker:
        broker = self.make_broker(
            email or self.fresh_email(), self.password if password is None else password
        )
        self._brokers.append(broker)
        return broker

    def connected(self) -> Broker:
        broker = self.broker()
        broker.connect()
        return broker

    def cleanup(self) -> None:
        for broker in self._brokers:
            try:
                broker.close()
            except Exception:  # noqa: BLE001 - best effort, after the check already passed or failed
                pass
        self._brokers.clear()


class PaperHarness(Harness):
    """GLIMPSE_BROKER=paper on a ManualClock, with the seeded market hours."""

    name = "paper"

    def __init__(self, config: Config, db: Any, clock: ManualClock):
        super().__init__()
        self.config = config.with_(broker="paper")
        self.db = db
        self.clock = clock
        self.market = PaperMarket(config.paper_seed, config.paper_payout_min, config.paper_payout_max)
        db[ACTIVES_SCHEDULE].insert_many(load_collection(COLLECTIONS_DIR / "ActivesSchedule.json"))

    def make_broker(self, email: str, password: str) -> Broker:
        return open_broker(self.config, self.db, self.clock, email, password)

    def now(self) -> float:
        return self.clock.now()

    def let_time_pass(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def force(self, pair: str, direction: str, outcome: str) -> None:
        # The paper market cannot be told what to do: wait (on the manual
        # clock) for a second at which an order would end that way.
        wanted = {"win": 1, "loss": -1, "doji": 0}[outcome]
        start = math.ceil(self.clock.now())
        for t in range(start, start + 6 * 3600):
            if self.market.outcome(pair, direction, t, turbo_expiry(t)) == wanted:
                self.clock.set(t)
                return
        raise AssertionError(f"no {outcome} for a {direction} on {pair} within 6 hours")


class FakeIQHarness(Harness):
    """GLIMPSE_BROKER=iqoption against the fake server (run it in a process of its own)."""

    name = "iqoption"
    password = "fake-password"
    result_timeout = 10.0

    def __init__(self, base_url: str, seed: int):
        super().__init__()
        self.base_url = base_url
        self.config = load_config(
            {
                "GLIMPSE_SECRET_KEY": "contract-secret-key-" + "x" * 32,
                "GLIMPSE_BROKER": "iqoption",
                "GLIMPSE_IQ_HTTP_BASE": base_url,
                "GLIMPSE_IQ_WS_URL": base_url.replace("http://", "ws://") + "/echo/websocket",
                "GLIMPSE_PAPER_SEED": str(seed),
            }
        )
        self.market = PaperMarket(seed)
        iq_server.reset(base_url)
        iq_server.control(base_url, suspended=[self.closed_pair])

    def make_broker(self, email: str, password: str) -> Broker:
        return open_broker(self.config, None, SystemClock(), email, password)

    def now(self) -> float:
        return time.time()

    def let_time_pass(self, seconds: float) -> None:
        time.sleep(seconds)

    def force(self, pair: str, direction: str, outcome: str) -> None:
        iq_server.control(self.base_url, outcomes=[outcome])

    def hold_settlements(self) -> None:
        iq_server.control(self.base_url, settle_delay=3.0)

    def drop(self) -> None:
        assert iq_server.drop(self.base_url) >= 1

    def cleanup(self) -> None:
        super().cleanup()
        iq_server.control(self.base_url, settle_delay=0.5)


def raises(error: type[E], call: Callable, *args, **kwargs) -> E:
    try:
        call(*args, **kwargs)
    except error as exc:
        return exc
    raise AssertionError(f"{getattr(call, '__name__', call)}{args} did not raise {error.__name__}")


# --- the checks ---------------------------------------------------------------------------------


def check_connect_and_close(h: Harness) -> None:
    b = h.broker()
    assert not b.is_connected()
    raises(Unreachable, b.get_balance)
    b.connect()
    assert b.is_connected()
    b.close()
    assert not b.is_connected()
    b.close()  # closing twice is fine
    raises(Unreachable, b.get_balance)
    b.connect()  # and a closed broker connects again
    assert b.is_connected() and b.get_balance() == h.initial_practice


def check_wrong_password_is_an_auth_error(h: Harness) -> None:
    email = h.fresh_email()
    first = h.broker(email)
    first.connect()  # the paper broker registers the account here
    first.close()
    wrong = h.broker(email, "not-the-password")
    raises(AuthError, wrong.connect)
    assert not wrong.is_connected()
    again = h.broker(email)
    again.connect()  # a refused login leaves nothing behind
    assert again.is_connected()


def check_balances_and_switching_accounts(h: Harness) -> None:
    b = h.connected()
    assert b.get_balance() == h.initial_practice
    b.change_balance("REAL")
    assert b.get_balance() == h.initial_real
    b.change_balance("PRACTICE")
    assert b.get_balance() == h.initial_practice
    raises(ValueError, b.change_balance, "DEMO")


def check_invalid_arguments_raise_value_errors(h: Harness) -> None:
    b = h.connected()
    for args in [
        (AMOUNT, h.open_pair, "up", 1),
        (0, h.open_pair, "call", 1),
        (-5, h.open_pair, "call", 1),
        ("ten", h.open_pair, "call", 1),
        (AMOUNT, "XXXYYY", "call", 1),
        (AMOUNT, h.open_pair, "call", 10),  # neither turbo (1-5) nor binary (15)
    ]:
        raises(ValueError, b.buy, *args)
    raises(ValueError, b.candles, h.open_pair, 90, 3)
    raises(ValueError, b.candles, h.open_pair, 60, 0)
    raises(ValueError, b.start_stream, "XXXYYY", 5)
    raises(ValueError, b.stream_candles, h.open_pair)  # no stream started
    raises(ValueError, b.order_result, 1, -1)
    raises(ValueError, b.settlement, 1, -1)
    raises(ValueError, b.place, AMOUNT, h.open_pair, "call", 1, client_key="")
    raises(ValueError, b.place, AMOUNT, h.open_pair, "down", 1, client_key=h.new_key())
    for pair, direction, amount in [
        ("XXXYYY", "call", AMOUNT),
        (h.open_pair, "up", AMOUNT),
        (h.open_pair, "call", 0),
    ]:
        raises(
            ValueError, b.find_order, h.new_key(), pair=pair, direction=direction, amount=amount, sent_at=0
        )
    assert b.get_balance() == h.initial_practice  # nothing was bought


def check_open_assets_report_state_and_payouts(h: Harness) -> None:
    b = h.connected()
    assets = b.open_assets()
    assert set(PAIR_NAMES) <= set(assets)
    day = int(h.now() // 86400)
    for pair in PAIR_NAMES:
        info = assets[pair]
        assert set(info) == {"open", "payout"} and isinstance(info["open"], bool)
        assert isinstance(info["payout"], int) and 80 <= info["payout"] <= 92
        assert info["payout"] == h.market.payout(pair, day)  # both adapters quote the paper market's payouts
    assert assets[h.open_pair]["open"] is True
    assert assets[h.closed_pair]["open"] is False


def check_candle_history_is_the_markets(h: Harness) -> None:
    b = h.connected()
    pair = h.open_pair
    end = math.floor(h.now()) - 3600
    last = math.floor(end / 60) * 60
    assert b.candles(pair, 60, 10, end) == h.market.candles(pair, last - 540, 10, until=end)
    last5 = math.floor(end / 300) * 300
    assert b.candles(pair, 300, 3, end) == h.market.candles(pair, last5 - 600, 3, 300, until=end)
    # A fractional end counts in whole seconds.
    assert b.candles(pair, 60, 2, end + 0.9) == h.market.candles(pair, last - 60, 2, until=end)
    recent = b.candles(pair, 60, 3)
    froms = [c["from"] for c in recent]
    assert froms == [froms[0], froms[0] + 60, froms[0] + 120]
    assert abs(froms[-1] - math.floor(h.now() / 60) * 60) <= 60
    for c in recent:
        assert c["l"] <= min(c["o"], c["c"]) <= max(c["o"], c["c"]) <= c["h"]


def check_candle_stream_keeps_the_last_candles(h: Harness) -> None:
    b = h.connected()
    pair = h.open_pair
    b.start_stream(pair, 5)
    h.let_time_pass(1.0)
    candles = b.stream_candles(pair)
    froms = [c["from"] for c in candles]
    assert len(candles) == 5 and froms == [froms[0] + 60 * i for i in range(5)], froms
    forming = candles[-1]
    assert forming["from"] <= h.now() < forming["from"] + 61
    assert forming["l"] <= min(forming["o"], forming["c"]) <= max(forming["o"], forming["c"]) <= forming["h"]
    assert forming["o"] == h.market.price(pair, forming["from"])
    expected = h.market.candles(pair, froms[0], 4)
    # The candle before the forming one may have been stored while it was still forming.
    assert candles[:3] == expected[:3]
    assert candles[3]["from"] == expected[3]["from"] and candles[3]["o"] == expected[3]["o"]
    b.stop_stream(pair)
    raises(ValueError, b.stream_candles, pair)


def _trade(h: Harness, b: Broker, direction: str, outcome: str) -> tuple[int, float, float]:
    """(payout, profit, balance change) of one forced order; checks the stake leaves at purchase."""
    pair = h.open_pair
    payout = b.open_assets()[pair]["payout"]
    before = b.get_balance()
    h.force(pair, direction, outcome)
    order_id = b.buy(AMOUNT, pair, direction, 1)
    assert isinstance(order_id, int)
    assert b.get_balance() == round(before - AMOUNT, 2)
    profit = b.order_result(order_id, h.result_timeout)
    assert b.order_result(order_id, h.result_timeout) == profit  # asking again gives the same answer
    return payout, profit, round(b.get_balance() - before, 2)


def check_a_winning_call_pays_the_payout(h: Harness) -> None:
    b = h.connected()
    payout, profit, change = _trade(h, b, "call", "win")
    assert profit == float(win_profit(AMOUNT, payout)) and profit > 0
    assert change == profit


def check_a_losing_put_costs_the_stake(h: Harness) -> None:
    b = h.connected()
    _, profit, change = _trade(h, b, "put", "loss")
    assert profit == -AMOUNT and change == -AMOUNT


def check_a_doji_is_refunded(h: Harness) -> None:
    b = h.connected()
    _, profit, change = _trade(h, b, "call", "doji")
    assert profit == 0 and change == 0


def check_a_winning_put_and_a_losing_call(h: Harness) -> None:
    b = h.connected()
    payout, profit, _ = _trade(h, b, "put", "win")
    assert profit == float(win_profit(AMOUNT, payout))
    _, profit, _ = _trade(h, b, "call", "loss")
    assert profit == -AMOUNT


def check_order_result_is_bounded_by_its_timeout(h: Harness) -> None:
    b = h.connected()
    order_id = b.buy(AMOUNT, h.open_pair, "call", 1)
    error = raises(BrokerTimeout, b.order_result, order_id, 0.1)
    assert not error.order_may_exist
    profit = b.order_result(order_id, h.result_timeout)  # the order is still there, and settles
    assert profit in (0, -AMOUNT) or profit > 0


def check_a_closed_pair_raises_asset_closed(h: Harness) -> None:
    b = h.connected()
    raises(AssetClosed, b.buy, AMOUNT, h.closed_pair, "call", 1)
    assert b.get_balance() == h.initial_practice


def check_insufficient_funds_are_rejected(h: Harness) -> None:
    b = h.connected()
    error = raises(Rejected, b.buy, h.initial_practice + 1, h.open_pair, "call", 1)
    assert "funds" in error.reason.lower()
    b.change_balance("REAL")  # empty
    raises(Rejected, b.buy, 1, h.open_pair, "put", 1)
    b.change_balance("PRACTICE")
    assert b.get_balance() == h.initial_practice


def check_an_unknown_order_is_an_error(h: Harness) -> None:
    b = h.connected()
    raises(BrokerError, b.order_result, 987_654_321, 0.2)


# --- orders with an idempotency key: quotes, settlement, finding an order ------------------------


def _quote_range(h: Harness, pair: str, start: float, end: float) -> tuple[float, float]:
    """The lowest and highest quote of `pair` from `start` to `end` (the minutes that cover them)."""
    first = math.floor(start / 60) * 60
    candles = h.market.candles(pair, first, math.floor(end / 60) - first // 60 + 1, until=end)
    return min(c["l"] for c in candles), max(c["h"] for c in candles)


def _price(h: Harness, pair: str, t: float) -> float:
    return float(h.market.prices(pair, [t])[0])


def check_place_and_settlement_report_the_brokers_quotes(h: Harness) -> None:
    b = h.connected()
    pair = h.open_pair
    payout = b.open_assets()[pair]["payout"]
    before = h.now()
    fill = b.place(AMOUNT, pair, "call", 1, client_key=h.new_key())
    after = h.now()
    assert isinstance(fill, Fill) and isinstance(fill.order_id, int)
    assert fill.quote_source == "broker" and fill.open_quote is not None
    low, high = _quote_range(h, pair, before, after)
    assert low <= fill.open_quote <= high, (fill, low, high)
    if before == after:  # a clock that stood still: the quote of that very instant
        assert fill.open_quote == _price(h, pair, before)
    assert fill.expires_at in (turbo_expiry(before), turbo_expiry(after))
    settled = b.settlement(fill.order_id, h.result_timeout)
    assert isinstance(settled, Settlement) and isinstance(settled.profit, Decimal)
    assert settled.profit == cents(settled.profit)
    assert settled.quote_source == "broker" and settled.closed_at == fill.expires_at
    assert settled.close_quote == _price(h, pair, fill.expires_at)
    # The result follows the two quotes the broker reported (a call wins when the close is higher).
    if settled.close_quote > fill.open_quote:
        assert settled.profit == win_profit(AMOUNT, payout)
    elif settled.close_quote < fill.open_quote:
        assert settled.profit == -AMOUNT
    else:
        assert settled.profit == 0
    assert b.settlement(fill.order_id, h.result_timeout) == settled  # asking again gives the same answer
    assert b.order_result(fill.order_id, h.result_timeout) == float(settled.profit)


def check_place_with_the_same_key_places_once(h: Harness) -> None:
    b = h.connected()
    pair, key = h.open_pair, h.new_key()
    before = b.get_balance()
    h.hold_settlements()
    first = b.place(AMOUNT, pair, "put", 1, client_key=key)
    again = b.place(AMOUNT, pair, "put", 1, client_key=key)
    assert again == first
    assert b.get_balance() == round(before - AMOUNT, 2)  # one stake taken
    other = b.place(AMOUNT, pair, "put", 1, client_key=h.new_key())
    assert other.order_id != first.order_id
    assert b.get_balance() == round(before - 2 * AMOUNT, 2)


def check_find_order_sees_it_open_then_settled_from_a_new_connection(h: Harness) -> None:
    email, pair, key = h.fresh_email(), h.open_pair, h.new_key()
    b = h.broker(email)
    b.connect()
    h.hold_settlements()
    sent_at = h.now()
    fill = b.place(AMOUNT, pair, "call", 1, client_key=key)
    order: dict[str, Any] = {"pair": pair, "direction": "call", "amount": AMOUNT, "sent_at": sent_at}
    assert b.find_order(key, **order) == OrderLookup("open", fill)
    settled = b.settlement(fill.order_id, h.result_timeout)
    assert b.find_order(key, **order) == OrderLookup("settled", fill, settled)
    # Another server (a new connection, nothing in memory) finds the same order.
    b.close()
    fresh = h.broker(email)
    fresh.connect()
    found = fresh.find_order(key, **order)
    assert found.state == "settled" and found.fill == fill, found
    assert found.settlement is not None
    assert (found.settlement.profit, found.settlement.close_quote) == (settled.profit, settled.close_quote)
    # A key of another order does not claim this one.
    assert fresh.find_order(h.new_key(), **dict(order, sent_at=sent_at - 3600)).state == "not_placed"


def check_find_order_proves_a_key_never_placed_and_it_never_lands(h: Harness) -> None:
    b = h.connected()
    pair, key = h.open_pair, h.new_key()
    long_ago = h.now() - 3600
    before = b.get_balance()
    looked = b.find_order(key, pair=pair, direction="put", amount=AMOUNT, sent_at=long_ago)
    assert looked == OrderLookup("not_placed")
    # The request of that intent, arriving now, is refused: the answer stays true.
    raises(Rejected, b.place, AMOUNT, pair, "put", 1, client_key=key, sent_at=long_ago)
    assert (
        b.find_order(key, pair=pair, direction="put", amount=AMOUNT, sent_at=long_ago).state == "not_placed"
    )
    assert b.get_balance() == before


def check_find_order_is_unknown_when_the_broker_cannot_be_asked(h: Harness) -> None:
    b = h.broker()  # never connected
    looked = b.find_order(
        h.new_key(), pair=h.open_pair, direction="call", amount=AMOUNT, sent_at=h.now() - 3600
    )
    assert looked == OrderLookup("unknown")


def check_reconnect_keeps_the_account_and_its_orders(h: Harness) -> None:
    b = h.connected()
    h.hold_settlements()
    fill = b.place(AMOUNT, h.open_pair, "call", 1, client_key=h.new_key())
    b.reconnect()
    assert b.is_connected()
    assert b.get_balance() == round(h.initial_practice - AMOUNT, 2)
    settled = b.settlement(fill.order_id, h.result_timeout)
    assert settled.close_quote == _price(h, h.open_pair, fill.expires_at)


def check_a_dropped_socket_raises_disconnected_and_reconnect_resumes_the_wait(h: Harness) -> None:
    b = h.connected()
    key = h.new_key()
    h.hold_settlements()
    sent_at = h.now()
    fill = b.place(AMOUNT, h.open_pair, "put", 1, client_key=key)
    h.drop()
    start = time.monotonic()
    raises(Disconnected, b.settlement, fill.order_id, h.result_timeout)
    assert time.monotonic() - start < h.result_timeout / 2  # not a timeout: the drop itself
    assert not b.is_connected()
    b.reconnect()
    assert b.is_connected()
    settled = b.settlement(fill.order_id, h.result_timeout)
    assert settled.close_quote == _price(h, h.open_pair, fill.expires_at)
    found = b.find_order(key, pair=h.open_pair, direction="put", amount=AMOUNT, sent_at=sent_at)
    assert found == OrderLookup("settled", fill, settled)


def _longer_option(h: Harness, minutes: int) -> tuple[Fill, Settlement, float, float]:
    b = h.connected()
    pair = h.open_pair
    before = h.now()
    fill = b.place(AMOUNT, pair, "put", minutes, client_key=h.new_key())
    after = h.now()
    # IQ Option's rule (the client library's): the expiry the buy names decides turbo or binary.
    assert fill.expires_at in (expiry_at(before, minutes), expiry_at(after, minutes)), (fill, before, after)
    settled = b.settlement(fill.order_id, max(h.result_timeout, fill.expires_at - h.now() + 5))
    assert settled.closed_at == fill.expires_at
    assert settled.close_quote == _price(h, pair, fill.expires_at)
    assert fill.open_quote is not None and settled.close_quote is not None
    if settled.close_quote < fill.open_quote:
        assert settled.profit > 0
    elif settled.close_quote > fill.open_quote:
        assert settled.profit == -AMOUNT
    return fill, settled, before, after


def check_a_5_minute_order_is_a_turbo_option_of_5_minutes(h: Harness) -> None:
    fill, _, before, after = _longer_option(h, 5)
    # The next minute boundary (the one after when 30 s or less remain), then 4 more minutes, from the
    # moment the buy was made: some moment between `before` and `after`, so the time left is bounded
    # from below as seen from `before` and from above as seen from `after` (a slow buy on a loaded
    # machine made the bounds taken the other way round fail).
    assert fill.expires_at % 60 == 0
    assert 4 * 60 + 30 < fill.expires_at - before and fill.expires_at - after <= 5 * 60 + 30


def check_a_15_minute_order_is_a_binary_option_on_a_15_minute_boundary(h: Harness) -> None:
    fill, _, before, after = _longer_option(h, 15)
    assert fill.expires_at % 900 == 0
    # The boundary more than 5 minutes away whose time left is closest to 15 minutes (bounded as above).
    assert 7.5 * 60 <= fill.expires_at - before and fill.expires_at - after <= 22.5 * 60 + 1


# Checks that need Harness.drop(): the paper broker has no socket to drop.
DROP_CHECKS = frozenset({"check_a_dropped_socket_raises_disconnected_and_reconnect_resumes_the_wait"})

CHECKS: dict[str, Callable[[Harness], None]] = {
    name: check for name, check in globals().items() if name.startswith("check_") and callable(check)
}
