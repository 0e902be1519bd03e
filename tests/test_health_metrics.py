"""/glimpse/health, the service supervisor, and /metrics against the ledger."""

from __future__ import annotations

import logging
import threading
import time
from decimal import Decimal

import pytest
from prometheus_client.parser import text_string_to_metric_families

from api import create_app
from api.routes import health as health_route
from auxiliar.lister import Lister
from glimpse.runtime import metrics
from glimpse.runtime.services import ServiceContext, ServiceDied, Supervised
from glimpse.runtime.ticker import TickerService
from glimpse.store import db as names
from glimpse.store import trades
from tests.pipeline.bundle import make_bundle

TOKEN = "service-token-for-tests"


@pytest.fixture
def app(config, db, clock):
    application = create_app(config, db=db, clock=clock, check_broker_credentials=None)
    application.testing = True
    return application


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


# ---- health -------------------------------------------------------------------------------


def test_health_answers_within_a_second_while_the_database_hangs(app, monkeypatch):
    release = threading.Event()

    def hanging_ping(db):
        release.wait(10)
        return True

    monkeypatch.setattr(health_route, "db_ping", hanging_ping)
    try:
        started = time.monotonic()
        response = app.test_client().get("/glimpse/health")
        elapsed = time.monotonic() - started
    finally:
        release.set()
    assert response.status_code == 503
    assert response.json["database"] == "unreachable" and response.json["failing"] == ["database"]
    assert elapsed < 1.0, elapsed


def test_a_slow_stuck_user_scan_leaves_the_answer_partial_not_failing(app, db, clock, monkeypatch):
    release = threading.Event()

    def slow_scan(*args):
        release.wait(10)
        return []

    db[names.SERVER_STATUS].insert_one({"name": "Lister", "uptime": clock.now()})
    monkeypatch.setattr(health_route, "_stuck_users", slow_scan)
    try:
        started = time.monotonic()
        response = app.test_client().get("/glimpse/health")
        elapsed = time.monotonic() - started
    finally:
        release.set()
    assert response.status_code == 200 and elapsed < 1.0, elapsed
    body = response.json
    assert body["partial"] is True and body["stuckUsers"] is None and body["status"] == "attention"
    assert body["database"] == "ok" and [s["name"] for s in body["services"]] == ["Lister"]


def test_health_names_a_service_out_of_its_lease_and_reports_stuck_users(app, db, clock):
    now = clock.now()
    db[names.SERVER_STATUS].insert_many(
        [{"name": "Lister", "uptime": now - 1}, {"name": "Server Assigner", "uptime": now - 3600}]
    )
    db[names.SERVERS].insert_one({"name": "s1", "status": "waiting", "target": "", "uptime": now})
    stuck = (
        db[names.ACCOUNTS]
        .insert_one({"email": "u1@example.com", "glimpseStatus": "waiting", "waitingSince": now - 3600})
        .inserted_id
    )
    db[names.ACCOUNTS].insert_one(
        {"email": "u2@example.com", "glimpseStatus": "waiting", "waitingSince": now - 1}
    )
    orphan = (
        db[names.ACCOUNTS]
        .insert_one({"email": "u3@example.com", "glimpseStatus": "operating", "server": "gone"})
        .inserted_id
    )
    response = app.test_client().get("/glimpse/health")
    assert response.status_code == 503
    body = response.json
    assert body["failing"] == ["Server Assigner"]
    assert [u["user"] for u in body["stuckUsers"]] == [str(stuck)]
    assert [s["user"] for s in body["stalledSessions"]] == [str(orphan)]

    db[names.SERVER_STATUS].update_one({"name": "Server Assigner"}, {"$set": {"uptime": now}})
    healthy = app.test_client().get("/glimpse/health")
    assert healthy.status_code == 200 and healthy.json["failing"] == []
    assert healthy.json["status"] == "attention"


def test_health_fails_when_a_server_holding_a_user_stops_beating(app, db, clock):
    now = clock.now()
    db[names.SERVERS].insert_many(
        [
            {"name": "s1", "status": "operating", "target": "u1", "uptime": now - 600},
            {"name": "s2", "status": "waiting", "target": "", "uptime": now},
        ]
    )
    response = app.test_client().get("/glimpse/health")
    assert response.status_code == 503 and response.json["failing"] == ["s1"]


# ---- the supervisor -----------------------------------------------------------------------


class FragileLister(Lister):
    """A lister whose loop dies while `broken` is set."""

    broken = threading.Event()

    def tick(self, now: float) -> bool:
        if self.broken.is_set():
            raise ServiceDied("killed by the test")
        return super().tick(now)


def test_a_dead_service_turns_health_503_and_back_to_200_after_its_restart(config, db):
    bundle = make_bundle(config.with_(lease_seconds=1.0), db, speed=10.0)
    ctx: ServiceContext = bundle.ctx
    supervised = Supervised(
        TickerService("lister", FragileLister), check_interval=0.05, backoff=0.5, give_up=lambda name: None
    )
    FragileLister.broken.clear()
    app = create_app(ctx.config, db=db, clock=ctx.clock, check_broker_credentials=None)
    client = app.test_client()
    handle = supervised.start(ctx)
    try:

        def lister_state():
            body = client.get("/glimpse/health").json or {}
            return {s["name"]: s["alive"] for s in body["services"]}.get("Lister")

        bundle.wait_for(lambda: lister_state() is True, 20, "the lister's first heartbeat")
        first = handle.current
        FragileLister.broken.set()
        bundle.wait_for(lambda: not first.is_alive(), 20, "the lister's thread to die")
        down = bundle.wait_for(
            lambda: (r := client.get("/glimpse/health")).status_code == 503 and r, 20, "health to go 503"
        )
        assert "Lister" in down.json["failing"]
        FragileLister.broken.clear()
        bundle.wait_for(lambda: client.get("/glimpse/health").status_code == 200, 30, "health back to 200")
        assert handle.restarts >= 1 and handle.current is not first and handle.current.is_alive()
    finally:
        handle.stop()
        handle.join(10)


class Doomed:
    """A service whose thread dies at once, every time."""

    name = "doomed"

    def __init__(self):
        self.starts = 0

    def start(self, ctx):
        self.starts += 1
        thread = threading.Thread(target=lambda: None)
        thread.stop = lambda: None  # type: ignore[attr-defined]
        thread.start()
        return thread


def test_a_service_that_keeps_dying_makes_the_process_give_up(config, db, clock):
    gave_up = threading.Event()
    doomed = Doomed()
    supervised = Supervised(
        doomed,
        check_interval=0.01,
        backoff=0.01,
        max_backoff=0.02,
        max_deaths=5,
        window=60,
        give_up=lambda n: gave_up.set(),
    )
    handle = supervised.start(ServiceContext(config=config, db=db, clock=clock))
    assert gave_up.wait(10)
    handle.join(5)
    assert not handle.is_alive()
    # Started once, restarted after each of the first four deaths, never after the fifth.
    assert doomed.starts == 5 and len(handle.deaths) == 5


class StoppedMidCheck:
    """A service handle that is stopped exactly between the supervisor's wait and its liveness
    check: the interleaving that used to be logged as a death."""

    name = "stopped-mid-check"

    def __init__(self):
        self.supervisor = None
        self.checks = 0
        self.stopped = False

    def start(self, ctx):
        return self

    def is_alive(self) -> bool:
        self.checks += 1
        if self.checks == 3 and self.supervisor is not None:
            self.supervisor.stop()  # Ctrl-C lands here, after the wait and before the answer
        return not self.stopped

    def stop(self):
        self.stopped = True

    def join(self, timeout=None):
        pass


def test_stopping_a_supervised_service_is_not_reported_as_its_death(config, db, clock, caplog):
    gave_up = threading.Event()
    service = StoppedMidCheck()
    supervised = Supervised(service, check_interval=0.001, backoff=0.01, give_up=lambda n: gave_up.set())
    with caplog.at_level(logging.WARNING, logger="glimpse.runtime.services"):
        handle = supervised.start(ServiceContext(config=config, db=db, clock=clock))
        service.supervisor = handle
        handle.join(5)
        assert not handle.is_alive()
    assert service.checks == 3 and handle.deaths == [] and handle.restarts == 0
    assert not [r for r in caplog.records if "died" in r.getMessage()] and not gave_up.is_set()


# ---- metrics ------------------------------------------------------------------------------


def _trade(db, clock, user: str, profit: str | None, *, refused: bool = False):
    trade = trades.record_intent(
        db,
        user=user,
        session="sess-1",
        server="s1",
        ativo="EURUSD",
        operacao="call",
        amount=Decimal("2.00"),
        gale_level=0,
        payout=85,
        decided_at=clock.now(),
        cycle="c1",
        account="PRACTICE",
    )
    if refused:
        trades.mark_failed(db, trade.id, "refused", clock.now())
        return
    trades.mark_open(db, trade.id, int(time.time_ns() % 10**9), clock.now(), 1.1)
    if profit is not None:
        trades.settle(db, trade.id, Decimal(profit), clock.now() + 60, 1.2)


def test_metrics_need_the_service_token(app):
    client = app.test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong-token-xxxx"}).status_code == 401
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200 and response.mimetype == "text/plain"


def test_metrics_counters_equal_the_ledger(app, db, clock):
    user = str(
        db[names.ACCOUNTS]
        .insert_one({"email": "u4@example.com", "glimpseStatus": "operating", "mode": "signals"})
        .inserted_id
    )
    db[names.ACCOUNTS].insert_many(
        [
            {"email": "u5@example.com", "glimpseStatus": "operating", "mode": "strategy"},
            {"email": "u6@example.com", "glimpseStatus": "off", "mode": "strategy"},
        ]
    )
    for profit in ("1.70", "-2.00", "1.70", "0", None):
        _trade(db, clock, user, profit)
    _trade(db, clock, user, None, refused=True)
    db[names.SERVER_STATUS].insert_one({"name": "Lister", "uptime": clock.now() - 2.5})
    metrics.observe_order_latency(120)
    metrics.count_dropped_decision()
    client = app.test_client()
    client.get("/glimpse/ping")
    failures_before = metrics.LOGIN_FAILURES.labels(kind="user")._value.get()
    refused = client.post(
        "/glimpse/login", json={"email": "nobody@example.com", "password": "wrong password 1"}
    )
    assert refused.status_code in (200, 429)

    text = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).get_data(as_text=True)
    samples = _samples(text)
    ledger = list(db[names.TRADES].find())
    closed = [t for t in ledger if t["status"] == "closed"]
    for result in ("win", "loss", "doji", "failed"):
        expected = sum(1 for t in closed if t["result"] == result)
        assert samples[("glimpse_orders_settled_total", (("result", result),))] == expected, result
    assert samples[("glimpse_orders_settled_total", (("result", "win"),))] == 2
    assert samples[("glimpse_orders_placed_total", ())] == sum(1 for t in ledger if t["brokerOrderId"]) == 5
    assert samples[("glimpse_orders_by_status", (("status", "open"),))] == 1
    assert samples[("glimpse_active_sessions", (("mode", "signals"), ("status", "operating")))] == 1
    assert samples[("glimpse_active_sessions", (("mode", "strategy"), ("status", "operating")))] == 1
    assert samples[("glimpse_heartbeat_age_seconds", (("service", "Lister"),))] == pytest.approx(2.5)
    assert samples[("glimpse_order_latency_milliseconds_count", ())] >= 1
    assert samples[("glimpse_decisions_dropped_total", ())] >= 1
    ping = ("glimpse_api_requests_total", (("method", "GET"), ("route", "/glimpse/ping"), ("status", "200")))
    assert samples[ping] >= 1
    assert samples[("glimpse_api_request_seconds_count", (("route", "/glimpse/ping"),))] >= 1
    if refused.status_code == 200:
        assert refused.json == {"res": -1}
        assert samples[("glimpse_login_failures_total", (("kind", "user"),))] == failures_before + 1


def test_order_latency_from_the_ledger_covers_every_servers_recent_orders(app, db, clock):
    """Orders placed by other processes (servers) reach the API's /metrics through the ledger."""
    now = clock.now()
    placed_after = {"s1": 0.030, "s2": 0.045, "s3": 0.200, "s4": 1.500}  # seconds after the decision
    for n, (server, delay) in enumerate(placed_after.items()):
        trade = trades.record_intent(
            db, user="u", session="sess", server=server, ativo="EURUSD", operacao="put", amount=Decimal("2.00"),
            gale_level=0, payout=85, decided_at=now - 60 - n, cycle=f"c{n}", account="PRACTICE",
        )  # fmt: skip
        trades.mark_open(db, trade.id, 1000 + n, now - 60 - n + delay, 1.1)
    # Outside the window, and never placed: neither counts.
    old = trades.record_intent(
        db, user="u", session="sess", server="s1", ativo="EURUSD", operacao="put", amount=Decimal("2.00"),
        gale_level=0, payout=85, decided_at=now - metrics.LATENCY_WINDOW - 5, cycle="old", account="PRACTICE",
    )  # fmt: skip
    trades.mark_open(db, old.id, 999, now - metrics.LATENCY_WINDOW, 1.1)
    trades.record_intent(
        db, user="u", session="sess", server="s1", ativo="EURUSD", operacao="put", amount=Decimal("2.00"),
        gale_level=0, payout=85, decided_at=now - 1, cycle="pending", account="PRACTICE",
    )  # fmt: skip
    text = (
        app.test_client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).get_data(as_text=True)
    )
    samples = _samples(text)
    assert samples[("glimpse_order_latency_recent_orders", ())] == 4
    quantile = "glimpse_order_latency_recent_milliseconds"
    assert samples[(quantile, (("quantile", "0.5"),))] == pytest.approx(45, abs=0.01)
    assert samples[(quantile, (("quantile", "0.9"),))] == pytest.approx(1500, abs=0.01)
    assert samples[(quantile, (("quantile", "0.99"),))] == pytest.approx(1500, abs=0.01)


def test_metrics_answer_without_ledger_figures_while_the_database_is_down(config, clock):
    class DownDatabase:
        def __getitem__(self, name):
            raise RuntimeError("down")

        def command(self, name):
            raise RuntimeError("down")

    app = create_app(config, db=DownDatabase(), clock=clock, check_broker_credentials=None)
    response = app.test_client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "glimpse_api_requests_total" in text and "glimpse_orders_settled_total" not in text


# ---- market login back-off ----------------------------------------------------------------


class RefusingMarket:
    """open_broker stand-in: refuses the market account until `accept` is set."""

    def __init__(self) -> None:
        self.attempts: list[float] = []
        self.accept = False
        self.clock_value = 0.0

    def monotonic(self) -> float:
        return self.clock_value

    def open_broker(self, config, db, clock, email, password):
        from glimpse.market import AuthError

        market = self

        class Broker:
            def connect(self) -> None:
                market.attempts.append(market.clock_value)
                if not market.accept:
                    raise AuthError("market account refused")

            def is_connected(self) -> bool:
                return True

            def close(self) -> None:
                pass

            def open_assets(self) -> dict:
                return {}

        return Broker()


def test_the_market_login_backs_off_exponentially_with_a_cap_and_logs_state_changes(
    config, db, clock, monkeypatch, caplog
):
    from auxiliar import market_account

    market = RefusingMarket()
    monkeypatch.setattr(market_account, "open_broker", market.open_broker)
    account = market_account.MarketAccount(
        ServiceContext(config=config, db=db, clock=clock), "Lister", market.monotonic
    )
    with caplog.at_level("DEBUG", logger="auxiliar.market_account"):
        # One call a second for ten minutes, as the lister's ticks would.
        for second in range(600):
            market.clock_value = float(second)
            try:
                account.get()
            except market_account.BrokerError as exc:
                account.drop(exc)
        gaps = [b - a for a, b in zip(market.attempts, market.attempts[1:], strict=False)]
        assert gaps[:6] == [1, 2, 4, 8, 16, 32] and set(gaps[6:]) == {60}
        assert len(market.attempts) <= 17  # not 600
        market.accept = True
        market.clock_value = 10_000.0
        assert account.get() is not None
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    infos = [r for r in caplog.records if r.levelname == "INFO"]
    assert len(warnings) == 1 and "back-off" in warnings[0].getMessage()
    assert len(infos) == 1 and "after" in infos[0].getMessage()
    assert account.failures == 0 and account.state == "connected"


def test_a_lister_without_market_data_stops_beating(config, db, clock, monkeypatch):
    from auxiliar import market_account

    market = RefusingMarket()
    monkeypatch.setattr(market_account, "open_broker", market.open_broker)
    lister = Lister(ServiceContext(config=config, db=db, clock=clock))
    lister.account.monotonic = market.monotonic
    assert lister.tick(clock.now()) is False
    market.accept = True
    market.clock_value = 100.0
    assert lister.tick(clock.now()) is True


# ---- JSON logs ----------------------------------------------------------------------------


def test_json_log_lines_carry_ids_and_no_secrets():
    import io
    import json
    import logging

    from glimpse.runtime import logs

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("glimpse.test.json")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    try:
        with logs.bind(user="u1", session="s1"):
            logger.info("order placed", extra={"trade": "t9", "server": "glimpse_01"})
            with logs.bind(server="glimpse_02"):
                logger.warning("connecting to mongodb://admin:hunter22@db:27017 with password=hunter22")
        logger.info("outside")
        try:
            raise ValueError("smtp://relay:s3cret@mail failed")
        except ValueError:
            logger.exception("mail")
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 4
    first, second, third, fourth = lines
    assert (first["user"], first["session"], first["trade"], first["server"]) == (
        "u1",
        "s1",
        "t9",
        "glimpse_01",
    )
    assert (
        first["message"] == "order placed"
        and first["level"] == "INFO"
        and first["logger"] == "glimpse.test.json"
    )
    assert second["server"] == "glimpse_02" and "hunter22" not in json.dumps(second)
    assert "admin:***@db" in second["message"]
    assert "user" not in third
    assert "s3cret" not in json.dumps(fourth) and "ValueError" in fourth["exception"]


def test_glimpse_log_format_json_from_the_environment(tmp_path):
    import json
    import os
    import subprocess
    import sys

    code = (
        "import logging; from glimpse.runtime import logs; logs.configure(); "
        "logging.getLogger('glimpse.x').warning('hello', extra={'user': 'u7'})"
    )
    env = {**os.environ, "GLIMPSE_LOG_FORMAT": "json"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    [line] = [entry for entry in done.stderr.splitlines() if entry.strip()]
    entry = json.loads(line)
    assert entry["message"] == "hello" and entry["user"] == "u7"
    env["GLIMPSE_LOG_FORMAT"] = "text"
    text = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert "WARNING glimpse.x: hello" in text.stderr


def test_giving_up_ends_the_process_with_exit_code_3():
    import subprocess
    import sys

    code = (
        "import threading, time\n"
        "from glimpse.runtime.services import Supervised\n"
        "class Doomed:\n"
        "    name = 'doomed'\n"
        "    def start(self, ctx):\n"
        "        t = threading.Thread(target=lambda: None); t.stop = lambda: None; t.start(); return t\n"
        "Supervised(Doomed(), check_interval=0.01, backoff=0.01, max_backoff=0.02).start(None)\n"
        "time.sleep(60)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    # 3 is gunicorn's "worker failed to boot": its master halts too instead of forking a new worker.
    assert done.returncode == 3, done.stderr[-2000:]
    assert "doomed keeps dying" in done.stderr


def test_log_lines_of_an_api_request_carry_its_id_and_route(app):
    import io
    import json
    import logging

    from glimpse.runtime import logs

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("glimpse.test.request")
    logger.addHandler(handler)
    logger.propagate = False

    @app.get("/glimpse/_logs_probe/<name>")
    def probe(name):
        logger.warning("inside %s", name)
        return {"ok": True}

    try:
        client = app.test_client()
        assert client.get("/glimpse/_logs_probe/a").status_code == 200
        assert client.get("/glimpse/_logs_probe/b").status_code == 200
        logger.warning("outside")
    finally:
        logger.removeHandler(handler)
    first, second, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["route"] == second["route"] == "/glimpse/_logs_probe/<name>"
    assert first["request"] and second["request"] and first["request"] != second["request"]
    assert "request" not in outside and "route" not in outside


class _Handle(threading.Thread):
    def __init__(self, lifetime: float | None):
        super().__init__(daemon=True)
        self.lifetime = lifetime
        self.stopped = threading.Event()

    def run(self) -> None:
        self.stopped.wait(self.lifetime)

    def stop(self) -> None:
        self.stopped.set()


def test_a_standalone_service_whose_thread_dies_exits_non_zero():
    from glimpse.runtime.services import run_until_stopped

    steady, dying = _Handle(None), _Handle(0.05)
    steady.start()
    dying.start()
    assert run_until_stopped([steady, dying], join_timeout=5, check_seconds=0.02) == 3
    assert steady.stopped.is_set() and not steady.is_alive()


def test_a_standalone_service_stopped_by_sigterm_exits_zero():
    import os
    import signal

    from glimpse.runtime.services import run_until_stopped

    steady = _Handle(None)
    steady.start()
    timer = threading.Timer(0.2, lambda: os.kill(os.getpid(), signal.SIGTERM))
    timer.start()
    assert run_until_stopped([steady], join_timeout=5, check_seconds=0.02) == 0
    assert not steady.is_alive()
