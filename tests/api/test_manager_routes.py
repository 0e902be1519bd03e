"""The manager's API: roles, paging and filters, and every action (validation, audit, races)."""

from __future__ import annotations

import csv
import io
import threading

import pytest
from bson import ObjectId

from api.registry import ROUTES
from glimpse.runtime import mail, security
from glimpse.store import db as names
from tests.api.conftest import PASSWORD, Caller, login
from tests.api.manager_samples import MANAGER_SAMPLES
from tests.api.samples import SAMPLES

NEXT = "X-Glimpse-Next"


@pytest.fixture
def make_manager(client, db, config):
    def make(email: str, rol: str | None = None, **fields) -> Caller:
        doc = {"user": email, "name": email.split("@")[0],
               "password": security.hash_password(PASSWORD, config.password_hash_profile), **fields}  # fmt: skip
        if rol is not None:
            doc["rol"] = rol
        inserted = db[names.MANAGER_ACCOUNTS].insert_one(doc)
        body = login(client, email, route="/glimpse/managerLogin")
        assert body["res"] == 1
        return Caller(str(inserted.inserted_id), email, body["token"])

    return make


@pytest.fixture
def support(make_manager) -> Caller:
    return make_manager("help@example.com", "support")


def post(client, path: str, caller: Caller | None, body: dict | None = None):
    return client.post("/glimpse/" + path, json=body or {}, headers=caller.headers if caller else {})


def audits(db, did_what: str) -> list[dict]:
    return list(db[names.MANAGER_AUDIT].find({"didWhat": did_what}))


# ------------------------------------------------------------------ roles


MANAGER_ROUTES = [r for r in ROUTES if "manager" in r.access]


def test_every_manager_route_has_a_role_and_the_document_lists_it(client):
    document = client.get("/glimpse/openapi.json").get_json()
    for route in MANAGER_ROUTES:
        assert route.role in ("admin", "support"), route.path
        operation = document["paths"][route.path][route.method.lower()]
        assert operation["x-glimpse-role"] == route.role
    roles = {r.view_name: r.role for r in MANAGER_ROUTES}
    assert (
        roles["get_users"]
        == roles["force_stop"]
        == roles["answer_question"]
        == roles["send_alert"]
        == "support"
    )
    for admin_only in ("create_codes", "grant_premium_days", "block_user", "set_terms", "set_maintenance",
                       "create_manager", "create_strategy", "edit_strategy", "update_server", "set_server_drain"):  # fmt: skip
        assert roles[admin_only] == "admin", admin_only


@pytest.mark.parametrize("route", [r for r in MANAGER_ROUTES if r.role == "admin"], ids=lambda r: r.path)
def test_support_is_refused_every_admin_route(client, db, support, route):
    before = db[names.MANAGER_AUDIT].count_documents({})
    response = client.post(route.path, json=SAMPLES.get(route.view_name, {}), headers=support.headers)
    assert response.status_code == 403, response.get_json()
    assert "admin role" in response.get_json()["error"]
    assert db[names.MANAGER_AUDIT].count_documents({}) == before


@pytest.mark.parametrize("route", [r for r in MANAGER_ROUTES if r.role == "support"], ids=lambda r: r.path)
def test_support_may_call_every_support_route(client, support, route):
    response = client.post(route.path, json=SAMPLES.get(route.view_name, {}), headers=support.headers)
    assert response.status_code < 400, (route.path, response.status_code, response.get_data()[:200])


def test_a_manager_without_a_role_is_an_admin_and_users_get_no_manager_route(client, manager, user):
    assert post(client, "createCodes", manager, {"count": 1, "premiumDays": 1}).status_code == 200
    assert post(client, "getUsers", user).status_code == 403
    assert post(client, "forceStop", None, {"user": user.id}).status_code == 401


def test_a_disabled_manager_is_refused_and_cannot_log_in(client, db, manager, make_manager):
    other = make_manager("other@example.com", "admin")
    assert post(client, "setManagerDisabled", manager, {"id": other.id, "disabled": True}).json == {"res": 1}
    assert post(client, "getUsers", other).status_code == 401  # its sessions ended
    refused = client.post("/glimpse/managerLogin", json={"email": other.email, "password": PASSWORD})
    assert refused.status_code == 403 and "disabled" in refused.json["error"]
    wrong = client.post("/glimpse/managerLogin", json={"email": other.email, "password": "wrong password"})
    assert wrong.json == {"res": -1}  # a wrong guess learns nothing
    db[names.MANAGER_ACCOUNTS].update_one({"_id": ObjectId(other.id)}, {"$set": {"disabled": True}})
    assert post(client, "setManagerDisabled", manager, {"id": other.id, "disabled": False}).json == {"res": 1}
    assert login(client, other.email, route="/glimpse/managerLogin")["res"] == 1


# ------------------------------------------------------------------ paging


def _pages(client, caller, path: str, body: dict) -> list[list[dict]]:
    pages, cursor = [], None
    while True:
        response = post(client, path, caller, body | ({"cursor": cursor} if cursor else {}))
        assert response.status_code == 200, response.json
        assert isinstance(response.json, list)
        pages.append(response.json)
        cursor = response.headers.get(NEXT)
        if cursor is None:
            return pages
        assert len(pages) < 50


def test_get_users_pages_by_name_without_repeats_and_filters_on_the_server(client, db, make_user, manager):
    for i in range(7):
        make_user(f"u{i}@example.com", name=f"User {6 - i}", glimpseStatus="operating" if i % 2 else "off")
    pages = _pages(client, manager, "getUsers", {"limit": 3})
    assert [len(p) for p in pages] == [3, 3, 1]
    names_seen = [u["name"] for p in pages for u in p]
    assert names_seen == sorted(names_seen) and len(set(names_seen)) == 7
    assert {"operationSettings", "blocked", "email"} <= set(pages[0][0]) and "password" not in pages[0][0]
    # The original body still works and gives the first page.
    assert [u["name"] for u in post(client, "getUsers", manager).json] == names_seen
    operating = [
        u["email"]
        for p in _pages(client, manager, "getUsers", {"limit": 2, "status": "operating"})
        for u in p
    ]
    assert sorted(operating) == ["u1@example.com", "u3@example.com", "u5@example.com"]
    assert [u["email"] for u in post(client, "getUsers", manager, {"q": "U4@EXA"}).json] == ["u4@example.com"]
    assert post(client, "getUsers", manager, {"q": ".*"}).json == []  # text, not a regex
    db[names.ACCOUNTS].update_one({"email": "u2@example.com"}, {"$set": {"blocked": True}})
    assert [u["email"] for u in post(client, "getUsers", manager, {"blocked": True}).json] == [
        "u2@example.com"
    ]


def test_paging_refuses_a_forged_cursor_and_a_limit_over_the_cap(client, manager):
    bad = post(client, "getUsers", manager, {"cursor": "not-a-cursor"})
    assert bad.status_code == 400 and bad.json["field"] == "cursor"
    assert post(client, "getUsers", manager, {"limit": 501}).json["field"] == "limit"
    assert post(client, "getTrades", manager, {"result": "maybe"}).json["field"] == "result"


def _trade(user: str, when: float, result: str, profit: float, ativo: str = "EURUSD") -> dict:
    return {"user": user, "session": "s", "server": "glimpse_01", "cycle": "c", "ativo": ativo, "operacao": "call",
            "amount": 2.0, "galeLevel": 0, "payout": 87, "account": "treinamento", "decidedAt": when,
            "placedAt": when, "closedAt": when + 60, "result": result, "profit": profit, "status": "closed"}  # fmt: skip


def test_trades_page_newest_first_with_filters_and_export_streams_csv(
    client, db, clock, user, other_user, manager
):
    now = clock.now()
    db[names.TRADES].insert_many(
        [
            _trade(user.id, now - 60 * i, "win" if i % 3 else "loss", 1.74 if i % 3 else -2.0)
            for i in range(10)
        ]
        + [_trade(other_user.id, now - 30, "doji", 0.0, "GBPUSD")]
    )
    pages = _pages(client, manager, "getTrades", {"limit": 4, "user": user.id})
    times = [t["decidedAt"] for p in pages for t in p]
    assert [len(p) for p in pages] == [4, 4, 2] and times == sorted(times, reverse=True)
    assert len(post(client, "getTrades", manager, {"ativo": "GBPUSD"}).json) == 1
    losses = post(client, "getTrades", manager, {"result": "loss", "since": now - 300})
    assert {t["result"] for t in losses.json} == {"loss"} and len(losses.json) == 2
    exported = post(client, "exportTrades", manager, {"user": user.id})
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    assert exported.is_streamed
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert len(rows) == 10 and {r["user"] for r in rows} == {user.id}


def test_export_batches_cover_every_row_once(client, db, clock, user, manager, monkeypatch):
    from api.routes import manager as manager_routes

    monkeypatch.setattr(manager_routes, "EXPORT_BATCH", 3)
    now = clock.now()
    db[names.TRADES].insert_many(
        [_trade(user.id, now - (i // 2), "win", 1.0) for i in range(11)]
    )  # equal keys
    rows = list(csv.DictReader(io.StringIO(post(client, "exportTrades", manager).get_data(as_text=True))))
    assert len(rows) == 11 and len({r["_id"] for r in rows}) == 11


def test_the_embedded_sort_index_follows_inserts_updates_deletes_and_ranges(db):
    """Pages from the embedded store's own index equal a full sort, through every kind of write."""
    import random

    from api import paging
    from glimpse.store.db import indexed_find

    rng = random.Random(7)
    accounts = db[names.ACCOUNTS]
    for i in range(60):
        accounts.insert_one({"name": rng.choice(["Ana", "Bia", "Caio", None, 3]), "email": f"e{i}@x.com",
                             "n": rng.choice([1, 2.5, 4, None])})  # fmt: skip

    def reference(query: dict, field: str, direction: int) -> list:
        rows = list(accounts.find(query).sort([(field, direction), ("_id", direction)]))
        return [r["_id"] for r in rows]

    def paged(query: dict, field: str, direction: int, size: int) -> list:
        seen, cursor = [], None
        for _ in range(100):
            rows, cursor = paging.fetch_batch(accounts, query, field, direction, size, cursor, {field: 1})
            seen += [r["_id"] for r in rows]
            if cursor is None:
                return seen
        raise AssertionError("the pages never end")

    def check() -> None:
        for field, direction in (("name", 1), ("name", -1), ("n", -1)):
            assert paged({}, field, direction, 7) == reference({}, field, direction)
        assert paged({"n": {"$gte": 2, "$lt": 4}}, "n", -1, 4) == reference(
            {"n": {"$gte": 2, "$lt": 4}}, "n", -1
        )
        ranged = {"$and": [{"n": {"$gt": 1}}, {"name": "Ana"}]}
        assert paged(ranged, "n", 1, 3) == reference(ranged, "n", 1)
        either = {"$and": [{"$or": [{"name": "Ana"}, {"name": "Bia"}]}, {"n": 2.5}]}  # not all in the index
        assert paged(either, "name", 1, 2) == reference(either, "name", 1)
        assert paged({"$or": [{"n": 1}, {"n": 4}]}, "n", -1, 3) == reference(
            {"$or": [{"n": 1}, {"n": 4}]}, "n", -1
        )
        for equal in ({"name": "Ana"}, {"name": None}, {"n": 2.5}):  # an equality leads the index
            field = "n" if "name" in equal else "name"
            assert paged(equal, field, -1, 2) == reference(equal, field, -1)
        for projection in (None, {"name": 1}, {"_id": 0, "n": 1}, {"email": 0}):
            mine = indexed_find(accounts, {"n": {"$lte": 4}}, "n", 1, None, None, projection)
            theirs = list(accounts.find({"n": {"$lte": 4}}, projection).sort([("n", 1), ("_id", 1)]))
            assert mine == theirs

    check()  # builds the indexes
    assert indexed_find(accounts, {}, "name", 1, None, 2, {"_id": 1}) is not None
    accounts.update_many({"name": "Bia"}, {"$set": {"name": "Zé"}})
    accounts.update_one({"name": "Caio"}, {"$unset": {"n": ""}})
    accounts.find_one_and_update({"name": None}, {"$set": {"n": 9}})
    accounts.replace_one({"name": 3}, {"name": "Aaron", "email": "aaron@x.com", "n": 0})
    accounts.delete_many({"name": "Ana", "n": 1})
    accounts.insert_one({"name": "Bia", "email": "new@x.com", "n": 2.5})
    check()
    accounts.insert_one({"name": ["a", "list"], "email": "list@x.com"})  # not indexable: the database answers
    assert indexed_find(accounts, {}, "name", 1, None, 2, {"_id": 1}) is None
    assert paged({}, "n", -1, 5) == reference({}, "n", -1)


def test_a_page_body_stays_under_a_megabyte_and_the_cursor_goes_on_from_its_last_row(client, db, manager):
    big = "x" * 150_000  # a session log with a long history
    db[names.OPERATIONS].insert_many(
        [{"operationTime": 1000.0 + i, "user": "u", "operationType": "strategy", "operations": [{"note": big}]}
         for i in range(12)]
    )  # fmt: skip
    seen, cursor, sizes = [], None, []
    for _ in range(12):
        response = post(
            client, "getAllOperations", manager, {"limit": 12} | ({"cursor": cursor} if cursor else {})
        )
        sizes.append(len(response.get_data()))
        seen += [row["operationTime"] for row in response.json]
        cursor = response.headers.get(NEXT)
        if cursor is None:
            break
    assert max(sizes) <= 1_000_000 and len(sizes) == 2
    assert seen == [1011.0 - i for i in range(12)]


def test_page_json_is_what_the_api_writes_everywhere_else(client, manager):
    import datetime
    import json

    from bson import json_util

    from api import paging
    from api.jsonio import json_response

    rows = [{"_id": ObjectId(), "at": datetime.datetime(2024, 6, 3, tzinfo=datetime.UTC), "n": [1, 2.5, None],
             "nested": {"id": ObjectId(), "t": "ção"}, "nan": float("nan")},
            {"_id": ObjectId(), "x": True, "b": b"raw"}]  # fmt: skip
    with client.application.app_context():
        for sample in (rows, rows[1:]):
            fast = paging.page_response(sample, None).get_data(as_text=True)
            slow = json_response(sample).get_data(as_text=True)
            assert json_util.loads(fast) is not None
            assert json.loads(fast) == json.loads(slow)


def test_codes_audit_and_questions_page_and_filter(client, db, manager, user):
    codes = post(client, "createCodes", manager, {"count": 5, "premiumDays": 7}).json["codes"]
    assert post(client, "useCode", user, {"code": codes[0]}).json == {"res": "Code used!"}
    used = post(client, "getCodes", manager, {"used": True}).json
    assert [(c["code"], c["usedBy"]) for c in used] == [(codes[0], user.email)] and used[0]["usedWhen"] > 0
    assert len(post(client, "getCodes", manager, {"used": False}).json) == 5 - 1 + 0
    assert sum(len(p) for p in _pages(client, manager, "getCodes", {"limit": 2})) == 5
    for i in range(3):
        post(client, "createCodes", manager, {"count": 1, "premiumDays": i})
    assert len(post(client, "getAudit", manager, {"didWhat": "createCodes", "limit": 2}).json) == 2
    assert sum(len(p) for p in _pages(client, manager, "getAudit", {"limit": 3, "who": manager.email})) == 4
    post(client, "insertQuestion", user, {"question": "Como funciona?"})
    assert len(post(client, "getQuestions", manager, {"answered": False}).json) == 1
    assert post(client, "getQuestions", manager, {"answered": True}).json == []


# ------------------------------------------------------------------ actions on users


def test_grant_and_remove_premium_days_never_below_zero(client, db, manager, user):
    assert post(client, "grantPremiumDays", manager, {"user": user.id, "days": 10}).json == {
        "res": 1,
        "premiumDays": 40,
    }
    assert post(client, "grantPremiumDays", manager, {"user": user.id, "days": -41}).json == {"res": 0}
    assert post(client, "grantPremiumDays", manager, {"user": user.id, "days": -40}).json["premiumDays"] == 0
    assert db[names.ACCOUNTS].find_one({"email": user.email})["premiumDays"] == 0
    record = audits(db, "grantPremiumDays")[0]
    assert record["who"] == manager.email and record["target"] == user.email
    assert record["from"] == {"premiumDays": 30} and record["to"] == {"premiumDays": 40}
    assert len(audits(db, "grantPremiumDays")) == 2
    for body in ({"user": user.id, "days": 0}, {"user": "nope", "days": 1}, {"user": user.id, "days": "5"}):
        assert post(client, "grantPremiumDays", manager, body).status_code == 400


def test_block_stops_a_running_bot_ends_sessions_and_refuses_login_until_unblocked(client, db, manager, user):
    db[names.ACCOUNTS].update_one(
        {"email": user.email}, {"$set": {"glimpseStatus": "operating", "server": "glimpse_01"}}
    )
    assert post(client, "blockUser", manager, {"user": user.id, "blocked": True, "reason": "x"}).json == {
        "res": 1, "stopping": True}  # fmt: skip
    doc = db[names.ACCOUNTS].find_one({"email": user.email})
    # The server that holds the user finishes the order in flight and then sets "off".
    assert doc["glimpseStatus"] == "stopping" and doc["server"] == "glimpse_01" and doc["blocked"] is True
    assert post(client, "getUser", user).status_code == 401
    refused = client.post("/glimpse/login", json={"email": user.email, "password": PASSWORD})
    assert refused.status_code == 403 and "blocked" in refused.json["error"]
    assert client.post("/glimpse/login", json={"email": user.email, "password": "wrong one!"}).json == {
        "res": -1
    }
    assert post(client, "blockUser", manager, {"user": user.id, "blocked": True}).json == {"res": 0}
    record = audits(db, "blockUser")[0]
    assert record["from"] == {"blocked": False, "glimpseStatus": "operating"}
    assert record["to"] == {"blocked": True, "glimpseStatus": "stopping"}
    assert post(client, "blockUser", manager, {"user": user.id, "blocked": False}).json == {
        "res": 1,
        "stopping": False,
    }
    assert login(client, user.email)["res"] == 1
    assert audits(db, "unblockUser")[0]["to"] == {"blocked": False}


def test_a_blocked_user_with_a_live_token_is_refused(client, db, manager, user):
    db[names.ACCOUNTS].update_one({"email": user.email}, {"$set": {"blocked": True}})
    start = {"fields": ["glimpseStatus"], "values": ["waiting"]}
    response = post(client, "updateUser", user, start)
    assert response.status_code == 403 and "blocked" in response.json["error"]


def test_force_stop_goes_through_stopping_and_only_from_a_running_state(client, db, support, user):
    for status, expected in (("off", 0), ("stopping", 0), ("waiting", 1), ("assigning", 1), ("operating", 1)):
        db[names.ACCOUNTS].update_one({"email": user.email}, {"$set": {"glimpseStatus": status}})
        assert post(client, "forceStop", support, {"user": user.id}).json == {"res": expected}, status
        assert db[names.ACCOUNTS].find_one({"email": user.email})["glimpseStatus"] == (
            "stopping" if expected else status
        )
    assert [r["from"]["glimpseStatus"] for r in audits(db, "forceStop")] == [
        "waiting",
        "assigning",
        "operating",
    ]


@pytest.mark.parametrize("action", ["forceStop", "blockUser"])
def test_a_manager_stop_racing_the_users_own_stop_leaves_one_stopping(app, db, manager, user, action):
    for _ in range(10):
        db[names.ACCOUNTS].update_one(
            {"email": user.email}, {"$set": {"glimpseStatus": "operating", "blocked": False}}
        )
        db[names.MANAGER_AUDIT].delete_many({})
        results: dict[str, object] = {}
        barrier = threading.Barrier(2)

        def users_stop(barrier=barrier, results=results):
            client = app.test_client()
            barrier.wait()
            results["user"] = client.post("/glimpse/updateUser", headers=user.headers,
                                          json={"fields": ["glimpseStatus"], "values": ["stopping"]}).status_code  # fmt: skip

        def managers_stop(barrier=barrier, results=results):
            client = app.test_client()
            body = {"user": user.id} | ({"blocked": True} if action == "blockUser" else {})
            barrier.wait()
            results["manager"] = client.post(
                f"/glimpse/{action}", headers=manager.headers, json=body
            ).get_json()

        threads = [threading.Thread(target=users_stop), threading.Thread(target=managers_stop)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert db[names.ACCOUNTS].find_one({"email": user.email})["glimpseStatus"] == "stopping"
        user_won = results["user"] == 200
        manager_stopped = any("glimpseStatus" in (r.get("to") or {}) for r in db[names.MANAGER_AUDIT].find())
        # Exactly one writer moved the bot to stopping; the other found it already so.
        assert user_won != manager_stopped, results
        if action == "blockUser":
            # A blocked user's token stops working, so its Stop may be refused (401/403) or lose (409).
            db[names.ACCOUNTS].update_one({"email": user.email}, {"$set": {"blocked": False}})
            user.token = login(app.test_client(), user.email)["token"]


def test_send_alert_and_password_reset_reach_the_user(client, db, app, support, manager, user, config):
    assert post(
        client, "sendAlert", support, {"user": user.id, "title": "Olá", "description": "Teste"}
    ).json == {"res": 1}
    alerts = db[names.ACCOUNTS].find_one({"email": user.email})["alerts"]
    assert alerts[-1]["title"] == "Olá" and alerts[-1]["read"] is False
    assert audits(db, "sendAlert")[0]["to"] == {"title": "Olá", "description": "Teste"}
    assert (
        post(client, "sendAlert", support, {"user": user.id, "title": "", "description": "x"}).status_code
        == 400
    )
    assert post(client, "triggerPasswordReset", manager, {"user": user.id}).json == {"res": 1}
    assert "passwordReset" in db[names.ACCOUNTS].find_one({"email": user.email})
    assert "passwordReset" in db[names.ACCOUNTS].find_one({"email": user.email})
    assert mail.open_queued(db, config, user.email)
    assert audits(db, "triggerPasswordReset")[0]["target"] == user.email


def test_answer_reaches_the_user_as_an_alert_once(client, db, support, user):
    post(client, "insertQuestion", user, {"question": "Como funciona o gale?"})
    question = post(client, "getQuestions", support).json[0]
    qid = question["_id"]["$oid"]
    assert post(client, "answerQuestion", support, {"id": qid, "answer": "Dobra a entrada."}).json == {
        "res": 1
    }
    assert post(client, "answerQuestion", support, {"id": qid, "answer": "De novo"}).json == {"res": 0}
    alerts = post(client, "getUser", user).json["alerts"]
    assert "Dobra a entrada." in alerts[-1]["description"]
    stored = db[names.QUESTIONS].find_one({"_id": ObjectId(qid)})
    assert stored["answer"] == "Dobra a entrada." and stored["answeredBy"] == support.email
    assert audits(db, "answerQuestion")[0]["to"] == {"answer": "Dobra a entrada."}


# ------------------------------------------------------------------ settings


def test_terms_are_sanitised_on_the_server(client, db, manager):
    html = '<h2>Termos</h2><script>alert(1)</script><p onclick="x()">Oi <a href="javascript:x()">a</a></p>'
    answer = post(client, "setTerms", manager, {"html": html}).json
    assert answer["res"] == 1
    stored = client.post("/glimpse/getTerms", json={}).json[0]["value"]
    assert stored == answer["html"]
    assert "<h2>Termos</h2>" in stored and "script" not in stored and "onclick" not in stored
    assert "javascript" not in stored
    assert audits(db, "setTerms")[0]["to"] == {"value": stored}
    assert post(client, "setTerms", manager, {"html": "<script>x</script>"}).status_code == 400


def test_maintenance_and_app_version(client, db, manager, user):
    assert post(client, "setMaintenance", manager, {"on": True, "message": "Voltamos às 22h"}).json == {
        "res": 1
    }
    status = post(client, "status", user).json
    assert status["maintenance"] is True and status["maintenanceMessage"] == "Voltamos às 22h"
    assert db[names.AUXILIAR].find_one({"name": "Maintenance"})["message"] == "Voltamos às 22h"
    post(client, "setMaintenance", manager, {"on": False, "message": "not shown while off"})
    status = post(client, "status", user).json
    assert status["maintenance"] is False and status["maintenanceMessage"] == ""
    assert [r["to"]["value"] for r in audits(db, "setMaintenance")] == [True, False]
    assert post(client, "setAppVersion", manager, {"version": "2.0.1"}).json == {"res": 1}
    assert db[names.AUXILIAR].find_one({"name": "appVersion"})["value"] == "2.0.1"
    assert post(client, "setAppVersion", manager, {"version": "latest"}).json["field"] == "version"


# ------------------------------------------------------------------ managers, codes, strategies, servers


def test_managers_are_created_with_a_role_changed_and_never_leave_no_admin(client, db, manager):
    body = {"user": "New@Example.com", "name": "Nova", "password": "a long password", "rol": "support"}
    created = post(client, "createManager", manager, body).json
    assert created["res"] == 1
    assert post(client, "createManager", manager, body).json == {"res": 0}
    new_id = created["_id"]["$oid"]
    listed = {m["user"]: m for m in post(client, "getManagers", manager).json}
    assert listed["new@example.com"]["rol"] == "support" and listed[manager.email]["rol"] == "admin"
    assert all("password" not in m for m in listed.values())
    assert login(client, "new@example.com", "a long password", "/glimpse/managerLogin")["res"] == 1
    assert post(client, "setManagerRole", manager, {"id": new_id, "rol": "admin"}).json == {"res": 1}
    assert audits(db, "setManagerRole")[0]["from"] == {"rol": "support"}
    # Not yourself, and never the last active admin.
    assert post(client, "setManagerRole", manager, {"id": manager.id, "rol": "support"}).status_code == 409
    assert (
        post(client, "setManagerDisabled", manager, {"id": manager.id, "disabled": True}).status_code == 409
    )
    assert post(client, "setManagerRole", manager, {"id": new_id, "rol": "support"}).json == {"res": 1}
    db[names.MANAGER_ACCOUNTS].update_one({"_id": ObjectId(manager.id)}, {"$set": {"rol": "support"}})
    db[names.MANAGER_ACCOUNTS].update_one({"_id": ObjectId(new_id)}, {"$set": {"rol": "admin"}})
    db[names.MANAGER_ACCOUNTS].update_one({"_id": ObjectId(manager.id)}, {"$set": {"rol": "admin"}})
    db[names.MANAGER_ACCOUNTS].update_one({"user": manager.email}, {"$unset": {"rol": ""}})  # legacy: no rol
    assert post(client, "setManagerDisabled", manager, {"id": new_id, "disabled": True}).json == {"res": 1}
    assert post(client, "createManager", manager, body | {"user": "bad"}).json["field"] == "user"


def test_revoke_only_unused_codes(client, db, manager, user):
    codes = post(client, "createCodes", manager, {"count": 2, "premiumDays": 5}).json["codes"]
    post(client, "useCode", user, {"code": codes[0]})
    assert post(client, "revokeCode", manager, {"code": codes[0]}).json == {"res": 0}
    assert post(client, "revokeCode", manager, {"code": codes[1]}).json == {"res": 1}
    assert client.post("/glimpse/checkCode", json={"code": codes[1]}).json == {"res": False}
    assert audits(db, "revokeCode")[0]["from"]["valid"] is True


def test_official_strategies_are_published_and_retired_by_admins(client, db, manager, support, user):
    strategy = {"name": "Glimpse Teste", "sequence": "-1,-1,1", "operation": "call", "mirror": False}
    assert post(client, "createStrategy", support, strategy).status_code == 403
    assert post(client, "createStrategy", manager, strategy).json == {"res": 1}
    assert "Glimpse Teste" in [s["name"] for s in post(client, "getStrategies", user).json]
    db[names.ACCOUNTS].update_one({"email": user.email}, {"$set": {"strategy": "Glimpse Teste"}})
    assert post(client, "retireStrategy", manager, {"name": "glimpse teste"}).status_code == 409
    db[names.ACCOUNTS].update_one({"email": user.email}, {"$set": {"strategy": ""}})
    assert post(client, "retireStrategy", manager, {"name": "glimpse teste"}).json == {"res": 1}
    assert "Glimpse Teste" not in [s["name"] for s in post(client, "getStrategies", user).json]
    assert audits(db, "retireStrategy")[0]["from"]["sequence"] == "-1,-1,1"


def test_server_flags_and_release_of_a_stuck_user(client, db, clock, manager, user):
    now = clock.now()
    db[names.SERVERS].insert_many([
        {"name": "glimpse_01", "status": "operating", "target": user.id, "uptime": now, "preferential": False},
        {"name": "glimpse_02", "status": "waiting", "target": "", "uptime": now - 100, "preferential": False},
    ])  # fmt: skip
    db[names.ACCOUNTS].update_one(
        {"email": user.email}, {"$set": {"glimpseStatus": "operating", "server": "glimpse_01"}}
    )
    assert post(client, "setServerPreferential", manager, {"name": "glimpse_02", "on": True}).json == {
        "res": 1
    }
    assert post(client, "setServerPreferential", manager, {"name": "glimpse_02", "on": True}).json == {
        "res": 0
    }
    assert post(client, "setServerDrain", manager, {"name": "glimpse_01", "on": True}).json == {"res": 1}
    assert db[names.SERVERS].find_one({"name": "glimpse_01"})["drain"] is True
    assert post(client, "releaseServerUser", manager, {"name": "glimpse_01"}).json == {"res": 1}
    assert post(client, "releaseServerUser", manager, {"name": "glimpse_01"}).json == {"res": 0}
    server = db[names.SERVERS].find_one({"name": "glimpse_01"})
    account = db[names.ACCOUNTS].find_one({"email": user.email})
    assert (server["status"], server["target"]) == ("waiting", "")
    assert (account["glimpseStatus"], account["server"]) == ("waiting", "")
    assert audits(db, "releaseServerUser")[0]["from"] == {"status": "operating", "target": user.id}
    overview = post(client, "getOverview", manager).json
    by_name = {s["name"]: s for s in overview["servers"]}
    assert by_name["glimpse_01"]["alive"] is True and by_name["glimpse_02"]["alive"] is False
    assert by_name["glimpse_02"]["age"] == 100


def test_overview_counts_users_and_todays_trades(client, db, clock, manager, user, other_user):
    now = clock.now()
    db[names.ACCOUNTS].update_one({"email": user.email}, {"$set": {"glimpseStatus": "operating"}})
    db[names.TRADES].insert_many([_trade(user.id, now - 10, "win", 1.74), _trade(user.id, now - 20, "loss", -2.0),
                                  _trade(user.id, now - 30, "doji", 0.0), _trade(user.id, now - 3 * 86400, "win", 9.0)])  # fmt: skip
    overview = post(client, "getOverview", manager).json
    assert overview["users"]["operating"] == 1 and overview["users"]["off"] == 1
    today = overview["today"]
    assert (today["orders"], today["win"], today["loss"], today["doji"]) == (3, 1, 1, 1)
    assert today["net"] == pytest.approx(-0.26)
    assert sum(h["orders"] for h in overview["perHour"]) == 3


def test_every_new_manager_route_has_a_sample(client):
    document = client.get("/glimpse/openapi.json").get_json()
    ids = {op["operationId"] for path in document["paths"].values() for op in path.values()}
    assert set(MANAGER_SAMPLES) <= ids


def test_cli_manager_create_sets_the_role(monkeypatch, capsys):
    import uuid

    from glimpse.cli.main import main
    from glimpse.runtime.config import load_config
    from glimpse.store.db import open_database

    monkeypatch.delenv("GLIMPSE_MONGO_URI", raising=False)
    monkeypatch.setenv("GLIMPSE_DB", "cli_role_" + uuid.uuid4().hex[:12])
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    args = ["manager", "create", "--name", "Help", "--email", "help@example.com", "--password-stdin"]
    assert main([*args, "--role", "support"]) == 0
    db = open_database(load_config())
    assert db[names.MANAGER_ACCOUNTS].find_one({"user": "help@example.com"})["rol"] == "support"
    with pytest.raises(SystemExit):
        main([*args, "--role", "owner"])


def test_manager_me_tells_the_role(client, manager, support):
    assert post(client, "managerMe", manager).json == {"user": manager.email, "name": "Chefe", "rol": "admin"}
    assert post(client, "managerMe", support).json["rol"] == "support"


def test_a_managers_own_password_change_is_audited_without_the_hash(client, db, manager, user):
    body = {"currentPassword": PASSWORD, "newPassword": "a brand new password"}
    assert post(client, "changePassword", manager, body).status_code == 200
    record = audits(db, "changePassword")[0]
    assert record["who"] == record["target"] == manager.email and record["to"] == {"password": "changed"}
    assert post(client, "changePassword", user, body).status_code == 200
    assert len(audits(db, "changePassword")) == 1  # a trader's change is not a manager write


# ------------------------------------------------------------------ money: cents on disk, reais on the wire


def _ledger(db, user_id: str, now: float) -> list:
    """Four trades written by the store (money in integer cents): three settled, one unknown."""
    from decimal import Decimal

    from glimpse.store import trades

    made = []
    for i, profit in enumerate((Decimal("1.74"), Decimal("-2.00"), Decimal("0.87"), None)):
        trade = trades.record_intent(
            db, user=user_id, session="s", server="glimpse_01", ativo="EURUSD", operacao="call",
            amount=Decimal("2.00"), gale_level=0, payout=87, decided_at=now - 10 * (i + 1), cycle="c",
            account="PRACTICE",
        )  # fmt: skip
        if profit is None:
            trades.mark_unknown(db, trade.id, "timeout", now)
        else:
            trades.settle(db, trade.id, profit, now - 10 * i, 1.1)
        made.append(trade.id)
    assert db[names.TRADES].find_one({"_id": made[0]})["profit"] == 174  # cents on disk
    return made


def test_overview_and_trades_answer_the_cents_ledger_in_reais(client, db, clock, manager, user):
    from decimal import Decimal

    from glimpse.store import trades

    now = clock.now()
    _ledger(db, user.id, now)
    ledger_net = sum((t.profit_reais or Decimal(0)) for t in trades.of_user(db, user.id))
    assert ledger_net == Decimal("0.61")
    today = post(client, "getOverview", manager).json["today"]
    assert today["net"] == float(ledger_net) and (today["orders"], today["open"]) == (4, 1)
    listed = post(client, "getTrades", manager, {"user": user.id}).json
    assert {t["amount"] for t in listed} == {2.0}
    assert sorted(t["profit"] for t in listed if t["profit"] is not None) == [-2.0, 0.87, 1.74]
    assert all("moneyUnit" not in t for t in listed)
    unknown = post(client, "getTrades", manager, {"status": "unknown"}).json
    assert [t["status"] for t in unknown] == ["unknown"]
    detail = post(client, "getUserDetail", manager, {"user": user.id}).json
    assert [(t["status"], t["amount"]) for t in detail["openTrades"]] == [("unknown", 2.0)]


def test_the_csv_export_equals_the_ledger_in_reais(client, db, clock, manager, user):
    from decimal import Decimal

    from glimpse.store import trades

    _ledger(db, user.id, clock.now())
    exported = post(client, "exportTrades", manager, {"user": user.id}).get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert "moneyUnit" not in rows[0]
    by_id = {t.id: t for t in trades.of_user(db, user.id)}
    for row in rows:
        trade = by_id[ObjectId(row["_id"])]
        assert Decimal(row["amount"]) == trade.stake
        assert (Decimal(row["profit"]) if row["profit"] else None) == trade.profit_reais
    assert sum(Decimal(r["profit"] or 0) for r in rows) == Decimal("0.61")


# ------------------------------------------------------------------ logins, reset codes and passwords


def test_a_blocked_account_is_refused_only_after_the_login_throttle(client, db, config, manager, user):
    assert post(client, "blockUser", manager, {"user": user.id, "blocked": True}).json["res"] == 1
    for _ in range(config.login_max_failures):
        wrong = client.post("/glimpse/login", json={"email": user.email, "password": "wrong one!"})
        assert wrong.json == {"res": -1}
    # The right password no longer tells the account is blocked: the throttle answers first.
    right = client.post("/glimpse/login", json={"email": user.email, "password": PASSWORD})
    assert right.status_code == 429


def test_a_disabled_manager_is_refused_only_after_the_login_throttle(
    client, db, config, manager, make_manager
):
    other = make_manager("other@example.com", "support")
    db[names.MANAGER_ACCOUNTS].update_one({"_id": ObjectId(other.id)}, {"$set": {"disabled": True}})
    for _ in range(config.login_max_failures):
        body = {"email": other.email, "password": "wrong password"}
        assert client.post("/glimpse/managerLogin", json=body).json == {"res": -1}
    right = client.post("/glimpse/managerLogin", json={"email": other.email, "password": PASSWORD})
    assert right.status_code == 429


def test_a_manager_triggered_reset_stores_only_a_keyed_hash_and_its_code_works(
    client, db, config, manager, user
):
    import re

    from tests.api.conftest import mailed

    assert post(client, "triggerPasswordReset", manager, {"user": user.id}).json == {"res": 1}
    text = mailed(db, config, user.email)
    found = re.search(r"\b([A-Z2-9]{8})\b", text)
    assert found is not None
    stored = db[names.ACCOUNTS].find_one({"email": user.email})["passwordReset"]
    assert stored["hash"] == security.hash_reset_code(config.secret_key.get_secret_value(), found.group(1))
    assert not stored["hash"].startswith("$argon2")
    body = {"email": user.email, "code": found.group(1), "newPassword": "a fresh long passphrase"}
    assert client.post("/glimpse/resetPassword", json=body).status_code == 200
    assert login(client, user.email, "a fresh long passphrase")["res"] == 1
    assert post(client, "triggerPasswordReset", manager, {"user": str(ObjectId())}).json == {"res": 0}


@pytest.mark.parametrize("password", ["password123", "short", "          "])
def test_a_new_manager_password_follows_the_shared_policy(client, db, manager, password):
    body = {"user": "new@example.com", "name": "Nova", "password": password, "rol": "support"}
    refused = post(client, "createManager", manager, body)
    assert refused.status_code == 400 and refused.json["field"] == "password"
    assert db[names.MANAGER_ACCOUNTS].find_one({"user": "new@example.com"}) is None


# ------------------------------------------------------------------ typed store reads behind the manager's views


@pytest.mark.parametrize("embedded", [True, False], ids=["embedded", "plain-mongo"])
def test_the_typed_keyset_readers_page_every_row_once_on_both_stores(db, embedded):
    """The store's readers answer the same pages from the embedded index and from a plain
    database (the MongoDB branch, here a bare mongomock without the embedded index)."""
    import mongomock

    from glimpse.store import accounts, trades

    target = db if embedded else mongomock.MongoClient()["glimpse_plain"]
    ids = [ObjectId() for _ in range(7)]
    target[names.TRADES].insert_many(
        [_trade("u1", 1000.0 + (i // 2), "win", 1.0) | {"_id": ids[i]} for i in range(7)]
    )  # equal keys
    target[names.TRADES].insert_one(_trade("u2", 5000.0, "loss", -1.0))
    seen, after = [], None
    while True:
        page = trades.newest_page(target, {"user": "u1"}, after, 3)
        seen += [t.id for t in page]
        if len(page) < 3:
            break
        after = trades.keyset_of(page[-1])
    assert sorted(seen) == sorted(ids) and len(seen) == 7
    assert [t.decidedAt for t in trades.stream_newest(target, {"user": "u1"}, 2)] == sorted(
        (1000.0 + (i // 2) for i in range(7)), reverse=True
    )
    target[names.ACCOUNTS].insert_many(
        [{"name": n, "email": f"{n}@x.com", "blocked": n == "b"} for n in "cabd"]
    )
    first = accounts.by_name_page(target, {}, None, 2, {"name": 1, "blocked": 1})
    last_id = first[-1].id
    assert last_id is not None
    rest = accounts.by_name_page(target, {}, (first[-1].name, last_id), 5, {"name": 1, "blocked": 1})
    assert [a.name for a in first + rest] == ["a", "b", "c", "d"]
    assert [accounts.is_blocked(a) for a in first] == [False, True] and "email" not in first[0].public()


def test_server_flags_are_only_the_managers_own(db):
    from glimpse.store import servers

    db[names.SERVERS].insert_one({"name": "glimpse_01", "status": "waiting", "target": ""})
    with pytest.raises(ValueError):
        servers.set_flag(db, "glimpse_01", "status", True)
    before = servers.set_flag(db, "glimpse_01", "drain", True)
    assert before is not None and before.drain is None
    assert servers.set_flag(db, "glimpse_01", "drain", True) is None


def test_trades_filter_by_the_mode_the_ledger_recorded(client, db, clock, manager, user):
    from decimal import Decimal

    from glimpse.store import trades

    now = clock.now()
    for i, mode in enumerate(("strategy", "signals", "copy", "signals", None)):
        trades.record_intent(
            db, user=user.id, session="s", server="glimpse_01", ativo="EURUSD", operacao="put",
            amount=Decimal("2.00"), gale_level=0, payout=87, decided_at=now - i, cycle=f"c{i}",
            account="PRACTICE", mode=mode,
        )  # fmt: skip
    signals = post(client, "getTrades", manager, {"mode": "signals"}).json
    assert [t["cycle"] for t in signals] == ["c1", "c3"] and {t["mode"] for t in signals} == {"signals"}
    # A trade from before the ledger kept the mode matches no mode filter, and is still listed without one.
    assert [t["cycle"] for t in post(client, "getTrades", manager, {"mode": "copy"}).json] == ["c2"]
    assert len(post(client, "getTrades", manager, {}).json) == 5
    exported = post(client, "exportTrades", manager, {"mode": "strategy"}).get_data(as_text=True)
    assert [row["mode"] for row in csv.DictReader(io.StringIO(exported))] == ["strategy"]
    refused = post(client, "getTrades", manager, {"mode": "martingale"})
    assert refused.status_code == 400 and "mode" in refused.get_data(as_text=True)
