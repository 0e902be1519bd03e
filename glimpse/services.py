"""How `glimpse up` finds and runs the services.

glimpse/ never imports the service packages (api, auxiliar,
operational_server). Each of them declares its services as entry points in
the group `glimpse.services` (pyproject.toml), and `glimpse up` loads them
by name. A background service starts threads and returns a handle to stop
them; the web service (the API) owns the main loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Protocol

from glimpse.clock import Clock, SystemClock
from glimpse.config import Config

GROUP = "glimpse.services"


@dataclass
class ServiceContext:
    """What every service is given: configuration, database and clock."""

    config: Config
    db: Any
    clock: Clock = field(default_factory=SystemClock)


class Running(Protocol):
    def stop(self) -> None: ...

    def join(self, timeout: float | None = None) -> None: ...


class BackgroundService(Protocol):
    name: str

    def start(self, ctx: ServiceContext) -> Running: ...


def load_services() -> dict[str, Any]:
    """Every service declared in the `glimpse.services` entry-point group, by name."""
    return {ep.name: ep.load() for ep in entry_points(group=GROUP)}
