"""Contract v2 strength models and rules: rest_s from FIT set timing, Epley e1RM and % of the 42-day
best, heavy sets, session RPE load, plyometric contacts, weekly_strength and exercise_progress; the
rules program.not_heavy, program.missing_pattern, program.no_plyometrics, program.rushed_rest and
spacing.before_long_run.

Each rule case states a real training log in local time (tests/scenario.py), builds a real DuckDB
file and asserts the FULL flag list as (rule, date, severity), next to its nearest silent case.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import fitparse
import pytest

from pipeline.build import build
from pipeline.db import open_for_write
from pipeline.parsers import fit
from pipeline.parsers.records import Activity, ParseContext, ParseResult, StrengthSession, StrengthSet
from pipeline.rules.base import Flag
from pipeline.sources import SourceFile
from pipeline.writer import load_result
from tests.conftest import CORPUS
from tests.scenario import Scenario, sets, summary

D = date.fromisoformat
FIXTURE = Path(__file__).parent / "fixtures" / "fit" / "strength_sets.fit"
CORPUS_STRENGTH = CORPUS / "strength" / "jarkko__20474406937_ACTIVITY.fit"


def _build_with(sc: Scenario, tmp_path: Path, as_of: str, extra: list[ParseResult]) -> list[Flag]:
    """Scenario.build with more parsed files loaded first (a watch FIT next to the Hevy log)."""
    sc.con = open_for_write(tmp_path / "runlift.duckdb", sc.config)
    files = [*extra, ParseResult("gpx", activities=sc.activities), ParseResult("hevy_csv", sessions=sc.sessions)]
    for n, result in enumerate(files):
        if result.activities or result.sessions:
            sha = hashlib.sha256(f"extra{n}.{result.format}".encode()).hexdigest()
            load_result(sc.con, SourceFile(f"extra{n}.{result.format}", sha, result.format, "me"), result)
    return build(sc.con, sc.config, D(as_of)).flags


def timed(start: datetime, plan: list[tuple[StrengthSet, float, float]]) -> list[StrengthSet]:
    """Sets as a watch times them: (set, its duration_s, the rest after it in s), from ``start``."""
    out, clock = [], start
    for s, duration, rest in plan:
        out.append(replace(s, duration_s=duration, start_utc=clock))
        clock += timedelta(seconds=duration + rest)
    return out


# --- rest_s from FIT set timing -----------------------------------------------------------------

def test_rest_s_of_the_fixture_is_the_rest_between_its_active_sets(tmp_path):
    # scripts/make_fit_fixtures.py: sets of 40, 42, 55, 35 s, with rests of 90, 90 and 75 s after the first three
    result = fit.parse(FIXTURE.read_bytes(), FIXTURE.name, ParseContext())
    (session,) = result.sessions
    assert [s.duration_s for s in session.sets] == [40.0, 42.0, 55.0, 35.0]
    assert all(s.start_utc is not None and s.start_utc.tzinfo is not None for s in session.sets)
    sc = Scenario()
    _build_with(sc, tmp_path, "2026-12-01", [result])
    assert sc.query("SELECT set_index, exercise, rest_s FROM strength_sets ORDER BY set_index") == [
        (0, "leg press", None), (1, "leg press", 90.0), (2, "bulgarian split squat", 90.0), (3, "push up", 75.0)]


def test_rest_s_is_null_for_logs_that_do_not_time_sets(tmp_path):
    sc = Scenario().strength("2026-09-08", "18:00", 45)
    sc.build(tmp_path, "2026-09-14")
    assert sc.query("SELECT count(*), count(rest_s), count(start_utc) FROM strength_sets") == [(6, 0, 0)]


@pytest.mark.skipif(not CORPUS_STRENGTH.exists(), reason="shared corpus not present")
def test_rest_s_of_a_real_garmin_strength_file_matches_its_rest_entries(tmp_path):
    # independently decoded with stock fitparse: every set message in order, active and rest
    messages = [m.get_values() for m in fitparse.FitFile(str(CORPUS_STRENGTH)).get_messages("set")]
    active = [m for m in messages if m["set_type"] == "active"]
    expected = [None] + [(b["start_time"] - a["start_time"]).total_seconds() - a["duration"]
                         for a, b in zip(active, active[1:], strict=False)]
    rests = [m["duration"] if m["set_type"] == "rest" else None
             for m, _ in zip(messages, messages[1:], strict=False)]
    sc = Scenario()
    _build_with(sc, tmp_path, "2026-01-01", [fit.parse(CORPUS_STRENGTH.read_bytes(), "s.fit", ParseContext())])
    got = [r[0] for r in sc.query("SELECT rest_s FROM strength_sets ORDER BY set_index")]
    assert len(got) == len(active) > 30
    assert got[0] is None
    assert got[1:] == pytest.approx(expected[1:], abs=1e-3)
    # start_time has whole seconds, durations milliseconds: rest_s is the logged rest to within 1 s
    after_rest = [(g, rests[messages.index(a) - 1]) for g, a in zip(got, active, strict=True)
                  if messages.index(a) > 0 and rests[messages.index(a) - 1] is not None]
    assert len(after_rest) > 30
    assert all(abs(g - r) < 1.0 for g, r in after_rest)


# --- e1RM, % of the 42-day best, heavy --------------------------------------------------------

SQUAT_BLOCK = [("2026-08-03", 100.0, 5), ("2026-08-31", 90.0, 3), ("2026-09-13", 80.0, 10),
               ("2026-09-14", 95.0, 2)]


def test_e1rm_and_pct_against_the_best_of_the_42_days_ending_that_day(tmp_path):
    sc = Scenario()
    for on, kg, reps in SQUAT_BLOCK:
        sc.strength(on, "18:00", 45, sets=sets("Back Squat", 1, reps, weight_kg=kg, rpe=None)
                    + sets("Back Squat", 1, 12, weight_kg=kg, rpe=None)
                    + sets("Back Squat", 1, 5, weight_kg=kg * 2, rpe=None, set_type="warmup"))
    sc.build(tmp_path, "2026-09-21")
    rows = sc.query("""SELECT s.local_date, x.reps, x.set_type, x.e1rm_kg, x.pct_e1rm FROM strength_sets AS x
                       JOIN strength_sessions AS s USING (session_id) ORDER BY s.local_date, x.set_index""")
    # Epley: 100 x (1 + 5/30) = 116.67; 90 x 1.1 = 99; 80 x (1 + 10/30) = 106.67; 95 x (1 + 2/30) = 101.33.
    # 2026-09-13 still sees 2026-08-03 (41 days back), 2026-09-14 no longer does.
    e1rm = [100 * 35 / 30, 99.0, 80 * 40 / 30, 95 * 32 / 30]
    best = [e1rm[0], e1rm[0], e1rm[0], e1rm[2]]
    expected = []
    for (on, kg, reps), e, b in zip(SQUAT_BLOCK, e1rm, best, strict=True):
        expected += [(D(on), reps, "working", e, 100 * kg / b),
                     (D(on), 12, "working", None, 100 * kg / b),  # more than 10 reps: no estimate of its own
                     (D(on), 5, "warmup", None, 100.0)]  # a warm-up gives no estimate; twice the weight caps at 100
    assert [r[:3] for r in rows] == [r[:3] for r in expected]
    assert [r[3] for r in rows] == pytest.approx([r[3] for r in expected])
    assert [r[4] for r in rows] == pytest.approx([r[4] for r in expected])
    assert [round(r[4], 2) for r in rows[::3]] == [85.71, 77.14, 68.57, 89.06]


@pytest.mark.parametrize(("kg", "reps", "rpe", "heavy"), [
    (70.0, 6, None, True),    # exactly 70 % of the 100 kg e1RM at 6 reps
    (69.0, 6, None, False),   # 69 %
    (70.0, 7, None, False),   # 7 reps: over heavy_max_reps
    (50.0, 6, 8.0, True),     # RPE 8 at 6 reps
    (50.0, 6, 7.5, False),
    (50.0, 7, 9.0, False),    # RPE 9 at 7 reps
])
def test_is_heavy_by_pct_e1rm_or_rpe_at_heavy_max_reps(tmp_path, kg, reps, rpe, heavy):
    sc = Scenario()
    # 75 kg x 10 = an e1RM of exactly 100 kg
    sc.strength("2026-09-07", "18:00", 45, sets=sets("Back Squat", 1, 10, weight_kg=75.0, rpe=None))
    sc.strength("2026-09-09", "18:00", 45, sets=sets("Back Squat", 1, reps, weight_kg=kg, rpe=rpe))
    sc.build(tmp_path, "2026-09-14")
    assert sc.query("""SELECT x.is_heavy FROM strength_sets AS x JOIN strength_sessions AS s USING (session_id)
                       ORDER BY s.start_utc""") == [(False,), (heavy,)]


# --- session RPE, sRPE load, plyometric contacts, weekly_strength, exercise_progress -------------

def _watch_strength(start: datetime, minutes: float, n_sets: int) -> ParseResult:
    """A watch's record of a strength session: the activity and its sets, without weights or RPE."""
    end = start + timedelta(minutes=minutes)
    activity = Activity("strength", "strength_training", None, start, end, minutes * 60, minutes * 60, None,
                        120.0, 150.0)
    plan = [(StrengthSet(0, "Squat", "working", 8, None), 40.0, 120.0)] * n_sets
    sets_ = [replace(s, set_index=i) for i, s in enumerate(timed(start + timedelta(minutes=2), plan))]
    return ParseResult("fit", activities=[activity], sessions=[StrengthSession(None, start, end, sets_)])


def test_a_merged_hevy_and_watch_session_counts_once_in_load_and_weekly_strength(tmp_path):
    sc = Scenario()
    hevy = (sets("Back Squat", 3, 5, weight_kg=100.0, rpe=8) + sets("Romanian Deadlift", 3, 8, rpe=7)
            + sets("Box Jump", 2, 5, weight_kg=None, rpe=None)
            + sets("Single Leg Hop", 2, 10, weight_kg=None, rpe=None))
    sc.strength("2026-09-08", "18:00", 50, sets=hevy, title="Legs")
    sc.strength("2026-09-10", "07:00", 30, sets=sets("Bench Press", 6, 8, rpe=None), title="Upper, no RPE")
    watch = _watch_strength(datetime(2026, 9, 8, 16, 5, tzinfo=UTC), 60, 6)  # 18:05-19:05 local
    _build_with(sc, tmp_path, "2026-09-21", [watch])
    # Hevy's sets (more complete) with the watch's times (60 min): RPE mean (8 x 3 + 7 x 3) / 6 = 7.5
    assert sc.query("SELECT title, duration_s, session_rpe, srpe_load, plyo_contacts, source_format "
                    "FROM strength_sessions ORDER BY start_utc") == [
        ("Legs", 3600.0, 7.5, 450.0, 2 * 5 + 2 * 10 * 2, "hevy_csv"),
        ("Upper, no RPE", 1800.0, None, None, 0, "hevy_csv")]
    assert sc.query("SELECT local_date, strength_load FROM daily_load WHERE iso_week = '2026-W37' "
                    "ORDER BY local_date") == [
        (D("2026-09-07"), 0), (D("2026-09-08"), 450.0), (D("2026-09-09"), 0), (D("2026-09-10"), 0),
        (D("2026-09-11"), 0), (D("2026-09-12"), 0), (D("2026-09-13"), 0)]
    assert sc.query("SELECT * FROM weekly_strength ORDER BY iso_week") == [
        # athlete, week, qualifying, days, working, heavy (3 squats at RPE 8), squat, hinge, single_leg, calf,
        # contacts, median lower reps (5 5 5 8 8 8; jumps aside), sRPE load
        ("me", "2026-W37", 1, 1, 10, 3, 3, 3, 0, 0, 50, 6.5, 450.0),
        ("me", "2026-W38", 0, 0, 0, 0, 0, 0, 0, 0, 0, None, 0.0),
        ("me", "2026-W39", 0, 0, 0, 0, 0, 0, 0, 0, 0, None, 0.0)]


def test_weekly_strength_counts_the_sets_of_qualifying_sessions_only(tmp_path):
    sc = Scenario()
    sc.strength("2026-09-08", "18:00", 45, sets=sets("Back Squat", 3, 5) + sets("Calf Raise", 3, 12), title="Legs")
    sc.strength("2026-09-08", "20:00", 45, sets=sets("Back Squat", 6, 5), title="Second on the day")
    sc.strength("2026-09-10", "18:00", 10, sets=sets("Deadlift", 6, 5), title="Too short")
    sc.run("2026-09-12", "09:00", 40)  # the weekly series starts at the first activity (a log is none)
    sc.build(tmp_path, "2026-09-14")
    assert sc.query("SELECT qualifying_sessions, strength_days, working_sets, squat_sets, hinge_sets, calf_sets, "
                    "heavy_sets, median_lower_reps, srpe_load FROM weekly_strength WHERE iso_week = '2026-W37'") == [
        (2, 1, 12, 9, 0, 3, 9, 5.0, 8 * 45 * 2 + 8 * 10)]


def test_exercise_progress_per_exercise_and_week(tmp_path):
    sc = Scenario()
    for on, kg, reps in SQUAT_BLOCK:
        sc.strength(on, "18:00", 45, sets=sets("Back Squat", 2, reps, weight_kg=kg, rpe=None)
                    + sets("Split Squat", 1, 10, weight_kg=None) + sets("Plank", 1, None, weight_kg=None)
                    + sets("Bench Press", 1, 12, weight_kg=50.0))
    sc.build(tmp_path, "2026-09-21")
    rows = sc.query("SELECT exercise, iso_week, best_e1rm_kg, best_weight_kg, sets FROM exercise_progress "
                    "ORDER BY exercise, iso_week")
    weeks = ["2026-W32", "2026-W36", "2026-W37", "2026-W38"]
    squat = [100 * 35 / 30, 99.0, 80 * 40 / 30, 95 * 32 / 30]  # the best Epley estimate of each week
    assert [r[:2] for r in rows] == [(e, w) for e in ("back squat", "bench press", "split squat") for w in weeks]
    assert [r[2] for r in rows[:4]] == pytest.approx(squat)
    assert [r[2:] for r in rows[4:]] == [(None, 50.0, 1)] * 4 + [(None, None, 1)] * 4  # 12 reps: no estimate
    assert [r[3:] for r in rows[:4]] == [(kg, 2) for _, kg, _ in SQUAT_BLOCK]


# --- the weekly program rules --------------------------------------------------------------------

NOT_HEAVY, MISSING, NO_PLYO = "program.not_heavy", "program.missing_pattern", "program.no_plyometrics"
RUSHED, BEFORE_LONG = "program.rushed_rest", "spacing.before_long_run"
RACE = [{"date": "2026-10-18", "name": "Autumn Marathon", "priority": "A"}]  # W38 build, W39-W40 sharpen, W34 base
TRAINED = {"strength_experience": "trained", "strength_target_per_week": 1}
BSS = sets("Bulgarian Split Squat", 3, 8, weight_kg=None, rpe=None)
CALF = sets("Calf Raise", 3, 12, weight_kg=None, rpe=None)


def _legs(squat_kg: float = 70.0, squat_reps: int = 5, rpe: float | None = None) -> list[StrengthSet]:
    """Back squat 3 x squat_reps, RDL 3 x 8 at 40 kg, bodyweight split squats and calf raises."""
    return (sets("Back Squat", 3, squat_reps, weight_kg=squat_kg, rpe=rpe)
            + sets("Romanian Deadlift", 3, 8, weight_kg=40.0, rpe=None) + BSS + CALF)


def _build_week(sc: Scenario) -> Scenario:
    """W37 (the first week, never judged) sets the estimates: back squat 75 x 10 = an e1RM of
    exactly 100 kg, RDL 60 x 8 (so 40 x 8 later is 53 %)."""
    sc.run("2026-09-09", "07:00", 40)
    sc.strength("2026-09-08", "18:00", 45, sets=sets("Back Squat", 1, 10, weight_kg=75.0, rpe=None)
                + sets("Romanian Deadlift", 3, 8, weight_kg=60.0, rpe=None) + BSS + CALF)
    return sc


@pytest.mark.parametrize(("kg", "reps", "rpe", "expected"), [
    (69.0, 5, None, [(NOT_HEAVY, D("2026-09-14"), "warning")]),  # 69 % of the e1RM
    (70.0, 5, None, []),                                          # 70 %: heavy
    (70.0, 7, None, [(NOT_HEAVY, D("2026-09-14"), "warning")]),  # 70 % but 7 reps
    (70.0, 6, None, []),
    (50.0, 5, 8.0, []),                                           # RPE 8 at 5 reps is heavy too
])
def test_not_heavy_in_a_build_week(tmp_path, kg, reps, rpe, expected):
    sc = _build_week(Scenario(races=RACE, **TRAINED))
    sc.strength("2026-09-15", "18:00", 45, sets=_legs(kg, reps, rpe))
    assert summary(sc.build(tmp_path, "2026-09-21")) == expected


def test_not_heavy_message_names_the_heaviest_lower_body_set(tmp_path):
    sc = _build_week(Scenario(races=RACE, **TRAINED))
    sc.strength("2026-09-15", "18:00", 45, sets=_legs(62.0, 10) + sets("Bench Press", 3, 3, weight_kg=80.0, rpe=9))
    (flag,) = sc.build(tmp_path, "2026-09-21")
    assert flag.message == ("No heavy lower-body set in week 2026-W38 (build phase): the heaviest was 3x10 back squat "
                            "at 62 % of its estimated 1RM; build weeks want 3-6 reps at 70-85 %")
    assert flag.evidence == {"iso_week": "2026-W38", "phase": "build", "qualifying_sessions": 1,
                             "heavy_pct_e1rm": 70, "heavy_max_reps": 6, "exercise": "back squat", "reps": 10,
                             "weight_kg": 62.0, "pct_e1rm": 62.0, "session_id": flag.evidence["session_id"]}


def test_not_heavy_judges_neither_base_weeks_nor_incomplete_ones(tmp_path):
    sc = Scenario(races=RACE, **TRAINED)
    sc.run("2026-08-12", "07:00", 40)
    sc.strength("2026-08-18", "18:00", 45, sets=_legs(40.0, 10))  # W34: base
    sc.strength("2026-09-15", "18:00", 45, sets=_legs(40.0, 10))  # W38: build, but not complete on 2026-09-20
    assert summary(sc.build(tmp_path, "2026-09-20")) == []


@pytest.mark.parametrize(("extra", "missing"), [
    ([], ["hinge"]),
    (sets("Romanian Deadlift", 1, 8), []),
])
def test_missing_pattern_in_a_base_week(tmp_path, extra, missing):
    sc = Scenario(races=RACE, **TRAINED)
    sc.run("2026-08-12", "07:00", 40)  # W33 is the first week
    sc.strength("2026-08-18", "18:00", 45, sets=sets("Back Squat", 3, 8) + BSS + CALF + extra)
    flags = sc.build(tmp_path, "2026-08-24")
    assert summary(flags) == ([(MISSING, D("2026-08-17"), "info")] if missing else [])
    assert [f.evidence["missing"] for f in flags] == ([missing] if missing else [])


def test_missing_pattern_names_every_missing_pattern_once_per_week(tmp_path):
    sc = Scenario(races=RACE, **TRAINED)
    sc.run("2026-08-12", "07:00", 40)
    sc.strength("2026-08-18", "18:00", 45, sets=sets("Back Squat", 3, 8) + BSS)
    sc.strength("2026-08-20", "18:00", 45, sets=sets("Back Squat", 3, 8) + BSS)
    sc.strength("2026-08-22", "09:00", 45, sets=sets("Romanian Deadlift", 2, 8) + BSS, title="Short of sets")
    (flag,) = sc.build(tmp_path, "2026-08-24")  # the hinge sets of a session that does not qualify do not count
    assert (flag.rule, flag.date) == (MISSING, D("2026-08-17"))
    assert flag.message == ("No hinge or calf working set in week 2026-W34 (base phase): the core of the week is a "
                            "squat, a hinge (Romanian deadlift) and heavy calf raises")


def test_missing_pattern_skips_sharpen_weeks_and_the_beginner_weeks(tmp_path):
    def flags(experience: str, on: str, as_of: str) -> list:
        sc = Scenario(races=RACE, strength_experience=experience, strength_target_per_week=1)
        sc.run("2026-08-05", "07:00", 40)
        sc.strength(on, "18:00", 45, sets=sets("Back Squat", 3, 5, weight_kg=None) + BSS)
        return summary(sc.build(tmp_path / experience / on, as_of))

    assert flags("trained", "2026-08-18", "2026-08-24") == [(MISSING, D("2026-08-17"), "info")]
    assert flags("new", "2026-08-18", "2026-08-24") == []  # beginner week 1
    assert flags("trained", "2026-09-22", "2026-09-28") == [(NO_PLYO, D("2026-09-21"), "info")]  # sharpen


@pytest.mark.parametrize(("jumps", "expected"), [
    ([], [(NO_PLYO, D("2026-09-21"), "info")]),
    (sets("Box Jump", 1, 5, weight_kg=None, rpe=None), []),
])
def test_no_plyometrics_in_a_sharpen_week(tmp_path, jumps, expected):
    sc = Scenario(races=RACE, **TRAINED)
    sc.run("2026-09-16", "07:00", 40)  # W38 is the first week
    sc.strength("2026-09-22", "18:00", 45, sets=_legs(70.0, 5, rpe=8) + jumps)
    flags = sc.build(tmp_path, "2026-09-28")
    assert summary(flags) == expected
    assert [f.message for f in flags] == ["No plyometric contacts in week 2026-W39 (sharpen phase): add 1-2 "
                                          "plyometric exercises per session, such as box jumps, pogo jumps or bounds"
                                          ] * len(expected)


def test_the_weekly_program_rules_never_judge_the_first_week(tmp_path):
    sc = Scenario(races=RACE, **TRAINED)
    sc.run("2026-09-23", "07:00", 40)
    sc.strength("2026-09-22", "18:00", 45, sets=sets("Back Squat", 6, 10, weight_kg=None, rpe=None) + BSS)
    assert summary(sc.build(tmp_path, "2026-09-28")) == []


# --- rushed rest ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("rest", "expected"), [(89.0, [(RUSHED, D("2026-09-15"), "info")]), (90.0, [])])
def test_rushed_rest_takes_the_median_rest_before_heavy_sets_that_follow_a_working_set(tmp_path, rest, expected):
    sc = Scenario(**TRAINED)
    sc.run("2026-09-08", "07:00", 40)
    start = sc._utc("2026-09-15", "18:00") + timedelta(minutes=2)
    squat = StrengthSet(0, "Back Squat", "working", 5, 80.0, 8.0)
    plan = [(replace(squat, set_type="warmup", weight_kg=40.0), 40.0, 30.0),  # a short rest after a warm-up
            (squat, 40.0, rest), (squat, 40.0, rest), (squat, 40.0, 240.0), (squat, 40.0, 180.0)]
    plan += [(x, 45.0, 60.0) for x in sets("Romanian Deadlift", 3, 8) + BSS]  # not heavy: 8 reps
    sc.strength("2026-09-15", "18:00", 45, sets=timed(start, plan))
    flags = sc.build(tmp_path, "2026-09-21")
    assert summary(flags) == expected
    # heavy sets 2-4 follow a working set: rests (rest, rest, 240), median = rest
    assert [(f.message, f.evidence["median_rest_s"]) for f in flags] == [
        ("Median rest of 89 s before the 3 timed heavy sets of the 18:00 session: rest 2-3 min between heavy "
         "sets (at least 90 s)", 89.0)] * len(expected)


# --- heavy strength before a long run ---------------------------------------------------------

@pytest.mark.parametrize(("lift", "run_at", "expected"), [
    ("heavy", "18:44", [(BEFORE_LONG, D("2026-09-13"), "warning")]),  # 23 h 59 min after the session ended
    ("heavy", "18:45", []),                                             # 24 h
    ("upper_heavy", "08:00", []),                                       # heavy bench, moderate legs
])
def test_before_long_run_after_heavy_lower_body_sets(tmp_path, lift, run_at, expected):
    sc = Scenario(**TRAINED)
    legs = sets("Back Squat", 3, 5, rpe=8) if lift == "heavy" else sets("Back Squat", 3, 8, rpe=7) + sets(
        "Bench Press", 3, 5, rpe=9)
    sc.strength("2026-09-12", "18:00", 45, sets=legs + BSS)
    sc.run("2026-09-13", run_at, 100)  # a long run: at least 90 min
    flags = sc.build(tmp_path, "2026-09-14")
    assert summary(flags) == expected
    assert [f.message for f in flags] == [
        "Heavy lower-body strength (3 sets: back squat) ended 23.9 h before the 18:44 long run (at least 24 h "
        "between heavy leg work and a long run)"] * len(expected)


def test_before_long_run_judges_long_runs_only(tmp_path):
    sc = Scenario(**TRAINED)
    sc.strength("2026-09-12", "18:00", 45, sets=sets("Back Squat", 3, 5, rpe=8) + BSS)
    sc.run("2026-09-13", "08:00", 89)  # one minute short of a long run
    sc.run("2026-09-14", "08:00", 120, title="Long run")  # long, but 37 h later
    assert summary(sc.build(tmp_path, "2026-09-15")) == []
