"""Notifications: the queue, the messages, Telegram (against the fake Bot API) and webhooks
(against a local receiver that checks the signature), the SSRF guard and the daily summary."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from bson import ObjectId
from pymongo.errors import AutoReconnect

from auxiliar.notifier import Notifier, NotifierService, backoff
from glimpse.runtime import notify
from glimpse.runtime.security import encrypt_secret
from glimpse.runtime.services import ServiceContext
from glimpse.store import db as names
from glimpse.store import notifications as store
from tests.fakes.telegram import FakeTelegram
from tests.fakes.webhook_receiver import WebhookReceiver

ROOT = Path(__file__).resolve().parents[1]
ANA, BRUNO = "665f1c2e8a1b2c3d4e5f6a01", "665f1c2e8a1b2c3d4e5f6a02"
ANA_CHAT, BRUNO_CHAT = 5550001, 5550002
SECRET = "whsec-test-0123456789"


@pytest.fixture
def telegram():
    fake = FakeTelegram().start()
    yield fake
    fake.close()


@pytest.fixture
def receivers():
    made: list[WebhookReceiver] = []

    def make(secret: str = SECRET) -> WebhookReceiver:
        receiver = WebhookReceiver(secret).start()
        made.append(receiver)
        return receiver

    yield make
    for receiver in made:
        receiver.close()


@pytest.fixture
def ctx(config, db, clock, telegram):
    cfg = config.with_(telegram_token=telegram.token, telegram_api=telegram.url, webhook_allow_private=True)
    return ServiceContext(config=cfg, db=db, clock=clock)


@pytest.fixture
def notifier(ctx):
    n = Notifier(ctx, workers=4, send_timeout=5.0, poll_timeout=0)
    yield n
    n.pool.shutdown(wait=True, cancel_futures=True)


def drain(n: Notifier) -> None:
    """Fan out everything queued and send every due delivery, waiting for the sends to finish."""
    n.fan_out(n.ctx.clock.now())
    while n.dispatch(n.ctx.clock.now()):
        wait_idle(n)


def wait_idle(n: Notifier) -> None:
    # The pool has no "idle" signal: a barrier task per worker runs only after the sends queued before it.
    import threading

    barrier = threading.Barrier(n.workers + 1)
    for _ in range(n.workers):
        n.pool.submit(barrier.wait, 15)
    barrier.wait(15)


def link(db, user: str, chat: int, **prefs: Any) -> None:
    db[store.PREFS].update_one(
        {"_id": user},
        {"$set": {"telegram": {"chatId": chat, "chatName": "x", "linkedAt": 1.0}, **prefs}},
        upsert=True,
    )


def add_hook(ctx, owner: str, url: str, scope: str = store.SCOPE_USER, secret: str = SECRET) -> store.Webhook:
    hook = store.add_webhook(
        ctx.db,
        owner,
        scope,
        url,
        encrypt_secret(ctx.config.secret_key.get_secret_value(), secret),
        ctx.clock.now(),
    )
    assert hook is not None
    return hook


# ----------------------------------------------------------------------------- messages and the queue


def test_money_is_formatted_from_cents_in_each_language():
    assert notify.money(123456, "pt-BR") == "+R$ 1.234,56"
    assert notify.money(-850, "pt-BR") == "-R$ 8,50"
    assert notify.money(123456, "en") == "+R$1,234.56"
    assert notify.money(0, "en") == "R$0.00"


def test_messages_in_both_languages():
    cycle = {"ativo": "EURUSD", "operacao": "call", "levels": 2, "galeLevel": 1, "result": "win", "net": 850}
    pt = notify.render(store.CYCLE_RESULT, cycle, "pt-BR")
    en = notify.render(store.CYCLE_RESULT, cycle, "en")
    assert (
        "EURUSD" in pt and "COMPRA" in pt and "vitória G1" in pt and "2 entrada(s)" in pt and "+R$ 8,50" in pt
    )
    assert "CALL" in en and "win G1" in en and "2 entries" in en and "+R$8.50" in en
    assert "stop loss atingido" in notify.render(store.SESSION_STOPPED, {"reason": "stop_loss"}, "pt-BR")
    assert "stop loss reached" in notify.render(store.SESSION_STOPPED, {"reason": "stop_loss"}, "en")
    assert "-R$ 30,00" in notify.render(store.STOP_LOSS, {"net": -3000}, "pt-BR")
    summary = {"day": "2024-06-02", "trades": 5, "wins": 3, "losses": 2, "dojis": 0, "net": 1234}
    assert "5 ordens, 3 vitórias, 2 derrotas" in notify.render(store.DAILY_SUMMARY, summary, "pt-BR")
    # An unknown language falls back to pt-BR.
    assert notify.render(store.TEST, {}, "de") == notify.render(store.TEST, {}, "pt-BR")


def test_enqueue_is_one_insert_and_checks_the_event_name(db, clock):
    event_id = notify.enqueue(db, ANA, store.CYCLE_RESULT, {"net": 100}, clock.now())
    docs = list(db[store.QUEUE].find())
    assert len(docs) == 1 and docs[0]["eventId"] == event_id and docs[0]["status"] == store.NEW
    assert docs[0]["user"] == ANA and docs[0]["data"] == {"net": 100}
    with pytest.raises(ValueError):
        notify.enqueue(db, ANA, "orderPlaced", {}, clock.now())


def test_enqueue_never_raises_a_database_error_into_trading_code(clock):
    class Down:
        def __getitem__(self, name: str) -> Any:
            return self

        def insert_one(self, doc: Any) -> None:
            raise AutoReconnect("the database is away")

    assert notify.enqueue(Down(), ANA, store.STOP_WIN, {"net": 500}, clock.now()) is None


def test_fanning_out_twice_adds_no_delivery(ctx, notifier):
    link(ctx.db, ANA, ANA_CHAT)
    notify.enqueue(ctx.db, ANA, store.STOP_WIN, {"net": 500}, ctx.clock.now())
    event = store.claim_events(ctx.db, ctx.clock.now(), 60, 10)[0]
    delivery = store.new_delivery(event, store.TELEGRAM, str(ANA_CHAT), ctx.clock.now())
    assert store.add_delivery(ctx.db, delivery) is True
    assert store.add_delivery(ctx.db, delivery) is False
    assert ctx.db[store.DELIVERIES].count_documents({}) == 1


# ----------------------------------------------------------------------------- Telegram


def test_a_trader_links_a_chat_with_start_code(ctx, notifier, telegram):
    store.start_link(ctx.db, ANA, "K7Q2M9XPLA", ctx.clock.now() + 900)
    telegram.user_says(ANA_CHAT, "/start k7q2m9xpla")
    assert notifier.poll_telegram() == 1
    prefs = store.prefs_of(ctx.db, ANA)
    assert prefs.chat_id == ANA_CHAT and prefs.chat_name == "ana"
    drain(notifier)
    assert telegram.messages_to(ANA_CHAT) == [notify.text_of("telegramLinked", "pt-BR")]
    # The code is spent: sending it again links nothing and says so.
    telegram.user_says(BRUNO_CHAT, "/start K7Q2M9XPLA", language="en")
    notifier.poll_telegram()
    assert telegram.messages_to(BRUNO_CHAT) == [notify.text_of("badCode", "en")]
    assert store.prefs_of(ctx.db, ANA).chat_id == ANA_CHAT
    # The offset moved past both updates, and is kept for a restarted notifier.
    assert store.get_state(ctx.db, "telegram")["offset"] == telegram.updates[-1]["update_id"] + 1


def test_an_expired_code_links_nothing(ctx, notifier, telegram):
    store.start_link(ctx.db, ANA, "OLDCODE234", ctx.clock.now() + 900)
    ctx.clock.advance(901)
    telegram.user_says(ANA_CHAT, "/start OLDCODE234")
    notifier.poll_telegram()
    assert store.prefs_of(ctx.db, ANA).chat_id is None
    assert telegram.messages_to(ANA_CHAT) == [notify.text_of("badCode", "pt-BR")]


def test_messages_follow_each_traders_switches_and_language(ctx, notifier, telegram):
    link(ctx.db, ANA, ANA_CHAT)
    link(ctx.db, BRUNO, BRUNO_CHAT, language="en")
    store.set_prefs(ctx.db, ANA, events={store.CYCLE_RESULT: False})
    now = ctx.clock.now()
    cycle = {
        "ativo": "GBPUSD",
        "operacao": "put",
        "levels": 1,
        "galeLevel": 0,
        "result": "loss",
        "net": -1000,
    }
    for user in (ANA, BRUNO):
        notify.enqueue(ctx.db, user, store.SESSION_STARTED, {"mode": "signals"}, now)
        notify.enqueue(ctx.db, user, store.CYCLE_RESULT, cycle, now)
        notify.enqueue(ctx.db, user, store.SESSION_STOPPED, {"reason": "stop_loss"}, now)
    drain(notifier)
    ana, bruno = telegram.messages_to(ANA_CHAT), telegram.messages_to(BRUNO_CHAT)
    assert len(ana) == 2 and "começou a operar" in ana[0] and "stop loss atingido" in ana[1]
    assert len(bruno) == 3 and "started trading" in bruno[0]
    assert "GBPUSD PUT" in bruno[1] and "-R$10.00" in bruno[1] and "stop loss reached" in bruno[2]


def test_a_failed_send_is_retried_after_its_back_off(ctx, notifier, telegram):
    link(ctx.db, ANA, ANA_CHAT)
    telegram.fail_sends = [500]
    notify.enqueue(ctx.db, ANA, store.STOP_WIN, {"net": 2000}, ctx.clock.now())
    drain(notifier)
    assert telegram.messages_to(ANA_CHAT) == []
    delivery = ctx.db[store.DELIVERIES].find_one()
    assert delivery["status"] == store.PENDING and delivery["attempts"] == 1
    assert delivery["nextAttemptAt"] == ctx.clock.now() + backoff(1)
    drain(notifier)  # not due yet
    assert telegram.messages_to(ANA_CHAT) == []
    ctx.clock.advance(backoff(1))
    drain(notifier)
    assert len(telegram.messages_to(ANA_CHAT)) == 1
    assert ctx.db[store.DELIVERIES].find_one()["status"] == store.SENT


def test_telegram_retry_after_is_respected(ctx, notifier, telegram):
    link(ctx.db, ANA, ANA_CHAT)
    telegram.fail_sends = [429]
    notify.enqueue(ctx.db, ANA, store.STOP_WIN, {"net": 2000}, ctx.clock.now())
    drain(notifier)
    assert ctx.db[store.DELIVERIES].find_one()["nextAttemptAt"] == ctx.clock.now() + 7


def test_the_service_links_and_sends_from_its_own_threads(ctx, telegram):
    running = NotifierService(poll_timeout=1).start(ctx)
    try:
        store.start_link(ctx.db, ANA, "LIVECODE23", ctx.clock.now() + 900)
        telegram.user_says(ANA_CHAT, "/start LIVECODE23")
        assert telegram.wait_for_messages(ANA_CHAT, 1) == [notify.text_of("telegramLinked", "pt-BR")]
        notify.enqueue(ctx.db, ANA, store.STOP_LOSS, {"net": -3000}, ctx.clock.now())
        messages = telegram.wait_for_messages(ANA_CHAT, 2)
        assert len(messages) == 2 and "-R$ 30,00" in messages[1]
        assert store.get_state(ctx.db, "telegram")["botName"] == telegram.username
    finally:
        running.stop()
        running.join(10)
    assert not any(t.is_alive() for t in running.threads)


# ----------------------------------------------------------------------------- webhooks


def test_a_webhook_gets_the_event_signed(ctx, notifier, receivers):
    receiver = receivers()
    add_hook(ctx, ANA, receiver.url)
    event_id = notify.enqueue(ctx.db, ANA, store.STOP_WIN, {"net": 2500}, ctx.clock.now())
    drain(notifier)
    [got] = receiver.wait_for(1)
    assert got.signature_ok
    assert got.headers["X-Glimpse-Event-Id"] == event_id and got.headers["X-Glimpse-Event"] == store.STOP_WIN
    assert got.headers["X-Glimpse-Timestamp"] == str(int(ctx.clock.now()))
    assert got.json == {
        "id": event_id,
        "event": "stopWin",
        "user": ANA,
        "createdAt": ctx.clock.now(),
        "data": {"net": 2500},
    }


def test_a_wrong_secret_fails_the_receivers_check(ctx, notifier, receivers):
    receiver = receivers(secret="what-the-receiver-expects")
    add_hook(ctx, ANA, receiver.url, secret="something-else-entirely")
    notify.enqueue(ctx.db, ANA, store.STOP_WIN, {"net": 1}, ctx.clock.now())
    drain(notifier)
    assert [r.signature_ok for r in receiver.wait_for(1)] == [False]


def test_webhooks_are_retried_with_back_off_after_500s(ctx, notifier, receivers):
    receiver = receivers()
    receiver.statuses = [500, 503]
    add_hook(ctx, ANA, receiver.url)
    event_id = notify.enqueue(ctx.db, ANA, store.CYCLE_RESULT, {"net": 100}, ctx.clock.now())
    drain(notifier)
    ctx.clock.advance(backoff(1))
    drain(notifier)
    delivery = ctx.db[store.DELIVERIES].find_one()
    assert delivery["attempts"] == 2 and delivery["lastError"] == "HTTP 503"
    assert backoff(2) == 2 * backoff(1)
    ctx.clock.advance(backoff(2) - 0.5)
    drain(notifier)
    # Not due yet: still the two attempts (the notifier's own count; the receiver records a request
    # after answering it, so its list may lag the notifier by a moment).
    assert ctx.db[store.DELIVERIES].find_one()["attempts"] == 2
    assert [r.status for r in receiver.wait_for(2)] == [500, 503]
    ctx.clock.advance(0.5)
    drain(notifier)
    got = receiver.wait_for(3)
    assert [r.status for r in got] == [500, 503, 200]
    assert {r.headers["X-Glimpse-Event-Id"] for r in got} == {event_id}  # the receiver can de-duplicate
    assert all(r.signature_ok for r in got)
    assert ctx.db[store.DELIVERIES].find_one()["status"] == store.SENT


def test_a_failing_destination_holds_back_only_its_own_deliveries(ctx, notifier, receivers):
    failing, healthy = receivers(), receivers()
    failing.statuses = [500] * 5
    add_hook(ctx, ANA, failing.url)
    add_hook(ctx, BRUNO, healthy.url)
    now = ctx.clock.now()
    notify.enqueue(ctx.db, ANA, store.SESSION_STARTED, {}, now)
    drain(notifier)
    # Ana's next events wait for her endpoint's back-off instead of hammering it; Bruno's go at once.
    notify.enqueue(ctx.db, ANA, store.SESSION_STOPPED, {"reason": "user"}, now)
    notify.enqueue(ctx.db, BRUNO, store.SESSION_STARTED, {}, now)
    drain(notifier)
    assert len(failing.received) == 1 and len(healthy.wait_for(1)) == 1
    waiting = list(ctx.db[store.DELIVERIES].find({"user": ANA, "status": store.PENDING}))
    assert len(waiting) == 2 and {d["nextAttemptAt"] for d in waiting} == {now + backoff(1)}


def test_a_dead_endpoint_does_not_hold_back_another_users_delivery(ctx, notifier, receivers):
    dead, alive = receivers(), receivers()
    dead.hold()  # accepts the connection, never answers (until released)
    add_hook(ctx, ANA, dead.url)
    add_hook(ctx, BRUNO, alive.url)
    now = ctx.clock.now()
    notify.enqueue(ctx.db, ANA, store.CYCLE_RESULT, {"net": -500}, now)
    notify.enqueue(ctx.db, ANA, store.CYCLE_RESULT, {"net": -500}, now)
    notify.enqueue(ctx.db, BRUNO, store.CYCLE_RESULT, {"net": 900}, now)
    notifier.fan_out(now)
    assert notifier.dispatch(now) == 2  # one per destination: Ana's second delivery waits its turn
    assert dead.wait_arrived(1) == 1
    got = alive.wait_for(1)
    assert len(got) == 1 and got[0].json["user"] == BRUNO
    assert dead.received == []  # Bruno's event arrived while Ana's endpoint still held its request
    dead.release()
    wait_idle(notifier)


def test_a_manager_webhook_gets_every_users_events(ctx, notifier, receivers):
    receiver = receivers()
    add_hook(ctx, "manager-1", receiver.url, scope=store.SCOPE_ALL)
    store.set_prefs(ctx.db, ANA, events={store.CYCLE_RESULT: False})  # a trader's switches are their own
    notify.enqueue(ctx.db, ANA, store.CYCLE_RESULT, {"net": 1}, ctx.clock.now())
    notify.enqueue(ctx.db, BRUNO, store.STOP_LOSS, {"net": -1}, ctx.clock.now())
    drain(notifier)
    got = receiver.wait_for(2)
    assert sorted((r.json["user"], r.json["event"]) for r in got) == [
        (ANA, "cycleResult"),
        (BRUNO, "stopLoss"),
    ]


def test_a_deleted_webhook_drops_its_deliveries(ctx, notifier, receivers):
    receiver = receivers()
    hook = add_hook(ctx, ANA, receiver.url)
    notify.enqueue(ctx.db, ANA, store.STOP_WIN, {"net": 1}, ctx.clock.now())
    notifier.fan_out(ctx.clock.now())
    assert store.delete_webhook(ctx.db, str(hook.id), ANA, store.SCOPE_USER)
    notifier.dispatch(ctx.clock.now())
    wait_idle(notifier)
    assert receiver.received == [] and ctx.db[store.DELIVERIES].find_one()["status"] == store.DEAD


# ----------------------------------------------------------------------------- SSRF


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/x",  # plain http
        "https://127.0.0.1/x",
        "https://10.1.2.3/x",
        "https://192.168.0.10/x",
        "https://172.16.5.5/x",
        "https://169.254.169.254/latest/meta-data",  # link-local (cloud metadata)
        "https://[::1]/x",
        "https://[fe80::1]/x",
        "https://[::ffff:127.0.0.1]/x",
        "https://0.0.0.0/x",
        "https://localhost/x",
        "https://user:pw@hooks.example.com/x",
        "ftp://hooks.example.com/x",
        "https:///x",
    ],
)
def test_unsafe_urls_are_refused(url):
    with pytest.raises(notify.UnsafeURL):
        notify.check_url(url, allow_private=False)


def test_a_public_https_url_is_accepted():
    assert notify.check_url("https://hooks.example.com:8443/glimpse?x=1", False) == (
        "https",
        "hooks.example.com",
        8443,
    )


def test_every_address_of_a_name_is_checked():
    def resolver(answers: list[str]) -> notify.Resolver:
        return lambda host, port: answers

    assert (
        notify.resolve_public("hooks.example.com", 443, False, resolver(["93.184.216.34"])) == "93.184.216.34"
    )
    for answers in (["93.184.216.34", "10.0.0.7"], ["fd00::1"], ["169.254.1.1"], []):
        with pytest.raises(notify.UnsafeURL):
            notify.resolve_public("hooks.example.com", 443, False, resolver(answers))
    assert notify.resolve_public("hooks.example.com", 443, True, resolver(["10.0.0.7"])) == "10.0.0.7"


def test_a_name_that_resolves_to_loopback_is_never_called(ctx, receivers):
    receiver = receivers()
    port = receiver.server.server_address[1]
    body = notify.webhook_body("e1", store.TEST, ANA, 1.0, {})
    result = notify.post_webhook(
        f"https://hooks.example.com:{port}/hook", SECRET, "e1", store.TEST, body, 1.0,
        allow_private=False, resolver=lambda host, p: ["127.0.0.1"],
    )  # fmt: skip
    assert not result.ok and result.permanent and "private" in result.error
    assert receiver.arrived == 0


def test_without_allow_private_the_notifier_gives_up_a_private_webhook(ctx, receivers):
    receiver = receivers()
    strict = ServiceContext(config=ctx.config.with_(webhook_allow_private=False), db=ctx.db, clock=ctx.clock)
    n = Notifier(strict, workers=2)
    try:
        add_hook(strict, ANA, receiver.url)
        notify.enqueue(strict.db, ANA, store.STOP_WIN, {"net": 1}, strict.clock.now())
        drain(n)
    finally:
        n.pool.shutdown(wait=True)
    delivery = strict.db[store.DELIVERIES].find_one()
    assert delivery["status"] == store.DEAD and receiver.arrived == 0


# ----------------------------------------------------------------------------- daily summary


def _trade(db, user: str, closed_at: float, result: str, profit: int) -> None:
    db[names.TRADES].insert_one(
        {
            "_id": ObjectId(), "user": user, "session": "s", "cycle": "c", "ativo": "EURUSD", "operacao": "call",
            "amount": 1000, "galeLevel": 0, "payout": 85, "status": "closed", "result": result, "profit": profit,
            "closedAt": closed_at, "decidedAt": closed_at - 60, "moneyUnit": "cents", "credited": True,
        }
    )  # fmt: skip


def test_the_daily_summary_counts_yesterdays_trades_in_the_configured_zone_once(ctx, notifier, telegram):
    zone = ctx.config.zone
    link(ctx.db, ANA, ANA_CHAT)
    ctx.clock.set(datetime(2024, 6, 4, 0, 5, tzinfo=zone).timestamp())  # just after midnight in São Paulo
    yesterday = datetime(2024, 6, 3, 12, 0, tzinfo=zone).timestamp()
    _trade(ctx.db, ANA, yesterday, "win", 850)
    _trade(ctx.db, ANA, yesterday + 60, "win", 850)
    _trade(ctx.db, ANA, yesterday + 120, "loss", -1000)
    _trade(ctx.db, ANA, datetime(2024, 6, 3, 0, 30, tzinfo=zone).timestamp(), "doji", 0)
    _trade(ctx.db, ANA, datetime(2024, 6, 2, 23, 59, tzinfo=zone).timestamp(), "win", 9999)  # the day before
    _trade(ctx.db, BRUNO, yesterday, "win", 5000)  # Bruno has no destination
    assert notifier.daily_summaries(ctx.clock.now()) == 1
    assert notifier.daily_summaries(ctx.clock.now()) == 0  # once a day
    [event] = list(ctx.db[store.QUEUE].find({"event": store.DAILY_SUMMARY}))
    assert event["data"] == {"day": "2024-06-03", "trades": 4, "wins": 2, "losses": 1, "dojis": 1, "net": 700}
    drain(notifier)
    [message] = telegram.messages_to(ANA_CHAT)
    assert "2024-06-03" in message and "+R$ 7,00" in message


def test_a_trader_who_switched_the_summary_off_gets_none(ctx, notifier):
    link(ctx.db, ANA, ANA_CHAT)
    store.set_prefs(ctx.db, ANA, events={store.DAILY_SUMMARY: False})
    _trade(ctx.db, ANA, ctx.clock.now() - 86400, "win", 100)
    ctx.clock.advance(86400)
    assert notifier.daily_summaries(ctx.clock.now()) == 0


# ----------------------------------------------------------------------------- the service


def test_glimpse_up_runs_the_notifier():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"][
        "glimpse.services"
    ]
    assert declared["notifier"] == "auxiliar.notifier:service"


def test_the_notifier_alone_needs_a_shared_database():
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLIMPSE_")}
    done = subprocess.run(
        [sys.executable, "-m", "auxiliar.notifier"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "GLIMPSE_MONGO_URI" in done.stderr


def test_a_dead_endpoint_never_reaches_trading_code(ctx, receivers):
    """What a bot calls, enqueue, is one insert: with the notifier stuck on a dead endpoint,
    every enqueue returns before that endpoint answers anything, and other users are served."""
    dead, alive = receivers(), receivers()
    dead.hold()
    add_hook(ctx, ANA, dead.url)
    add_hook(ctx, BRUNO, alive.url)
    running = NotifierService(poll_timeout=1).start(ctx)
    try:
        notify.enqueue(ctx.db, ANA, store.CYCLE_RESULT, {"net": -500}, ctx.clock.now())
        assert dead.wait_arrived(1) == 1  # the notifier is now blocked on Ana's endpoint
        ids = [
            notify.enqueue(ctx.db, ANA, store.CYCLE_RESULT, {"net": n}, ctx.clock.now()) for n in range(50)
        ]
        ids.append(notify.enqueue(ctx.db, BRUNO, store.STOP_WIN, {"net": 900}, ctx.clock.now()))
        assert all(ids) and dead.received == []
        assert [r.json["user"] for r in alive.wait_for(1)] == [BRUNO]
        assert dead.arrived == 1  # Ana's other deliveries wait their turn instead of piling on
    finally:
        dead.release()
        running.stop()
        running.join(10)


def _tls_receiver(tmp_path: Path, host: str) -> tuple[Any, str, int]:
    """An HTTPS server on 127.0.0.1 with a self-signed certificate for `host`; (server, CA file, port)."""
    import datetime as dt
    import http.server
    import ssl
    import threading

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen.append(self.headers.get("Host") or "")
            self.send_response(204)
            self.end_headers()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert_file, key_file)
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    server.seen = seen  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, str(cert_file), int(server.server_address[1])


def test_https_goes_to_the_checked_address_and_verifies_the_certificate(tmp_path):
    server, ca, port = _tls_receiver(tmp_path, "hooks.example.com")
    try:
        body = notify.webhook_body("e1", store.TEST, ANA, 1.0, {})
        to_loopback = lambda host, p: ["127.0.0.1"]  # noqa: E731 (the name "resolves" to the test server)
        sent = notify.post_webhook(
            f"https://hooks.example.com:{port}/hook", SECRET, "e1", store.TEST, body, 1.0,
            allow_private=True, resolver=to_loopback, ca_certs=ca,
        )  # fmt: skip
        assert sent.ok and sent.status == 204
        assert server.seen == [f"hooks.example.com:{port}"]
        # A certificate that does not vouch for the URL's host is refused, and so is an unknown one.
        wrong_name = notify.post_webhook(
            f"https://other.example.com:{port}/hook", SECRET, "e1", store.TEST, body, 1.0,
            allow_private=True, resolver=to_loopback, ca_certs=ca,
        )  # fmt: skip
        unknown_ca = notify.post_webhook(
            f"https://hooks.example.com:{port}/hook", SECRET, "e1", store.TEST, body, 1.0,
            allow_private=True, resolver=to_loopback,
        )  # fmt: skip
        assert not wrong_name.ok and wrong_name.status is None
        assert not unknown_ca.ok and unknown_ca.status is None
        assert len(server.seen) == 1
    finally:
        server.shutdown()
        server.server_close()
