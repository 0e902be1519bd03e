"""The IQ Option adapter against the fake server: failure switches, bounds, quirks.

Each test runs one driver scenario (tests/broker/iq_driver.py) in a process
of its own, on the real unmodified iqoptionapi, with short adapter timeouts
(connect 3 s, request 3 s, buy 1 s). Every failure must end in its typed
error within its bound; the slack below covers a loaded machine, not a
missing bound (a hang would last forever, and the driver process is killed
at its own timeout).
"""

from __future__ import annotations

import pytest

SLACK = 2.5  # seconds a loaded machine may add to a bound


def error(observation: dict, name: str, bound: float) -> dict:
    assert observation["ok"] is False, observation
    assert observation["error"] == name, observation
    assert observation["elapsed"] < bound + SLACK, observation
    return observation


@pytest.fixture(scope="module")
def failures(fake_server):
    from tests.fakes import iq_server

    iq_server.reset(fake_server.url)
    return fake_server.run("failures", timeout=120)


def test_bad_credentials_are_an_auth_error(failures):
    error(failures["bad_credentials"], "AuthError", 0)
    assert "credentials" in failures["bad_credentials"]["message"]


def test_a_connect_that_never_gets_its_profile_is_stopped_by_the_watchdog(failures):
    error(failures["mute_profile"], "BrokerTimeout", 3.0)
    # The watchdog ended the library's busy waits: no worker thread spins on,
    # and the process can connect again.
    assert failures["threads_left"] == []
    assert failures["connect_after_watchdog"]["ok"] is True


def test_a_suspended_pair_is_reported_closed_and_refuses_buys(failures):
    assert failures["suspended_open"] is False and failures["other_open"] is True
    error(failures["suspended_buy"], "AssetClosed", 1.0)


def test_insufficient_funds_are_rejected_with_the_reason(failures):
    refused = error(failures["insufficient_buy"], "Rejected", 1.0)
    assert refused["message"] == "Insufficient funds"


def test_a_buy_without_reply_times_out_and_says_the_order_may_exist(failures):
    late = error(failures["silent_buy"], "BrokerTimeout", 1.0)
    assert late["order_may_exist"] is True


def test_a_late_buy_that_executes_anyway_is_reported_and_settles(failures):
    late = error(failures["late_buy"], "BrokerTimeout", 1.0)
    assert late["order_may_exist"] is True
    (order,) = failures["late_orders"]
    assert order["pair"] == "EURUSD" and order["direction"] == "put" and order["amount"] == 7.0
    assert isinstance(order["order_id"], int)
    assert failures["late_result"]["ok"] is True


def test_an_order_that_never_closes_times_out(failures):
    timed_out = error(failures["never_close"], "BrokerTimeout", 1.0)
    assert timed_out["elapsed"] >= 1.0


def test_a_dropped_socket_fails_fast_and_reconnects(failures):
    assert failures["dropped_sockets"] >= 1
    assert failures["connected_after_drop"] is False
    error(failures["balance_after_drop"], "Unreachable", 0)
    error(failures["candles_after_drop"], "Unreachable", 0)  # the library's get_candles would hang here
    # Waiting on an order: the drop is told apart from other failures (issue 10).
    error(failures["result_after_drop"], "Disconnected", 0)
    assert failures["reconnect"]["ok"] is True and failures["connected_after_reconnect"] is True
    assert failures["balance_after_reconnect"]["ok"] is True


def test_unreachable_hosts_are_unreachable(fake):
    result = fake.run("unreachable")
    error(result["ws_down"], "Unreachable", 0)
    # The library raises AttributeError when the login host is down.
    down = error(result["login_down"], "Unreachable", 3.0)
    assert "AttributeError" in down["message"]
    assert result["then_connect"]["ok"] is True


def test_one_live_connection_per_process(fake):
    result = fake.run("one_connection")
    refused = error(result["second"], "ConnectionInUse", 0)
    assert "one" in refused["message"]
    assert result["first_connected"] is True
    assert result["first_balance"]["ok"] is True and result["first_buy"]["ok"] is True
    assert result["second_after_close"]["ok"] is True
    # The second account logged in afresh: its own, untouched balance (the first one's, with an order
    # open, is not; the balance read before that order is 10,000 again when the first order tied).
    assert result["first_balance_open"]["ok"] is True and result["first_balance_open"]["value"] != 10_000.0
    assert result["second_balance"]["value"] == 10_000.0


def test_waiting_for_an_order_uses_under_a_tenth_of_a_core(fake):
    result = fake.run("cpu")
    adapter, library = result["adapter"], result["library"]
    assert adapter["wall"] >= 3.5  # it really waited for the order
    assert adapter["cpu"] / adapter["wall"] < 0.10, adapter
    # The measurement can see a spin: the library's check_win_v3 burns a core.
    assert library["cpu"] / library["wall"] > 0.2, library


def test_a_lowercase_http_proxy_does_not_capture_loopback(fake):
    from tests.broker.iq_driver import free_port

    dead_proxy = f"http://127.0.0.1:{free_port()}"
    result = fake.run("proxy", env={"http_proxy": dead_proxy, "no_proxy": ""})
    assert result["proxy_before"] == "127.0.0.1"  # websocket-client would have used the dead proxy
    assert result["connect"]["ok"] is True and result["balance"]["ok"] is True
    assert "127.0.0.1" in result["no_proxy"].split(",") and result["proxy_after"] is None


def test_the_session_cookie_and_password_never_reach_the_logs(fake):
    result = fake.run("secrets")
    assert result["sessions"] == 1 and result["ssid_during"] is True
    assert result["debug_lines"] > 0  # the root logger did take DEBUG records
    assert result["ssid_logged"] is False and result["password_logged"] is False
    assert result["ssid_after_close"] is None  # close() forgets the session


def test_check_credentials_reads_both_balances(fake):
    result = fake.run("check")
    assert result["ok"] == {"account": result["email"], "treinamento": 10_000.0, "real": 0.0}
    assert result["wrong"] == "AuthError"
    assert result["factory"] == "IQOptionBroker"


@pytest.fixture(scope="module")
def faults(fake_server):
    from tests.fakes import iq_server

    iq_server.reset(fake_server.url)
    return fake_server.run("faults", timeout=150)


def _order(faults, order_id) -> dict:
    (order,) = [o for o in faults["fake_orders"] if o["id"] == order_id]
    return order


def test_a_socket_dropped_during_a_buy_is_disconnected_and_the_order_is_found_after_reconnect(faults):
    dropped = error(faults["drop_buy"], "Disconnected", 1.0)
    assert dropped["order_may_exist"] is True
    assert faults["drop_buy_connected"] is False
    assert faults["drop_buy_unknown_offline"]["state"] == "unknown"  # cannot ask while disconnected
    assert faults["drop_buy_reconnect"]["ok"] is True
    found = faults["drop_buy_found"]
    assert found["state"] == "open", found
    order = _order(faults, found["fill"]["order_id"])
    assert found["fill"]["open_quote"] == order["open_quote"] and found["fill"]["quote_source"] == "broker"
    settled = faults["drop_buy_settled"]
    assert settled["ok"] is True and settled["value"]["close_quote"] == order["close_quote"]
    assert faults["drop_buy_found_after"]["state"] == "settled"
    assert faults["drop_buy_found_after"]["settlement"]["profit"] == settled["value"]["profit"]


def test_a_late_buy_reply_is_unknown_then_found_and_never_bought_twice(faults):
    late = error(faults["late"], "BrokerTimeout", 1.0)
    assert late["order_may_exist"] is True
    assert faults["late_unknown"]["state"] == "unknown"
    retry = error(faults["late_retry"], "BrokerTimeout", 0)
    assert retry["order_may_exist"] is True and retry["elapsed"] < 0.5  # refused at once: no second buy
    found = faults["late_found"]
    assert found["state"] in ("open", "settled"), found
    _order(faults, found["fill"]["order_id"])
    late_orders = [o for o in faults["fake_orders"] if o["id"] == found["fill"]["order_id"]]
    assert len(late_orders) == 1


def test_a_buy_that_never_executed_is_unknown_until_it_can_no_longer_land(faults):
    silent = error(faults["silent"], "BrokerTimeout", 1.0)
    assert silent["order_may_exist"] is True
    assert faults["silent_unknown"]["state"] == "unknown"
    assert faults["silent_not_placed"] == {"state": "not_placed", "fill": None, "settlement": None}
    # The same wait is too short for a 5-minute option's buy: it could still land.
    assert error(faults["silent5"], "BrokerTimeout", 1.0)["order_may_exist"] is True
    assert faults["silent5_unknown"]["state"] == "unknown"
    # Reconciled by another process: the ledger's expiry keeps a 5-minute buy unknown as long.
    assert faults["foreign5_unknown"]["state"] == "unknown"
    assert faults["foreign1_not_placed"]["state"] == "not_placed"


def test_an_order_that_never_closes_times_out_and_stays_open(faults):
    timed_out = error(faults["never_settlement"], "BrokerTimeout", 1.0)
    assert timed_out["elapsed"] >= 1.0
    assert faults["never_found"]["state"] == "open"


def test_quotes_missing_from_the_brokers_messages_come_from_the_stream(faults):
    fill = faults["stream_fill"]
    assert fill["quote_source"] == "stream" and isinstance(fill["open_quote"], float)
    assert abs(fill["open_quote"] - faults["stream_last_close"]) < 0.01
    settled = faults["stream_settlement"]
    assert settled["quote_source"] in ("stream", "none")
    assert (settled["close_quote"] is None) == (settled["quote_source"] == "none")


def test_reconnect_after_an_idle_drop_logs_once_per_state_change(faults):
    assert faults["idle_dropped"] >= 1 and faults["idle_connected"] is False
    assert faults["idle_reconnect"]["ok"] is True and faults["idle_connected_after"] is True
    assert faults["idle_balance"]["ok"] is True
    lost, back = faults["idle_lines"]
    assert "connection lost" in lost and "reconnected after 1 attempt" in back


def test_reconnect_backs_off_within_its_budget_then_gives_up(faults):
    gave_up = error(faults["dead_reconnect"], "Unreachable", 2.0)
    assert gave_up["elapsed"] >= 2.0
    # Several attempts, but only two lines: lost, then giving up.
    lost, last = faults["dead_lines"]
    assert "connection lost" in lost and "giving up" in last
    attempts = int(last.split("after ")[1].split(" attempts")[0])
    assert 3 <= attempts <= 8  # 0.2 + 0.4 + 0.8 + 1.0 ... s within 2 s: back-off, not a busy loop
