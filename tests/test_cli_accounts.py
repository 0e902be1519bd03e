"""`glimpse seed`, `glimpse user create` and `glimpse manager create` through `glimpse.cli.main.main`."""

from __future__ import annotations

import io
import uuid
from types import SimpleNamespace

import pytest
from bson import ObjectId

from glimpse.cli.main import main
from glimpse.runtime.config import load_config
from glimpse.runtime.security import is_hashed, verify_password
from glimpse.store import db as names
from glimpse.store.accounts import new_account
from glimpse.store.db import new_embedded_database, open_database
from glimpse.store.seed import DEMO_LOGINS

PASSWORD = "correct horse battery"


@pytest.fixture
def embedded(monkeypatch):
    """An embedded configuration with a database of this test's own; returns its handle."""
    monkeypatch.delenv("GLIMPSE_MONGO_URI", raising=False)
    monkeypatch.setenv("GLIMPSE_DB", "cli_test_" + uuid.uuid4().hex[:12])
    return open_database(load_config())


@pytest.fixture
def real_mongo(monkeypatch):
    """A configuration that points at a MongoDB URI; `db` is the in-memory stand-in `glimpse seed` gets."""
    monkeypatch.setenv("GLIMPSE_MONGO_URI", "mongodb://127.0.0.1:27017")
    monkeypatch.setenv("GLIMPSE_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("GLIMPSE_SERVICE_TOKEN", "s" * 20)
    monkeypatch.setenv("GLIMPSE_DB", "cli_test_" + uuid.uuid4().hex[:12])
    database = new_embedded_database("stand-in")
    opened = []

    def fake_open(config, prepare=True):
        assert not config.embedded
        opened.append(config)
        return database

    monkeypatch.setattr("glimpse.cli.seed.open_database", fake_open)
    return SimpleNamespace(db=database, opened=opened)


def feed_stdin(monkeypatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def feed_getpass(monkeypatch, *answers: str) -> list[str]:
    prompts: list[str] = []
    replies = iter(answers)

    def fake_getpass(prompt="Password: "):
        prompts.append(prompt)
        return next(replies)

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    return prompts


# --- glimpse seed -----------------------------------------------------------------------------------


def test_seed_fills_the_embedded_database_and_says_it_lives_in_memory(embedded, capsys):
    assert main(["seed"]) == 0
    out = capsys.readouterr().out
    assert "in memory" in out and "glimpse up" in out
    assert "Strategies" in out and "ActivesSchedule" in out
    seeded = open_database(load_config())
    assert seeded[names.ACCOUNTS].find_one({"email": "demo@glimpse.local"}) is not None
    assert seeded[names.ACTIVES_SCHEDULE].count_documents({}) == 31

    assert main(["seed"]) == 0
    assert "0 documents inserted" in capsys.readouterr().out


def test_seed_against_a_real_mongodb_skips_the_demo_logins_unless_asked(real_mongo, capsys):
    assert main(["seed"]) == 0
    out = capsys.readouterr().out
    assert "demo@glimpse.local" in out and "admin@glimpse.local" in out
    assert "glimpse user create" in out and "glimpse manager create" in out
    assert "in memory" not in out
    assert real_mongo.db[names.ACCOUNTS].count_documents({}) == 0
    assert real_mongo.db[names.MANAGER_ACCOUNTS].count_documents({}) == 0
    assert real_mongo.db[names.STRATEGIES].count_documents({}) > 0

    assert main(["seed", "--demo"]) == 0
    assert "Skipped" not in capsys.readouterr().out
    assert real_mongo.db[names.ACCOUNTS].count_documents({"email": "demo@glimpse.local"}) == 1
    assert real_mongo.db[names.MANAGER_ACCOUNTS].count_documents({"user": "admin@glimpse.local"}) == 1


def test_seed_reset_against_a_real_mongodb_needs_confirmation(real_mongo, monkeypatch, capsys):
    real_mongo.db[names.ACCOUNTS].insert_one({"email": "someone@example.com"})
    feed_stdin(monkeypatch, "")  # not a terminal: nobody can confirm
    assert main(["seed", "--reset"]) == 2
    err = capsys.readouterr().err
    assert "--yes" in err and "Accounts" in err
    assert real_mongo.opened == []
    assert real_mongo.db[names.ACCOUNTS].count_documents({"email": "someone@example.com"}) == 1

    assert main(["seed", "--reset", "--yes"]) == 0
    assert real_mongo.db[names.ACCOUNTS].count_documents({"email": "someone@example.com"}) == 0


# --- glimpse user create ----------------------------------------------------------------------------


def test_user_create_reads_the_password_from_stdin_and_prints_the_new_id(embedded, monkeypatch, capsys):
    feed_stdin(monkeypatch, PASSWORD + "\n")
    code = main(["user", "create", "--name", " Maria   Souza ", "--email", "Maria@Example.COM",
                 "--premium-days", "30", "--password-stdin"])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0
    new_id = out.strip()
    account = open_database(load_config())[names.ACCOUNTS].find_one({"_id": ObjectId(new_id)})
    assert account["email"] == "maria@example.com" and account["name"] == "Maria Souza"
    assert account["premiumDays"] == 30
    assert set(account) - {"_id"} == set(new_account("n", "e@x.io", "h", 0.0))
    assert is_hashed(account["password"]) and verify_password(account["password"], PASSWORD)
    assert PASSWORD not in out + err


def test_user_create_asks_twice_with_getpass(embedded, monkeypatch, capsys):
    prompts = feed_getpass(monkeypatch, PASSWORD, PASSWORD)
    assert main(["user", "create", "--name", "Ana Lima", "--email", "ana@example.com"]) == 0
    assert len(prompts) == 2
    out, err = capsys.readouterr()
    account = embedded[names.ACCOUNTS].find_one({"email": "ana@example.com"})
    assert str(account["_id"]) == out.strip()
    assert account["premiumDays"] == 0 and "premiumDays is 0" in err
    assert verify_password(account["password"], PASSWORD)


def test_user_create_refuses_passwords_that_differ(embedded, monkeypatch, capsys):
    feed_getpass(monkeypatch, PASSWORD, PASSWORD + "!")
    assert main(["user", "create", "--name", "Ana Lima", "--email", "ana@example.com"]) == 2
    assert "do not match" in capsys.readouterr().err
    assert embedded[names.ACCOUNTS].count_documents({}) == 0


def test_user_create_refuses_an_email_already_registered(embedded, monkeypatch, capsys):
    feed_stdin(monkeypatch, PASSWORD + "\n")
    assert main(["user", "create", "--name", "Ana", "--email", "ana@example.com", "--password-stdin"]) == 0
    capsys.readouterr()
    feed_stdin(monkeypatch, PASSWORD + "\n")
    assert main(["user", "create", "--name", "Ana 2", "--email", "ANA@example.com", "--password-stdin"]) == 2
    err = capsys.readouterr().err
    assert "ana@example.com" in err and "already registered" in err
    assert embedded[names.ACCOUNTS].count_documents({}) == 1


@pytest.mark.parametrize("email", ["not-an-email", "ana@", "@example.com", "ana@example", "a b@example.com"])
def test_user_create_refuses_a_bad_email(embedded, monkeypatch, capsys, email):
    feed_stdin(monkeypatch, PASSWORD + "\n")
    assert main(["user", "create", "--name", "Ana", "--email", email, "--password-stdin"]) == 2
    assert "--email" in capsys.readouterr().err
    assert embedded[names.ACCOUNTS].count_documents({}) == 0


@pytest.mark.parametrize(
    "password, message",
    [("short", "at least 10"), (DEMO_LOGINS[0][2], "published demo password"), ("", "empty")],
)
def test_user_create_refuses_a_weak_password(embedded, monkeypatch, capsys, password, message):
    feed_stdin(monkeypatch, password + "\n" if password else "")
    assert main(["user", "create", "--name", "Ana", "--email", "ana@example.com", "--password-stdin"]) == 2
    assert message in capsys.readouterr().err
    assert embedded[names.ACCOUNTS].count_documents({}) == 0


def test_user_create_refuses_negative_premium_days(embedded, monkeypatch, capsys):
    feed_stdin(monkeypatch, PASSWORD + "\n")
    code = main(["user", "create", "--name", "Ana", "--email", "ana@example.com",
                 "--premium-days", "-1", "--password-stdin"])  # fmt: skip
    assert code == 2 and "--premium-days" in capsys.readouterr().err


def test_user_create_needs_a_name(embedded, monkeypatch, capsys):
    feed_stdin(monkeypatch, PASSWORD + "\n")
    assert main(["user", "create", "--name", "   ", "--email", "ana@example.com", "--password-stdin"]) == 2
    assert "--name" in capsys.readouterr().err


# --- glimpse manager create -------------------------------------------------------------------------


def test_manager_create_stores_the_original_fields(embedded, monkeypatch, capsys):
    feed_stdin(monkeypatch, PASSWORD + "\n")
    assert (
        main(["manager", "create", "--name", "Ops Team", "--email", "Ops@Example.com", "--password-stdin"])
        == 0
    )
    new_id = capsys.readouterr().out.strip()
    manager = embedded[names.MANAGER_ACCOUNTS].find_one({"_id": ObjectId(new_id)})
    assert set(manager) == {"_id", "user", "password", "name"}
    assert manager["user"] == "ops@example.com" and manager["name"] == "Ops Team"
    assert verify_password(manager["password"], PASSWORD)


def test_manager_create_refuses_an_existing_email(embedded, monkeypatch, capsys):
    assert main(["seed"]) == 0
    capsys.readouterr()
    feed_getpass(monkeypatch, PASSWORD, PASSWORD)
    assert main(["manager", "create", "--name", "Other", "--email", "admin@glimpse.local"]) == 2
    err = capsys.readouterr().err
    assert "admin@glimpse.local" in err
    assert embedded[names.MANAGER_ACCOUNTS].count_documents({"user": "admin@glimpse.local"}) == 1


def test_manager_create_refuses_a_bad_email(embedded, monkeypatch, capsys):
    feed_stdin(monkeypatch, PASSWORD + "\n")
    assert main(["manager", "create", "--name", "Ops", "--email", "ops.example.com", "--password-stdin"]) == 2
    assert "ops.example.com" in capsys.readouterr().err
    assert embedded[names.MANAGER_ACCOUNTS].count_documents({}) == 0
