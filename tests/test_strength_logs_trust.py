"""Strength logs a user can trust (issue 12): a partial copy never wins over the complete
export, one bad row costs that row only, two different logs merge only on near starts, no
file content in reasons, Strava's titles win inside its export, timed sets are kept."""

from __future__ import annotations

import gzip
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from gpxgen import gpx_run

from pipeline import commands, ingest
from pipeline.config import parse_config
from pipeline.db import open_for_write
from pipeline.models import build_models, discover
from pipeline.parsers import csv_common, hevy, parse, strong
from pipeline.parsers.records import ParseContext, ParseResult, QuarantineError, StrengthSession, StrengthSet
from pipeline.sources import SourceFile
from pipeline.writer import MAX_REASON_CHARS, load_result, skipped_reason

BERLIN = parse_config({"athlete": {"id": "me", "timezone": "Europe/Berlin"}})
CTX = ParseContext(timezone="Europe/Berlin")
STRONG_HEADER = ("Date,Workout Name,Duration,Exercise Name,Set Order,Weight,Reps,Distance,Seconds,Notes,"
                 "Workout Notes,RPE\n")


def build_strength_models(con: duckdb.DuckDBPyConnection) -> None:
    """Only the strength views and what they depend on: a third of the time of every model."""
    models = discover()
    by_name = {m.name: m for m in models}
    needed: set[str] = set()
    todo = ["strength_sets", "strength_sessions"]
    while todo:
        name = todo.pop()
        if name not in needed:
            needed.add(name)
            todo.extend(d for d in by_name[name].depends_on if d in by_name)
    build_models(con, [m for m in models if m.name in needed])


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def run_ingest(db: Path, *paths: Path) -> ingest.Summary:
    return commands.ingest(db, BERLIN, list(paths), refresh_models=False, parse_jobs=ingest.in_processes(1))


def rows(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def strong_row(when: str, workout: str, exercise: str, order: str, kg: str, reps: str, seconds: str = "0") -> str:
    return f'{when},"{workout}",50m,"{exercise}",{order},{kg},{reps},0,{seconds},,,\n'


# --- 1. a later, longer export supersedes a partial copy session by session ------------------

COMPLETE = STRONG_HEADER + "".join([
    strong_row("2026-09-08 07:00:00", "Lower A", "Squat (Barbell)", "1", "80", "5"),
    strong_row("2026-09-08 07:00:00", "Lower A", "Squat (Barbell)", "2", "80", "5"),
    strong_row("2026-09-10 07:00:00", "Lower B", "Step Up (Dumbbell)", "1", "20", "12"),
    strong_row("2026-09-10 07:00:00", "Lower B", "Step Up (Dumbbell)", "2", "20", "15"),
])
# copied while Strong was still writing: the last row ends after the "1" of "15"
PARTIAL = COMPLETE[: COMPLETE.rindex(",15,") + 2]


def test_a_cut_off_last_line_is_skipped_not_loaded_as_a_set() -> None:
    assert PARTIAL.endswith(',"Step Up (Dumbbell)",2,20,1')
    result = strong.parse(PARTIAL.encode(), "strong.csv", CTX)
    lower_b = result.sessions[1]
    assert [(s.reps, s.weight_kg) for s in lower_b.sets] == [(12, 20.0)]  # not a 1-rep set
    assert result.skipped_rows == [
        "line 5: cut off (7 of 12 fields, no line end): the file was copied while still being written"]
    # a complete last line without a line end is common and loads
    assert len(strong.parse(COMPLETE.rstrip("\n").encode(), "strong.csv", CTX).sessions[1].sets) == 2


@pytest.mark.parametrize("order", ["partial first", "complete first"])
def test_the_complete_export_supersedes_a_partial_copy(tmp_path: Path, order: str) -> None:
    (tmp_path / "partial.csv").write_text(PARTIAL)
    (tmp_path / "complete.csv").write_text(COMPLETE)
    db = tmp_path / "s.duckdb"
    files = ["partial.csv", "complete.csv"] if order == "partial first" else ["complete.csv", "partial.csv"]
    for name in files:  # two runs: the partial copy was ingested before the complete file arrived
        run_ingest(db, tmp_path / name)
    kept = rows(db, """SELECT s.source_file, x.reps FROM raw.strength_sets x JOIN raw.strength_sessions s
                       USING (session_id) WHERE s.duplicate_of IS NULL ORDER BY s.start_utc, x.set_index""")
    complete, partial = str(tmp_path / "complete.csv"), str(tmp_path / "partial.csv")
    assert kept == [(complete, 5), (complete, 5), (complete, 12), (complete, 15)]
    reason = f"every session is in {complete}, a later or longer export of this log"
    assert rows(db, "SELECT file, status, reason FROM ingest_log ORDER BY file") == [
        (complete, "loaded", None), (partial, "duplicate", reason)]


def test_the_next_export_under_the_same_name_supersedes_the_partial_one(tmp_path: Path) -> None:
    log, db = tmp_path / "strong.csv", tmp_path / "s.duckdb"
    log.write_text(PARTIAL)
    run_ingest(db, log)
    log.write_text(COMPLETE)  # the app's next export overwrites the file
    run_ingest(db, log)
    reason = f"every session is in {log}, a later or longer export of this log"
    assert rows(db, "SELECT status, reason, sessions FROM ingest_log ORDER BY ingested_at") == [
        ("duplicate", reason, 2), ("loaded", None, 2)]
    assert rows(db, """SELECT x.reps FROM raw.strength_sets x JOIN raw.strength_sessions s USING (session_id)
                       WHERE s.duplicate_of IS NULL ORDER BY s.start_utc, x.set_index""") == [(5,), (5,), (12,), (15,)]


def test_a_later_export_wins_even_with_the_same_sets_and_the_views_show_its_sets(tmp_path: Path) -> None:
    """A typo fixed in the app (82.5 -> 85 kg) reaches the views through the next export, even
    when the earlier export is ingested after it: its later last workout marks it the later one."""
    earlier = STRONG_HEADER + strong_row("2026-09-08 07:00:00", "Lower A", "Squat (Barbell)", "1", "82.5", "5")
    later = earlier.replace("82.5", "85") + strong_row("2026-09-12 07:00:00", "Lower C", "Squat (Barbell)", "1",
                                                        "85", "5")
    (tmp_path / "later.csv").write_text(later)
    (tmp_path / "earlier.csv").write_text(earlier)
    db = tmp_path / "s.duckdb"
    run_ingest(db, tmp_path / "later.csv")
    run_ingest(db, tmp_path / "earlier.csv")
    con = open_for_write(db, BERLIN)
    try:
        build_strength_models(con)
        assert con.execute("SELECT weight_kg FROM strength_sets").fetchall() == [(85.0,), (85.0,)]
        assert con.execute("SELECT source_file FROM strength_sessions").fetchall() == [
            (str(tmp_path / "later.csv"),)] * 2
        assert con.execute("SELECT status FROM ingest_log WHERE file LIKE '%earlier.csv'").fetchall() == [
            ("duplicate",)]
    finally:
        con.close()


# --- 2. one implausible row is skipped, the rest of the export loads --------------------------

def _cumulative_with_bad_rows() -> str:
    good = [strong_row(f"2026-0{m}-0{d} 07:00:00", "Legs", "Squat (Barbell)", "1", "80", "5")
            for m in (3, 4, 5) for d in (1, 3, 5)]
    bad = [
        strong_row("2026-06-01 07:00:00", "Cardio", "Jump Rope", "1", "0", "1200"),
        strong_row("1989-03-01 07:00:00", "Old", "Squat (Barbell)", "1", "80", "5"),
        strong_row("1989-03-01 07:00:00", "Old", "Squat (Barbell)", "2", "80", "5"),
        strong_row("2026-06-03 07:00:00", "Legs", "Leg Press", "1", "12000", "5"),
    ]
    return STRONG_HEADER + "".join(good[:4] + bad[:1] + good[4:] + bad[1:])


def test_an_implausible_row_is_skipped_with_its_line_and_the_rest_loads(tmp_path: Path) -> None:
    result = strong.parse(_cumulative_with_bad_rows().encode(), "strong.csv", CTX)
    assert len(result.sessions) == 9
    assert result.skipped_rows == [
        "line 6: 1200 Reps is implausible (0-1000)",
        "line 12: Date 1989-03-01 is implausible (before 1990 or from 2100 on)",
        "line 13: Date 1989-03-01 is implausible (before 1990 or from 2100 on)",
        "line 14: Weight 12000 kg is implausible (-200 to 1000 kg)",
    ]
    (tmp_path / "strong.csv").write_text(_cumulative_with_bad_rows())
    db = tmp_path / "s.duckdb"
    summary = run_ingest(db, tmp_path / "strong.csv")
    reason = ("4 rows skipped: line 6: 1200 Reps is implausible (0-1000); lines 12-13 (2 rows): Date 1989-03-01 "
              "is implausible (before 1990 or from 2100 on); line 14: Weight 12000 kg is implausible (-200 to 1000 kg)")
    assert rows(db, "SELECT status, reason, sessions FROM ingest_log") == [("loaded", reason, 9)]
    assert (summary.new, summary.quarantined, summary.loaded_with_reasons) == (
        1, 0, [(str(tmp_path / "strong.csv"), reason)])


def test_a_file_of_mostly_bad_rows_is_still_quarantined() -> None:
    data = STRONG_HEADER + "".join(strong_row("2026-06-01 07:00:00", "L", "Squat", "1", "80", r) for r in
                                   ("5", "2000", "3000"))
    with pytest.raises(QuarantineError) as err:
        strong.parse(data.encode(), "strong.csv", CTX)
    assert str(err.value) == "2 of 3 rows unreadable, first line 3: 2000 Reps is implausible (0-1000)"


def test_an_assisted_exercise_keeps_its_negative_weight_as_logged() -> None:
    data = STRONG_HEADER + strong_row("2026-06-01 07:00:00", "Pull", "Pull Up (Assisted)", "1", "-20", "8")
    (session,) = strong.parse(data.encode(), "strong.csv", CTX).sessions
    assert [(s.weight_kg, s.reps) for s in session.sets] == [(-20.0, 8)]


def test_the_reason_for_many_skipped_rows_stays_bounded() -> None:
    entries = [f"line {i}: Reps {1000 + i} is implausible (0-1000)" for i in range(2, 60)]
    reason = skipped_reason(entries)
    assert len(reason) <= MAX_REASON_CHARS
    assert reason.startswith("58 rows skipped: line 2: Reps 1002 is implausible (0-1000); line 3: ")
    assert reason.endswith(" more")


# --- 3. two different logs merge only when their starts are within 30 minutes ----------------

def _session(start: datetime, minutes: int, exercise: str, n: int = 3) -> StrengthSession:
    return StrengthSession("Gym", start, start + timedelta(minutes=minutes),
                           [StrengthSet(i, exercise, "working", 8, 40.0) for i in range(n)])


def _load(con: duckdb.DuckDBPyConnection, name: str, result: ParseResult) -> None:
    load_result(con, SourceFile(name, name * 4, result.format, "me"), result)


def test_overlapping_strong_and_hevy_sessions_stay_apart_unless_their_starts_are_near(tmp_path: Path) -> None:
    con = open_for_write(tmp_path / "m.duckdb", BERLIN)
    try:
        t0 = utc(2026, 9, 8, 5, 0)
        _load(con, "strong.csv", ParseResult("strong_csv", sessions=[_session(t0, 120, "Back Squat"),
                                                                      _session(t0 + timedelta(days=2), 60, "Squat")]))
        _load(con, "hevy.csv", ParseResult("hevy_csv", sessions=[
            _session(t0 + timedelta(minutes=45), 60, "Bench Press"),  # overlaps, starts 45 min later
            _session(t0 + timedelta(days=2, minutes=20), 60, "Squat", n=4)]))  # starts 20 min later
        # a watch session overlapping the long Strong workout still merges (the views take its
        # times: stg_strength_sessions, tests/test_strength_v2.py)
        watch = StrengthSession(None, t0 + timedelta(minutes=2), t0 + timedelta(minutes=118), [])
        _load(con, "watch.fit", ParseResult("fit", sessions=[watch]))
        got = con.execute("""SELECT source_format, start_utc, duplicate_of IS NULL FROM raw.strength_sessions
                             ORDER BY start_utc, source_format""").fetchall()
        assert got == [("strong_csv", t0, True), ("fit", t0 + timedelta(minutes=2), False),
                       ("hevy_csv", t0 + timedelta(minutes=45), True),
                       ("strong_csv", t0 + timedelta(days=2), False),
                       ("hevy_csv", t0 + timedelta(days=2, minutes=20), True)]
    finally:
        con.close()


# --- 4. no file content in a reason ----------------------------------------------------------

def test_an_unknown_csv_header_is_described_not_quoted() -> None:
    passwd = b"root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
    with pytest.raises(QuarantineError) as err:
        parse(passwd, "users.csv", "csv", CTX)
    assert str(err.value) == "unknown CSV header: not a Strong or Hevy export or runlift strength log (1 column)"
    with pytest.raises(QuarantineError) as err:
        hevy.parse(b"secret,token,user\nhunter2,abc,me\n", "x.csv", CTX)
    assert str(err.value) == "unknown CSV header: not a Hevy export (3 columns)"
    bad = STRONG_HEADER + strong_row("2026-06-01 07:00:00", "L", "Squat", "1", "p4ssw0rd", "5")
    with pytest.raises(QuarantineError) as err:
        strong.parse(bad.encode(), "strong.csv", CTX)
    assert str(err.value) == "line 2: Weight is not a number"


# --- 5. inside a Strava export, its activities.csv title and type win -------------------------

def test_the_strava_title_and_type_win_over_a_gpx_members_own(tmp_path: Path) -> None:
    t0 = utc(2026, 5, 4, 5, 0)
    listing = ("Activity ID,Activity Date,Activity Name,Activity Type,Filename\n"
               '1,"May 4, 2026",6x800,Run,activities/1.gpx.gz\n'
               '2,"May 5, 2026",Commute,Ride,activities/2.gpx\n'
               '3,"May 6, 2026",,Workout,activities/3.gpx\n')
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("activities.csv", listing)
        zf.writestr("activities/1.gpx.gz", gzip.compress(gpx_run(t0, points=60, name="Morning Run").encode()))
        zf.writestr("activities/2.gpx", gpx_run(t0 + timedelta(days=1), points=60, name="Morning Run").encode())
        zf.writestr("activities/3.gpx", gpx_run(t0 + timedelta(days=2), points=60, name="Evening Run").encode())
    db = tmp_path / "z.duckdb"
    run_ingest(db, archive)
    assert rows(db, "SELECT title, sport FROM raw.activities ORDER BY start_utc") == [
        ("6x800", "running"), ("Commute", "cycling"), ("Evening Run", "running")]  # no title, no sport: the file's


# --- 6. duration-only sets are kept ------------------------------------------------------------

def test_timed_sets_are_kept_with_their_duration_and_no_reps(tmp_path: Path) -> None:
    data = STRONG_HEADER + "".join([
        strong_row("2026-09-08 07:00:00", "Core", "Plank", "1", "0", "0", "60"),
        strong_row("2026-09-08 07:00:00", "Core", "Dead Hang", "1", "10", "0", "30"),
        strong_row("2026-09-08 07:00:00", "Core", "Back Squat (Barbell)", "1", "100", "3"),
        '2026-09-08 07:00:00,"Core",50m,"Rowing (Machine)",1,0,0,2000,480,,,\n',  # cardio: a distance
    ])
    (session,) = strong.parse(data.encode(), "strong.csv", CTX).sessions
    assert [(s.exercise, s.reps, s.weight_kg, s.duration_s) for s in session.sets] == [
        ("Plank", None, 0.0, 60.0), ("Dead Hang", None, 10.0, 30.0), ("Back Squat (Barbell)", 3, 100.0, None)]
    hevy_data = ('title,start_time,end_time,description,exercise_title,superset_id,exercise_notes,set_index,'
                 'set_type,weight_kg,reps,distance_km,duration_seconds,rpe\n'
                 'Core,"8 Sep 2026, 07:00","8 Sep 2026, 07:30",,Plank,,,0,normal,,,,45,\n'
                 'Core,"8 Sep 2026, 07:00","8 Sep 2026, 07:30",,Treadmill,,,0,normal,,,1.2,480,\n')
    (core,) = hevy.parse(hevy_data.encode(), "hevy.csv", CTX).sessions
    assert [(s.exercise, s.reps, s.duration_s) for s in core.sets] == [("Plank", None, 45.0)]
    # in the models: a working set of no reps, never heavy, with no e1RM
    con = open_for_write(tmp_path / "t.duckdb", BERLIN)
    try:
        _load(con, "strong.csv", ParseResult("strong_csv", sessions=[session]))
        build_strength_models(con)
        got = con.execute("""SELECT exercise_raw, pattern, reps, duration_s, is_heavy, e1rm_kg IS NULL
                             FROM strength_sets ORDER BY set_index""").fetchall()
        assert got[:2] == [("Plank", "core", None, 60.0, False, True), ("Dead Hang", "upper", None, 30.0, False, True)]
    finally:
        con.close()


def test_is_strength_set_rules() -> None:
    assert csv_common.is_strength_set(None, None, 60.0, None)  # a plank
    assert not csv_common.is_strength_set(None, None, 480.0, 1.2)  # a treadmill: cardio
    assert not csv_common.is_strength_set(None, 0, 0.0, 0.0)  # nothing logged
