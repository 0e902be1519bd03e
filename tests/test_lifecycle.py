"""Assignment incarnations: a server that lost its user cannot touch the user's next assignment.

The scenario of the fault campaign (issue 10, F3 "stranded" and "false
stop"): a server pauses past its lease, the assigner releases its user and
gives them a server again (here the same one, which is the hard case: same
server name, same process), and then the paused session wakes up and ends
its session as it would have.
"""

from __future__ import annotations

from auxiliar.server_assigner import Assigner
from glimpse.runtime.heartbeat import HeartbeatThread
from glimpse.runtime.heartbeat import statuses as heartbeat_statuses
from glimpse.runtime.services import ServiceContext
from glimpse.store import accounts, alerts, lifecycle
from glimpse.store import db as names
from glimpse.store.accounts import new_account

SERVER, PROCESS = "glimpse_t_01", "process-1"


def _waiting_user(db, now: float) -> str:
    doc = new_account("Ana Lima", "ana@example.com", "x", now, premium_days=30)
    doc.update(glimpseStatus="waiting", server="", waitingSince=now)
    return str(db[names.ACCOUNTS].insert_one(doc).inserted_id)


def _account(db, user: str) -> dict:
    return db[names.ACCOUNTS].find_one({"_id": lifecycle.oid(user)})


def _server(db) -> dict:
    return db[names.SERVERS].find_one({"name": SERVER})


def test_the_assigner_names_one_assignment_on_both_documents_and_a_new_one_each_time(config, db, clock):
    assigner = Assigner(ServiceContext(config, db, clock))
    user = _waiting_user(db, clock.now())
    lifecycle.register_server(db, SERVER, PROCESS, clock.now())
    assigner.tick(clock.now())
    first = _server(db)["assignment"]
    assert first and _account(db, user)["assignment"] == first
    assert _account(db, user)["glimpseStatus"] == "assigning" and _server(db)["target"] == user

    taken = lifecycle.take(db, SERVER, PROCESS, clock.now())
    assert taken == lifecycle.Assignment(user, first)
    assert lifecycle.start_operating(db, user, SERVER, assignment=first)

    # The server pauses past its lease: released, and (once it beats again) assigned anew.
    clock.advance(config.lease_seconds + 1)
    assigner.tick(clock.now())
    assert _account(db, user)["glimpseStatus"] == "waiting" and _server(db)["status"] == "waiting"
    lifecycle.beat(db, PROCESS, clock.now())
    assigner.tick(clock.now())
    second = _server(db)["assignment"]
    assert second not in ("", first) and _account(db, user)["assignment"] == second
    assert _server(db)["target"] == user and _account(db, user)["server"] == SERVER


def _stale_and_fresh(config, db, clock) -> tuple[str, str, str]:
    """A user whose first assignment on SERVER went stale and who was assigned SERVER again."""
    assigner = Assigner(ServiceContext(config, db, clock))
    user = _waiting_user(db, clock.now())
    lifecycle.register_server(db, SERVER, PROCESS, clock.now())
    assigner.tick(clock.now())
    stale = lifecycle.take(db, SERVER, PROCESS, clock.now())
    assert stale is not None and stale.id is not None
    assert lifecycle.start_operating(db, user, SERVER, assignment=stale.id)
    clock.advance(config.lease_seconds + 1)
    assigner.tick(clock.now())
    lifecycle.beat(db, PROCESS, clock.now())
    assigner.tick(clock.now())
    fresh = _server(db)["assignment"]
    return user, stale.id, fresh


def test_a_stale_free_finish_or_start_changes_nothing(config, db, clock):
    user, stale, fresh = _stale_and_fresh(config, db, clock)
    account_before, server_before = _account(db, user), _server(db)
    stopped = alerts.notice("Glimpse parou.", "Você parou o Glimpse.", clock.now())

    assert lifecycle.free_server(db, SERVER, PROCESS, user, assignment=stale) is False
    assert lifecycle.finish(db, user, SERVER, stopped, assignment=stale) is False
    assert lifecycle.start_operating(db, user, SERVER, assignment=stale) is False
    assert lifecycle.holds(db, SERVER, PROCESS, user, assignment=stale) is False
    assert accounts.update_operating(db, user, SERVER, {"active": "EURUSD"}, assignment=stale) is False
    lifecycle.release_user(db, user, SERVER, clock.now(), assignment=stale)
    lifecycle.unclaim_server(db, SERVER, user, assignment=stale)

    assert _account(db, user) == account_before and _server(db) == server_before
    assert _account(db, user)["glimpseStatus"] == "assigning" and _server(db)["status"] == "assigned"

    # The fresh assignment goes on normally, and its own session ends it.
    assert lifecycle.take(db, SERVER, PROCESS, clock.now()) == lifecycle.Assignment(user, fresh)
    assert lifecycle.start_operating(db, user, SERVER, assignment=fresh)
    assert lifecycle.holds(db, SERVER, PROCESS, user, assignment=fresh)
    assert lifecycle.operating_on(db, user, SERVER, assignment=fresh)
    assert not lifecycle.operating_on(db, user, SERVER, assignment=stale)
    assert accounts.update_operating(db, user, SERVER, {"active": "EURUSD"}, assignment=fresh)
    assert _account(db, user)["operating"]["active"] == "EURUSD"
    assert lifecycle.finish(db, user, SERVER, None, assignment=fresh)
    assert lifecycle.free_server(db, SERVER, PROCESS, user, assignment=fresh)
    assert _account(db, user)["glimpseStatus"] == "off" and _server(db)["status"] == "waiting"
    assert not any(a["description"] == "Você parou o Glimpse." for a in _account(db, user)["alerts"])


def test_without_the_assignment_id_the_stale_finish_would_hit_the_fresh_assignment(config, db, clock):
    # Why the id is needed: server name and user alone match the newer assignment.
    user, _, _ = _stale_and_fresh(config, db, clock)
    assert lifecycle.finish(db, user, SERVER, None) is True
    assert _account(db, user)["glimpseStatus"] == "off"


def test_a_manager_release_frees_the_server_and_only_its_assignment_of_the_user(config, db, clock):
    user, stale, fresh = _stale_and_fresh(config, db, clock)
    was = lifecycle.release_server(db, SERVER, clock.now())
    assert was is not None and was.target == user and was.assignment == fresh
    assert _server(db)["status"] == "waiting" and _server(db)["target"] == ""
    assert _account(db, user)["glimpseStatus"] == "waiting" and _account(db, user)["server"] == ""
    assert lifecycle.release_server(db, SERVER, clock.now()) is None  # nothing held any more


def test_a_process_beats_only_for_the_servers_it_names(db):
    lifecycle.register_server(db, "s1", PROCESS, 100.0)
    lifecycle.register_server(db, "s2", PROCESS, 100.0)
    assert lifecycle.beat(db, PROCESS, 105.0, servers=["s1"]) == 1
    uptimes = {d["name"]: d["uptime"] for d in db[names.SERVERS].find()}
    assert uptimes == {"s1": 105.0, "s2": 100.0}
    assert lifecycle.beat(db, PROCESS, 106.0) == 2


def test_a_stale_server_restart_does_not_release_the_users_next_assignment(config, db, clock):
    user, stale, fresh = _stale_and_fresh(config, db, clock)
    # Another server now holds the user in a third assignment; the old server document still says
    # it held them in the stale one (as after a crash between the two writes of a release).
    db[names.SERVERS].update_one(
        {"name": SERVER}, {"$set": {"status": "operating", "target": user, "assignment": stale}}
    )
    db[names.ACCOUNTS].update_one(
        {"_id": lifecycle.oid(user)}, {"$set": {"server": SERVER, "assignment": "third"}}
    )
    assert lifecycle.register_server(db, SERVER, "process-2", clock.now()) == user
    assert _account(db, user)["glimpseStatus"] == "assigning" and _account(db, user)["server"] == SERVER


def test_a_service_heartbeat_ages_while_its_service_is_not_healthy(db, clock):
    answers = iter([True, False, False])

    def healthy() -> bool:
        answer = next(answers, None)
        if answer is None:
            thread.stop()
            return False
        return answer

    thread = HeartbeatThread(db, "Lister", clock, interval=1.0, healthy=healthy)
    start = clock.now()
    thread.run()  # in this thread: the manual clock moves one interval per beat
    (status,) = heartbeat_statuses(db, clock.now(), lease=1.5)
    assert status["uptime"] == start and status["alive"] is False


def test_a_drained_server_takes_no_new_user(config, db, clock):
    assigner = Assigner(ServiceContext(config, db, clock))
    user = _waiting_user(db, clock.now())
    lifecycle.register_server(db, SERVER, PROCESS, clock.now())
    db[names.SERVERS].update_one({"name": SERVER}, {"$set": {"drain": True}})
    assigner.tick(clock.now())
    assert _server(db)["status"] == "waiting" and _account(db, user)["glimpseStatus"] == "waiting"
    db[names.SERVERS].update_one({"name": SERVER}, {"$set": {"drain": False}})
    assigner.tick(clock.now())
    assert _server(db)["target"] == user and _account(db, user)["glimpseStatus"] == "assigning"


def test_a_user_blocked_after_pressing_start_gets_no_server(config, db, clock):
    user = _waiting_user(db, clock.now())
    db[names.ACCOUNTS].update_one({"_id": lifecycle.oid(user)}, {"$set": {"blocked": True}})
    assert not lifecycle.claim_user(db, lifecycle.oid(user), "waiting", SERVER, clock.now())
    db[names.ACCOUNTS].update_one({"_id": lifecycle.oid(user)}, {"$set": {"blocked": False}})
    assert lifecycle.claim_user(db, lifecycle.oid(user), "waiting", SERVER, clock.now())


def test_a_blocked_user_cannot_press_start(db, clock):
    user = lifecycle.oid(_waiting_user(db, clock.now()))
    db[names.ACCOUNTS].update_one({"_id": user}, {"$set": {"glimpseStatus": "off", "blocked": True}})
    assert not accounts.press_start(db, user, ("off",), clock.now(), {})
    db[names.ACCOUNTS].update_one({"_id": user}, {"$set": {"blocked": False}})
    assert accounts.press_start(db, user, ("off",), clock.now(), {})


def test_every_way_to_off_closes_the_glimpse_session(db, clock):
    user = _waiting_user(db, clock.now())
    oid = lifecycle.oid(user)
    db[names.ACCOUNTS].update_one({"_id": oid}, {"$set": {"glimpseSession": "g1", "server": SERVER}})
    db[names.ACCOUNTS].update_one({"_id": oid}, {"$set": {"glimpseStatus": "operating"}})
    assert lifecycle.finish(db, user, SERVER)
    assert "glimpseSession" not in _account(db, user)

    db[names.ACCOUNTS].update_one(
        {"_id": oid}, {"$set": {"glimpseSession": "g2", "glimpseStatus": "waiting"}}
    )
    assert lifecycle.deny(db, oid, "waiting", alerts.notice("x", "y", clock.now()))
    assert "glimpseSession" not in _account(db, user)

    db[names.ACCOUNTS].update_one(
        {"_id": oid}, {"$set": {"glimpseSession": "g3", "glimpseStatus": "stopping", "server": ""}}
    )
    account = accounts.find_by_id(db, oid)
    assert account is not None and accounts.end_orphan_stop(db, account, None)
    assert "glimpseSession" not in _account(db, user)


def test_the_daily_count_down_spares_subscriptions_that_never_end(db, clock):
    ids = {}
    for days in (0, 3, accounts.PREMIUM_FOREVER):
        doc = new_account(f"U {days}", f"u{days}@example.com", "x", clock.now(), premium_days=days)
        ids[days] = db[names.ACCOUNTS].insert_one(doc).inserted_id
    assert accounts.count_down_premium_days(db) == 1
    left = {days: db[names.ACCOUNTS].find_one({"_id": i})["premiumDays"] for days, i in ids.items()}
    assert left == {0: 0, 3: 2, accounts.PREMIUM_FOREVER: accounts.PREMIUM_FOREVER}
