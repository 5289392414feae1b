"""E-mail delivery against a real SMTP server (aiosmtpd on 127.0.0.1): message structure, AUTH,
STARTTLS / implicit TLS with a throw-away certificate, failures as one-line DeliveryErrors that
never carry the password, and the RUNLIFT_SMTP_* settings."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import logging
import re
import socket
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from pipeline.report import Report
from pipeline.report.email import (
    DeliveryError,
    EmailConfigError,
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


def make_report(html: str | None = None, images: dict[str, bytes] | None = None) -> Report:
    images = {"load": LOAD_PNG, "spacing": SPACING_PNG} if images is None else images
    if html is None:
        html = ("<html><body><h1>Week 2026-W37</h1><p>Strength ended 1.2 h before the run · ✓</p>"
                '<img src="cid:load" alt="load"><img src="cid:spacing" alt="spacing"></body></html>')
    return Report(
        athlete="me",
        week="2026-W37",
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
    with pytest.raises(DeliveryError, match=r"authentication failed \(535 5\.7\.8 password \*\*\* rejected") as info:
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
