"""`glimpse secrets rotate`: broker passwords move to the new key while both keys are configured."""

from __future__ import annotations

import pytest

from glimpse.cli import main as cli
from glimpse.cli import secrets as secrets_cli
from glimpse.runtime import mail, security
from glimpse.runtime.config import ConfigError, load_config
from glimpse.store import db as names
from glimpse.store import notifications

OLD = "old-secret-key-" + "o" * 40
NEW = "new-secret-key-" + "n" * 40
OTHER = "someone-elses-key-" + "x" * 40


def _users(db, key: str, count: int = 6) -> dict[str, str]:
    plain = {}
    for i in range(count):
        password = f"broker pass {i} ção"
        db[names.ACCOUNTS].insert_one(
            {"email": f"u{i}@example.com", "iqPassword": security.encrypt_secret(key, password)}
        )
        plain[f"u{i}@example.com"] = password
    db[names.ACCOUNTS].insert_one({"email": "nolink@example.com", "iqPassword": ""})
    return plain


def test_previous_keys_decrypt_and_rotation_moves_everything_to_the_new_key(db):
    plain = _users(db, OLD)
    stored = db[names.ACCOUNTS].find_one({"email": "u0@example.com"})["iqPassword"]
    with pytest.raises(security.DecryptError):
        security.decrypt_secret(NEW, stored)
    # Both keys configured: the old secrets still decrypt, so no user loses the broker link.
    assert security.decrypt_secret(NEW, stored, [OLD]) == plain["u0@example.com"]

    report = secrets_cli.rotate_secrets(db, NEW, [OLD])
    assert report.rotated[f"{names.ACCOUNTS}.iqPassword"] == len(plain) and report.unreadable == []

    # Only the new key now: every broker password decrypts.
    for doc in db[names.ACCOUNTS].find({"iqPassword": {"$ne": ""}}):
        assert security.decrypt_secret(NEW, doc["iqPassword"]) == plain[doc["email"]]
        with pytest.raises(security.DecryptError):
            security.decrypt_secret(OLD, doc["iqPassword"])
    assert db[names.ACCOUNTS].find_one({"email": "nolink@example.com"})["iqPassword"] == ""


def test_a_secret_no_key_opens_is_reported_and_left_alone(db):
    _users(db, OLD, count=2)
    foreign = security.encrypt_secret(OTHER, "x")
    db[names.ACCOUNTS].insert_one({"email": "foreign@example.com", "iqPassword": foreign})
    report = secrets_cli.rotate_secrets(db, NEW, [OLD])
    assert report.rotated[f"{names.ACCOUNTS}.iqPassword"] == 2
    [where] = report.unreadable
    assert where.startswith(f"{names.ACCOUNTS}/")
    assert db[names.ACCOUNTS].find_one({"email": "foreign@example.com"})["iqPassword"] == foreign


def test_queued_mails_are_resealed(db):
    queue = mail.MailQueue(db, mail.Sealer(OLD), None)
    queue.enqueue("ana@example.com", "s", "code K7P2QX9M")
    secrets_cli.rotate_secrets(db, NEW, [OLD])
    body = db[mail.MAIL_QUEUE].find_one()["body"]
    assert mail.Sealer(NEW).open(body) == "code K7P2QX9M"


def test_webhook_signing_secrets_are_rotated(db):
    db[notifications.WEBHOOKS].insert_one(
        {
            "owner": "u",
            "scope": "user",
            "url": "https://hooks.example/x",
            "secret": security.encrypt_secret(OLD, "s3"),
        }
    )
    report = secrets_cli.rotate_secrets(db, NEW, [OLD])
    assert report.rotated[f"{notifications.WEBHOOKS}.secret"] == 1
    assert security.decrypt_secret(NEW, db[notifications.WEBHOOKS].find_one()["secret"]) == "s3"


def test_the_command_rotates_through_the_configuration(db, monkeypatch, capsys):
    plain = _users(db, OLD, count=3)
    monkeypatch.setenv("GLIMPSE_MONGO_URI", "mongodb://127.0.0.1:1/")
    monkeypatch.setenv("GLIMPSE_SECRET_KEY", NEW)
    monkeypatch.setenv("GLIMPSE_SECRET_KEY_PREVIOUS", f"{OLD},{OTHER}")
    monkeypatch.setenv("GLIMPSE_SERVICE_TOKEN", "service-token-for-tests")
    monkeypatch.setattr(secrets_cli, "open_database", lambda config: db)
    assert cli.main(["secrets", "rotate"]) == 0
    out = capsys.readouterr().out
    assert "3 re-encrypted" in out and OLD not in out and NEW not in out
    for doc in db[names.ACCOUNTS].find({"iqPassword": {"$ne": ""}}):
        assert security.decrypt_secret(NEW, doc["iqPassword"]) == plain[doc["email"]]


def test_the_command_refuses_the_embedded_database(monkeypatch, capsys):
    monkeypatch.delenv("GLIMPSE_MONGO_URI", raising=False)
    assert cli.main(["secrets", "rotate"]) == 2
    assert "GLIMPSE_MONGO_URI" in capsys.readouterr().err


def test_previous_keys_are_validated_and_never_shown():
    base = {"GLIMPSE_SECRET_KEY": NEW, "GLIMPSE_SERVICE_TOKEN": "service-token-for-tests"}
    config = load_config({**base, "GLIMPSE_SECRET_KEY_PREVIOUS": f" {OLD} , {OTHER} "})
    assert [k.get_secret_value() for k in config.secret_key_previous] == [OLD, OTHER]
    assert config.previous_secret_keys() == [OLD, OTHER]
    assert OLD not in repr(config) and OLD not in str(config)
    with pytest.raises(ConfigError) as caught:
        load_config({**base, "GLIMPSE_SECRET_KEY_PREVIOUS": "short-secret"})
    assert "GLIMPSE_SECRET_KEY_PREVIOUS" in str(caught.value) and "short-secret" not in str(caught.value)
    with pytest.raises(ConfigError) as bad_smtp:
        load_config({**base, "GLIMPSE_SMTP_URL": "http://user:hunter22@mail"})
    assert "GLIMPSE_SMTP_URL" in str(bad_smtp.value) and "hunter22" not in str(bad_smtp.value)
    good = load_config({**base, "GLIMPSE_SMTP_URL": "smtps://u:p@mail", "GLIMPSE_LOG_FORMAT": "json"})
    assert good.smtp_url is not None and good.log_format == "json" and "u:p@" not in repr(good)
