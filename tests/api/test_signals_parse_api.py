"""parseSignals and insertSignals {text}: a pasted list read by the core parser (issue 15).

The test clock is Monday 2024-06-03, 10:00 in São Paulo (GLIMPSE_TZ).
"""

from __future__ import annotations

from glimpse.store import db as names

# The way Brazilian Telegram channels post a list: header, zone note, emoji, gale hints, footer.
TELEGRAM_LIST = """🚨 LISTA VIP M5 - 03/06 🚨
Horário de Brasília (UTC-3)

🇪🇺🇺🇸 EUR/USD - 14:30 - 🔼 COMPRA (proteção 1 gale)
GBPUSD;14:35;PUT
⏰ 14:40 - USDJPY - ⬇️ VENDA
EURUSD 15:00 ACIMA ✅
XXXYYY 15:05 CALL
EURUSD 15:10
EURUSD 09:00 CALL
EURUSD 14:30 CALL
M15;AUDCAD;15:20;CALL
M30;EURUSD;15:25;PUT

Evitem entrar fora do horário!
#sinais"""


def _parse(client, caller, text: str):
    return client.post("/glimpse/parseSignals", json={"text": text}, headers=caller.headers)


def test_parse_signals_reads_a_telegram_list_without_storing_it(client, db, user):
    response = _parse(client, user, TELEGRAM_LIST)
    assert response.status_code == 200
    body = response.json
    assert set(body) == {"signals", "rejected", "ignored"}
    signals = [
        (s["line"], s["ativo"], s["hora"], s["operacao"], s["expiry"], s["gale"]) for s in body["signals"]
    ]
    assert signals == [
        (4, "EURUSD", "14:30", "call", 5, 1),
        (5, "GBPUSD", "14:35", "put", 5, None),
        (6, "USDJPY", "14:40", "put", 5, None),
        (7, "EURUSD", "15:00", "call", 5, None),
        (10, "EURUSD", "09:00", "call", 5, None),
        (12, "AUDCAD", "15:20", "call", 15, None),
    ]
    # The parser reads the clock through the API: 09:00 has gone by at 10:00 in São Paulo.
    assert [s["past"] for s in body["signals"]] == [False, False, False, False, True, False]
    rejected = {r["line"]: r for r in body["rejected"]}
    assert {line: r["code"] for line, r in rejected.items()} == {
        8: "noPair",
        9: "noDirection",
        11: "duplicate",
        13: "expiry",
    }
    assert all(r["reason"] for r in body["rejected"])
    assert rejected[11]["first_line"] == 4 and rejected[13]["detail"] == "M30"
    assert {i["line"] for i in body["ignored"]} == {1, 2, 3, 14, 15, 16}
    assert db[names.SIGNALS].find_one({"user": user.id}) is None


def test_parse_signals_moves_a_declared_zone_to_the_market_clock(client, user):
    body = _parse(client, user, "UTC-5\nEURUSD 12:30 CALL").json
    assert [(s["hora"], s["utc_offset"]) for s in body["signals"]] == [("14:30", -300)]


def test_parse_signals_access_and_validation(client, user, manager):
    assert client.post("/glimpse/parseSignals", json={"text": "EURUSD 14:30 CALL"}).status_code == 401
    bad_token = {"Authorization": "Bearer nope"}
    assert client.post("/glimpse/parseSignals", json={"text": "x"}, headers=bad_token).status_code == 401
    assert _parse(client, manager, "EURUSD 14:30 CALL").status_code == 403
    for body, field in (
        ({}, "text"),
        ({"text": ""}, "text"),
        ({"text": 5}, "text"),
        ({"text": "x" * 50_001}, "text"),
    ):
        response = client.post("/glimpse/parseSignals", json=body, headers=user.headers)
        assert response.status_code == 400 and response.json["field"] == field, body
    # Nothing a trader can paste is a 5xx: only lines that are rejected.
    odd = _parse(client, user, "\u0000\n99:99 EURUSD CALL\n🔼🔽\n" + "EURUSD " * 2000)
    assert odd.status_code == 200 and odd.json["rejected"]


def test_insert_signals_from_text_stores_expiry_and_gale(client, db, user):
    response = client.post(
        "/glimpse/insertSignals", json={"text": TELEGRAM_LIST, "type": "user"}, headers=user.headers
    )
    assert response.status_code == 200
    body = response.json
    assert body["res"] == 1 and body["exists"] is False
    stored = db[names.SIGNALS].find_one({"user": user.id})["signals"]
    assert [(r["ativo"], r["hora"], r["operacao"], r.get("expiry"), r.get("gale")) for r in stored] == [
        ("EURUSD", "14:30", "call", 5, 1),
        ("GBPUSD", "14:35", "put", 5, None),
        ("USDJPY", "14:40", "put", 5, None),
        ("EURUSD", "15:00", "call", 5, None),
        ("AUDCAD", "15:20", "call", 15, None),
    ]
    assert all(r["status"] == "active" and r["resultado"] == "" and r["id"] for r in stored)
    assert len({r["id"] for r in stored}) == len(stored)
    # Each line left out, with its reason: the parser's rejections and the signal whose time went by.
    rejected = {r["line"]: r for r in body["rejected"]}
    assert {line: r["code"] for line, r in rejected.items()} == {
        8: "noPair",
        9: "noDirection",
        10: "past",
        11: "duplicate",
        13: "expiry",
    }
    assert all(r["field"] == "text" and r["index"] == r["line"] - 1 and r["reason"] for r in body["rejected"])
    assert rejected[10]["text"] == "EURUSD 09:00 CALL" and rejected[10]["detail"] == "09:00"
    # getSignals gives the app the expiry and gale back.
    listed = client.post("/glimpse/getSignals", json={}, headers=user.headers).json[0]["signals"]
    assert listed[0]["expiry"] == 5 and listed[0]["gale"] == 1


def test_insert_signals_from_text_refuses_another_days_list_and_keeps_the_old_one(client, db, user):
    first = client.post("/glimpse/insertSignals", json={"text": "EURUSD 14:30 CALL"}, headers=user.headers)
    assert first.json["res"] == 1
    tomorrow = client.post(
        "/glimpse/insertSignals", json={"text": "LISTA 04/06\nGBPUSD 11:00 PUT\nEURUSD 11:05 CALL"},
        headers=user.headers,
    )  # fmt: skip
    assert tomorrow.status_code == 200
    assert tomorrow.json["res"] == 0 and tomorrow.json["exists"] is True
    assert [(r["line"], r["code"]) for r in tomorrow.json["rejected"]] == [(2, "otherDay"), (3, "otherDay")]
    stored = db[names.SIGNALS].find_one({"user": user.id})["signals"]
    assert [(r["ativo"], r["hora"]) for r in stored] == [("EURUSD", "14:30")]
