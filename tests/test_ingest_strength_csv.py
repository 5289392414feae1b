"""Strength-log CSV parsers (Strong, Hevy, simple CSV), their shared helpers and the exercise table."""

from __future__ import annotations

import codecs
import csv
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pipeline.parsers as parsers
from pipeline.exercises import ExerciseInfo, classify, load_rules
from pipeline.parsers import csv_common, hevy, simple_csv, strong
from pipeline.parsers.records import ParseContext, ParseResult, QuarantineError

FIXTURES = Path(__file__).resolve().parent / "fixtures"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
BERLIN = ZoneInfo("Europe/Berlin")
LB = 0.45359237


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def ctx(**kwargs: object) -> ParseContext:
    return ParseContext(**{"timezone": "Europe/Berlin", **kwargs})  # type: ignore[arg-type]


def all_sets(result: ParseResult) -> list:
    return [s for session in result.sessions for s in session.sets]


def csv_bytes(text: str) -> bytes:
    return "\n".join(line.strip() for line in text.strip().splitlines()).encode()


# --- Strong, classic comma-separated export -------------------------------------------------

STRONG_CLASSIC = csv_bytes("""
Date,Workout Name,Duration,Exercise Name,Set Order,Weight,Reps,Distance,Seconds,Notes,Workout Notes,RPE
2026-09-08 07:00:00,"Lower A",1h 5m,"Squat (Barbell)",W,95.0,8,0,0,"","Felt good",
2026-09-08 07:00:00,"Lower A",1h 5m,"Squat (Barbell)",1,185.0,5,0,0,,,8
2026-09-08 07:00:00,"Lower A",1h 5m,"Squat (Barbell)",2,185.0,5,0,0,,,8.5
2026-09-08 07:00:00,"Lower A",1h 5m,"Squat (Barbell)",Rest Timer,0,0,0,120,,,
2026-09-08 07:00:00,"Lower A",1h 5m,"Squat (Barbell)",D,135.0,8,0,0,,,
2026-09-08 07:00:00,"Lower A",1h 5m,"Lunge (Dumbbell)",1,40.0,10,0,0,"each leg, slow",,
2026-09-08 07:00:00,"Lower A",1h 5m,"Lunge (Dumbbell)",F,40.0,12,0,0,,,10
2026-09-08 07:00:00,"Lower A",1h 5m,"Cycling (Indoor)",1,0,0,5.0,600,,,
2026-09-10 18:30:00,"Bike only",45m,"Cycling",1,0,0,15.0,2700,,,
2026-09-14 00:30:00,"Late",1h,"Push Up",1,0,20,0,0,,,
""")


def test_strong_classic_sets_types_and_units() -> None:
    result = strong.parse(STRONG_CLASSIC, "strong.csv", ctx(strong_weight_unit="lb"))
    assert result.format == "strong_csv"
    # the cardio-only "Bike only" workout is not a strength session
    assert [s.title for s in result.sessions] == ["Lower A", "Late"]
    lower = result.sessions[0]
    assert [s.set_type for s in lower.sets] == ["warmup", "working", "working", "drop", "working", "failure"]
    assert [s.set_index for s in lower.sets] == list(range(6))
    assert [s.reps for s in lower.sets] == [8, 5, 5, 8, 10, 12]
    assert lower.sets[1].weight_kg == pytest.approx(185 * LB)
    assert lower.sets[0].weight_kg == pytest.approx(43.0913)
    assert [s.rpe for s in lower.sets] == [None, 8.0, 8.5, None, None, 10.0]
    assert lower.sets[4].exercise == "Lunge (Dumbbell)"  # raw name; the loader classifies
    assert lower.notes == "Felt good"


def test_strong_classic_times() -> None:
    result = strong.parse(STRONG_CLASSIC, "strong.csv", ctx())
    lower, late = result.sessions
    assert lower.start_utc == utc(2026, 9, 8, 5, 0)  # 07:00 CEST
    assert lower.end_utc == utc(2026, 9, 8, 6, 5)  # + "1h 5m"
    # 00:30 on Monday 14 September in Berlin is still Sunday in UTC
    assert late.start_utc == utc(2026, 9, 13, 22, 30)
    assert late.end_utc - late.start_utc == timedelta(hours=1)
    assert late.sets[0].weight_kg == 0.0 and late.sets[0].reps == 20


def test_strong_weight_unit_kg_is_default() -> None:
    sets = all_sets(strong.parse(STRONG_CLASSIC, "strong.csv", ctx()))
    assert sets[1].weight_kg == 185.0


# --- Strong, semicolon export with units and the newer export -------------------------------

SEMICOLON_HEADER = (
    "Date;Workout Name;Exercise Name;Set Order;Weight;Weight Unit;Reps;RPE;Distance;Distance Unit;"
    "Seconds;Notes;Workout Notes;Workout Duration"
)
STRONG_SEMICOLON = csv_bytes(SEMICOLON_HEADER + """
2026-09-09 17:30:00;"Upper";"Bench Press (Barbell)";1;60;kg;8;;;;0;"";"";50m
2026-09-09 17:30:00;"Upper";"Bench Press (Barbell)";2;62,5;kg;6;9;;;0;;;50m
2026-09-09 17:30:00;"Upper";"Dumbbell Row";1;50;lbs;10;;;;0;;;50m
2026-09-09 17:30:00;"Upper";"Running";1;0;;0;;3;km;900;;;50m
2026-09-11 06:00:00;"Legs";"Leg Press";1;100;lbs;12;;;;0;;;
""")


def test_strong_semicolon_mixed_units() -> None:
    # the configured unit must not override the unit each row carries
    result = strong.parse(STRONG_SEMICOLON, "strong.csv", ctx(strong_weight_unit="lb"))
    upper, legs = result.sessions
    assert [s.weight_kg for s in upper.sets] == pytest.approx([60.0, 62.5, 50 * LB])
    assert [s.exercise for s in upper.sets] == ["Bench Press (Barbell)", "Bench Press (Barbell)", "Dumbbell Row"]
    assert upper.sets[1].rpe == 9.0
    assert upper.start_utc == utc(2026, 9, 9, 15, 30)
    assert upper.end_utc == utc(2026, 9, 9, 16, 20)
    # no duration logged: 3 minutes per set
    assert legs.end_utc - legs.start_utc == timedelta(seconds=csv_common.SECONDS_PER_SET)
    assert legs.sets[0].weight_kg == pytest.approx(100 * LB)


NEWER_HEADER = (
    "Workout #,Date,Workout Name,Duration (sec),Exercise Name,Set Order,Weight (lbs),Reps,RPE,"
    "Distance (meters),Seconds,Notes,Workout Notes"
)
STRONG_NEWER = csv_bytes(NEWER_HEADER + """
1,2026-09-15 18:00:00,"Push",3600,"Bench Press (Barbell)",W,95,10,,,,,
1,2026-09-15 18:00:00,"Push",3600,"Bench Press (Barbell)",1,185,8,8,,,,
1,2026-09-15 18:00:00,"Push",3600,"Bench Press (Barbell)",Rest Timer,,,,,120,,
1,2026-09-15 18:00:00,"Push",3600,"Bench Press (Barbell)",2,185,7,8.5,,,,
""")


def test_strong_newer_export_with_unit_in_header() -> None:
    (push,) = strong.parse(STRONG_NEWER, "strong.csv", ctx(strong_weight_unit="kg")).sessions
    assert [s.set_type for s in push.sets] == ["warmup", "working", "working"]
    assert push.sets[1].weight_kg == pytest.approx(185 * LB)
    assert push.end_utc - push.start_utc == timedelta(hours=1)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1h 5m", 3900), ("45m", 2700), ("1h", 3600), ("26s", 26), ("2h 0m 30s", 7230), ("3600", 3600),
     ("1:05:00", 3900), ("", None), ("soon", None)],
)
def test_strong_durations(text: str, seconds: float | None) -> None:
    assert strong.parse_duration(text) == seconds


def test_strong_implausible_duration_is_estimated() -> None:
    data = csv_bytes("""
    Date,Workout Name,Duration,Exercise Name,Set Order,Weight,Reps,Distance,Seconds,Notes,Workout Notes,RPE
    2026-09-08 07:00:00,"Forgot to stop",83h 31m,"Deadlift (Barbell)",1,100,5,0,0,,,
    2026-09-08 07:00:00,"Forgot to stop",83h 31m,"Deadlift (Barbell)",2,100,5,0,0,,,
    """)
    (session,) = strong.parse(data, "strong.csv", ctx()).sessions
    assert session.end_utc - session.start_utc == timedelta(minutes=6)


def test_strong_bad_values_skip_the_row_with_line_number() -> None:
    # a bad row is skipped with its line number, the rest loads (tests/test_strength_logs_trust.py)
    bad_order = STRONG_CLASSIC.replace(b",W,95.0", b",X,95.0")
    result = strong.parse(bad_order, "strong.csv", ctx())
    assert result.skipped_rows == ["line 2: unknown Set Order (expected a number, W, D or F)"]
    assert len(result.sessions[0].sets) == 5
    bad_date = STRONG_CLASSIC.replace(b"2026-09-14 00:30:00", b"14/09/2026 00:30")
    result = strong.parse(bad_date, "strong.csv", ctx())
    assert result.skipped_rows == ["line 11: Date is not a date/time"]
    assert [s.title for s in result.sessions] == ["Lower A"]
    bad_weight = STRONG_CLASSIC.replace(b"185.0,5", b"heavy,5", 1)
    assert strong.parse(bad_weight, "strong.csv", ctx()).skipped_rows == ["line 3: Weight is not a number"]


# --- Hevy -----------------------------------------------------------------------------------


def test_hevy_kg_fixture() -> None:
    result = hevy.parse((FIXTURES / "hevy_small.csv").read_bytes(), "hevy_small.csv", ctx())
    assert result.format == "hevy_csv"
    lower, upper = result.sessions
    assert (lower.title, upper.title) == ("Lower A", "Upper B")
    assert lower.start_utc == utc(2026, 10, 6, 16, 0)  # "6 Oct 2026, 18:00" CEST
    assert lower.end_utc == utc(2026, 10, 6, 16, 50)
    assert lower.notes == "Easy legs after the morning run"
    # the treadmill cool-down has a distance and neither reps nor load: not a set
    assert [s.exercise for s in lower.sets] == [
        "Squat (Barbell)", "Squat (Barbell)", "Squat (Barbell)", "Bulgarian Split Squat (Dumbbell)", "Box Jump"]
    assert [s.set_type for s in lower.sets] == ["warmup", "working", "working", "working", "working"]
    assert [s.weight_kg for s in lower.sets] == [40.0, 80.0, 80.0, 16.0, None]
    assert [s.rpe for s in lower.sets] == [None, 7.5, 8.0, None, None]
    assert [s.set_type for s in upper.sets] == ["working", "working", "failure", "drop", "working"]
    assert [s.set_index for s in upper.sets] == [0, 1, 2, 3, 4]
    # the timed plank is a set of 60 s and no reps
    assert (upper.sets[4].exercise, upper.sets[4].reps, upper.sets[4].duration_s) == ("Plank", None, 60.0)
    assert upper.sets[0].weight_kg is None and upper.sets[0].reps == 8
    assert upper.start_utc == utc(2026, 10, 8, 5, 15)


HEVY_LBS_ISO = csv_bytes("""
title,start_time,end_time,description,exercise_title,superset_id,exercise_notes,set_index,set_type,weight_lbs,reps,distance_miles,duration_seconds,rpe
Legs,2026-10-06T18:00:00,2026-10-06T19:00:00,,Romanian Deadlift (Barbell),,,0,normal,135,10,,,
Legs,2026-10-06T18:00:00,2026-10-06T19:00:00,,Romanian Deadlift (Barbell),,,1,warmup,95,10,,,
Pull,2026-10-07T07:00:00+02:00,2026-10-07T07:45:00+02:00,,Chin Up,,,0,normal,25,6,,,9
Core,2026-10-08T06:00:00Z,2026-10-08T06:30:00Z,,Farmer Walk,,,0,normal,100,,0.03,40,
""")


def test_hevy_lbs_and_iso_times() -> None:
    legs, pull, core = hevy.parse(HEVY_LBS_ISO, "hevy.csv", ctx()).sessions
    assert [s.weight_kg for s in legs.sets] == pytest.approx([135 * LB, 95 * LB])
    assert legs.start_utc == utc(2026, 10, 6, 16, 0)  # naive ISO: Berlin local
    assert legs.end_utc == utc(2026, 10, 6, 17, 0)
    assert pull.start_utc == utc(2026, 10, 7, 5, 0)  # explicit offset wins
    assert pull.sets[0].rpe == 9.0
    assert core.start_utc == utc(2026, 10, 8, 6, 0)
    # a loaded carry has no reps but is a strength set; its time is kept
    assert core.sets[0].reps is None and core.sets[0].duration_s == 40.0


@pytest.mark.parametrize(
    ("override", "start"),
    [(None, utc(2026, 10, 6, 16, 0)), ("local", utc(2026, 10, 6, 16, 0)), ("UTC", utc(2026, 10, 6, 18, 0))],
)
def test_hevy_timezone_override(override: str | None, start: datetime) -> None:
    result = hevy.parse((FIXTURES / "hevy_small.csv").read_bytes(), "hevy.csv", ctx(hevy_timezone=override))
    assert result.sessions[0].start_utc == start


def test_hevy_unknown_set_type() -> None:
    data = (FIXTURES / "hevy_small.csv").read_bytes().replace(b'"dropset"', b'"superset"')
    assert hevy.parse(data, "hevy.csv", ctx()).skipped_rows == [
        "line 11: unknown set_type (expected normal, warmup, failure or dropset)"]


# --- simple CSV -----------------------------------------------------------------------------

SIMPLE = csv_bytes("""
date,time,exercise,set,reps,weight_kg,set_type,rpe,duration_min,title
2026-09-08,07:00,Back Squat,1,8,40,warmup,,45,Lower A
2026-09-08,07:00,Back Squat,2,5,80,,8,,Lower A
2026-09-08,07:00,Bulgarian Split Squat,1,8,20,working,,,Lower A
2026-09-08,07:00,Pogo Hops,1,20,,,,,Lower A
2026-09-10,18:15:30,Push Up,1,15,,failure,10,,
2026-09-10,18:15:30,Push Up,2,0,,,,,
""")


def test_simple_csv() -> None:
    result = simple_csv.parse(SIMPLE, "log.csv", ctx())
    assert result.format == "simple_csv"
    lower, push = result.sessions
    assert lower.title == "Lower A" and push.title is None
    assert [s.set_type for s in lower.sets] == ["warmup", "working", "working", "working"]
    assert [s.weight_kg for s in lower.sets] == [40.0, 80.0, 20.0, None]
    assert lower.sets[1].rpe == 8.0
    assert lower.start_utc == utc(2026, 9, 8, 5, 0)
    assert lower.end_utc == utc(2026, 9, 8, 5, 45)
    # no duration_min: 3 minutes per set; the 0-rep, unloaded row is not a set
    assert len(push.sets) == 1 and push.sets[0].set_type == "failure"
    assert push.start_utc == utc(2026, 9, 10, 16, 15, 30)
    assert push.end_utc - push.start_utc == timedelta(minutes=3)


# --- DST ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        # spring forward: 02:30 does not exist; moved forward by the gap (= 03:30 CEST)
        ("2026-03-29,02:30", utc(2026, 3, 29, 1, 30)),
        # fall back: 02:30 happens twice; the first occurrence (still CEST) is taken
        ("2026-10-25,02:30", utc(2026, 10, 25, 0, 30)),
        ("2026-10-25,01:59", utc(2026, 10, 24, 23, 59)),
        ("2026-10-25,03:00", utc(2026, 10, 25, 2, 0)),
        # 00:30 on Monday 5 October is Sunday in UTC
        ("2026-10-05,00:30", utc(2026, 10, 4, 22, 30)),
    ],
)
def test_dst_naive_local_times(local: str, expected: datetime) -> None:
    data = f"date,time,exercise,reps,weight_kg\n{local},Squat,5,100\n".encode()
    (session,) = simple_csv.parse(data, "log.csv", ctx()).sessions
    assert session.start_utc == expected


def test_dst_same_policy_in_strong_and_hevy() -> None:
    strong_data = STRONG_CLASSIC.replace(b"2026-09-14 00:30:00", b"2026-03-29 02:30:00")
    assert strong.parse(strong_data, "s.csv", ctx()).sessions[0].start_utc == utc(2026, 3, 29, 1, 30)
    hevy_data = HEVY_LBS_ISO.replace(b"2026-10-06T18:00:00", b"2026-10-25T02:30:00")
    legs = next(s for s in hevy.parse(hevy_data, "h.csv", ctx()).sessions if s.title == "Legs")
    assert legs.start_utc == utc(2026, 10, 25, 0, 30)


def test_local_to_utc_is_aware_utc() -> None:
    value = csv_common.local_to_utc(datetime(2026, 3, 29, 2, 30), BERLIN)
    assert value == utc(2026, 3, 29, 1, 30) and value.utcoffset() == timedelta(0)
    assert value.astimezone(BERLIN).replace(tzinfo=None) == datetime(2026, 3, 29, 3, 30)
    aware = datetime(2026, 3, 29, 2, 30, tzinfo=UTC)
    assert csv_common.local_to_utc(aware, BERLIN) == aware


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31)),
    st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "UTC"]),
)
def test_local_to_utc_dst_policy(local: datetime, zone_name: str) -> None:
    zone = ZoneInfo(zone_name)
    chosen = csv_common.local_to_utc(local, zone)
    other = local.replace(tzinfo=zone, fold=1).astimezone(UTC)
    back = chosen.astimezone(zone).replace(tzinfo=None)
    if back == local:  # the time exists: the first of its (one or two) occurrences
        assert chosen <= other
    else:  # in a spring-forward gap: moved forward by exactly the gap
        assert back - local == chosen - other > timedelta(0)


# --- sniffing, decoding, dispatch -----------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (STRONG_CLASSIC, "strong_csv"),
        (STRONG_SEMICOLON, "strong_csv"),
        (STRONG_NEWER, "strong_csv"),
        ((FIXTURES / "hevy_small.csv").read_bytes(), "hevy_csv"),
        (HEVY_LBS_ISO, "hevy_csv"),
        (SIMPLE, "simple_csv"),
        (b"\xef\xbb\xbf" + SIMPLE, "simple_csv"),
        (SIMPLE.replace(b",", b"\t"), "simple_csv"),
        (b"sep=;\n" + STRONG_SEMICOLON, "strong_csv"),
        (b"\n\n" + STRONG_CLASSIC.replace(b"\n", b"\r\n"), "strong_csv"),
        (codecs.BOM_UTF16_LE + SIMPLE.decode().encode("utf-16-le"), "simple_csv"),
        (b"Date,Distance,Time\n2026-01-01,5,30:00\n", None),
        (b"", None),
    ],
)
def test_sniff(data: bytes, fmt: str | None) -> None:
    assert csv_common.sniff(data) == fmt


def test_unknown_header_is_quarantined() -> None:
    data = b"Activity Date,Activity Name,Distance,Elapsed Time,Moving Time,Max Speed,Average Speed,Max HR\n1,2\n"
    with pytest.raises(QuarantineError) as err:
        parsers.parse(data, "x.csv", "csv", ctx())
    # what was expected, never the header itself (file content)
    assert str(err.value) == "unknown CSV header: not a Strong or Hevy export or runlift strength log (8 columns)"
    with pytest.raises(QuarantineError, match="unknown CSV header"):
        strong.parse(SIMPLE, "log.csv", ctx())  # a parser refuses another format's file


def test_dispatch_picks_the_csv_parser_and_bom_semicolon_work() -> None:
    data = b"\xef\xbb\xbf" + SIMPLE.replace(b",", b";")
    result = parsers.parse(data, "log.csv", parsers.detect_format("log.csv", data), ctx())
    assert result.format == "simple_csv" and len(all_sets(result)) == 5
    assert parsers.parse(STRONG_CLASSIC, "s.csv", "csv", ctx()).format == "strong_csv"


def test_cp1252_names_and_empty_file() -> None:
    data = SIMPLE.replace(b"Push Up", "Liegestütz".encode("cp1252"))
    assert all_sets(simple_csv.parse(data, "log.csv", ctx()))[-1].exercise == "Liegestütz"
    with pytest.raises(QuarantineError, match="empty CSV file"):
        simple_csv.parse(b"\n \n", "log.csv", ctx())


# --- exercise classification ----------------------------------------------------------------

CLASSIFY_CASES = [
    # Strong / Hevy spellings
    ("Squat (Barbell)", "back squat", False, False),
    ("Bulgarian Split Squat (Dumbbell)", "bulgarian split squat", True, False),
    ("Split Squat (Dumbbell)", "split squat", True, False),
    ("Lunge (Dumbbell)", "lunge", True, False),
    ("Reverse Lunge (Barbell)", "reverse lunge", True, False),
    ("Lateral Lunge", "lateral lunge", True, False),
    ("Step-Up (Dumbbell)", "step up", True, False),
    ("Pistol Squat", "pistol squat", True, False),
    ("Single Leg Romanian Deadlift (Dumbbell)", "single leg deadlift", True, False),
    ("Single-Leg Hip Thrust", "single leg hip thrust", True, False),
    ("Bent Over One Arm Row (Dumbbell)", "bent over one arm row", True, False),
    ("Single Arm Lat Pulldown (Cable)", "single arm lat pulldown", True, False),
    ("Box Jump", "box jump", False, True),
    ("Jump Squat", "jump squat", False, True),
    ("Jump Lunge", "split jump", True, True),
    ("Broad Jump", "broad jump", False, True),
    ("Tuck Jump", "tuck jump", False, True),
    ("Pogo Hops", "pogo jump", False, True),
    ("Bounding", "bounding", False, True),
    ("A-Skips", "skipping", False, True),
    ("Single-Leg Box Jump", "box jump", True, True),
    ("Bench Press (Barbell)", "bench press", False, False),
    ("Triceps Pushdown (Cable - Straight Bar)", "triceps pushdown", False, False),
    ("Iso-Lateral Chest Press (Machine)", "iso lateral chest press", False, False),
    ("Lateral Raise (Dumbbell)", "lateral raise", False, False),
    ("Split Jerk (Barbell)", "split jerk", False, False),
    ("Glute Bridge (Single Leg)", "glute bridge", True, False),
    # FIT-style names
    ("bulgarian_split_squat", "bulgarian split squat", True, False),
    ("single_leg_deadlift", "single leg deadlift", True, False),
    ("dumbbell_split_squat", "split squat", True, False),
    ("weighted_step_up", "step up", True, False),
    ("barbell_back_squat", "back squat", False, False),
    ("depth_jump", "depth jump", False, True),
    ("drop_jump", "drop jump", False, True),
    ("squat_jump", "jump squat", False, True),
    ("single_leg_hip_thrust", "single leg hip thrust", True, False),
    ("Cable Crossover", "cable crossover", False, False),
]


@pytest.mark.parametrize(("name", "canonical", "unilateral", "plyometric"), CLASSIFY_CASES)
def test_classify(name: str, canonical: str, unilateral: bool, plyometric: bool) -> None:
    assert classify(name)[:3] == ExerciseInfo(canonical, unilateral, plyometric)[:3]  # patterns: test_exercises.py


def test_exercise_table_is_valid_and_cached() -> None:
    rules = load_rules()
    assert len(rules) > 40
    assert classify("Box Jump") is classify("Box Jump")


# --- real Strong exports from the shared corpus ---------------------------------------------


def _corpus_strong_files() -> list[str]:
    manifest = CORPUS / "MANIFEST.tsv"
    if not manifest.exists():
        return []
    with manifest.open(encoding="utf-8", newline="") as fh:
        return [row["file"] for row in csv.DictReader(fh, delimiter="\t") if row["format"] == "strong_csv"]


requires_corpus = pytest.mark.skipif(not (CORPUS / "MANIFEST.tsv").exists(), reason="shared corpus not present")
# Pinned from the pandas oracle below so a silent change in either shows up.
CORPUS_EXPECTED = {
    # sets: the 20 timed "Aerobics" rows and the 6 timed planks are sets since issue 12
    "strength/strongappanalytics__strong.csv": {"rows": 1903, "workouts": 86, "sessions": 85, "sets": 1902},
    "strength/strongcharts__strong.csv": {"rows": 2078, "workouts": 129, "sessions": 129, "sets": 2078},
}


def _oracle(path: Path) -> tuple[pd.DataFrame, pd.Series]:
    """Strength rows and a per-workout flag, straight from the raw CSV with pandas."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    num = {c: pd.to_numeric(df[c], errors="coerce").fillna(0) for c in ("Weight", "Reps", "Distance", "Seconds")}
    # cardio: neither reps nor load, and a distance or nothing; time only is a timed set (plank)
    cardio = (num["Weight"] == 0) & (num["Reps"] == 0) & ((num["Distance"] > 0) | (num["Seconds"] <= 0))
    rest = df["Set Order"].str.lower().eq("rest timer") | df["Exercise Name"].str.lower().eq("rest timer")
    df["_weight"] = num["Weight"]
    df["_strength"] = ~cardio & ~rest
    return df, df.groupby(["Date", "Workout Name"])["_strength"].any()


@requires_corpus
@pytest.mark.parametrize("file", _corpus_strong_files() or ["(none)"])
def test_corpus_strong_counts(file: str) -> None:
    path = CORPUS / file
    df, workouts = _oracle(path)
    result = strong.parse(path.read_bytes(), path.name, ctx(strong_weight_unit="lb"))
    strength_rows = df[df["_strength"]]
    assert len(result.sessions) == int(workouts.sum())
    assert len(all_sets(result)) == len(strength_rows)
    assert sum(s.weight_kg or 0 for s in all_sets(result)) == pytest.approx(strength_rows["_weight"].sum() * LB)
    assert Counter(s.set_type for s in all_sets(result)) == {"working": len(strength_rows)}  # no W/D/F in these
    if pinned := CORPUS_EXPECTED.get(file):
        got = {"rows": len(df), "workouts": len(workouts), "sessions": len(result.sessions), "sets": len(strength_rows)}
        assert got == pinned

    local_starts = sorted(s.start_utc.astimezone(BERLIN).replace(tzinfo=None) for s in result.sessions)
    strength_dates = sorted(pd.to_datetime(strength_rows["Date"]).unique())
    assert local_starts[0] == strength_dates[0] and local_starts[-1] == strength_dates[-1]
    assert [s.start_utc for s in result.sessions] == sorted(s.start_utc for s in result.sessions)


@requires_corpus
def test_corpus_strong_date_ranges_and_durations() -> None:
    path = CORPUS / "strength" / "strongappanalytics__strong.csv"
    sessions = strong.parse(path.read_bytes(), path.name, ctx()).sessions
    first, last = sessions[0], sessions[-1]
    assert first.start_utc == utc(2020, 12, 30, 17, 51, 52)  # 18:51:52 CET
    assert first.end_utc - first.start_utc == timedelta(hours=2, minutes=38)
    assert last.start_utc == utc(2021, 9, 6, 16, 21, 27)  # 18:21:27 CEST
    # "83h 31m" / "42h 13m" are timers left running: estimated from the set count instead
    assert max(s.end_utc - s.start_utc for s in sessions) <= timedelta(seconds=csv_common.MAX_SESSION_S)

    charts = CORPUS / "strength" / "strongcharts__strong.csv"
    sessions = strong.parse(charts.read_bytes(), charts.name, ctx()).sessions
    assert (sessions[0].start_utc.date(), sessions[-1].start_utc.date()) == (
        datetime(2021, 2, 10).date(), datetime(2021, 12, 22).date())
    assert {s.notes for s in sessions if s.notes} == {"Super villain", "FitInn"}


def test_sniff_on_a_prefix_cut_inside_a_character() -> None:
    data = b"\xef\xbb\xbf" + STRONG_CLASSIC.replace(b"Late", "Spät".encode())
    cut = data[: data.index("ä".encode()) + 1]  # ends between the two bytes of "ä"
    assert csv_common.sniff(cut) == "strong_csv"
    assert csv_common.sniff(cut.removeprefix(b"\xef\xbb\xbf")) == "strong_csv"
