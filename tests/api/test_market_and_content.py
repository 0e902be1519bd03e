"""Market data, broker credentials, the dashboard status, terms, rank, health."""

from __future__ import annotations

from glimpse.store import db as names


def _actives(db):
    db[names.OPENED_ACTIVES].insert_many(
        [
            {"ativo": "EURUSD", "open": "True", "payout": "87"},
            {"ativo": "GBPUSD", "open": "False", "payout": 0},
            {"ativo": "AUDCAD", "open": "True", "payout": "91"},
        ]
    )


def test_ativos_full_and_compact(client, db):
    _actives(db)
    full = client.post("/glimpse/ativos", json={"type": "full"})
    assert full.status_code == 200 and full.mimetype == "application/json"
    assert [a["ativo"] for a in full.json] == ["AUDCAD", "EURUSD", "GBPUSD"]
    assert "$oid" in full.json[0]["_id"]
    compact = client.post("/glimpse/ativos", json={"type": "compact"}).json
    assert [(a["ativo"], a["open"], a["payout"]) for a in compact] == [
        ("AUDCAD", "True", "91"),
        ("EURUSD", "True", "87"),
    ]
    assert client.post("/glimpse/ativos", json={"type": "other"}).json["field"] == "type"


def test_update_ativos_is_a_service_route(client, db, service_headers):
    body = [
        {"ativo": "EURUSD", "open": "True", "payout": 88},
        {"ativo": "EURJPY-OTC", "open": False, "payout": "80"},
    ]
    response = client.post("/glimpse/updateAtivos", json=body, headers=service_headers)
    assert response.status_code == 200 and response.json == {"msg": "Actives updated: 2"}
    docs = {d["ativo"]: d for d in db[names.OPENED_ACTIVES].find()}
    assert docs["EURUSD"]["open"] == "True" and docs["EURUSD"]["payout"] == "88"
    assert docs["EURJPY-OTC"]["open"] == "False" and docs["EURJPY-OTC"]["payout"] == 0


def test_realtime_candles_roundtrip(client, db, service_headers, clock):
    candles = [
        {"o": 1.08 + i / 1e4, "c": 1.0801 + i / 1e4, "h": 1.0803, "l": 1.0799, "from": 1717419000 + 60 * i}
        for i in range(15)
    ]
    response = client.post(
        "/glimpse/updateCandlesRealtime",
        json=[{"ativo": "EURUSD", "candles": candles}],
        headers=service_headers,
    )
    assert response.json == {"res": 1, "updated": 1}
    out = client.get("/glimpse/getCandlesRealtime").json
    assert len(out) == 1 and out[0]["ativo"] == "EURUSD" and out[0]["candles"] == candles
    assert out[0]["lastUpdate"] == int(clock.now() * 1000)


def test_bot_updates_lists_servers(client, db):
    db[names.SERVERS].insert_one(
        {"name": "glimpse_01", "status": "waiting", "target": "", "uptime": 1717419600.5}
    )
    assert client.get("/glimpse/botUpdates").json == [{"botName": "glimpse_01", "lastUpdate": 1717419600500}]


def test_actives_schedule(client, db, user):
    db[names.ACTIVES_SCHEDULE].insert_one({"ativo": "EURUSD", "segunda": [[0, 1759], [1830, 2359]]})
    body = client.post("/glimpse/getActivesSchedule", json={}, headers=user.headers).json
    assert body[0]["ativo"] == "EURUSD" and body[0]["segunda"] == [[0, 1759], [1830, 2359]]


def test_status_combines_user_and_open_pairs(client, db, user, clock):
    _actives(db)
    body = client.post("/glimpse/status", json={}, headers=user.headers).json
    assert body["user"]["email"] == user.email and "password" not in body["user"]
    assert body["ativos"] == [{"ativo": "AUDCAD", "payout": "91"}, {"ativo": "EURUSD", "payout": "87"}]
    assert body["serverTime"] == clock.now() and body["tz"] == "America/Sao_Paulo"


def test_terms_and_random_names(client, db, user):
    db[names.AUXILIAR].insert_many(
        [
            {"name": "Terms", "value": "<h1>Termos</h1>"},
            {"name": "randomNames", "value": {"name": ["Rui"], "sourname": ["Lima"]}},
        ]
    )
    assert client.post("/glimpse/getTerms", json={}).json[0]["value"] == "<h1>Termos</h1>"
    assert client.post("/glimpse/getRandomNames", json={}, headers=user.headers).json[0]["value"]["name"] == [
        "Rui"
    ]


def test_rank_uses_pseudonyms_except_for_the_caller(client, db, user, other_user, make_user):
    db[names.AUXILIAR].insert_one(
        {"name": "randomNames", "value": {"name": ["Rui", "Lia"], "sourname": ["Lima", "Melo"]}}
    )
    # The profit fields are stored in integer cents.
    db[names.ACCOUNTS].update_one(
        {"email": user.email}, {"$set": {"iqPeriodProfit": 1000, "iqPeriodLoss": 200}}
    )
    db[names.ACCOUNTS].update_one(
        {"email": other_user.email}, {"$set": {"iqPeriodProfit": 5000, "iqPeriodLoss": 100}}
    )
    rank = client.post("/glimpse/getRank", json={}, headers=user.headers).json
    assert [r["profit"] for r in rank] == [50, 10]
    assert rank[1] == {"name": "Ana Maria Silva", "profit": 10, "loss": 2, "me": True}
    assert rank[0]["me"] is False and rank[0]["name"] != "Bruno Costa"
    first, last = rank[0]["name"].split()
    assert first in ("Rui", "Lia") and last in ("Lima", "Melo")
    # Stable from one call to the next.
    assert client.post("/glimpse/getRank", json={}, headers=user.headers).json[0]["name"] == rank[0]["name"]


def test_insert_question_records_the_author(client, db, user, manager):
    assert client.post(
        "/glimpse/insertQuestion", json={"question": "Oi?", "who": "someone else"}, headers=user.headers
    ).json == {"res": 1}
    questions = client.post("/glimpse/getQuestions", json={}, headers=manager.headers).json
    assert questions[0]["who"] == user.email and questions[0]["question"] == "Oi?"


def test_ping_health_openapi(client, db, clock):
    assert client.get("/glimpse/ping").data == b"pong"
    db[names.SERVER_STATUS].insert_many(
        [{"name": "Lister", "uptime": clock.now() - 1}, {"name": "Old", "uptime": clock.now() - 60}]
    )
    health = client.get("/glimpse/health").json
    assert health["database"] == "ok"
    assert {s["name"]: s["alive"] for s in health["services"]} == {"Lister": True, "Old": False}
    doc = client.get("/glimpse/openapi.json").json
    assert doc["openapi"].startswith("3.") and "/glimpse/getUser" in doc["paths"]


def test_health_reports_an_unreachable_database(config, clock):
    from api import create_app

    class DownDatabase:
        def command(self, name):
            import pymongo

            raise pymongo.errors.ServerSelectionTimeoutError("no server")

    app = create_app(config, db=DownDatabase(), clock=clock, check_broker_credentials=None)
    response = app.test_client().get("/glimpse/health")
    assert response.status_code == 503 and (response.json or {})["database"] == "unreachable"


def test_cors_allows_the_app_origin(client):
    response = client.options(
        "/glimpse/getUser",
        headers={
            "Origin": "http://localhost:8100",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization",
        },
    )
    assert response.headers.get("Access-Control-Allow-Origin") == "http://localhost:8100"
    other = client.options(
        "/glimpse/getUser",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert other.headers.get("Access-Control-Allow-Origin") is None


def test_status_reports_maintenance(client, db, user):
    assert client.post("/glimpse/status", json={}, headers=user.headers).json["maintenance"] is False
    db[names.AUXILIAR].insert_one({"name": "Maintenance", "value": True})
    assert client.post("/glimpse/status", json={}, headers=user.headers).json["maintenance"] is True


def test_the_built_app_is_served_at_the_root(config, db, clock, tmp_path):
    from api import create_app

    missing = create_app(
        config.with_(web_dist=str(tmp_path / "none")), db=db, clock=clock, check_broker_credentials=None
    )
    response = missing.test_client().get("/")
    assert response.status_code == 404 and "not built" in (response.json or {})["error"]
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<html>Glimpse app</html>")
    (tmp_path / "assets" / "app.js").write_text("console.log(1)")
    app = create_app(config.with_(web_dist=str(tmp_path)), db=db, clock=clock, check_broker_credentials=None)
    c = app.test_client()
    assert b"Glimpse app" in c.get("/").data
    assert c.get("/assets/app.js").data == b"console.log(1)"
    assert b"Glimpse app" in c.get("/home/operations").data  # the app's own routes
    assert (
        c.get("/../../etc/passwd").status_code in (404, 200)
        and b"root:" not in c.get("/../../etc/passwd").data
    )
    assert c.get("/glimpse/nothing").json == {"error": "no such route"}
