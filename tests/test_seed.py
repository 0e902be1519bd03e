"""The seed data in collections/ and `glimpse.store.seed.seed_database`."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from bson import Decimal128, ObjectId, json_util

from glimpse.rules.pairs import PAIR_NAMES, PAIRS
from glimpse.runtime.security import is_hashed, verify_password
from glimpse.store import db as names
from glimpse.store.accounts import SETTING_AMOUNTS, new_account
from glimpse.store.seed import (
    COLLECTIONS_DIR,
    DEMO_CODES,
    DEMO_LOGINS,
    SeedError,
    collection_files,
    load_collection,
    seed_database,
)

EXPECTED_COLLECTIONS = {
    "Accounts", "ActivesSchedule", "AllSignals", "Auxiliar", "Codes", "ManagerAccounts", "ManagerAudit",
    "OpenedActives", "Operations", "RealtimeCandles", "Servers", "ServerStatus", "Signals", "Strategies",
    "Questions",
}  # fmt: skip
DAYS = ("segunda", "terca", "quarta", "quinta", "sexta", "sabado", "domingo")  # Python weekday() order
WEDNESDAY, FRIDAY, SATURDAY, SUNDAY = 2, 4, 5, 6


def seed_docs(collection: str) -> list[dict]:
    return load_collection(COLLECTIONS_DIR / f"{collection}.json")


def snapshot(db) -> dict[str, list[dict]]:
    return {
        name: sorted(db[name].find(), key=lambda doc: str(doc["_id"]))
        for name in collection_files(COLLECTIONS_DIR)
    }


# --- the files ------------------------------------------------------------------------------------


def test_the_collection_files_are_exactly_the_expected_set():
    # TestCandles.json is generated later from the paper market; it may or may not be there.
    assert set(collection_files(COLLECTIONS_DIR)) - {"TestCandles"} == EXPECTED_COLLECTIONS


@pytest.mark.parametrize("collection", sorted(EXPECTED_COLLECTIONS))
def test_every_file_is_an_extended_json_array(collection):
    text = (COLLECTIONS_DIR / f"{collection}.json").read_text(encoding="utf-8")
    documents = json_util.loads(text)
    assert isinstance(documents, list)
    assert all(isinstance(doc, dict) for doc in documents)
    # mongoimport --jsonArray reads plain JSON too.
    assert isinstance(json.loads(text), list)


def test_load_collection_reads_canonical_and_relaxed_extended_json(tmp_path):
    oid = "65f0a1b2c3d4e5f6a7b8c9d0"
    path = tmp_path / "Things.json"
    path.write_text(
        json.dumps(
            [
                {"_id": {"$oid": oid}, "when": {"$date": "2024-06-03T13:00:00Z"}},
                {
                    "_id": {"$oid": "65f0a1b2c3d4e5f6a7b8c9d1"},
                    "when": {"$date": {"$numberLong": "1717419600000"}},
                },
            ]
        )
    )
    first, second = load_collection(path)
    assert first["_id"] == ObjectId(oid)
    assert isinstance(first["when"], datetime) and first["when"].year == 2024
    assert second["when"] == first["when"]


def test_load_collection_rejects_a_file_that_is_not_an_array_of_documents(tmp_path):
    path = tmp_path / "Broken.json"
    path.write_text('{"name": "not a list"}')
    with pytest.raises(SeedError, match="Broken.json"):
        load_collection(path)
    path.write_text("[1, 2]")
    with pytest.raises(SeedError, match="Broken.json"):
        load_collection(path)


# --- ActivesSchedule ------------------------------------------------------------------------------


def is_open(schedule: dict, weekday: int, hhmm: int) -> bool:
    """Reference reading of the convention: start <= HHMM <= end, both inclusive; [0, 0] is no window."""
    return any(window != [0, 0] and window[0] <= hhmm <= window[1] for window in schedule[DAYS[weekday]])


def schedules() -> dict[str, dict]:
    return {doc["ativo"]: doc for doc in seed_docs("ActivesSchedule")}


def valid_hhmm(value) -> bool:
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and 0 <= value // 100 <= 23
        and 0 <= value % 100 <= 59
    )


def test_every_pair_has_exactly_one_schedule():
    ativos = [doc["ativo"] for doc in seed_docs("ActivesSchedule")]
    assert sorted(ativos) == sorted(PAIR_NAMES)
    assert len(ativos) == len(set(ativos)) == 31


def test_every_schedule_window_is_well_formed():
    for ativo, doc in schedules().items():
        assert set(doc) == {"ativo", *DAYS}, ativo
        for day in DAYS:
            windows = doc[day]
            assert isinstance(windows, list) and len(windows) == 2, (ativo, day)
            for window in windows:
                assert isinstance(window, list) and len(window) == 2, (ativo, day, window)
                start, end = window
                assert valid_hhmm(start) and valid_hhmm(end), (ativo, day, window)
                assert start <= end, (ativo, day, window)


def test_forex_trades_on_weekdays_and_otc_on_the_weekend():
    for ativo, doc in schedules().items():
        if PAIRS[ativo].otc:
            assert is_open(doc, SATURDAY, 1200), ativo
            assert not is_open(doc, WEDNESDAY, 1200), ativo
        else:
            assert is_open(doc, WEDNESDAY, 1200), ativo
            assert not is_open(doc, SATURDAY, 1200), ativo


def test_the_forex_week_opens_sunday_evening_closes_friday_afternoon_and_breaks_at_rollover():
    for ativo, doc in schedules().items():
        if PAIRS[ativo].otc:
            continue
        assert not is_open(doc, SUNDAY, 1200) and is_open(doc, SUNDAY, 2100), ativo
        assert is_open(doc, FRIDAY, 1200) and not is_open(doc, FRIDAY, 2000), ativo
        for weekday in range(4):  # Monday to Thursday: a pause around the 17:00 New York rollover
            assert any(not is_open(doc, weekday, hhmm) for hhmm in range(1700, 2000)), (ativo, weekday)
            assert is_open(doc, weekday, 1000) and is_open(doc, weekday, 2200), (ativo, weekday)


def test_each_otc_variant_covers_exactly_the_minutes_its_forex_pair_is_closed():
    table = schedules()
    for ativo in PAIR_NAMES:
        if not PAIRS[ativo].otc:
            continue
        otc, forex = table[ativo], table[PAIRS[ativo].base]
        for weekday in range(7):
            for minute in range(24 * 60):
                hhmm = (minute // 60) * 100 + minute % 60
                assert is_open(otc, weekday, hhmm) != is_open(forex, weekday, hhmm), (ativo, weekday, hhmm)


def test_opened_actives_has_one_closed_entry_per_pair():
    docs = seed_docs("OpenedActives")
    assert sorted(doc["ativo"] for doc in docs) == sorted(PAIR_NAMES)
    assert all(doc == {"ativo": doc["ativo"], "open": "False", "payout": 0} for doc in docs)


# --- accounts, codes, strategies, auxiliar -------------------------------------------------------


def walk(value, path=""):
    """(path, key, value) for every field of every nested document."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield path, key, item
            yield from walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk(item, f"{path}[{index}]")


def test_no_document_holds_a_plaintext_password():
    password_fields = 0
    for collection in EXPECTED_COLLECTIONS:
        for doc in seed_docs(collection):
            for path, key, value in walk(doc):
                if key == "password":
                    password_fields += 1
                    assert is_hashed(value) and value.startswith("$argon2id$v=19$"), (collection, path)
                if key == "iqPassword":
                    assert value == "", (collection, path)
    assert password_fields == 2  # the demo user and the admin


def test_the_published_demo_passwords_appear_nowhere_in_the_seed_data():
    for path in COLLECTIONS_DIR.glob("*.json"):
        text = path.read_text(encoding="utf-8")
        for _, _, password in DEMO_LOGINS:
            assert password not in text, path.name


def test_the_published_demo_logins_match_the_seeded_hashes():
    logins = {(role, email): password for role, email, password in DEMO_LOGINS}
    assert {role for role, _ in logins} == {"user", "manager"}
    users = {doc["email"]: doc for doc in seed_docs("Accounts")}
    managers = {doc["user"]: doc for doc in seed_docs("ManagerAccounts")}
    for (role, email), password in logins.items():
        stored = (users if role == "user" else managers)[email]["password"]
        assert verify_password(stored, password), email
        assert not verify_password(stored, password + "x"), email


def test_the_demo_user_has_the_shape_of_a_new_account():
    (demo,) = seed_docs("Accounts")
    reference = new_account("Name", "x@example.com", "hash", 0.0)
    assert set(demo) == set(reference)
    assert demo["email"] == demo["email"].lower() == "demo@glimpse.local"
    assert demo["premiumDays"] == 9999
    assert demo["readTerms"] is False
    assert demo["preferedPayout"] == "> 85"
    assert (
        demo["strategySettings"]["money"] == Decimal128("2.00")
        and demo["strategySettings"]["galeType"] == "sobra"
    )
    assert set(demo["strategySettings"]) == set(reference["strategySettings"])
    for settings in (demo["strategySettings"], demo["signalSettings"], reference["strategySettings"]):
        # Money settings are stored exactly, like a new account's: never as floats or bare numbers.
        assert all(isinstance(settings[name], Decimal128) for name in SETTING_AMOUNTS)
    assert demo["glimpseStatus"] == "off" and demo["iqEmail"] == "" and demo["iqPassword"] == ""
    strategy_names = {doc["name"] for doc in seed_docs("Strategies")}
    assert demo["strategy"] == "Glimpse Baixo Risco"
    assert set(demo["ownedStrategies"]) <= strategy_names and demo["strategy"] in demo["ownedStrategies"]


def test_the_admin_has_the_original_manager_fields():
    (admin,) = seed_docs("ManagerAccounts")
    assert set(admin) == {"user", "password", "name"}
    assert admin["user"] == admin["user"].lower() and admin["name"]


def test_codes_are_valid_unused_and_published():
    codes = seed_docs("Codes")
    assert 3 <= len(codes) <= 10
    for doc in codes:
        assert doc == {"code": doc["code"], "valid": True, "usedBy": "", "usedWhen": 0, "premiumDays": 30}
    assert sorted(doc["code"] for doc in codes) == sorted(DEMO_CODES)
    assert len(set(DEMO_CODES)) == len(DEMO_CODES)


def test_strategies_are_well_formed():
    strategies = seed_docs("Strategies")
    by_name = {doc["name"]: doc for doc in strategies}
    assert by_name["Glimpse Baixo Risco"] == {
        "name": "Glimpse Baixo Risco",
        "nameKey": "glimpse baixo risco",
        "createdBy": "Glimpse",
        "sequence": "-1,-1,-1,-1,-1,-1,-1,-1,-1",
        "operation": "call",
        "mirror": True,
    }
    assert len(strategies) >= 4
    for doc in strategies:
        assert doc["nameKey"] == doc["name"].casefold()
        assert len(doc["name"]) <= 20 and doc["createdBy"] == "Glimpse"
        sequence = doc["sequence"].split(",")
        assert 3 <= len(sequence) <= 12 and set(sequence) <= {"1", "-1", "0"}, doc["name"]
        assert doc["operation"] in ("call", "put") and isinstance(doc["mirror"], bool)
    assert len({doc["nameKey"] for doc in strategies}) == len(strategies)
    assert len({doc["sequence"] for doc in strategies}) == len(strategies)


def test_auxiliar_holds_terms_names_version_and_maintenance():
    aux = {doc["name"]: doc for doc in seed_docs("Auxiliar")}
    assert set(aux) == {"Terms", "randomNames", "appVersion", "Maintenance"}
    assert "analysisAccount" not in aux
    terms = aux["Terms"]["value"]
    assert terms.lstrip().startswith("<") and len(terms) > 2000
    for phrase in (
        "opções binárias",
        "risco",
        "sua própria conta",
        "garantia",
        "Lei Geral de Proteção de Dados",
    ):
        assert phrase in terms, phrase
    pools = aux["randomNames"]["value"]
    for pool in (pools["name"], pools["sourname"]):
        assert len(pool) >= 40 and len(set(pool)) == len(pool)
        assert all(isinstance(n, str) and n.strip() == n and n for n in pool)
    assert isinstance(aux["appVersion"]["value"], str) and aux["appVersion"]["value"]
    assert aux["Maintenance"]["value"] is False
    assert all(doc.get("description") for doc in aux.values())


@pytest.mark.parametrize("collection", ["AllSignals", "ManagerAudit", "Operations", "RealtimeCandles",
                                        "Servers", "ServerStatus", "Signals", "Questions"])  # fmt: skip
def test_runtime_collections_start_empty(collection):
    assert seed_docs(collection) == []


# --- seed_database ----------------------------------------------------------------------------------


def test_seeding_inserts_every_document(db):
    report = seed_database(db)
    for collection, path in collection_files(COLLECTIONS_DIR).items():
        expected = len(load_collection(path))
        assert report.inserted[collection] == expected == db[collection].count_documents({}), collection
    assert report.skipped_demo == []
    assert db[names.ACCOUNTS].find_one({"email": "demo@glimpse.local"})["premiumDays"] == 9999


def test_seeding_twice_changes_nothing(db):
    seed_database(db)
    before = snapshot(db)
    report = seed_database(db)
    assert report.total_inserted == 0
    assert sum(report.existing.values()) == sum(len(docs) for docs in before.values()) > 0
    assert snapshot(db) == before


def test_seeding_never_overwrites_user_changes_but_reset_restores_them(db):
    seed_database(db)
    original = db[names.STRATEGIES].find_one({"nameKey": "glimpse baixo risco"}, {"_id": 0})
    db[names.STRATEGIES].update_one({"nameKey": "glimpse baixo risco"}, {"$set": {"sequence": "1,1,1"}})
    db[names.ACCOUNTS].update_one({"email": "demo@glimpse.local"}, {"$set": {"premiumDays": 3}})
    db[names.CODES].insert_one({"code": "EXTRA", "valid": True})

    seed_database(db)
    assert db[names.STRATEGIES].find_one({"nameKey": "glimpse baixo risco"})["sequence"] == "1,1,1"
    assert db[names.ACCOUNTS].find_one({"email": "demo@glimpse.local"})["premiumDays"] == 3

    report = seed_database(db, reset=True)
    assert db[names.STRATEGIES].find_one({"nameKey": "glimpse baixo risco"}, {"_id": 0}) == original
    assert db[names.ACCOUNTS].find_one({"email": "demo@glimpse.local"})["premiumDays"] == 9999
    assert db[names.CODES].find_one({"code": "EXTRA"}) is None
    assert report.inserted[names.STRATEGIES] == len(seed_docs("Strategies"))


def test_reset_recreates_the_unique_indexes(db):
    seed_database(db, reset=True)
    index_names = {index["name"] for index in db[names.STRATEGIES].list_indexes()}
    assert "nameKey_unique" in index_names
    with pytest.raises(Exception, match="[Dd]uplicate"):
        db[names.STRATEGIES].insert_one({"name": "GLIMPSE BAIXO RISCO", "nameKey": "glimpse baixo risco"})


def test_without_demo_the_published_logins_and_codes_are_skipped_and_the_rest_seeded(db):
    report = seed_database(db, allow_demo=False)
    skipped = set(report.skipped_demo)
    assert (names.ACCOUNTS, "demo@glimpse.local") in skipped
    assert (names.MANAGER_ACCOUNTS, "admin@glimpse.local") in skipped
    assert {key for collection, key in skipped if collection == names.CODES} == set(DEMO_CODES)
    assert db[names.ACCOUNTS].count_documents({}) == 0
    assert db[names.MANAGER_ACCOUNTS].count_documents({}) == 0
    assert db[names.CODES].count_documents({}) == 0
    for collection in ("Strategies", "ActivesSchedule", "OpenedActives", "Auxiliar"):
        assert db[collection].count_documents({}) == len(seed_docs(collection)) > 0, collection


def test_without_demo_an_account_with_another_password_is_seeded(db, tmp_path):
    from glimpse.runtime.security import hash_password

    real = {"user": "ops@example.com", "password": hash_password("a real secret", "test"), "name": "Ops"}
    demo = {
        "user": "admin@glimpse.local",
        "password": hash_password(DEMO_LOGINS[1][2], "test"),
        "name": "Demo",
    }
    (tmp_path / "ManagerAccounts.json").write_text(json_util.dumps([real, demo]))
    report = seed_database(db, collections_dir=tmp_path, allow_demo=False)
    assert report.skipped_demo == [(names.MANAGER_ACCOUNTS, "admin@glimpse.local")]
    assert [doc["user"] for doc in db[names.MANAGER_ACCOUNTS].find()] == ["ops@example.com"]


def test_every_file_in_the_folder_is_seeded_by_its_natural_key(db, tmp_path):
    candles = [{"ativo": "EURUSD", "candles": "+-0+"}, {"ativo": "GBPUSD", "candles": "--++"}]
    (tmp_path / "TestCandles.json").write_text(json.dumps(candles))
    oid = ObjectId()
    (tmp_path / "Questions.json").write_text(json_util.dumps([{"_id": oid, "question": "?"}]))
    assert seed_database(db, collections_dir=tmp_path).inserted == {"TestCandles": 2, "Questions": 1}

    db[names.TEST_CANDLES].update_one({"ativo": "EURUSD"}, {"$set": {"candles": "changed"}})
    assert seed_database(db, collections_dir=tmp_path).inserted == {"TestCandles": 0, "Questions": 0}
    assert db[names.TEST_CANDLES].find_one({"ativo": "EURUSD"})["candles"] == "changed"
    assert db[names.QUESTIONS].find_one({"_id": oid})["question"] == "?"


def test_a_document_without_its_key_is_refused_before_anything_is_touched(db, tmp_path):
    db[names.CODES].insert_one({"code": "KEEP"})
    (tmp_path / "Codes.json").write_text(json.dumps([{"code": "A"}, {"valid": True}]))
    with pytest.raises(SeedError, match="Codes.json: document 1 has no 'code'"):
        seed_database(db, collections_dir=tmp_path, reset=True)
    assert [doc["code"] for doc in db[names.CODES].find()] == ["KEEP"]


def test_an_empty_folder_is_an_error(db, tmp_path):
    with pytest.raises(SeedError, match="no collections files"):
        seed_database(db, collections_dir=tmp_path)
