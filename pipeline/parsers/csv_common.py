"""Shared plumbing for the strength-log CSV parsers (Strong, Hevy, simple CSV).

- **Decoding**: UTF-8 with or without BOM, UTF-16 when it has a BOM, else Windows-1252
  (phones and spreadsheets on Windows still write it), else Latin-1 (never fails).
- **Header detection**: the header is the first non-blank line; an Excel ``sep=;`` hint line
  before it is honoured and skipped.
- **Delimiter sniffing**: ``,``, ``;`` or tab, whichever splits the header into the most
  fields (Strong writes ``;`` in some locales, Hevy quotes every field).
- **Format sniffing**: :func:`sniff` names the parser from the header alone;
  :func:`csv_flavour` raises :class:`QuarantineError` otherwise, saying what was expected and
  the column count, never the header itself (file content stays out of logs and reasons).
- **Naive local times → UTC** (:func:`local_to_utc`): a wall-clock time is read in the
  athlete's IANA zone with PEP 495 ``fold=0``. In the autumn fall-back hour, an ambiguous
  time such as 02:30 is the *first* occurrence (summer time): 2026-10-25 02:30
  Europe/Berlin → 00:30 UTC. In the spring-forward gap, a time that does not exist such as
  02:30 is shifted forward by the gap (read with the pre-transition offset):
  2026-03-29 02:30 Europe/Berlin → 01:30 UTC, i.e. 03:30 local summer time.
- **Plausible values**, else the *row* is skipped with its line number and the rest of the
  file loads (:class:`Skips`; a cumulative export holds years of sessions, one typo must not
  cost them): numbers are finite (``NaN``/``inf`` are no numbers); reps are 0..:data:`MAX_REPS`;
  weights are :data:`MIN_WEIGHT_KG`..:data:`MAX_WEIGHT_KG` kg after unit conversion (negative:
  assistance, as Strong logs an assisted pull-up, kept as logged); session times lie in
  [:data:`EARLIEST`, :data:`LATEST`) UTC, the window every parser uses (fit.py, gpx.py; see
  ``tests/test_fuzz.py``): a log dated 1989 or 2100 is a typo or damage (every row of that
  workout is skipped), and a fixed window keeps a parse independent of the day it runs. A file
  where more than half of the rows are skipped, or nothing is left, is quarantined: that is a
  wrong format or a damaged file, not a typo.
- **A cut-off last line** (no line end, fewer fields than the row before it): a file copied
  while the app was still writing it. Its last set is incomplete ("15" reps read as "1"), so
  the row is skipped like an implausible one; the complete export, loaded later, supersedes
  the partial one session by session (``pipeline.writer``).
- **Session durations** (:func:`session_end`): when a log gives no usable duration (missing,
  zero, negative, or longer than :data:`MAX_SESSION_S`, which means a workout timer was left
  running — real Strong exports contain "83h 31m"), the session lasts
  :data:`SECONDS_PER_SET` per logged set.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from pipeline.parsers.records import (
    EARLIEST,
    LATEST,
    Format,
    ParseResult,
    QuarantineError,
    SetType,
    StrengthSession,
    StrengthSet,
    as_utc,
)

LB_TO_KG = 0.45359237
SECONDS_PER_SET = 180  # ~40 s of work plus ~2 min 20 s rest: a typical gym set cycle
MAX_SESSION_S = 6 * 3600  # no strength workout lasts this long; longer = timer left running
DELIMITERS = (",", ";", "\t")
MAX_REPS = 1000
MAX_WEIGHT_KG = 1000.0  # the heaviest lifts are ~500 kg; a leg-press sled stays below this
MIN_WEIGHT_KG = -200.0  # assistance (Strong logs an assisted pull-up as -20 kg); never above bodyweight

# Header signatures: every listed column (lower-cased, trimmed) must be present.
# Checked in order; Strong and Hevy before the simple format because theirs are stricter.
SIGNATURES: tuple[tuple[str, frozenset[str]], ...] = (
    ("strong_csv", frozenset({"date", "workout name", "exercise name", "set order"})),
    ("hevy_csv", frozenset({"title", "start_time", "exercise_title", "set_type"})),
    ("simple_csv", frozenset({"date", "time", "exercise", "reps"})),
)

_WEIGHT_UNITS = {"kg": 1.0, "kgs": 1.0} | dict.fromkeys(("lb", "lbs", "pound", "pounds"), LB_TO_KG)
_MONTH_ABBR = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTHS = {m: i for i, m in enumerate(_MONTH_ABBR, start=1)}
_ISO_RE = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?\s*([AaPp][Mm])?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$"
)
_DAY_MONTH_RE = re.compile(  # Hevy: "6 Oct 2026, 18:00" (seconds and AM/PM tolerated)
    r"^(\d{1,2}) ([A-Za-z]{3})[a-z]* (\d{4}),? (\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?$"
)


@dataclass(frozen=True)
class Row:
    """One data record: its line number in the file (for error messages) and its cells by
    lower-cased header name."""

    line: int
    cells: dict[str, str]
    fields: int = 0  # how many fields the record had (a cut-off line has fewer)

    def get(self, column: str) -> str:
        return self.cells.get(column, "").strip()


@dataclass(frozen=True)
class Table:
    header: list[str]  # lower-cased, trimmed column names
    rows: list[Row]
    delimiter: str
    skipped: list[str] = field(default_factory=list)  # records left out while reading, with why

    def has(self, column: str) -> bool:
        return column in self.header


# --- decoding and table reading -------------------------------------------------------------


def decode(data: bytes) -> str:
    """Bytes to text, honouring a BOM; see the module docstring for the fallbacks."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # "replace": a sniffing caller may hand over a prefix cut inside a character
        return data.decode("utf-16", errors="replace")
    if data.startswith(codecs.BOM_UTF8):  # a UTF-8 BOM settles the question
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _header_line(text: str) -> tuple[str, str, str | None]:
    """(header line, text from the header on, delimiter forced by a ``sep=`` hint)."""
    forced: str | None = None
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.lower().startswith("sep=") and forced is None and len(stripped) == 5:
            forced = stripped[4]
            continue
        return stripped, "".join(lines[i:]), forced
    return "", "", forced


def sniff_delimiter(header_line: str) -> str:
    """The delimiter that splits the header into the most fields (ties favour the comma)."""

    def width(delim: str) -> int:
        try:
            return len(next(csv.reader([header_line], delimiter=delim), []))
        except csv.Error:  # a 128 KiB+ field (a damaged file): no delimiter splits it usefully
            return 0

    return max(DELIMITERS, key=width)


def _split_header(header_line: str, delimiter: str) -> list[str]:
    try:
        fields = next(csv.reader([header_line], delimiter=delimiter), [])
    except csv.Error:  # see sniff_delimiter: no header anyone could recognise
        fields = []
    return [f.strip().strip('"').strip().lower() for f in fields]


def read_table(data: bytes) -> Table:
    """Decode and split a CSV file into a header and rows keyed by lower-cased column names.

    Raises QuarantineError for an empty file or one the csv module cannot read. A record with
    more non-empty fields than the header (a stray delimiter, or a wrong delimiter: then most
    rows are, and the parser quarantines the file) and a cut-off last line (module docstring)
    are left out, listed in ``Table.skipped``."""
    header_line, body, forced = _header_line(decode(data))
    if not header_line:
        raise QuarantineError("empty CSV file")
    delimiter = forced or sniff_delimiter(header_line)
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=delimiter)
    rows: list[Row] = []
    skipped: list[str] = []
    try:
        header = [h.strip().lower() for h in next(reader)]
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            if len(record) > len(header) and any(c.strip() for c in record[len(header) :]):
                skipped.append(f"line {reader.line_num}: {len(record)} fields, header has {len(header)}")
                continue
            rows.append(Row(reader.line_num, dict(zip(header, record, strict=False)), len(record)))
    except csv.Error as err:  # e.g. a stray quote that runs the rest of the file into one 128 KiB+ field
        raise QuarantineError(f"line {reader.line_num}: unreadable CSV ({err})") from None
    if rows and _cut_off(body, rows[-2].fields if len(rows) > 1 else len(header), rows[-1]):
        last = rows.pop()
        skipped.append(f"line {last.line}: cut off ({last.fields} of {len(header)} fields, no line end): "
                       "the file was copied while still being written")
    return Table(header, rows, delimiter, skipped)


def _cut_off(body: str, fields_before: int, last: Row) -> bool:
    """The last record ends the text without a line end and has fewer fields than the one
    before it: the writing app had not finished the row. (A complete last line without a line
    end is common and loads; a short one in a file of short rows is that writer's habit.)"""
    return not body.endswith(("\n", "\r")) and last.fields < fields_before


# --- format sniffing and dispatch -----------------------------------------------------------


def sniff_header(columns: list[str]) -> str | None:
    """Format name for a list of (lower-cased) header columns, or None."""
    present = set(columns)
    for fmt, required in SIGNATURES:
        if required <= present:
            return fmt
    return None


def _head_text(data: bytes) -> str:
    """The start of the file as text for sniffing, cut at its last line end: a prefix handed
    over by a caller must not end inside a multi-byte character (UTF-8 would then fail to
    decode and be read as cp1252). Only the header line matters here."""
    head = data[:65536]
    if b"\n" in head:
        head = head[: head.rfind(b"\n") + 1]
    return decode(head)


def sniff(data: bytes) -> str | None:
    """``"strong_csv"``, ``"hevy_csv"``, ``"simple_csv"`` or None, from the header line only.
    ``data`` may be just the first few KiB of the file."""
    header_line, _, forced = _header_line(_head_text(data))
    if not header_line:
        return None
    return sniff_header(_split_header(header_line, forced or sniff_delimiter(header_line)))


# what each format is called in a reason: "unknown CSV header: not a Hevy export (3 columns)"
FORMAT_NAMES = {"strong_csv": "Strong export", "hevy_csv": "Hevy export", "simple_csv": "runlift strength log"}


def unknown_header(columns: int, expected: str = "Strong or Hevy export or runlift strength log") -> QuarantineError:
    """The reason for a header no parser knows: what was expected and the column count. Never
    the header itself: it is file content (a misplaced /etc/passwd, a private spreadsheet)."""
    return QuarantineError(f"unknown CSV header: not a {expected} ({columns} column{'s' if columns != 1 else ''})")


def csv_flavour(data: bytes) -> str:
    """Like :func:`sniff` but an unknown header is a QuarantineError (:func:`unknown_header`)."""
    fmt = sniff(data)
    if fmt is None:
        header_line, _, forced = _header_line(_head_text(data))
        if not header_line:
            raise QuarantineError("empty CSV file")
        raise unknown_header(len(_split_header(header_line, forced or sniff_delimiter(header_line))))
    return fmt


def require_format(table: Table, fmt: str) -> None:
    """A parser called on another format's file quarantines it instead of guessing."""
    if sniff_header(table.header) != fmt:
        raise unknown_header(len(table.header), FORMAT_NAMES[fmt])


# --- values ---------------------------------------------------------------------------------


def parse_number(text: str, row: Row, column: str) -> float | None:
    """A float, or None when empty. Accepts a decimal comma ("82,5") as written by Strong's
    semicolon export in European locales."""
    text = text.strip()
    if not text:
        return None
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):  # "NaN", "inf" and "1e400" parse as floats but are no numbers
        raise QuarantineError(f"line {row.line}: {column} is not a number")
    return value


def parse_int(text: str, row: Row, column: str) -> int | None:
    value = parse_number(text, row, column)
    return None if value is None else round(value)


def parse_reps(text: str, row: Row, column: str) -> int | None:
    reps = parse_int(text, row, column)
    if reps is not None and not 0 <= reps <= MAX_REPS:
        raise QuarantineError(f"line {row.line}: {reps} {column} is implausible (0-{MAX_REPS})")
    return reps


def check_weight(kg: float | None, row: Row, column: str) -> float | None:
    """``kg`` itself, after checking it is a plausible load (the row is skipped otherwise).
    A negative load is assistance (module docstring) and kept as logged."""
    if kg is not None and not MIN_WEIGHT_KG <= kg <= MAX_WEIGHT_KG:
        raise QuarantineError(
            f"line {row.line}: {column} {kg:.6g} kg is implausible ({MIN_WEIGHT_KG:g} to {MAX_WEIGHT_KG:g} kg)")
    return kg


def weight_factor(unit: str, row: Row | None = None) -> float:
    """Multiplier from ``unit`` (kg, kgs, lb, lbs ...) to kilograms."""
    factor = _WEIGHT_UNITS.get(unit.strip().lower())
    if factor is None:
        where = f"line {row.line}: " if row else ""
        raise QuarantineError(f"{where}unknown weight unit (expected kg or lbs)")
    return factor


def _hour24(hour: int, ampm: str | None) -> int:
    if not ampm:
        return hour
    return hour % 12 + (12 if ampm.lower() == "pm" else 0)


def _offset(text: str | None) -> timezone | None:
    if not text:
        return None
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def parse_datetime(text: str) -> datetime | None:
    """A datetime from the forms the logs use, naive unless the text has an offset or Z:
    ``2021-09-14 17:03:48``, ``2026-10-06T18:00:00+02:00``, ``2024-03-05 6:01:12 PM``,
    ``2024-08-05`` (midnight), ``6 Oct 2026, 18:00``. None when unrecognised."""
    text = text.strip().replace("\u202f", " ").replace("\u00a0", " ")
    if m := _ISO_RE.match(text):
        y, mo, d, h, mi, s, frac, ampm, off = m.groups()
        hour = _hour24(int(h or 0), ampm)
        micro = int((frac or "0").ljust(6, "0"))
        return _build((int(y), int(mo), int(d), hour, int(mi or 0), int(s or 0), micro), _offset(off))
    if m := _DAY_MONTH_RE.match(text):
        d, mon, y, h, mi, s, ampm = m.groups()
        month = _MONTHS.get(mon.lower())
        if month is None:
            return None
        return _build((int(y), month, int(d), _hour24(int(h), ampm), int(mi), int(s or 0), 0), None)
    return None


def _build(parts: tuple[int, int, int, int, int, int, int], tz: timezone | None) -> datetime | None:
    try:
        return datetime(*parts, tzinfo=tz)
    except ValueError:  # e.g. 31 Feb or hour 25
        return None


def parse_time_cell(text: str, row: Row, column: str) -> datetime:
    value = parse_datetime(text)
    if value is None:
        raise QuarantineError(f"line {row.line}: {column} is not a date/time")
    return value


def time_cell_utc(text: str, row: Row, column: str, zone: ZoneInfo) -> datetime:
    """A cell's date/time as aware UTC (naive times read in ``zone``); QuarantineError (the row
    is skipped) unless it lies in the plausible window."""
    logged = parse_time_cell(text, row, column)
    try:
        value: datetime | None = local_to_utc(logged, zone)
    except OverflowError:  # year 1 or 9999 shifted past what datetime holds
        value = None
    if value is None or not EARLIEST <= value < LATEST:
        window = f"before {EARLIEST.year} or from {LATEST.year} on"
        raise QuarantineError(f"line {row.line}: {column} {logged:%Y-%m-%d} is implausible ({window})")
    return value


def local_to_utc(dt: datetime, zone: ZoneInfo) -> datetime:
    """Aware UTC from a naive wall-clock time in ``zone`` (aware values are just converted).

    ``fold=0`` is explicit because it is the documented DST policy (module docstring):
    ambiguous → first occurrence, non-existent → shifted forward by the gap."""
    if dt.tzinfo is None:
        dt = dt.replace(fold=0)
    return as_utc(dt, zone)


# --- sessions -------------------------------------------------------------------------------


def zone_named(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError) as err:  # ZoneInfoNotFoundError is a KeyError
        raise QuarantineError(f"unknown time zone {name!r}") from err


def session_end(start_utc: datetime, duration_s: float | None, n_sets: int) -> datetime:
    """End of a session: start + the logged duration when plausible, else the per-set
    estimate (see the module docstring)."""
    if duration_s is None or not 0 < duration_s <= MAX_SESSION_S:
        duration_s = max(n_sets, 1) * SECONDS_PER_SET
    return start_utc + timedelta(seconds=duration_s)


def is_strength_set(weight: float | None, reps: int | None, seconds: float | None = None,
                    distance: float | None = None) -> bool:
    """A logged row is a set when it has reps or a load, or a time without a distance: a
    plank, a stretch, a dead hang (a timed set, see :func:`timed_reps`). Rows with a distance
    and neither reps nor load are cardio (Strong's "Swimming", Hevy's treadmill), and rows
    with nothing are empty: neither is a set. The logs carry no exercise type, so 60 s of
    "Aerobics" is kept as a timed set too; the exercise table classifies it as cardio at
    build, and cardio sets never count as strength work."""
    if reps or weight:
        return True
    return bool(seconds and seconds > 0) and not (distance and distance > 0)


def timed_reps(reps: int | None, seconds: float | None) -> int | None:
    """A timed set has no reps: the ``0`` apps write in the reps cell of a plank is "not
    counted", not "zero done" (else it would read as a failed set of 0 reps)."""
    return None if not reps and seconds and seconds > 0 else reps


def positive(value: float | None) -> float | None:
    """A set's duration, where it has one (apps write 0 for "not timed")."""
    return value if value is not None and value > 0 else None


class Skips:
    """The rows of a log left out, one reason each ("line 14: 1200 Reps is implausible
    (0-1000)"), and the file-level verdict: the file is quarantined when nothing is left or
    more than half of its rows are skipped (a wrong format, not a typo)."""

    def __init__(self, table: Table) -> None:
        self.reasons: list[str] = list(table.skipped)
        self.rows = len(table.rows) + len(table.skipped)

    def add(self, err: QuarantineError) -> None:
        self.reasons.append(str(err))

    def result(self, fmt: Format, drafts: Iterable[SessionDraft]) -> ParseResult:
        sessions = finish_sessions(drafts)
        if self.reasons and (not sessions or 2 * len(self.reasons) > self.rows):
            if len(self.reasons) == 1:
                raise QuarantineError(self.reasons[0])
            raise QuarantineError(f"{len(self.reasons)} of {self.rows} rows unreadable, first {self.reasons[0]}")
        return ParseResult(fmt, sessions=sessions, skipped_rows=self.reasons)


@dataclass
class SessionDraft:
    """A session being assembled from its rows; :meth:`finish` makes the record."""

    title: str | None
    start_utc: datetime
    duration_s: float | None = None
    notes: str | None = None
    sets: list[StrengthSet] = field(default_factory=list)

    def add_set(
        self,
        exercise: str,
        set_type: SetType,
        reps: int | None,
        weight_kg: float | None,
        rpe: float | None = None,
        duration_s: float | None = None,
    ) -> None:
        # set_index counts every kept set of the session in file order, from 0.
        self.sets.append(StrengthSet(len(self.sets), exercise, set_type, reps, weight_kg, rpe, duration_s))

    def note(self, text: str) -> None:
        if text and not self.notes:
            self.notes = text

    def finish(self) -> StrengthSession | None:
        """The session, or None when it has no strength set (e.g. a cardio-only workout)."""
        if not self.sets:
            return None
        end = session_end(self.start_utc, self.duration_s, len(self.sets))
        return StrengthSession(self.title, self.start_utc, end, self.sets, self.notes)


def finish_sessions(drafts: Iterable[SessionDraft]) -> list[StrengthSession]:
    sessions = [s for d in drafts if (s := d.finish()) is not None]
    return sorted(sessions, key=lambda s: s.start_utc)
