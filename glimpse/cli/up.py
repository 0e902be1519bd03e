"""`glimpse up`: start the bundle.

Embedded (no GLIMPSE_MONGO_URI): one process runs the API and every other
service as threads over a seeded in-memory database and the paper market.
With GLIMPSE_MONGO_URI, `--services` picks what this process runs, so each
service can run as its own process or container.
"""

from __future__ import annotations

import argparse

from glimpse.cli import CLIError
from glimpse.runtime.config import Config, load_config
from glimpse.runtime.services import context_for, load_services, run_until_stopped


def banner(config: Config) -> str:
    url = f"http://{config.api_host}:{config.api_port}"
    lines = [
        "",
        "Glimpse is up.",
        f"  Trader app:   {url}/",
        f"  Manager app:  {url}/manager/",
        f"  API health:   {url}/glimpse/health",
        f"  OpenAPI:      {url}/glimpse/openapi.json",
        f"  Broker:       {config.broker}",
        *(
            [f"  Clock:        market time runs {config.clock_speed:g}x faster than the wall clock"]
            if config.clock_speed != 1
            else []
        ),
        f"  Database:     {'embedded (in memory, seeded)' if config.embedded else config.db_name + ' on GLIMPSE_MONGO_URI'}",
    ]
    if config.embedded:
        from glimpse.store.seed import DEMO_LOGINS

        lines.append("  Demo logins:")
        lines.extend(f"    {role:<8} {email}  /  {password}" for role, email, password in DEMO_LOGINS)
        if config.secret_key_generated:
            lines.append(
                "  (development secret key generated for this run: tokens end when the process stops)"
            )
    lines.append("Press Ctrl-C to stop.")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    config = load_config()
    available = load_services()
    wanted = (
        list(available)
        if args.services == "all"
        else [s.strip() for s in args.services.split(",") if s.strip()]
    )
    unknown = [s for s in wanted if s not in available]
    if unknown:
        raise CLIError(
            f"--services: unknown service(s) {', '.join(unknown)}; known: {', '.join(sorted(available))}"
        )
    if config.embedded and set(wanted) != set(available):
        raise CLIError(
            "--services needs GLIMPSE_MONGO_URI: the embedded database cannot be shared between processes"
        )
    background = [available[name] for name in wanted if name != "api"]
    if "api" in wanted:
        available["api"].serve(config, background, banner(config))
        return 0
    ctx = context_for(config)
    running = [service.start(ctx) for service in background]
    print(f"Glimpse services running: {', '.join(wanted)}. Press Ctrl-C to stop.", flush=True)
    run_until_stopped(running)
    return 0


def register(sub) -> None:
    p = sub.add_parser("up", help="start the bundle (API and services)")
    p.add_argument(
        "--services",
        default="all",
        help="comma-separated services to run in this process (needs GLIMPSE_MONGO_URI unless 'all')",
    )
    p.set_defaults(func=run)
