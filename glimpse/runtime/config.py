"""The bundle's configuration, read once from the environment and validated.

Every service takes a `Config`; nothing else reads `os.environ` for settings.
`load_config()` raises `ConfigError` with a message that names the variable,
so a bad deployment fails at start-up instead of in the middle of a trade.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

log = logging.getLogger(__name__)

BROKERS = ("paper", "iqoption")
DEFAULT_IQ_HTTP_BASE = "https://auth.iqoption.com"
DEFAULT_IQ_WS_URL = "wss://iqoption.com/echo/websocket"


class ConfigError(ValueError):
    """The environment holds a setting the bundle cannot run with."""


@dataclass(frozen=True)
class Config:
    mongo_uri: str | None = None
    db_name: str = "Glimpse"
    secret_key: str = ""
    secret_key_generated: bool = False
    service_token: str = ""
    tz: str = "America/Sao_Paulo"
    # The dev server, the bundle itself, and Capacitor's Android (https://localhost) and iOS origins.
    cors_origins: tuple[str, ...] = (
        "http://localhost:8100",
        "http://127.0.0.1:5000",
        "https://localhost",
        "capacitor://localhost",
    )
    api_host: str = "127.0.0.1"
    api_port: int = 5000
    broker: str = "paper"
    paper_seed: int = 20240601
    paper_payout_min: int = 80
    paper_payout_max: int = 92
    iq_http_base: str = DEFAULT_IQ_HTTP_BASE
    iq_ws_url: str = DEFAULT_IQ_WS_URL
    token_ttl_seconds: int = 12 * 3600
    reset_code_ttl_seconds: int = 15 * 60
    login_max_failures: int = 5
    login_window_seconds: int = 300
    max_body_bytes: int = 1_000_000
    servers: int = 2
    # The broker account the market-data services (lister, candle streams) read with.
    market_email: str = "market-data@glimpse.local"
    market_password: str = "paper-market-data"
    # Timings of the trading services (seconds of market time unless noted).
    lister_interval: float = 3.0
    lease_seconds: float = 4.0
    assign_grace_seconds: float = 60.0
    decision_second: float = 58.5
    # Market time runs this many times faster than the wall clock (tests, demos, simulate).
    clock_speed: float = 1.0
    # Wall epoch at which a fast clock reads the wall time: processes with the same anchor agree.
    clock_anchor: float | None = None
    # The built web app that the API serves at "/".
    web_dist: str = str(Path(__file__).resolve().parents[2] / "apps" / "web" / "dist")
    # Argon2 cost profile: "standard" in every deployment; "test" is set only
    # by the test suites (from code, never from the environment).
    password_hash_profile: str = "standard"
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def embedded(self) -> bool:
        """No MongoDB URI: everything runs in one process on mongomock."""
        return self.mongo_uri is None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def with_(self, **changes) -> Config:
        return replace(self, **changes)


def _int(env: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if not lo <= value <= hi:
        raise ConfigError(f"{name} must be between {lo} and {hi}, got {value}")
    return value


def load_config(env: Mapping[str, str] | None = None) -> Config:
    """Build the configuration from `env` (default: the process environment)."""
    if env is None:
        import os

        env = os.environ
    mongo_uri = env.get("GLIMPSE_MONGO_URI") or None
    if mongo_uri is not None and not mongo_uri.startswith(("mongodb://", "mongodb+srv://")):
        raise ConfigError("GLIMPSE_MONGO_URI must start with mongodb:// or mongodb+srv://")

    secret_key = env.get("GLIMPSE_SECRET_KEY", "")
    generated = False
    if not secret_key:
        if mongo_uri is not None:
            raise ConfigError(
                "GLIMPSE_SECRET_KEY is required when GLIMPSE_MONGO_URI is set: it signs tokens and "
                "encrypts broker passwords (generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        secret_key = secrets.token_urlsafe(48)
        generated = True
        log.warning("GLIMPSE_SECRET_KEY is not set: using a generated development key (embedded mode only)")
    elif len(secret_key) < 32:
        raise ConfigError("GLIMPSE_SECRET_KEY must be at least 32 characters long")

    service_token = env.get("GLIMPSE_SERVICE_TOKEN", "")
    if not service_token:
        if mongo_uri is not None:
            raise ConfigError("GLIMPSE_SERVICE_TOKEN is required when GLIMPSE_MONGO_URI is set")
        service_token = secrets.token_urlsafe(32)
    elif len(service_token) < 16:
        raise ConfigError("GLIMPSE_SERVICE_TOKEN must be at least 16 characters long")

    tz = env.get("GLIMPSE_TZ", "America/Sao_Paulo")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"GLIMPSE_TZ is not a known time zone: {tz!r}") from None

    broker = env.get("GLIMPSE_BROKER", "paper")
    if broker not in BROKERS:
        raise ConfigError(f"GLIMPSE_BROKER must be one of {', '.join(BROKERS)}, got {broker!r}")

    origins_raw = env.get("GLIMPSE_CORS_ORIGINS")
    origins = Config.cors_origins
    if origins_raw:
        origins = tuple(o.strip() for o in origins_raw.split(",") if o.strip())
        for origin in origins:
            if origin != "*" and "://" not in origin:
                raise ConfigError(
                    f"GLIMPSE_CORS_ORIGINS entries must be origins like https://app.example, got {origin!r}"
                )

    payout_min = _int(env, "GLIMPSE_PAPER_PAYOUT_MIN", 80, 1, 100)
    payout_max = _int(env, "GLIMPSE_PAPER_PAYOUT_MAX", 92, 1, 100)
    if payout_min > payout_max:
        raise ConfigError("GLIMPSE_PAPER_PAYOUT_MIN must not exceed GLIMPSE_PAPER_PAYOUT_MAX")

    for name in ("GLIMPSE_IQ_HTTP_BASE", "GLIMPSE_IQ_WS_URL"):
        value = env.get(name)
        if value and "://" not in value:
            raise ConfigError(f"{name} must be a URL, got {value!r}")

    market_email = env.get("GLIMPSE_MARKET_EMAIL") or Config.market_email
    market_password = env.get("GLIMPSE_MARKET_PASSWORD") or Config.market_password
    if broker == "iqoption" and not (env.get("GLIMPSE_MARKET_EMAIL") and env.get("GLIMPSE_MARKET_PASSWORD")):
        log.warning(
            "GLIMPSE_BROKER=iqoption without GLIMPSE_MARKET_EMAIL/PASSWORD: the lister and candle streams cannot log in"
        )

    decision_raw = env.get("GLIMPSE_DECISION_SECOND") or "58.5"
    try:
        decision_second = float(decision_raw)
    except ValueError:
        raise ConfigError(f"GLIMPSE_DECISION_SECOND must be a number, got {decision_raw!r}") from None
    if not 30 <= decision_second < 60:
        raise ConfigError("GLIMPSE_DECISION_SECOND must be from 30 to just under 60 (the end of the minute)")

    speed_raw = env.get("GLIMPSE_CLOCK_SPEED") or "1"
    try:
        clock_speed = float(speed_raw)
    except ValueError:
        raise ConfigError(f"GLIMPSE_CLOCK_SPEED must be a number, got {speed_raw!r}") from None
    if not 0 < clock_speed <= 10_000:
        raise ConfigError("GLIMPSE_CLOCK_SPEED must be greater than 0 and at most 10000")
    anchor_raw = env.get("GLIMPSE_CLOCK_ANCHOR") or ""
    try:
        clock_anchor = float(anchor_raw) if anchor_raw else None
    except ValueError:
        raise ConfigError(f"GLIMPSE_CLOCK_ANCHOR must be epoch seconds, got {anchor_raw!r}") from None
    if clock_speed != 1 and mongo_uri is not None and clock_anchor is None:
        raise ConfigError(
            "GLIMPSE_CLOCK_SPEED with GLIMPSE_MONGO_URI needs GLIMPSE_CLOCK_ANCHOR (a shared wall epoch), "
            "so that every process reads the same market time"
        )

    return Config(
        mongo_uri=mongo_uri,
        db_name=env.get("GLIMPSE_DB", "Glimpse") or "Glimpse",
        secret_key=secret_key,
        secret_key_generated=generated,
        service_token=service_token,
        tz=tz,
        cors_origins=origins,
        api_host=env.get("GLIMPSE_API_HOST", "127.0.0.1") or "127.0.0.1",
        api_port=_int(env, "GLIMPSE_API_PORT", 5000, 1, 65535),
        broker=broker,
        paper_seed=_int(env, "GLIMPSE_PAPER_SEED", 20240601, 0, 2**63 - 1),
        paper_payout_min=payout_min,
        paper_payout_max=payout_max,
        iq_http_base=env.get("GLIMPSE_IQ_HTTP_BASE") or DEFAULT_IQ_HTTP_BASE,
        iq_ws_url=env.get("GLIMPSE_IQ_WS_URL") or DEFAULT_IQ_WS_URL,
        token_ttl_seconds=_int(env, "GLIMPSE_TOKEN_TTL", 12 * 3600, 60, 30 * 24 * 3600),
        servers=_int(env, "GLIMPSE_SERVERS", 2, 0, 1000),
        clock_speed=clock_speed,
        clock_anchor=clock_anchor,
        market_email=market_email,
        market_password=market_password,
        lease_seconds=float(_int(env, "GLIMPSE_LEASE_SECONDS", 4, 1, 600)),
        assign_grace_seconds=float(_int(env, "GLIMPSE_ASSIGN_GRACE_SECONDS", 60, 0, 3600)),
        lister_interval=float(_int(env, "GLIMPSE_LISTER_INTERVAL", 3, 1, 600)),
        decision_second=decision_second,
        web_dist=env.get("GLIMPSE_WEB_DIST") or Config.web_dist,
    )
