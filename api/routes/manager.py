"""Manager routes: servers, audit, questions, auxiliary documents, invite codes."""

from __future__ import annotations

from flask import Blueprint

from api import audit
from api.context import ctx
from api.registry import MANAGER, endpoint
from api.schemas import CreateCodesBody, Empty, InsertAuditBody, UpdateServerBody
from glimpse.runtime import security
from glimpse.runtime.heartbeat import beat
from glimpse.store import db as names

bp = Blueprint("manager", __name__, url_prefix="/glimpse")

# Auxiliar documents that hold credentials never leave the API.
SECRET_AUXILIAR = ("analysisAccount",)


@endpoint(bp, "/getServerStatus", access=MANAGER, body=Empty)
def get_server_status(body: Empty):
    """The heartbeats of the API and the services (ServerStatus)."""
    beat(ctx().db, "API", ctx().clock.now())
    return list(ctx().db[names.SERVER_STATUS].find({}).sort("name", 1))


@endpoint(bp, "/updateServer", access=MANAGER, body=UpdateServerBody)
def update_server(body: UpdateServerBody):
    """Set an operational server's status and target user."""
    coll = ctx().db[names.SERVERS]
    before = coll.find_one({"name": body.name}, {"_id": 0, "status": 1, "target": 1})
    if before is None:
        return {"res": 0}
    after = {"status": body.status, "target": body.target}
    coll.update_one({"name": body.name}, {"$set": after})
    audit.record(body.name, "updateServer", before, after)
    return {"res": 1}


@endpoint(bp, "/getOperatingServers", access=MANAGER, body=Empty)
def get_operating_servers(body: Empty):
    """Every operational server with its status, target and heartbeat."""
    return list(ctx().db[names.SERVERS].find({}).sort("name", 1))


@endpoint(bp, "/getAudit", access=MANAGER, body=Empty)
def get_audit(body: Empty):
    """The manager audit log, newest first."""
    return list(ctx().db[names.MANAGER_AUDIT].find({}).sort("when", -1).limit(5000))


@endpoint(bp, "/insertAudit", access=MANAGER, body=InsertAuditBody)
def insert_audit(body: InsertAuditBody):
    """Append a record to the audit log (the author and time are the server's)."""
    audit.record(body.target, body.didWhat, body.from_, body.to)
    return {"res": 1}


@endpoint(bp, "/getQuestions", access=MANAGER, body=Empty)
def get_questions(body: Empty):
    """Questions users sent, newest first."""
    return list(ctx().db[names.QUESTIONS].find({}).sort("when", -1))


@endpoint(bp, "/getAuxiliar", access=MANAGER, body=Empty)
def get_auxiliar(body: Empty):
    """The auxiliary documents (terms, name pools, app version, maintenance flag), without credentials."""
    return list(ctx().db[names.AUXILIAR].find({"name": {"$nin": list(SECRET_AUXILIAR)}}).sort("name", 1))


@endpoint(bp, "/getCodes", access=MANAGER, body=Empty)
def get_codes(body: Empty):
    """Every invite code with its use."""
    return list(ctx().db[names.CODES].find({}).sort("code", 1))


@endpoint(bp, "/createCodes", access=MANAGER, body=CreateCodesBody)
def create_codes(body: CreateCodesBody):
    """Create `count` invite codes that grant `premiumDays` days: {res: 1, codes: [...]}."""
    codes = [security.new_code(12) for _ in range(body.count)]
    ctx().db[names.CODES].insert_many(
        [
            {"code": code, "valid": True, "usedBy": "", "usedWhen": 0, "premiumDays": body.premiumDays}
            for code in codes
        ]
    )
    audit.record("Codes", "createCodes", None, {"count": body.count, "premiumDays": body.premiumDays})
    return {"res": 1, "codes": codes}
