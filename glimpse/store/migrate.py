"""Converting an original Glimpse database to this bundle's shapes (`glimpse migrate`).

The original (see shared/reference/original-glimpse-data.md) stores plaintext
passwords, strategies without `nameKey`, signal lists in `Sinais` with rows
that have no id, codes without `premiumDays`, money in reais, and secrets in
`Auxiliar`. `migrate(db, options)` converts such a database in place, in the
order below, before any unique index is built (the indexes fail on the old
shapes), and ends by building the indexes and seeding what is missing:

1. strategies   5. signals
2. emails       6. auxiliar
3. passwords    7. codes
4. broker       8. sessions
                9. finish (money in cents, indexes, seed data)

Every step reads what is still in the old shape and converts only that, each
document with one update conditional on what was read: a second run changes
nothing, and a run stopped at any point is finished by the next one. While a
run has not finished, `Migrations {_id: "original"}` says so and
`refuse_unmigrated` (called by `open_database`) keeps every service from
starting on the half-converted data.

Money: the original's profit fields hold reais, as ints or floats, while this
bundle reads an integer profit as cents. So before anything else the run
stamps every account in the original's shape (a password that is not an
argon2 hash, or no `createdAt`) with `moneyUnit: "reais"`; step 9 converts the
stamped accounts to integer cents and sets `moneyUnit: "cents"`, the marker
the Trades and Operations conversions use too. An account without the marker
keeps the bundle's convention (integers are cents).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bson import ObjectId
from pymongo.errors import PyMongoError

from glimpse.rules.money import GLIMPSE_AUTHOR
from glimpse.rules.pairs import normalize_pair
from glimpse.runtime.config import Config, ConfigError
from glimpse.runtime.security import encrypt_secret, hash_password, is_encrypted
from glimpse.store import accounts, operations_log
from glimpse.store import db as names
from glimpse.store import trades as ledger
from glimpse.store.accounts import IDLE_OPERATING, normalize_email
from glimpse.store.managers import ROLES
from glimpse.store.seed import COLLECTIONS_DIR, load_collection, seed_database

# The original's collection of signal lists (this bundle's is `Signals`).
SINAIS = "Sinais"
# The run's state: one document, `_id` STATE_ID.
MIGRATIONS = "Migrations"
STATE_ID = "original"
# Where accounts merged into another (same email but for letter case) are kept, without secrets.
MERGED_ACCOUNTS = "MigratedDuplicates"
# Where a Sinais list is kept when the user already has a different list in Signals.
MERGED_SINAIS = "MigratedSinais"

REAIS_UNIT = "reais"
CENTS_UNIT = ledger.CENTS_UNIT
MONEY_FIELDS = ledger.ACCOUNT_MONEY_FIELDS

MERGE_POLICIES = ("keep-newest", "keep-oldest")
DEFAULT_CODE_DAYS = 30

# Auxiliar documents the bundle no longer keeps in the database.
OBSOLETE_AUXILIAR = ("apiAddress", "TestCandles")
ANALYSIS_ACCOUNT = "analysisAccount"

_PLAINTEXT = {"$regex": r"^(?!\$argon2id\$)."}  # a non-empty string that is not an argon2id hash
_NOT_NORMAL_EMAIL = {"$regex": r"[A-Z]|^\s|\s$"}
_HORA = re.compile(r"^\s*(\d{1,2})\s*[:hH]\s*(\d{2})\s*$")
_HHMM = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
_ROW_STATUSES = ("active", "canceled", "result")
_RESULTS = ("", "win", "loss", "doji", "skipped")


class UnmigratedDatabase(ConfigError):
    """The database still holds the original Glimpse's shapes: `glimpse migrate` must run first.

    A ConfigError, so every command line turns it into its message and exit code 2.
    """


class MigrationStopped(RuntimeError):
    """The run cannot go on without a decision of the operator (the report says which)."""


# ------------------------------------------------------------------ detection


def unmigrated_reason(db: Any) -> str | None:
    """Why `db` cannot be used before `glimpse migrate`, or None when it can.

    A few indexed-or-small lookups, each stopping at the first document found.
    """
    state = db[MIGRATIONS].find_one({"_id": STATE_ID}, {"status": 1})
    checks: tuple[tuple[str, dict[str, Any], str], ...] = (
        (names.STRATEGIES, {"nameKey": {"$exists": False}}, "strategies without nameKey"),
        (SINAIS, {}, "signal lists in the original's Sinais collection"),
        (names.ACCOUNTS, {"password": _PLAINTEXT}, "plaintext user passwords"),
        (names.MANAGER_ACCOUNTS, {"password": _PLAINTEXT}, "plaintext manager passwords"),
        (names.ACCOUNTS, {"moneyUnit": REAIS_UNIT}, "profits still in reais"),
        (names.ACCOUNTS, {"email": _NOT_NORMAL_EMAIL}, "emails that are not normalised"),
    )
    if state is not None and state.get("status") != "done":
        return "a migration was started and has not finished"
    for collection, query, reason in checks:
        if db[collection].find_one(query, {"_id": 1}) is not None:
            return reason
    return None


def refuse_unmigrated(db: Any) -> None:
    """Raise UnmigratedDatabase (one line) when `db` still needs `glimpse migrate`."""
    reason = unmigrated_reason(db)
    if reason is not None:
        raise UnmigratedDatabase(
            f"the database {db.name!r} holds data of the original Glimpse ({reason}): "
            "run `glimpse migrate` before starting anything"
        )


def unmigrated_problem(config: Config) -> str | None:
    """The one-line refusal for the database of `config`, or None (also when it cannot be reached:
    the service then reports that as it always has)."""
    from glimpse.store.db import open_database

    db = open_database(config, prepare=False)
    try:
        refuse_unmigrated(db)
    except UnmigratedDatabase as exc:
        return str(exc)
    except PyMongoError:
        return None
    finally:
        if config.mongo_uri:
            # A client of its own (an embedded handle is shared): its monitor threads must not outlive the check.
            db.client.close()
    return None


# ------------------------------------------------------------------ options and report


@dataclass(frozen=True)
class Options:
    secret_key: str  # encrypts broker passwords (GLIMPSE_SECRET_KEY of the deployment)
    dry_run: bool = False
    merge_duplicates: str | None = None  # one of MERGE_POLICIES
    drop_broker_passwords: bool = False
    code_days: int = DEFAULT_CODE_DAYS
    hash_profile: str = "standard"
    collections_dir: Path = COLLECTIONS_DIR


@dataclass
class Step:
    name: str
    changes: list[str] = field(default_factory=list)  # what was (or, dry, would be) changed
    problems: list[str] = field(default_factory=list)  # what could not be changed, and why


@dataclass
class Report:
    dry_run: bool = False
    steps: list[Step] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)  # variables the operator must set
    stopped: str | None = None  # why the run stopped before the end

    def step(self, name: str) -> Step:
        self.steps.append(Step(name))
        return self.steps[-1]

    @property
    def changed(self) -> int:
        return sum(len(s.changes) for s in self.steps)

    @property
    def problems(self) -> list[str]:
        return [f"{s.name}: {p}" for s in self.steps for p in s.problems]

    def lines(self) -> list[str]:
        """The report an operator reads."""
        verb = "would change" if self.dry_run else "changed"
        out: list[str] = []
        for index, s in enumerate(self.steps, 1):
            out.append(f"{index}. {s.name}: {len(s.changes)} {verb}, {len(s.problems)} could not")
            out += [f"   - {c}" for c in s.changes]
            out += [f"   ! {p}" for p in s.problems]
        if self.env:
            out.append("Set these variables in the deployment's environment (moved out of Auxiliar):")
            out += [f"   {k}={v}" for k, v in self.env.items()]
        if self.stopped:
            out.append(f"STOPPED: {self.stopped}")
        elif self.changed == 0:
            out.append("Nothing to change: the database is already migrated.")
        else:
            out.append(f"{self.changed} changes{' (dry run: nothing was written)' if self.dry_run else ''}.")
        return out


# ------------------------------------------------------------------ the run


def _id_text(doc: Mapping[str, Any]) -> str:
    return str(doc.get("_id"))


def _generation(doc: Mapping[str, Any]) -> tuple[int, str]:
    oid = doc.get("_id")
    return (int(oid.generation_time.timestamp()) if isinstance(oid, ObjectId) else 0, str(oid))


class _Run:
    def __init__(self, db: Any, options: Options, was_done: bool = False):
        self.db = db
        self.opts = options
        self.was_done = was_done  # a run finished on this database before
        self.report = Report(dry_run=options.dry_run)

    def write(self, action: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run one database write now, unless this is a dry run."""
        if not self.opts.dry_run:
            action(*args, **kwargs)

    # --- 0: before anything -------------------------------------------------------------------

    def duplicate_keys(self, collection: str, key: str) -> dict[str, list[dict[str, Any]]]:
        """Documents whose `key`, trimmed and lower-cased, is shared with another one."""
        groups: dict[str, list[dict[str, Any]]] = {}
        for doc in self.db[collection].find({}, {key: 1, "_id": 1}):
            value = doc.get(key)
            if isinstance(value, str):
                groups.setdefault(value.strip().lower(), []).append(doc)
        return {k: v for k, v in groups.items() if len(v) > 1}

    def preflight(self) -> None:
        dups = {
            (collection, key): found
            for collection, key in ((names.ACCOUNTS, "email"), (names.MANAGER_ACCOUNTS, "user"))
            if (found := self.duplicate_keys(collection, key))
        }
        if dups and self.opts.merge_duplicates is None:
            listed = "; ".join(
                f"{collection}.{key} {value!r}: " + ", ".join(_id_text(d) for d in docs)
                for (collection, key), groups in dups.items()
                for value, docs in groups.items()
            )
            raise MigrationStopped(
                "accounts differ only in the letter case of their login and would collide "
                f"({listed}); rerun with --merge-duplicates {'|'.join(MERGE_POLICIES)}"
            )

    def stamp_money(self) -> None:
        """Mark the accounts in the original's shape: their profits are reais, ints included."""
        query = {
            "moneyUnit": {"$exists": False},
            "$or": [{"password": _PLAINTEXT}, {"createdAt": {"$exists": False}}],
        }
        for doc in list(self.db[names.ACCOUNTS].find(query, {"_id": 1})):
            self.write(
                self.db[names.ACCOUNTS].update_one,
                {"_id": doc["_id"], "moneyUnit": {"$exists": False}},
                {"$set": {"moneyUnit": REAIS_UNIT}},
            )

    # --- 1: strategies ------------------------------------------------------------------------

    def strategies(self) -> None:
        step = self.report.step("strategies")
        docs = list(self.db[names.STRATEGIES].find({}))
        seeded = {
            str(d["name"]).casefold()
            for d in self._seed_docs(names.STRATEGIES)
            if d.get("createdBy") == GLIMPSE_AUTHOR and isinstance(d.get("name"), str)
        }
        used = {str(d.get("name", "")).casefold() for d in docs} | seeded
        groups: dict[str, list[dict[str, Any]]] = {}
        for doc in docs:
            groups.setdefault(str(doc.get("name", "")).casefold(), []).append(doc)
        accounts = list(self.db[names.ACCOUNTS].find({}, {"name": 1, "strategy": 1, "ownedStrategies": 1}))
        for key, members in sorted(groups.items()):
            # Settled first (a previous run decided them), then Glimpse's own, then the oldest.
            members.sort(
                key=lambda d: ("nameKey" not in d, d.get("createdBy") != GLIMPSE_AUTHOR, _generation(d))
            )
            keeper_is_official = members[0].get("createdBy") == GLIMPSE_AUTHOR or "nameKey" in members[0]
            # A seeded Glimpse strategy keeps its name against a trader's strategy of the same name.
            first_renamed = 1 if (key not in seeded or keeper_is_official) else 0
            for index, doc in enumerate(members):
                if "nameKey" in doc:
                    continue
                name = str(doc.get("name", ""))
                new_name = name
                if index >= first_renamed:
                    new_name = self._free_name(name, used)
                    used.add(new_name.casefold())
                owner = self._owner(doc, {name, new_name}, accounts, step)
                if new_name != name:
                    keeper_name = str(members[0].get("name", "")) if first_renamed else None
                    self._rename_references(name, new_name, accounts, keeper_name == name, step)
                    step.changes.append(
                        f"renamed {name!r} to {new_name!r} (the name is taken in another letter case)"
                    )
                if doc.get("createdBy") == GLIMPSE_AUTHOR and key in seeded and new_name == name:
                    step.changes.append(
                        f"{name!r}: the original's Glimpse strategy stands for the seeded one"
                    )
                update = {"name": new_name, "nameKey": new_name.casefold(), "owner": owner}
                self.write(
                    self.db[names.STRATEGIES].update_one,
                    {"_id": doc["_id"], "nameKey": {"$exists": False}},
                    {"$set": update},
                )
                step.changes.append(f"{new_name!r}: nameKey set, owner {owner or 'Glimpse'}")

    @staticmethod
    def _free_name(name: str, used: set[str]) -> str:
        n = 2
        while f"{name} ({n})".casefold() in used:
            n += 1
        return f"{name} ({n})"

    def _owner(
        self, doc: Mapping[str, Any], names_: set[str], accounts: list[dict[str, Any]], step: Step
    ) -> str:
        created_by = str(doc.get("createdBy") or "")
        if created_by == GLIMPSE_AUTHOR:
            return ""
        owners = sorted(
            (a for a in accounts if names_ & set(a.get("ownedStrategies") or ())), key=_generation
        )
        by_name = [a for a in owners if str(a.get("name") or "").split()[:1] == created_by.split()[:1]]
        if by_name or owners:
            return str((by_name or owners)[0]["_id"])
        creators = [a for a in accounts if created_by and str(a.get("name") or "") == created_by]
        if len(creators) == 1:
            return str(creators[0]["_id"])
        step.problems.append(
            f"strategy {doc.get('name')!r} (createdBy {created_by!r}): no account owns it; it has no owner"
        )
        return ""

    def _rename_references(
        self, old: str, new: str, accounts: list[dict[str, Any]], ambiguous: bool, step: Step
    ) -> None:
        if ambiguous:
            # Two strategies had exactly this name: the original looked up the first, so its users keep it.
            step.problems.append(f"{old!r} existed twice with the same letters: accounts keep the first one")
            return
        for account in accounts:
            owned = list(account.get("ownedStrategies") or [])
            changes: dict[str, Any] = {}
            if account.get("strategy") == old:
                changes["strategy"] = new
            if old in owned:
                changes["ownedStrategies"] = [new if n == old else n for n in owned]
            if not changes:
                continue
            self.write(self.db[names.ACCOUNTS].update_one, {"_id": account["_id"]}, {"$set": changes})
            account.update(changes)
            step.changes.append(f"account {account['_id']}: {old!r} → {new!r}")

    # --- 2: emails ----------------------------------------------------------------------------

    def emails(self) -> None:
        step = self.report.step("emails")
        self._merge(names.ACCOUNTS, "email", step)
        self._merge(names.MANAGER_ACCOUNTS, "user", step)
        for collection, key in ((names.ACCOUNTS, "email"), (names.MANAGER_ACCOUNTS, "user")):
            for doc in list(self.db[collection].find({}, {key: 1})):
                value = doc.get(key)
                if not isinstance(value, str):
                    step.problems.append(f"{collection} {doc['_id']}: no {key}")
                    continue
                normal = value.strip().lower()
                if collection == names.ACCOUNTS:
                    try:
                        normalize_email(value)
                    except ValueError:
                        step.problems.append(f"account {doc['_id']}: {value!r} is not a valid email (kept)")
                if normal != value:
                    self.write(
                        self.db[collection].update_one,
                        {"_id": doc["_id"], key: value},
                        {"$set": {key: normal}},
                    )
                    step.changes.append(f"{collection} {doc['_id']}: {value!r} → {normal!r}")

    def _merge(self, collection: str, key: str, step: Step) -> None:
        policy = self.opts.merge_duplicates
        for value, group in self.duplicate_keys(collection, key).items():
            full = sorted(
                (self.db[collection].find_one({"_id": d["_id"]}) or d for d in group), key=_generation
            )
            keeper = full[-1] if policy == "keep-newest" else full[0]
            for other in full:
                if other["_id"] == keeper["_id"]:
                    continue
                self.write(self._fold, collection, keeper, other)
                step.changes.append(
                    f"{collection} {other['_id']} merged into {keeper['_id']} ({value!r}, {policy}); "
                    f"kept without secrets in {MERGED_ACCOUNTS}"
                )

    def _hash(self, collection: str, doc_id: Any, plain: str) -> None:
        hashed = hash_password(plain, self.opts.hash_profile)
        self.db[collection].update_one({"_id": doc_id, "password": plain}, {"$set": {"password": hashed}})

    def _fold(self, collection: str, keeper: Mapping[str, Any], other: Mapping[str, Any]) -> None:
        archived = {
            k: v for k, v in other.items() if k not in ("password", "iqPassword", "passwordRecoverCode")
        }
        archived.update(collection=collection, mergedInto=keeper["_id"])
        self.db[MERGED_ACCOUNTS].update_one({"_id": other["_id"]}, {"$setOnInsert": archived}, upsert=True)
        if collection == names.ACCOUNTS:
            owned = [n for n in other.get("ownedStrategies") or [] if isinstance(n, str)]
            update: dict[str, Any] = {}
            if owned:
                update["$addToSet"] = {"ownedStrategies": {"$each": owned}}
            days = other.get("premiumDays")
            if isinstance(days, int) and not isinstance(days, bool):
                update["$max"] = {"premiumDays": days}
            if update:
                self.db[collection].update_one({"_id": keeper["_id"]}, update)
        self.db[collection].delete_one({"_id": other["_id"]})

    # --- 3: passwords -------------------------------------------------------------------------

    def passwords(self) -> None:
        step = self.report.step("passwords")
        for collection in (names.ACCOUNTS, names.MANAGER_ACCOUNTS):
            for doc in list(self.db[collection].find({"password": _PLAINTEXT}, {"password": 1})):
                plain = str(doc["password"])
                self.write(self._hash, collection, doc["_id"], plain)
                step.changes.append(f"{collection} {doc['_id']}: password hashed (argon2id)")
            for doc in self.db[collection].find({"password": {"$in": ["", None]}}, {"_id": 1}):
                step.problems.append(f"{collection} {doc['_id']}: no password; the account must reset it")
        for doc in list(self.db[names.ACCOUNTS].find({"passwordRecoverCode": {"$exists": True}}, {"_id": 1})):
            self.write(
                self.db[names.ACCOUNTS].update_one,
                {"_id": doc["_id"]},
                {"$unset": {"passwordRecoverCode": ""}},
            )
            step.changes.append(f"account {doc['_id']}: plaintext passwordRecoverCode deleted")
        for doc in list(self.db[names.MANAGER_ACCOUNTS].find({"rol": {"$nin": list(ROLES)}}, {"_id": 1})):
            self.write(
                self.db[names.MANAGER_ACCOUNTS].update_one,
                {"_id": doc["_id"], "rol": {"$nin": list(ROLES)}},
                {"$set": {"rol": "admin"}},
            )
            step.changes.append(f"manager {doc['_id']}: role admin")

    # --- 4: broker passwords ------------------------------------------------------------------

    def broker(self) -> None:
        step = self.report.step("broker passwords")
        query = {"iqPassword": {"$type": "string", "$nin": [""]}}
        for doc in list(self.db[names.ACCOUNTS].find(query, {"iqPassword": 1, "iqEmail": 1})):
            plain = doc["iqPassword"]
            if not isinstance(plain, str) or is_encrypted(plain):
                continue
            if self.opts.drop_broker_passwords:
                update: dict[str, Any] = {"iqPassword": "", "iqConnected": False}
                step.changes.append(
                    f"account {doc['_id']}: broker password dropped (--drop-broker-passwords)"
                )
            elif not self.opts.secret_key:
                step.problems.append(
                    f"account {doc['_id']}: no GLIMPSE_SECRET_KEY to encrypt the broker password"
                )
                continue
            else:
                has_email = bool(str(doc.get("iqEmail") or "").strip())
                update = {"iqPassword": encrypt_secret(self.opts.secret_key, plain), "iqConnected": has_email}
                step.changes.append(
                    f"account {doc['_id']}: broker password encrypted, iqConnected {has_email}"
                )
                if not has_email:
                    step.problems.append(
                        f"account {doc['_id']}: a broker password without iqEmail; run checkIq"
                    )
            self.write(
                self.db[names.ACCOUNTS].update_one, {"_id": doc["_id"], "iqPassword": plain}, {"$set": update}
            )

    # --- 5: signals ---------------------------------------------------------------------------

    def signals(self) -> None:
        step = self.report.step("signals")
        for doc in list(self.db[SINAIS].find({})):
            user = str(doc.get("user") or "")
            rows = doc.get("signals") if isinstance(doc.get("signals"), list) else []
            converted = [self._row(doc["_id"], i, row, user, step) for i, row in enumerate(rows)]
            if not user:
                step.problems.append(f"Sinais {doc['_id']}: no user; kept in {MERGED_SINAIS}")
                self.write(self._set_aside, doc)
                continue
            if not (
                ObjectId.is_valid(user) and self.db[names.ACCOUNTS].count_documents({"_id": ObjectId(user)})
            ):
                step.problems.append(f"Sinais of {user}: no such account (moved all the same)")
            existing = self.db[names.SIGNALS].find_one({"user": user})
            ours = {row["id"] for row in converted}
            theirs = [r for r in (existing or {}).get("signals") or [] if isinstance(r, Mapping)]
            if theirs and not {str(r.get("id")) for r in theirs} <= ours:
                step.problems.append(
                    f"Sinais of {user}: the user already has another list in Signals; "
                    f"the original's list is kept in {MERGED_SINAIS}"
                )
                self.write(self._set_aside, doc)
                continue
            kind = str(doc.get("type") or "user")

            self.write(self._move_list, doc["_id"], user, converted, kind)
            step.changes.append(f"Sinais of {user}: {len(converted)} rows moved to Signals")
        # The original's Signals held one empty placeholder {_id}; the unique index on user allows one only.
        for doc in list(self.db[names.SIGNALS].find({"user": {"$exists": False}}, {"_id": 1})):
            self.write(self.db[names.SIGNALS].delete_one, {"_id": doc["_id"], "user": {"$exists": False}})
            step.changes.append(f"Signals {doc['_id']}: empty placeholder without a user deleted")

    def _move_list(self, list_id: Any, user: str, rows: list[dict[str, Any]], kind: str) -> None:
        # Signals first: a run stopped between the two writes finds the Sinais list again and writes the same rows.
        self.db[names.SIGNALS].update_one(
            {"user": user}, {"$set": {"signals": rows, "type": kind}}, upsert=True
        )
        self.db[SINAIS].delete_one({"_id": list_id})

    def _set_aside(self, doc: Mapping[str, Any]) -> None:
        self.db[MERGED_SINAIS].update_one({"_id": doc["_id"]}, {"$setOnInsert": dict(doc)}, upsert=True)
        self.db[SINAIS].delete_one({"_id": doc["_id"]})

    @staticmethod
    def row_id(list_id: Any, index: int) -> str:
        """A row's id, the same on every run (12 hex digits, like the API's)."""
        return hashlib.sha256(f"{list_id}:{index}".encode()).hexdigest()[:12]

    def _row(self, list_id: Any, index: int, raw: Any, user: str, step: Step) -> dict[str, Any]:
        row: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        ativo_raw = str(row.get("ativo") or "")
        hora_raw = str(row.get("hora") or "")
        operacao = str(row.get("operacao") or "").strip().lower()
        status = str(row.get("status") or "active").strip().lower()
        resultado = str(row.get("resultado") or "").strip().lower()
        ativo = normalize_pair(ativo_raw) or ativo_raw.strip().upper()
        hora = hora_raw
        if (m := _HORA.match(hora_raw)) and int(m[1]) < 24 and int(m[2]) < 60:
            hora = f"{int(m[1]):02d}:{m[2]}"
        problems: list[str] = []
        if not any(str(v).strip() for v in row.values()):
            problems.append("blank row")
        else:
            if normalize_pair(ativo_raw) is None:
                problems.append(f"unknown pair {ativo_raw!r}")
            if not _HHMM.fullmatch(hora):
                problems.append(f"time {hora_raw!r} is not HH:MM")
            if operacao not in ("call", "put"):
                problems.append(f"operacao {row.get('operacao')!r} is neither call nor put")
        status = status if status in _ROW_STATUSES else "active"
        resultado = resultado if resultado in _RESULTS else ""
        out: dict[str, Any] = {
            "id": self.row_id(list_id, index),
            "status": status,
            "ativo": ativo,
            "hora": hora,
            "operacao": operacao,
            "resultado": resultado if status == "result" else "",
        }
        if problems:
            # Kept for the user to see and fix, never traded: canceled, with the reason and the row as sent.
            out.update(status="canceled", resultado="", invalid="; ".join(problems), original=dict(row))
            step.problems.append(f"Sinais of {user}, row {index + 1}: {'; '.join(problems)} (kept, canceled)")
        return out

    # --- 6: auxiliar --------------------------------------------------------------------------

    def auxiliar(self) -> None:
        step = self.report.step("auxiliar")
        aux = self.db[names.AUXILIAR]
        account = aux.find_one({"name": ANALYSIS_ACCOUNT})
        if account is not None:
            value = str(account.get("value") or "")
            email, _, password = value.partition("/")
            if email and password:
                shown = "*" * len(password) if self.opts.dry_run else password
                self.report.env.update(
                    GLIMPSE_MARKET_EMAIL=email.strip(),
                    GLIMPSE_MARKET_PASSWORD=shown,
                    GLIMPSE_BROKER="iqoption",
                )
            else:
                step.problems.append("analysisAccount is not 'email/password': nothing to move")
            self.write(aux.delete_one, {"name": ANALYSIS_ACCOUNT})
            step.changes.append("analysisAccount moved out of the database (see the variables below)")
        for name in OBSOLETE_AUXILIAR:
            if aux.find_one({"name": name}, {"_id": 1}) is not None:
                self.write(aux.delete_many, {"name": name})
                step.changes.append(f"Auxiliar {name} deleted")
        terms = aux.find_one({"name": "Terms"})
        if terms is None or not str(terms.get("value") or "").strip():
            seeded = next((d for d in self._seed_docs(names.AUXILIAR) if d.get("name") == "Terms"), None)
            if seeded is not None:
                text = seeded.get("value", "")
                self.write(aux.update_one, {"name": "Terms"}, {"$set": {"value": text}}, upsert=True)
                step.changes.append("Terms were empty: seeded")
        for doc in list(
            aux.find({"name": "Maintenance", "value": {"$in": ["True", "False", "true", "false"]}})
        ):
            flag = str(doc["value"]).lower() == "true"
            self.write(aux.update_one, {"_id": doc["_id"]}, {"$set": {"value": flag}})
            step.changes.append(f"Maintenance {doc['value']!r} → {flag}")

    # --- 7: codes -----------------------------------------------------------------------------

    def codes(self) -> None:
        step = self.report.step("codes")
        query = {"premiumDays": {"$exists": False}, "usedBy": {"$in": ["", None]}}
        for doc in list(self.db[names.CODES].find(query, {"code": 1})):
            self.write(
                self.db[names.CODES].update_one,
                {"_id": doc["_id"], "premiumDays": {"$exists": False}},
                {"$set": {"premiumDays": self.opts.code_days}},
            )
            step.changes.append(f"code {doc.get('code')}: premiumDays {self.opts.code_days}")

    # --- 8: sessions --------------------------------------------------------------------------

    def sessions(self) -> None:
        step = self.report.step("sessions")
        # Only accounts from the original (stamped by this migration), and only until a run finished:
        # until then nothing could start on the database, so a session that looks live is the old one's.
        query = {"glimpseStatus": {"$nin": ["off"]}, "moneyUnit": {"$in": [REAIS_UNIT, CENTS_UNIT]}}
        for doc in [] if self.was_done else list(self.db[names.ACCOUNTS].find(query, {"glimpseStatus": 1})):
            status = doc.get("glimpseStatus")
            self.write(
                self.db[names.ACCOUNTS].update_one,
                {"_id": doc["_id"], "glimpseStatus": status},
                {
                    "$set": {"glimpseStatus": "off", "operating": dict(IDLE_OPERATING, tries=[])},
                    "$unset": {"server": "", "assignment": "", "waitingSince": "", "assignedAt": ""},
                },
            )
            step.changes.append(f"account {doc['_id']}: {status!r} → 'off' (caught mid-session)")
        # This bundle's servers carry the id of the process running them; the old deployment's do not.
        for doc in list(self.db[names.SERVERS].find({"incarnation": {"$exists": False}}, {"name": 1})):
            self.write(self.db[names.SERVERS].delete_one, {"_id": doc["_id"]})
            step.changes.append(f"server {doc.get('name')!r} of the old deployment removed")
        # The original wrote some candle lists as a JSON string; the bot reads lists.
        for doc in list(
            self.db[names.REALTIME_CANDLES].find({"candles": {"$type": "string"}}, {"candles": 1})
        ):
            try:
                candles = json.loads(doc["candles"])
            except ValueError:
                candles = None
            if not isinstance(candles, list):
                step.problems.append(
                    f"RealtimeCandles {doc['_id']}: candles unreadable; the streams rewrite them"
                )
                continue
            self.write(
                self.db[names.REALTIME_CANDLES].update_one,
                {"_id": doc["_id"], "candles": doc["candles"]},
                {"$set": {"candles": candles}},
            )
            step.changes.append(f"RealtimeCandles {doc['_id']}: candles from a JSON string to a list")
        # The original's Operations held an empty placeholder {_id}: it is no session log.
        placeholder = {"user": {"$exists": False}, "operations": {"$exists": False}}
        for doc in list(self.db[names.OPERATIONS].find(placeholder, {"_id": 1})):
            self.write(self.db[names.OPERATIONS].delete_one, {"_id": doc["_id"], **placeholder})
            step.changes.append(f"Operations {doc['_id']}: empty placeholder deleted")

    # --- 9: finish ----------------------------------------------------------------------------

    def finish(self) -> None:
        step = self.report.step("finish")
        for doc in list(self.db[names.ACCOUNTS].find({"moneyUnit": REAIS_UNIT})):
            new: dict[str, Any] = {f: ledger.to_cents(doc[f]) for f in MONEY_FIELDS if _is_number(doc.get(f))}
            for key in accounts.MONEY_SETTINGS_FIELDS:
                if isinstance(doc.get(key), dict):
                    new[key] = _settings_in_decimal128(doc[key])
            self.write(
                self.db[names.ACCOUNTS].update_one,
                {"_id": doc["_id"], "moneyUnit": REAIS_UNIT},
                {"$set": {**new, "moneyUnit": CENTS_UNIT}},
            )
            step.changes.append(f"account {doc['_id']}: profits from reais to integer cents")
        for collection in (names.OPERATIONS, names.TRADES):
            pending = self.db[collection].count_documents(
                {"moneyUnit": {"$ne": CENTS_UNIT}, "operations": {"$exists": True}}
                if collection == names.OPERATIONS
                else {"moneyUnit": {"$ne": CENTS_UNIT}}
            )
            if pending:
                step.changes.append(f"{collection}: {pending} documents from reais to integer cents")
        if self.opts.dry_run:
            return
        ledger.convert_to_cents(self.db)
        operations_log.convert_to_cents(self.db)
        try:
            seeded = seed_database(self.db, collections_dir=self.opts.collections_dir, allow_demo=False)
        except PyMongoError as exc:
            raise MigrationStopped(f"building the indexes failed: {exc}") from exc
        for collection, count in seeded.inserted.items():
            if count:
                step.changes.append(f"{collection}: {count} seed documents added")

    def _seed_docs(self, collection: str) -> list[dict[str, Any]]:
        path = Path(self.opts.collections_dir) / f"{collection}.json"
        return load_collection(path) if path.exists() else []


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _settings_in_decimal128(settings: dict[str, Any]) -> dict[str, Any]:
    """The original's money settings with each numeric amount as Decimal128; anything else is
    left as it is for the app to show and the user to correct."""
    numeric = {k: v for k, v in settings.items() if k in accounts.SETTING_AMOUNTS and _is_number(v)}
    return {**settings, **accounts.stored_money_settings(numeric)}


STEPS: tuple[str, ...] = (
    "strategies", "emails", "passwords", "broker", "signals", "auxiliar", "codes", "sessions", "finish",
)  # fmt: skip


def migrate(db: Any, options: Options, *, now: float | None = None) -> Report:
    """Convert the original Glimpse database `db` in place (see the module's docstring).

    The report lists what changed (or would, in a dry run) and what could not.
    A run that must stop (colliding logins without --merge-duplicates, an
    index that cannot be built) sets `report.stopped` and writes nothing more.
    """
    state = db[MIGRATIONS]
    # A database migrated before stays usable while a later run tidies it; any other run
    # first marks the database as half-converted, so nothing starts on it until the end.
    was_done = state.find_one({"_id": STATE_ID, "status": "done"}, {"_id": 1}) is not None
    run = _Run(db, options, was_done)
    try:
        run.preflight()
    except MigrationStopped as exc:
        run.report.stopped = str(exc)
        return run.report
    if not was_done:
        run.write(
            lambda: state.update_one(
                {"_id": STATE_ID}, {"$set": {"status": "running", "startedAt": now}}, upsert=True
            )
        )
    run.stamp_money()
    try:
        for name in STEPS:
            getattr(run, name)()
    except MigrationStopped as exc:
        run.report.stopped = str(exc)
        return run.report
    summary = {"changes": run.report.changed, "problems": run.report.problems}
    if run.report.changed or not was_done:
        run.write(
            lambda: state.update_one(
                {"_id": STATE_ID}, {"$set": {"status": "done", "finishedAt": now, "last": summary}}
            )
        )
    return run.report


def copy_database(source: Any, target: Any, collections: Iterable[str] | None = None) -> dict[str, int]:
    """Copy every document of `source` missing from `target` (by `_id`); collection -> copied count.

    Safe to run again: documents already copied are left as they are.
    """
    copied: dict[str, int] = {}
    for name in sorted(collections if collections is not None else source.list_collection_names()):
        if name.startswith("system."):
            continue
        count = 0
        for doc in source[name].find({}):
            result = target[name].update_one({"_id": doc["_id"]}, {"$setOnInsert": doc}, upsert=True)
            count += int(result.upserted_id is not None)
        copied[name] = count
    return copied
