"""The original's contract where this bundle had broken it (issue 16, "Contract fixes").

insertSignals takes every value the bundle writes and reports bad rows one by
one; getUserOperations answers the original call oldest first, and pages for
the new app; checkIq refuses credentials with 200 {res: reason}; the
original app's Start ("operating" from off) starts.
"""

from __future__ import annotations

from typing import Any

from glimpse.market import AuthError
from glimpse.store import db as names
from glimpse.store import operations_log

ROW = {"status": "active", "ativo": "EURUSD", "hora": "14:30", "operacao": "call", "resultado": ""}


def _insert(client, caller, rows: list[Any], **extra: Any):
    body = {"user": caller.id, "userKey": caller.token, "signals": rows, "type": "user", **extra}
    return client.post("/glimpse/insertSignals", json=body)


def _stored(db, caller) -> list[dict[str, Any]]:
    doc = db[names.SIGNALS].find_one({"user": caller.id})
    return [] if doc is None else doc["signals"]


# ------------------------------------------------------------------ insertSignals


def test_insert_signals_takes_back_every_value_the_bot_writes(client, db, user):
    rows = [
        dict(ROW, status="result", resultado=result, hora=f"1{i}:00")
        for i, result in enumerate(("win", "loss", "doji", "failed", "skipped"))
    ] + [dict(ROW, status="canceled", hora="15:00")]
    response = _insert(client, user, rows)
    assert response.status_code == 200
    assert response.json == {"res": 1, "exists": False, "rejected": []}
    stored = _stored(db, user)
    assert [r["resultado"] for r in stored] == ["win", "loss", "doji", "failed", "skipped", ""]
    assert [r["status"] for r in stored][-1] == "canceled"
    # What getSignals answers goes back through insertSignals unchanged (the app's trash/refresh path).
    listed = client.post("/glimpse/getSignals", json={}, headers=user.headers).json[0]["signals"]
    again = _insert(client, user, listed)
    assert again.json == {"res": 1, "exists": True, "rejected": []}
    assert _stored(db, user) == stored


def test_insert_signals_normalises_what_is_safe(client, db, user):
    rows = [
        {"ativo": "eurusd", "hora": "9:30", "operacao": "CALL"},
        {"ativo": "gbp/usd", "hora": " 10h05 ", "operacao": "Put", "status": "ACTIVE", "resultado": None},
        {"ativo": "eurusd-otc", "hora": "09:31", "operacao": "put"},
    ]
    response = _insert(client, user, rows)
    assert response.json == {"res": 1, "exists": False, "rejected": []}
    stored = _stored(db, user)
    assert [(r["ativo"], r["hora"], r["operacao"], r["status"]) for r in stored] == [
        ("EURUSD", "09:30", "call", "active"),
        ("GBPUSD", "10:05", "put", "active"),
        ("EURUSD-OTC", "09:31", "put", "active"),
    ]
    assert all(r["id"] and r["resultado"] == "" for r in stored)


def test_insert_signals_rejects_bad_rows_one_by_one(client, db, user):
    rows = [
        ROW,
        {"ativo": "XXXYYY", "hora": "14:31", "operacao": "call"},
        {"ativo": "", "hora": "", "operacao": ""},
        dict(ROW, hora="25:00"),
        dict(ROW, operacao="buy"),
        dict(ROW, resultado="maybe"),
        "EURUSD 14:30 CALL",
        dict(ROW, hora="14:45", operacao="put"),
    ]
    response = _insert(client, user, rows)
    assert response.status_code == 200
    body = response.json
    assert body["res"] == 1 and body["exists"] is False
    by_index = {r["index"]: r for r in body["rejected"]}
    assert sorted(by_index) == [1, 2, 3, 4, 5, 6]
    assert by_index[1]["field"] == "ativo" and "XXXYYY" in by_index[1]["reason"]
    assert by_index[2]["reason"] == "blank row"
    assert by_index[3]["field"] == "hora" and "HH:MM" in by_index[3]["reason"]
    assert by_index[4]["field"] == "operacao"
    assert by_index[5]["field"] == "resultado"
    assert by_index[6]["reason"] == "a signal must be an object"
    assert [(r["hora"], r["operacao"]) for r in _stored(db, user)] == [("14:30", "call"), ("14:45", "put")]


def test_insert_signals_keeps_the_list_when_every_row_is_bad(client, db, user):
    assert _insert(client, user, [ROW]).json["res"] == 1
    response = _insert(client, user, [{"ativo": "NOPE", "hora": "x", "operacao": "up"}])
    assert response.status_code == 200
    assert response.json["res"] == 0 and response.json["exists"] is True
    assert [r["index"] for r in response.json["rejected"]] == [0]
    assert [r["hora"] for r in _stored(db, user)] == ["14:30"]
    # An empty list still clears it (the original app's "Clear all").
    assert _insert(client, user, []).json == {"res": 1, "exists": True, "rejected": []}
    assert _stored(db, user) == []


def test_insert_signals_stores_expiry_and_gale_and_gives_repeated_ids_their_own(client, db, user):
    rows = [dict(ROW, id="a1", expiry=5, gale=1), dict(ROW, id="a1", hora="14:35"), dict(ROW, expiry=3)]
    body = _insert(client, user, rows).json
    assert [(r["index"], r["field"]) for r in body["rejected"]] == [(2, "expiry")]
    stored = _stored(db, user)
    assert stored[0]["id"] == "a1" and stored[0]["expiry"] == 5 and stored[0]["gale"] == 1
    assert stored[1]["id"] != "a1" and "expiry" not in stored[1] and "gale" not in stored[1]


def test_insert_signals_still_checks_the_body(client, user, other_user):
    assert _insert(client, user, [ROW], user=other_user.id).status_code == 403
    response = client.post(
        "/glimpse/insertSignals", json={"signals": {"ativo": "EURUSD"}}, headers=user.headers
    )
    assert response.status_code == 400 and response.json["field"] == "signals"
    response = client.post("/glimpse/insertSignals", json={"type": "user"}, headers=user.headers)
    assert response.status_code == 400 and response.json["field"] == "signals"
    too_many = client.post("/glimpse/insertSignals", json={"signals": [ROW] * 501}, headers=user.headers)
    assert too_many.status_code == 400 and too_many.json["field"] == "signals"
    both = client.post("/glimpse/insertSignals", json={"signals": [ROW], "text": "x"}, headers=user.headers)
    assert both.status_code == 400 and both.json["field"] == "text"
    assert client.post("/glimpse/insertSignals", json={"signals": [ROW]}).status_code == 401


def test_migrated_invalid_rows_round_trip_through_get_signals(client, db, user):
    kept = {"id": "m1", "status": "canceled", "ativo": "XYZ", "hora": "9h", "operacao": "call",
            "resultado": "", "invalid": "unknown pair 'XYZ'"}  # fmt: skip
    db[names.SIGNALS].insert_one({"user": user.id, "signals": [kept, dict(ROW, id="m2")], "type": "user"})
    listed = client.post("/glimpse/getSignals", json={}, headers=user.headers).json[0]["signals"]
    assert listed[0]["invalid"] == "unknown pair 'XYZ'" and listed[0]["status"] == "canceled"
    # Sent back, the row the migration could not read is reported, not stored again silently.
    body = _insert(client, user, listed).json
    assert body["res"] == 1 and [r["index"] for r in body["rejected"]] == [0]


# ------------------------------------------------------------------ getUserOperations


def _logs(db, user, other_user) -> None:
    db[names.OPERATIONS].insert_many(
        [
            {"user": user.id, "operationTime": 200.0, "session": "b", "operationType": "signals", "operations": []},
            {"user": user.id, "operationTime": 100.0, "session": "a", "operationType": "strategy", "operations": []},
            {"user": other_user.id, "operationTime": 150.0, "session": "x", "operations": []},
            {"user": user.id, "operationTime": 300.0, "session": "c", "operationType": "signals", "operations": []},
        ]
    )  # fmt: skip


def test_get_user_operations_original_call_is_oldest_first_and_complete(client, db, user, other_user):
    _logs(db, user, other_user)
    db[names.OPERATIONS].insert_many(
        [{"user": user.id, "operationTime": 1000.0 + i, "operations": []} for i in range(150)]
    )
    response = client.post("/glimpse/getUserOperations", json={"userKey": user.token, "userId": user.id})
    assert response.status_code == 200
    times = [o["operationTime"] for o in response.json]
    assert len(times) == 153  # every session, not the first 100
    assert times[:3] == [100.0, 200.0, 300.0] and times == sorted(times)
    assert "X-Glimpse-Next" not in response.headers


def test_get_user_operations_pages_newest_first(client, db, user, other_user):
    _logs(db, user, other_user)
    first = client.post("/glimpse/getUserOperations", json={"limit": 2}, headers=user.headers)
    assert [o["session"] for o in first.json] == ["c", "b"]
    cursor = first.headers["X-Glimpse-Next"]
    second = client.post(
        "/glimpse/getUserOperations", json={"limit": 2, "cursor": cursor}, headers=user.headers
    )
    assert [o["session"] for o in second.json] == ["a"]
    assert "X-Glimpse-Next" not in second.headers
    bad = client.post("/glimpse/getUserOperations", json={"cursor": "garbage!"}, headers=user.headers)
    assert bad.status_code == 400 and bad.json["field"] == "cursor"
    assert (
        client.post("/glimpse/getUserOperations", json={"limit": 0}, headers=user.headers).status_code == 400
    )
    other = client.post("/glimpse/getUserOperations", json={"userId": other_user.id}, headers=user.headers)
    assert other.status_code == 403


def test_get_user_operations_answers_money_in_reais(client, db, user):
    log_id = operations_log.start(
        db,
        user=user.id,
        session="s1",
        mode="signals",
        strategy=None,
        money={"money": 2.5, "stopLoss": True, "stopLossValue": 10},
        account_type="PRACTICE",
        now=100.0,
    )
    stored = db[names.OPERATIONS].find_one({"_id": log_id})
    assert stored["moneyUnit"] == "cents" and stored["money"] == 250
    for body in ({}, {"limit": 10}):
        shown = client.post("/glimpse/getUserOperations", json=body, headers=user.headers).json[0]
        assert shown["money"] == 2.5 and shown["stoploss"] == 10.0 and "moneyUnit" not in shown


# ------------------------------------------------------------------ checkIq


def test_check_iq_refused_credentials_answer_200_with_the_reason(client, db, user, broker_check):
    broker_check.error = AuthError("invalid_credentials")
    response = client.post(
        "/glimpse/checkIq", json={"userKey": user.token, "email": "a@b.cc", "password": "wrong"}
    )
    assert response.status_code == 200
    assert response.json["res"] == "invalid_credentials"  # the original app's toast: res !== 1
    assert db[names.ACCOUNTS].find_one({"email": user.email})["iqPassword"] == ""
    # A malformed body is still a 4xx naming the field, and the broker is not asked.
    calls = len(broker_check.calls)
    bad = client.post("/glimpse/checkIq", json={"email": "a@b.cc"}, headers=user.headers)
    assert bad.status_code == 400 and bad.json["field"] == "password"
    assert len(broker_check.calls) == calls


def test_check_iq_refusals_still_count_against_the_rate_limit(client, make_user, broker_check):
    guesser = make_user("mallory@example.com")
    broker_check.error = AuthError("invalid credentials")
    answers = [
        client.post(
            "/glimpse/checkIq", json={"email": "victim.iq@example.com", "password": f"guess {i}"},
            headers=guesser.headers,
        )
        for i in range(15)
    ]  # fmt: skip
    refused = [a for a in answers if a.status_code == 200]
    assert refused and all(a.json["res"] == "invalid credentials" for a in refused)
    assert answers[-1].status_code == 429
    assert len(broker_check.calls) == len(refused) < 15


# ------------------------------------------------------------------ updateUser Start


def _update(client, caller, fields: list[str], values: list[Any]):
    return client.post(
        "/glimpse/updateUser", json={"userKey": caller.token, "fields": fields, "values": values}
    )


def test_the_original_apps_start_starts(client, db, user):
    db[names.ACCOUNTS].update_one(
        {"email": user.email}, {"$set": {"iqConnected": True, "iqPassword": "enc1:x"}}
    )
    idle = {"operating": False, "active": "", "money": 0, "operacao": "", "tries": []}
    response = _update(client, user, ["glimpseStatus", "operating"], ["operating", idle])
    assert response.status_code == 200, response.json
    doc = db[names.ACCOUNTS].find_one({"email": user.email})
    assert doc["glimpseStatus"] == "waiting" and doc["waitingSince"] > 0
    assert doc["operating"]["operating"] is False
    # Not off any more: "operating" is not a Start, and a user never sets it.
    assert _update(client, user, ["glimpseStatus"], ["operating"]).status_code == 400
    assert db[names.ACCOUNTS].find_one({"email": user.email})["glimpseStatus"] == "waiting"


def test_the_reference_start_with_waiting_and_operating_starts(client, db, user):
    db[names.ACCOUNTS].update_one(
        {"email": user.email}, {"$set": {"iqConnected": True, "iqPassword": "enc1:x"}}
    )
    idle = {"operating": False, "active": "", "money": 0, "operacao": "", "tries": []}
    assert _update(client, user, ["glimpseStatus", "operating"], ["waiting", idle]).status_code == 200
    assert db[names.ACCOUNTS].find_one({"email": user.email})["glimpseStatus"] == "waiting"


def test_start_by_operating_keeps_the_start_checks(client, db, user):
    # Without broker credentials, the original app's Start is refused like any Start.
    response = _update(client, user, ["glimpseStatus"], ["operating"])
    assert response.status_code == 409 and response.json["field"] == "glimpseStatus"
    # `operating` alone, or with a Stop, stays the server's field.
    assert _update(client, user, ["operating"], [{}]).status_code == 403
    db[names.ACCOUNTS].update_one({"email": user.email}, {"$set": {"glimpseStatus": "operating"}})
    response = _update(client, user, ["glimpseStatus", "operating"], ["stopping", {}])
    assert response.status_code == 403 and response.json["field"] == "operating"
    assert db[names.ACCOUNTS].find_one({"email": user.email})["glimpseStatus"] == "operating"
