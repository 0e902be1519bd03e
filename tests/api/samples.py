"""A valid request body for every body-taking route, by view name."""

from __future__ import annotations

from typing import Any

SAMPLES: dict[str, Any] = {
    "login": {"email": "ana@example.com", "password": "correct horse battery"},
    "manager_login": {"email": "boss@example.com", "password": "correct horse battery"},
    "logout": {},
    "get_user": {"userMail": "ana@example.com"},
    "update_user": {"fields": ["readTerms"], "values": [True]},
    "check_code": {"code": "WELCOME1"},
    "insert_user": {
        "userName": "Nova Pessoa",
        "userMail": "nova@example.com",
        "userPassword": "a good password",
        "code": "WELCOME1",
    },
    "use_code": {"code": "WELCOME1"},
    "change_password": {"currentPassword": "correct horse battery", "newPassword": "another good one"},
    "request_password_reset": {"email": "ana@example.com"},
    "reset_password": {"email": "ana@example.com", "code": "ABCDEFGH", "newPassword": "another good one"},
    "get_users": {},
    "get_terms": {},
    "get_random_names": {},
    "get_rank": {},
    "insert_question": {"question": "Como funciona o gale?"},
    "ativos": {"type": "full"},
    "get_actives_schedule": {},
    "update_ativos": [{"ativo": "EURUSD", "open": "True", "payout": "87"}],
    "update_candles_realtime": [
        {
            "ativo": "EURUSD",
            "candles": [{"o": 1.08, "c": 1.0801, "h": 1.0802, "l": 1.0799, "from": 1717419540}],
        }
    ],
    "check_iq": {"email": "ana.iq@example.com", "password": "iq-password"},
    "status": {},
    "get_strategies": {},
    "create_strategy": {
        "name": "Tres Vermelhas",
        "createdBy": "x",
        "sequence": "-1,-1,-1",
        "operation": "call",
        "mirror": False,
    },
    "edit_strategy": {"name": "Tres Vermelhas", "sequence": "-1,-1,1", "operation": "put", "mirror": True},
    "get_test_candles": {},
    "backtest_strategy": {
        "sequence": "-1,-1,-1",
        "operation": "call",
        "mirror": True,
        "gales": 2,
        "pairs": ["EURUSD"],
        "days": 1,
    },
    "get_test_candles_annually": {},
    "insert_signals": {"signals": [{"ativo": "EURUSD", "hora": "14:30", "operacao": "call"}], "type": "user"},
    "get_signals": {},
    "update_signal": {"id": "abc123", "status": "canceled"},
    "get_user_operations": {},
    "get_user_trades": {"fromDate": "2024-06-03", "ativo": "EURUSD", "result": "win", "limit": 50},
    "export_user_trades": {"mode": "strategy", "account": "PRACTICE"},
    "get_all_operations": {},
    "get_server_status": {},
    "update_server": {"name": "glimpse_01", "status": "waiting", "target": ""},
    "get_operating_servers": {},
    "get_audit": {},
    "insert_audit": {"target": "user x", "didWhat": "note", "from": None, "to": "y"},
    "get_questions": {},
    "get_auxiliar": {},
    "get_codes": {},
    "create_codes": {"count": 2, "premiumDays": 30},
}

# The manager's routes keep their samples beside their tests.
from tests.api.manager_samples import MANAGER_SAMPLES  # noqa: E402

SAMPLES.update(MANAGER_SAMPLES)

from tests.api.notification_samples import NOTIFICATION_SAMPLES  # noqa: E402

SAMPLES.update(NOTIFICATION_SAMPLES)

# A pasted list for the core signal parser (issue 15).
SAMPLES["parse_signals"] = {"text": "M1;EURUSD;14:30;CALL\nGBPUSD 14:35 PUT"}

# The catalog (issue 17): small enough to answer quickly.
SAMPLES["catalog"] = {"pairs": ["EURUSD"], "days": 1, "maxLength": 2, "gales": 1, "payout": 87, "top": 5}
SAMPLES["catalog_signals"] = {
    "text": "M1;EURUSD;09:30;CALL\nGBPUSD 10:05 PUT",
    "days": 2,
    "gales": 1,
    "payout": 87,
}

# Copy mode (issue 15).
SAMPLES.update(
    {
        "set_followable": {"followable": True},
        "get_followable": {},
        "unfollow": {},
        "get_copying": {},
        "get_followable_requests": {},
        "follow": {"leader": "665f1c2e8a1b2c3d4e5f6a01", "multiplier": 1.5},
        "approve_followable": {"user": "665f1c2e8a1b2c3d4e5f6a01", "approved": True},
    }
)
