"""E-mail delivery of a weekly :class:`~pipeline.report.Report` over SMTP.

Settings come from the environment only (never from ``runlift.toml``, so the password stays out
of files that get committed)::

    RUNLIFT_SMTP_HOST      required; unset -> no e-mail (SmtpSettings.from_env() returns None)
    RUNLIFT_SMTP_PORT      default 465 with SSL, 587 with STARTTLS, else 25 (plain SMTP)
    RUNLIFT_SMTP_USER      optional; when set, the client logs in (AUTH PLAIN or LOGIN, UTF-8)
    RUNLIFT_SMTP_PASSWORD  optional; any Unicode, sent UTF-8 encoded
    RUNLIFT_SMTP_FROM      default: the user, else runlift@localhost
    RUNLIFT_SMTP_STARTTLS  true/false/1/0/yes/no/on/off; default true when the port is 587
    RUNLIFT_SMTP_SSL       implicit TLS (SMTPS, usually port 465); default false
    RUNLIFT_SMTP_TIMEOUT   seconds for the whole delivery (connect, TLS, login, sending); default 30

TLS uses :func:`ssl.create_default_context` (certificates verified against the system store, or
the bundle named by ``SSL_CERT_FILE``). The password never appears in ``repr()``, in logs or in
an exception message: replies to AUTH are reported by their status codes only, any other text
taken from the server or from the underlying exception is scrubbed of the password (also its
whitespace-collapsed, re-cased and line-cut forms, and the base64 forms AUTH sends), and
:class:`DeliveryError` is raised without the original exception attached.

A failure that retrying cannot heal (authentication refused, 5xx replies, TLS certificate or
configuration mismatches) raises :class:`PermanentDeliveryError`; the scheduled flow retries
only the others (connection refused, timeouts, 4xx replies). Recipients that accepted a mail are
remembered in a :class:`DeliveryLedger` (``commands.send_reports``: the file :data:`LEDGER_FILE`
in the report folder, so across processes too): a retry sends only to the rest, with the same
Message-ID, and a mail every recipient already has is not sent again.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import logging
import os
import re
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Any

from pipeline.errors import DeliveryError, EmailConfigError
from pipeline.report import Report
from pipeline.report.page import write_atomic

try:
    import fcntl
except ImportError:  # Windows: no cross-process lock; the ledger file still prevents resending after the fact
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("runlift.email")

DEFAULT_SENDER = "runlift@localhost"
DEFAULT_TIMEOUT = 30.0
NO_RECIPIENTS = "no recipients: set [report] email_to in runlift.toml"
LEDGER_FILE = ".runlift-deliveries.json"  # in the report folder; hidden: not a page of the index
LEDGER_KEEP_S = 400 * 86400.0  # a year and a bit: a week's mail is never sent twice while it matters
ROSTER = "@roster"  # the ledger's name for the coach's roster digest (an athlete id has no "@")
SMTP_PORT, SUBMISSION_PORT, SMTPS_PORT = 25, 587, 465

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_MAX_CHALLENGES = 5
_ENHANCED_STATUS = re.compile(r"[245]\.\d{1,3}\.\d{1,3}(?=\s|$)")


class PermanentDeliveryError(DeliveryError):
    """A delivery failure that retrying cannot heal (wrong credentials, a 5xx reply, a TLS or
    configuration mismatch); the scheduled flow fails at once instead of retrying."""


def is_transient(err: BaseException) -> bool:
    """True for a delivery failure a later attempt may get past (refused connection, timeout, 4xx)."""
    return isinstance(err, DeliveryError) and not isinstance(err, PermanentDeliveryError)


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 0  # 0: the default for the TLS mode (465 SSL, 587 STARTTLS, else 25)
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = DEFAULT_SENDER
    starttls: bool = False
    ssl: bool = False
    timeout: float = DEFAULT_TIMEOUT

    def __post_init__(self) -> None:
        if not self.port:
            object.__setattr__(self, "port", default_port(use_ssl=self.ssl, starttls=self.starttls))

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
        else:
            port = default_port(use_ssl=use_ssl, starttls=bool(starttls))
        if starttls is None:
            starttls = port == SUBMISSION_PORT and not use_ssl

        raw_timeout = get("RUNLIFT_SMTP_TIMEOUT")
        timeout = DEFAULT_TIMEOUT
        if raw_timeout is not None:
            try:
                timeout = float(raw_timeout)
            except ValueError:
                raise EmailConfigError(
                    f"RUNLIFT_SMTP_TIMEOUT must be a number of seconds, got {raw_timeout!r}") from None
            if not 0 < timeout < float("inf"):
                raise EmailConfigError(f"RUNLIFT_SMTP_TIMEOUT must be positive, got {raw_timeout!r}")

        user = get("RUNLIFT_SMTP_USER")
        password = env.get("RUNLIFT_SMTP_PASSWORD") or None  # not stripped: spaces may be part of it
        sender = get("RUNLIFT_SMTP_FROM") or (user if user and "@" in user else None) or DEFAULT_SENDER
        return cls(host=host, port=port, user=user, password=password, sender=sender,
                   starttls=starttls, ssl=use_ssl, timeout=timeout)


def default_port(*, use_ssl: bool, starttls: bool) -> int:
    """465 for implicit TLS, 587 (submission) for STARTTLS, else 25."""
    return SMTPS_PORT if use_ssl else SUBMISSION_PORT if starttls else SMTP_PORT


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


@dataclass(frozen=True)
class Mail:
    """One e-mail: an athlete's weekly report or the coach's roster digest.

    ``name`` says whose it is in the ledger: the athlete id, or :data:`ROSTER` (an athlete id
    cannot contain ``@``). ``text`` is the text/plain part (plain text, :mod:`pipeline.report.text`);
    ``html`` references each of ``images`` as ``cid:<name>``."""

    week: str
    name: str
    subject: str
    text: str
    html: str
    images: Mapping[str, bytes] = field(default_factory=dict)

    @classmethod
    def of_report(cls, report: Report, text: str | None = None) -> Mail:
        """The mail of a weekly report; without ``text``, its Markdown is the text part."""
        return cls(report.week, report.athlete, report.subject, report.markdown if text is None else text,
                   report.html, dict(report.images))

    @property
    def what(self) -> str:
        """How messages name it: ``"the 2026-W38 report"``."""
        return f"the {self.week} {'roster digest' if self.name == ROSTER else 'report'}"

    @property
    def key(self) -> str:
        """The ledger key: week and whose (``"2026-W38/me"``, ``"2026-W38/@roster"``)."""
        return f"{self.week}/{self.name}"

    def digest(self) -> str:
        """A hash of the content: a retry of unchanged content reuses the first attempt's Message-ID."""
        h = hashlib.sha256()
        for part in (self.week, self.name, self.subject, self.text, self.html):
            h.update(part.encode("utf-8", "surrogatepass") + b"\0")
        for name in sorted(self.images):
            h.update(name.encode("utf-8", "surrogatepass") + b"\0" + hashlib.sha256(self.images[name]).digest())
        return h.hexdigest()


def build_message(report: Report | Mail, sender: str, recipients: Sequence[str], *,
                  message_id: str | None = None, date: str | None = None) -> EmailMessage:
    """multipart/alternative: text/plain and multipart/related (the HTML plus each image as an
    inline image/png part whose Content-ID matches the ``cid:<name>`` in the HTML). A retry passes
    the first attempt's ``message_id`` and ``date`` so it is the same message. Every message
    carries ``Auto-Submitted: auto-generated``."""
    mail = report if isinstance(report, Mail) else Mail.of_report(report)
    msg = EmailMessage()
    msg["Subject"] = mail.subject
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = date or formatdate(localtime=True)
    msg["Message-ID"] = message_id or _new_msgid(mail.week, sender)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: vacation responders do not answer it

    # quoted-printable keeps every line 7-bit and short, whatever the server's 8BITMIME support
    msg.set_content(mail.text, cte="quoted-printable")
    msg.add_alternative(mail.html, subtype="html", cte="quoted-printable")
    html_part = list(msg.iter_parts())[1]
    for name, png in mail.images.items():
        filename = name if name.lower().endswith(".png") else f"{name}.png"
        html_part.add_related(png, maintype="image", subtype="png", cid=f"<{name}>",
                              disposition="inline", filename=filename)
    return msg


def _new_msgid(week: str, sender: str) -> str:
    # an explicit domain: make_msgid()'s default calls socket.getfqdn(), which can stall on DNS
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    return make_msgid(idstring=f"runlift.{week}", domain=domain)


# --- who already has it --------------------------------------------------------------------------


@dataclass
class Attempt:
    """What the ledger knows of one mail (one week's report of one athlete, or the roster)."""

    message_id: str
    date: str
    digest: str
    accepted: dict[str, str] = field(default_factory=dict)  # recipient (lower-cased) -> UTC time it accepted
    touched: float = field(default_factory=time.time)

    def to_json(self) -> dict[str, Any]:
        return {"message_id": self.message_id, "date": self.date, "digest": self.digest,
                "accepted": dict(sorted(self.accepted.items())), "touched": self.touched}

    @classmethod
    def from_json(cls, raw: Any) -> Attempt:
        accepted = raw.get("accepted", {})
        if not isinstance(accepted, dict):
            raise ValueError("accepted is not an object")
        return cls(str(raw["message_id"]), str(raw["date"]), str(raw.get("digest", "")),
                   {str(k): str(v) for k, v in accepted.items()}, float(raw.get("touched", 0.0)))


def _addr_key(address: str) -> str:
    return address.strip().lower()


class DeliveryLedger:
    """Recipients that accepted each mail, keyed by week, whose (athlete id or roster) and recipient.

    With a ``path`` (``commands.send_reports`` uses :data:`LEDGER_FILE` in the report folder) the
    ledger is a small JSON file, rewritten atomically after every accepted delivery, so a retry in
    another process (a second ``runlift report --send``, a restarted ``serve``) does not resend
    either; while one process sends a mail, others wait on ``<file>.lock`` (POSIX ``flock``).
    Without a path it lives in memory. Entries untouched for ``keep_s`` seconds are forgotten.
    A recipient who has a week's mail is not sent it again, even when its content changed
    (a rebuild, a later ``--as-of``): delete the entry (or the file) to send a week once more."""

    def __init__(self, path: Path | None = None, keep_s: float = LEDGER_KEEP_S) -> None:
        self.path = None if path is None else Path(path)
        self.keep_s = keep_s
        self._lock = threading.Lock()  # the entries
        self._sending = threading.Lock()  # one delivery at a time (the SMTP worker thread records under _lock)
        self._memory: dict[str, Attempt] = {}

    # -- storage
    def _load(self) -> dict[str, Attempt]:
        """The entries not older than ``keep_s``."""
        now = time.time()
        return {k: e for k, e in self._read().items() if now - e.touched <= self.keep_s}

    def _read(self) -> dict[str, Attempt]:
        if self.path is None:
            return dict(self._memory)
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            entries = raw["deliveries"]
            return {str(k): Attempt.from_json(v) for k, v in entries.items()}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
            log.warning("ignoring the unreadable delivery ledger %s (%s); it is rewritten on the next delivery",
                        self.path, type(err).__name__)
            return {}

    def _store(self, entries: dict[str, Attempt]) -> None:
        if self.path is None:
            self._memory = entries
            return
        body = json.dumps({"version": 1, "deliveries": {k: entries[k].to_json() for k in sorted(entries)}},
                          indent=1, ensure_ascii=False)
        write_atomic(self.path, body + "\n")

    @contextlib.contextmanager
    def holding(self) -> Iterator[None]:
        """Exclusive use of the ledger for one mail's delivery: other threads, and with a file
        other processes, wait."""
        with self._sending:
            if self.path is None or fcntl is None:
                yield
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    # -- queries
    def attempt(self, mail: Mail, sender: str) -> Attempt:
        """The record of earlier attempts at ``mail``: a retry of the same content keeps its
        Message-ID and Date; changed content (or a first attempt) gets new ones."""
        with self._lock:
            entries = self._load()
            entry = entries.get(mail.key)
            digest = mail.digest()
            if entry is None or entry.digest != digest:
                accepted = entry.accepted if entry is not None else {}
                entry = Attempt(_new_msgid(mail.week, sender), formatdate(localtime=True), digest, dict(accepted))
                entries[mail.key] = entry
                self._store(entries)
            return entry

    def accepted(self, mail: Mail | str) -> frozenset[str]:
        """The (lower-cased) recipients that accepted ``mail`` (or the mail of a ledger key)."""
        key = mail if isinstance(mail, str) else mail.key
        with self._lock:
            entry = self._load().get(key)
            return frozenset(entry.accepted) if entry else frozenset()

    def record(self, mail: Mail, accepted: Sequence[str]) -> None:
        with self._lock:
            entries = self._load()
            entry = entries.get(mail.key)
            if entry is None:
                entry = entries[mail.key] = Attempt(_new_msgid(mail.week, "runlift@localhost"),
                                                    formatdate(localtime=True), mail.digest())
            stamp = datetime.now(UTC).isoformat(timespec="seconds")
            for r in accepted:
                entry.accepted.setdefault(_addr_key(r), stamp)
            entry.touched = time.time()
            self._store(entries)

    def clear(self) -> None:
        with self._lock:
            self._store({})


LEDGER = DeliveryLedger()  # in memory: for callers that pass no ledger


# --- delivery ----------------------------------------------------------------------------------


def send_report(report: Report | Mail, recipients: Sequence[str], settings: SmtpSettings,
                ledger: DeliveryLedger | None = None) -> list[str]:
    """Deliver a report (or any :class:`Mail`) to the ``recipients`` that do not have it yet (see
    :class:`DeliveryLedger`); returns those that accepted it now. Any failure raises
    :class:`DeliveryError` (:class:`PermanentDeliveryError` when retrying cannot help)."""
    mail = report if isinstance(report, Mail) else Mail.of_report(report)
    ledger = ledger if ledger is not None else LEDGER
    wanted = list(dict.fromkeys(r.strip() for r in recipients if r and r.strip()))
    if not wanted:
        raise PermanentDeliveryError(NO_RECIPIENTS)
    where = f"{settings.host}:{settings.port}"
    with ledger.holding():
        attempt = ledger.attempt(mail, settings.sender)
        done = ledger.accepted(mail)
        pending = [r for r in wanted if _addr_key(r) not in done]
        if not pending:
            log.info("%s already reached all %d recipient(s); not sending it again", mail.what, len(wanted))
            return []
        n = len(pending)
        prefix = f"could not deliver {mail.what} to {n} recipient{'s' if n != 1 else ''} via {where}"
        earlier = len(wanted) - n
        suffix = f" ({earlier} other{'s' if earlier != 1 else ''} already had it)" if earlier else ""

        try:
            msg = build_message(mail, settings.sender, wanted, message_id=attempt.message_id, date=attempt.date)
        except (ValueError, TypeError) as err:  # e.g. a malformed address or header
            problem = _scrub(f"invalid message: {err}", settings)
            raise PermanentDeliveryError(f"{prefix}: {problem}{suffix}") from None

        log.info("sending %s to %d recipient(s) via %s%s", mail.what, n, where,
                 f" ({earlier} already had it)" if earlier else "")
        outcome = _deliver(msg, pending, settings, on_accepted=lambda got: ledger.record(mail, got))
    if outcome.problem is not None:
        # raised outside any except block: no __cause__ / __context__ carrying server text
        log.warning("delivery via %s failed", where)
        error = PermanentDeliveryError if outcome.permanent else DeliveryError
        raise error(f"{prefix}: {outcome.problem}{suffix}")
    log.info("sent %s via %s", mail.what, where)
    return outcome.accepted


@dataclass
class _Outcome:
    problem: str | None = None  # scrubbed, one line; None: every pending recipient accepted
    permanent: bool = False
    accepted: list[str] = field(default_factory=list)


class _Conversation:
    """One delivery's shared state between the thread talking SMTP and the one keeping the deadline."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.step = "connecting"
        self.outcome: _Outcome | None = None  # set by the worker when it knows
        self.sent = False  # the server answered the message's final dot
        self.timed_out = False
        self.step_at_deadline = ""
        self._handle: socket.socket | None = None  # a dup of the connection's socket, to abort it

    def hold(self, sock: socket.socket) -> None:
        with self.lock:
            if self.timed_out:
                raise TimeoutError("the delivery deadline passed")
            self._handle = sock.dup()  # the same kernel socket, so it outlives TLS wrapping

    def abort(self) -> None:
        """Shut the connection down under the worker: its blocked read or write returns at once."""
        with self.lock:
            self.timed_out = True
            self.step_at_deadline = self.step  # the worker may still move on before it notices
            if self._handle is not None:
                with contextlib.suppress(OSError):
                    self._handle.shutdown(socket.SHUT_RDWR)

    def release(self) -> None:
        with self.lock:
            if self._handle is not None:
                self._handle.close()
                self._handle = None


def _deliver(msg: EmailMessage, recipients: list[str], settings: SmtpSettings,
             on_accepted: Callable[[list[str]], None]) -> _Outcome:
    """Run the SMTP conversation in a worker thread bounded by one deadline for the whole of it
    (a server that drips a byte at a time never trips a per-read socket timeout)."""
    conv = _Conversation()
    worker = threading.Thread(target=_converse, args=(conv, msg, recipients, settings, on_accepted),
                              name="runlift-smtp", daemon=True)
    worker.start()
    worker.join(settings.timeout)
    if worker.is_alive():
        conv.abort()
        worker.join(1.0)  # usually ends at once; a resolver stuck in getaddrinfo is left behind
    with conv.lock:
        if conv.sent and conv.outcome is not None:  # delivered; only QUIT was slow
            return conv.outcome
        if conv.timed_out:
            return _Outcome(f"{conv.step_at_deadline}: timed out after {settings.timeout:g} s "
                            "(RUNLIFT_SMTP_TIMEOUT bounds the whole delivery)")
        return conv.outcome or _Outcome(f"{conv.step}: the SMTP client stopped unexpectedly")


def _converse(conv: _Conversation, msg: EmailMessage, recipients: list[str], settings: SmtpSettings,
              on_accepted: Callable[[list[str]], None]) -> None:
    smtp: _Client | None = None
    polite = False  # say QUIT only while the conversation is in a known state (never after a timeout)
    try:
        context = ssl.create_default_context()
        smtp = _Client(timeout=settings.timeout, implicit_tls=context if settings.ssl else None,
                       on_socket=conv.hold)
        smtp.connect(settings.host, settings.port)
        polite = True
        if settings.starttls:
            conv.step = "starttls"
            smtp.ehlo()
            smtp.starttls(context=context)
            smtp.ehlo()
        if settings.user:
            conv.step = "login"
            smtp.login(settings.user, settings.password or "")
        conv.step = "sending"
        refused = smtp.send_message(msg, from_addr=settings.sender, to_addrs=recipients)
        accepted = [r for r in recipients if r not in refused]
        on_accepted(accepted)
        problem = None
        if refused:
            details = "; ".join(f"{addr} ({_reply(code, text, settings)})" for addr, (code, text) in refused.items())
            problem = _scrub(f"{len(refused)} of {len(recipients)} recipients refused: {details}", settings)
        with conv.lock:  # known before QUIT, which may still be slow
            conv.sent = True
            conv.outcome = _Outcome(problem, all(code >= 500 for code, _ in refused.values()), accepted)
    except Exception as err:  # every failure becomes one DeliveryError
        polite = polite and isinstance(
            err, smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused | smtplib.SMTPNotSupportedError)
        with conv.lock:
            timed_out = conv.timed_out
        outcome = _Outcome(_scrub(_describe(err, conv.step, settings), settings),
                           not timed_out and _is_permanent(err, settings))
        with conv.lock:
            conv.outcome = outcome
    finally:
        if smtp is not None:
            if polite and not conv.timed_out:
                with contextlib.suppress(smtplib.SMTPException, OSError):
                    smtp.quit()
            smtp.close()
        conv.release()


class _Client(smtplib.SMTP):
    """smtplib.SMTP that hands its socket to the deadline keeper, can speak implicit TLS from the
    first byte (what SMTP_SSL does), and sends AUTH credentials UTF-8 encoded (smtplib encodes them
    as ASCII, so a password with an ``é`` cannot log in; RFC 4616 PLAIN is UTF-8). Replies to AUTH
    keep only their status codes: a server may echo the credentials in them."""

    def __init__(self, *, timeout: float, implicit_tls: ssl.SSLContext | None,
                 on_socket: Callable[[socket.socket], None]) -> None:
        self._implicit_tls = implicit_tls
        self._on_socket = on_socket
        self._refused: smtplib.SMTPAuthenticationError | None = None  # credentials refused (5xx) by AUTH
        super().__init__(timeout=timeout)

    def connect(self, host: str = "localhost", port: int = 0, source_address: Any = None) -> tuple[int, bytes]:
        self._host = host  # STARTTLS verifies the certificate against it
        return super().connect(host, port, source_address)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        raw = socket.create_connection((host, port), timeout, self.source_address)
        try:
            self._on_socket(raw)
            if self._implicit_tls is None:
                return raw
            return self._implicit_tls.wrap_socket(raw, server_hostname=host)
        except BaseException:
            raw.close()
            raise

    def auth(self, mechanism: str, authobject: Any, *, initial_response_ok: bool = True) -> tuple[int, bytes]:
        if self._refused is not None:
            # smtplib's login() goes on to the next mechanism; with credentials refused once that only
            # earns a lockout or a 421 ("too many errors"), which would make a wrong password look transient
            raise self._refused
        try:
            return self._auth(mechanism, authobject, initial_response_ok=initial_response_ok)
        except smtplib.SMTPAuthenticationError as err:
            if err.smtp_code >= 500 and err.smtp_code != 504:  # 504: this mechanism is unknown; try the next
                self._refused = err
            raise

    def _auth(self, mechanism: str, authobject: Any, *, initial_response_ok: bool) -> tuple[int, bytes]:
        mechanism = mechanism.upper()
        initial = authobject() if initial_response_ok else None
        if initial is not None:
            code, resp = self.docmd("AUTH", f"{mechanism} {_b64(initial)}")
            self._auth_challenge_count = 1
        else:
            code, resp = self.docmd("AUTH", mechanism)
            self._auth_challenge_count = 0
        while code == 334:
            self._auth_challenge_count += 1
            if self._auth_challenge_count > _MAX_CHALLENGES:
                raise smtplib.SMTPAuthenticationError(code, b"too many AUTH challenges")
            code, resp = self.docmd(_b64(authobject(base64.decodebytes(resp))))
        if code in (235, 503):
            return code, _status_only(resp)
        raise smtplib.SMTPAuthenticationError(code, _status_only(resp))

    def auth_cram_md5(self, challenge: Any = None) -> Any:
        if challenge is None:
            return None
        digest = hmac.HMAC((self.password or "").encode("utf-8"), challenge, "md5").hexdigest()
        return f"{self.user} {digest}"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _status_only(resp: bytes) -> bytes:
    """The enhanced status code (RFC 3463) of a reply, without its free text."""
    m = _ENHANCED_STATUS.match(resp.decode("ascii", "replace").strip())
    return m.group(0).encode("ascii") if m else b""


def _is_permanent(err: BaseException, settings: SmtpSettings) -> bool:
    """Whether another attempt is bound to fail the same way."""
    if isinstance(err, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in err.recipients.values())
    if isinstance(err, smtplib.SMTPResponseException):  # AUTH, sender, DATA, greeting, ...: 4xx may heal
        return not 400 <= err.smtp_code < 500
    if isinstance(err, smtplib.SMTPServerDisconnected | ConnectionError | TimeoutError):
        return False
    if isinstance(err, smtplib.SMTPException):  # no STARTTLS / AUTH offered, no AUTH mechanism in common
        return True
    if isinstance(err, ssl.SSLCertVerificationError):
        return True
    if isinstance(err, ssl.SSLError):  # a protocol mismatch (SSL against a STARTTLS port) stays one
        return err.reason in {"WRONG_VERSION_NUMBER", "UNSUPPORTED_PROTOCOL", "TLSV1_ALERT_PROTOCOL_VERSION"}
    if isinstance(err, socket.gaierror):
        return err.errno != socket.EAI_AGAIN  # a misspelt host stays misspelt
    # OSError: unreachable network, reset connection, ... may heal; anything else (a bug) will not
    return not isinstance(err, OSError)


def _describe(err: BaseException, step: str, settings: SmtpSettings) -> str:
    if isinstance(err, smtplib.SMTPAuthenticationError):
        return f"authentication failed ({_reply(err.smtp_code, err.smtp_error, settings)})"
    if isinstance(err, smtplib.SMTPNotSupportedError):
        if step == "starttls":
            return "the server does not offer STARTTLS (check RUNLIFT_SMTP_STARTTLS / RUNLIFT_SMTP_PORT)"
        if step == "login":
            return "the server does not offer AUTH on this connection (is STARTTLS needed?)"
        return f"not supported by the server: {err}"
    if isinstance(err, smtplib.SMTPRecipientsRefused):
        details = "; ".join(f"{addr} ({_reply(code, text, settings)})" for addr, (code, text) in err.recipients.items())
        return f"all recipients refused: {details}"
    if isinstance(err, smtplib.SMTPSenderRefused):
        return f"sender {err.sender} refused ({_reply(err.smtp_code, err.smtp_error, settings)})"
    if isinstance(err, smtplib.SMTPConnectError):
        return f"the server refused the connection ({_reply(err.smtp_code, err.smtp_error, settings)})"
    if isinstance(err, smtplib.SMTPResponseException):
        text = b"" if step == "login" else err.smtp_error  # an AUTH reply may echo the credentials
        return f"{step}: the server replied {_reply(err.smtp_code, text, settings)}"
    if isinstance(err, smtplib.SMTPServerDisconnected):
        text = str(err)
        if "timed out" in text:
            return f"{step}: timed out after {settings.timeout:g} s"
        if step == "connecting" and settings.ssl is False and settings.port == SMTPS_PORT:
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


def _reply(code: int | None, text: bytes | str | None, settings: SmtpSettings) -> str:
    """A server reply as one short line; the password is scrubbed before the text is collapsed or
    cut, so neither can leave a part of it behind."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = _scrub(text or "", settings)
    if len(text) > 200:
        text = text[:197] + "..."
    return f"{code} {text}".strip() if code is not None else text


def _scrub(text: str, settings: SmtpSettings) -> str:
    """One line with every form of the password removed: as sent (also base64, as AUTH PLAIN and
    LOGIN send it) and as a server may echo it back (whitespace collapsed or dropped, upper- or
    lower-cased, cut at a line break)."""
    pattern = _secret_pattern(settings)
    if pattern is not None:
        text = pattern.sub("***", text)
    text = " ".join(text.split())
    if pattern is not None:
        text = pattern.sub("***", text)
    return text


_MIN_FRAGMENT = 4  # shorter pieces of a multi-line password would blank out ordinary words


def _secret_pattern(settings: SmtpSettings) -> re.Pattern[str] | None:
    pw = settings.password
    if not pw or not pw.strip():
        return None
    user = settings.user or ""
    forms = {pw, pw.upper(), pw.lower(), pw.casefold()}
    forms.update(line for line in re.split(r"[\r\n]+", pw) if len(line.strip()) >= _MIN_FRAGMENT)
    alternatives = set()
    for form in forms:
        tokens = form.split()
        if tokens:  # any run of whitespace, or none, where the password has some
            alternatives.add(r"\s*".join(re.escape(t) for t in tokens))
    for raw in (pw, f"\0{user}\0{pw}", f"{user}\0{user}\0{pw}"):
        b = base64.b64encode(raw.encode("utf-8")).decode("ascii")
        alternatives.update({re.escape(b), re.escape(b.rstrip("="))})
    return re.compile("|".join(sorted(alternatives, key=len, reverse=True)), re.IGNORECASE)
