"""The configuration: typed settings read from GLIMPSE_* variables, secrets kept out of sight."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

import glimpse
from glimpse.runtime.config import Config, ConfigError, load_config, variables

SECRET_KEY = "k" * 39 + "SECRETKEY"
SERVICE_TOKEN = "s" * 15 + "SERVICETOKEN"
MARKET_PASSWORD = "market-PASSWORD-42"
MONGO_PASSWORD = "mongoPASSWORD7"
DEPLOYED = {
    "GLIMPSE_MONGO_URI": f"mongodb://glimpse:{MONGO_PASSWORD}@db:27017",
    "GLIMPSE_SECRET_KEY": SECRET_KEY,
    "GLIMPSE_SERVICE_TOKEN": SERVICE_TOKEN,
    "GLIMPSE_MARKET_PASSWORD": MARKET_PASSWORD,
}
SECRETS = (SECRET_KEY, SERVICE_TOKEN, MARKET_PASSWORD, MONGO_PASSWORD)


def test_embedded_config_generates_a_development_key():
    cfg = load_config({})
    assert cfg.embedded and cfg.secret_key_generated and len(cfg.secret_key.get_secret_value()) >= 32
    assert cfg.db_name == "Glimpse" and cfg.tz == "America/Sao_Paulo" and cfg.broker == "paper"


@pytest.mark.parametrize(
    "env, variable",
    [
        ({"GLIMPSE_MONGO_URI": "mongodb://db:27017"}, "GLIMPSE_SECRET_KEY"),
        (
            {"GLIMPSE_MONGO_URI": "mongodb://db:27017", "GLIMPSE_SECRET_KEY": "k" * 40},
            "GLIMPSE_SERVICE_TOKEN",
        ),
        ({"GLIMPSE_MONGO_URI": "http://nope"}, "GLIMPSE_MONGO_URI"),
        ({"GLIMPSE_SECRET_KEY": "short"}, "GLIMPSE_SECRET_KEY"),
        ({"GLIMPSE_TZ": "Mars/Olympus"}, "GLIMPSE_TZ"),
        ({"GLIMPSE_API_PORT": "seventy"}, "GLIMPSE_API_PORT"),
        ({"GLIMPSE_API_PORT": "70000"}, "GLIMPSE_API_PORT"),
        ({"GLIMPSE_BROKER": "binance"}, "GLIMPSE_BROKER"),
        ({"GLIMPSE_CORS_ORIGINS": "example.com"}, "GLIMPSE_CORS_ORIGINS"),
    ],
)
def test_bad_configuration_names_the_variable(env, variable):
    with pytest.raises(ConfigError, match=variable):
        load_config(env)


@pytest.mark.parametrize(
    "variable, bad",
    [
        ("GLIMPSE_SERVICE_TOKEN", "short"),
        ("GLIMPSE_PAPER_SEED", "-1"),
        ("GLIMPSE_PAPER_PAYOUT_MIN", "0"),
        ("GLIMPSE_PAPER_PAYOUT_MAX", "101"),
        ("GLIMPSE_IQ_HTTP_BASE", "auth.example"),
        ("GLIMPSE_IQ_WS_URL", "iq.example/ws"),
        ("GLIMPSE_TOKEN_TTL", "59"),
        ("GLIMPSE_SERVERS", "1001"),
        ("GLIMPSE_LISTER_INTERVAL", "0.5"),
        ("GLIMPSE_LEASE_SECONDS", "601"),
        ("GLIMPSE_ASSIGN_GRACE_SECONDS", "-1"),
        ("GLIMPSE_DECISION_SECOND", "60"),
        ("GLIMPSE_DECISION_SECOND", "29.9"),
        ("GLIMPSE_DECISION_SECOND", "soon"),
        ("GLIMPSE_CLOCK_SPEED", "0"),
        ("GLIMPSE_CLOCK_SPEED", "10001"),
        ("GLIMPSE_CLOCK_ANCHOR", "yesterday"),
    ],
)
def test_every_bound_is_enforced_and_named(variable, bad):
    with pytest.raises(ConfigError, match=variable):
        load_config({variable: bad})


def test_payout_range_must_be_ordered():
    with pytest.raises(ConfigError, match="GLIMPSE_PAPER_PAYOUT_MIN"):
        load_config({"GLIMPSE_PAPER_PAYOUT_MIN": "95", "GLIMPSE_PAPER_PAYOUT_MAX": "90"})
    cfg = load_config({"GLIMPSE_PAPER_PAYOUT_MIN": "85", "GLIMPSE_PAPER_PAYOUT_MAX": "85"})
    assert (cfg.paper_payout_min, cfg.paper_payout_max) == (85, 85)


def test_real_deployment_configuration():
    cfg = load_config(
        {
            "GLIMPSE_MONGO_URI": "mongodb://db:27017",
            "GLIMPSE_SECRET_KEY": "k" * 40,
            "GLIMPSE_SERVICE_TOKEN": "s" * 20,
            "GLIMPSE_CORS_ORIGINS": "https://app.example, https://manager.example",
            "GLIMPSE_API_PORT": "8000",
        }
    )
    assert not cfg.embedded and not cfg.secret_key_generated
    assert cfg.cors_origins == ("https://app.example", "https://manager.example")
    assert cfg.api_port == 8000


def test_float_settings_accept_floats():
    cfg = load_config(
        {
            "GLIMPSE_LEASE_SECONDS": "2.5",
            "GLIMPSE_ASSIGN_GRACE_SECONDS": "0.25",
            "GLIMPSE_LISTER_INTERVAL": "1.5",
            "GLIMPSE_DECISION_SECOND": "59.25",
            "GLIMPSE_CLOCK_ANCHOR": "1700000000.5",
        }
    )
    assert cfg.lease_seconds == 2.5 and cfg.assign_grace_seconds == 0.25
    assert cfg.lister_interval == 1.5 and cfg.decision_second == 59.25
    assert cfg.clock_anchor == 1700000000.5
    # Integers stay integers: a fraction is refused where the setting counts something.
    with pytest.raises(ConfigError, match="GLIMPSE_SERVERS"):
        load_config({"GLIMPSE_SERVERS": "2.5"})


FLOAT_VARIABLES = [
    "GLIMPSE_LISTER_INTERVAL",
    "GLIMPSE_LEASE_SECONDS",
    "GLIMPSE_ASSIGN_GRACE_SECONDS",
    "GLIMPSE_DECISION_SECOND",
    "GLIMPSE_CLOCK_SPEED",
    "GLIMPSE_CLOCK_ANCHOR",
]
INT_VARIABLES = [
    "GLIMPSE_API_PORT",
    "GLIMPSE_PAPER_SEED",
    "GLIMPSE_PAPER_PAYOUT_MIN",
    "GLIMPSE_PAPER_PAYOUT_MAX",
    "GLIMPSE_TOKEN_TTL",
    "GLIMPSE_SERVERS",
]


@pytest.mark.parametrize("variable", FLOAT_VARIABLES + INT_VARIABLES)
@pytest.mark.parametrize("bad", ["nan", "NaN", "inf", "-inf", "Infinity"])
def test_nan_and_infinities_are_refused_with_the_variable_named(variable, bad):
    with pytest.raises(ConfigError, match=variable):
        load_config({variable: bad})


def test_every_numeric_setting_is_covered_by_the_nan_test():
    numeric = {
        variable
        for variable, name in variables().items()
        if Config.model_fields[name].annotation in (int, float, float | None)
        or "float" in str(Config.model_fields[name].annotation)
    }
    assert numeric == set(FLOAT_VARIABLES + INT_VARIABLES)


def test_repr_str_and_errors_never_show_a_secret(caplog):
    caplog.set_level(logging.DEBUG)
    cfg = load_config(DEPLOYED)
    assert cfg.secret_key.get_secret_value() == SECRET_KEY
    assert cfg.service_token.get_secret_value() == SERVICE_TOKEN
    assert cfg.market_password.get_secret_value() == MARKET_PASSWORD
    assert cfg.mongo_uri is not None and MONGO_PASSWORD in cfg.mongo_uri.get_secret_value()
    shown = [repr(cfg), str(cfg), repr(load_config({})), repr(cfg.model_dump())]
    logging.getLogger("glimpse.test").info("config %s %r", cfg, cfg)
    shown.append(caplog.text)
    for bad in (
        {"GLIMPSE_SECRET_KEY": "tooShortSECRET"},
        {"GLIMPSE_SERVICE_TOKEN": "shortTOKEN"},
        {"GLIMPSE_MONGO_URI": f"http://glimpse:{MONGO_PASSWORD}@db"},
        dict(DEPLOYED, GLIMPSE_API_PORT="nope"),
        dict(DEPLOYED, GLIMPSE_CLOCK_SPEED="5"),
    ):
        with pytest.raises(ConfigError) as caught:
            load_config(bad)
        shown += [str(caught.value), repr(caught.value)]
        assert caught.value.__cause__ is None  # pydantic's own error (with the input) is not chained
    for text in shown:
        for secret in SECRETS + ("tooShortSECRET", "shortTOKEN"):
            assert secret not in text, (secret, text)


def test_with_keeps_secrets_secret_and_changes_only_what_is_asked():
    cfg = load_config({})
    changed = cfg.with_(secret_key="x" * 40, servers=7, mongo_uri="mongodb://u:pw@h")
    assert isinstance(changed.secret_key, SecretStr) and changed.secret_key.get_secret_value() == "x" * 40
    assert changed.servers == 7 and not changed.embedded and "pw" not in repr(changed)
    assert cfg.servers == 2 and cfg.embedded  # frozen: the original is untouched
    with pytest.raises(ValidationError, match="frozen"):
        cfg.servers = 3


def test_empty_variables_mean_unset():
    cfg = load_config({"GLIMPSE_SECRET_KEY": "", "GLIMPSE_LEASE_SECONDS": "", "GLIMPSE_DB": ""})
    assert cfg.secret_key_generated and cfg.lease_seconds == 4.0 and cfg.db_name == "Glimpse"


def test_web_dist_defaults_to_the_source_tree_and_follows_the_variable(tmp_path):
    default = Path(glimpse.__file__).resolve().parents[1] / "apps" / "web" / "dist"
    assert load_config({}).web_dist == str(default)
    assert load_config({"GLIMPSE_WEB_DIST": str(tmp_path)}).web_dist == str(tmp_path)


def test_process_environment_is_read_only_through_load_config(monkeypatch):
    monkeypatch.setenv("GLIMPSE_LEASE_SECONDS", "7.5")
    assert load_config().lease_seconds == 7.5
    assert Config().lease_seconds == 4.0  # a Config built in code ignores the environment
