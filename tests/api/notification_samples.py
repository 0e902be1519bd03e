"""A valid request body for every notification route (api/routes/notifications.py), by view name."""

from __future__ import annotations

from typing import Any

NOTIFICATION_SAMPLES: dict[str, Any] = {
    "get_notifications": {},
    "set_notifications": {"language": "en", "events": {"cycleResult": False, "dailySummary": True}},
    "link_telegram": {},
    "unlink_telegram": {},
    "test_telegram": {},
    "get_webhooks": {},
    "register_webhook": {"url": "https://127.0.0.1:9/glimpse"},
    "delete_webhook": {"id": "665f1c2e8a1b2c3d4e5f6a01"},
    "test_webhook": {"id": "665f1c2e8a1b2c3d4e5f6a01"},
}
