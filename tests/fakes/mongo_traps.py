"""Traps for the fake MongoDB server: kill or pause a process the instant a chosen write is applied.

A fault-injection test arms a trap over the wire, with an admin command the
fake server answers (real mongod does not know it):

    client.admin.command({"fakeTrap": "set", "collection": "Trades",
                          "filter": {"op": "update", "u.set.status": "closed"},
                          "action": "kill", "pid": 4242})

When a write on that collection matching `filter` is applied, the server
sends SIGKILL (action "kill") or SIGSTOP and, `seconds` later, SIGCONT
(action "stop") to `pid`, still under the server's command lock and before
the reply leaves: the process that sent the write never learns that it
succeeded, and no other command runs in between.

`filter` is a mongomock query over one write statement, described as
    {"op": "insert" | "update" | "findAndModify" | "delete",
     "db": database, "doc": the inserted document (insert),
     "q": the statement's query, "u": its update with each operator's "$"
     dropped ({"$set": {...}} is {"set": {...}}), so "u.push.open" or
     "u.set.status" can be named in a filter}.
Only writes that changed something count (an update that matched nothing,
a findAndModify that found nothing, an insert refused as a duplicate).

Other forms: {"fakeTrap": "list"} answers the armed and the fired traps
(each fired one with the statement that fired it and the wall time);
{"fakeTrap": "clear"} disarms every trap. A trap fires `times` times
(default 1) and is then disarmed.
"""

from __future__ import annotations

import itertools
import os
import signal
import threading
import time
from typing import Any

from mongomock.filtering import filter_applies

ACTIONS = ("kill", "stop")


class TrapError(ValueError):
    """A malformed fakeTrap command."""


def _strip_operators(update: Any) -> Any:
    """{"$set": {...}} as {"set": {...}}: a filter cannot name a field that starts with "$"."""
    if isinstance(update, dict):
        return {(k[1:] if k.startswith("$") else k): v for k, v in update.items()}
    return update


def _statements(db_name: str, name: str, value: Any, command: dict, reply: dict) -> list[dict]:
    """The write statements of one command that were applied, as trap filters see them."""
    failed = {e.get("index") for e in reply.get("writeErrors", [])}
    if name == "insert":
        docs = command.get("documents", [])
        return [
            {"op": "insert", "db": db_name, "doc": doc}
            for i, doc in enumerate(docs[: int(reply.get("n", 0)) + len(failed)])
            if i not in failed
        ]
    if name == "update":
        if not reply.get("n") and not reply.get("upserted"):
            return []
        return [
            {"op": "update", "db": db_name, "q": s.get("q", {}), "u": _strip_operators(s.get("u", {}))}
            for i, s in enumerate(command.get("updates", []))
            if i not in failed
        ]
    if name in ("findAndModify", "findandmodify"):
        if not (reply.get("lastErrorObject") or {}).get("n"):
            return []
        statement = {"op": "findAndModify", "db": db_name, "q": command.get("query") or {}}
        if command.get("update") is not None:
            statement["u"] = _strip_operators(command["update"])
        return [statement]
    if name == "delete":
        if not reply.get("n"):
            return []
        return [
            {"op": "delete", "db": db_name, "q": s.get("q", {})}
            for i, s in enumerate(command.get("deletes", []))
            if i not in failed
        ]
    return []


class Traps:
    """The armed traps of one fake server; `after_write` runs under the server's command lock."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.armed: dict[int, dict] = {}
        self.fired: list[dict] = []

    # --- the admin command ---------------------------------------------------------------------

    def command(self, _db: Any, value: Any, command: dict) -> dict:
        if value == "list":
            return {"armed": list(self.armed.values()), "fired": list(self.fired)}
        if value == "clear":
            cleared = len(self.armed)
            self.armed.clear()
            return {"cleared": cleared}
        if value != "set":
            raise TrapError(f"fakeTrap must be 'set', 'list' or 'clear', not {value!r}")
        return {"trap": self.arm(command)}

    def arm(self, spec: dict) -> int:
        collection, action, pid = spec.get("collection"), spec.get("action"), spec.get("pid")
        if not isinstance(collection, str) or not collection:
            raise TrapError("fakeTrap: collection must be a collection name")
        if action not in ACTIONS:
            raise TrapError(f"fakeTrap: action must be one of {ACTIONS}, not {action!r}")
        if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 1 or pid == os.getpid():
            raise TrapError(f"fakeTrap: pid must be another process's id, not {pid!r}")
        seconds = float(spec.get("seconds", 0) or 0)
        if action == "stop" and not 0 < seconds <= 600:
            raise TrapError("fakeTrap: a stop needs seconds, from 0 to 600")
        times = int(spec.get("times", 1))
        if times < 1:
            raise TrapError("fakeTrap: times must be 1 or more")
        filter_ = spec.get("filter") or {}
        if not isinstance(filter_, dict):
            raise TrapError("fakeTrap: filter must be a document")
        filter_applies(filter_, {})  # a malformed filter fails here, not when a write comes
        trap_id = next(self._ids)
        self.armed[trap_id] = {
            "id": trap_id,
            "collection": collection,
            "filter": filter_,
            "action": action,
            "pid": pid,
            "seconds": seconds,
            "times": times,
        }
        return trap_id

    # --- the hook --------------------------------------------------------------------------------

    def after_write(self, db_name: str, name: str, command: dict, reply: dict) -> None:
        if not self.armed or reply.get("ok", 1) == 0:
            return
        value = command.get(name)
        statements = None
        for trap in list(self.armed.values()):
            if trap["collection"] != value:
                continue
            if statements is None:
                statements = _statements(db_name, name, value, command, reply)
            for statement in statements:
                if filter_applies(trap["filter"], statement):
                    self._fire(trap, statement)
                    break

    def _fire(self, trap: dict, statement: dict) -> None:
        trap["times"] -= 1
        if trap["times"] <= 0:
            self.armed.pop(trap["id"], None)
        record = {"trap": trap["id"], "action": trap["action"], "pid": trap["pid"], "at": time.time()}
        record["statement"] = statement
        try:
            if trap["action"] == "kill":
                os.kill(trap["pid"], signal.SIGKILL)
            else:
                os.kill(trap["pid"], signal.SIGSTOP)
                resume = threading.Timer(trap["seconds"], _resume, (trap["pid"],))
                resume.daemon = True
                resume.start()
        except ProcessLookupError:
            record["error"] = "no such process"
        self.fired.append(record)


def _resume(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGCONT)
    except ProcessLookupError:
        pass
