"""Sample bodies of the manager's routes, for the OpenAPI schema and fuzz tests.

Ids are well formed but match nothing in a fresh database: those actions answer {res: 0}."""

from __future__ import annotations

from typing import Any

SOME_ID = "0123456789abcdef01234567"

MANAGER_SAMPLES: dict[str, Any] = {
    "get_users": {"limit": 20, "q": "ana", "status": "off", "premium": True, "blocked": False},
    "get_user_detail": {"user": SOME_ID},
    "get_all_operations": {"limit": 20, "mode": "strategy", "since": 0},
    "get_trades": {"limit": 20, "ativo": "EURUSD", "result": "win", "since": 0},
    "export_trades": {"result": "win"},
    "get_overview": {},
    "get_audit": {"limit": 20, "didWhat": "createCodes"},
    "get_questions": {"limit": 20, "answered": False},
    "get_codes": {"limit": 20, "used": False},
    "get_managers": {},
    "manager_me": {},
    "grant_premium_days": {"user": SOME_ID, "days": 30},
    "block_user": {"user": SOME_ID, "blocked": True, "reason": "chargeback"},
    "force_stop": {"user": SOME_ID},
    "send_alert": {"user": SOME_ID, "title": "Aviso", "description": "Manutenção às 22h"},
    "trigger_password_reset": {"user": SOME_ID},
    "answer_question": {"id": SOME_ID, "answer": "O gale dobra a entrada depois de uma perda."},
    "set_terms": {"html": "<h2>Termos</h2><p>Texto <strong>novo</strong>.</p>"},
    "set_maintenance": {"on": False, "message": "Voltamos logo"},
    "set_app_version": {"version": "1.2.3"},
    "create_manager": {
        "user": "helper@example.com",
        "name": "Helper",
        "password": "a good password",
        "rol": "support",
    },
    "set_manager_disabled": {"id": SOME_ID, "disabled": True},
    "set_manager_role": {"id": SOME_ID, "rol": "support"},
    "revoke_code": {"code": "NOSUCHCODE"},
    "retire_strategy": {"name": "Glimpse Nada"},
    "set_server_preferential": {"name": "glimpse_01", "on": True},
    "set_server_drain": {"name": "glimpse_02", "on": True},
    "release_server_user": {"name": "glimpse_01"},
}
