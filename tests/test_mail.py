"""Mail: the SMTP URL, templates, the sealed queue with retries, and a password reset
received on a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import datetime
import email
import re
import smtplib
import socket
import ssl
import threading
import time
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from api import create_app
from api.mailer import QueueMailer, mailer_for
from glimpse.runtime import mail, security
from glimpse.runtime.mail_templates import LANGS, TEMPLATES, render
from glimpse.store import db as names
from glimpse.store.accounts import new_account

OLD_PASSWORD = "an old passphrase 1"
NEW_PASSWORD = "Quartzo-Azul-Veloz-42"


class Inbox:
    """aiosmtpd handler: keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.arrived = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append(email.message_from_bytes(envelope.original_content or envelope.content))
        self.arrived.set()
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


def _wait(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)  # polling interval, not an assertion
    raise AssertionError(f"timed out waiting for {what}")


def _text(message: Message) -> str:
    part = message.get_payload(decode=True) if not message.is_multipart() else None
    assert isinstance(part, bytes)
    return part.decode(message.get_content_charset() or "utf-8")


def _code_in(body: str) -> str:
    found = re.findall(r"\b[A-Z2-9]{6,12}\b", body)
    assert found, body
    return str(found[0])


# ---- end to end ---------------------------------------------------------------------------


def test_a_reset_requested_through_the_api_arrives_by_smtp_and_its_code_resets(
    config, db, clock, smtp_server
):
    inbox, port = smtp_server
    transport = mail.SmtpTransport(
        mail.parse_smtp_url(f"smtp://127.0.0.1:{port}"), "Glimpse <no-reply@glimpse.test>"
    )
    mailer = mailer_for(config, db, transport=transport, poll_seconds=0.05)
    app = create_app(config, db=db, clock=clock, mailer=mailer, check_broker_credentials=None)
    client = app.test_client()
    address = "leitora@example.com"
    db[names.ACCOUNTS].insert_one(
        new_account(
            "Leitora",
            address,
            security.hash_password(OLD_PASSWORD, config.password_hash_profile),
            clock.now(),
        )
    )
    try:
        assert client.post("/glimpse/requestPasswordReset", json={"email": address}).json == {"res": 1}
        assert inbox.arrived.wait(10), "no mail reached the SMTP server"
        received = inbox.messages[0]
        assert received["To"] == address and "glimpse.test" in received["From"]
        code = _code_in(_text(received))
        # Handed to the mail server: the queue keeps nothing.
        _wait(
            lambda: db[mail.MAIL_QUEUE].count_documents({}) == 0, 5, "the delivered mail to leave the queue"
        )
        reset = client.post(
            "/glimpse/resetPassword", json={"email": address, "code": code, "newPassword": NEW_PASSWORD}
        )
        assert reset.json == {"res": 1}, reset.json
        login = client.post("/glimpse/login", json={"email": address, "password": NEW_PASSWORD}).json
        assert login is not None and login["res"] == 1
    finally:
        mailer.queue.stop()
        mailer.queue.join(5)


def _self_signed(tmp_path) -> tuple[str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return str(cert_path), str(key_path)


def test_starttls_with_credentials_from_the_url(tmp_path):
    cert, key = _self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    logins: list[tuple[str, str]] = []

    def authenticate(server, session, envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword)
        logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=auth_data.password == b"p@ss word")

    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="localhost",
        port=_free_port(),
        tls_context=server_tls,
        require_starttls=True,
        authenticator=authenticate,
        auth_require_tls=True,
    )
    controller.start()
    try:
        settings = mail.parse_smtp_url(
            f"smtp+starttls://relay%40glimpse:p%40ss%20word@localhost:{controller.port}"
        )
        client_tls = ssl.create_default_context(cafile=cert)
        mail.SmtpTransport(settings, "no-reply@glimpse.test", client_tls).deliver(
            "ana@example.com", "Olá", "corpo com acento: ação"
        )
        assert inbox.arrived.wait(10)
        assert logins[0] == ("relay@glimpse", "p@ss word")
        assert _text(inbox.messages[0]).strip() == "corpo com acento: ação"
        wrong = mail.parse_smtp_url(f"smtp+starttls://relay:nope@localhost:{controller.port}?timeout=2")
        # Refused (aiosmtpd answers 535, then smtplib's fallback mechanism may wait for the timeout).
        with pytest.raises(smtplib.SMTPException):
            mail.SmtpTransport(wrong, "no-reply@glimpse.test", client_tls).deliver(
                "ana@example.com", "x", "y"
            )
    finally:
        controller.stop()


# ---- the SMTP URL -------------------------------------------------------------------------


def test_smtp_urls():
    plain = mail.parse_smtp_url("smtp://mail.local")
    assert (plain.host, plain.port, plain.security, plain.username) == ("mail.local", 25, "plain", None)
    tls = mail.parse_smtp_url("smtps://u:secret@mail.local?timeout=3")
    assert (tls.port, tls.security, tls.username, tls.password, tls.timeout) == (
        465,
        "tls",
        "u",
        "secret",
        3.0,
    )
    assert "secret" not in repr(tls)
    starttls = mail.parse_smtp_url("smtp+starttls://mail.local:2525")
    assert (starttls.port, starttls.security) == (2525, "starttls")
    for bad in ("http://mail.local", "smtp://", "smtp://mail.local:notaport", "smtp://h?timeout=x"):
        with pytest.raises(mail.MailConfigError):
            mail.parse_smtp_url(bad)


# ---- templates ----------------------------------------------------------------------------


def test_every_template_renders_in_both_languages():
    data = {"name": "Ana", "code": "K7P2QX9M", "minutes": 15, "days": 30, "total": 45}
    for name, by_lang in TEMPLATES.items():
        assert set(by_lang) == set(LANGS), name
        subjects = set()
        for lang in LANGS:
            subject, body = render(name, lang, data)
            assert "$" not in subject + body and "Ana" in body, (name, lang)
            subjects.add(subject)
        assert len(subjects) == 2, name  # really translated
    assert "K7P2QX9M" in render("reset_code", "en", data)[1]
    assert (
        render("blocked", "pt", data)[0]
        == render("blocked", None, data)[0]
        == TEMPLATES["blocked"]["pt-BR"][0]
    )
    assert render("blocked", "en-US", data)[0] == TEMPLATES["blocked"]["en"][0]
    with pytest.raises(KeyError):
        render("reset_code", "en", {"name": "Ana"})


def test_send_template_queues_the_rendered_mail(config, db):
    transport = mail.MemoryTransport()
    mailer = QueueMailer(mail.queue_for(config, db, transport=transport), start=False)
    mailer.send_template("ana@example.com", "days_granted", "en", {"name": "Ana", "days": 10, "total": 40})
    assert mailer.queue.drain_once() == 1
    [(to, subject, body)] = transport.delivered
    assert (
        to == "ana@example.com" and subject == "Glimpse: 10 days added to your account" and "40 days" in body
    )


# ---- the queue ----------------------------------------------------------------------------


def test_queued_mail_is_sealed_at_rest(config, db):
    queue = mail.queue_for(config, db, transport=None)
    queue.enqueue("ana@example.com", "Código", "Seu código é K7P2QX9M.")
    stored = db[mail.MAIL_QUEUE].find_one({"to": "ana@example.com"})
    assert "K7P2QX9M" not in str(stored)
    assert mail.open_queued(db, config, "ana@example.com") == ["Seu código é K7P2QX9M."]
    assert queue.drain_once() == 0  # no transport: it waits, sealed


class Flaky:
    def __init__(self, failures: int, error: Exception | None = None):
        self.failures, self.error = failures, error
        self.calls = 0
        self.delivered: list[str] = []

    def deliver(self, to: str, subject: str, body: str) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error or ConnectionRefusedError("relay down")
        self.delivered.append(body)


class Now:
    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


def test_a_failed_send_is_retried_after_its_delay_then_deleted(config, db):
    flaky, now = Flaky(failures=2), Now()
    queue = mail.queue_for(config, db, transport=flaky, now=now, retry_delays=(10, 60, 300))
    queue.enqueue("ana@example.com", "s", "code K7P2QX9M")
    assert queue.drain_once() == 0 and flaky.calls == 1
    doc = db[mail.MAIL_QUEUE].find_one()
    assert doc["status"] == mail.QUEUED and doc["attempts"] == 1 and doc["nextAttemptAt"] == 1010.0
    assert queue.drain_once() == 0 and flaky.calls == 1  # not due yet
    now.value = 1010.0
    assert queue.drain_once() == 0 and flaky.calls == 2
    now.value = 1070.0
    assert queue.drain_once() == 1 and flaky.delivered == ["code K7P2QX9M"]
    assert db[mail.MAIL_QUEUE].count_documents({}) == 0


def test_a_mail_that_keeps_failing_loses_its_body(config, db):
    flaky, now = Flaky(failures=99), Now()
    queue = mail.queue_for(config, db, transport=flaky, now=now, retry_delays=(1,))
    queue.enqueue("ana@example.com", "s", "code K7P2QX9M")
    queue.drain_once()
    now.value += 1
    queue.drain_once()
    doc = db[mail.MAIL_QUEUE].find_one()
    assert doc["status"] == mail.FAILED and doc["attempts"] == 2 and "body" not in doc
    permanent = mail.queue_for(
        config, db, transport=Flaky(9, mail.PermanentMailError("550 no such user")), now=now
    )
    permanent.enqueue("ghost@example.com", "s", "b")
    permanent.drain_once()
    assert db[mail.MAIL_QUEUE].find_one({"to": "ghost@example.com"})["status"] == mail.FAILED


def test_a_sender_that_died_mid_send_is_taken_over(config, db):
    now = Now()
    queue = mail.queue_for(config, db, transport=mail.MemoryTransport(), now=now)
    queue.enqueue("ana@example.com", "s", "b")
    claimed = queue._claim(now.value)  # a process claims it and dies
    assert claimed is not None and queue.drain_once() == 0
    now.value += mail.CLAIM_SECONDS + 1
    assert queue.drain_once() == 1


def test_embedded_without_smtp_delivers_to_the_log_and_keeps_nothing(config, db, caplog):
    embedded = config.with_(mongo_uri=None)
    queue = mail.queue_for(embedded, db)
    assert isinstance(queue.transport, mail.LogTransport)
    with caplog.at_level("INFO", logger="glimpse.runtime.mail"):
        queue.enqueue("ana@example.com", "Código", "Seu código é K7P2QX9M.")
        assert queue.drain_once() == 1
    assert "K7P2QX9M" in caplog.text and db[mail.MAIL_QUEUE].count_documents({}) == 0
    assert mail.transport_for(config.with_(mongo_uri="mongodb://db:27017")) is None


def test_the_default_mailer_sends_by_smtp_when_the_configuration_names_a_server(
    config, db, clock, smtp_server
):
    inbox, port = smtp_server
    configured = config.with_(
        smtp_url=f"smtp://127.0.0.1:{port}", mail_from="Glimpse <no-reply@glimpse.test>"
    )
    app = create_app(configured, db=db, clock=clock, check_broker_credentials=None)  # no mailer given
    address = "padrao@example.com"
    db[names.ACCOUNTS].insert_one(
        new_account(
            "Padrão", address, security.hash_password(OLD_PASSWORD, config.password_hash_profile), clock.now()
        )
    )
    mailer = app.extensions["glimpse"].mailer
    try:
        assert app.test_client().post("/glimpse/requestPasswordReset", json={"email": address}).json == {
            "res": 1
        }
        assert inbox.arrived.wait(10), "no mail reached the SMTP server"
        assert inbox.messages[0]["To"] == address and _code_in(_text(inbox.messages[0]))
        _wait(
            lambda: db[mail.MAIL_QUEUE].count_documents({}) == 0, 5, "the delivered mail to leave the queue"
        )
    finally:
        mailer.queue.stop()
        mailer.queue.join(5)
