"""After seeding and a full account life cycle, no document holds a plaintext secret."""

from __future__ import annotations

import re

from glimpse.runtime import security
from glimpse.store import db as names
from glimpse.store.seed import DEMO_LOGINS, seed_database
from tests.api.conftest import mailed


def _walk(value, path=""):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk(item, f"{path}.{i}")
    else:
        yield path, value


def test_no_plaintext_password_anywhere(client, db, clock, config):
    seed_database(db)
    code = db[names.CODES].find_one({"valid": True})["code"]
    plaintexts = ["first password 1", "second password 2", "third password 3", "iq broker secret"]
    plaintexts += [password for _, _, password in DEMO_LOGINS]
    register = {
        "userName": "Caio Prado",
        "userMail": "caio@example.com",
        "userPassword": plaintexts[0],
        "code": code,
    }
    assert client.post("/glimpse/insertUser", json=register).status_code == 200
    token = client.post("/glimpse/login", json={"email": "caio@example.com", "password": plaintexts[0]}).json[
        "token"
    ]
    headers = {"Authorization": f"Bearer {token}"}
    assert (
        client.post(
            "/glimpse/checkIq",
            json={"email": "caio.iq@example.com", "password": plaintexts[3]},
            headers=headers,
        ).status_code
        == 200
    )
    changed = client.post(
        "/glimpse/changePassword",
        json={"currentPassword": plaintexts[0], "newPassword": plaintexts[1]},
        headers=headers,
    )
    assert changed.status_code == 200
    client.post("/glimpse/requestPasswordReset", json={"email": "caio@example.com"})
    mail = mailed(db, config, "caio@example.com")
    found = re.search(r"\b([A-Z2-9]{8})\b", mail)
    assert found is not None
    reset_code = found.group(1)
    assert client.post(
        "/glimpse/resetPassword",
        json={"email": "caio@example.com", "code": reset_code, "newPassword": plaintexts[2]},
    ).json == {"res": 1}
    demo_email, demo_password = DEMO_LOGINS[0][1], DEMO_LOGINS[0][2]
    assert (
        client.post("/glimpse/login", json={"email": demo_email, "password": demo_password}).json["res"] == 1
    )

    checked = 0
    for collection in db.list_collection_names():
        for doc in db[collection].find():
            for path, value in _walk(doc):
                if not isinstance(value, str):
                    continue
                leaf = path.rsplit(".", 1)[-1]
                if leaf == "password":
                    assert security.is_hashed(value), (collection, path)
                    checked += 1
                if leaf == "iqPassword":
                    assert value == "" or security.is_encrypted(value), (collection, path)
                for secret in plaintexts + [reset_code]:
                    assert secret not in value, (collection, path)
    assert checked >= 3  # the seeded user, the seeded manager, the new user
