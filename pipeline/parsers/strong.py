"""Parser for Strong app CSV exports (format name ``strong_csv``).

Layouts read (columns are found by name, so their order does not matter):

- classic, comma-separated, no units::

    Date,Workout Name,Duration,Exercise Name,Set Order,Weight,Reps,Distance,Seconds,Notes,Workout Notes,RPE

  weights are in ``[sources.strong] weight_unit`` (``ParseContext.strong_weight_unit``);
- semicolon-separated with a unit per row (``Workout Duration`` optional)::

    Date;Workout Name;Exercise Name;Set Order;Weight;Weight Unit;Reps;RPE;Distance;Distance Unit;
    Seconds;Notes;Workout Notes

- the newer export with ``Workout #``, ``Duration (sec)`` and the unit in the header
  (``Weight (kg)`` / ``Weight (lbs)``), which also writes ``Rest Timer`` rows.

Rules:
- a session is the rows sharing (``Date``, ``Workout Name``); ``Date`` is the naive local
  start time in the athlete's zone (DST policy in :mod:`pipeline.parsers.csv_common`);
  end = start + ``Duration`` ("1h 5m", "45m", "1h", "26s", "1:05:00" or plain seconds); a
  missing duration, or one over 6 h (a timer left running: real exports hold "83h 31m"), is
  replaced by 3 minutes per set (``csv_common.session_end``);
- ``Set Order``: a number → working, ``W`` → warmup, ``D`` → drop, ``F`` → failure;
- a row with ``Seconds`` and neither reps nor load nor a distance is a timed set (plank, dead
  hang, stretch): kept with ``duration_s`` and no reps (Strong writes ``0`` reps);
- not sets: ``Rest Timer`` rows, and rows with a distance and neither reps nor load (cardio
  such as Swimming, see ``csv_common.is_strength_set``); a workout left with no set yields
  no session;
- a row with an implausible or unreadable value is skipped with its line number and the
  rest loads (``csv_common.Skips``); a negative weight is assistance (an assisted pull-up at
  -20 kg) and kept as logged;
- exercise names are kept as Strong spells them; the loader classifies them.
"""

from __future__ import annotations

import re

from pipeline.parsers import csv_common as cc
from pipeline.parsers.records import Format, ParseContext, ParseResult, QuarantineError, SetType

FORMAT: Format = "strong_csv"
SET_ORDER_TYPES: dict[str, SetType] = {"w": "warmup", "d": "drop", "f": "failure"}
REST_TIMER = "rest timer"
_DURATION_RE = re.compile(r"^(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*(?:(\d+)\s*s)?$")
_CLOCK_RE = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2})$")
_UNIT_IN_HEADER_RE = re.compile(r"^weight(?: \((kg|kgs|lb|lbs)\))?$")


def parse(data: bytes, name: str, ctx: ParseContext) -> ParseResult:
    table = cc.read_table(data)
    cc.require_format(table, FORMAT)
    columns = _Columns.of(table, ctx)
    zone = cc.zone_named(ctx.timezone)
    drafts: dict[tuple[str, str], cc.SessionDraft] = {}
    skips = cc.Skips(table)
    for row in table.rows:
        key = (row.get("date"), row.get("workout name"))
        try:
            draft = drafts.get(key)
            if draft is None:  # a bad Date fails each row of its workout: each is skipped
                start = cc.time_cell_utc(key[0], row, "Date", zone)
                draft = drafts[key] = cc.SessionDraft(key[1] or None, start)
            _add_row(draft, row, columns)
        except QuarantineError as err:
            skips.add(err)
    return skips.result(FORMAT, drafts.values())


class _Columns:
    """Which of the layout-dependent columns this file has."""

    def __init__(
        self, weight: str | None, header_factor: float | None, duration: str | None, default_unit: str
    ) -> None:
        self.weight = weight
        self.header_factor = header_factor  # unit from "Weight (kg)" or the config; None = per row
        self.duration = duration
        self.default_unit = default_unit  # for a row whose "Weight Unit" cell is empty

    @classmethod
    def of(cls, table: cc.Table, ctx: ParseContext) -> _Columns:
        weight, factor = None, None
        for column in table.header:
            if m := _UNIT_IN_HEADER_RE.match(column):
                weight = column
                factor = cc.weight_factor(m.group(1) or ctx.strong_weight_unit)
                break
        if table.has("weight unit"):
            factor = None  # the per-row unit wins over the configured default
        durations = ("duration", "duration (sec)", "workout duration")
        duration = next((c for c in durations if table.has(c)), None)
        return cls(weight, factor, duration, ctx.strong_weight_unit)


def _add_row(draft: cc.SessionDraft, row: cc.Row, columns: _Columns) -> None:
    if draft.duration_s is None and columns.duration:
        draft.duration_s = parse_duration(row.get(columns.duration))
    draft.note(row.get("workout notes"))
    order = row.get("set order").lower()
    if order == REST_TIMER or row.get("exercise name").lower() == REST_TIMER:
        return
    reps = cc.parse_reps(row.get("reps"), row, "Reps")
    weight = _weight_kg(row, columns)
    seconds = cc.positive(cc.parse_number(row.get("seconds"), row, "Seconds"))
    distance = cc.parse_number(row.get("distance"), row, "Distance")
    if not cc.is_strength_set(weight, reps, seconds, distance):
        return
    rpe = cc.parse_number(row.get("rpe"), row, "RPE")
    set_type = _set_type(order, row)
    draft.add_set(row.get("exercise name"), set_type, cc.timed_reps(reps, seconds), weight, rpe, seconds)


def _weight_kg(row: cc.Row, columns: _Columns) -> float | None:
    if columns.weight is None:
        return None
    value = cc.parse_number(row.get(columns.weight), row, "Weight")
    if value is None:
        return None
    factor = columns.header_factor
    if factor is None:
        factor = cc.weight_factor(row.get("weight unit") or columns.default_unit, row)
    return cc.check_weight(value * factor, row, "Weight")


def _set_type(order: str, row: cc.Row) -> SetType:
    if not order or order.isdigit():
        return "working"
    set_type = SET_ORDER_TYPES.get(order)
    if set_type is None:
        raise QuarantineError(f"line {row.line}: unknown Set Order (expected a number, W, D or F)")
    return set_type


def parse_duration(text: str) -> float | None:
    """Seconds from Strong's duration forms; None when empty or unrecognised (the session
    length is then estimated)."""
    text = text.strip().lower()
    if not text:
        return None
    if text.replace(".", "", 1).isdigit():  # "Duration (sec)" in the newer export
        return float(text)
    if m := _CLOCK_RE.match(text):
        hours, minutes, seconds = (int(g or 0) for g in m.groups())
        return hours * 3600.0 + minutes * 60 + seconds
    m = _DURATION_RE.match(text)
    if not m or not any(m.groups()):
        return None
    hours, minutes, seconds = (int(g or 0) for g in m.groups())
    return hours * 3600.0 + minutes * 60 + seconds
