"""What a session tells the notifier: it queues its start, every cycle's result, the stop win and its stop."""

from __future__ import annotations

from glimpse.store import db as names
from glimpse.store import notifications

# Gale (sobra) and a stop win of R$ 3: a run that ends by itself.
MONEY = {"money": 2, "gale": True, "galeCount": 2, "galeType": "sobra", "sobra": 1,
         "stopLoss": False, "stopLossValue": 0, "stopWin": True, "stopWinValue": 3}  # fmt: skip


def test_a_run_queues_start_cycle_results_stop_win_and_stop(bundle):
    uid = bundle.trader("events@example.com", MONEY)
    bundle.start(servers=1)
    bundle.press_start(uid)
    bundle.wait_for(lambda: bundle.account(uid)["glimpseStatus"] == "off", 150, "stop win")
    queued = notifications.claim_events(bundle.db, bundle.ctx.clock.now(), 60.0, 1000)
    assert queued and all(e["user"] == uid for e in queued)
    events = [e["event"] for e in queued]
    assert events[0] == notifications.SESSION_STARTED and events[-1] == notifications.SESSION_STOPPED
    assert events.count(notifications.SESSION_STARTED) == 1 and events.count(notifications.STOP_WIN) == 1
    assert notifications.STOP_LOSS not in events
    trades = list(bundle.db[names.TRADES].find({"user": uid}))
    ledger_net = sum(t["profit"] for t in trades)
    cycles = [e["data"] for e in queued if e["event"] == notifications.CYCLE_RESULT]
    # One result per cycle of the ledger, each with its pair, direction, entries and last level.
    assert len(cycles) == len({t["cycle"] for t in trades})
    for data in cycles:
        mine = sorted((t for t in trades if t["ativo"] == data["ativo"] and t["galeLevel"] <= data["galeLevel"]),
                      key=lambda t: t["galeLevel"])  # fmt: skip
        assert data["result"] in ("win", "loss", "doji") and data["operacao"] in ("call", "put") and mine
        assert data["levels"] >= data["galeLevel"] + 1 and type(data["net"]) is int
    assert sum(d["net"] for d in cycles) == ledger_net
    assert cycles[-1]["sessionNet"] == ledger_net
    (stop_win,) = [e["data"] for e in queued if e["event"] == notifications.STOP_WIN]
    assert stop_win["net"] == ledger_net >= 300
    stopped = queued[-1]["data"]
    assert stopped == {"reason": "stop_win", "net": ledger_net}
