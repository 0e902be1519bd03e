"""`Questions`: what users sent the team (`who` is their email), and the answer.

An answer is written once (`answer`, `answeredBy`, `answeredAt`) and reaches
the user as an in-app alert."""

from __future__ import annotations

from typing import Any

from bson import ObjectId

from glimpse.store import db as names
from glimpse.store.accounts import alert


def answered_filter(answered: bool | None) -> dict[str, Any]:
    if answered is None:
        return {}
    return {"answer": {"$exists": answered}}


def answer(db: Any, question_id: ObjectId, text: str, by: str, now: float) -> dict[str, Any] | None:
    """Record the answer of an unanswered question and alert its author; the question before, or None."""
    before: dict[str, Any] | None = db[names.QUESTIONS].find_one_and_update(
        {"_id": question_id, "answer": {"$exists": False}},
        {"$set": {"answer": text, "answeredBy": by, "answeredAt": now}},
    )
    if before is None:
        return None
    title = "Resposta da equipe Glimpse"
    body = f"{before.get('question', '')}\n\n{text}"
    db[names.ACCOUNTS].update_one(
        {"email": before.get("who", "")}, {"$push": {"alerts": alert(title, body, now)}}
    )
    return before
