"""`glimpse simulate`'s summary: assignment measured from each user's own Start, orders, drops."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

from glimpse.cli.simulate import DEFAULT_START, _cpu_use, _minutes, simulate
from operational_server.session import TimingLog


def test_a_short_simulation_reports_assignment_orders_and_drops():
    summary = simulate(
        users=4, minutes=3, speed=60.0, start=datetime.fromisoformat(DEFAULT_START).timestamp()
    )
    assert summary["users"] == 4 and summary["assigned_users"] == 4
    latency = summary["assignment_latency_ms"]
    assert latency["p50"] is not None and 0 <= latency["p50"] <= latency["max"]
    assert summary["trades_not_closed"] == 0 and summary["users_not_off_at_end"] == 0
    assert 0 <= summary["minutes_with_orders"] <= summary["minutes"] + 1
    assert summary["minutes_with_orders"] <= summary["trades"]
    # Every minute with an order had a match; those with a match and no order are counted apart.
    assert summary["minutes_with_orders"] <= summary["minutes_with_a_match"] <= summary["minutes"] + 1
    assert (
        summary["minutes_without_orders"] == summary["minutes_with_a_match"] - summary["minutes_with_orders"]
    )
    assert summary["order_timing_ms"]["samples"] <= summary["trades"]
    assert isinstance(summary["decisions_too_late"], int)
    assert len(summary["load_average"]["start"]) == 3 and len(summary["load_average"]["end"]) == 3
    cpu = summary["cpu"]
    assert cpu["process_per_wall_second"] > 0
    assert cpu["by_thread"]["server-glimpse"] > 0  # the sessions' servers, under one role
    # The live threads' CPU is part of the process's (both read at the same two moments).
    assert sum(cpu["by_thread"].values()) <= cpu["process_per_wall_second"] * 1.1 + 0.01


def test_cpu_use_is_per_wall_second_by_role_and_counts_a_thread_started_meanwhile_from_zero():
    start = (10.0, 5.0, {1: ("server-glimpse_01", 1.0), 2: ("service-Lister", 0.5), 4: ("argon-1", 0.2)})
    end = (
        12.0,
        8.0,
        {
            1: ("server-glimpse_01", 2.0),
            3: ("server-glimpse_02", 1.0),  # started after the first reading
            2: ("service-Lister", 0.5),  # idle: below a thousandth of a second per second, left out
            4: ("argon-2", 0.4),  # another thread under a reused id: counted from zero
        },
    )
    assert _cpu_use(start, end) == {
        "process_per_wall_second": 1.5,
        "by_thread": {"server-glimpse": 1.0, "argon": 0.2},
    }
    assert _cpu_use(end, end) == {"process_per_wall_second": None, "by_thread": {}}


def test_a_decision_dropped_as_too_late_counts_its_minute_as_one_with_a_match():
    timings = TimingLog()
    timings.add_expired(3 * 60 + 58.5)
    timings.add_expired(3 * 60 + 58.5)
    timings.add_expired(4 * 60 + 58.5)
    assert timings.expired == 3 and timings.expired_minutes == {3, 4}


def test_an_entry_decided_after_the_users_pressed_stop_is_no_match():
    def trade(decided: float, placed: bool) -> SimpleNamespace:
        return SimpleNamespace(decidedAt=decided, placedAt=decided + 0.01 if placed else None)

    stopped = 9 * 60 + 5.0
    traded, matched = _minutes(
        [
            trade(3 * 60 + 58.5, True),
            trade(5 * 60 + 58.5, False),  # written, not placed, before the Stop: a match without an order
            trade(9 * 60 + 58.5, False),  # armed after the Stop, closed as not sent: rightly not traded
        ],
        expired=[7],
        stopped_at=stopped,
    )
    assert traded == {3} and matched == {3, 5, 7}
