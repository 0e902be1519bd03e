"""Runs the IQ Option adapter, on the real unmodified iqoptionapi, against the fake server.

    python -m tests.broker.iq_driver --url http://127.0.0.1:PORT --seed SEED SCENARIO

The client library keeps its session in module globals, so every scenario
runs in a process of its own (the tests start this module with a timeout).
It prints one JSON line: what the scenario observed, for the tests to judge.
Broker errors are observations too: `timed()` records their type, message
and how long the call took.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import logging
import os
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from glimpse.market import BrokerError, check_credentials, open_broker
from glimpse.market.iqoption import IQOptionBroker, IQTimeouts
from glimpse.runtime.clock import SystemClock
from glimpse.runtime.config import Config, load_config
from tests.broker.contract import CHECKS, FakeIQHarness
from tests.fakes import iq_server

PASSWORD = "fake-password"
# Short bounds, so the failure cases end quickly.
FAST = IQTimeouts(
    connect=3.0,
    request=3.0,
    send=2.0,
    buy=1.0,
    stream_start=3.0,
    close=2.0,
    http=3.0,
    place_deadline=1.0,
    landing=3.0,
    reconnect_first_pause=0.2,
    reconnect_max_pause=1.0,
)

SCENARIOS: dict[str, Callable[[Driver], dict]] = {}


def scenario(fn: Callable[[Driver], dict]) -> Callable[[Driver], dict]:
    SCENARIOS[fn.__name__] = fn
    return fn


def timed(call: Callable, *args: Any, **kwargs: Any) -> dict:
    start = time.monotonic()
    try:
        value = call(*args, **kwargs)
    except BrokerError as exc:
        return {
            "ok": False,
            "error": type(exc).__name__,
            "message": str(exc),
            "order_may_exist": exc.order_may_exist,
            "elapsed": time.monotonic() - start,
        }
    return {"ok": True, "value": value, "elapsed": time.monotonic() - start}


def free_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Driver:
    def __init__(self, url: str, seed: int):
        self.url = url
        self.seed = seed
        self.emails = (f"driver-{os.getpid()}-{n}@example.com" for n in range(1000))

    def config(self, http_base: str | None = None, ws_url: str | None = None) -> Config:
        return load_config(
            {
                "GLIMPSE_SECRET_KEY": "driver-secret-key-" + "x" * 32,
                "GLIMPSE_BROKER": "iqoption",
                "GLIMPSE_IQ_HTTP_BASE": http_base or self.url,
                "GLIMPSE_IQ_WS_URL": ws_url or self.url.replace("http://", "ws://") + "/echo/websocket",
                "GLIMPSE_PAPER_SEED": str(self.seed),
            }
        )

    def broker(self, email: str | None = None, password: str = PASSWORD, **urls: str) -> IQOptionBroker:
        return IQOptionBroker(self.config(**urls), email or next(self.emails), password, timeouts=FAST)

    def control(self, **switches: Any) -> None:
        iq_server.control(self.url, **switches)


@scenario
def contract(d: Driver) -> dict:
    """Every check of the broker contract, through open_broker (GLIMPSE_BROKER=iqoption)."""
    harness = FakeIQHarness(d.url, d.seed)
    results = {}
    for name, check in CHECKS.items():
        try:
            check(harness)
            results[name] = "ok"
        except BaseException:  # reported to the test, which fails with it
            results[name] = traceback.format_exc()
        finally:
            harness.cleanup()
    return results


@scenario
def failures(d: Driver) -> dict:
    out: dict[str, Any] = {}
    d.control(bad_credentials=True)
    out["bad_credentials"] = timed(d.broker().connect)
    d.control(bad_credentials=False)

    d.control(mute_profile=True)
    out["mute_profile"] = timed(d.broker().connect)
    d.control(mute_profile=False)
    out["threads_left"] = [t.name for t in threading.enumerate() if t.name.startswith("glimpse-iq")]

    b = d.broker()
    out["connect_after_watchdog"] = timed(b.connect)

    d.control(suspended=["GBPUSD"])
    assets = b.open_assets()
    out["suspended_open"], out["other_open"] = assets["GBPUSD"]["open"], assets["EURUSD"]["open"]
    out["suspended_buy"] = timed(b.buy, 10, "GBPUSD", "call", 1)
    d.control(suspended=[])

    d.control(insufficient_funds=True)
    out["insufficient_buy"] = timed(b.buy, 10, "EURUSD", "call", 1)
    d.control(insufficient_funds=False)

    d.control(buy_silent=True)
    out["silent_buy"] = timed(b.buy, 10, "EURUSD", "call", 1)
    d.control(buy_silent=False)

    # "buy late": the reply comes after the adapter gave up, and the order exists.
    d.control(buy_reply_delay=2.0)
    out["late_buy"] = timed(b.buy, 7, "EURUSD", "put", 1)
    d.control(buy_reply_delay=0.05)
    time.sleep(1.6)
    out["late_orders"] = b.late_orders()
    if out["late_orders"]:
        out["late_result"] = timed(b.order_result, out["late_orders"][0]["order_id"], 10.0)

    d.control(never_close=True)
    order_id = b.buy(10, "EURUSD", "call", 1)
    d.control(never_close=False)
    out["never_close"] = timed(b.order_result, order_id, 1.0)

    d.control(settle_delay=5.0)
    order_id = b.buy(10, "EURUSD", "call", 1)
    out["dropped_sockets"] = iq_server.drop(d.url)
    time.sleep(0.3)
    out["connected_after_drop"] = b.is_connected()
    out["balance_after_drop"] = timed(b.get_balance)
    out["candles_after_drop"] = timed(b.candles, "EURUSD", 60, 3)
    out["result_after_drop"] = timed(b.order_result, order_id, 5.0)
    d.control(settle_delay=0.5)
    out["reconnect"] = timed(b.connect)
    out["connected_after_reconnect"] = b.is_connected()
    out["balance_after_reconnect"] = timed(b.get_balance)
    b.close()
    return out


def _lookup(result: Any) -> dict:
    """An OrderLookup as JSON."""
    return json.loads(json.dumps(dataclasses.asdict(result), default=str))


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname} {record.getMessage()}")


@scenario
def faults(d: Driver) -> dict:
    """Buys and waits through dropped sockets, late and lost replies; finding the orders afterwards."""
    out: dict[str, Any] = {}
    b = d.broker()
    b.connect()
    order: dict[str, Any] = {"pair": "EURUSD", "direction": "call", "amount": 10}

    def place(key: str) -> dict:
        return timed(b.place, 10, "EURUSD", "call", 1, client_key=key)

    def find(key: str, sent_at: float) -> dict:
        return _lookup(b.find_order(key, **order, sent_at=sent_at))

    # 1. The socket drops during the buy; the broker executed it.
    d.control(drop_on_buy=True, settle_delay=3.0)
    sent = time.time()
    out["drop_buy"] = place("drop-buy")
    out["drop_buy_connected"] = b.is_connected()
    out["drop_buy_unknown_offline"] = find("drop-buy", sent)
    out["drop_buy_reconnect"] = timed(b.reconnect)
    out["drop_buy_found"] = find("drop-buy", sent)
    out["drop_buy_settled"] = timed(
        lambda: dataclasses.asdict(b.settlement(out["drop_buy_found"]["fill"]["order_id"], 10.0))
    )
    out["drop_buy_found_after"] = find("drop-buy", sent)

    # 2. A buy reply later than the adapter waits: unknown first, then found.
    d.control(buy_reply_delay=2.0, settle_delay=3.0)
    sent = time.time()
    out["late"] = place("late")
    out["late_unknown"] = find("late", sent)
    out["late_retry"] = place("late")  # the same key again: no second buy
    time.sleep(2.0)
    out["late_found"] = find("late", sent)
    d.control(buy_reply_delay=0.05)

    # 3. A buy that never executes: unknown while it may land, then not placed.
    d.control(buy_silent=True)
    sent = time.time()
    out["silent"] = place("silent")
    out["silent_unknown"] = find("silent", sent)
    # A 5-minute buy names an expiry 4 minutes later: it may still land when a 1-minute one no longer can.
    sent5 = time.time()
    out["silent5"] = timed(b.place, 10, "EURUSD", "call", 5, client_key="silent5")
    time.sleep(max(0.0, sent5 + FAST.landing + 0.5 - time.time()))
    out["silent_not_placed"] = find("silent", sent)
    out["silent5_unknown"] = find("silent5", sent5)
    # A key this process never sent (another server's, after a crash): only the ledger's expiry tells.
    out["foreign5_unknown"] = _lookup(b.find_order("foreign5", **order, sent_at=sent5, minutes=5))
    out["foreign1_not_placed"] = _lookup(b.find_order("foreign5", **order, sent_at=sent5, minutes=1))
    d.control(buy_silent=False)

    # 4. An order that never closes: settlement times out, the order is open.
    d.control(never_close=True)
    sent = time.time()
    fill = b.place(10, "EURUSD", "call", 1, client_key="never")
    d.control(never_close=False)
    out["never_settlement"] = timed(b.settlement, fill.order_id, 1.0)
    out["never_found"] = find("never", sent)

    # 5. No quote in the broker's messages: the open quote comes from our candle stream.
    b.start_stream("EURUSD", 3)
    d.control(omit_quotes=True, settle_delay=0.5)
    stream_fill = b.place(10, "EURUSD", "call", 1, client_key="no-quotes")
    out["stream_fill"] = dataclasses.asdict(stream_fill)
    out["stream_last_close"] = b.stream_candles("EURUSD")[-1]["c"]
    out["stream_settlement"] = dataclasses.asdict(b.settlement(stream_fill.order_id, 10.0))
    b.stop_stream("EURUSD")
    d.control(omit_quotes=False)

    # 6. An idle drop: reconnect logs one line when lost and one when back.
    lines = _Lines()
    logging.getLogger("glimpse.market").addHandler(lines)
    logging.getLogger("glimpse.market").setLevel(logging.DEBUG)
    out["idle_dropped"] = iq_server.drop(d.url)
    time.sleep(0.3)
    out["idle_connected"] = b.is_connected()
    out["idle_reconnect"] = timed(b.reconnect)
    out["idle_connected_after"] = b.is_connected()
    out["idle_balance"] = timed(b.get_balance)
    out["idle_lines"] = [line for line in lines.lines if "reconnect" in line or "lost" in line]
    b.close()

    # 7. Nobody answers: back-off within the budget, two lines (lost, giving up), not one per try.
    lines.lines.clear()
    dead = d.broker(ws_url=f"ws://127.0.0.1:{free_port()}/echo/websocket")
    out["dead_reconnect"] = timed(dead.reconnect, budget=2.0)
    out["dead_lines"] = [line for line in lines.lines if "reconnect" in line or "giving up" in line]
    out["fake_orders"] = [
        {k: o[k] for k in ("id", "status", "open_quote", "close_quote")}
        for o in iq_server.state(d.url)["orders"]
    ]
    return out


@scenario
def unreachable(d: Driver) -> dict:
    dead = f"127.0.0.1:{free_port()}"
    out = {
        "ws_down": timed(d.broker(ws_url=f"ws://{dead}/echo/websocket").connect),
        "login_down": timed(d.broker(http_base=f"http://{dead}").connect),
    }
    b = d.broker()
    out["then_connect"] = timed(b.connect)
    b.close()
    return out


@scenario
def one_connection(d: Driver) -> dict:
    first, second = d.broker(), d.broker()
    first.connect()
    order_id = first.buy(25, "EURUSD", "call", 1)
    first.order_result(order_id, 10.0)
    out: dict[str, Any] = {"second": timed(second.connect)}
    second.close()  # closing the refused broker leaves the live connection alone
    out["first_connected"] = first.is_connected()
    out["first_balance"] = timed(first.get_balance)
    out["first_buy"] = timed(first.buy, 1, "EURUSD", "put", 1)
    # With that order open its stake is taken: this balance differs from a fresh account's even
    # when the first order settled as a tie (stake returned), which the balance before cannot show.
    out["first_balance_open"] = timed(first.get_balance)
    first.close()
    out["second_after_close"] = timed(second.connect)
    out["second_balance"] = timed(second.get_balance)  # a fresh login: the second account's own balance
    second.close()
    return out


@scenario
def cpu(d: Driver) -> dict:
    b = d.broker()
    b.connect()
    out: dict[str, Any] = {}
    d.control(settle_delay=4.0)
    order_id = b.buy(10, "EURUSD", "call", 1)
    wall, used = time.monotonic(), time.process_time()
    out["profit"] = b.order_result(order_id, 10.0)
    out["adapter"] = {"wall": time.monotonic() - wall, "cpu": time.process_time() - used}
    # The library's own wait, for comparison: check_win_v3 spins until the result.
    d.control(settle_delay=2.0)
    order_id = b.buy(10, "EURUSD", "call", 1)
    wall, used = time.monotonic(), time.process_time()
    b._iq.check_win_v3(order_id)
    out["library"] = {"wall": time.monotonic() - wall, "cpu": time.process_time() - used}
    d.control(settle_delay=0.5)
    b.close()
    return out


@scenario
def proxy(d: Driver) -> dict:
    from websocket._url import get_proxy_info

    out = {"proxy_before": get_proxy_info("127.0.0.1", False)[0]}
    b = d.broker()
    out["connect"] = timed(b.connect)
    out["balance"] = timed(b.get_balance)
    out["no_proxy"] = os.environ.get("no_proxy")
    out["proxy_after"] = get_proxy_info("127.0.0.1", False)[0]
    b.close()
    return out


@scenario
def secrets(d: Driver) -> dict:
    import iqoptionapi.global_value as global_value

    buffer = io.StringIO()
    logging.basicConfig(level=logging.DEBUG, stream=buffer, force=True)
    sessions_before = set(iq_server.state(d.url)["sessions"])
    b = d.broker()
    b.connect()
    new_sessions = set(iq_server.state(d.url)["sessions"]) - sessions_before
    out: dict[str, Any] = {"ssid_during": global_value.SSID in new_sessions}
    b.get_balance()
    b.order_result(b.buy(10, "EURUSD", "call", 1), 10.0)
    b.close()
    logs = buffer.getvalue()
    out.update(
        sessions=len(new_sessions),
        ssid_logged=any(ssid in logs for ssid in new_sessions),
        password_logged=PASSWORD in logs,
        debug_lines=logs.count("DEBUG"),
        ssid_after_close=global_value.SSID,
    )
    return out


@scenario
def check(d: Driver) -> dict:
    config = d.config()
    email = next(d.emails)
    out = {"ok": check_credentials(config, None, SystemClock(), email, PASSWORD), "email": email}
    try:
        check_credentials(config, None, SystemClock(), email, "wrong-password")
    except BrokerError as exc:
        out["wrong"] = type(exc).__name__
    broker = open_broker(config, None, SystemClock(), email, PASSWORD)
    out["factory"] = type(broker).__name__
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.broker.iq_driver")
    parser.add_argument("--url", required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    args = parser.parse_args(argv)
    result = SCENARIOS[args.scenario](Driver(args.url, args.seed))
    sys.stdout.write(json.dumps(result, default=str) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
