"""E-mail delivery of a weekly :class:`~pipeline.report.Report` over SMTP.

Settings come from the environment only (never from ``runlift.toml``, so the password stays out
of files that get committed)::

    RUNLIFT_SMTP_HOST      required; unset -> no e-mail (SmtpSettings.from_env() returns None)
    RUNLIFT_SMTP_PORT      default 465 with SSL, 587 with STARTTLS, else 25
    RUNLIFT_SMTP_USER      optional; when set, the client logs in
    RUNLIFT_SMTP_PASSWORD  optional
    RUNLIFT_SMTP_FROM      default: the user, else runlift@localhost
    RUNLIFT_SMTP_STARTTLS  true/false/1/0/yes/no/on/off; default true when the port is 587
    RUNLIFT_SMTP_SSL       implicit TLS (SMTPS, usually port 465); default false
    RUNLIFT_SMTP_TIMEOUT   seconds per network operation; default 30

TLS uses :func:`ssl.create_default_context` (certificates verified against the system store, or
the bundle named by ``SSL_CERT_FILE``). The password never appears in ``repr()``, in logs or in
an exception message: text taken from the server or from the underlying exception is scrubbed,
and :class:`DeliveryError` is raised without the original exception attached.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import smtplib
import socket
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from pipeline.errors import DeliveryError, EmailConfigError
from pipeline.report import Report

log = logging.getLogger("runlift.email")

DEFAULT_SENDER = "runlift@localhost"
DEFAULT_TIMEOUT = 30.0
NO_RECIPIENTS = "no recipients: set [report] email_to in runlift.toml"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}




@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 25
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = DEFAULT_SENDER
    starttls: bool = False
    ssl: bool = False
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> SmtpSettings | None:
        """Settings from ``RUNLIFT_SMTP_*``; None when ``RUNLIFT_SMTP_HOST`` is unset or empty."""
        env = environ

        def get(name: str) -> str | None:
            value = env.get(name)
            return value.strip() if value is not None and value.strip() else None

        host = get("RUNLIFT_SMTP_HOST")
        if host is None:
            return None
        use_ssl = _parse_bool("RUNLIFT_SMTP_SSL", get("RUNLIFT_SMTP_SSL")) or False
        starttls = _parse_bool("RUNLIFT_SMTP_STARTTLS", get("RUNLIFT_SMTP_STARTTLS"))
        if use_ssl and starttls:
            raise EmailConfigError("RUNLIFT_SMTP_SSL and RUNLIFT_SMTP_STARTTLS cannot both be true "
                                   "(SSL is implicit TLS from the first byte; STARTTLS upgrades a plain connection)")

        raw_port = get("RUNLIFT_SMTP_PORT")
        if raw_port is not None:
            try:
                port = int(raw_port)
            except ValueError:
                raise EmailConfigError(f"RUNLIFT_SMTP_PORT must be a number, got {raw_port!r}") from None
            if not 0 < port < 65536:
                raise EmailConfigError(f"RUNLIFT_SMTP_PORT must be between 1 and 65535, got {port}")
        elif use_ssl:
            port = 465
        elif starttls:
            port = 587
        else:
            port = 25
        if starttls is None:
            starttls = port == 587 and not use_ssl

        raw_timeout = get("RUNLIFT_SMTP_TIMEOUT")
        timeout = DEFAULT_TIMEOUT
        if raw_timeout is not None:
            try:
                timeout = float(raw_timeout)
            except ValueError:
                raise EmailConfigError(
                    f"RUNLIFT_SMTP_TIMEOUT must be a number of seconds, got {raw_timeout!r}") from None
            if not timeout > 0:
                raise EmailConfigError(f"RUNLIFT_SMTP_TIMEOUT must be positive, got {raw_timeout!r}")

        user = get("RUNLIFT_SMTP_USER")
        password = env.get("RUNLIFT_SMTP_PASSWORD") or None  # not stripped: spaces may be part of it
        sender = get("RUNLIFT_SMTP_FROM") or (user if user and "@" in user else None) or DEFAULT_SENDER
        return cls(host=host, port=port, user=user, password=password, sender=sender,
                   starttls=starttls, ssl=use_ssl, timeout=timeout)


def _parse_bool(name: str, value: str | None) -> bool | None:
    if value is None:
        return None
    v = value.lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise EmailConfigError(f"{name} must be true or false (also 1/0, yes/no, on/off), got {value!r}")


# --- message -----------------------------------------------------------------------------------


def build_message(report: Report, sender: str, recipients: Sequence[str]) -> EmailMessage:
    """multipart/alternative: text/plain (the Markdown) and multipart/related (the HTML plus each
    image as an inline image/png part whose Content-ID matches the ``cid:<name>`` in the HTML)."""
    msg = EmailMessage()
    msg["Subject"] = report.subject
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = formatdate(localtime=True)
    # an explicit domain: make_msgid()'s default calls socket.getfqdn(), which can stall on DNS
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    msg["Message-ID"] = make_msgid(idstring=f"runlift.{report.week}", domain=domain)

    # quoted-printable keeps every line 7-bit and short, whatever the server's 8BITMIME support
    msg.set_content(report.markdown, cte="quoted-printable")
    msg.add_alternative(report.html, subtype="html", cte="quoted-printable")
    html_part = msg.get_payload()[1]
    for name, png in report.images.items():
        filename = name if name.lower().endswith(".png") else f"{name}.png"
        html_part.add_related(png, maintype="image", subtype="png", cid=f"<{name}>",
                              disposition="inline", filename=filename)
    return msg


# --- delivery ----------------------------------------------------------------------------------


def send_report(report: Report, recipients: Sequence[str], settings: SmtpSettings) -> None:
    """Deliver ``report`` to ``recipients``; any failure raises :class:`DeliveryError`."""
    recipients = [r.strip() for r in recipients if r and r.strip()]
    if not recipients:
        raise DeliveryError(NO_RECIPIENTS)
    where = f"{settings.host}:{settings.port}"
    n = len(recipients)
    prefix = f"could not deliver the {report.week} report to {n} recipient{'s' if n != 1 else ''} via {where}"

    try:
        msg = build_message(report, settings.sender, recipients)
    except (ValueError, TypeError) as err:  # e.g. a malformed address or header
        problem = _scrub(f"invalid message: {err}", settings)
        raise DeliveryError(f"{prefix}: {problem}") from None

    log.info("sending the %s report to %d recipient(s) via %s", report.week, n, where)
    problem = _deliver(msg, recipients, settings)
    if problem is not None:
        # raised outside any except block: no __cause__ / __context__ carrying server text
        log.warning("delivery via %s failed", where)
        raise DeliveryError(f"{prefix}: {problem}")
    log.info("sent the %s report via %s", report.week, where)


def _deliver(msg: EmailMessage, recipients: list[str], settings: SmtpSettings) -> str | None:
    """Run the SMTP conversation; None on success, else a scrubbed one-line problem."""
    step = "connecting"
    smtp: smtplib.SMTP | None = None
    polite = False  # say QUIT only while the conversation is in a known state (never after a timeout)
    try:
        if settings.ssl:
            smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                    context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        polite = True
        if settings.starttls:
            step = "starttls"
            smtp.ehlo()
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if settings.user:
            step = "login"
            smtp.login(settings.user, settings.password or "")
        step = "sending"
        refused = smtp.send_message(msg, from_addr=settings.sender, to_addrs=recipients)
        if refused:
            details = "; ".join(f"{addr} ({_reply(code, text)})" for addr, (code, text) in refused.items())
            return _scrub(f"{len(refused)} of {len(recipients)} recipients refused: {details}", settings)
        return None
    except Exception as err:  # every failure becomes one DeliveryError
        polite = polite and isinstance(
            err, smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused | smtplib.SMTPNotSupportedError)
        return _scrub(_describe(err, step, settings), settings)
    finally:
        if smtp is not None:
            if polite:
                with contextlib.suppress(smtplib.SMTPException, OSError):
                    smtp.quit()
            smtp.close()


def _describe(err: BaseException, step: str, settings: SmtpSettings) -> str:
    if isinstance(err, smtplib.SMTPAuthenticationError):
        return f"authentication failed ({_reply(err.smtp_code, err.smtp_error)})"
    if isinstance(err, smtplib.SMTPNotSupportedError):
        if step == "starttls":
            return "the server does not offer STARTTLS (check RUNLIFT_SMTP_STARTTLS / RUNLIFT_SMTP_PORT)"
        if step == "login":
            return "the server does not offer AUTH on this connection (is STARTTLS needed?)"
        return f"not supported by the server: {err}"
    if isinstance(err, smtplib.SMTPRecipientsRefused):
        details = "; ".join(f"{addr} ({_reply(code, text)})" for addr, (code, text) in err.recipients.items())
        return f"all recipients refused: {details}"
    if isinstance(err, smtplib.SMTPSenderRefused):
        return f"sender {err.sender} refused ({_reply(err.smtp_code, err.smtp_error)})"
    if isinstance(err, smtplib.SMTPConnectError):
        return f"the server refused the connection ({_reply(err.smtp_code, err.smtp_error)})"
    if isinstance(err, smtplib.SMTPResponseException):
        return f"{step}: the server replied {_reply(err.smtp_code, err.smtp_error)}"
    if isinstance(err, smtplib.SMTPServerDisconnected):
        text = str(err)
        if "timed out" in text:
            return f"{step}: timed out after {settings.timeout:g} s"
        if step == "connecting" and settings.ssl is False and settings.port == 465:
            return "the server closed the connection (port 465 usually needs RUNLIFT_SMTP_SSL=true)"
        return f"{step}: the server closed the connection" + (f" ({text})" if text else "")
    if isinstance(err, ssl.SSLCertVerificationError):
        return f"TLS certificate verification failed: {err.verify_message or err.reason or err}"
    if isinstance(err, ssl.SSLError):
        hint = ""
        if settings.ssl and err.reason == "WRONG_VERSION_NUMBER":
            hint = " (the server may expect STARTTLS rather than RUNLIFT_SMTP_SSL)"
        return f"TLS error: {err.reason or err}{hint}"
    if isinstance(err, ConnectionRefusedError):
        return "connection refused"
    if isinstance(err, TimeoutError):
        return f"{step}: timed out after {settings.timeout:g} s"
    if isinstance(err, socket.gaierror):
        return f"cannot resolve host {settings.host!r} ({err.strerror or err})"
    if isinstance(err, OSError):
        return f"{step}: {err.strerror or err}"
    if isinstance(err, smtplib.SMTPException):
        return f"{step}: {err}"
    return f"{step}: {type(err).__name__}: {err}"


def _reply(code: int | None, text: bytes | str | None) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = " ".join((text or "").split())
    if len(text) > 200:
        text = text[:197] + "..."
    return f"{code} {text}".strip() if code is not None else text


def _scrub(text: str, settings: SmtpSettings) -> str:
    """One line with the password (and the base64 forms AUTH PLAIN/LOGIN send) removed."""
    text = " ".join(text.split())
    pw = settings.password
    if not pw:
        return text
    secrets = {pw}
    user = settings.user or ""
    for raw in (pw, f"\0{user}\0{pw}", f"{user}\0{user}\0{pw}"):
        b = base64.b64encode(raw.encode("utf-8")).decode("ascii")
        secrets.update({b, b.rstrip("=")})
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text
