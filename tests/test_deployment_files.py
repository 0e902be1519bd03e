"""The deployment files: compose services, their environment, and the image."""

from __future__ import annotations

from pathlib import Path

import yaml

from glimpse.runtime.config import load_config, variables

ROOT = Path(__file__).resolve().parents[1]


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_services_and_their_environment():
    compose = _compose()
    services = compose["services"]
    assert {"mongo", "api", "lister", "candles_starter", "server_assigner", "operational_server"} <= set(
        services
    )
    mongo = services["mongo"]
    assert mongo["image"] == "mongo:7" and mongo["restart"] == "unless-stopped"
    assert "healthcheck" in mongo and any(v.startswith("mongo-data:") for v in mongo["volumes"])
    assert "mongo-data" in compose["volumes"]
    for name, service in services.items():
        assert service.get("restart") in ("unless-stopped", "always"), name
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)
    api = services["api"]
    env = api["environment"]
    for variable in (
        "GLIMPSE_MONGO_URI",
        "GLIMPSE_SECRET_KEY",
        "GLIMPSE_SERVICE_TOKEN",
        "GLIMPSE_TZ",
        "GLIMPSE_API_HOST",
    ):
        assert variable in env, variable
    assert env["GLIMPSE_MONGO_URI"].startswith("mongodb://mongo:")
    assert api["depends_on"]["mongo"]["condition"] == "service_healthy"
    assert api["command"][:2] == ["glimpse", "up"]


def test_compose_environment_is_a_valid_configuration():
    env = dict(_compose()["services"]["api"]["environment"])
    # Fill the ${VAR:?...} secrets the way an operator would.
    env["GLIMPSE_SECRET_KEY"] = "k" * 48
    env["GLIMPSE_SERVICE_TOKEN"] = "s" * 24
    for key, value in list(env.items()):
        if isinstance(value, str) and value.startswith("${"):
            env[key] = value.split(":-", 1)[1].rstrip("}") if ":-" in value else ""
    config = load_config({k: str(v) for k, v in env.items()})
    assert not config.embedded and config.api_host == "0.0.0.0"


def test_dockerfile_runs_the_cli_as_an_unprivileged_user():
    text = (ROOT / "Dockerfile").read_text()
    assert text.startswith("# ") and "FROM python:3.11" in text
    assert "requirements.txt" in text and "USER glimpse" in text
    assert 'CMD ["glimpse", "up"' in text


def test_env_example_documents_every_setting():
    documented = {
        line.split("=", 1)[0].lstrip("# ").strip()
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line
    }
    # Every field of Config declares the variable it is read from.
    read = set(variables())
    assert len(read) >= 25 and "GLIMPSE_WEB_DIST" in read
    assert read <= documented, read - documented


def test_compose_runs_every_service_against_mongo():
    services = _compose()["services"]
    for name in ("lister", "candles_starter", "server_assigner", "operational_server"):
        service = services[name]
        env = service["environment"]
        assert env["GLIMPSE_MONGO_URI"].startswith("mongodb://mongo:"), name
        assert "GLIMPSE_SECRET_KEY" in env and "GLIMPSE_SERVICE_TOKEN" in env, name
        assert service["depends_on"]["mongo"]["condition"] == "service_healthy", name
        assert "ports" not in service, name  # nothing but the API is published
    for name in ("lister", "candles_starter", "server_assigner"):
        assert services[name]["command"] == ["glimpse", "up", "--services", name]
    bot = services["operational_server"]
    assert bot["command"][:3] == ["python", "-m", "operational_server"]
    assert "container_name" not in bot  # scalable with --scale
    assert {"GLIMPSE_MARKET_EMAIL", "GLIMPSE_MARKET_PASSWORD"} <= set(services["lister"]["environment"])


def test_the_image_holds_every_service_package():
    text = (ROOT / "Dockerfile").read_text()
    for package in ("glimpse", "api", "auxiliar", "operational_server", "collections"):
        assert f"COPY {package} ./{package}" in text, package
