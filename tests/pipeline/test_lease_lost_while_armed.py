"""A lease lost between arming and the instant is not a Stop the user pressed.

The order desk's check before the buy sees only that a user is not operating on
this server any more. The user who pressed Stop is told so; a user whom another
server holds now did nothing, so their session ends as lost, without an alert.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from bson import ObjectId

from glimpse.runtime.clock import ManualClock
from glimpse.store import db as names
from operational_server import cycle
from operational_server.desk import Armed, Ticket
from operational_server.session import UserSession
from tests.pipeline.test_cycle_rules import ScriptedBroker
from tests.pipeline.test_desk import _sessions
from tests.pipeline.test_desk_arming import INSTANT, _Mode, _step_all


def _lose_the_lease(session: UserSession) -> None:
    """Another server took the user over: this server's lease is gone, the user still operates."""
    db = session.db
    db[names.SERVERS].update_one(
        {"name": session.server.name}, {"$set": {"status": "waiting", "target": None}}
    )
    db[names.ACCOUNTS].update_one({"_id": ObjectId(session.user_id)}, {"$set": {"server": "s9"}})


def _press_stop(session: UserSession) -> None:
    session.db[names.ACCOUNTS].update_one(
        {"_id": ObjectId(session.user_id)}, {"$set": {"glimpseStatus": "stopping"}}
    )


@pytest.mark.parametrize(
    ("happens", "ends"),
    [(_lose_the_lease, (cycle.LOST, None)), (_press_stop, (cycle.STOP_USER, "Você parou o Glimpse."))],
)
def test_after_arming_a_lost_lease_ends_the_session_as_lost_and_a_stop_as_stopped(monkeypatch, happens, ends):
    (session,), desk = _sessions(1, [+1])
    clock = session.clock
    assert isinstance(clock, ManualClock)
    clock.set(INSTANT - 30)
    real_arm = desk.arm

    def arm(instant: float, prepare: Callable[[], Ticket | None], clk: Any, **kw: Any) -> Armed:
        happens(session)  # after the session's own checks, before the desk's at the instant
        return real_arm(instant, prepare, clk, **kw)

    monkeypatch.setattr(desk, "arm", arm)
    mode = _Mode()
    ((kind, ended),) = _step_all([session], [mode])

    assert kind == "ended" and ended is not None
    reason, alert = ended
    assert (reason, alert and alert["description"]) == ends  # no "Você parou o Glimpse" for a lost lease
    # Both were seen by the desk's check before the buy (not by the session's wait), and nothing was sent.
    assert [outcome.stop for outcome in mode.recorded] == [cycle.STOP_USER]
    assert isinstance(session.broker, ScriptedBroker) and session.broker.attempts == 0
    assert session.db[names.TRADES].count_documents({"user": session.user_id}) == 0
