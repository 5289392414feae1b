"""Parser for Hevy CSV exports (format name ``hevy_csv``).

Header (every field usually quoted; columns are found by name)::

    title,start_time,end_time,description,exercise_title,superset_id,exercise_notes,
    set_index,set_type,weight_kg|weight_lbs,reps,distance_km|distance_miles,duration_seconds,rpe

Rules:
- a session is the rows sharing (``title``, ``start_time``); it ends at ``end_time`` (a
  missing or implausible end falls back to the per-set estimate of ``csv_common``);
- times are ``6 Oct 2026, 18:00`` or ISO (``2026-10-06T18:00:00``, with or without an
  offset/``Z``). Naive times are local in ``[sources.hevy] timezone``
  (``ParseContext.hevy_timezone``): unset or ``"local"`` means the athlete's zone, an IANA
  name such as ``"UTC"`` overrides it. DST policy as in :mod:`pipeline.parsers.csv_common`;
- ``set_type``: normal → working, warmup → warmup, failure → failure, dropset → drop;
- ``weight_lbs`` is converted to kg; a row with ``duration_seconds`` and neither reps, load nor
  a distance is a timed set (plank, dead hang, stretch: kept with ``duration_s``, no reps);
  rows with a distance and neither reps nor load (cardio) are not sets;
- a row with an implausible or unreadable value is skipped with its line number and the rest
  loads (``csv_common.Skips``); an implausible or unreadable ``end_time`` only loses the end
  (the per-set estimate replaces it);
- ``description`` becomes the session notes.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from pipeline.parsers import csv_common as cc
from pipeline.parsers.records import Format, ParseContext, ParseResult, QuarantineError, SetType

FORMAT: Format = "hevy_csv"
SET_TYPES: dict[str, SetType] = {
    "": "working",
    "normal": "working",
    "working": "working",
    "warmup": "warmup",
    "warm_up": "warmup",
    "failure": "failure",
    "dropset": "drop",
    "drop_set": "drop",
    "drop": "drop",
}
WEIGHT_COLUMNS = (("weight_kg", "kg"), ("weight_lbs", "lbs"), ("weight_lb", "lb"))
DISTANCE_COLUMNS = ("distance_km", "distance_miles", "distance_meters")


def parse(data: bytes, name: str, ctx: ParseContext) -> ParseResult:
    table = cc.read_table(data)
    cc.require_format(table, FORMAT)
    zone = cc.zone_named(hevy_zone_name(ctx))
    weight = next(((col, cc.weight_factor(unit)) for col, unit in WEIGHT_COLUMNS if table.has(col)), None)
    drafts: dict[tuple[str, str], cc.SessionDraft] = {}
    skips = cc.Skips(table)
    for row in table.rows:
        key = (row.get("title"), row.get("start_time"))
        try:
            draft = drafts.get(key)
            if draft is None:  # a bad start_time fails each row of its workout: each is skipped
                draft = drafts[key] = _new_draft(row, zone)
            _add_row(draft, row, weight)
        except QuarantineError as err:
            skips.add(err)
    return skips.result(FORMAT, drafts.values())


def hevy_zone_name(ctx: ParseContext) -> str:
    """The zone for Hevy's naive times: the override unless it is unset or "local"."""
    override = (ctx.hevy_timezone or "").strip()
    return ctx.timezone if override.lower() in ("", "local") else override


def _new_draft(row: cc.Row, zone: ZoneInfo) -> cc.SessionDraft:
    start = cc.time_cell_utc(row.get("start_time"), row, "start_time", zone)
    duration = None
    if row.get("end_time"):
        try:
            end = cc.time_cell_utc(row.get("end_time"), row, "end_time", zone)
            duration = (end - start).total_seconds()
        except QuarantineError:  # the start places the workout; only its length is estimated
            duration = None
    draft = cc.SessionDraft(row.get("title") or None, start, duration)
    draft.note(row.get("description"))
    return draft


def _add_row(draft: cc.SessionDraft, row: cc.Row, weight: tuple[str, float] | None) -> None:
    reps = cc.parse_reps(row.get("reps"), row, "reps")
    weight_kg = None
    if weight is not None:
        value = cc.parse_number(row.get(weight[0]), row, weight[0])
        weight_kg = None if value is None else cc.check_weight(value * weight[1], row, weight[0])
    seconds = cc.positive(cc.parse_number(row.get("duration_seconds"), row, "duration_seconds"))
    distance = next((cc.parse_number(row.get(c), row, c) for c in DISTANCE_COLUMNS if row.get(c)), None)
    if not cc.is_strength_set(weight_kg, reps, seconds, distance):
        return
    set_type = SET_TYPES.get(row.get("set_type").lower())
    if set_type is None:
        raise QuarantineError(f"line {row.line}: unknown set_type (expected normal, warmup, failure or dropset)")
    rpe = cc.parse_number(row.get("rpe"), row, "rpe")
    draft.add_set(row.get("exercise_title"), set_type, cc.timed_reps(reps, seconds), weight_kg, rpe, seconds)
