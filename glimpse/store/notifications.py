"""Notifications: the event queue, the per-destination deliveries, Telegram links and webhooks.

Trading code only inserts into the queue (`NotificationQueue`, through
glimpse.runtime.notify.enqueue). The notifier (auxiliar/notifier.py) fans
each queued event out into one delivery per destination
(`NotificationDeliveries`: a Telegram chat or a webhook), then sends the
deliveries. A delivery's `_id` is derived from the event and the
destination, so fanning the same event out twice (after a crash) inserts
nothing new. A failing destination pushes back every pending delivery to it
(per-destination back-off), so it never holds a worker while it waits.

Per-user preferences (`NotificationPrefs`, `_id` = the user's id hex): the
message language, one switch per event, the linked Telegram chat and the
pending link code (only its SHA-256 is stored). Webhooks (`Webhooks`) belong
to a trader (scope "user": their own events) or to the managers (scope
"all": every user's events); their signing secret is stored encrypted.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, TypedDict, cast

from bson import ObjectId
from bson.errors import InvalidId
from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError

QUEUE = "NotificationQueue"
DELIVERIES = "NotificationDeliveries"
PREFS = "NotificationPrefs"
WEBHOOKS = "Webhooks"
STATE = "NotifierState"

# The events a trader can switch on and off (all on by default).
SESSION_STARTED = "sessionStarted"
SESSION_STOPPED = "sessionStopped"
CYCLE_RESULT = "cycleResult"
STOP_LOSS = "stopLoss"
STOP_WIN = "stopWin"
DAILY_SUMMARY = "dailySummary"
EVENTS = (SESSION_STARTED, SESSION_STOPPED, CYCLE_RESULT, STOP_LOSS, STOP_WIN, DAILY_SUMMARY)
# Events the system sends whatever the switches say: a test button, the link confirmation.
TEST = "test"
LINKED = "telegramLinked"
SYSTEM_EVENTS = (TEST, LINKED)

LANGUAGES = ("pt-BR", "en")
DEFAULT_LANGUAGE = "pt-BR"

TELEGRAM, WEBHOOK = "telegram", "webhook"
SCOPE_USER, SCOPE_ALL = "user", "all"

# Queue statuses.
NEW, FANNING, DONE = "new", "fanning", "done"
# Delivery statuses.
PENDING, SENDING, SENT, DEAD = "pending", "sending", "sent", "dead"

INDEXES: dict[str, list[IndexModel]] = {
    QUEUE: [IndexModel([("status", ASCENDING), ("_id", ASCENDING)], name="status_order")],
    DELIVERIES: [
        IndexModel([("status", ASCENDING), ("nextAttemptAt", ASCENDING)], name="due"),
        IndexModel([("destination", ASCENDING), ("status", ASCENDING)], name="destination"),
    ],
    PREFS: [IndexModel([("link.codeHash", ASCENDING)], name="link_code", sparse=True)],
    WEBHOOKS: [IndexModel([("owner", ASCENDING)], name="owner")],
}


def ensure_indexes(db: Any) -> None:
    for collection, models in INDEXES.items():
        db[collection].create_indexes(models)


def code_hash(code: str) -> str:
    """What is stored of a one-time link code (codes are upper-case; what a trader types may not be)."""
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


# ----------------------------------------------------------------------------- the queue


class QueuedEvent(TypedDict):
    _id: ObjectId
    eventId: str
    user: str
    event: str
    data: dict[str, Any]
    createdAt: float
    status: str


def insert_event(db: Any, doc: QueuedEvent) -> None:
    db[QUEUE].insert_one(dict(doc))


def claim_events(db: Any, now: float, lease: float, limit: int) -> list[QueuedEvent]:
    """Up to `limit` queued events, oldest first, claimed for fan-out (and events a dead notifier left claimed)."""
    claimed: list[QueuedEvent] = []
    query = {"$or": [{"status": NEW}, {"status": FANNING, "claimedUntil": {"$lt": now}}]}
    for _ in range(limit):
        doc = db[QUEUE].find_one_and_update(
            query,
            {"$set": {"status": FANNING, "claimedUntil": now + lease}},
            sort=[("_id", ASCENDING)],
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            break
        claimed.append(cast(QueuedEvent, doc))
    return claimed


def event_done(db: Any, event_id: ObjectId) -> None:
    db[QUEUE].update_one({"_id": event_id}, {"$set": {"status": DONE}, "$unset": {"claimedUntil": ""}})


def prune_events(db: Any, before: float) -> int:
    """Forget fanned-out events and finished deliveries created before `before`."""
    gone = db[QUEUE].delete_many({"status": DONE, "createdAt": {"$lt": before}}).deleted_count
    gone += (
        db[DELIVERIES]
        .delete_many({"status": {"$in": [SENT, DEAD]}, "createdAt": {"$lt": before}})
        .deleted_count
    )
    return int(gone)


# ----------------------------------------------------------------------------- deliveries


class Delivery(TypedDict):
    _id: str
    eventId: str
    event: str
    user: str
    channel: str  # telegram | webhook
    target: str  # the chat id, or the webhook's id hex
    destination: str  # channel:target, the unit of back-off
    data: dict[str, Any]
    eventAt: float
    eventSeq: ObjectId  # the queued event's id: deliveries to one destination go in event order
    createdAt: float
    status: str
    attempts: int
    nextAttemptAt: float


def new_delivery(event: QueuedEvent, channel: str, target: str, now: float) -> Delivery:
    destination = f"{channel}:{target}"
    return Delivery(
        _id=f"{event['eventId']}:{destination}",
        eventId=event["eventId"],
        event=event["event"],
        user=event["user"],
        channel=channel,
        target=target,
        destination=destination,
        data=dict(event["data"]),
        eventAt=float(event["createdAt"]),
        eventSeq=event["_id"],
        createdAt=now,
        status=PENDING,
        attempts=0,
        nextAttemptAt=now,
    )


def add_delivery(db: Any, delivery: Delivery) -> bool:
    """Insert a delivery; False when it exists already (the event was fanned out before).

    A destination in back-off (a failed delivery waits for its retry) gets the new one no sooner.
    """
    failing = db[DELIVERIES].find_one(
        {"destination": delivery["destination"], "status": PENDING, "attempts": {"$gt": 0}},
        sort=[("nextAttemptAt", DESCENDING)],
    )
    doc = dict(delivery)
    if failing is not None:
        doc["nextAttemptAt"] = max(float(failing["nextAttemptAt"]), delivery["nextAttemptAt"])
    try:
        db[DELIVERIES].insert_one(doc)
    except DuplicateKeyError:
        return False
    return True


def claim_delivery(db: Any, now: float, lease: float, busy: set[str] | frozenset[str]) -> Delivery | None:
    """The most overdue delivery whose destination is not `busy`, marked as being sent until now + lease."""
    query: dict[str, Any] = {
        "$or": [
            {"status": PENDING, "nextAttemptAt": {"$lte": now}},
            {"status": SENDING, "leaseUntil": {"$lt": now}},
        ]
    }
    if busy:
        query["destination"] = {"$nin": sorted(busy)}
    doc = db[DELIVERIES].find_one_and_update(
        query,
        {"$set": {"status": SENDING, "leaseUntil": now + lease}},
        sort=[("nextAttemptAt", ASCENDING), ("eventSeq", ASCENDING)],
        return_document=ReturnDocument.AFTER,
    )
    return None if doc is None else cast(Delivery, doc)


def delivery_sent(db: Any, delivery_id: str, now: float) -> None:
    db[DELIVERIES].update_one(
        {"_id": delivery_id},
        {"$set": {"status": SENT, "sentAt": now}, "$inc": {"attempts": 1}, "$unset": {"leaseUntil": ""}},
    )


def delivery_failed(db: Any, delivery: Delivery, error: str, now: float, retry_at: float | None) -> None:
    """Record a failed attempt: retry at `retry_at` (and hold every pending delivery to the same
    destination until then), or give the delivery up when `retry_at` is None."""
    update: dict[str, Any] = {
        "$set": {"lastError": error[:500], "lastAttemptAt": now},
        "$inc": {"attempts": 1},
        "$unset": {"leaseUntil": ""},
    }
    if retry_at is None:
        update["$set"]["status"] = DEAD
    else:
        update["$set"].update(status=PENDING, nextAttemptAt=retry_at)
        db[DELIVERIES].update_many(
            {"destination": delivery["destination"], "status": PENDING, "nextAttemptAt": {"$lt": retry_at}},
            {"$set": {"nextAttemptAt": retry_at}},
        )
    db[DELIVERIES].update_one({"_id": delivery["_id"]}, update)


def deliveries_of(db: Any, event_id: str) -> list[Delivery]:
    return [cast(Delivery, d) for d in db[DELIVERIES].find({"eventId": event_id}).sort("_id", ASCENDING)]


# ----------------------------------------------------------------------------- preferences and Telegram


@dataclass
class Prefs:
    """A user's notification preferences (the defaults when they never set any)."""

    user: str
    language: str = DEFAULT_LANGUAGE
    events: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(EVENTS, True))
    chat_id: int | None = None
    linked_at: float | None = None
    chat_name: str = ""
    summary_day: str = ""

    def wants(self, event: str) -> bool:
        return event in SYSTEM_EVENTS or self.events.get(event, True)

    def public(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "events": dict(self.events),
            "telegram": {
                "linked": self.chat_id is not None,
                "linkedAt": self.linked_at,
                "chat": self.chat_name,
            },
        }

    @classmethod
    def from_doc(cls, user: str, doc: dict[str, Any] | None) -> Prefs:
        prefs = cls(user=user)
        if doc is None:
            return prefs
        language = doc.get("language")
        if language in LANGUAGES:
            prefs.language = str(language)
        stored = doc.get("events")
        if isinstance(stored, dict):
            prefs.events.update({k: bool(v) for k, v in stored.items() if k in EVENTS})
        telegram = doc.get("telegram")
        if isinstance(telegram, dict) and isinstance(telegram.get("chatId"), int):
            prefs.chat_id = int(telegram["chatId"])
            linked = telegram.get("linkedAt")
            prefs.linked_at = float(linked) if isinstance(linked, (int, float)) else None
            prefs.chat_name = str(telegram.get("chatName") or "")
        prefs.summary_day = str(doc.get("summaryDay") or "")
        return prefs


def prefs_of(db: Any, user: str) -> Prefs:
    return Prefs.from_doc(user, db[PREFS].find_one({"_id": user}))


def set_prefs(
    db: Any, user: str, *, language: str | None = None, events: dict[str, bool] | None = None
) -> Prefs:
    """Change the language and/or some event switches; unknown events or languages raise ValueError."""
    changes: dict[str, Any] = {}
    if language is not None:
        if language not in LANGUAGES:
            raise ValueError(f"unknown language {language!r}")
        changes["language"] = language
    for event, on in (events or {}).items():
        if event not in EVENTS:
            raise ValueError(f"unknown event {event!r}")
        changes[f"events.{event}"] = bool(on)
    if changes:
        db[PREFS].update_one({"_id": user}, {"$set": changes}, upsert=True)
    return prefs_of(db, user)


def start_link(db: Any, user: str, code: str, expires_at: float) -> None:
    """Remember a one-time code for linking a Telegram chat (a new code replaces the old one)."""
    db[PREFS].update_one(
        {"_id": user}, {"$set": {"link": {"codeHash": code_hash(code), "expiresAt": expires_at}}}, upsert=True
    )


def complete_link(db: Any, code: str, chat_id: int, chat_name: str, now: float) -> str | None:
    """Link `chat_id` to the user whose live code this is (the code is then spent); the user, or None."""
    doc = db[PREFS].find_one_and_update(
        {"link.codeHash": code_hash(code), "link.expiresAt": {"$gt": now}},
        {
            "$set": {"telegram": {"chatId": chat_id, "chatName": chat_name[:100], "linkedAt": now}},
            "$unset": {"link": ""},
        },
        return_document=ReturnDocument.AFTER,
    )
    return None if doc is None else str(doc["_id"])


def unlink(db: Any, user: str) -> bool:
    done = db[PREFS].update_one({"_id": user, "telegram": {"$exists": True}}, {"$unset": {"telegram": ""}})
    return bool(done.modified_count == 1)


def linked_users(db: Any) -> list[str]:
    return [str(d["_id"]) for d in db[PREFS].find({"telegram.chatId": {"$exists": True}}, {"_id": 1})]


def claim_summary_day(db: Any, user: str, day: str) -> bool:
    """True once per (user, day): whoever gets True sends that day's summary."""
    done = db[PREFS].update_one({"_id": user, "summaryDay": {"$ne": day}}, {"$set": {"summaryDay": day}})
    return bool(done.modified_count == 1)


# ----------------------------------------------------------------------------- webhooks


@dataclass(frozen=True)
class Webhook:
    id: ObjectId
    owner: str  # the user's id hex, or the manager's for scope "all"
    scope: str  # user | all
    url: str
    secret: str  # encrypted with GLIMPSE_SECRET_KEY
    created_at: float

    def public(self) -> dict[str, Any]:
        return {"id": str(self.id), "url": self.url, "scope": self.scope, "createdAt": self.created_at}

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Webhook:
        return cls(
            id=doc["_id"],
            owner=str(doc.get("owner") or ""),
            scope=str(doc.get("scope") or SCOPE_USER),
            url=str(doc["url"]),
            secret=str(doc.get("secret") or ""),
            created_at=float(doc.get("createdAt") or 0.0),
        )


MAX_WEBHOOKS_PER_OWNER = 5


def add_webhook(
    db: Any, owner: str, scope: str, url: str, encrypted_secret: str, now: float
) -> Webhook | None:
    """A new webhook, or None when the owner has MAX_WEBHOOKS_PER_OWNER already."""
    if scope not in (SCOPE_USER, SCOPE_ALL):
        raise ValueError(f"unknown scope {scope!r}")
    if db[WEBHOOKS].count_documents({"owner": owner, "scope": scope}) >= MAX_WEBHOOKS_PER_OWNER:
        return None
    doc = {"owner": owner, "scope": scope, "url": url, "secret": encrypted_secret, "createdAt": now}
    inserted = db[WEBHOOKS].insert_one(doc)
    return Webhook.from_doc(dict(doc, _id=inserted.inserted_id))


def _oid(value: str) -> ObjectId | None:
    try:
        return ObjectId(value)
    except (InvalidId, TypeError):
        return None


def get_webhook(db: Any, webhook_id: str) -> Webhook | None:
    key = _oid(webhook_id)
    doc = None if key is None else db[WEBHOOKS].find_one({"_id": key})
    return None if doc is None else Webhook.from_doc(doc)


def webhooks_of(db: Any, owner: str | None, scope: str) -> list[Webhook]:
    """A trader's webhooks (owner, scope user), or every all-events webhook (owner None, scope all)."""
    query: dict[str, Any] = {"scope": scope}
    if owner is not None:
        query["owner"] = owner
    return [Webhook.from_doc(d) for d in db[WEBHOOKS].find(query).sort("_id", ASCENDING)]


def delete_webhook(db: Any, webhook_id: str, owner: str | None, scope: str) -> bool:
    """Delete a webhook of `scope` (owned by `owner`, when given); False when there is no such webhook."""
    key = _oid(webhook_id)
    if key is None:
        return False
    query: dict[str, Any] = {"_id": key, "scope": scope}
    if owner is not None:
        query["owner"] = owner
    return bool(db[WEBHOOKS].delete_one(query).deleted_count == 1)


def destinations_for(db: Any, user: str, event: str, data: dict[str, Any]) -> list[tuple[str, str]]:
    """(channel, target) pairs an event of `user` goes to, after the user's switches.

    A test event goes only where it names (`data.channel`, and `data.webhook` for a webhook).
    Webhooks of scope "all" get every user's events, whatever the user's switches say.
    """
    prefs = prefs_of(db, user)
    if event == TEST or event == LINKED:
        if data.get("channel") == TELEGRAM:
            return [(TELEGRAM, str(prefs.chat_id))] if prefs.chat_id is not None else []
        hook = get_webhook(db, str(data.get("webhook") or ""))
        return [(WEBHOOK, str(hook.id))] if hook is not None else []
    out: list[tuple[str, str]] = []
    if prefs.wants(event):
        if prefs.chat_id is not None:
            out.append((TELEGRAM, str(prefs.chat_id)))
        out.extend((WEBHOOK, str(h.id)) for h in webhooks_of(db, user, SCOPE_USER))
    out.extend((WEBHOOK, str(h.id)) for h in webhooks_of(db, None, SCOPE_ALL))
    return out


def users_with_destinations(db: Any) -> list[str]:
    """Users with a linked chat or a webhook of their own (those who get a daily summary)."""
    users = set(linked_users(db))
    users.update(str(d["owner"]) for d in db[WEBHOOKS].find({"scope": SCOPE_USER}, {"owner": 1}))
    return sorted(users)


# ----------------------------------------------------------------------------- notifier state


def get_state(db: Any, key: str) -> dict[str, Any]:
    doc = db[STATE].find_one({"_id": key})
    return dict(doc) if doc is not None else {"_id": key}


def set_state(db: Any, key: str, **values: Any) -> None:
    db[STATE].update_one({"_id": key}, {"$set": values}, upsert=True)
