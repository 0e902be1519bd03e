"""One assigner round: many waiting users at once, oldest first, one server each, atomic claims."""

from __future__ import annotations

from auxiliar import server_assigner
from auxiliar.server_assigner import Assigner
from glimpse.runtime.services import ServiceContext
from glimpse.store import db as names
from glimpse.store import lifecycle
from glimpse.store.accounts import new_account

PROCESS = "process-1"


def _waiting(db, count: int, now: float) -> list[str]:
    users = []
    for i in range(count):
        doc = new_account(f"User {i}", f"u{i}@example.com", "x", now, premium_days=30)
        # Pressed Start in reverse order of creation: the last created waits longest.
        doc.update(glimpseStatus="waiting", server="", waitingSince=now - i)
        users.append(str(db[names.ACCOUNTS].insert_one(doc).inserted_id))
    return users


def test_one_round_gives_the_oldest_waiting_users_one_distinct_server_each(config, db, clock):
    now = clock.now()
    users = _waiting(db, 60, now)
    servers = [f"glimpse_t_{i:02d}" for i in range(40)]
    for name in servers:
        lifecycle.register_server(db, name, PROCESS, now)
    assert Assigner(ServiceContext(config, db, clock)).assign_waiting(now) == 40
    accounts = {
        str(d["_id"]): d for d in db[names.ACCOUNTS].find({"_id": {"$in": [lifecycle.oid(u) for u in users]}})
    }
    oldest = users[20:]  # waitingSince now - 20 .. now - 59
    assert all(accounts[u]["glimpseStatus"] == "assigning" for u in oldest)
    assert all(accounts[u]["glimpseStatus"] == "waiting" and not accounts[u]["server"] for u in users[:20])
    held = {d["name"]: d for d in db[names.SERVERS].find({})}
    assert sorted(accounts[u]["server"] for u in oldest) == sorted(servers)  # one server each
    for u in oldest:
        server = held[accounts[u]["server"]]
        assert server["status"] == "assigned" and server["target"] == u
        assert server["assignment"] == accounts[u]["assignment"] != ""


def test_a_server_taken_by_another_assigner_is_skipped_and_nobody_gets_two(config, db, clock):
    now = clock.now()
    users = _waiting(db, 3, now)
    for name in ("glimpse_t_01", "glimpse_t_02", "glimpse_t_03"):
        lifecycle.register_server(db, name, PROCESS, now)
    claims = lifecycle.ServerClaims(db, now, config.lease_seconds)
    db[names.SERVERS].update_one(
        {"name": "glimpse_t_01"}, {"$set": {"status": "assigned", "target": "other"}}
    )
    assert claims.claim(users[0], "a1") == "glimpse_t_02"
    assert claims.claim(users[1], "a2") == "glimpse_t_03"
    assert claims.claim(users[2], "a3") is None
    assert db[names.SERVERS].count_documents({"status": "assigned", "target": {"$in": users}}) == 2


def test_waiting_users_are_assigned_every_tick_and_the_rest_of_the_round_once_a_second(
    config, db, clock, monkeypatch
):
    assigner = Assigner(ServiceContext(config, db, clock))
    rounds: list[float] = []

    def reconcile_off_users(now: float) -> int:
        rounds.append(now)
        return 0

    monkeypatch.setattr(assigner, "reconcile_off_users", reconcile_off_users)
    lifecycle.register_server(db, "glimpse_t_01", PROCESS, clock.now())
    assigner.tick(clock.now())
    (user,) = _waiting(db, 1, clock.now())
    clock.advance(server_assigner.ASSIGN_INTERVAL_SECONDS)
    assigner.tick(clock.now())
    assert db[names.ACCOUNTS].find_one({"_id": lifecycle.oid(user)})["glimpseStatus"] == "assigning"
    assert len(rounds) == 1
    clock.advance(server_assigner.HOUSEKEEPING_SECONDS)
    assigner.tick(clock.now())
    assert len(rounds) == 2
