"""The paper broker: trading on the deterministic paper market, the default.

Prices come from glimpse.market.paper_market (a pure function of seed, pair and
time), so every process quotes and settles alike. What must be shared lives
in MongoDB, in one PaperBalances document per account:

    {email, passwordHash (argon2id), createdAt,
     cents: {PRACTICE: int, REAL: int},          # balances in whole cents
     open: [order, ...], settled: [record, ...], # the last SETTLED_KEPT settlements
     keys: [clientKey, ...],                     # the last KEYS_KEPT keys placed or voided
     voided: [clientKey, ...]}                   # keys find_order() declared not placed

The first connect with an email registers the account (PRACTICE 10,000,
REAL 0); later connects must give the same password. A buy takes the stake
from the balance and records the order in one atomic update; settling pulls
the order and credits stake + profit in another, so an order settles exactly
once whichever process gets there first. Orders whose expiry has passed are
also settled on connect() and get_balance(), so balances stay right even if
the process that bought died.

The order book is keyed by the caller's client_key (the ledger's idempotency
key). place() adds the order, takes the stake and records the key in ONE
conditional update that only applies while the key is unknown, so a retried
place() with the same key returns the first order and never places twice.

find_order()'s rule for "not_placed": when no order carries the key, it
writes the key to `keys` and `voided` in one conditional update (only if the
key is still unknown). From then on a place() with that key cannot land,
however late its write arrives (a paused process, a slow network): it is
refused with Rejected. So "not_placed" is a proof, never a guess. If the
key landed just before the fence, the second read finds the order.
Keys older than KEYS_KEPT orders of the account are forgotten: such a
key's order is reported "unknown" if it is no longer in the book.

Time comes from the injected clock: on a ManualClock or FastClock a trading
day takes seconds, and order_result() returns as soon as the expiry passes.
"""

from __future__ import annotations

import functools
import logging
import math
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, cast

from pymongo.errors import PyMongoError

from glimpse.market.base import (
    AssetClosed,
    AuthError,
    Broker,
    BrokerError,
    BrokerTimeout,
    Candle,
    Fill,
    OrderLookup,
    Rejected,
    Settlement,
    Unreachable,
    check_client_key,
    check_mode,
    check_order,
    check_pair,
    check_timeout,
    option_expiry,
)
from glimpse.market.paper_market import PaperMarket
from glimpse.rules.money import cents, win_profit
from glimpse.rules.pairs import PAIR_NAMES
from glimpse.rules.schedule import is_open
from glimpse.runtime.clock import Clock, local_datetime, sleep_until
from glimpse.runtime.config import Config
from glimpse.runtime.ids import unique_int
from glimpse.runtime.security import hash_password, verify_password
from glimpse.store import db as names
from glimpse.store.accounts import normalize_email
from glimpse.store.db import ACTIVES_SCHEDULE, PAPER_BALANCES

# How long (wall seconds) the brokers of a process reuse the ActivesSchedule they read.
SCHEDULE_CACHE_WALL_SECONDS = 5.0
# How many databases' schedules a process keeps (tests open one database each).
SCHEDULE_CACHE_DATABASES = 8

log = logging.getLogger(__name__)

STARTING_CENTS = {"PRACTICE": 1_000_000, "REAL": 0}
SETTLED_KEPT = 500
KEYS_KEPT = 5000
VOIDED_KEPT = 1000
MAX_KEEP = 1000
RESULTS = {1: "win", -1: "loss", 0: "doji"}


def _to_cents(amount: Decimal) -> int:
    return int(cents(amount) * 100)


def _from_cents(value: int) -> float:
    return float(Decimal(value) / 100)


def _day(t: float) -> int:
    """The UTC day number payouts are drawn for (shared with the fake IQ Option server)."""
    return int(t // 86400)


_ORDER_KINDS = frozenset((str, int, float))


def _buy(
    stored: dict[str, Any], conditions: dict[str, Any], mode: str, stake_cents: int, order: dict[str, Any]
) -> Any:
    """A buy's update as a function of the stored account (names.change_by_id): the filter's
    `conditions` (the store's own matcher) and the update `place` sends to MongoDB, the same new values."""
    key = order["clientKey"]
    for field, condition in conditions.items():
        holds = names.condition_holds(stored, field, condition)
        if holds is None:
            return names.UNHANDLED
        if not holds:
            return None
    balances, placed, keys = stored["cents"], stored.get("open", []), stored.get("keys", [])
    left = balances[mode] - stake_cents
    if type(placed) is not list or type(keys) is not list:
        return names.UNHANDLED  # MongoDB's refusal to push to what is no array is the update's to give
    # Values the store keeps as they are (no date to patch) and BSON holds (or the update refuses them).
    if not all(type(value) in _ORDER_KINDS for value in order.values()) or not names.encodable(
        [left, order, key]
    ):
        return names.UNHANDLED
    kept = keys + [key]
    return {
        "cents": {**balances, mode: left},
        "open": placed + [dict(order)],
        "keys": kept[-KEYS_KEPT:] if len(kept) > KEYS_KEPT else kept,
    }


def _check_count(value: Any, name: str, high: int = MAX_KEEP) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
        raise ValueError(f"{name} must be an integer from 1 to {high}, got {value!r}")
    return value


@contextmanager
def _database_errors(what: str, order_may_exist: bool = False) -> Iterator[None]:
    try:
        yield
    except PyMongoError as exc:
        log.error("paper broker: database failure during %s: %s", what, exc)
        raise Unreachable(
            f"paper market database unreachable during {what}: {exc}", order_may_exist=order_may_exist
        ) from exc


class _SharedSchedules:
    """The ActivesSchedule of each database, read once per SCHEDULE_CACHE_WALL_SECONDS by a process.

    Every session of a server pool has a broker of its own, and they all buy at the same decision
    instant: with a cache per broker, each of them re-read the whole collection under the embedded
    store's lock at every decision (most of a paper order's CPU). The documents are handed out
    as they were read and never changed by the brokers, so one copy serves every thread.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._read: dict[Any, tuple[float, dict[str, dict]]] = {}
        # The last collection asked for and its entry: every buy asks, and hashing and comparing a
        # collection (by its database and name) was most of the lookup. Held by identity, so a
        # collection that is gone is never mistaken for a new one at the same address; and of a
        # generation (see forget), so that a buy racing a forget cannot keep the old entry in use.
        self._last: tuple[Any, tuple[float, dict[str, dict]], int] | None = None
        self._generation = 0

    def get(self, collection: Any) -> dict[str, dict]:
        now = time.monotonic()
        generation = self._generation
        last = self._last
        cached = last[1] if last is not None and last[0] is collection and last[2] == generation else None
        if cached is None or not 0 <= now - cached[0] <= SCHEDULE_CACHE_WALL_SECONDS:
            with self._lock:
                cached = self._read.get(collection)
        if cached is not None and 0 <= now - cached[0] <= SCHEDULE_CACHE_WALL_SECONDS:
            self._last = (collection, cached, generation)
            return cached[1]
        # Read outside this lock: a slow database must not hold up the brokers of other databases.
        with _database_errors("reading ActivesSchedule"):
            docs = {doc["ativo"]: doc for doc in collection.find({}, {"_id": 0})}
        if not docs:
            return docs  # not seeded yet, most likely: the next buy asks again
        entry = (now, docs)
        with self._lock:
            self._read.pop(collection, None)
            self._read[collection] = entry
            while len(self._read) > SCHEDULE_CACHE_DATABASES:
                del self._read[next(iter(self._read))]
        self._last = (collection, entry, generation)
        return docs

    def forget(self) -> None:
        """Read every schedule again on next use (after a change that must be seen at once)."""
        with self._lock:
            self._read.clear()
            self._generation += 1


SCHEDULES = _SharedSchedules()

# Whether a pair's schedule document is open in a second (see PaperBroker._is_open), by (id of the
# document, second, zone); the document is kept beside the answer, so an id reused is never mistaken.
_OPEN_AT: dict[tuple[int, int, Any], tuple[dict | None, bool]] = {}
_OPEN_AT_KEPT = 4096


@functools.lru_cache(maxsize=256)
def _expiry_of(second: int, minutes: int) -> tuple[int, str]:
    """option_expiry, which reads only the whole second, once per second and expiry."""
    return option_expiry(second, minutes)


_MARKETS_LOCK = threading.Lock()
_MARKETS: dict[tuple[int, int, int], PaperMarket] = {}


def shared_market(seed: int, payout_min: int, payout_max: int) -> PaperMarket:
    """The process's one PaperMarket for these parameters.

    Its prices and payouts are pure functions of them, but each market builds every pair's model
    on first use: with a market per broker, the first orders of an instant rebuilt the models once
    per session (a tenth of a paper order's time at the order desk). The minute cache is shared by
    the markets already (paper_market._SHARED_MINUTES); a pair's model is written once per key and
    only read afterwards, so one market serves every thread.
    """
    key = (seed, payout_min, payout_max)
    with _MARKETS_LOCK:
        market = _MARKETS.get(key)
        if market is None:
            market = _MARKETS[key] = PaperMarket(seed, payout_min, payout_max)
        return market


class PaperBroker(Broker):
    def __init__(
        self,
        config: Config,
        db: Any,
        clock: Clock,
        email: str,
        password: str,
        market: PaperMarket | None = None,
    ):
        self._config = config
        self._accounts = db[PAPER_BALANCES]
        self._schedules = db[ACTIVES_SCHEDULE]
        self._clock = clock
        self._email = email or ""
        self._password = password or ""
        self._market = market or shared_market(
            config.paper_seed, config.paper_payout_min, config.paper_payout_max
        )
        self._mode = "PRACTICE"
        self._connected = False
        self._streams: dict[str, int] = {}
        # When each order this broker placed expires: until then it cannot have settled, so a wait
        # for its settlement sleeps without reading the account (see `settlement`).
        self._expiries: dict[int, float] = {}

    @property
    def market(self) -> PaperMarket:
        return self._market

    # --- session --------------------------------------------------------------------------------

    def connect(self) -> None:
        if not self._email or not self._password:
            raise AuthError("email and password are required")
        try:
            self._email = normalize_email(self._email)
        except ValueError:
            raise AuthError("the paper account's email is not a valid email address") from None
        with _database_errors("connect"):
            account = self._accounts.find_one({"_id": self._email}, {"passwordHash": 1})
            if account is None:
                self._accounts.update_one(
                    {"_id": self._email},
                    {
                        # The email is the _id: one account per email, found without a scan.
                        "$setOnInsert": {
                            "email": self._email,
                            "passwordHash": hash_password(self._password, self._config.password_hash_profile),
                            "cents": dict(STARTING_CENTS),
                            "open": [],
                            "settled": [],
                            "createdAt": self._clock.now(),
                        }
                    },
                    upsert=True,
                )
                # Another process may have registered the email first: check against what is stored.
                account = self._accounts.find_one({"_id": self._email}, {"passwordHash": 1})
        if account is None or not verify_password(account.get("passwordHash"), self._password):
            raise AuthError("wrong email or password for the paper account")
        self._connected = True
        self._settle_due()

    def is_connected(self) -> bool:
        return self._connected

    def close(self) -> None:
        self._connected = False
        self._streams.clear()

    def _require_connection(self) -> None:
        if not self._connected:
            raise Unreachable("not connected to the paper broker: call connect() first")

    # --- balances -------------------------------------------------------------------------------

    def change_balance(self, mode: str) -> None:
        check_mode(mode)
        self._require_connection()
        self._mode = mode

    def get_balance(self) -> float:
        self._require_connection()
        self._settle_due()
        with _database_errors("get_balance"):
            account = self._accounts.find_one({"_id": self._email}, {"cents": 1})
        if account is None:
            raise Unreachable(f"the paper account {self._email} no longer exists")
        return _from_cents(account["cents"][self._mode])

    # --- market ---------------------------------------------------------------------------------

    def _schedule(self, pair: str | None = None) -> dict[str, dict]:
        # The weekly windows change rarely; a buy should not wait on reading them again.
        docs = SCHEDULES.get(self._schedules)
        return docs if pair is None else {pair: docs[pair]} if pair in docs else {}

    def _is_open(self, schedule_doc: dict | None, t: float) -> bool:
        # A schedule speaks in local minutes, and a zone's offset is whole seconds: within one
        # second, a pair is open or closed throughout. Every order of an instant asks in that second.
        zone = self._config.zone
        key = (id(schedule_doc), math.floor(t), zone)
        known = _OPEN_AT.get(key)
        if known is not None and known[0] is schedule_doc:
            return known[1]
        answer = is_open(schedule_doc, local_datetime(t, zone))
        if len(_OPEN_AT) >= _OPEN_AT_KEPT:
            _OPEN_AT.clear()
        _OPEN_AT[key] = (schedule_doc, answer)
        return answer

    def open_assets(self) -> dict[str, dict]:
        self._require_connection()
        now = self._clock.now()
        schedules = self._schedule()
        return {
            pair: {
                "open": self._is_open(schedules.get(pair), now),
                "payout": self._market.payout(pair, _day(now)),
            }
            for pair in PAIR_NAMES
        }

    def start_stream(self, pair: str, keep: int = 15) -> None:
        check_pair(pair)
        _check_count(keep, "keep")
        self._require_connection()
        self._streams[pair] = keep

    def stream_candles(self, pair: str) -> list[Candle]:
        keep = self._streams.get(pair)
        if keep is None:
            raise ValueError(f"no candle stream for {pair}: call start_stream() first")
        self._require_connection()
        now = self._clock.now()
        current = math.floor(now / 60) * 60
        return cast(list[Candle], self._market.candles(pair, current - 60 * (keep - 1), keep, 60, until=now))

    def stop_stream(self, pair: str) -> None:
        self._streams.pop(pair, None)

    def candles(self, pair: str, size: int, count: int, end: float | None = None) -> list[Candle]:
        check_pair(pair)
        _check_count(count, "count")
        if isinstance(size, bool) or not isinstance(size, int) or size <= 0 or size % 60:
            raise ValueError(f"size must be a positive multiple of 60 seconds, got {size!r}")
        self._require_connection()
        now = self._clock.now()
        # Nothing after now has happened yet, whatever `end` asks for; like
        # IQ Option's get-candles, `end` counts in whole seconds.
        end = math.floor(now if end is None else min(float(end), now))
        last = math.floor(end / size) * size
        start = last - size * (count - 1)
        if start < 0:
            raise ValueError("the requested candles start before 1970")
        return cast(list[Candle], self._market.candles(pair, start, count, size, until=end))

    # --- orders ---------------------------------------------------------------------------------

    def buy(self, amount, pair: str, direction: str, minutes: int = 1) -> int:
        return self.place(
            amount, pair, direction, minutes, client_key=f"paper-buy-{secrets.token_hex(12)}"
        ).order_id

    def place(
        self,
        amount,
        pair: str,
        direction: str,
        minutes: int = 1,
        *,
        client_key: str,
        sent_at: float | None = None,
    ) -> Fill:
        # sent_at is not needed here: find_order's fence refuses a late write of a voided key.
        check_client_key(client_key)
        stake = check_order(amount, pair, direction, minutes)
        self._require_connection()
        now = self._clock.now()
        if not self._is_open(self._schedule(pair).get(pair), now):
            raise AssetClosed(f"{pair} is closed for trading now")
        stake_cents = _to_cents(stake)
        expires_at, kind = _expiry_of(int(now), minutes)
        order_id = unique_int(2**53)  # 53 bits: IQ Option's order ids fit a JSON number too
        order = {
            "id": order_id,
            "clientKey": client_key,
            "ativo": pair,
            "direction": direction,
            "amountCents": stake_cents,
            "payout": self._market.payout(pair, _day(now)),
            "account": self._mode,
            "openedAt": now,
            # Settled like IQ Option: a turbo option for 1-5 minutes, a binary one (15-minute boundary) for 15.
            "expiresAt": expires_at,
            "kind": kind,
            "openPrice": self._quote(pair, now),
        }
        balance_field = f"cents.{self._mode}"
        # Enough money, and the key not placed yet: the buy's filter, but for the account's id.
        conditions = {balance_field: {"$gte": stake_cents}, "keys": {"$ne": client_key}}
        # The write may apply even if its reply is lost: then the order may exist.
        with _database_errors("buy", order_may_exist=True):
            taken = names.change_by_id(
                self._accounts,
                self._email,
                lambda stored: _buy(stored, conditions, self._mode, stake_cents, order),
            )
            if taken is None:  # MongoDB, or an account _buy leaves to it: the update _buy reads as a function
                taken = (
                    self._accounts.find_one_and_update(
                        {"_id": self._email, **conditions},
                        {
                            "$inc": {balance_field: -stake_cents},
                            "$push": {"open": order, "keys": {"$each": [client_key], "$slice": -KEYS_KEPT}},
                        },
                        projection={"_id": 1},
                    )
                    is not None
                )
        if not taken:
            with _database_errors("buy", order_may_exist=True):
                placed, record, voided = self._by_key(client_key)
            if placed is not None or record is not None:
                return self._fill(placed or record or {})  # the same key again: the first order
            if voided:
                raise Rejected(f"the order {client_key} was declared not placed and can no longer be placed")
            raise Rejected("Insufficient funds")
        self._expiries[order_id] = float(expires_at)
        return self._fill(order)

    def _quote(self, pair: str, t: float) -> float:
        return self._market.price(pair, t)

    def _fill(self, order: dict) -> Fill:
        open_price = order.get("openPrice")
        if open_price is None:  # an order placed before the book kept its quote
            open_price = self._quote(order["ativo"], order["openedAt"])
        return Fill(int(order["id"]), float(open_price), float(order["expiresAt"]), "broker")

    @staticmethod
    def _settlement(record: dict) -> Settlement:
        return Settlement(
            cents(Decimal(record["profitCents"]) / 100),
            float(record["closePrice"]),
            float(record["expiresAt"]),
            "broker",
        )

    def _by_key(self, client_key: str, order_id: int | None = None) -> tuple[dict | None, dict | None, bool]:
        """(open order, settlement record, voided) of the order with this key (or, failing that, this id)."""
        account = self._accounts.find_one({"_id": self._email}, {"open": 1, "settled": 1, "voided": 1})
        if account is None:
            return None, None, False
        for field in ("clientKey", "id"):
            wanted = client_key if field == "clientKey" else order_id
            if wanted is None:
                continue
            for order in account.get("open", []):
                if order.get(field) == wanted:
                    return order, None, False
            for record in account.get("settled", []):
                if record.get(field) == wanted:
                    return None, record, False
        return None, None, client_key in account.get("voided", [])

    def find_order(
        self,
        client_key: str,
        *,
        pair: str,
        direction: str,
        amount,
        sent_at: float,
        order_id: int | None = None,
        minutes: int = 1,
    ) -> OrderLookup:
        check_client_key(client_key)
        check_order(amount, pair, direction, 1)
        if not self._connected:
            return OrderLookup("unknown")
        try:
            return self._lookup(client_key, pair, direction, order_id, fence=True)
        except BrokerError as exc:
            log.warning("paper broker: cannot look up order %s now: %s", client_key, exc)
            return OrderLookup("unknown")

    def _lookup(
        self, client_key: str, pair: str, direction: str, order_id: int | None, *, fence: bool
    ) -> OrderLookup:
        with _database_errors("order lookup"):
            order, record, voided = self._by_key(client_key, order_id)
        found = order or record
        if found is not None and found.get("clientKey") not in (None, client_key):
            found = order = record = None  # the id belongs to another key's order: not ours
        if found is not None and (found["ativo"], found["direction"]) != (pair, direction):
            found = order = record = None  # an id match for another pair or direction
        if order is not None and order["expiresAt"] <= self._clock.now():
            record, order = self._settle(order), None
        if record is not None:
            return OrderLookup("settled", self._fill(record), self._settlement(record))
        if order is not None:
            return OrderLookup("open", self._fill(order))
        if voided:
            return OrderLookup("not_placed")
        if not fence:
            return OrderLookup("unknown")  # the key is known but its order left the book long ago
        # The fence: after this write no place() with the key can land.
        with _database_errors("voiding an order key"):
            fenced = self._accounts.update_one(
                {"_id": self._email, "keys": {"$ne": client_key}},
                {
                    "$push": {
                        "keys": {"$each": [client_key], "$slice": -KEYS_KEPT},
                        "voided": {"$each": [client_key], "$slice": -VOIDED_KEPT},
                    }
                },
            )
        if fenced.modified_count:
            log.info("paper broker: order %s was never placed; its key is voided", client_key)
            return OrderLookup("not_placed")
        return self._lookup(client_key, pair, direction, order_id, fence=False)

    def settlement(self, order_id: int, timeout: float) -> Settlement:
        timeout = check_timeout(timeout)
        self._require_connection()
        self._wait_for_own_expiry(order_id, timeout)
        order, record = self._find_order(order_id)
        if record is None:
            if order is None:
                raise Rejected(f"unknown order {order_id}")
            self._wait_for_expiry(order, timeout)
            record = self._settle(order)
        return self._settlement(record)

    def _wait_for_own_expiry(self, order_id: int, timeout: float) -> None:
        """Wait, without reading the account, for an order this broker placed to expire.

        It is open until then: hundreds of sessions waiting on their orders read their accounts
        twice a second, which kept the interpreter from the next instant's orders.
        """
        expires = self._expiries.get(order_id)
        if expires is not None and self._clock.now() < expires:
            self._wait_for_expiry({"id": order_id, "expiresAt": expires}, timeout)
        self._expiries.pop(order_id, None)

    def _wait_for_expiry(self, order: dict, timeout: float) -> None:
        start = self._clock.now()
        sleep_until(self._clock, min(order["expiresAt"], start + timeout))
        if self._clock.now() < order["expiresAt"]:
            raise BrokerTimeout(
                f"order {order['id']} expires at {order['expiresAt']}, after the {timeout:g} s timeout"
            )

    def _reconnect_once(self) -> None:
        # The paper "connection" is the database: log in again, keep the streams.
        self._connected = False
        self.connect()

    def _find_order(self, order_id: int) -> tuple[dict | None, dict | None]:
        """(open order, settlement record) for `order_id`; at most one is not None.

        The open orders first, alone: an order being settled is usually one of them, and the
        settled records are up to SETTLED_KEPT, which the embedded store copies to read. An order
        not open at the first read was settled before it, so the second read finds its record.
        """
        for field in ("open", "settled"):
            with _database_errors("order lookup"):
                account = self._accounts.find_one({"_id": self._email}, {field: 1})
            if account is None:
                return None, None
            for found in account.get(field, []):
                if found["id"] == order_id:
                    return (found, None) if field == "open" else (None, found)
        return None, None

    def order_result(self, order_id: int, timeout: float) -> float:
        timeout = check_timeout(timeout)
        self._require_connection()
        self._wait_for_own_expiry(order_id, timeout)
        order, record = self._find_order(order_id)
        if record is not None:
            return _from_cents(record["profitCents"])
        if order is None:
            raise Rejected(f"unknown order {order_id}")
        self._wait_for_expiry(order, timeout)
        return _from_cents(self._settle(order)["profitCents"])

    def _settle(self, order: dict) -> dict:
        """Settle one expired order (exactly once across processes); its settlement record."""
        pair, direction = order["ativo"], order["direction"]
        result = self._market.outcome(pair, direction, order["openedAt"], order["expiresAt"])
        stake = Decimal(order["amountCents"]) / 100
        if result > 0:
            profit = win_profit(stake, order["payout"])
            credit = stake + profit
        elif result < 0:
            profit, credit = -stake, Decimal(0)
        else:
            profit, credit = Decimal(0), stake
        open_price, close_price = self._market.prices(pair, [order["openedAt"], order["expiresAt"]])
        record = {
            "id": order["id"],
            "clientKey": order.get("clientKey"),
            "ativo": pair,
            "direction": direction,
            "amountCents": order["amountCents"],
            "payout": order["payout"],
            "account": order["account"],
            "openedAt": order["openedAt"],
            "expiresAt": order["expiresAt"],
            "openPrice": float(open_price),
            "closePrice": float(close_price),
            "result": RESULTS[result],
            "profitCents": _to_cents(profit),
            "settledAt": self._clock.now(),
        }
        with _database_errors("settlement"):
            done = self._accounts.update_one(
                {"_id": self._email, "open.id": order["id"]},
                {
                    "$pull": {"open": {"id": order["id"]}},
                    "$inc": {f"cents.{order['account']}": _to_cents(credit)},
                    "$push": {"settled": {"$each": [record], "$slice": -SETTLED_KEPT}},
                },
            )
        if done.modified_count == 0:
            # Another process settled it first; its record is the same (the market is pure).
            _, stored = self._find_order(order["id"])
            if stored is not None:
                return stored
        return record

    def _settle_due(self) -> None:
        with _database_errors("settling expired orders"):
            account = self._accounts.find_one({"_id": self._email}, {"open": 1})
        now = self._clock.now()
        for order in (account or {}).get("open", []):
            if order["expiresAt"] <= now:
                self._settle(order)
