"""What the API's views need from the outside world, injected by create_app."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app

from glimpse.runtime.clock import Clock
from glimpse.runtime.config import Config


@dataclass
class ApiContext:
    config: Config
    db: Any
    clock: Clock
    mailer: Any
    # (email, password) -> {"account", "treinamento", "real"}; raises glimpse.market errors.
    check_broker_credentials: Callable[[str, str], dict] | None


def ctx() -> ApiContext:
    return current_app.extensions["glimpse"]
