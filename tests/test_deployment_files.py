"""The deployment files: compose services, their environment, and the image."""

from __future__ import annotations

from pathlib import Path

import yaml

from glimpse.runtime.config import load_config, variables

ROOT = Path(__file__).resolve().parents[1]
ONE_SHOT = {"mongo-init"}
APP_SERVICES = ("api", "lister", "candles_starter", "server_assigner", "notifier", "operational_server")


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
        # One-shot jobs (the replica-set initiation) restart only when they fail.
        expected = ("on-failure",) if name in ONE_SHOT else ("unless-stopped", "always")
        assert service.get("restart") in expected, name
        if name == "proxy":  # the TLS proxy is the one door to the outside
            continue
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
        assert service["depends_on"]["mongo-init"]["condition"] == "service_completed_successfully", name
        assert "ports" not in service, name  # nothing but the API is published
    for name in ("lister", "candles_starter", "server_assigner"):
        assert services[name]["command"] == ["glimpse", "up", "--services", name]
    bot = services["operational_server"]
    assert bot["command"][:3] == ["python", "-m", "operational_server"]
    assert "container_name" not in bot  # scalable with --scale
    assert {"GLIMPSE_MARKET_EMAIL", "GLIMPSE_MARKET_PASSWORD"} <= set(services["lister"]["environment"])


def test_the_image_holds_every_service_package():
    text = (ROOT / "Dockerfile").read_text()
    for package in ("glimpse", "api", "auxiliar", "operational_server"):
        assert f"COPY {package} ./{package}" in text, package
    # The seed data ships inside the wheel (package data of glimpse.store), not beside it.
    assert '"glimpse.store" = ["collections/*.json"]' in (ROOT / "pyproject.toml").read_text()
    assert list((ROOT / "glimpse" / "store" / "collections").glob("*.json"))


# ---- the image --------------------------------------------------------------------------


def _stages() -> list[tuple[str, list[str]]]:
    """(FROM line, its instructions) per stage of the Dockerfile, continuation lines joined."""
    lines, current = [], ""
    for raw in (ROOT / "Dockerfile").read_text().splitlines():
        if raw.lstrip().startswith("#"):
            continue
        current += raw.rstrip("\\").strip() + " " if raw.rstrip().endswith("\\") else raw.strip()
        if not raw.rstrip().endswith("\\"):
            if current.strip():
                lines.append(current.strip())
            current = ""
    stages: list[tuple[str, list[str]]] = []
    for line in lines:
        if line.upper().startswith("FROM "):
            stages.append((line, []))
        elif stages:
            stages[-1][1].append(line)
    return stages


def test_the_image_builds_both_apps_with_node_and_ships_them():
    stages = _stages()
    assert len(stages) >= 3, "multi-stage: apps, wheel, image"
    apps_from, apps = next((f, body) for f, body in stages if f.startswith("FROM node:") and " AS apps" in f)
    text = "\n".join(apps)
    # Both apps import apps/shared by source: it is copied beside them, and each app is built.
    for app in ("shared", "web", "manager"):
        assert f"COPY apps/{app} ./{app}" in text, app
    assert "cd web && npm run build" in text and "cd ../manager && npm run build" in text
    assert "npm ci" in text
    final_from, final = stages[-1]
    assert final_from.startswith("FROM python:3.11") and " AS " not in final_from
    final_text = "\n".join(final)
    copies = [line for line in final if line.startswith("COPY --from=apps")]
    assert any("/build/apps/web/dist /srv/glimpse/apps/web/dist" in c for c in copies), copies
    assert any("/build/apps/manager/dist /srv/glimpse/apps/manager/dist" in c for c in copies), copies
    assert "GLIMPSE_WEB_DIST=/srv/glimpse/apps/web/dist" in final_text
    assert "GLIMPSE_MANAGER_DIST=/srv/glimpse/apps/manager/dist" in final_text


def test_the_image_installs_a_normal_wheel_and_runs_unprivileged():
    stages = _stages()
    wheel = "\n".join(next(body for f, body in stages if " AS wheel" in f))
    assert "pip wheel" in wheel and "--wheel-dir /wheels ." in wheel
    final = _stages()[-1][1]
    text = "\n".join(final)
    assert "-e ." not in (ROOT / "Dockerfile").read_text() and "editable" not in text
    assert (
        "COPY --from=wheel /wheels/" in text
        and "pip install --no-cache-dir --no-deps /tmp/wheels/*.whl" in text
    )
    assert "pip install --no-cache-dir -r /tmp/requirements.txt" in text
    users = [line.split()[1] for line in final if line.startswith("USER ")]
    assert users == ["glimpse"], users  # one switch, to a named non-root user
    assert "useradd --system --uid 10001" in text
    user_at = final.index("USER glimpse")
    assert not [line for line in final[user_at:] if line.startswith("RUN ")], (
        "nothing runs as root after USER"
    )


def test_the_image_checks_its_health_on_glimpse_health():
    final = _stages()[-1][1]
    [check] = [line for line in final if line.startswith("HEALTHCHECK ")]
    assert "/glimpse/health" in check and "--timeout=" in check and "CMD" in check
    assert 'CMD ["glimpse", "up", "--services", "api"]' in final


def test_the_build_context_leaves_out_host_dependencies():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for pattern in ("**/node_modules", "**/dist", ".venv", ".git", ".env"):
        assert pattern in ignored, pattern


# ---- compose: replica set, health checks, proxy ----------------------------------------


def test_mongo_is_a_replica_set_initiated_by_a_one_shot_service():
    services = _compose()["services"]
    mongo = services["mongo"]
    command = mongo["command"]
    assert command[command.index("--replSet") + 1] == "rs0"
    init = services["mongo-init"]
    assert init["image"] == mongo["image"] and init["restart"] == "on-failure"
    assert init["depends_on"]["mongo"]["condition"] == "service_started"
    mounted = {v.split(":")[1]: v.split(":")[0] for v in init["volumes"]}
    script_in_container = next(part for part in init["command"] if part.endswith(".js"))
    script = ROOT / mounted[script_in_container].removeprefix("./")
    source = script.read_text()
    assert "rs.initiate(" in source and "rs.add(" in source and "GLIMPSE_RS_MEMBERS" in source
    assert "quit(1)" in source  # no primary in time: the init fails, and the services wait
    assert init["environment"]["GLIMPSE_RS_NAME"] == "rs0"
    # The services' URI names the set, so the driver follows elections to the new primary.
    env = services["api"]["environment"]
    assert "replicaSet=rs0" in env["GLIMPSE_MONGO_URI"] and "directConnection" not in env["GLIMPSE_MONGO_URI"]
    for name in APP_SERVICES:
        assert services[name]["depends_on"]["mongo-init"]["condition"] == "service_completed_successfully"


def test_a_three_node_profile_is_documented():
    compose = _compose()
    services = compose["services"]
    for name in ("mongo2", "mongo3"):
        member = services[name]
        assert member["profiles"] == ["replica3"], name
        assert member["command"][member["command"].index("--replSet") + 1] == "rs0"
        assert (
            any(v.startswith(f"{name}-data:") for v in member["volumes"])
            and f"{name}-data" in compose["volumes"]
        )
    header = (ROOT / "docker-compose.yml").read_text().split("x-glimpse-env")[0]
    assert (
        "--profile replica3" in header
        and "GLIMPSE_RS_MEMBERS=mongo:27017,mongo2:27017,mongo3:27017" in header
    )


def test_every_service_has_a_health_check_and_a_restart_policy():
    services = _compose()["services"]
    for name, service in services.items():
        check = service.get("healthcheck")
        assert check and check.get("test") and check["test"][0] in ("CMD", "CMD-SHELL"), name
        assert not check.get("disable"), name
        assert service.get("restart"), name
    api_check = " ".join(services["api"]["healthcheck"]["test"])
    assert "/glimpse/health" in api_check


def test_the_heartbeat_checks_name_the_services_as_they_beat():
    from auxiliar import candles_starter, lister, notifier, server_assigner

    services = _compose()["services"]
    for name, module in (
        ("lister", lister),
        ("candles_starter", candles_starter),
        ("server_assigner", server_assigner),
        ("notifier", notifier),
    ):
        test = services[name]["healthcheck"]["test"]
        assert test[:4] == ["CMD", "python", "-m", "glimpse.runtime.heartbeat"], name
        assert test[4] == module.NAME, name
    assert services["operational_server"]["healthcheck"]["test"][-1] == "--servers"


def test_compose_runs_every_service_glimpse_up_knows():
    pyproject = (ROOT / "pyproject.toml").read_text()
    section = pyproject.split('[project.entry-points."glimpse.services"]', 1)[1].split("\n[", 1)[0]
    known = {line.split("=", 1)[0].strip() for line in section.splitlines() if "=" in line}
    assert known and known <= set(_compose()["services"])


def test_the_api_sits_behind_a_tls_proxy_it_trusts_alone():
    import ipaddress

    compose = _compose()
    services = compose["services"]
    proxy = services["proxy"]
    assert proxy["image"].startswith("caddy:")
    assert {str(p) for p in proxy["ports"]} == {"80:80", "443:443"}
    mounted = {v.split(":")[1]: v.split(":")[0] for v in proxy["volumes"]}
    caddyfile = (ROOT / mounted["/etc/caddy/Caddyfile"].removeprefix("./")).read_text()
    assert "reverse_proxy api:5000" in caddyfile and "{$GLIMPSE_DOMAIN:localhost}" in caddyfile
    assert "respond @metrics 404" in caddyfile  # /metrics is for the scraper inside, not the world
    address = ipaddress.ip_address(proxy["networks"]["glimpse"]["ipv4_address"])
    subnet = ipaddress.ip_network(compose["networks"]["glimpse"]["ipam"]["config"][0]["subnet"])
    assert address in subnet
    trusted = ipaddress.ip_network(services["api"]["environment"]["GLIMPSE_TRUSTED_PROXIES"])
    assert address in trusted and trusted.num_addresses == 1  # nobody else on the network is believed
    config = load_config(
        {
            "GLIMPSE_SECRET_KEY": "k" * 48,
            "GLIMPSE_SERVICE_TOKEN": "s" * 24,
            "GLIMPSE_TRUSTED_PROXIES": services["api"]["environment"]["GLIMPSE_TRUSTED_PROXIES"],
        }
    )
    assert any(address in network for network in config.trusted_proxies)


def test_the_heartbeat_check_command(db, clock):
    from glimpse.runtime import heartbeat
    from glimpse.store import db as names

    now = clock.now()
    db[names.SERVER_STATUS].insert_many(
        [{"name": "Lister", "uptime": now - 2}, {"name": "Old", "uptime": now - 99}]
    )
    db[names.SERVERS].insert_many(
        [
            {"name": "glimpse_hostA_01", "uptime": now - 1},
            {"name": "glimpse_hostB_01", "uptime": now - 1},
            {"name": "glimpse_hostB_02", "uptime": now - 99},
        ]
    )
    assert heartbeat.check(db, now, 12, service="Lister") is None
    assert "Old" in (heartbeat.check(db, now, 12, service="Old") or "")
    assert "never" in (heartbeat.check(db, now, 12, service="Missing") or "")
    assert heartbeat.check(db, now, 12, server_prefix="glimpse_hostA_") is None
    assert "glimpse_hostB_02" in (heartbeat.check(db, now, 12, server_prefix="glimpse_hostB_") or "")
    assert "no server" in (heartbeat.check(db, now, 12, server_prefix="glimpse_hostC_") or "")


def _docker_ignored(path: str) -> bool:
    """Whether .dockerignore leaves `path` out of the build context (last matching pattern wins)."""
    from fnmatch import fnmatch

    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!")
        if any(fnmatch(p, pattern) or fnmatch(p, pattern.removeprefix("**/")) for p in prefixes):
            ignored = not negate
    return ignored


def test_what_the_apps_import_from_outside_apps_reaches_the_node_stage():
    import re

    stage = "\n".join(next(body for f, body in _stages() if " AS apps" in f))
    outside: set[str] = set()
    for source in (ROOT / "apps").glob("*/src/**/*.ts*"):
        if "node_modules" in source.parts:
            continue
        for target in re.findall(r"""from\s+["'](\.{1,2}/[^"']+)["']""", source.read_text()):
            resolved = (source.parent / target).resolve()
            relative = resolved.relative_to(ROOT).as_posix()
            if not relative.startswith("apps/"):
                outside.add(relative)
    assert outside, "the trader app reads the signal corpus from tests/fixtures"
    for path in sorted(outside):
        folder = path.rsplit("/", 1)[0]
        assert f"COPY {folder} /build/{folder}" in stage, path
        assert not _docker_ignored(path), path
    for kept_out in (
        "apps/web/node_modules/x",
        "apps/web/dist/index.html",
        "tests/api/test_accounts.py",
        ".venv/x",
    ):
        assert _docker_ignored(kept_out), kept_out
    for needed in ("apps/web/src/main.tsx", "glimpse/store/collections/Accounts.json", "requirements.txt"):
        assert not _docker_ignored(needed), needed


def test_compose_runs_each_operational_server_replica_as_a_zygote():
    import inspect
    import re

    from glimpse.runtime.zygote import Zygote
    from operational_server.__main__ import build_parser

    bot = _compose()["services"]["operational_server"]
    command = bot["command"]
    assert command[:4] == ["python", "-m", "operational_server", "--zygote"] and len(command) == 5
    # N is the operator's GLIMPSE_ZYGOTE_SERVERS, or the documented default.
    match = re.fullmatch(r"\$\{GLIMPSE_ZYGOTE_SERVERS:-(\d+)\}", command[4])
    assert match, command[4]
    default = int(match[1])
    assert 1 <= default <= 500
    assert f"GLIMPSE_ZYGOTE_SERVERS servers (default {default})" in (ROOT / "docker-compose.yml").read_text()
    # What compose runs with the default is the service's own command line, as it parses it.
    assert build_parser().parse_args([*command[3:4], str(default)]).zygote == default
    # The health check still looks at this replica's servers (the zygote's children beat as any server).
    assert bot["healthcheck"]["test"] == ["CMD", "python", "-m", "glimpse.runtime.heartbeat", "--servers"]
    assert "interval" in bot["healthcheck"] and "start_period" in bot["healthcheck"]
    # docker stop waits for the zygote to stop its children (each lets its order settle) before a SIGKILL.
    stop_timeout = inspect.signature(Zygote).parameters["stop_timeout"].default
    assert int(bot["stop_grace_period"].removesuffix("s")) > stop_timeout
