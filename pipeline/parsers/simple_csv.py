"""Parser for runlift's own simple strength-log CSV (format name ``simple_csv``).

Use it to log strength work from any app or a spreadsheet. One row per set, in the order
the sets were done. Header (comma, semicolon or tab separated; UTF-8, a BOM is fine)::

    date,time,exercise,set,reps,weight_kg,set_type,rpe,duration_min,title

| column | required | meaning |
|---|---|---|
| ``date`` | yes | local date of the session start, ``YYYY-MM-DD`` |
| ``time`` | yes | local start time, ``HH:MM`` or ``HH:MM:SS`` (24 h) |
| ``exercise`` | yes | exercise name, e.g. ``Bulgarian Split Squat`` (normalised on load) |
| ``set`` | no | set number within the exercise; informational only (row order counts) |
| ``reps`` | yes | repetitions; the cell may be empty when only a load is logged |
| ``weight_kg`` | no | load in kg; empty or 0 for bodyweight |
| ``set_type`` | no | ``working`` (default), ``warmup``, ``failure`` or ``drop`` |
| ``rpe`` | no | rate of perceived exertion, 1–10 |
| ``duration_min`` | no | session length in minutes, on any row of the session |
| ``title`` | no | session title |

Rules:
- the rows sharing ``date``, ``time`` and ``title`` are one session;
- ``date`` + ``time`` is a wall-clock time in the athlete's zone (``[athlete] timezone``).
  Around DST changes: a time in the autumn fall-back hour is its first occurrence (summer
  time); a time in the spring-forward gap is moved forward by the gap (02:30 → 03:30);
- the session ends ``duration_min`` after its start; without it, it lasts 3 minutes per
  set (warm-ups included), a typical set-plus-rest cycle;
- a row with neither reps nor a load is not a set (nothing was lifted);
- a row with an implausible or unreadable value (reps over 1000, a date before 1990, a
  weight over 1000 kg) is skipped with its line number, and the rest loads; ``runlift
  ingest`` lists the skipped rows, ``ingest_log.reason`` keeps them.

Example::

    date,time,exercise,set,reps,weight_kg,set_type,rpe,duration_min,title
    2026-09-08,07:00,Back Squat,1,8,40,warmup,,45,Lower A
    2026-09-08,07:00,Back Squat,2,5,80,,8,,Lower A
    2026-09-08,07:00,Bulgarian Split Squat,1,8,20,,,,Lower A
"""

from __future__ import annotations

from pipeline.parsers import csv_common as cc
from pipeline.parsers.records import Format, ParseContext, ParseResult, QuarantineError, SetType

FORMAT: Format = "simple_csv"
COLUMNS = ("date", "time", "exercise", "set", "reps", "weight_kg", "set_type", "rpe", "duration_min", "title")
# Spellings people type for the four set types.
SET_TYPES: dict[str, SetType] = {
    "": "working",
    "working": "working",
    "work": "working",
    "normal": "working",
    "warmup": "warmup",
    "warm-up": "warmup",
    "warm up": "warmup",
    "failure": "failure",
    "drop": "drop",
    "dropset": "drop",
    "drop set": "drop",
}


def parse(data: bytes, name: str, ctx: ParseContext) -> ParseResult:
    table = cc.read_table(data)
    cc.require_format(table, FORMAT)
    zone = cc.zone_named(ctx.timezone)
    drafts: dict[tuple[str, str, str], cc.SessionDraft] = {}
    skips = cc.Skips(table)
    for row in table.rows:
        key = (row.get("date"), row.get("time"), row.get("title"))
        try:
            draft = drafts.get(key)
            if draft is None:  # a bad date/time fails each row of its session: each is skipped
                start = cc.time_cell_utc(f"{key[0]} {key[1]}", row, "date/time", zone)
                draft = drafts[key] = cc.SessionDraft(key[2] or None, start)
            _add_row(draft, row)
        except QuarantineError as err:
            skips.add(err)
    return skips.result(FORMAT, drafts.values())


def _add_row(draft: cc.SessionDraft, row: cc.Row) -> None:
    minutes = cc.parse_number(row.get("duration_min"), row, "duration_min")
    if minutes is not None and draft.duration_s is None:
        draft.duration_s = minutes * 60
    reps = cc.parse_reps(row.get("reps"), row, "reps")
    weight = cc.check_weight(cc.parse_number(row.get("weight_kg"), row, "weight_kg"), row, "weight_kg")
    if not cc.is_strength_set(weight, reps):
        return
    set_type = SET_TYPES.get(row.get("set_type").lower())
    if set_type is None:
        raise QuarantineError(f"line {row.line}: unknown set_type (expected working, warmup, failure or drop)")
    if not row.get("exercise"):
        raise QuarantineError(f"line {row.line}: exercise is empty")
    rpe = cc.parse_number(row.get("rpe"), row, "rpe")
    draft.add_set(row.get("exercise"), set_type, reps, weight, rpe)
