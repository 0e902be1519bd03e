"""Seeding the database from collections/: one Extended JSON array per collection.

Every `<Name>.json` file in the folder seeds the collection `<Name>`. Seeding
is idempotent: a document is inserted only when no document with the same
natural key exists, so running it again changes nothing and never overwrites
what users changed since.

The repository publishes demo logins (and invite codes) so that anyone can try
the embedded bundle. Against a real deployment they must not be seeded:
`allow_demo=False` skips every account whose password verifies against a
published demo password, and every published invite code.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bson import json_util

from glimpse.runtime.security import verify_password
from glimpse.store import db as names
from glimpse.store.db import ensure_indexes

log = logging.getLogger(__name__)

COLLECTIONS_DIR = Path(__file__).resolve().parent / "collections"

# (role, email, password) of the demo logins in collections/. They are public:
# `glimpse up` prints them and the README lists them.
DEMO_LOGINS: tuple[tuple[str, str, str], ...] = (
    ("user", "demo@glimpse.local", "glimpse-demo"),
    ("manager", "admin@glimpse.local", "glimpse-admin"),
)

# The invite codes in collections/Codes.json: public too, so never valid in a
# real deployment.
DEMO_CODES: tuple[str, ...] = ("JLX43ARKXH", "XLPUFWWS4B", "KBBGCGDWY7", "Z4FFEV63BT", "D9GT52E63C")

# The field that identifies a seeded document; collections not listed use _id.
NATURAL_KEYS: dict[str, str] = {
    names.ACCOUNTS: "email",
    names.MANAGER_ACCOUNTS: "user",
    names.STRATEGIES: "nameKey",
    names.ACTIVES_SCHEDULE: "ativo",
    names.OPENED_ACTIVES: "ativo",
    names.REALTIME_CANDLES: "ativo",
    names.TEST_CANDLES: "ativo",
    names.AUXILIAR: "name",
    names.CODES: "code",
    names.SERVERS: "name",
    names.SERVER_STATUS: "name",
}

_LOGIN_COLLECTIONS = (names.ACCOUNTS, names.MANAGER_ACCOUNTS)

# Not seeded, but dropped by a reset: the original Glimpse's signal lists and `glimpse migrate`'s state.
RESET_ALSO = ("Sinais", "Migrations")


class SeedError(ValueError):
    """A collections file is not a list of documents, or a document lacks its key."""


@dataclass
class SeedReport:
    inserted: dict[str, int] = field(default_factory=dict)  # collection -> new documents
    existing: dict[str, int] = field(default_factory=dict)  # collection -> documents already there
    skipped_demo: list[tuple[str, str]] = field(default_factory=list)  # (collection, key value)

    @property
    def total_inserted(self) -> int:
        return sum(self.inserted.values())


def natural_key(collection: str) -> str:
    return NATURAL_KEYS.get(collection, "_id")


def load_collection(path: str | Path) -> list[dict[str, Any]]:
    """The documents of one collections file (Extended JSON, canonical or relaxed)."""
    path = Path(path)
    documents = json_util.loads(path.read_text(encoding="utf-8"))
    if not isinstance(documents, list) or not all(isinstance(doc, dict) for doc in documents):
        raise SeedError(f"{path.name} must hold a JSON array of documents")
    return documents


def collection_files(collections_dir: str | Path = COLLECTIONS_DIR) -> dict[str, Path]:
    """Collection name -> file, for every `*.json` in the folder."""
    return {path.stem: path for path in sorted(Path(collections_dir).glob("*.json"))}


def _is_demo(collection: str, doc: dict[str, Any]) -> bool:
    if collection == names.CODES:
        return doc.get("code") in DEMO_CODES
    if collection in _LOGIN_COLLECTIONS:
        stored = doc.get("password")
        if not isinstance(stored, str):
            return False
        return any(verify_password(stored, password) for _, _, password in DEMO_LOGINS)
    return False


def seed_database(
    db: Any,
    *,
    collections_dir: str | Path = COLLECTIONS_DIR,
    reset: bool = False,
    allow_demo: bool = True,
) -> SeedReport:
    """Insert the documents of every collections file that are not in `db` yet.

    `reset` drops the seeded collections first (and re-creates the indexes).
    """
    files = collection_files(collections_dir)
    if not files:
        raise SeedError(f"no collections files (*.json) in {collections_dir}")
    # Parse everything before touching the database, so a broken file never
    # leaves a half-reset database behind.
    plan = {collection: load_collection(path) for collection, path in files.items()}
    for collection, documents in plan.items():
        key = natural_key(collection)
        for index, doc in enumerate(documents):
            if key not in doc:
                raise SeedError(f"{files[collection].name}: document {index} has no {key!r} field")

    if reset:
        # Dropped before any index is built: the indexes fail on the original Glimpse's
        # shapes. The original's signal lists and a migration's state go too, so a reset
        # database is one `open_database` accepts.
        for collection in [*plan, *RESET_ALSO]:
            db[collection].drop()
        log.info("dropped %d seeded collections", len(plan))
    ensure_indexes(db)

    report = SeedReport()
    for collection, documents in plan.items():
        key = natural_key(collection)
        report.inserted[collection] = 0
        report.existing[collection] = 0
        for doc in documents:
            if not allow_demo and _is_demo(collection, doc):
                report.skipped_demo.append((collection, str(doc[key])))
                continue
            result = db[collection].update_one({key: doc[key]}, {"$setOnInsert": doc}, upsert=True)
            if result.upserted_id is not None:
                report.inserted[collection] += 1
            else:
                report.existing[collection] += 1
    log.info("seeded %d documents into %d collections", report.total_inserted, len(plan))
    return report
