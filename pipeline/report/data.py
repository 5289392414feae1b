"""The numbers of one weekly report, gathered from the marts of the last build.

Everything here is a plain ``SELECT`` on a DuckDB connection the caller owns (a read-only
connection works). :func:`gather_all` reads a week of every athlete of a club in a fixed number
of queries (each for all athletes, grouped by ``athlete_id`` here); :func:`gather` is one athlete.
Local dates and times come from the marts, which already carry them in the athlete's zone; nothing is converted here.

Choices (see :func:`gather`):

- **Training block** (the compliance table): the weeks from the first week of the current block
  through the report week, at most the last :data:`BLOCK_MAX_WEEKS` weeks, whichever is
  shorter. A week's block is the A race it leads to (``weekly_compliance.next_race``; a
  recovery week belongs to the race just run). The block starts at its first week that is not
  ``off`` (the start of the base phase, 12 weeks before the race); when the report week itself
  is ``off`` (no A race within 12 weeks), the block is the run of ``off`` weeks since the last
  race's recovery week (or since the athlete's first week).
- **Load window**: the weeks of ``weekly_load`` among the :data:`LOAD_WEEKS` ISO weeks ending with
  the report week (fewer when the athlete's history is shorter), with the **daily** ACWR, ATL, CTL
  and TSB of ``daily_load`` for every day of those weeks (ACWR null before 28 days of history).
- **Comparisons**: each number of the week beside the previous ISO week and the mean of the
  :data:`AVG_WEEKS` ISO weeks before the report week (the report week itself excluded). Only weeks
  inside the athlete's series (a row in ``weekly_load`` or ``weekly_compliance``) count, so a
  history of two weeks averages two; a series week without a ``weekly_strength`` row has 0 sets.
- **Spacing marks**: every ``spacing.*`` flag of the week, placed by the (session, run) pair its
  evidence names in ``spacing`` (``session_id``, ``activity_id``), whatever the gap or the dates.
- **Strength**: ``weekly_strength`` of the report week, and the e1RM trend (``exercise_progress``)
  of the key lifts over the block's weeks: up to :data:`KEY_LIFTS` lower-body exercises (squat,
  hinge, single-leg, calf) with an e1RM in at least two of those weeks, the most weeks first. Both
  are None/empty while those views are not in the database (a build before contract v2).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import duckdb

from pipeline.config import Config
from pipeline.db import scalar
from pipeline.errors import ReportError
from pipeline.wording import SEVERITIES, iso_week

BLOCK_MAX_WEEKS = 12
LOAD_WEEKS = 12
AVG_WEEKS = 4
KEY_LIFTS = 4
KEY_PATTERNS = ("squat", "hinge", "single_leg", "calf")
WEEKLY_STRENGTH_COLUMNS = ("qualifying_sessions", "strength_days", "working_sets", "heavy_sets", "squat_sets",
                           "hinge_sets", "single_leg_sets", "calf_sets", "plyo_contacts", "median_lower_reps",
                           "srpe_load")
_WEEK_RE = re.compile(r"(\d{4})-W(\d{2})")



def week_monday(week: str) -> date:
    """Monday of an ISO week written ``YYYY-Www``."""
    m = _WEEK_RE.fullmatch(week or "")
    if not m:
        raise ReportError(f"invalid ISO week {week!r}: expected YYYY-Www such as 2026-W38")
    try:
        return date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
    except ValueError:
        raise ReportError(f"invalid ISO week {week!r}: {m.group(1)} has no week {m.group(2)}") from None


def last_complete_week(as_of: date) -> str:
    """The ISO week of the latest Sunday strictly before ``as_of`` (the last complete week)."""
    return iso_week(as_of - timedelta(days=as_of.isoweekday()))


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    return bool(scalar(con, "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? "
                            "AND table_name = ?", [schema, name]))


def _columns(con: duckdb.DuckDBPyConnection, name: str) -> set[str]:
    rows = con.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' "
                       "AND table_name = ?", [name]).fetchall()
    return {r[0] for r in rows}


def last_build_as_of(con: duckdb.DuckDBPyConnection) -> date | None:
    """The ``--as-of`` date of the last build (``raw.build_state``), or None before any build."""
    if not _table_exists(con, "raw", "build_state"):
        return None
    row = con.execute("SELECT max(as_of) FROM raw.build_state").fetchone()
    return row[0] if row else None


@dataclass(frozen=True)
class WeekSummary:
    """The verdict numbers of the report week."""

    runs: int = 0
    km: float = 0.0
    minutes: float = 0.0
    trimp: float = 0.0
    long_run_km: float = 0.0
    monotony: float | None = None
    quality_runs: int = 0
    strength_done: int = 0
    strength_target: int | None = None  # None: the week is outside the athlete's series
    phase: str | None = None
    verdict: str | None = None  # met | short | over; None while the week is incomplete
    complete: bool = False
    is_first_week: bool = False
    next_race: date | None = None


@dataclass(frozen=True)
class ComplianceRow:
    iso_week: str
    week_start: date
    phase: str
    target: int
    done: int
    verdict: str | None  # met | short | over; None while the week is incomplete
    runs: int
    km: float
    is_first_week: bool
    is_report_week: bool


@dataclass(frozen=True)
class FlagItem:
    rule: str
    severity: str
    date: date
    message: str
    evidence: dict


@dataclass(frozen=True)
class LoadWeek:
    iso_week: str
    week_start: date  # the Monday
    km: float
    trimp: float
    load: float


@dataclass(frozen=True)
class DayAcwr:
    """One day of ``daily_load``: ACWR and the fitness model (ATL, CTL, TSB)."""

    local_date: date
    acwr: float | None
    atl: float | None = None
    ctl: float | None = None
    tsb: float | None = None


@dataclass(frozen=True)
class Measure:
    """One number of the week beside the previous week and the 4-week average (None: no data)."""

    key: str
    label: str
    unit: str
    digits: int
    this: float | None
    prev: float | None
    avg: float | None


@dataclass(frozen=True)
class StrengthWeek:
    """``weekly_strength`` of the report week (zeros when the week has no row)."""

    qualifying_sessions: int = 0
    strength_days: int = 0
    working_sets: int = 0
    heavy_sets: int = 0
    squat_sets: int = 0
    hinge_sets: int = 0
    single_leg_sets: int = 0
    calf_sets: int = 0
    plyo_contacts: int = 0
    median_lower_reps: float | None = None
    srpe_load: float | None = None


@dataclass(frozen=True)
class LiftTrend:
    """A key lift's best e1RM per week of the block (None: not done that week)."""

    exercise: str
    pattern: str
    weeks: tuple[str, ...]
    e1rm_kg: tuple[float | None, ...]

    @property
    def first(self) -> float | None:
        return next((v for v in self.e1rm_kg if v is not None), None)

    @property
    def last(self) -> float | None:
        return next((v for v in reversed(self.e1rm_kg) if v is not None), None)


@dataclass(frozen=True)
class TimelineItem:
    """A run or a strength session of the report week, in local time."""

    kind: str  # "run" | "strength"
    item_id: str
    title: str | None
    start_local: datetime
    end_local: datetime
    local_date: date
    is_quality: bool = False
    quality_reason: str | None = None
    is_long: bool = False
    km: float | None = None
    qualifies: bool | None = None
    working_sets: int | None = None
    exercises: tuple[str, ...] = ()
    source_file: str | None = None

    @property
    def minutes(self) -> float:
        return (self.end_local - self.start_local).total_seconds() / 60.0


@dataclass(frozen=True)
class Gap:
    """A spacing flag of the week on its (strength session, run) pair: from the end of the earlier
    of the two to the start of the later one, on one local day or across midnight."""

    local_date: date  # the flag's date: the local date of the later start
    start_local: datetime  # end of the earlier one
    end_local: datetime  # start of the later one
    gap_hours: float
    which_first: str  # strength_first | run_first
    rule: str = ""
    severity: str = "warning"
    run_is_quality: bool = False
    run_is_long: bool = False


@dataclass
class ReportData:
    athlete: str
    week: str
    week_start: date
    as_of: date | None
    summary: WeekSummary
    block: list[ComplianceRow]
    block_race: str | None  # "Lakeside Marathon (2026-10-18)" when the block leads to an A race
    flags: dict[str, list[FlagItem]]  # severity -> flags, keys in SEVERITIES order
    load_weeks: list[LoadWeek]
    acwr_days: list[DayAcwr]
    acwr_max: float
    timeline: list[TimelineItem]
    gaps: list[Gap]
    min_gap_hours: float
    optimal_gap_hours: float
    measures: list[Measure] = field(default_factory=list)
    prev_week: str = ""
    avg_weeks: list[str] = field(default_factory=list)  # the weeks the average is taken over
    strength: StrengthWeek | None = None  # None: no weekly_strength view in this database
    lifts: list[LiftTrend] = field(default_factory=list)

    @property
    def week_end(self) -> date:
        return self.week_start + timedelta(days=6)

    @property
    def severity_counts(self) -> dict[str, int]:
        return {sev: len(self.flags.get(sev, [])) for sev in SEVERITIES}

    @property
    def peak_acwr(self) -> DayAcwr | None:
        """The week's highest daily ACWR (None when not judged yet)."""
        days = [d for d in self.acwr_days
                if d.acwr is not None and self.week_start <= d.local_date <= self.week_end]
        return max(days, key=lambda d: d.acwr or 0.0) if days else None


# Every helper below gathers one part of the report for all ``athletes`` at once (one query or a
# few, whatever their number) and returns it per athlete.
_IN = "athlete_id IN (SELECT unnest(?::VARCHAR[]))"
Athletes = list[str]


def _summaries(con: duckdb.DuckDBPyConnection, athletes: Athletes, week: str) -> dict[str, WeekSummary]:
    values: dict[str, dict] = {a: {} for a in athletes}
    for a, runs, km, minutes, trimp, long_km, monotony, quality in con.execute(f"""
            SELECT athlete_id, run_count, run_km, run_minutes, trimp, long_run_km, monotony, quality_runs
            FROM weekly_load WHERE {_IN} AND iso_week = ?""", [athletes, week]).fetchall():
        values[a].update(runs=int(runs), km=float(km or 0), minutes=float(minutes or 0), trimp=float(trimp or 0),
                         long_run_km=float(long_km or 0), monotony=None if monotony is None else float(monotony),
                         quality_runs=int(quality))
    judged = set()
    for a, done, target, phase, verdict, complete, first, next_race in con.execute(f"""
            SELECT athlete_id, strength_sessions, strength_target, phase, verdict, complete, is_first_week, next_race
            FROM weekly_compliance WHERE {_IN} AND iso_week = ?""", [athletes, week]).fetchall():
        judged.add(a)
        values[a].update(strength_done=int(done), strength_target=int(target), phase=phase, verdict=verdict,
                         complete=bool(complete), is_first_week=bool(first), next_race=next_race)
    # a week outside an athlete's series: the sessions are still counted
    sessions = dict(con.execute(f"""
        SELECT athlete_id, count(*) FROM strength_sessions WHERE {_IN} AND iso_week = ?
        GROUP BY athlete_id""", [athletes, week]).fetchall())
    for a in set(athletes) - judged:
        values[a]["strength_done"] = int(sessions.get(a, 0))
    return {a: WeekSummary(**v) for a, v in values.items()}


def _blocks(con: duckdb.DuckDBPyConnection, athletes: Athletes,
            week: str) -> dict[str, tuple[list[ComplianceRow], date | None]]:
    # the block reaches back at most BLOCK_MAX_WEEKS rows, and a recovery week reads the row before
    # it: the last BLOCK_MAX_WEEKS + 2 rows of each athlete give the same block as the whole series
    rows_of: dict[str, list[tuple]] = {a: [] for a in athletes}
    for a, *row in con.execute(f"""
            SELECT c.athlete_id, c.iso_week, c.week_start, c.phase, c.strength_target, c.strength_sessions,
                   c.verdict, c.runs, coalesce(l.run_km, 0), c.is_first_week, c.next_race
            FROM weekly_compliance AS c
            LEFT JOIN weekly_load AS l USING (athlete_id, iso_week)
            WHERE c.{_IN} AND c.iso_week <= ?
            QUALIFY row_number() OVER (PARTITION BY c.athlete_id ORDER BY c.week_start DESC) <= ?
            ORDER BY c.athlete_id, c.week_start""", [athletes, week, BLOCK_MAX_WEEKS + 2]).fetchall():
        rows_of[a].append(tuple(row))
    return {a: _block(rows, week) for a, rows in rows_of.items()}


def _block(rows: list[tuple], week: str) -> tuple[list[ComplianceRow], date | None]:
    if not rows or rows[-1][0] != week:
        return [], None
    # block key: the A race a week leads to; a recovery week belongs to the race of the week before
    keys: list[date | None] = []
    for i, r in enumerate(rows):
        keys.append((rows[i - 1][9] if i else None) if r[2] == "recovery" else r[9])
    key, report_phase = keys[-1], rows[-1][2]
    start = len(rows) - 1
    while start > 0 and len(rows) - start < BLOCK_MAX_WEEKS:
        prev = start - 1
        if keys[prev] != key:
            break
        if report_phase != "off" and rows[prev][2] == "off":
            break
        if report_phase == "off" and rows[prev][2] == "recovery":
            break
        start = prev
    block = [ComplianceRow(iso_week=r[0], week_start=r[1], phase=r[2], target=int(r[3]), done=int(r[4]),
                           verdict=r[5], runs=int(r[6]), km=float(r[7]), is_first_week=bool(r[8]),
                           is_report_week=r[0] == week)
             for r in rows[start:]]
    return block, key if report_phase != "off" else None


def _flags(con: duckdb.DuckDBPyConnection, athletes: Athletes, week: str,
           has_flags: bool) -> dict[str, dict[str, list[FlagItem]]]:
    grouped: dict[str, dict[str, list[FlagItem]]] = {a: {sev: [] for sev in SEVERITIES} for a in athletes}
    if not has_flags:
        return grouped
    rows = con.execute(f"""
        SELECT athlete_id, rule, severity, date, message, CAST(evidence AS VARCHAR) FROM flags
        WHERE {_IN} AND week = ? ORDER BY athlete_id, date, rule, message""", [athletes, week]).fetchall()
    for a, rule, severity, day, message, evidence in rows:
        try:
            ev = json.loads(evidence) if evidence else {}
        except ValueError:
            ev = {}
        grouped[a].setdefault(severity, []).append(FlagItem(rule, severity, day, message or "", ev))
    return grouped


def _loads(con: duckdb.DuckDBPyConnection, athletes: Athletes,
           week: str) -> dict[str, tuple[list[LoadWeek], list[DayAcwr]]]:
    first_week = iso_week(week_monday(week) - timedelta(weeks=LOAD_WEEKS - 1))
    weeks: dict[str, list[LoadWeek]] = {a: [] for a in athletes}
    for a, w, km, trimp, load in con.execute(f"""
            SELECT athlete_id, iso_week, run_km, trimp, load FROM weekly_load
            WHERE {_IN} AND iso_week BETWEEN ? AND ? ORDER BY athlete_id, iso_week""",
                                             [athletes, first_week, week]).fetchall():
        weeks[a].append(LoadWeek(w, week_monday(w), float(km or 0), float(trimp or 0), float(load or 0)))
    days: dict[str, list[DayAcwr]] = {a: [] for a in athletes}
    span = [week_monday(first_week), week_monday(week) + timedelta(days=6)]
    for a, d, *rest in con.execute(f"""
            SELECT athlete_id, local_date, acwr, atl, ctl, tsb FROM daily_load
            WHERE {_IN} AND local_date BETWEEN ? AND ? ORDER BY athlete_id, local_date""",
                                   [athletes, *span]).fetchall():
        if weeks[a] and d >= weeks[a][0].week_start:  # from the athlete's first week in the window
            days[a].append(DayAcwr(d, *(None if v is None else float(v) for v in rest)))
    return {a: (weeks[a], days[a]) for a in athletes}


def _timelines(con: duckdb.DuckDBPyConnection, athletes: Athletes, week: str) -> dict[str, list[TimelineItem]]:
    items: dict[str, list[TimelineItem]] = {a: [] for a in athletes}
    for r in con.execute(f"""
            SELECT athlete_id, activity_id, title, start_local, start_local + (end_utc - start_utc), local_date,
                   is_quality, quality_reason, coalesce(distance_m, 0) / 1000.0, source_file, coalesce(is_long, false)
            FROM activities
            WHERE {_IN} AND iso_week = ? AND sport = 'running'""", [athletes, week]).fetchall():
        items[r[0]].append(TimelineItem("run", r[1], r[2], r[3], r[4], r[5], is_quality=bool(r[6]),
                                        quality_reason=r[7], km=float(r[8]), source_file=r[9], is_long=bool(r[10])))
    for s in con.execute(f"""
            SELECT s.athlete_id, s.session_id, s.title, s.start_local, s.start_local + (s.end_utc - s.start_utc),
                   s.local_date, s.working_sets, s.source_file, s.qualifies,
                   (SELECT list(e.exercise ORDER BY e.first_set)
                    FROM (SELECT exercise, min(set_index) AS first_set FROM strength_sets AS x
                          WHERE x.session_id = s.session_id GROUP BY exercise) AS e)
            FROM strength_sessions AS s
            WHERE s.{_IN} AND s.iso_week = ?""", [athletes, week]).fetchall():
        items[s[0]].append(TimelineItem("strength", s[1], s[2], s[3], s[4], s[5], working_sets=int(s[6]),
                                        exercises=tuple(x for x in (s[9] or []) if x), source_file=s[7],
                                        qualifies=None if s[8] is None else bool(s[8])))
    return {a: sorted(found, key=lambda i: (i.start_local, i.kind, i.item_id)) for a, found in items.items()}


def _gaps(con: duckdb.DuckDBPyConnection, athletes: Athletes, week: str, has_flags: bool) -> dict[str, list[Gap]]:
    """Every spacing flag of the week on its pair in ``spacing`` (the evidence names the pair)."""
    gaps: dict[str, list[Gap]] = {a: [] for a in athletes}
    if not has_flags:
        return gaps
    rows = con.execute(f"""
        WITH f AS (
            SELECT athlete_id, rule, severity, date, json_extract_string(evidence, '$.session_id') AS session_id,
                   json_extract_string(evidence, '$.activity_id') AS activity_id
            FROM flags WHERE {_IN} AND week = ? AND rule LIKE 'spacing.%'),
        p AS (
            SELECT f.athlete_id, f.rule, f.severity, f.date, s.which_first, s.gap_hours, s.run_is_quality,
                   s.run_is_long,
                   s.session_start_local + (s.session_end_utc - s.session_start_utc) AS session_end_local,
                   s.run_start_local + (s.run_end_utc - s.run_start_utc) AS run_end_local,
                   s.session_start_local, s.run_start_local
            FROM f JOIN spacing AS s
              ON s.athlete_id = f.athlete_id AND s.session_id = f.session_id AND s.activity_id = f.activity_id)
        SELECT athlete_id, date, which_first,
               CASE WHEN which_first = 'strength_first' THEN session_end_local ELSE run_end_local END AS earlier_end,
               CASE WHEN which_first = 'strength_first' THEN run_start_local ELSE session_start_local END,
               gap_hours, rule, severity, run_is_quality, run_is_long
        FROM p ORDER BY athlete_id, date, earlier_end, rule""", [athletes, week]).fetchall()
    for a, day, first, earlier_end, later_start, hours, rule, severity, quality, long_run in rows:
        start, end = min(earlier_end, later_start), max(earlier_end, later_start)  # overlapping: gap 0
        gaps[a].append(Gap(day, start, end, float(hours), first, rule=rule, severity=severity,
                           run_is_quality=bool(quality), run_is_long=bool(long_run)))
    return gaps


_MEASURES = (  # key, label, unit, digits; the strength ones need weekly_strength
    ("runs", "Runs", "", 0),
    ("km", "Distance", "km", 1),
    ("minutes", "Running time", "min", 0),
    ("load", "Running load", "", 0),
    ("quality_runs", "Quality runs", "", 0),
    ("long_run_km", "Long run", "km", 1),
    ("strength_sessions", "Strength sessions", "", 0),
    ("heavy_sets", "Heavy sets", "", 0),
    ("plyo_contacts", "Plyometric contacts", "", 0),
    ("srpe_load", "Strength load (sRPE)", "", 0),
)
_STRENGTH_KEYS = ("heavy_sets", "plyo_contacts", "srpe_load")


def _measures(con: duckdb.DuckDBPyConnection, athletes: Athletes, week: str,
              with_strength: bool) -> dict[str, tuple[list[Measure], str, list[str]]]:
    monday = week_monday(week)
    weeks = [iso_week(monday - timedelta(weeks=k)) for k in range(AVG_WEEKS, -1, -1)]  # oldest first
    values: dict[str, dict[str, dict[str, float]]] = {a: {} for a in athletes}
    for a, w, runs, km, minutes, load, quality, long_km in con.execute(f"""
            SELECT athlete_id, iso_week, run_count, run_km, run_minutes, load, quality_runs, long_run_km
            FROM weekly_load WHERE {_IN} AND iso_week BETWEEN ? AND ?""", [athletes, weeks[0], week]).fetchall():
        values[a].setdefault(w, {}).update(runs=runs or 0, km=km or 0, minutes=minutes or 0, load=load or 0,
                                           quality_runs=quality or 0, long_run_km=long_km or 0)
    for a, w, sessions in con.execute(f"""
            SELECT athlete_id, iso_week, strength_sessions FROM weekly_compliance
            WHERE {_IN} AND iso_week BETWEEN ? AND ?""", [athletes, weeks[0], week]).fetchall():
        values[a].setdefault(w, {})["strength_sessions"] = sessions or 0
    if with_strength:
        for a, w, heavy, plyo, srpe in con.execute(f"""
                SELECT athlete_id, iso_week, heavy_sets, plyo_contacts, srpe_load FROM weekly_strength
                WHERE {_IN} AND iso_week BETWEEN ? AND ?""", [athletes, weeks[0], week]).fetchall():
            if w in values[a]:  # only weeks of the series
                values[a][w].update(heavy_sets=heavy or 0, plyo_contacts=plyo or 0, srpe_load=srpe or 0)
    return {a: _measures_of(v, weeks, week, with_strength) for a, v in values.items()}


def _measures_of(values: dict[str, dict[str, float]], weeks: list[str], week: str,
                 with_strength: bool) -> tuple[list[Measure], str, list[str]]:
    before = [w for w in weeks[:-1] if w in values]
    measures = []
    for key, label, unit, digits in _MEASURES:
        if key in _STRENGTH_KEYS and not with_strength:
            continue

        def value(w: str, key: str = key) -> float | None:
            return float(values[w].get(key, 0)) if w in values else None

        avg = sum(value(w) or 0.0 for w in before) / len(before) if before else None
        measures.append(Measure(key, label, unit, digits, value(week), value(weeks[-2]), avg))
    return measures, weeks[-2], before


def _strengths(con: duckdb.DuckDBPyConnection, athletes: Athletes, week: str) -> dict[str, StrengthWeek | None]:
    if not set(WEEKLY_STRENGTH_COLUMNS) <= _columns(con, "weekly_strength"):
        return dict.fromkeys(athletes)
    found: dict[str, StrengthWeek | None] = {a: StrengthWeek() for a in athletes}
    for a, *row in con.execute(f"SELECT athlete_id, {', '.join(WEEKLY_STRENGTH_COLUMNS)} FROM weekly_strength "
                               f"WHERE {_IN} AND iso_week = ?", [athletes, week]).fetchall():
        values = dict(zip(WEEKLY_STRENGTH_COLUMNS, row, strict=True))
        median_reps, srpe = values.pop("median_lower_reps"), values.pop("srpe_load")
        found[a] = StrengthWeek(**{k: int(v or 0) for k, v in values.items()},
                                median_lower_reps=None if median_reps is None else float(median_reps),
                                srpe_load=None if srpe is None else float(srpe))
    return found


def _lifts(con: duckdb.DuckDBPyConnection, weeks_of: dict[str, list[str]]) -> dict[str, list[LiftTrend]]:
    """The key lifts of each athlete over that athlete's ``weeks`` (one query over the widest span)."""
    found: dict[str, list[LiftTrend]] = {a: [] for a in weeks_of}
    wanted = [a for a, weeks in weeks_of.items() if weeks]
    if not wanted or not {"exercise", "iso_week", "best_e1rm_kg"} <= _columns(con, "exercise_progress"):
        return found
    first, last = min(weeks_of[a][0] for a in wanted), max(weeks_of[a][-1] for a in wanted)
    rows = con.execute(f"""
        WITH pattern AS (
            SELECT s.athlete_id, x.exercise, mode(x.pattern) AS pattern
            FROM strength_sets AS x JOIN strength_sessions AS s USING (session_id)
            WHERE s.{_IN} GROUP BY s.athlete_id, x.exercise)
        SELECT p.athlete_id, p.exercise, pattern.pattern, p.iso_week, max(p.best_e1rm_kg)
        FROM exercise_progress AS p JOIN pattern USING (athlete_id, exercise)
        WHERE p.iso_week BETWEEN ? AND ? AND p.best_e1rm_kg IS NOT NULL
          AND pattern.pattern IN ({", ".join("?" for _ in KEY_PATTERNS)})
        GROUP BY ALL""", [wanted, first, last, *KEY_PATTERNS]).fetchall()
    by_lift: dict[str, dict[tuple[str, str], dict[str, float]]] = {a: {} for a in wanted}
    for a, exercise, pattern, w, e1rm in rows:
        if weeks_of[a][0] <= w <= weeks_of[a][-1]:
            by_lift[a].setdefault((exercise, pattern), {})[w] = float(e1rm)
    for a, lifts in by_lift.items():
        weeks = weeks_of[a]
        ranked = sorted((k for k, v in lifts.items() if len(v) >= 2),
                        key=lambda k: (-len(lifts[k]), KEY_PATTERNS.index(k[1]), -max(lifts[k].values()), k[0]))
        found[a] = [LiftTrend(exercise, pattern, tuple(weeks), tuple(lifts[(exercise, pattern)].get(w) for w in weeks))
                    for exercise, pattern in ranked[:KEY_LIFTS]]
    return found


def _weeks_between(first: str, last: str) -> list[str]:
    start, end = week_monday(first), week_monday(last)
    return [iso_week(start + timedelta(weeks=k)) for k in range((end - start).days // 7 + 1)]


def _race_labels(con: duckdb.DuckDBPyConnection, athletes: Athletes) -> dict[tuple[str, date], str]:
    """``{(athlete, race date): "Name (date)"}`` of the athletes' A races."""
    rows = con.execute(f"SELECT athlete_id, race_date, min(name) FROM raw.races WHERE {_IN} AND priority = 'A' "
                       "GROUP BY athlete_id, race_date", [athletes]).fetchall()
    return {(a, d): f"{name or 'A race'} ({d.isoformat()})" for a, d, name in rows}


def gather(con: duckdb.DuckDBPyConnection, config: Config, athlete_id: str, week: str) -> ReportData:
    """Everything one weekly report shows, for one athlete and one ISO week (``YYYY-Www``)."""
    return gather_all(con, config, [athlete_id], week)[athlete_id]


def gather_all(con: duckdb.DuckDBPyConnection, config: Config, athlete_ids: Sequence[str],
               week: str) -> dict[str, ReportData]:
    """The report data of every athlete in ``athlete_ids`` for one ISO week, in a fixed number of
    queries (each part is read for all athletes at once); keyed and ordered as ``athlete_ids``."""
    monday = week_monday(week)
    for a in athlete_ids:
        config.athlete_by_id(a)  # ConfigError for an unknown athlete
    athletes = list(dict.fromkeys(athlete_ids))
    rules = config.rules
    has_flags = _table_exists(con, "main", "flags")
    blocks = _blocks(con, athletes, week)
    loads = _loads(con, athletes, week)
    strengths = _strengths(con, athletes, week)
    measures = _measures(con, athletes, week, with_strength=next(iter(strengths.values()), None) is not None)
    # the e1RM trend spans the block; a block of one week (a new off block) shows the load window
    window_first = iso_week(monday - timedelta(weeks=LOAD_WEEKS - 1))
    trend_weeks = {a: _weeks_between(block[0].iso_week if len(block) >= 2 else window_first, week)
                   for a, (block, _) in blocks.items()}
    lifts = _lifts(con, trend_weeks)
    summaries = _summaries(con, athletes, week)
    flags = _flags(con, athletes, week, has_flags)
    timelines = _timelines(con, athletes, week)
    gaps = _gaps(con, athletes, week, has_flags)
    races = _race_labels(con, athletes)
    as_of = last_build_as_of(con)
    out = {}
    for a in athletes:
        block, race = blocks[a]
        measured, prev_week, avg_weeks = measures[a]
        out[a] = ReportData(
            athlete=a, week=week, week_start=monday, as_of=as_of,
            summary=summaries[a], block=block,
            block_race=None if race is None else races.get((a, race), f"A race ({race.isoformat()})"),
            flags=flags[a], load_weeks=loads[a][0], acwr_days=loads[a][1],
            acwr_max=float(rules.acwr_max), timeline=timelines[a], gaps=gaps[a],
            min_gap_hours=float(rules.min_gap_hours), optimal_gap_hours=float(rules.optimal_gap_hours),
            measures=measured, prev_week=prev_week, avg_weeks=avg_weeks, strength=strengths[a], lifts=lifts[a],
        )
    return out
