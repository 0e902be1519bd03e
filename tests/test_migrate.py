"""`glimpse migrate` on an original Glimpse database (tests/fixtures/original), then the API on it."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from bson import Decimal128, ObjectId

from api import create_app
from glimpse.runtime.security import decrypt_secret, is_hashed
from glimpse.store import db as names
from glimpse.store import migrate as migration
from glimpse.store import signals as signal_store
from glimpse.store import strategies as strategy_store
from glimpse.store.db import new_embedded_database
from glimpse.store.seed import collection_files, load_collection, seed_database
from tests.api.conftest import FakeBrokerCheck

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "original"
ANA, BRUNO, CARLA = "61e5a0c0a1b2c3d4e5f60001", "61e5a0c0a1b2c3d4e5f60002", "61e5a0c0a1b2c3d4e5f60003"
# The original's logins: (what the user types, password).
USERS = (
    ("Ana.Souza@Example.com", "senha-da-ana"),
    ("bruno@example.com", "bruno123"),
    ("carla@example.com", "carla-pw"),
)


def strategy(db: Any, name: str) -> strategy_store.StrategyDoc:
    found = strategy_store.find_by_name(db, name)
    assert found is not None, name
    return found


def load_original(db: Any) -> Any:
    for collection, path in collection_files(FIXTURES).items():
        db[collection].insert_many(load_collection(path))
    return db


@pytest.fixture
def original() -> Any:
    return load_original(new_embedded_database("Glimpse"))


def options(config, **changes: Any) -> migration.Options:
    return migration.Options(secret_key=config.secret_key.get_secret_value(), hash_profile="test", **changes)


def snapshot(db: Any, without: tuple[str, ...] = (migration.MIGRATIONS,)) -> dict[str, list[dict[str, Any]]]:
    return {
        name: sorted(db[name].find({}), key=lambda d: str(d["_id"]))
        for name in sorted(db.list_collection_names())
        if name not in without
    }


def post(client, route: str, body: dict, token: str | None = None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(f"/glimpse/{route}", json=body, headers=headers)


def check_migrated(db: Any, config, clock) -> None:
    """What a switching operator needs: logins, broker links, strategies, signal lists, codes."""
    assert migration.unmigrated_reason(db) is None
    app = create_app(config, db=db, clock=clock, check_broker_credentials=FakeBrokerCheck())
    app.testing = True
    client = app.test_client()

    tokens = {}
    for email, password in USERS:
        answer = post(client, "login", {"email": email, "password": password}).json
        assert answer["res"] == 1, email
        tokens[email.lower()] = answer["token"]
    assert post(client, "login", {"email": "bruno@example.com", "password": "wrong"}).json["res"] == -1
    manager = post(client, "managerLogin", {"email": "admin", "password": "admin"}).json
    assert manager["res"] == 1
    assert db[names.MANAGER_ACCOUNTS].find_one({"user": "admin"})["rol"] == "admin"

    # Secrets: hashed, encrypted, the recovery code gone.
    for doc in db[names.ACCOUNTS].find({}):
        assert is_hashed(doc["password"])
        assert "passwordRecoverCode" not in doc
    ana = db[names.ACCOUNTS].find_one({"_id": ObjectId(ANA)})
    assert ana["email"] == "ana.souza@example.com"
    assert decrypt_secret(config.secret_key.get_secret_value(), ana["iqPassword"]) == "iq-secret-ana"
    assert ana["iqConnected"] is True
    # Money: reais (a float and an int) to integer cents, marked.
    assert (ana["iqPeriodProfit"], ana["iqPeriodLoss"], ana["moneyUnit"]) == (1250, 300, "cents")
    bruno = db[names.ACCOUNTS].find_one({"_id": ObjectId(BRUNO)})
    assert (bruno["iqPeriodProfit"], bruno["iqSessionProfit"]) == (5000, -725)
    user_view = post(client, "getUser", {}, tokens["ana.souza@example.com"]).json
    assert user_view["iqConnected"] is True and user_view["iqPeriodProfit"] == 12.5
    assert "iqPassword" not in user_view
    # Money settings: exact on disk (Decimal128), the same numbers to the app.
    assert (
        ana["strategySettings"]["money"] == Decimal128("10.00")
        and user_view["strategySettings"]["money"] == 10
    )
    for settings in (ana["strategySettings"], bruno["signalSettings"]):
        assert not any(isinstance(value, float) for value in settings.values())

    # The broker link works without checkIq: Start is accepted.
    start = post(
        client,
        "updateUser",
        {"fields": ["glimpseStatus"], "values": ["waiting"]},
        tokens["ana.souza@example.com"],
    )
    assert start.status_code == 200, start.json
    assert db[names.ACCOUNTS].find_one({"_id": ObjectId(ANA)})["glimpseStatus"] == "waiting"

    # Sessions: Bruno was mid-session; the old server is gone.
    assert bruno["glimpseStatus"] == "off" and bruno["operating"]["operating"] is False
    assert db[names.SERVERS].find_one({"name": "glimpse_01"}) is None

    # Strategies: names unique without regard to case; Carla's renamed and still hers.
    carla = db[names.ACCOUNTS].find_one({"_id": ObjectId(CARLA)})
    assert carla["strategy"] == "TENDENCIA BRUNO (2)"
    assert "TENDENCIA BRUNO (2)" in carla["ownedStrategies"]
    assert strategy(db, "tendencia bruno").owner == BRUNO
    assert strategy(db, "TENDENCIA BRUNO (2)").sequence == "1,-1,1"
    assert strategy(db, "TENDENCIA BRUNO (2)").owner == CARLA
    assert strategy(db, "Reversao Ana").owner == ANA
    listed = [s["name"] for s in post(client, "getStrategies", {}, tokens["carla@example.com"]).json]
    assert listed.count("Glimpse Baixo Risco") == 1
    assert "TENDENCIA BRUNO (2)" in listed and "Glimpse Reversão 5" in listed  # the seeded ones added
    # The original's Glimpse strategy stands for the seeded one of the same name (its rule kept).
    assert strategy(db, "Glimpse Baixo Risco").sequence == "-1,-1,-1,-1,-1,-1,-1"
    choose = post(
        client,
        "updateUser",
        {"fields": ["mode", "strategy"], "values": ["strategy", "TENDENCIA BRUNO (2)"]},
        tokens["carla@example.com"],
    )
    assert choose.status_code == 200, choose.json

    # The signal list: in Signals, rows with ids, normalised, the invalid one kept and canceled.
    listed_signals = post(client, "getSignals", {}, tokens["carla@example.com"]).json
    assert len(listed_signals) == 1
    rows = listed_signals[0]["signals"]
    assert [(r["ativo"], r["hora"], r["status"]) for r in rows] == [
        ("EURUSD", "09:30", "active"),
        ("GBPUSD", "10:05", "active"),
        ("EURJPY", "08:00", "result"),
        ("XYZABC", "25:00", "canceled"),
    ]
    assert all(r["id"] for r in rows) and len({r["id"] for r in rows}) == 4
    stored = db[names.SIGNALS].find_one({"user": CARLA})
    assert "unknown pair" in stored["signals"][3]["invalid"]
    assert stored["signals"][3]["original"]["hora"] == "25:00"
    signal_list = signal_store.find_for_user(db, CARLA)
    assert signal_list is not None
    active = signal_list.active()
    assert [(s.ativo, s.hora) for s in active] == [("EURUSD", "09:30"), ("GBPUSD", "10:05")]
    cancel = post(
        client, "updateSignal", {"id": rows[0]["id"], "status": "canceled"}, tokens["carla@example.com"]
    )
    assert cancel.json == {"res": 1}
    assert db["Sinais"].count_documents({}) == 0
    assert db[names.SIGNALS].count_documents({"user": {"$exists": False}}) == 0

    # Candle lists stored as a JSON string read as lists.
    for doc in db[names.REALTIME_CANDLES].find({"ativo": {"$in": ["EURUSD", "GBPUSD"]}}):
        assert isinstance(doc["candles"], list) and len(doc["candles"]) == 15

    # Codes and Auxiliar.
    assert db[names.CODES].find_one({"code": "K7P2M9Q4R8T3"})["premiumDays"] == 30
    assert "premiumDays" not in db[names.CODES].find_one({"code": "W5X8Y2Z6A3B9"})
    aux = {d["name"]: d.get("value") for d in db[names.AUXILIAR].find({})}
    assert not {"analysisAccount", "apiAddress", "TestCandles"} & set(aux)
    assert aux["Terms"].strip() and aux["Maintenance"] is False and aux["appVersion"] == "1.4.2"


def test_migrate_converts_the_original_and_the_api_works(original, config, clock):
    assert migration.unmigrated_reason(original) == "strategies without nameKey"
    report = migration.migrate(original, options(config))
    assert report.stopped is None
    assert report.env == {
        "GLIMPSE_MARKET_EMAIL": "analise@example.com",
        "GLIMPSE_MARKET_PASSWORD": "senha-de-analise",
        "GLIMPSE_BROKER": "iqoption",
    }
    problems = "\n".join(report.problems)
    assert "row 4: unknown pair 'XYZABC'; time '25:00' is not HH:MM" in problems
    assert any("TENDENCIA BRUNO (2)" in c for s in report.steps for c in s.changes)
    check_migrated(original, config, clock)


def test_a_second_run_changes_nothing(original, config):
    migration.migrate(original, options(config))
    before = snapshot(original)
    again = migration.migrate(original, options(config))
    assert again.changed == 0 and again.stopped is None
    assert again.lines()[-1] == "Nothing to change: the database is already migrated."
    assert snapshot(original) == before


def test_a_second_run_never_stops_a_live_session(original, config):
    migration.migrate(original, options(config))
    original[names.ACCOUNTS].update_one({"_id": ObjectId(BRUNO)}, {"$set": {"glimpseStatus": "operating"}})
    assert migration.migrate(original, options(config)).changed == 0
    assert original[names.ACCOUNTS].find_one({"_id": ObjectId(BRUNO)})["glimpseStatus"] == "operating"


def test_dry_run_writes_nothing(original, config):
    before = snapshot(original, without=())
    report = migration.migrate(original, options(config, dry_run=True))
    assert report.changed > 10
    assert report.env["GLIMPSE_MARKET_PASSWORD"] == "*" * len("senha-de-analise")
    assert "would change" in report.lines()[0]
    assert snapshot(original, without=()) == before


def _comparable(db: Any) -> dict[str, list[dict[str, Any]]]:
    """The database without what differs on every run (salts, the encryption's nonce, seed _ids)."""
    out = snapshot(db)
    for docs in out.values():
        for doc in docs:
            for secret in ("password", "iqPassword"):
                if secret in doc:
                    doc[secret] = bool(doc[secret])
    for name in out:
        if name not in ("Accounts", "Strategies", "Codes", "ManagerAccounts"):
            out[name] = [{k: v for k, v in d.items() if k != "_id"} for d in out[name]]
    out["Strategies"] = sorted(
        ({k: v for k, v in d.items() if k != "_id"} for d in out["Strategies"]), key=lambda d: d["name"]
    )
    return out


@pytest.mark.parametrize("stop_at", ["emails", "signals", "finish"])
def test_a_stopped_run_is_finished_by_the_next(config, monkeypatch, stop_at):
    clean = load_original(new_embedded_database("Glimpse"))
    migration.migrate(clean, options(config))

    db = load_original(new_embedded_database("Glimpse"))
    step = getattr(migration._Run, stop_at)

    def half(self):  # the step runs halfway, then the process dies
        writes = {"n": 0}
        real = self.write

        def limited(action, *args, **kwargs):
            writes["n"] += 1
            if writes["n"] > 1:
                raise KeyboardInterrupt
            real(action, *args, **kwargs)

        self.write = limited
        step(self)

    monkeypatch.setattr(migration._Run, stop_at, half)
    with pytest.raises(KeyboardInterrupt):
        migration.migrate(db, options(config))
    assert migration.unmigrated_reason(db) is not None
    with pytest.raises(migration.UnmigratedDatabase, match="run `glimpse migrate`"):
        migration.refuse_unmigrated(db)
    monkeypatch.setattr(migration._Run, stop_at, step)

    migration.migrate(db, options(config))
    assert migration.unmigrated_reason(db) is None
    assert _comparable(db) == _comparable(clean)


def test_colliding_emails_stop_the_run_until_told_how_to_merge(original, config):
    original[names.ACCOUNTS].insert_one(
        {"_id": ObjectId("61e5a0c0a1b2c3d4e5f60009"), "name": "Ana S", "email": " ana.souza@example.COM",
         "password": "outra-senha", "premiumDays": 10, "ownedStrategies": ["Extra"], "iqPassword": "x"}
    )  # fmt: skip
    before = snapshot(original, without=())
    stopped = migration.migrate(original, options(config))
    assert stopped.stopped is not None and "--merge-duplicates" in stopped.stopped
    assert "61e5a0c0a1b2c3d4e5f60009" in stopped.stopped and ANA in stopped.stopped
    assert snapshot(original, without=()) == before

    report = migration.migrate(original, options(config, merge_duplicates="keep-oldest"))
    assert report.stopped is None
    kept = list(original[names.ACCOUNTS].find({"email": "ana.souza@example.com"}))
    assert [str(d["_id"]) for d in kept] == [ANA]
    assert "Extra" in kept[0]["ownedStrategies"] and kept[0]["premiumDays"] == 9999
    archived = original[migration.MERGED_ACCOUNTS].find_one({"_id": ObjectId("61e5a0c0a1b2c3d4e5f60009")})
    assert archived["mergedInto"] == ObjectId(ANA)
    assert not {"password", "iqPassword"} & set(archived)


def test_keep_newest_keeps_the_later_account(original, config):
    later = ObjectId("61e5a0c0a1b2c3d4e5f60009")
    original[names.ACCOUNTS].insert_one(
        {"_id": later, "name": "Bruno", "email": "Bruno@example.com", "password": "b"}
    )
    migration.migrate(original, options(config, merge_duplicates="keep-newest"))
    assert [d["_id"] for d in original[names.ACCOUNTS].find({"email": "bruno@example.com"})] == [later]


def test_broker_passwords_can_be_dropped_and_codes_get_the_days_asked(original, config):
    migration.migrate(original, options(config, drop_broker_passwords=True, code_days=7))
    ana = original[names.ACCOUNTS].find_one({"_id": ObjectId(ANA)})
    assert (ana["iqPassword"], ana["iqConnected"]) == ("", False)
    assert original[names.CODES].find_one({"code": "K7P2M9Q4R8T3"})["premiumDays"] == 7


def test_a_trader_strategy_named_like_a_seeded_one_is_renamed(original, config):
    original[names.STRATEGIES].delete_one({"name": "Glimpse Baixo Risco"})
    original[names.STRATEGIES].insert_one(
        {
            "name": "glimpse reversão 5",
            "createdBy": "Ana",
            "sequence": "1",
            "operation": "call",
            "mirror": False,
        }
    )
    original[names.ACCOUNTS].update_one(
        {"_id": ObjectId(ANA)}, {"$push": {"ownedStrategies": "glimpse reversão 5"}}
    )
    migration.migrate(original, options(config))
    official = strategy(original, "Glimpse Reversão 5")
    assert official.created_by == "Glimpse" and official.name == "Glimpse Reversão 5"
    assert strategy(original, "glimpse reversão 5 (2)").owner == ANA
    assert (
        "glimpse reversão 5 (2)"
        in original[names.ACCOUNTS].find_one({"_id": ObjectId(ANA)})["ownedStrategies"]
    )


def test_a_bundle_database_is_not_unmigrated_and_migrate_leaves_its_money_alone(db, config):
    seed_database(db)
    assert migration.unmigrated_reason(db) is None
    db[names.ACCOUNTS].update_one({"email": "demo@glimpse.local"}, {"$set": {"iqPeriodProfit": 1234}})
    migration.migrate(db, options(config))
    assert db[names.ACCOUNTS].find_one({"email": "demo@glimpse.local"})["iqPeriodProfit"] == 1234


def test_seed_reset_drops_the_originals_leftovers_before_building_indexes(original):
    seed_database(original, reset=True)
    assert "Sinais" not in original.list_collection_names() or original["Sinais"].count_documents({}) == 0
    assert migration.unmigrated_reason(original) is None
    assert original[names.STRATEGIES].count_documents({"name": "Glimpse Baixo Risco"}) == 1


def test_every_check_of_the_guard_fires(config):
    cases: list[tuple[str, dict[str, Any]]] = [
        (names.STRATEGIES, {"name": "x"}),
        ("Sinais", {"user": "u", "signals": []}),
        (names.ACCOUNTS, {"email": "a@b.co", "password": "plain", "createdAt": 1}),
        (names.MANAGER_ACCOUNTS, {"user": "m", "password": "plain"}),
        (names.ACCOUNTS, {"email": "a@b.co", "password": "", "moneyUnit": "reais"}),
        (names.ACCOUNTS, {"email": "A@b.co", "password": ""}),
        (migration.MIGRATIONS, {"_id": migration.STATE_ID, "status": "running"}),
    ]
    for collection, doc in cases:
        fresh = new_embedded_database("Glimpse")
        assert migration.unmigrated_reason(fresh) is None
        fresh[collection].insert_one(copy.deepcopy(doc))
        assert migration.unmigrated_reason(fresh) is not None, (collection, doc)


def test_after_migrate_a_strategy_and_the_signal_list_trade(original, config):
    """The bundle on a fast clock over the migrated database: Ana trades her own strategy with the
    broker password the migration encrypted; Carla's migrated signal list trades its next row."""
    from glimpse.runtime.security import encrypt_secret
    from tests.pipeline.bundle import MONDAY_MORNING, make_bundle

    migration.migrate(original, options(config))
    # The original held no broker password for Carla: set it as checkIq would.
    original[names.ACCOUNTS].update_one(
        {"_id": ObjectId(CARLA)},
        {"$set": {"iqEmail": "carla@iq.example", "iqConnected": True,
                  "iqPassword": encrypt_secret(config.secret_key.get_secret_value(), "iq-secret-carla")}},
    )  # fmt: skip
    # 09:59:05 in São Paulo, 20x (a decision missed under CPU load is "skipped"): 10:05 is 18 s away.
    bundle = make_bundle(config, original, speed=20.0, start=MONDAY_MORNING - 60)
    try:
        bundle.start(servers=2)
        bundle.press_start(CARLA)
        bundle.press_start(ANA)
        bundle.wait_for(
            lambda: original[names.TRADES].find_one({"user": ANA, "status": "closed"}), 60, "a trade of Ana"
        )

        def gbpusd_row() -> dict[str, Any] | None:
            doc = original[names.SIGNALS].find_one({"user": CARLA}) or {}
            row = next(r for r in doc.get("signals", []) if r["ativo"] == "GBPUSD")
            return row if row["status"] == "result" else None

        row = bundle.wait_for(gbpusd_row, 60, "Carla's 10:05 signal to trade")
    finally:
        bundle.stop()
    assert row["resultado"] in ("win", "loss", "doji")
    ana_trade = original[names.TRADES].find_one({"user": ANA, "status": "closed"})
    assert ana_trade["amount"] == 1000 or ana_trade["galeLevel"] > 0
    carla_trades = list(original[names.TRADES].find({"user": CARLA}))
    # The 10:05 signal, and its gale entry after a loss (Carla's signalSettings: gale, 1 level).
    assert carla_trades and {(t["ativo"], t["operacao"]) for t in carla_trades} == {("GBPUSD", "put")}
    assert sorted(t["galeLevel"] for t in carla_trades) == list(range(len(carla_trades)))
