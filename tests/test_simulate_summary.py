"""`glimpse simulate`'s summary: assignment measured from each user's own Start, orders, drops."""

from __future__ import annotations

from datetime import datetime

from glimpse.cli.simulate import DEFAULT_START, simulate


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
    assert summary["order_timing_ms"]["samples"] <= summary["trades"]
    assert isinstance(summary["decisions_too_late"], int)
    assert len(summary["load_average"]["start"]) == 3 and len(summary["load_average"]["end"]) == 3
