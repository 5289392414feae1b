"""E-mail delivery against a real SMTP server (aiosmtpd on 127.0.0.1): message structure, AUTH,
STARTTLS / implicit TLS with a throw-away certificate, failures as one-line DeliveryErrors that
never carry the password, and the RUNLIFT_SMTP_* settings."""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import email.policy
import ipaddress
import json
import logging
import re
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

import pipeline.report.email as email_delivery
from pipeline.report import Report
from pipeline.report.email import (
    LEDGER_FILE,
    ROSTER,
    DeliveryError,
    DeliveryLedger,
    EmailConfigError,
    Mail,
    PermanentDeliveryError,
    SmtpSettings,
    build_message,
    send_report,
)

PASSWORD = "Tr0ub4dor&3-horse-battery"
USER = "runner@example.org"
SUBJECT = "runlift · 2026-W37 · 2 errors, 1 warning"
# stand-in PNG payloads: a signature plus every byte value, so any re-encoding would show
LOAD_PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
SPACING_PNG = b"\x89PNG\r\n\x1a\n" + bytes(reversed(range(256))) * 5


def lines(text: str) -> str:
    """Text as a reader sees it: SMTP carries CRLF line ends and set_content() ends with a newline."""
    return text.replace("\r\n", "\n").rstrip("\n")


def make_report(html: str | None = None, images: dict[str, bytes] | None = None, week: str = "2026-W37",
                athlete: str = "me") -> Report:
    images = {"load": LOAD_PNG, "spacing": SPACING_PNG} if images is None else images
    if html is None:
        html = ("<html><body><h1>Week 2026-W37</h1><p>Strength ended 1.2 h before the run · ✓</p>"
                '<img src="cid:load" alt="load"><img src="cid:spacing" alt="spacing"></body></html>')
    return Report(
        athlete=athlete,
        week=week,
        subject=SUBJECT,
        markdown="# Week 2026-W37\n\n| target | done |\n|---|---|\n| 2 | 1 |\n\n- error: spacing.too_close · 1.2 h\n",
        html=html,
        html_file=html.replace("cid:", "data:image/png;base64,"),
        images=images,
        severity_counts={"error": 2, "warning": 1},
    )


# --- a real SMTP server ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    tls: bool
    authenticated: bool | None

    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.content, policy=email.policy.default)


@dataclass
class Handler:
    refuse: set[str] = field(default_factory=set)
    received: list[Received] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content,
                                      session.ssl is not None, session.authenticated))
        return "250 Message accepted for delivery"


def authenticator(echo_password: bool = False):
    def check(server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode() \
                and auth_data.password == PASSWORD.encode():
            return AuthResult(success=True)
        if echo_password:  # a badly behaved server that repeats what it was sent
            given = auth_data.password.decode() if isinstance(auth_data, LoginPassword) else "?"
            return AuthResult(success=False, handled=False,
                              message=f"535 5.7.8 password {given} rejected for {PASSWORD}")
        return AuthResult(success=False, handled=False)
    return check


@dataclass
class Server:
    port: int
    handler: Handler


@pytest.fixture
def start_server() -> Iterator:
    controllers: list[Controller] = []

    def start(handler: Handler | None = None, **smtp_params) -> Server:
        handler = handler or Handler()
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port, ready_timeout=5, **smtp_params)
        controller.start()
        controllers.append(controller)
        return Server(port, handler)

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def server(start_server) -> Server:
    return start_server()


@pytest.fixture(autouse=True)
def fresh_ledger(monkeypatch) -> DeliveryLedger:
    """Each test starts with no memory of earlier deliveries (tests reuse the same report)."""
    ledger = DeliveryLedger()
    monkeypatch.setattr(email_delivery, "LEDGER", ledger)
    return ledger


def settings_for(port: int, **kw) -> SmtpSettings:
    return SmtpSettings(**{"host": "127.0.0.1", "port": port, "sender": "runlift@example.org",
                           "starttls": False, "ssl": False, "timeout": 5.0, **kw})


# --- delivery ------------------------------------------------------------------------------------


def test_delivers_subject_recipients_parts_and_inline_images(server: Server) -> None:
    report = make_report()
    send_report(report, ["me@example.org"], settings_for(server.port))

    [got] = server.handler.received
    assert got.mail_from == "runlift@example.org"
    assert got.rcpt_tos == ["me@example.org"]
    msg = got.message()
    assert msg["Subject"] == SUBJECT
    assert msg["To"] == "me@example.org"
    assert msg["From"] == "runlift@example.org"
    assert msg["Date"] and msg["Message-ID"]
    assert msg.get_content_type() == "multipart/alternative"

    text = msg.get_body(("plain",))
    assert text is not None and lines(text.get_content()) == lines(report.markdown)
    html = msg.get_body(("html",))
    assert html is not None and lines(html.get_content()) == lines(report.html)

    related = msg.get_payload()[1]
    assert related.get_content_type() == "multipart/related"
    images = {part["Content-ID"]: part for part in related.iter_parts() if part.get_content_maintype() == "image"}
    assert set(images) == {"<load>", "<spacing>"}
    referenced = set(re.findall(r'src="cid:([^"]+)"', html.get_content()))
    assert {cid.strip("<>") for cid in images} == referenced
    for name, png in report.images.items():
        part = images[f"<{name}>"]
        assert part.get_content_type() == "image/png"
        assert part.get_content_disposition() == "inline"
        assert part.get_filename() == f"{name}.png"
        assert part.get_content() == png  # bytes identical


def test_several_recipients_share_one_message(server: Server) -> None:
    send_report(make_report(), ["a@example.org", "b@example.org"], settings_for(server.port))
    [got] = server.handler.received
    assert got.rcpt_tos == ["a@example.org", "b@example.org"]
    assert got.message()["To"] == "a@example.org, b@example.org"


def test_html_is_carried_unchanged_without_raw_script(server: Server) -> None:
    # what an autoescaping template makes of a hostile session title
    html = ("<html><body><p>Session: &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more</p>"
            '<img src="cid:load"></body></html>')
    report = make_report(html=html, images={"load": LOAD_PNG})
    send_report(report, ["me@example.org"], settings_for(server.port))

    got = server.handler.received[0].message().get_body(("html",)).get_content()
    assert lines(got) == html
    assert "<script" not in got.lower()
    assert "&lt;script&gt;" in got


def test_build_message_is_seven_bit_and_needs_no_server() -> None:
    msg = build_message(make_report(), "runlift@example.org", ["me@example.org"])
    raw = msg.as_bytes()
    assert max(raw) < 128  # subject, text and HTML all encoded for any server
    assert max(len(line) for line in raw.split(b"\n")) <= 998
    assert "example.org" in msg["Message-ID"]
    assert email.message_from_bytes(raw, policy=email.policy.default)["Subject"] == SUBJECT


def test_report_without_images_is_still_alternative(server: Server) -> None:
    send_report(make_report(html="<p>quiet week</p>", images={}), ["me@example.org"], settings_for(server.port))
    msg = server.handler.received[0].message()
    assert lines(msg.get_body(("html",)).get_content()) == "<p>quiet week</p>"
    assert msg.get_body(("plain",)) is not None


def test_no_recipients_is_an_error_naming_the_setting(server: Server) -> None:
    with pytest.raises(DeliveryError, match=r"^no recipients: set \[report\] email_to in runlift.toml$"):
        send_report(make_report(), [], settings_for(server.port))
    assert server.handler.received == []


def test_refused_recipients(start_server) -> None:
    srv = start_server(Handler(refuse={"gone@example.org"}))
    with pytest.raises(DeliveryError, match="1 of 2 recipients refused: gone@example.org \\(550"):
        send_report(make_report(), ["me@example.org", "gone@example.org"], settings_for(srv.port))
    with pytest.raises(DeliveryError, match="all recipients refused"):
        send_report(make_report(), ["gone@example.org"], settings_for(srv.port))


# --- AUTH ------------------------------------------------------------------------------------------


def test_auth_with_correct_credentials_delivers(start_server) -> None:
    srv = start_server(authenticator=authenticator(), auth_require_tls=False)
    send_report(make_report(), ["me@example.org"], settings_for(srv.port, user=USER, password=PASSWORD))
    [got] = srv.handler.received
    assert got.authenticated is True


def test_wrong_password_is_a_delivery_error_without_the_password(start_server, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    srv = start_server(authenticator=authenticator(), auth_require_tls=False)
    wrong = "wrong-" + PASSWORD
    settings = settings_for(srv.port, user=USER, password=wrong)
    with pytest.raises(DeliveryError) as info:
        send_report(make_report(), ["me@example.org"], settings)

    message = str(info.value)
    assert message.startswith(f"could not deliver the 2026-W37 report to 1 recipient via 127.0.0.1:{srv.port}: "
                              "authentication failed (535")
    assert "\n" not in message
    assert wrong not in message and PASSWORD not in message
    assert info.value.__cause__ is None and info.value.__context__ is None
    assert wrong not in repr(settings) and "password" not in repr(settings)
    assert wrong not in caplog.text
    assert all(wrong not in r.getMessage() for r in caplog.records)
    assert srv.handler.received == []


def test_password_echoed_by_the_server_is_scrubbed(start_server, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="runlift")
    srv = start_server(authenticator=authenticator(echo_password=True), auth_require_tls=False)
    # an AUTH reply keeps only its status codes
    with pytest.raises(DeliveryError, match=r"authentication failed \(535 5\.7\.8\)$") as info:
        send_report(make_report(), ["me@example.org"], settings_for(srv.port, user=USER, password="echo-me-123"))
    assert "echo-me-123" not in str(info.value)
    assert "echo-me-123" not in caplog.text


def test_login_when_the_server_offers_no_auth(start_server) -> None:
    srv = start_server(authenticator=authenticator())  # AUTH only after STARTTLS, which it cannot do
    with pytest.raises(DeliveryError, match="does not offer AUTH"):
        send_report(make_report(), ["me@example.org"], settings_for(srv.port, user=USER, password=PASSWORD))


def test_logs_name_host_port_and_count_only(server: Server, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="runlift.email")
    send_report(make_report(), ["me@example.org", "you@example.org"],
                settings_for(server.port, user=None, password=None))
    ours = [r.getMessage() for r in caplog.records if r.name == "runlift.email"]
    assert ours and any(f"127.0.0.1:{server.port}" in m and "2 recipient" in m for m in ours)
    assert not any("@" in m for m in ours)


# --- network failures ----------------------------------------------------------------------------


def test_connection_refused_is_quick_and_names_host_port() -> None:
    port = free_port()  # nothing listens there any more
    start = time.monotonic()
    with pytest.raises(DeliveryError, match=rf"via 127\.0\.0\.1:{port}: connection refused$"):
        send_report(make_report(), ["me@example.org"], settings_for(port, password=PASSWORD, user=USER))
    assert time.monotonic() - start < 5


def test_silent_server_times_out() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()  # accepts at the kernel level, never greets
        port = listener.getsockname()[1]
        start = time.monotonic()
        with pytest.raises(DeliveryError, match="timed out after 0.5 s"):
            send_report(make_report(), ["me@example.org"], settings_for(port, timeout=0.5))
        assert time.monotonic() - start < 3


# --- TLS -----------------------------------------------------------------------------------------


@dataclass
class Certs:
    ca: Path  # what a client trusts
    chain: Path  # leaf + CA, served
    key: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.chain, self.key)
        return ctx


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder().subject_name(name("runlift test CA")).issuer_name(name("runlift test CA"))
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder().subject_name(name("127.0.0.1")).issuer_name(ca_cert.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                    x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    d = tmp_path_factory.mktemp("tls")
    pem = serialization.Encoding.PEM
    (d / "ca.pem").write_bytes(ca_cert.public_bytes(pem))
    (d / "chain.pem").write_bytes(leaf.public_bytes(pem) + ca_cert.public_bytes(pem))
    (d / "key.pem").write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()))
    return Certs(d / "ca.pem", d / "chain.pem", d / "key.pem")


def test_starttls_then_auth_delivers(start_server, certs: Certs, monkeypatch) -> None:
    # the client verifies against the default store; SSL_CERT_FILE points it at the test CA
    monkeypatch.setenv("SSL_CERT_FILE", str(certs.ca))
    srv = start_server(tls_context=certs.server_context(), require_starttls=True,
                       authenticator=authenticator(), auth_required=True)  # AUTH offered only over TLS
    send_report(make_report(), ["me@example.org"],
                settings_for(srv.port, starttls=True, user=USER, password=PASSWORD))
    [got] = srv.handler.received
    assert got.tls and got.authenticated
    assert got.message()["Subject"] == SUBJECT


def test_starttls_with_an_untrusted_certificate_fails(start_server, certs: Certs, monkeypatch, tmp_path) -> None:
    other = tmp_path / "empty.pem"
    other.write_text("")
    monkeypatch.setenv("SSL_CERT_FILE", str(other))  # trusts nothing
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    srv = start_server(tls_context=certs.server_context(), authenticator=authenticator())
    with pytest.raises(DeliveryError, match="TLS certificate verification failed") as info:
        send_report(make_report(), ["me@example.org"],
                    settings_for(srv.port, starttls=True, user=USER, password=PASSWORD))
    assert PASSWORD not in str(info.value)
    assert srv.handler.received == []


def test_starttls_against_a_server_without_it(server: Server) -> None:
    with pytest.raises(DeliveryError, match="the server does not offer STARTTLS"):
        send_report(make_report(), ["me@example.org"], settings_for(server.port, starttls=True))
    assert server.handler.received == []


def test_implicit_tls_delivers(start_server, certs: Certs, monkeypatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certs.ca))
    srv = start_server(ssl_context=certs.server_context())
    send_report(make_report(), ["me@example.org"], settings_for(srv.port, ssl=True))
    [got] = srv.handler.received
    assert got.message()["Subject"] == SUBJECT


# --- settings from the environment -----------------------------------------------------------------


def test_from_env_none_without_host() -> None:
    assert SmtpSettings.from_env({}) is None
    assert SmtpSettings.from_env({"RUNLIFT_SMTP_HOST": "  ", "RUNLIFT_SMTP_PORT": "587"}) is None


def test_from_env_reads_process_environment(monkeypatch) -> None:
    for var in ("PORT", "USER", "PASSWORD", "FROM", "STARTTLS", "SSL", "TIMEOUT"):
        monkeypatch.delenv(f"RUNLIFT_SMTP_{var}", raising=False)
    monkeypatch.setenv("RUNLIFT_SMTP_HOST", "smtp.example.org")
    assert SmtpSettings.from_env() == SmtpSettings(host="smtp.example.org", port=25, starttls=False)


def test_from_env_every_variable() -> None:
    s = SmtpSettings.from_env({
        "RUNLIFT_SMTP_HOST": "smtp.example.org", "RUNLIFT_SMTP_PORT": "2525", "RUNLIFT_SMTP_USER": USER,
        "RUNLIFT_SMTP_PASSWORD": PASSWORD, "RUNLIFT_SMTP_FROM": "Runlift <reports@example.org>",
        "RUNLIFT_SMTP_STARTTLS": "yes", "RUNLIFT_SMTP_SSL": "0", "RUNLIFT_SMTP_TIMEOUT": "7.5",
    })
    assert s == SmtpSettings(host="smtp.example.org", port=2525, user=USER, password=PASSWORD,
                             sender="Runlift <reports@example.org>", starttls=True, ssl=False, timeout=7.5)
    assert PASSWORD not in repr(s)


@pytest.mark.parametrize(("env", "port", "starttls", "use_ssl"), [
    ({}, 25, False, False),
    ({"RUNLIFT_SMTP_PORT": "587"}, 587, True, False),
    ({"RUNLIFT_SMTP_STARTTLS": "true"}, 587, True, False),
    ({"RUNLIFT_SMTP_STARTTLS": "1", "RUNLIFT_SMTP_PORT": "2525"}, 2525, True, False),
    ({"RUNLIFT_SMTP_STARTTLS": "no"}, 25, False, False),
    ({"RUNLIFT_SMTP_PORT": "587", "RUNLIFT_SMTP_STARTTLS": "false"}, 587, False, False),
    ({"RUNLIFT_SMTP_SSL": "TRUE"}, 465, False, True),
    ({"RUNLIFT_SMTP_SSL": "yes", "RUNLIFT_SMTP_PORT": "587"}, 587, False, True),
    ({"RUNLIFT_SMTP_PORT": " 465 "}, 465, False, False),
])
def test_from_env_port_and_tls_defaults(env, port, starttls, use_ssl) -> None:
    s = SmtpSettings.from_env({"RUNLIFT_SMTP_HOST": "smtp.example.org", **env})
    assert (s.port, s.starttls, s.ssl) == (port, starttls, use_ssl)
    assert s.timeout == 30.0


@pytest.mark.parametrize(("env", "sender"), [
    ({}, "runlift@localhost"),
    ({"RUNLIFT_SMTP_USER": USER}, USER),
    ({"RUNLIFT_SMTP_USER": "apikey"}, "runlift@localhost"),  # a login that is no address
    ({"RUNLIFT_SMTP_USER": USER, "RUNLIFT_SMTP_FROM": "other@example.org"}, "other@example.org"),
])
def test_from_env_sender_default(env, sender) -> None:
    assert SmtpSettings.from_env({"RUNLIFT_SMTP_HOST": "h", **env}).sender == sender


@pytest.mark.parametrize(("var", "value"), [
    ("RUNLIFT_SMTP_PORT", "smtp"),
    ("RUNLIFT_SMTP_PORT", "70000"),
    ("RUNLIFT_SMTP_STARTTLS", "maybe"),
    ("RUNLIFT_SMTP_SSL", "2"),
    ("RUNLIFT_SMTP_TIMEOUT", "soon"),
    ("RUNLIFT_SMTP_TIMEOUT", "0"),
])
def test_from_env_malformed_value_names_the_variable(var, value) -> None:
    env = {"RUNLIFT_SMTP_HOST": "h", "RUNLIFT_SMTP_PASSWORD": PASSWORD, var: value}
    with pytest.raises(EmailConfigError, match=var) as info:
        SmtpSettings.from_env(env)
    assert PASSWORD not in str(info.value)


def test_from_env_ssl_and_starttls_conflict() -> None:
    with pytest.raises(EmailConfigError, match="RUNLIFT_SMTP_SSL and RUNLIFT_SMTP_STARTTLS"):
        SmtpSettings.from_env({"RUNLIFT_SMTP_HOST": "h", "RUNLIFT_SMTP_SSL": "1", "RUNLIFT_SMTP_STARTTLS": "1"})


def test_password_not_in_repr_or_str() -> None:
    s = SmtpSettings(host="h", user=USER, password=PASSWORD)
    assert PASSWORD not in repr(s) and PASSWORD not in str(s)


# --- the header of an automatic message ------------------------------------------------------------


def test_mail_is_marked_auto_generated(server: Server) -> None:
    send_report(make_report(), ["me@example.org"], settings_for(server.port))
    assert server.handler.received[0].message()["Auto-Submitted"] == "auto-generated"  # RFC 3834


# --- non-ASCII credentials -------------------------------------------------------------------------

UNICODE_PASSWORD = "Läufer-über-3000m\u00a0€ 日本"  # umlauts, a no-break space, the euro sign, CJK


def exact_authenticator(user: str, password: str, seen: list[tuple[str, bytes, bytes]]):
    def check(server, session, envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword)
        seen.append((mechanism, auth_data.login, auth_data.password))
        ok = auth_data.login == user.encode("utf-8") and auth_data.password == password.encode("utf-8")
        return AuthResult(success=ok, handled=False)
    return check


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
@pytest.mark.parametrize("user", [USER, "läufer@example.org"])
def test_non_ascii_password_logs_in_utf8(start_server, mechanism: str, user: str) -> None:
    seen: list[tuple[str, bytes, bytes]] = []
    other = {"PLAIN", "LOGIN"} - {mechanism}
    srv = start_server(authenticator=exact_authenticator(user, UNICODE_PASSWORD, seen), auth_require_tls=False,
                       auth_exclude_mechanism=other)
    send_report(make_report(), ["me@example.org"], settings_for(srv.port, user=user, password=UNICODE_PASSWORD))
    assert seen == [(mechanism, user.encode("utf-8"), UNICODE_PASSWORD.encode("utf-8"))]
    [got] = srv.handler.received
    assert got.authenticated is True


def test_wrong_non_ascii_password_is_refused_without_it(start_server) -> None:
    seen: list[tuple[str, bytes, bytes]] = []
    srv = start_server(authenticator=exact_authenticator(USER, UNICODE_PASSWORD, seen), auth_require_tls=False,
                       auth_exclude_mechanism={"LOGIN"})
    wrong = UNICODE_PASSWORD.replace("ä", "a")
    with pytest.raises(PermanentDeliveryError, match=r"authentication failed \(535 5\.7\.8\)$") as info:
        send_report(make_report(), ["me@example.org"], settings_for(srv.port, user=USER, password=wrong))
    assert seen == [("PLAIN", USER.encode(), wrong.encode("utf-8"))]
    assert "Laufer" not in str(info.value)


# --- echoed credentials ----------------------------------------------------------------------------

# tabs, double spaces and a line break: the forms a server's reply may collapse, re-case or cut
MESSY_PASSWORD = "Horse\tBattery  Staple\nsecond-Line"
ECHOES = [
    "Horse Battery Staple second-Line",  # whitespace collapsed
    "HORSE\tBATTERY  STAPLE\nSECOND-LINE",  # upper-cased
    "horse battery staple",  # lower-cased and cut at the line break
    "HorseBatteryStaple",  # whitespace dropped
    "Horse\tBattery  Staple",  # cut at the line break
]


def leaks(text: str) -> list[str]:
    words = ("horse", "battery", "staple", "second-line")
    return [w for w in words if w in text.lower()]


@pytest.mark.parametrize("echo", ECHOES)
def test_auth_reply_echoing_a_changed_password_is_not_shown(start_server, caplog, echo: str) -> None:
    caplog.set_level(logging.DEBUG, logger="runlift")

    def check(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=False, handled=False, message=f"535 5.7.8 {echo.replace(chr(10), ' ')} is wrong")

    srv = start_server(authenticator=check, auth_require_tls=False)
    with pytest.raises(PermanentDeliveryError) as info:
        send_report(make_report(), ["me@example.org"], settings_for(srv.port, user=USER, password=MESSY_PASSWORD))
    assert str(info.value).endswith("authentication failed (535 5.7.8)")
    assert leaks(str(info.value)) == [] and leaks(caplog.text) == []


@pytest.mark.parametrize("echo", ECHOES)
def test_other_replies_echoing_a_changed_password_are_scrubbed(start_server, echo: str) -> None:
    class Echoing(Handler):
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            return f"550 5.1.1 <{address}> unknown; {echo.replace(chr(10), ' ')}; try again"

    srv = start_server(Echoing())
    with pytest.raises(PermanentDeliveryError, match=r"\(550 5\.1\.1 <me@example\.org> unknown; \*\*\*") as info:
        send_report(make_report(), ["me@example.org"], settings_for(srv.port, password=MESSY_PASSWORD))
    assert leaks(str(info.value)) == []


def test_long_reply_is_scrubbed_before_it_is_cut() -> None:
    # the password straddles the 200-character cut of a reply: no prefix of it may be left behind
    settings = SmtpSettings(host="h", password="CorrectHorseBatteryStaple")
    text = "x" * 190 + " CorrectHorseBatteryStaple"
    assert email_delivery._reply(550, text, settings) == f"550 {'x' * 190} ***"


# --- one deadline for the whole delivery ---------------------------------------------------------------


@dataclass
class DripServer:
    """Speaks SMTP up to ``phase``, then answers one byte every ``every`` seconds, for ever: each read
    gets data well within a per-read socket timeout, so only a whole-delivery deadline ends it."""
    phase: str
    every: float = 0.2
    port: int = 0
    connections: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> DripServer:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self._listener.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            self.connections += 1
            with conn, contextlib.suppress(OSError):  # OSError: the client gave up
                self._talk(conn)

    def _talk(self, conn: socket.socket) -> None:
        reader = conn.makefile("rb")
        if self.phase != "greeting":
            conn.sendall(b"220 drip.example ESMTP\r\n")
            reader.readline()  # EHLO
            if self.phase == "auth":
                conn.sendall(b"250-drip.example\r\n250 AUTH PLAIN LOGIN\r\n")
                reader.readline()  # AUTH PLAIN ...
        drip = b"220 " if self.phase == "greeting" else b"250-" if self.phase == "ehlo" else b"535 "
        drip += b"x" * 100_000
        for i in range(len(drip)):
            if self._stop.wait(self.every):
                return
            conn.sendall(drip[i:i + 1])


@pytest.mark.parametrize(("phase", "step", "auth"), [
    ("greeting", "connecting", False),
    ("ehlo", "sending", False),  # EHLO comes with the first MAIL when neither STARTTLS nor AUTH is asked
    ("auth", "login", True),
])
def test_a_dripping_server_is_cut_off_at_the_deadline(phase: str, step: str, auth: bool) -> None:
    timeout = 1.0
    with DripServer(phase) as srv:
        extra = {"user": USER, "password": PASSWORD} if auth else {}
        start = time.monotonic()
        with pytest.raises(DeliveryError) as info:
            send_report(make_report(), ["me@example.org"], settings_for(srv.port, timeout=timeout, **extra))
        elapsed = time.monotonic() - start
    assert timeout <= elapsed < timeout + 0.8
    message = str(info.value)
    assert message == (f"could not deliver the 2026-W37 report to 1 recipient via 127.0.0.1:{srv.port}: "
                       f"{step}: timed out after 1 s (RUNLIFT_SMTP_TIMEOUT bounds the whole delivery)")
    assert not isinstance(info.value, PermanentDeliveryError)  # a later attempt may get through
    assert info.value.__cause__ is None and info.value.__context__ is None


def test_timeout_from_the_environment_bounds_the_delivery() -> None:
    with DripServer("greeting", every=0.1) as srv:
        settings = SmtpSettings.from_env({"RUNLIFT_SMTP_HOST": "127.0.0.1", "RUNLIFT_SMTP_PORT": str(srv.port),
                                          "RUNLIFT_SMTP_TIMEOUT": "1.5"})
        start = time.monotonic()
        with pytest.raises(DeliveryError, match=r"connecting: timed out after 1\.5 s"):
            send_report(make_report(), ["me@example.org"], settings)
        assert time.monotonic() - start < 1.5 + 0.8


# --- permanent or worth retrying -------------------------------------------------------------------------


def test_wrong_password_is_permanent(start_server) -> None:
    srv = start_server(authenticator=authenticator(), auth_require_tls=False)
    with pytest.raises(PermanentDeliveryError, match="authentication failed"):
        send_report(make_report(), ["me@example.org"], settings_for(srv.port, user=USER, password="nope"))


def test_temporary_auth_failure_is_transient(start_server) -> None:
    def busy(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=False, handled=False, message="454 4.7.0 Temporary authentication failure")

    srv = start_server(authenticator=busy, auth_require_tls=False)
    with pytest.raises(DeliveryError, match=r"authentication failed \(454 4\.7\.0\)$") as info:
        send_report(make_report(), ["me@example.org"], settings_for(srv.port, user=USER, password=PASSWORD))
    assert not isinstance(info.value, PermanentDeliveryError)


def test_refused_credentials_are_not_tried_again_with_another_mechanism(start_server) -> None:
    """A server that answers a second AUTH after a refusal with 421 "too many errors" (Postfix's error
    limits do): smtplib's login() would try LOGIN after PLAIN and report that transient 421, so the
    scheduled flow retried a wrong password for 12 minutes."""
    mechanisms: list[str] = []

    def strict(server, session, envelope, mechanism, auth_data):
        mechanisms.append(mechanism)
        if len(mechanisms) == 1:
            return AuthResult(success=False, handled=False, message="535 5.7.8 Authentication credentials invalid")
        return AuthResult(success=False, handled=False, message="421 4.7.0 Too many errors, closing connection")

    srv = start_server(authenticator=strict, auth_require_tls=False)
    with pytest.raises(PermanentDeliveryError, match=r"authentication failed \(535 5\.7\.8\)$"):
        send_report(make_report(), ["me@example.org"], settings_for(srv.port, user=USER, password="wrong"))
    assert mechanisms == ["PLAIN"]


@pytest.mark.parametrize(("reply", "permanent"), [("550 5.1.1 no such user", True), ("451 4.3.0 try later", False)])
def test_refused_recipient_is_permanent_only_for_5xx(start_server, reply: str, permanent: bool) -> None:
    class Refusing(Handler):
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            return reply

    srv = start_server(Refusing())
    with pytest.raises(DeliveryError, match="all recipients refused") as info:
        send_report(make_report(), ["me@example.org"], settings_for(srv.port))
    assert isinstance(info.value, PermanentDeliveryError) is permanent


def test_connection_refused_is_transient_and_config_errors_are_permanent(server: Server) -> None:
    with pytest.raises(DeliveryError, match="connection refused") as refused:
        send_report(make_report(), ["me@example.org"], settings_for(free_port()))
    assert not isinstance(refused.value, PermanentDeliveryError)
    with pytest.raises(PermanentDeliveryError, match="does not offer STARTTLS"):
        send_report(make_report(), ["me@example.org"], settings_for(server.port, starttls=True))
    with pytest.raises(PermanentDeliveryError, match="^no recipients"):
        send_report(make_report(), [" "], settings_for(server.port))


def test_the_flow_retries_only_transient_failures() -> None:
    from prefect.states import Completed, Failed

    from flows.report import retry_delivery, send_task

    assert send_task.retry_condition_fn is retry_delivery and send_task.retries == 3
    assert retry_delivery(send_task, None, Failed(data=DeliveryError("connection refused"))) is True
    assert retry_delivery(send_task, None, Failed(data=PermanentDeliveryError("authentication failed"))) is False
    assert retry_delivery(send_task, None, Failed(data=EmailConfigError("RUNLIFT_SMTP_PORT ..."))) is False
    assert retry_delivery(send_task, None, Completed(data=1)) is False


# --- retries resend only to recipients still missing ------------------------------------------------------


@dataclass
class RefuseOnce(Handler):
    """Refuses ``flaky`` with a 4xx once, on its RCPT number ``at`` (counting from 1), accepts it otherwise."""
    flaky: str = "later@example.org"
    at: int = 1
    seen: int = 0
    refused_once: bool = False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == self.flaky:
            self.seen += 1
            if self.seen >= self.at and not self.refused_once:
                self.refused_once = True
                return "451 4.2.0 mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_retry_after_a_partial_failure_sends_only_to_the_rest(start_server) -> None:
    srv = start_server(RefuseOnce())
    report, rcpts, settings = make_report(), ["me@example.org", "later@example.org"], settings_for(srv.port)

    with pytest.raises(DeliveryError, match=r"1 of 2 recipients refused: later@example\.org \(451 4\.2\.0") as info:
        send_report(report, rcpts, settings)
    assert not isinstance(info.value, PermanentDeliveryError)
    assert [r.rcpt_tos for r in srv.handler.received] == [["me@example.org"]]

    assert send_report(report, rcpts, settings) == ["later@example.org"]  # the retry
    first, second = (r.message() for r in srv.handler.received)
    assert srv.handler.received[1].rcpt_tos == ["later@example.org"]
    assert second["Message-ID"] == first["Message-ID"] and second["Date"] == first["Date"]  # the same message
    assert second["To"] == "me@example.org, later@example.org"

    assert send_report(report, rcpts, settings) == []  # everyone has it: nothing is sent again
    assert len(srv.handler.received) == 2


def test_retry_error_counts_only_the_missing_recipients(start_server) -> None:
    srv = start_server(RefuseOnce())
    report, settings = make_report(), settings_for(srv.port)
    rcpts = ["me@example.org", "later@example.org", "you@example.org"]
    with pytest.raises(DeliveryError):
        send_report(report, rcpts, settings)
    port = srv.port
    srv.handler.refused_once = False  # refuses again on the retry
    with pytest.raises(DeliveryError) as info:
        send_report(report, rcpts, settings)
    assert str(info.value) == (f"could not deliver the 2026-W37 report to 1 recipient via 127.0.0.1:{port}: "
                               "all recipients refused: later@example.org (451 4.2.0 mailbox busy, try again "
                               "later) (2 others already had it)")


def test_a_recipient_gets_each_weeks_mail_once_even_when_it_changed(start_server, fresh_ledger) -> None:
    """The ledger is keyed by week, whose mail and recipient: a corrected report of the same week
    is not sent again to who has it, another week or another athlete's report is."""
    srv = start_server()
    settings = settings_for(srv.port)
    assert send_report(make_report(), ["me@example.org"], settings) == ["me@example.org"]
    assert send_report(make_report(html="<p>corrected</p>", images={}), ["Me@Example.org"], settings) == []
    assert send_report(make_report(week="2026-W38"), ["me@example.org"], settings) == ["me@example.org"]
    assert send_report(make_report(athlete="ana"), ["me@example.org"], settings) == ["me@example.org"]
    roster = Mail("2026-W37", ROSTER, "runlift roster · 2026-W37", "roster text", "<p>roster</p>")
    assert send_report(roster, ["me@example.org"], settings) == ["me@example.org"]
    assert len(srv.handler.received) == 4
    fresh_ledger.clear()  # forget everything: the week goes out again
    send_report(make_report(), ["me@example.org"], settings)
    assert len(srv.handler.received) == 5


def test_ledger_forgets_after_keep_s(start_server, monkeypatch) -> None:
    monkeypatch.setattr(email_delivery, "LEDGER", DeliveryLedger(keep_s=0.2))
    srv = start_server()
    send_report(make_report(), ["me@example.org"], settings_for(srv.port))
    assert send_report(make_report(), ["me@example.org"], settings_for(srv.port)) == []
    time.sleep(0.3)
    assert send_report(make_report(), ["me@example.org"], settings_for(srv.port)) == ["me@example.org"]


def test_retried_loop_over_reports_resends_none_that_arrived(start_server) -> None:
    """What a retried send task does (commands.send_reports loops over every athlete's report): the
    report that arrived is skipped, the one that failed goes out to the recipient it missed."""
    srv = start_server(RefuseOnce(flaky="coach@example.org", at=2))  # the second report's coach, once
    settings, rcpts = settings_for(srv.port), ["me@example.org", "coach@example.org"]
    reports = [make_report(), make_report(athlete="ana", html="<p>second athlete</p>", images={})]

    def send_all() -> None:
        for report in reports:
            send_report(report, rcpts, settings)

    with pytest.raises(DeliveryError, match="1 of 2 recipients refused: coach@example.org"):
        send_all()
    send_all()  # the retry
    assert [r.rcpt_tos for r in srv.handler.received] == [rcpts, ["me@example.org"], ["coach@example.org"]]
    bodies = [r.message().get_body(("html",)).get_content() for r in srv.handler.received]
    assert ["second athlete" in b for b in bodies] == [False, True, True]


def test_ledger_file_survives_a_fresh_ledger_and_keeps_the_message_id(start_server, tmp_path: Path) -> None:
    """Two DeliveryLedger objects on one file stand for two processes: the second sends only to the
    recipient the first could not reach, as the same message."""
    srv = start_server(RefuseOnce())
    path = tmp_path / "reports" / LEDGER_FILE
    report, rcpts, settings = make_report(), ["me@example.org", "later@example.org"], settings_for(srv.port)
    with pytest.raises(DeliveryError, match="1 of 2 recipients refused"):
        send_report(report, rcpts, settings, DeliveryLedger(path))
    stored = json.loads(path.read_text())["deliveries"]
    assert list(stored) == ["2026-W37/me"] and list(stored["2026-W37/me"]["accepted"]) == ["me@example.org"]

    assert send_report(report, rcpts, settings, DeliveryLedger(path)) == ["later@example.org"]
    assert send_report(report, rcpts, settings, DeliveryLedger(path)) == []
    assert [r.rcpt_tos for r in srv.handler.received] == [["me@example.org"], ["later@example.org"]]
    first, second = (r.message() for r in srv.handler.received)
    assert second["Message-ID"] == first["Message-ID"] and second["Date"] == first["Date"]
    assert sorted(json.loads(path.read_text())["deliveries"]["2026-W37/me"]["accepted"]) == rcpts[::-1]
    assert not list(path.parent.glob("*.tmp"))  # written atomically: no temporary file left


def test_unreadable_ledger_file_is_a_warning_not_a_crash(server: Server, tmp_path: Path, caplog) -> None:
    path = tmp_path / LEDGER_FILE
    path.write_text("{not json")
    with caplog.at_level(logging.WARNING, logger="runlift.email"):
        assert send_report(make_report(), ["me@example.org"], settings_for(server.port), DeliveryLedger(path)) \
            == ["me@example.org"]
    assert "unreadable delivery ledger" in caplog.text
    assert list(json.loads(path.read_text())["deliveries"]) == ["2026-W37/me"]


def test_mail_text_part_and_auto_submitted(server: Server) -> None:
    """A Mail carries its own plain-text part; every message is marked auto-generated."""
    mail = Mail("2026-W38", ROSTER, "runlift roster · 2026-W38", "me  met  0  0\n", "<p>roster</p>")
    send_report(mail, ["coach@example.org"], settings_for(server.port))
    [got] = server.handler.received
    msg = got.message()
    assert msg["Auto-Submitted"] == "auto-generated" and msg["Subject"] == "runlift roster · 2026-W38"
    assert lines(msg.get_body(("plain",)).get_content()) == "me  met  0  0"
    with pytest.raises(PermanentDeliveryError, match="roster digest"):
        send_report(Mail("2026-W39", ROSTER, "s", "t", "<p>h</p>"), ["bad address@@"], settings_for(server.port))


# --- the port follows the TLS mode -----------------------------------------------------------------------


@pytest.mark.parametrize(("kw", "port"), [({}, 25), ({"starttls": True}, 587), ({"ssl": True}, 465),
                                          ({"ssl": True, "port": 2465}, 2465)])
def test_settings_default_port_follows_tls_mode(kw: dict, port: int) -> None:
    assert SmtpSettings(host="smtp.example.org", **kw).port == port
