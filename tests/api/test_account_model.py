"""The typed account: stored names, profits in integer cents, and the shape the API answers with."""

from __future__ import annotations

from decimal import Decimal

from bson import Decimal128, ObjectId

from glimpse.store import accounts
from glimpse.store import db as names
from glimpse.store.accounts import SECRET_FIELDS, Account, money_cents, new_account, public_view


def test_profit_fields_are_cents_and_old_float_reais_are_read_exactly():
    assert money_cents(1234) == 1234  # new documents: integer cents
    assert money_cents(12.34) == 1234  # old documents: reais as a float
    assert money_cents(0.1 + 0.2) == 30  # the float sum the ledger used to leave behind
    assert money_cents(-2.675) == -268  # half up, away from zero, on the shortest repr
    assert money_cents(Decimal128(Decimal("1.005"))) == 101
    assert money_cents(None) == 0 and money_cents("") == 0 and money_cents(True) == 0
    assert money_cents(float("nan")) == 0


def test_an_account_round_trips_through_its_stored_names():
    doc = new_account("Ana Lima", "Ana@Example.com", "hash", 100.0, premium_days=3)
    doc.update(_id=ObjectId(), appliedTrades=[ObjectId()], iqSessionProfit=-250, iqPeriodProfit=12.5)
    account = Account.from_doc(doc)
    assert account.email == "ana@example.com" and account.premium_days == 3
    assert account.session_profit == -250 and account.period_profit == 1250
    assert account.extra == {"appliedTrades": doc["appliedTrades"]}
    stored = account.to_doc()
    assert set(stored) == set(doc) | {"server", "assignment"}  # the life-cycle fields, "" when idle
    assert stored["server"] == stored["assignment"] == ""
    assert stored["iqPeriodProfit"] == 1250 and isinstance(stored["iqPeriodProfit"], int)
    assert {k: v for k, v in stored.items() if k not in ("iqPeriodProfit", "server", "assignment")} == {
        k: v for k, v in doc.items() if k != "iqPeriodProfit"
    }


def test_the_public_view_keeps_the_stored_shape_without_secrets_and_answers_reais():
    doc = new_account("Ana Lima", "ana@example.com", "hash", 100.0)
    doc.update(
        _id=ObjectId(),
        iqPassword="encrypted",
        iqConnected=True,
        passwordReset={"hash": "h", "expiresAt": 1.0, "attempts": 0},
        iqSessionProfit=174,
        iqPeriodProfit=0.3,
        iqPeriodLoss=1000,
        server="glimpse_01",
    )
    view = public_view(doc)
    assert set(view) == (set(doc) - set(SECRET_FIELDS)) | {"iqConnected"}
    assert view["iqSessionProfit"] == 1.74 and view["iqPeriodProfit"] == 0.3 and view["iqPeriodLoss"] == 10
    assert view["iqConnected"] is True and view["server"] == "glimpse_01"
    assert view["settings"] is doc["settings"]  # nested parts are handed on, not copied


def test_get_user_and_status_answer_profits_in_reais(client, db, user):
    db[names.ACCOUNTS].update_one(
        {"email": user.email}, {"$set": {"iqSessionProfit": 1234, "iqPeriodProfit": 99.99, "iqPeriodLoss": 5}}
    )
    body = client.post("/glimpse/getUser", json={}, headers=user.headers).json
    assert (body["iqSessionProfit"], body["iqPeriodProfit"], body["iqPeriodLoss"]) == (12.34, 99.99, 0.05)
    status = client.post("/glimpse/status", json={}, headers=user.headers).json
    assert status["user"]["iqSessionProfit"] == 12.34 and "password" not in status["user"]


def test_balances_and_the_stake_in_flight_are_stored_in_cents_and_answered_in_reais(client, db, user):
    db[names.ACCOUNTS].update_one(
        {"email": user.email},
        {
            "$set": {
                "iqBalancePractice": 998313,
                "iqBalanceReal": 0,
                "operating.money": 250,
                "moneyUnit": "cents",
            }
        },
    )
    body = client.post("/glimpse/getUser", json={}, headers=user.headers).json
    assert (body["iqBalancePractice"], body["iqBalanceReal"], body["operating"]["money"]) == (
        9983.13,
        0.0,
        2.5,
    )
    assert "moneyUnit" not in body
    status = client.post("/glimpse/status", json={}, headers=user.headers).json
    assert status["user"]["iqBalancePractice"] == 9983.13 and status["user"]["operating"]["money"] == 2.5


def test_store_reads_and_conditional_writes(db, clock):
    new_id = accounts.create(db, "Ana Lima", "ana@example.com", "hash", clock.now(), premium_days=2)
    assert new_id is not None
    assert accounts.create(db, "Other", "ana@example.com", "hash", clock.now()) is None  # the email is taken
    found = accounts.find_by_email(db, "ana@example.com")
    assert found is not None and found.id == new_id and accounts.email_taken(db, "ana@example.com")
    assert accounts.find_by_id(db, str(new_id)) == found

    # Start only from off, Stop only from a running state: each one conditional update.
    assert accounts.press_start(db, new_id, ("off",), clock.now(), {"mode": "signals"})
    assert not accounts.press_start(db, new_id, ("off",), clock.now(), {})
    started = accounts.find_by_id(db, new_id)
    assert started is not None and started.glimpse_status == "waiting" and started.mode == "signals"
    assert started.waiting_since == clock.now()
    assert accounts.press_stop(db, new_id, ("operating", "waiting", "assigning"), {})
    assert not accounts.press_stop(db, new_id, ("operating", "waiting", "assigning"), {})

    accounts.start_password_reset(db, new_id, "code-hash", clock.now() + 60)
    accounts.count_reset_attempt(db, new_id)
    reset = accounts.find_by_id(db, new_id)
    assert reset is not None and reset.password_reset == {
        "hash": "code-hash",
        "expiresAt": clock.now() + 60,
        "attempts": 1,
    }
    assert not accounts.finish_password_reset(db, new_id, "another-hash", "new")
    assert accounts.finish_password_reset(db, new_id, "code-hash", "new")
    assert not accounts.finish_password_reset(db, new_id, "code-hash", "newer")  # a code works once
    after = accounts.find_by_id(db, new_id)
    assert after is not None and after.password == "new" and after.password_reset is None


def test_an_orphan_stop_ends_only_the_assignment_that_was_read(db, clock):
    new_id = accounts.create(db, "Ana Lima", "ana@example.com", "hash", clock.now(), premium_days=2)
    assert new_id is not None
    db[names.ACCOUNTS].update_one(
        {"_id": new_id}, {"$set": {"glimpseStatus": "stopping", "server": "", "assignment": "a1"}}
    )
    (read,) = accounts.stopping_without_server(db)
    # Meanwhile the user was given a server again in a new assignment, and lost it.
    db[names.ACCOUNTS].update_one({"_id": new_id}, {"$set": {"assignment": "a2"}})
    assert not accounts.end_orphan_stop(db, read, None)
    (again,) = accounts.stopping_without_server(db)
    assert accounts.end_orphan_stop(db, again, None)
    done = accounts.find_by_id(db, new_id)
    assert done is not None and done.glimpse_status == "off" and done.session_profit == 0


def test_the_manager_user_list_answers_profits_in_reais(client, db, user, manager):
    db[names.ACCOUNTS].update_one(
        {"email": user.email},
        {"$set": {"iqSessionProfit": -150, "iqPeriodProfit": 2000, "iqPeriodLoss": 1.5}},
    )
    (row,) = [
        r
        for r in client.post("/glimpse/getUsers", json={}, headers=manager.headers).json
        if r["email"] == user.email
    ]
    assert (row["iqSessionProfit"], row["iqPeriodProfit"], row["iqPeriodLoss"]) == (-1.5, 20, 1.5)
    assert "password" not in row and "strategySettings" not in row and row["operationSettings"]["money"] == 10


def test_money_settings_are_stored_as_decimal128_and_shown_as_the_numbers_sent():
    sent = {"money": 2.675, "gale": True, "galeCount": 2, "galeType": "sobra", "sobra": 0.1, "stopLoss": True,
            "stopLossValue": 15, "stopWin": False, "stopWinValue": 0}  # fmt: skip
    stored = accounts.stored_money_settings(sent)
    # Rounded once, half up, by the money rules; exact on disk.
    assert stored["money"] == Decimal128("2.68") and stored["sobra"] == Decimal128("0.10")
    assert stored["stopLossValue"] == Decimal128("15.00") and stored["galeCount"] == 2
    assert accounts.stored_money_settings(stored) == stored  # storing again changes nothing
    doc = new_account("Ana", "ana@example.com", "hash", 0.0)
    doc["strategySettings"] = stored
    doc["signalSettings"] = dict(sent)  # a document written before: numbers in reais
    view = Account.from_doc(doc).public()
    assert view["strategySettings"]["money"] == 2.68 and view["strategySettings"]["sobra"] == 0.1
    assert view["signalSettings"] == sent
    # The rules read both shapes as the same exact amounts.
    for name in accounts.SETTING_AMOUNTS:
        legacy = accounts.setting_amount(sent[name])
        assert accounts.setting_amount(stored[name]) == legacy and isinstance(legacy, Decimal)


def test_profile_writes_store_money_settings_exactly(db):
    created = db[names.ACCOUNTS].insert_one(new_account("Ana", "ana@example.com", "hash", 0.0)).inserted_id
    settings = {**accounts.DEFAULT_MONEY_SETTINGS, "money": 7.5, "stopWinValue": 12.3}
    accounts.update_profile(db, created, {"signalSettings": settings})
    assert accounts.press_start(db, created, ["off"], 1.0, {"strategySettings": settings})
    doc = db[names.ACCOUNTS].find_one({"_id": created})
    for key in accounts.MONEY_SETTINGS_FIELDS:
        assert doc[key]["money"] == Decimal128("7.50") and doc[key]["stopWinValue"] == Decimal128("12.30")
        assert not any(isinstance(value, float) for value in doc[key].values())


def test_a_session_log_keeps_the_settings_exactly_and_shows_reais(db):
    from glimpse.store import operations_log

    settings = accounts.stored_money_settings({**accounts.DEFAULT_MONEY_SETTINGS, "money": 2.5, "sobra": 1.15,
                                               "stopLoss": True, "stopLossValue": 20})  # fmt: skip
    log_id = operations_log.start(db, user="u", session="s", mode="strategy", strategy=None, money=settings,
                                  account_type="treinamento", now=1.0)  # fmt: skip
    doc = db[names.OPERATIONS].find_one({"_id": log_id})
    assert (doc["money"], doc["stoploss"], doc["sobra"]) == (250, 2000, Decimal128("1.15"))
    app = operations_log.for_app(doc)
    assert (app["money"], app["stoploss"], app["sobra"]) == (2.5, 20.0, 1.15)
