"""The embedded bundle's services on a fast clock, in this process, for tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bson import ObjectId

from auxiliar.candles_starter import CandleStreams
from auxiliar.lister import Lister
from auxiliar.server_assigner import Assigner
from glimpse.runtime import security
from glimpse.runtime.clock import FastClock
from glimpse.runtime.config import Config
from glimpse.runtime.services import ServiceContext
from glimpse.store import db as names
from glimpse.store.accounts import new_account
from glimpse.store.seed import seed_database
from operational_server.service import ServerPool, server_names

# Monday 2024-06-03 10:00:05 in São Paulo (13:00:05 UTC): the forex market is open.
MONDAY_MORNING = 1_717_419_605.0

# A strategy that matches every minute, and money settings with no gale and no stop: a user who trades
# every minute until Stop.
ANY_COLOUR = {"name": "Qualquer Cor", "nameKey": "qualquer cor", "sequence": "1", "operation": "call",
              "mirror": True, "createdBy": "Teste"}  # fmt: skip
FLAT_MONEY = {"money": 2, "gale": False, "galeCount": 0, "galeType": "dobro", "sobra": 1,
              "stopLoss": False, "stopLossValue": 0, "stopWin": False, "stopWinValue": 0}  # fmt: skip
PAPER_PASSWORD = "paper-pass"  # the paper broker takes any password; accounts carry one, encrypted


@dataclass
class Bundle:
    ctx: ServiceContext
    running: list[Any] = field(default_factory=list)
    pool: ServerPool | None = None

    @property
    def db(self):
        return self.ctx.db

    def start(self, servers: int = 2, assigners: int = 1) -> Bundle:
        self.running += [Lister(self.ctx), CandleStreams(self.ctx)]
        self.running += [Assigner(self.ctx) for _ in range(assigners)]
        for service in self.running:
            service.start()
        if servers:
            self.pool = ServerPool(self.ctx, server_names(servers, "test_server_")).start()
            self.running.append(self.pool)
        return self

    def stop(self) -> None:
        for service in self.running:
            service.stop()
        for service in self.running:
            service.join(timeout=30)

    def user(self, email: str, **fields: Any) -> str:
        """A premium user with a connected paper account (`fields` added or replaced); their id."""
        return str(add_user(self.db, self._secret_key(), self.ctx.clock.now(), email, **fields))

    def trader(
        self, email: str, money: dict[str, Any], strategy: dict[str, Any] = ANY_COLOUR, **fields: Any
    ) -> str:
        """A user trading `strategy` (stored unless it is) with the `money` settings; their id."""
        return str(
            add_trader(self.db, self._secret_key(), self.ctx.clock.now(), email, money, strategy, **fields)
        )

    def _secret_key(self) -> str:
        return self.ctx.config.secret_key.get_secret_value()

    def press_start(self, user_id: str) -> None:
        self.db[names.ACCOUNTS].update_one(
            {"_id": ObjectId(user_id), "glimpseStatus": "off"},
            {"$set": {"glimpseStatus": "waiting", "waitingSince": self.ctx.clock.now()}},
        )

    def account(self, user_id: str) -> dict:
        return self.db[names.ACCOUNTS].find_one({"_id": ObjectId(user_id)})

    def wait_for(self, condition: Callable[[], Any], wall_seconds: float, what: str) -> Any:
        deadline = time.monotonic() + wall_seconds
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"timed out after {wall_seconds} s waiting for {what}")


def add_user(
    db: Any, secret_key: str, now: float, email: str, *, broker_password: str = PAPER_PASSWORD, **fields: Any
) -> ObjectId:
    """A premium user with a connected broker account (`fields` added or replaced), stored at market
    time `now`; their id. For the tests whose services run as processes too (no Bundle there)."""
    doc = new_account(
        "Teste Silva", email, security.hash_password("password123", "test"), now, premium_days=30
    )
    doc.update(
        iqEmail=email,
        iqPassword=security.encrypt_secret(secret_key, broker_password),
        iqConnected=True,
        readTerms=True,
    )
    doc.update(fields)
    return db[names.ACCOUNTS].insert_one(doc).inserted_id


def add_trader(
    db: Any,
    secret_key: str,
    now: float,
    email: str,
    money: dict[str, Any],
    strategy: dict[str, Any] = ANY_COLOUR,
    *,
    broker_password: str = PAPER_PASSWORD,
    **fields: Any,
) -> ObjectId:
    """`add_user` trading `strategy` (stored unless it is) with the `money` settings; their id."""
    if db[names.STRATEGIES].find_one({"name": strategy["name"]}) is None:
        db[names.STRATEGIES].insert_one(dict(strategy))
    return add_user(
        db,
        secret_key,
        now,
        email,
        broker_password=broker_password,
        strategy=strategy["name"],
        ownedStrategies=[strategy["name"]],
        strategySettings=dict(money),
        **fields,
    )


def make_bundle(config: Config, db: Any, speed: float = 60.0, start: float = MONDAY_MORNING) -> Bundle:
    seed_database(db)
    return Bundle(
        ServiceContext(config=config.with_(clock_speed=speed), db=db, clock=FastClock(speed, start))
    )
