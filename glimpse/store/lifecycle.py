"""The life cycles of users and operational servers, as atomic conditional updates.

User `glimpseStatus`: off → waiting (app Start) → assigning (assigner) →
operating (server) → stopping (app Stop) → off (server, once the order in
flight has settled). Server `status`: waiting → assigned → operating →
waiting. Every transition names the state it comes from, so a stale writer
can never move a state backwards; the assigner and the servers share these
functions so that both sides speak the same protocol.
"""

from __future__ import annotations

from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument

from glimpse.store import db as names
from glimpse.store.accounts import IDLE_OPERATING

# Servers that may hold a user.
HOLDING = ("assigned", "operating")


def oid(user_id: str | ObjectId) -> ObjectId:
    return user_id if isinstance(user_id, ObjectId) else ObjectId(user_id)


# --- servers -----------------------------------------------------------------------------------


def register_server(db: Any, name: str, incarnation: str, now: float) -> str | None:
    """Record a starting server as waiting. Returns the user it held before a restart, if any.

    A restarted server does not pick up where its previous process stopped:
    it hands that user back to the assigner, and whoever serves them next
    reconciles their open orders.
    """
    before = db[names.SERVERS].find_one_and_update(
        {"name": name},
        {
            "$set": {"status": "waiting", "target": "", "uptime": now, "incarnation": incarnation},
            "$setOnInsert": {"preferential": False},
        },
        upsert=True,
    )
    previous = (before or {}).get("target") if (before or {}).get("status") in HOLDING else None
    if previous:
        release_user(db, previous, name, now)
    return previous or None


def beat(db: Any, incarnation: str, now: float) -> int:
    """Refresh the heartbeat of every server of a process (they share its incarnation); how many it still owns."""
    return (
        db[names.SERVERS].update_many({"incarnation": incarnation}, {"$set": {"uptime": now}}).matched_count
    )


def server_states(db: Any, incarnation: str) -> dict[str, tuple[str, str]]:
    """{server name: (status, target user id)} for the servers this process owns."""
    cursor = db[names.SERVERS].find({"incarnation": incarnation}, {"name": 1, "status": 1, "target": 1})
    return {doc["name"]: (doc.get("status", ""), doc.get("target", "")) for doc in cursor}


def user_states(db: Any, user_ids: list[str]) -> dict[str, tuple[str, str]]:
    """{user id: (glimpseStatus, server)} for these users."""
    cursor = db[names.ACCOUNTS].find(
        {"_id": {"$in": [oid(u) for u in user_ids]}}, {"glimpseStatus": 1, "server": 1}
    )
    return {str(doc["_id"]): (doc.get("glimpseStatus", ""), doc.get("server", "")) for doc in cursor}


def holds(db: Any, name: str, incarnation: str, user_id: str) -> bool:
    """Whether this server process still holds `user_id` (the assigner may have released it)."""
    return (
        db[names.SERVERS].count_documents(
            {"name": name, "incarnation": incarnation, "status": "operating", "target": user_id}, limit=1
        )
        == 1
    )


def take_assignment(db: Any, name: str, incarnation: str, now: float) -> str | None:
    """assigned → operating for this server; the user it was given, or None."""
    doc = db[names.SERVERS].find_one_and_update(
        {"name": name, "incarnation": incarnation, "status": "assigned"},
        {"$set": {"status": "operating", "operatingSince": now}},
        return_document=ReturnDocument.AFTER,
    )
    return doc["target"] if doc else None


def free_server(db: Any, name: str, incarnation: str, user_id: str) -> None:
    db[names.SERVERS].update_one(
        {"name": name, "incarnation": incarnation, "target": user_id},
        {"$set": {"status": "waiting", "target": ""}},
    )


class ServerClaims:
    """Claims live waiting servers for users, one conditional update each.

    The candidates are read once per round (preferential first, then by
    name); a claim still checks that the server is waiting and live, so a
    server another assigner took meanwhile is simply skipped.
    """

    def __init__(self, db: Any, now: float, lease: float):
        self.db, self.now, self.lease = db, now, lease
        self._candidates: list | None = None

    def claim(self, user_id: str) -> str | None:
        # Two reads at most: a server another assigner held for a moment (and gave back
        # when it lost the user) is waiting again, and the second read finds it.
        for _ in range(2):
            if self._candidates is None:
                cursor = self.db[names.SERVERS].find(
                    {"status": "waiting", "uptime": {"$gte": self.now - self.lease}}, {"_id": 1, "name": 1}
                )
                self._candidates = list(cursor.sort([("preferential", -1), ("name", 1)]))
            while self._candidates:
                candidate = self._candidates.pop(0)
                doc = self.db[names.SERVERS].find_one_and_update(
                    {"_id": candidate["_id"], "status": "waiting", "uptime": {"$gte": self.now - self.lease}},
                    {"$set": {"status": "assigned", "target": user_id, "assignedAt": self.now}},
                )
                if doc is not None:
                    return doc["name"]
            self._candidates = None
        return None


def unclaim_server(db: Any, name: str, user_id: str) -> None:
    db[names.SERVERS].update_one(
        {"name": name, "status": "assigned", "target": user_id}, {"$set": {"status": "waiting", "target": ""}}
    )


def dead_servers(db: Any, now: float, lease: float) -> list[dict]:
    return list(db[names.SERVERS].find({"status": {"$in": list(HOLDING)}, "uptime": {"$lt": now - lease}}))


def release_dead_server(db: Any, server: dict, now: float, lease: float) -> str | None:
    """Free a server whose heartbeat expired while it held a user; the user, or None if it came back."""
    freed = db[names.SERVERS].find_one_and_update(
        {"name": server["name"], "status": {"$in": list(HOLDING)}, "uptime": {"$lt": now - lease}},
        {"$set": {"status": "waiting", "target": "", "releasedAt": now}},
    )
    if freed is None or not freed.get("target"):
        return None
    release_user(db, freed["target"], freed["name"], now)
    return freed["target"]


# --- users -------------------------------------------------------------------------------------


def release_user(db: Any, user_id: str, server: str, now: float) -> None:
    """A user whose server is gone goes back to the assigner: waiting, or still stopping."""
    accounts = db[names.ACCOUNTS]
    accounts.update_one(
        {"_id": oid(user_id), "server": server, "glimpseStatus": {"$in": ["assigning", "operating"]}},
        {"$set": {"glimpseStatus": "waiting", "server": "", "waitingSince": now}},
    )
    accounts.update_one(
        {"_id": oid(user_id), "server": server, "glimpseStatus": "stopping"}, {"$set": {"server": ""}}
    )


def claim_user(db: Any, user_id: ObjectId, from_status: str, server: str, now: float) -> bool:
    """waiting → assigning (or stopping stays stopping) with `server`, if nobody claimed the user first."""
    to_status = "assigning" if from_status == "waiting" else from_status
    result = db[names.ACCOUNTS].update_one(
        {"_id": user_id, "glimpseStatus": from_status, "server": {"$in": ["", None]}},
        {"$set": {"glimpseStatus": to_status, "server": server, "assignedAt": now}},
    )
    return result.modified_count == 1


def deny(db: Any, user_id: ObjectId, from_status: str, alert_doc: dict) -> bool:
    """Send a user back to off with an alert (from `from_status` only)."""
    result = db[names.ACCOUNTS].update_one(
        {"_id": user_id, "glimpseStatus": from_status},
        {"$set": {"glimpseStatus": "off", "server": ""}, "$push": {"alerts": alert_doc}},
    )
    return result.modified_count == 1


def start_operating(db: Any, user_id: str, server: str) -> bool:
    """assigning → operating, for the server that was given the user."""
    result = db[names.ACCOUNTS].update_one(
        {"_id": oid(user_id), "glimpseStatus": "assigning", "server": server},
        {"$set": {"glimpseStatus": "operating", "operating": dict(IDLE_OPERATING, tries=[])}},
    )
    return result.modified_count == 1


def finish(db: Any, user_id: str, server: str, alert_doc: dict | None = None) -> bool:
    """The server ends a session: the user goes off and the session profit starts again from zero."""
    update: dict = {
        "$set": {
            "glimpseStatus": "off",
            "server": "",
            "iqSessionProfit": 0,
            "operating": dict(IDLE_OPERATING, tries=[]),
        }
    }
    if alert_doc is not None:
        update["$push"] = {"alerts": alert_doc}
    result = db[names.ACCOUNTS].update_one(
        {
            "_id": oid(user_id),
            "server": server,
            "glimpseStatus": {"$in": ["assigning", "operating", "stopping"]},
        },
        update,
    )
    return result.modified_count == 1
