"""Brokers: the interface (base.py), the paper adapter (the default) and the IQ Option adapter.

`open_broker` builds the adapter GLIMPSE_BROKER names (not yet connected);
`check_credentials` logs in once and reads both balances, for the API's
checkIq and `glimpse broker check`.
"""

from __future__ import annotations

import logging
from typing import Any

from glimpse.market.base import (
    AssetClosed,
    AuthError,
    Broker,
    BrokerError,
    BrokerTimeout,
    Candle,
    ConnectionInUse,
    Disconnected,
    Fill,
    OrderLookup,
    Rejected,
    Settlement,
    Unreachable,
)
from glimpse.runtime.clock import Clock
from glimpse.runtime.config import Config

__all__ = [
    "AssetClosed",
    "AuthError",
    "Broker",
    "BrokerError",
    "BrokerTimeout",
    "Candle",
    "ConnectionInUse",
    "Disconnected",
    "Fill",
    "OrderLookup",
    "Rejected",
    "Settlement",
    "Unreachable",
    "check_credentials",
    "open_broker",
]

log = logging.getLogger(__name__)

# How long a credentials check waits for this process's one IQ Option connection.
CHECK_SLOT_WAIT_SECONDS = 30.0


def open_broker(
    config: Config, db: Any, clock: Clock, email: str, password: str, *, slot_wait: float = 0.0
) -> Broker:
    """The broker adapter `config.broker` names, for one account; call connect() on it.

    `slot_wait`: with IQ Option, how long connect() waits for this process's
    one connection to be free before it raises ConnectionInUse.
    """
    if config.broker == "paper":
        from glimpse.market.paper import PaperBroker

        return PaperBroker(config, db, clock, email, password)
    if config.broker == "iqoption":
        from glimpse.market.iqoption import IQOptionBroker, IQTimeouts

        return IQOptionBroker(config, email, password, clock=clock, timeouts=IQTimeouts(slot_wait=slot_wait))
    raise ValueError(f"unknown broker {config.broker!r} (GLIMPSE_BROKER must be paper or iqoption)")


def check_credentials(config: Config, db: Any, clock: Clock, email: str, password: str) -> dict:
    """Log in with the account's credentials and read both balances.

    Returns {"account": email, "treinamento": practice balance, "real": real
    balance}. Raises AuthError, Unreachable, BrokerTimeout (or another
    BrokerError) when the broker refuses or cannot be reached.
    """
    # One IQ Option connection per process: two checks arriving together wait
    # for each other rather than fail.
    broker = open_broker(config, db, clock, email, password, slot_wait=CHECK_SLOT_WAIT_SECONDS)
    broker.connect()
    try:
        broker.change_balance("PRACTICE")
        practice = broker.get_balance()
        try:
            broker.change_balance("REAL")
            real = broker.get_balance()
        except Rejected:  # an account without a real balance
            real = 0.0
    finally:
        broker.close()
    log.info("broker credentials checked for an account on %s", config.broker)
    return {"account": email, "treinamento": practice, "real": real}
