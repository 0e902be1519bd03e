"""What the API's views need from the outside world, injected by create_app."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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
    _collections: dict[str, Any] = field(default_factory=dict)

    def collection(self, name: str) -> Any:
        """A handle on the collection `name`, made once: the embedded store builds a new one on
        every `db[name]` (a few microseconds, on every authenticated request). Handles of both
        stores are safe to share between threads."""
        found = self._collections.get(name)
        if found is None:
            found = self._collections[name] = self.db[name]
        return found


def ctx() -> ApiContext:
    return current_app.extensions["glimpse"]
