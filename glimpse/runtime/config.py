"""The bundle's configuration, read once from the environment and validated.

Every service takes a `Config`; nothing else reads `os.environ` for settings.
Each setting is one typed field below, with the variable it is read from
(`GLIMPSE_*`), its bounds and its validators. `load_config()` raises
`ConfigError` with a message that names the variable, so a bad deployment
fails at start-up instead of in the middle of a trade.

Credentials (the secret key, the service token, the market password and the
MongoDB URI, which may carry a password) are `SecretStr`: no repr, str, log
line or error message shows them; callers read them with `.get_secret_value()`.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

log = logging.getLogger(__name__)

BROKERS = ("paper", "iqoption")
DEFAULT_IQ_HTTP_BASE = "https://auth.iqoption.com"
DEFAULT_IQ_WS_URL = "wss://iqoption.com/echo/websocket"
DEFAULT_CORS_ORIGINS = (
    # The dev server, the bundle itself, and Capacitor's Android (https://localhost) and iOS origins.
    "http://localhost:8100",
    "http://127.0.0.1:5000",
    "https://localhost",
    "capacitor://localhost",
)
# The source tree's built web app; a wheel install points GLIMPSE_WEB_DIST elsewhere.
DEFAULT_WEB_DIST = str(Path(__file__).resolve().parents[2] / "apps" / "web" / "dist")
SECRET_FIELDS = ("mongo_uri", "secret_key", "service_token", "market_password", "telegram_token")
# Secrets that are not plain strings, or may be absent (shown nowhere either).
OTHER_SECRET_FIELDS = ("secret_key_previous", "smtp_url")


class ConfigError(ValueError):
    """The environment holds a setting the bundle cannot run with."""


def _env(name: str, default: Any, **bounds: Any) -> Any:
    """A field read from the variable `name`; floats never accept NaN or infinities."""
    return Field(default, validation_alias=name, **bounds)


Finite = Annotated[float, Field(allow_inf_nan=False)]


class Config(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    mongo_uri: SecretStr | None = _env("GLIMPSE_MONGO_URI", None)
    db_name: str = _env("GLIMPSE_DB", "Glimpse", min_length=1)
    secret_key: SecretStr = _env("GLIMPSE_SECRET_KEY", SecretStr(""))
    # Set when no key was given in embedded mode; never read from the environment.
    secret_key_generated: bool = False
    service_token: SecretStr = _env("GLIMPSE_SERVICE_TOKEN", SecretStr(""))
    # Keys that encrypted stored broker passwords before GLIMPSE_SECRET_KEY (comma-separated):
    # they still decrypt, never encrypt; `glimpse secrets rotate` moves everything to the current key.
    secret_key_previous: Annotated[tuple[SecretStr, ...], NoDecode] = _env("GLIMPSE_SECRET_KEY_PREVIOUS", ())
    # Mail: the SMTP server as a URL (smtp://, smtp+starttls:// or smtps://; credentials may be in it).
    smtp_url: SecretStr | None = _env("GLIMPSE_SMTP_URL", None)
    mail_from: str = _env("GLIMPSE_MAIL_FROM", "Glimpse <no-reply@glimpse.local>", min_length=3)
    # Log lines as text or as one JSON object per line.
    log_format: Literal["text", "json"] = _env("GLIMPSE_LOG_FORMAT", "text")
    tz: str = _env("GLIMPSE_TZ", "America/Sao_Paulo")
    cors_origins: Annotated[tuple[str, ...], NoDecode] = _env("GLIMPSE_CORS_ORIGINS", DEFAULT_CORS_ORIGINS)
    # Reverse proxies whose X-Forwarded-For is believed (addresses or CIDR networks).
    trusted_proxies: Annotated[tuple[IPv4Network | IPv6Network, ...], NoDecode] = _env(
        "GLIMPSE_TRUSTED_PROXIES", ()
    )
    api_host: str = _env("GLIMPSE_API_HOST", "127.0.0.1", min_length=1)
    api_port: int = _env("GLIMPSE_API_PORT", 5000, ge=1, le=65535)
    broker: Literal["paper", "iqoption"] = _env("GLIMPSE_BROKER", "paper")
    paper_seed: int = _env("GLIMPSE_PAPER_SEED", 20240601, ge=0, le=2**63 - 1)
    paper_payout_min: int = _env("GLIMPSE_PAPER_PAYOUT_MIN", 80, ge=1, le=100)
    paper_payout_max: int = _env("GLIMPSE_PAPER_PAYOUT_MAX", 92, ge=1, le=100)
    iq_http_base: str = _env("GLIMPSE_IQ_HTTP_BASE", DEFAULT_IQ_HTTP_BASE)
    iq_ws_url: str = _env("GLIMPSE_IQ_WS_URL", DEFAULT_IQ_WS_URL)
    token_ttl_seconds: int = _env("GLIMPSE_TOKEN_TTL", 12 * 3600, ge=60, le=30 * 24 * 3600)
    # Not read from the environment (as before): code and tests tune them.
    reset_code_ttl_seconds: int = 15 * 60
    login_max_failures: int = 5
    login_window_seconds: int = 300
    max_body_bytes: int = 1_000_000
    servers: int = _env("GLIMPSE_SERVERS", 2, ge=0, le=1000)
    # The broker account the market-data services (lister, candle streams) read with.
    market_email: str = _env("GLIMPSE_MARKET_EMAIL", "market-data@glimpse.local", min_length=1)
    market_password: SecretStr = _env("GLIMPSE_MARKET_PASSWORD", SecretStr("paper-market-data"))
    # Timings of the trading services (seconds of market time unless noted).
    lister_interval: Finite = _env("GLIMPSE_LISTER_INTERVAL", 3.0, ge=1, le=600)
    lease_seconds: Finite = _env("GLIMPSE_LEASE_SECONDS", 4.0, ge=1, le=600)
    assign_grace_seconds: Finite = _env("GLIMPSE_ASSIGN_GRACE_SECONDS", 60.0, ge=0, le=3600)
    decision_second: Finite = _env("GLIMPSE_DECISION_SECOND", 58.5, ge=30, lt=60)
    # Market time runs this many times faster than the wall clock (tests, demos, simulate).
    clock_speed: Finite = _env("GLIMPSE_CLOCK_SPEED", 1.0, gt=0, le=10_000)
    # Wall epoch at which a fast clock reads the wall time: processes with the same anchor agree.
    clock_anchor: Finite | None = _env("GLIMPSE_CLOCK_ANCHOR", None, ge=0)
    # Notifications (auxiliar/notifier.py): the Telegram bot, the Bot API base (tests redirect it),
    # and whether webhooks may target private, loopback and link-local addresses (tests only).
    telegram_token: SecretStr | None = _env("GLIMPSE_TELEGRAM_TOKEN", None)
    telegram_api: str = _env("GLIMPSE_TELEGRAM_API", "https://api.telegram.org")
    webhook_allow_private: bool = _env("GLIMPSE_WEBHOOK_ALLOW_PRIVATE", False)
    # The built web app that the API serves at "/".
    web_dist: str = _env("GLIMPSE_WEB_DIST", DEFAULT_WEB_DIST, min_length=1)
    # Argon2 cost profile: "standard" in every deployment; "test" is set only
    # by the test suites (from code, never from the environment).
    password_hash_profile: str = "standard"
    extra: Mapping[str, str] = Field(default_factory=dict)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # load_config() hands the environment over explicitly (tests pass a dict),
        # so a Config built by hand never picks up the process environment.
        return (init_settings,)

    @model_validator(mode="before")
    @classmethod
    def _development_secrets(cls, data: Any) -> Any:
        if not isinstance(data, dict) or data.get("GLIMPSE_MONGO_URI"):
            return data
        data = dict(data)
        if not data.get("GLIMPSE_SECRET_KEY"):
            data["GLIMPSE_SECRET_KEY"] = secrets.token_urlsafe(48)
            data["secret_key_generated"] = True
            log.warning(
                "GLIMPSE_SECRET_KEY is not set: using a generated development key (embedded mode only)"
            )
        if not data.get("GLIMPSE_SERVICE_TOKEN"):
            data["GLIMPSE_SERVICE_TOKEN"] = secrets.token_urlsafe(32)
        return data

    @field_validator("mongo_uri")
    @classmethod
    def _mongo_scheme(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(("mongodb://", "mongodb+srv://")):
            raise ValueError("GLIMPSE_MONGO_URI must start with mongodb:// or mongodb+srv://")
        return value

    @field_validator("secret_key")
    @classmethod
    def _secret_key_length(cls, value: SecretStr) -> SecretStr:
        if 0 < len(value.get_secret_value()) < 32:
            raise ValueError("GLIMPSE_SECRET_KEY must be at least 32 characters long")
        return value

    @field_validator("service_token")
    @classmethod
    def _service_token_length(cls, value: SecretStr) -> SecretStr:
        if 0 < len(value.get_secret_value()) < 16:
            raise ValueError("GLIMPSE_SERVICE_TOKEN must be at least 16 characters long")
        return value

    @field_validator("secret_key_previous", mode="before")
    @classmethod
    def _previous_keys(cls, value: Any) -> Any:
        if isinstance(value, str):
            keys = tuple(k.strip() for k in value.split(",") if k.strip())
            if any(len(k) < 32 for k in keys):
                raise ValueError("GLIMPSE_SECRET_KEY_PREVIOUS entries must be at least 32 characters long")
            return tuple(SecretStr(k) for k in keys)
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            from glimpse.runtime.mail import MailConfigError, parse_smtp_url

            try:
                parse_smtp_url(value.get_secret_value())
            except MailConfigError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("tz")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"GLIMPSE_TZ is not a known time zone: {value!r}") from None
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = tuple(o.strip() for o in value.split(",") if o.strip())
            for origin in value:
                if origin != "*" and "://" not in origin:
                    raise ValueError(
                        f"GLIMPSE_CORS_ORIGINS entries must be origins like https://app.example, got {origin!r}"
                    )
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxies(cls, value: Any) -> Any:
        if isinstance(value, str):
            networks = []
            for entry in (e.strip() for e in value.split(",")):
                if not entry:
                    continue
                try:
                    networks.append(ip_network(entry, strict=False))
                except ValueError:
                    raise ValueError(
                        f"GLIMPSE_TRUSTED_PROXIES entries must be addresses or CIDR networks like 10.0.0.0/8, "
                        f"got {entry!r}"
                    ) from None
            return tuple(networks)
        return value

    @field_validator("iq_http_base", "iq_ws_url", "telegram_api")
    @classmethod
    def _url(cls, value: str) -> str:
        if "://" not in value:
            raise ValueError(f"must be a URL, got {value!r}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Config:
        if self.mongo_uri is not None:
            if not self.secret_key.get_secret_value():
                raise ValueError(
                    "GLIMPSE_SECRET_KEY is required when GLIMPSE_MONGO_URI is set: it signs tokens and "
                    "encrypts broker passwords (generate one with: "
                    "python -c 'import secrets; print(secrets.token_urlsafe(48))')"
                )
            if not self.service_token.get_secret_value():
                raise ValueError("GLIMPSE_SERVICE_TOKEN is required when GLIMPSE_MONGO_URI is set")
            if self.clock_speed != 1 and self.clock_anchor is None:
                raise ValueError(
                    "GLIMPSE_CLOCK_SPEED with GLIMPSE_MONGO_URI needs GLIMPSE_CLOCK_ANCHOR (a shared wall epoch), "
                    "so that every process reads the same market time"
                )
        if self.paper_payout_min > self.paper_payout_max:
            raise ValueError("GLIMPSE_PAPER_PAYOUT_MIN must not exceed GLIMPSE_PAPER_PAYOUT_MAX")
        return self

    @property
    def embedded(self) -> bool:
        """No MongoDB URI: everything runs in one process on mongomock."""
        return self.mongo_uri is None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def previous_secret_keys(self) -> list[str]:
        """GLIMPSE_SECRET_KEY_PREVIOUS as strings: `security.decrypt_secret(key, stored, previous=...)`."""
        return [k.get_secret_value() for k in self.secret_key_previous]

    def with_(self, **changes: Any) -> Config:
        """A copy with `changes` (field names), unvalidated as before; plain strings become secrets."""
        for name in SECRET_FIELDS:
            if isinstance(changes.get(name), str):
                changes[name] = SecretStr(changes[name])
        if isinstance(changes.get("smtp_url"), str):
            changes["smtp_url"] = SecretStr(changes["smtp_url"])
        if isinstance(changes.get("secret_key_previous"), (str, list, tuple)):
            keys = changes["secret_key_previous"]
            keys = keys.split(",") if isinstance(keys, str) else keys
            changes["secret_key_previous"] = tuple(
                k if isinstance(k, SecretStr) else SecretStr(k) for k in keys if k
            )
        return self.model_copy(update=changes)


def variables() -> dict[str, str]:
    """Every setting read from the environment: variable name -> field name."""
    return {
        field.validation_alias: name
        for name, field in Config.model_fields.items()
        if isinstance(field.validation_alias, str)
    }


def _describe(error: Mapping[str, Any], secret_variables: frozenset[str]) -> str:
    loc = error.get("loc") or ()
    variable = str(loc[0]) if loc else ""
    message = str(error.get("msg", "invalid"))
    message = message.removeprefix("Value error, ")
    if variable and variable not in message:
        message = f"{variable}: {message}"
    if variable and variable not in secret_variables and "input" in error and "got " not in message:
        message += f", got {error['input']!r}"
    return message


def load_config(env: Mapping[str, str] | None = None) -> Config:
    """Build the configuration from `env` (default: the process environment).

    An empty variable counts as unset (an `.env` file lists them all, mostly empty).
    """
    if env is None:
        env = os.environ
    names = variables()
    values: dict[str, Any] = {variable: env[variable] for variable in names if env.get(variable)}
    try:
        config = Config(**values)
    except ValidationError as exc:
        secret = frozenset(v for v, name in names.items() if name in SECRET_FIELDS + OTHER_SECRET_FIELDS)
        raise ConfigError("; ".join(_describe(e, secret) for e in exc.errors())) from None
    if config.broker == "iqoption" and not (
        env.get("GLIMPSE_MARKET_EMAIL") and env.get("GLIMPSE_MARKET_PASSWORD")
    ):
        log.warning(
            "GLIMPSE_BROKER=iqoption without GLIMPSE_MARKET_EMAIL/PASSWORD: the lister and candle streams cannot log in"
        )
    return config
