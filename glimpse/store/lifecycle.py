"""The life cycles of users and operational servers, as atomic conditional updates.

User `glimpseStatus`: off → waiting (app Start) → assigning (assigner) →
operating (server) → stopping (app Stop) → off (server, once the order in
flight has settled). Server `status`: waiting → assigned → operating →
waiting. Every transition names the state it comes from, so a stale writer
can never move a state backwards; the assigner and the servers share these
functions so that both sides speak the same protocol.

Every assignment has an id of its own (`assignment`, on the server document
and on the account), new each time the assigner gives a user a server. The
transitions a server makes for a session (start operating, finish, free the
server) and the releases of the assigner name that id, so a server paused
past its lease, whose user was meanwhile assigned again (even to the same
server), can no longer free, finish or stop the newer assignment. Callers
that pass no `assignment` get the older match on server and user alone.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument

from glimpse.store import db as names
from glimpse.store.accounts import IDLE_OPERATING
from glimpse.store.servers import HOLDING, ServerDoc

__all__ = [
    "HOLDING",
    "RECONCILE",
    "Assignment",
    "ServerClaims",
    "beat",
    "claim_user",
    "dead_servers",
    "deny",
    "finish",
    "free_server",
    "held",
    "holds",
    "new_assignment",
    "oid",
    "operating_among",
    "operating_on",
    "register_server",
    "report_problem",
    "release_dead_server",
    "release_server",
    "release_user",
    "server_states",
    "start_operating",
    "take",
    "take_assignment",
    "unclaim_server",
    "user_states",
]

# Users a server may be serving.
LIVE_USER = ("assigning", "operating", "stopping")
# The purpose of an assignment that only reconciles an off user's trades (no trading, no life-cycle change).
RECONCILE = "reconcile"


def oid(user_id: str | ObjectId) -> ObjectId:
    return user_id if isinstance(user_id, ObjectId) else ObjectId(user_id)


def new_assignment() -> str:
    """A fresh assignment id."""
    return secrets.token_hex(8)


def _of(query: dict[str, Any], assignment: str | None) -> dict[str, Any]:
    """`query`, narrowed to one assignment when it is named."""
    if assignment is not None:
        query["assignment"] = assignment
    return query


@dataclass(frozen=True, slots=True)
class Assignment:
    """What a server took: the user, and the id of this assignment of them."""

    user: str  # account id, hex
    id: str | None  # None for a server document written before assignment ids existed
    purpose: str = ""  # "" for a trading session, RECONCILE for a reconcile-only one


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
            "$set": {
                "status": "waiting",
                "target": "",
                "assignment": "",
                "uptime": now,
                "incarnation": incarnation,
            },
            "$setOnInsert": {"preferential": False},
        },
        upsert=True,
    )
    server = ServerDoc.from_doc(before) if before is not None else None
    if server is None or not server.holding:
        return None
    release_user(db, server.target, name, now, assignment=server.assignment or None)
    return server.target


def beat(db: Any, incarnation: str, now: float, *, servers: list[str] | None = None) -> int:
    """Refresh the heartbeat of the servers of a process (they share its incarnation); how many it still owns.

    With `servers`, only those beat: a process leaves out a server whose thread
    died or cannot serve, so its lease runs out and the assigner releases its user.
    """
    query: dict[str, Any] = {"incarnation": incarnation}
    if servers is not None:
        query["name"] = {"$in": list(servers)}
    result = db[names.SERVERS].update_many(query, {"$set": {"uptime": now}})
    return int(result.matched_count)


def report_problem(db: Any, name: str, incarnation: str, problem: str | None, now: float) -> bool:
    """A server says it cannot serve (`problem`), or that it can again (None); False if it is not this process's."""
    update: dict[str, Any] = (
        {"$set": {"problem": problem, "problemAt": now}}
        if problem is not None
        else {"$unset": {"problem": "", "problemAt": ""}}
    )
    result = db[names.SERVERS].update_one({"name": name, "incarnation": incarnation}, update)
    return int(result.matched_count) == 1


def server_states(db: Any, incarnation: str) -> dict[str, tuple[str, str]]:
    """{server name: (status, target user id)} for the servers this process owns."""
    query, projection = {"incarnation": incarnation}, {"name": 1, "status": 1, "target": 1}
    # The watch reads this four times a second: on the embedded store, from a sorted index.
    found = names.indexed_find(db[names.SERVERS], query, "name", 1, None, None, projection)
    cursor = found if found is not None else db[names.SERVERS].find(query, projection)
    return {str(doc["name"]): (str(doc.get("status", "")), str(doc.get("target", ""))) for doc in cursor}


def user_states(db: Any, user_ids: list[str]) -> dict[str, tuple[str, str]]:
    """{user id: (glimpseStatus, server)} for these users."""
    cursor = names.find_by_ids(
        db[names.ACCOUNTS], [oid(u) for u in user_ids], {"glimpseStatus": 1, "server": 1}
    )
    return {
        str(doc["_id"]): (str(doc.get("glimpseStatus", "")), str(doc.get("server") or "")) for doc in cursor
    }


def holds(db: Any, name: str, incarnation: str, user_id: str, *, assignment: str | None = None) -> bool:
    """Whether this server process still holds `user_id` (in this assignment, when named)."""
    query = _of(
        {"name": name, "incarnation": incarnation, "status": "operating", "target": user_id}, assignment
    )
    return int(db[names.SERVERS].count_documents(query, limit=1)) == 1


def operating_on(db: Any, user_id: str, server: str, *, assignment: str | None = None) -> bool:
    """Whether the user is operating on `server` (in `assignment`, when named): read right before a buy."""
    query = _of({"_id": oid(user_id), "glimpseStatus": "operating", "server": server}, assignment)
    return int(db[names.ACCOUNTS].count_documents(query, limit=1)) == 1


def operating_among(db: Any, checks: list[tuple[str, str, str | None]]) -> set[tuple[str, str, str | None]]:
    """The (user, server, assignment) checks that hold, as `operating_on` each, in one read."""
    if not checks:
        return set()
    found = names.find_by_ids(
        db[names.ACCOUNTS],
        list({oid(user) for user, _, _ in checks}),
        {"glimpseStatus": 1, "server": 1, "assignment": 1},
    )
    states = {str(doc["_id"]): doc for doc in found}
    holding = set()
    for user, server, assignment in checks:
        doc = states.get(user) or {}
        if (
            doc.get("glimpseStatus") == "operating"
            and doc.get("server") == server
            and (assignment is None or doc.get("assignment") == assignment)
        ):
            holding.add((user, server, assignment))
    return holding


def take(db: Any, name: str, incarnation: str, now: float) -> Assignment | None:
    """assigned → operating for this server; the assignment it was given, or None."""
    doc = db[names.SERVERS].find_one_and_update(
        {"name": name, "incarnation": incarnation, "status": "assigned"},
        {"$set": {"status": "operating", "operatingSince": now}},
        return_document=ReturnDocument.AFTER,
    )
    if doc is None:
        return None
    server = ServerDoc.from_doc(doc)
    return Assignment(server.target, server.assignment or None, str(doc.get("purpose") or ""))


def take_assignment(db: Any, name: str, incarnation: str, now: float) -> str | None:
    """assigned → operating for this server; the user it was given, or None (see `take`)."""
    taken = take(db, name, incarnation, now)
    return taken.user if taken is not None else None


def held(db: Any, user_id: str) -> bool:
    """Whether any server holds (is assigned or serving) `user_id`."""
    query = {"target": user_id, "status": {"$in": list(HOLDING)}}
    return int(db[names.SERVERS].count_documents(query, limit=1)) == 1


def free_server(db: Any, name: str, incarnation: str, user_id: str, *, assignment: str | None = None) -> bool:
    """The server's session ended: waiting again, unless it already serves another assignment."""
    result = db[names.SERVERS].update_one(
        _of({"name": name, "incarnation": incarnation, "target": user_id}, assignment),
        {"$set": {"status": "waiting", "target": "", "assignment": ""}},
    )
    return int(result.modified_count) == 1


class ServerClaims:
    """Claims live waiting servers for users, one conditional update each.

    The candidates are read once per round (preferential first, then by
    name); a claim still checks that the server is waiting and live, so a
    server another assigner took meanwhile is simply skipped.
    """

    def __init__(self, db: Any, now: float, lease: float):
        self.db, self.now, self.lease = db, now, lease
        self._candidates: list[dict[str, Any]] | None = None

    def claim(self, user_id: str, assignment: str | None = None, *, purpose: str = "") -> str | None:
        """The name of the server now assigned to `user_id` in `assignment`, or None.

        The assigner names the assignment (`new_assignment()`) and gives the
        same id to `claim_user`; without one the claim carries none. `purpose`
        RECONCILE asks for a session that only reconciles the user's trades.
        """
        # Two reads at most: a server another assigner held for a moment (and gave back
        # when it lost the user) is waiting again, and the second read finds it.
        for _ in range(2):
            if self._candidates is None:
                cursor = self.db[names.SERVERS].find(
                    {"status": "waiting", "uptime": {"$gte": self.now - self.lease}, "drain": {"$ne": True}},
                    {"_id": 1, "name": 1},
                )
                self._candidates = list(cursor.sort([("preferential", -1), ("name", 1)]))
            while self._candidates:
                candidate = self._candidates.pop(0)
                # An update, not a find-and-modify: the name is known, and on the embedded
                # store the second pass over the document was half the cost of a claim.
                result = self.db[names.SERVERS].update_one(
                    {
                        "_id": candidate["_id"],
                        "status": "waiting",
                        "uptime": {"$gte": self.now - self.lease},
                        "drain": {"$ne": True},
                    },
                    {
                        "$set": {
                            "status": "assigned",
                            "target": user_id,
                            "assignment": assignment or "",
                            "purpose": purpose,
                            "assignedAt": self.now,
                        }
                    },
                )
                if int(result.modified_count) == 1:
                    return str(candidate["name"])
            self._candidates = None
        return None


def unclaim_server(db: Any, name: str, user_id: str, *, assignment: str | None = None) -> None:
    db[names.SERVERS].update_one(
        _of({"name": name, "status": "assigned", "target": user_id}, assignment),
        {"$set": {"status": "waiting", "target": "", "assignment": ""}},
    )


def dead_servers(db: Any, now: float, lease: float) -> list[ServerDoc]:
    cursor = db[names.SERVERS].find({"status": {"$in": list(HOLDING)}, "uptime": {"$lt": now - lease}})
    return [ServerDoc.from_doc(doc) for doc in cursor]


def release_dead_server(db: Any, server: ServerDoc, now: float, lease: float) -> str | None:
    """Free a server whose heartbeat expired while it held a user; the user, or None if it came back."""
    freed = db[names.SERVERS].find_one_and_update(
        {"name": server.name, "status": {"$in": list(HOLDING)}, "uptime": {"$lt": now - lease}},
        {"$set": {"status": "waiting", "target": "", "assignment": "", "releasedAt": now}},
    )
    if freed is None:
        return None
    was = ServerDoc.from_doc(freed)
    if not was.target:
        return None
    release_user(db, was.target, was.name, now, assignment=was.assignment or None)
    return was.target


def release_server(db: Any, name: str, now: float) -> ServerDoc | None:
    """A manager frees a server that holds a user, live or not: the server as it was, or None.

    Its user goes back to the assigner (or stays stopping), for that assignment only.
    """
    before = db[names.SERVERS].find_one_and_update(
        {"name": name, "status": {"$in": list(HOLDING)}, "target": {"$nin": ["", None]}},
        {"$set": {"status": "waiting", "target": "", "assignment": "", "releasedAt": now}},
    )
    if before is None:
        return None
    was = ServerDoc.from_doc(before)
    release_user(db, was.target, was.name, now, assignment=was.assignment or None)
    return was


# --- users -------------------------------------------------------------------------------------


def release_user(db: Any, user_id: str, server: str, now: float, *, assignment: str | None = None) -> None:
    """A user whose server is gone goes back to the assigner: waiting, or still stopping."""
    accounts = db[names.ACCOUNTS]
    accounts.update_one(
        _of({"_id": oid(user_id), "server": server, "glimpseStatus": {"$in": ["assigning", "operating"]}}, assignment),
        {"$set": {"glimpseStatus": "waiting", "server": "", "waitingSince": now}},
    )  # fmt: skip
    accounts.update_one(
        _of({"_id": oid(user_id), "server": server, "glimpseStatus": "stopping"}, assignment),
        {"$set": {"server": ""}},
    )


def claim_user(
    db: Any, user_id: ObjectId, from_status: str, server: str, now: float, *, assignment: str | None = None
) -> bool:
    """waiting → assigning (or stopping stays stopping) with `server`, if nobody claimed the user first."""
    to_status = "assigning" if from_status == "waiting" else from_status
    change: dict[str, Any] = {"glimpseStatus": to_status, "server": server, "assignedAt": now}
    if assignment is not None:
        change["assignment"] = assignment
    query: dict[str, Any] = {"_id": user_id, "glimpseStatus": from_status, "server": {"$in": ["", None]}}
    if (
        from_status == "waiting"
    ):  # a user blocked after pressing Start gets no server (a stopping one still does)
        query["blocked"] = {"$ne": True}
    result = db[names.ACCOUNTS].update_one(query, {"$set": change})
    return int(result.modified_count) == 1


def deny(db: Any, user_id: ObjectId, from_status: str, alert_doc: dict[str, Any]) -> bool:
    """Send a user back to off with an alert (from `from_status` only)."""
    result = db[names.ACCOUNTS].update_one(
        {"_id": user_id, "glimpseStatus": from_status},
        {
            "$set": {"glimpseStatus": "off", "server": ""},
            "$unset": {"glimpseSession": ""},
            "$push": {"alerts": alert_doc},
        },
    )
    return int(result.modified_count) == 1


def start_operating(db: Any, user_id: str, server: str, *, assignment: str | None = None) -> bool:
    """assigning → operating, for the server that was given the user (in this assignment, when named)."""
    result = db[names.ACCOUNTS].update_one(
        _of({"_id": oid(user_id), "glimpseStatus": "assigning", "server": server}, assignment),
        {"$set": {"glimpseStatus": "operating", "operating": dict(IDLE_OPERATING, tries=[])}},
    )
    return int(result.modified_count) == 1


def finish(
    db: Any,
    user_id: str,
    server: str,
    alert_doc: dict[str, Any] | None = None,
    *,
    assignment: str | None = None,
) -> bool:
    """The server ends a session: the user goes off and the session profit starts again from zero.

    Named with its `assignment`, it ends only that one: a newer assignment
    of the same user (on this very server, too) is left alone.
    """
    update: dict[str, Any] = {
        "$set": {
            "glimpseStatus": "off",
            "server": "",
            "iqSessionProfit": 0,
            "operating": dict(IDLE_OPERATING, tries=[]),
        },
        # The next Start opens a new Glimpse session (its own net, stops and Operations log).
        "$unset": {"glimpseSession": ""},
    }
    if alert_doc is not None:
        update["$push"] = {"alerts": alert_doc}
    result = db[names.ACCOUNTS].update_one(
        _of({"_id": oid(user_id), "server": server, "glimpseStatus": {"$in": list(LIVE_USER)}}, assignment),
        update,
    )
    return int(result.modified_count) == 1
