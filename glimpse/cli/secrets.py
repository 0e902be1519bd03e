"""`glimpse secrets rotate`: re-encrypt stored secrets under the current GLIMPSE_SECRET_KEY.

Rotating the key without losing a broker link:
1. set GLIMPSE_SECRET_KEY to the new key and GLIMPSE_SECRET_KEY_PREVIOUS to the old one, and
   restart the services: every stored secret still decrypts (MultiFernet), new ones use the new key;
2. run `glimpse secrets rotate`: each broker password (Accounts.iqPassword) and each queued mail
   is re-encrypted under the new key, one conditional update per document;
3. once it reports nothing unreadable, remove GLIMPSE_SECRET_KEY_PREVIOUS and restart.
Tokens are signed with the key too, so users log in again after step 1.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any

from pymongo.errors import PyMongoError

from glimpse.cli import CLIError
from glimpse.runtime import mail, security
from glimpse.runtime.config import Config, load_config
from glimpse.store import db as names
from glimpse.store import notifications
from glimpse.store.db import open_database

# Stored fields encrypted with security.encrypt_secret: (collection, field).
ENCRYPTED_FIELDS = ((names.ACCOUNTS, "iqPassword"), (notifications.WEBHOOKS, "secret"))


@dataclass
class RotationReport:
    rotated: dict[str, int] = field(default_factory=dict)
    unreadable: list[str] = field(default_factory=list)  # "collection/_id", never a value
    changed_meanwhile: int = 0


def rotate_secrets(db: Any, secret_key: str, previous: list[str]) -> RotationReport:
    """Re-encrypt every stored secret under `secret_key`; those that no key opens are listed."""
    report = RotationReport()
    for collection, name in ENCRYPTED_FIELDS:
        done = 0
        for doc in db[collection].find({name: {"$regex": f"^{security.ENCRYPTED_PREFIX}"}}, {name: 1}):
            stored = doc[name]
            try:
                fresh = security.rotate_secret(secret_key, stored, previous)
            except security.DecryptError:
                report.unreadable.append(f"{collection}/{doc['_id']}")
                continue
            # Conditional: a user who changed their broker password meanwhile keeps the new one.
            result = db[collection].update_one({"_id": doc["_id"], name: stored}, {"$set": {name: fresh}})
            if result.modified_count:
                done += 1
            else:
                report.changed_meanwhile += 1
        report.rotated[f"{collection}.{name}"] = done
    sealer = mail.Sealer(secret_key, previous)
    mails = 0
    for doc in db[mail.MAIL_QUEUE].find({"body": {"$exists": True}}, {"body": 1}):
        try:
            fresh = sealer.rotate(str(doc["body"]))
        except Exception:
            report.unreadable.append(f"{mail.MAIL_QUEUE}/{doc['_id']}")
            continue
        if (
            db[mail.MAIL_QUEUE]
            .update_one({"_id": doc["_id"], "body": doc["body"]}, {"$set": {"body": fresh}})
            .modified_count
        ):
            mails += 1
    report.rotated[f"{mail.MAIL_QUEUE}.body"] = mails
    return report


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("secrets", help="manage the secret key")
    sub = parser.add_subparsers(dest="secrets_command", metavar="ACTION")
    sub.required = True
    rotate = sub.add_parser(
        "rotate",
        help="re-encrypt stored broker passwords under GLIMPSE_SECRET_KEY (old keys in GLIMPSE_SECRET_KEY_PREVIOUS)",
        description=__doc__.split("\n", 1)[1].strip() if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rotate.set_defaults(func=run_rotate)


def _keys(config: Config) -> tuple[str, list[str]]:
    return config.secret_key.get_secret_value(), [k.get_secret_value() for k in config.secret_key_previous]


def run_rotate(args: argparse.Namespace) -> int:
    config = load_config()
    if config.embedded:
        raise CLIError("needs GLIMPSE_MONGO_URI: the embedded database lives and dies with `glimpse up`")
    current, previous = _keys(config)
    if not previous:
        print("GLIMPSE_SECRET_KEY_PREVIOUS is empty: secrets are re-encrypted under the current key only")
    try:
        report = rotate_secrets(open_database(config), current, previous)
    except PyMongoError as exc:
        raise CLIError(f"MongoDB (GLIMPSE_MONGO_URI) failed: {exc}") from exc
    for name, count in report.rotated.items():
        print(f"{name:<24} {count:>6} re-encrypted")
    if report.changed_meanwhile:
        print(f"{report.changed_meanwhile} changed while rotating (already under the current key)")
    if report.unreadable:
        print(f"{len(report.unreadable)} decrypt with none of the configured keys (left as they are):")
        for where in report.unreadable:
            print(f"  {where}")
        return 1
    print("done: GLIMPSE_SECRET_KEY_PREVIOUS may now be removed")
    return 0
