"""The heartbeat keeps only serving servers alive (issue 10: no zombie keeps a user).

A server thread that dies gets no more beats, so its lease runs out and the
assigner gives its user to another server; a server thread whose session
failed in a way it could not clean up says so on its server document, goes
silent past a lease (same outcome for the user) and then serves again.
"""

from __future__ import annotations

import threading

import pytest

from glimpse.store import db as names
from glimpse.store import lifecycle
from operational_server.session import UserSession
from tests.pipeline.bundle import FLAT_MONEY, make_bundle

LEASE = 2.0


@pytest.fixture
def bundle(config, db):
    b = make_bundle(config.with_(lease_seconds=LEASE), db)
    yield b
    b.stop()


def _user(bundle):
    return bundle.trader("beat@example.com", FLAT_MONEY)


def _first_session_fails(monkeypatch, failure: BaseException) -> list[str]:
    """The first session sets its user operating, then its thread fails with `failure` (no clean-up)."""
    original = UserSession.run
    failed: list[str] = []

    def run(self: UserSession) -> str:
        if not failed:
            failed.append(self.server.name)
            assert lifecycle.start_operating(
                self.db, self.user_id, self.server.name, assignment=self.assignment
            )
            raise failure
        return original(self)

    monkeypatch.setattr(UserSession, "run", run)
    return failed


def _reassigned(bundle, uid, failed):
    account = bundle.account(uid)
    return account["glimpseStatus"] == "operating" and account["server"] not in ("", failed[0])


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the death is the test
def test_a_dead_server_thread_loses_its_lease_and_its_user_is_reassigned(bundle, monkeypatch):
    failed = _first_session_fails(monkeypatch, SystemExit())  # ends the thread quietly
    uid = _user(bundle)
    bundle.start(servers=2)
    bundle.press_start(uid)
    bundle.wait_for(lambda: failed, 15, "the first session")
    dead = next(s for s in bundle.pool.servers if s.identity.name == failed[0])
    bundle.wait_for(lambda: not dead.is_alive(), 5, "the server thread to die")
    # Within the lease + 10 s the user trades on the other server.
    bundle.wait_for(lambda: _reassigned(bundle, uid, failed), LEASE + 10, "the user on the other server")
    doc = bundle.db[names.SERVERS].find_one({"name": failed[0]})
    assert doc["status"] == "waiting" and doc["target"] == ""
    assert doc["uptime"] < bundle.ctx.clock.now() - LEASE * bundle.ctx.clock.speed  # no beat since it died
    bundle.wait_for(
        lambda: bundle.db[names.TRADES].find_one({"user": uid, "server": {"$ne": failed[0]}}),
        90,
        "an order from the other server",
    )


def test_a_server_that_cannot_serve_says_so_goes_silent_and_comes_back(bundle, monkeypatch):
    failed = _first_session_fails(monkeypatch, RuntimeError("the database refused the clean-up"))
    uid = _user(bundle)
    bundle.start(servers=2)
    bundle.press_start(uid)
    bundle.wait_for(lambda: failed, 15, "the first session")
    problem = bundle.wait_for(
        lambda: bundle.db[names.SERVERS].find_one({"name": failed[0], "problem": {"$exists": True}}),
        5,
        "the server to say it cannot serve",
    )
    assert "cannot serve" in problem["problem"] and "refused the clean-up" in problem["problem"]
    bundle.wait_for(lambda: _reassigned(bundle, uid, failed), LEASE + 10, "the user on the other server")
    # After its silence it registers again: waiting, beating, no problem.
    bundle.wait_for(
        lambda: (
            (d := bundle.db[names.SERVERS].find_one({"name": failed[0]}))
            and "problem" not in d
            and d["status"] == "waiting"
            and d["uptime"] >= bundle.ctx.clock.now() - LEASE * bundle.ctx.clock.speed
        ),
        LEASE + 10,
        "the server to serve again",
    )
    server = next(s for s in bundle.pool.servers if s.identity.name == failed[0])
    assert server.is_alive() and server.failures == 1


@pytest.mark.parametrize("lease, every", [(4.0, 1.0), (2.0, 0.5), (1.0, 0.25), (600.0, 1.0)])
def test_a_lease_sees_at_least_four_beats_and_a_beat_comes_every_second_at_least(lease, every):
    from operational_server.watch import beat_every

    assert beat_every(lease) == every
    assert beat_every(lease) * 4 <= max(lease, 1.0)


def test_the_watch_reads_states_every_round_but_beats_only_when_one_is_due(config, db, monkeypatch):
    from glimpse.runtime.clock import ManualClock
    from glimpse.runtime.services import ServiceContext
    from operational_server import watch as watch_module

    clock = ManualClock(1_000.0)
    ctx = ServiceContext(config=config.with_(lease_seconds=4.0), db=db, clock=clock)
    for name in ("w1", "w2"):
        lifecycle.register_server(db, name, "inc", clock.now())
    wall = [0.0]
    monkeypatch.setattr(watch_module.time, "monotonic", lambda: wall[0])
    pool_watch = watch_module.PoolWatch(ctx, ["w1", "w2"], "inc", threading.Event())

    def uptime() -> float:
        return float(db[names.SERVERS].find_one({"name": "w1"})["uptime"])

    clock.advance(1)
    pool_watch.refresh()
    assert uptime() == 1_001.0 and not pool_watch.assigned("w1")
    # Half a wall second later: no beat is due, but an assignment made meanwhile is seen.
    wall[0] = 0.5
    clock.advance(1)
    db[names.SERVERS].update_one({"name": "w1"}, {"$set": {"status": "assigned", "target": "u"}})
    pool_watch.refresh()
    assert uptime() == 1_001.0 and pool_watch.assigned("w1")
    # A second after the last beat, the next one.
    wall[0] = 1.0
    clock.advance(1)
    pool_watch.refresh()
    assert uptime() == 1_003.0
    # Only the servers able to serve beat.
    pool_watch.serving = lambda: ["w2"]
    wall[0] = 2.0
    clock.advance(1)
    pool_watch.refresh()
    assert uptime() == 1_003.0
    assert db[names.SERVERS].find_one({"name": "w2"})["uptime"] == 1_004.0


class _StillClock:
    """A clock without `advance` (so the watch treats it as a running one), moved by hand."""

    speed = 1.0

    def __init__(self, t: float):
        self.t = t

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        raise AssertionError("the watch sleeps on its stop event, not on the clock")


def _quiet_watch(config, db, monkeypatch, lease: float):
    from glimpse.runtime.services import ServiceContext
    from operational_server import watch as watch_module

    clock = _StillClock(1_717_419_600.0 + 50)  # second 50 of a minute; decisions at 58.5
    ctx = ServiceContext(config=config.with_(lease_seconds=lease, decision_second=58.5), db=db, clock=clock)
    lifecycle.register_server(db, "q1", "inc", clock.now())
    wall = [0.0]
    monkeypatch.setattr(watch_module.time, "monotonic", lambda: wall[0])
    return watch_module.PoolWatch(ctx, ["q1"], "inc", threading.Event()), clock, wall


def _uptime(db) -> float:
    return float(db[names.SERVERS].find_one({"name": "q1"})["uptime"])


def test_the_watch_keeps_quiet_around_the_decision_instant_when_the_lease_allows(config, db, monkeypatch):
    pool_watch, clock, wall = _quiet_watch(config, db, monkeypatch, lease=4.0)
    pool_watch.refresh()
    beaten = _uptime(db)
    # The round just before the quiet time beats, though a beat is not due yet.
    clock.t, wall[0] = clock.t + 8.1, 0.5  # second 58.1; quiet from 58.2
    pool_watch.refresh()
    assert _uptime(db) == clock.t > beaten
    db[names.SERVERS].update_one({"name": "q1"}, {"$set": {"status": "assigned", "target": "u"}})
    # Inside the quiet time: a beat is due, but the lease can wait; nothing is read either.
    clock.t, wall[0] = clock.t + 0.6, 1.1  # second 58.7
    pool_watch.refresh()
    assert _uptime(db) == clock.t - 0.6 and not pool_watch.assigned("q1")
    # Once the instant's orders are out (the services' quiet window ends), it beats and reads again.
    clock.t, wall[0] = clock.t + 0.3, 1.6  # second 59.0, a beat due
    pool_watch.refresh()
    assert _uptime(db) == clock.t and pool_watch.assigned("q1")


def test_the_watch_beats_in_the_quiet_time_when_the_lease_could_not_wait(config, db, monkeypatch):
    pool_watch, clock, wall = _quiet_watch(config, db, monkeypatch, lease=2.0)  # a beat every 0.5 s
    pool_watch.refresh()
    clock.t, wall[0] = clock.t + 8.1, 0.5
    pool_watch.refresh()
    clock.t, wall[0] = clock.t + 0.6, 1.1  # second 58.7: 0.6 s since the beat + 0.2 s of quiet + a read
    pool_watch.refresh()  # 1.05 s is within 2 - 0.5: the lease can wait
    assert _uptime(db) == clock.t - 0.6
    clock.t, wall[0] = clock.t + 0.1, 1.8  # second 58.8: 1.3 s since the beat + 0.1 s + 0.25 s > 1.5
    pool_watch.refresh()
    assert _uptime(db) == clock.t


class _Moving(threading.Event):
    """A stop event never set, whose waits move the still clock on by their timeout."""

    def __init__(self, clock: _StillClock) -> None:
        super().__init__()
        self.clock = clock
        self.waits: list[float | None] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout)
        self.clock.t += timeout or 0.0
        return False


def test_a_startup_step_begun_in_the_quiet_time_waits_until_it_is_over(config, db, monkeypatch):
    pool_watch, clock, _ = _quiet_watch(config, db, monkeypatch, lease=4.0)
    pool_watch.refreshed.set()
    clock.t += 8.3  # second 58.3: the quiet time is [58.2, 58.9)
    stop = _Moving(clock)
    ran_at = []
    with pool_watch.start_step(stop):
        ran_at.append(clock.t % 60)
    assert stop.waits == [pytest.approx(0.6)] and ran_at == [pytest.approx(58.9)]


def test_a_startup_step_outside_the_quiet_time_runs_at_once(config, db, monkeypatch):
    pool_watch, clock, _ = _quiet_watch(config, db, monkeypatch, lease=4.0)
    pool_watch.refreshed.set()
    stop = _Moving(clock)
    with pool_watch.start_step(stop):
        pass
    assert stop.waits == []


def test_only_a_few_sessions_of_a_process_take_a_startup_step_at_once(config, db, monkeypatch):
    from operational_server.watch import STARTING_AT_ONCE

    pool_watch, _, _ = _quiet_watch(config, db, monkeypatch, lease=4.0)
    pool_watch.refreshed.set()
    changed, release = threading.Condition(), threading.Event()
    state = {"inside": 0, "most": 0, "done": 0}

    def step() -> None:
        with pool_watch.start_step(threading.Event()):
            with changed:
                state["inside"] += 1
                state["most"] = max(state["most"], state["inside"])
                changed.notify_all()
            release.wait(10)
            with changed:
                state["inside"] -= 1
                state["done"] += 1

    threads = [threading.Thread(target=step) for _ in range(STARTING_AT_ONCE + 3)]
    for thread in threads:
        thread.start()
    with changed:
        assert changed.wait_for(lambda: state["inside"] == STARTING_AT_ONCE, timeout=10)
        changed.wait(0.2)  # time for any other to get in, which it must not
        assert state["inside"] == STARTING_AT_ONCE
    release.set()
    for thread in threads:
        thread.join(10)
    assert state["done"] == len(threads) and state["most"] == STARTING_AT_ONCE
