"""Strategies, signal lists, operations, and the manager routes."""

from __future__ import annotations

from typing import Any

from glimpse.store import db as names

STRATEGY = {
    "name": "Tres Vermelhas",
    "createdBy": "ignored",
    "sequence": "-1,-1,-1",
    "operation": "call",
    "mirror": False,
}


def _owned(db, caller):
    return db[names.ACCOUNTS].find_one({"email": caller.email})["ownedStrategies"]


def test_create_strategy_records_the_author_and_owner(client, db, user):
    response = client.post("/glimpse/createStrategy", json=STRATEGY, headers=user.headers)
    assert response.json == {"res": 1}
    doc = db[names.STRATEGIES].find_one({"name": "Tres Vermelhas"})
    assert doc["createdBy"] == "Ana Silva" and doc["owner"] == user.id and doc["nameKey"] == "tres vermelhas"
    assert "Tres Vermelhas" in _owned(db, user)
    listed = client.post("/glimpse/getStrategies", json={}, headers=user.headers).json
    assert [s["name"] for s in listed] == ["Tres Vermelhas"]
    assert "owner" not in listed[0] and "nameKey" not in listed[0]


def test_strategy_names_are_unique_without_regard_to_case(client, db, user, other_user):
    client.post("/glimpse/createStrategy", json=STRATEGY, headers=user.headers)
    assert client.post(
        "/glimpse/createStrategy", json=dict(STRATEGY, name="TRES vermelhas"), headers=other_user.headers
    ).json == {"res": 0}
    assert "TRES vermelhas" not in _owned(db, other_user)
    # No regex: a substring, or regex metacharacters, are just names.
    assert client.post(
        "/glimpse/createStrategy", json=dict(STRATEGY, name="Vermelhas"), headers=other_user.headers
    ).json == {"res": 1}
    assert client.post(
        "/glimpse/createStrategy", json=dict(STRATEGY, name="(.*"), headers=other_user.headers
    ).json == {"res": 1}


def test_glimpse_names_are_reserved_for_managers(client, db, user, manager):
    response = client.post(
        "/glimpse/createStrategy", json=dict(STRATEGY, name="My gLiMpSe"), headers=user.headers
    )
    assert response.status_code == 400 and response.json["field"] == "name"
    assert client.post(
        "/glimpse/createStrategy", json=dict(STRATEGY, name="Glimpse Novo"), headers=manager.headers
    ).json == {"res": 1}
    doc = db[names.STRATEGIES].find_one({"name": "Glimpse Novo"})
    assert doc["createdBy"] == "Glimpse"
    assert (
        db[names.MANAGER_AUDIT].find_one({"target": "Glimpse Novo", "didWhat": "createStrategy"})["who"]
        == manager.email
    )
    # Users see Glimpse's strategies.
    assert "Glimpse Novo" in [
        s["name"] for s in client.post("/glimpse/getStrategies", json={}, headers=user.headers).json
    ]


def test_a_user_named_glimpse_cannot_publish_an_official_strategy(client, db, user, other_user):
    assert (
        client.post(
            "/glimpse/updateUser", json={"fields": ["name"], "values": ["Glimpse"]}, headers=user.headers
        ).status_code
        == 200
    )
    assert client.post(
        "/glimpse/createStrategy", json=dict(STRATEGY, name="Impostora"), headers=user.headers
    ).json == {"res": 1}
    doc = db[names.STRATEGIES].find_one({"name": "Impostora"})
    assert doc["createdBy"] == "Trader"
    seen_by_other = [
        s["name"] for s in client.post("/glimpse/getStrategies", json={}, headers=other_user.headers).json
    ]
    assert "Impostora" not in seen_by_other


def test_strategy_validation(client, user):
    for field, value in (("sequence", "-1,-1"), ("sequence", "1,2,1"), ("sequence", ",".join(["1"] * 13)), ("name", "ab"),
                         ("name", "x" * 21), ("operation", "buy"), ("mirror", "yes")):  # fmt: skip
        response = client.post(
            "/glimpse/createStrategy", json=dict(STRATEGY, **{field: value}), headers=user.headers
        )
        assert response.status_code == 400 and response.json["field"] == field, (field, value)


def test_edit_strategy_only_by_its_creator_or_a_manager(client, db, user, other_user, manager):
    client.post("/glimpse/createStrategy", json=STRATEGY, headers=user.headers)
    change = dict(STRATEGY, sequence="1,1,1,1", operation="put", mirror=True)
    denied = client.post("/glimpse/editStrategy", json=change, headers=other_user.headers)
    assert denied.status_code == 403
    assert db[names.STRATEGIES].find_one({"name": "Tres Vermelhas"})["sequence"] == "-1,-1,-1"
    assert client.post("/glimpse/editStrategy", json=change, headers=user.headers).json == {"res": 1}
    doc = db[names.STRATEGIES].find_one({"name": "Tres Vermelhas"})
    assert (doc["sequence"], doc["operation"], doc["mirror"]) == ("1,1,1,1", "put", True)
    assert client.post(
        "/glimpse/editStrategy", json=dict(change, sequence="0,0,0"), headers=manager.headers
    ).json == {"res": 1}
    assert db[names.MANAGER_AUDIT].count_documents({"didWhat": "editStrategy"}) == 1
    assert client.post(
        "/glimpse/editStrategy", json=dict(change, name="Nobody Has It"), headers=user.headers
    ).json == {"res": 0}


def test_test_candles(client, db, user, manager):
    db[names.TEST_CANDLES].insert_one({"ativo": "EURUSD", "candles": "+-0+"})
    assert client.post("/glimpse/getTestCandles", json={}, headers=user.headers).json[0]["candles"] == "+-0+"
    assert client.post("/glimpse/getTestCandlesAnnually", json={}, headers=manager.headers).json == []


SIGNALS: dict[str, Any] = {
    "signals": [
        {"status": "active", "ativo": "EURUSD", "hora": "14:30", "operacao": "call", "resultado": ""},
        {"ativo": "GBPUSD-OTC", "hora": "14:30", "operacao": "put"},
    ],
    "type": "user",
}


def test_signals_belong_to_their_user(client, db, user, other_user):
    assert client.post("/glimpse/getSignals", json={"user": user.id}, headers=user.headers).json == []
    first = client.post("/glimpse/insertSignals", json=dict(SIGNALS, user=user.id), headers=user.headers).json
    assert first == {"res": 1, "exists": False, "rejected": []}
    assert client.post("/glimpse/insertSignals", json=SIGNALS, headers=user.headers).json == {
        "res": 1,
        "exists": True,
        "rejected": [],
    }
    lists = client.post("/glimpse/getSignals", json={"user": user.id}, headers=user.headers).json
    assert len(lists) == 1 and lists[0]["user"] == user.id and lists[0]["type"] == "user"
    rows = lists[0]["signals"]
    assert [(s["ativo"], s["status"], s["resultado"]) for s in rows] == [
        ("EURUSD", "active", ""),
        ("GBPUSD-OTC", "active", ""),
    ]
    assert len({s["id"] for s in rows}) == 2
    # Another user's list: 403 both ways, and their list is untouched.
    assert (
        client.post("/glimpse/getSignals", json={"user": user.id}, headers=other_user.headers).status_code
        == 403
    )
    assert (
        client.post(
            "/glimpse/insertSignals", json=dict(SIGNALS, user=user.id), headers=other_user.headers
        ).status_code
        == 403
    )
    assert client.post("/glimpse/getSignals", json={}, headers=other_user.headers).json == []


def test_update_signal_changes_only_that_row(client, db, user, other_user):
    client.post("/glimpse/insertSignals", json=SIGNALS, headers=user.headers)
    rows = db[names.SIGNALS].find_one({"user": user.id})["signals"]
    target = rows[1]["id"]
    assert client.post(
        "/glimpse/updateSignal", json={"id": target, "status": "canceled"}, headers=user.headers
    ).json == {"res": 1}
    after = db[names.SIGNALS].find_one({"user": user.id})["signals"]
    assert [s["status"] for s in after] == ["active", "canceled"]  # same hora, only one row changed
    assert client.post(
        "/glimpse/updateSignal", json={"id": target, "status": "canceled"}, headers=other_user.headers
    ).json == {"res": 0}
    db[names.SIGNALS].update_one(
        {"user": user.id}, {"$set": {"signals.0.status": "result", "signals.0.resultado": "win"}}
    )
    assert client.post(
        "/glimpse/updateSignal", json={"id": rows[0]["id"], "status": "active"}, headers=user.headers
    ).json == {"res": 0}


def test_signal_validation(client, user):
    for change, field in (({"ativo": "XXXYYY"}, "signals.0.ativo"), ({"hora": "25:00"}, "signals.0.hora"),
                          ({"operacao": "buy"}, "signals.0.operacao"), ({"resultado": "maybe"}, "signals.0.resultado")):  # fmt: skip
        body = {"signals": [dict(SIGNALS["signals"][0], **change)], "type": "user"}
        response = client.post("/glimpse/insertSignals", json=body, headers=user.headers)
        # Issue 16: a bad row is reported on its own (200, res 0: nothing good to store), not a 400.
        assert response.status_code == 200 and response.json["res"] == 0
        assert [(r["index"], r["field"]) for r in response.json["rejected"]] == [(0, field.split(".")[-1])]


def test_operations(client, db, user, other_user, manager):
    db[names.OPERATIONS].insert_many(
        [
            {"user": user.id, "operationTime": 100.0, "operationType": "strategy", "operations": []},
            {"user": user.id, "operationTime": 200.0, "operationType": "signals", "operations": []},
            {"user": other_user.id, "operationTime": 150.0, "operationType": "strategy", "operations": []},
        ]
    )
    mine = client.post("/glimpse/getUserOperations", json={"userId": user.id}, headers=user.headers).json
    assert [o["operationTime"] for o in mine] == [100.0, 200.0]  # the original's order (issue 16)
    assert (
        client.post("/glimpse/getUserOperations", json={"limit": 1}, headers=user.headers).json[0][
            "operationTime"
        ]
        == 200.0
    )
    assert (
        client.post(
            "/glimpse/getUserOperations", json={"userId": other_user.id}, headers=user.headers
        ).status_code
        == 403
    )
    everything = client.post("/glimpse/getAllOperations", json={}, headers=manager.headers).json
    assert [o["operationTime"] for o in everything] == [200.0, 150.0, 100.0]


def test_servers_and_audit(client, db, manager, clock):
    db[names.SERVERS].insert_one(
        {"name": "glimpse_01", "status": "operating", "target": "abc", "uptime": 1.0, "preferential": False}
    )
    assert (
        client.post("/glimpse/getOperatingServers", json={}, headers=manager.headers).json[0]["name"]
        == "glimpse_01"
    )
    body = {"name": "glimpse_01", "status": "waiting", "target": ""}
    assert client.post("/glimpse/updateServer", json=body, headers=manager.headers).json == {"res": 1}
    assert db[names.SERVERS].find_one({"name": "glimpse_01"})["status"] == "waiting"
    assert client.post(
        "/glimpse/updateServer", json=dict(body, name="ghost"), headers=manager.headers
    ).json == {"res": 0}
    audit = client.post("/glimpse/getAudit", json={}, headers=manager.headers).json
    assert audit[0]["didWhat"] == "updateServer" and audit[0]["from"] == {
        "status": "operating",
        "target": "abc",
    }
    assert audit[0]["who"] == manager.email and audit[0]["when"] == clock.now()
    assert client.post(
        "/glimpse/insertAudit",
        json={"who": "forged", "target": "t", "didWhat": "note"},
        headers=manager.headers,
    ).json == {"res": 1}
    assert db[names.MANAGER_AUDIT].find_one({"didWhat": "note"})["who"] == manager.email


def test_server_status_includes_the_api_heartbeat(client, manager, clock):
    statuses = client.post("/glimpse/getServerStatus", json={}, headers=manager.headers).json
    assert {"name": "API", "uptime": clock.now()}.items() <= statuses[0].items()


def test_auxiliar_never_shows_credentials(client, db, manager):
    db[names.AUXILIAR].insert_many(
        [{"name": "Terms", "value": "x"}, {"name": "analysisAccount", "value": "a@b.c/secret"}]
    )
    names_seen = [
        d["name"] for d in client.post("/glimpse/getAuxiliar", json={}, headers=manager.headers).json
    ]
    assert names_seen == ["Terms"]


def test_invite_codes_for_managers(client, db, manager):
    created = client.post(
        "/glimpse/createCodes", json={"count": 3, "premiumDays": 10}, headers=manager.headers
    ).json
    assert created["res"] == 1 and len(set(created["codes"])) == 3
    listed = client.post("/glimpse/getCodes", json={}, headers=manager.headers).json
    assert sorted(c["code"] for c in listed) == sorted(created["codes"])
    assert all(c["valid"] and c["premiumDays"] == 10 for c in listed)
    assert db[names.MANAGER_AUDIT].find_one({"didWhat": "createCodes"})["to"] == {
        "count": 3,
        "premiumDays": 10,
    }
    assert client.post("/glimpse/checkCode", json={"code": created["codes"][0]}).json == {"res": True}


def test_backtest_on_the_stored_month_matches_the_backtester(client, db, user):
    import numpy as np

    from glimpse.backtest.engine import backtest_report

    rng = np.random.default_rng(7)
    strings = {
        pair: "".join(rng.choice(list("+-0"), size=3000, p=[0.49, 0.48, 0.03]))
        for pair in ("EURUSD", "GBPUSD")
    }
    db[names.TEST_CANDLES].insert_many([{"ativo": pair, "candles": text} for pair, text in strings.items()])
    body = {"sequence": "-1,-1,-1", "operation": "call", "mirror": True, "gales": 2}
    response = client.post("/glimpse/backtestStrategy", json=body, headers=user.headers)
    assert response.status_code == 200
    report = response.json
    assert set(report["pairs"]) == {"EURUSD", "GBPUSD"}
    colour = {"+": 1, "-": -1, "0": 0}
    expected = backtest_report(
        {p: np.array([colour[ch] for ch in t], dtype=np.int8) for p, t in strings.items()},
        "-1,-1,-1",
        "call",
        True,
        2,
    )
    assert report == expected
    total = report["total"]
    assert (
        total["signals"] == sum(total["win_at"]) + total["loss"] + total["unresolved"]
        and len(total["win_at"]) == 3
    )
    only = client.post(
        "/glimpse/backtestStrategy", json=dict(body, pairs=["GBPUSD"]), headers=user.headers
    ).json
    assert set(only["pairs"]) == {"GBPUSD"}


def test_backtest_on_the_paper_market_and_without_data(client, db, user):
    response = client.post(
        "/glimpse/backtestStrategy",
        json={"sequence": "1,1", "operation": "put", "gales": 1, "pairs": ["EURUSD"], "days": 1},
        headers=user.headers,
    )
    assert response.status_code == 200 and response.json["pairs"]["EURUSD"]["signals"] > 0
    missing = client.post(
        "/glimpse/backtestStrategy", json={"sequence": "1,1", "operation": "put"}, headers=user.headers
    )
    assert missing.status_code == 404 and missing.json["field"] == "pairs"
    for change, field in (
        ({"gales": 11}, "gales"),
        ({"days": 31}, "days"),
        ({"pairs": ["XYZ"]}, "pairs.0"),
        ({"sequence": "2"}, "sequence"),
    ):
        bad = client.post(
            "/glimpse/backtestStrategy",
            json={"sequence": "1", "operation": "call", **change},
            headers=user.headers,
        )
        assert bad.status_code == 400 and bad.json["field"].startswith(field.split(".")[0]), (
            change,
            bad.json,
        )
