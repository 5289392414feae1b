"""Contract v2 judgement: qualifying sessions, warm-up jogs, quality lead hours, detraining after a
taper, beginner weeks of experienced lifters, compliance verdicts.

Each case states a real training log in local time (tests/scenario.py), builds a real DuckDB file
and asserts the FULL flag list as (rule, date, severity), next to its nearest silent case.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.scenario import Scenario, sets, summary

D = date.fromisoformat
MISSED, DETRAINING = "strength.missed_sessions", "strength.detraining"
TOO_CLOSE, SUBOPTIMAL, BEFORE_QUALITY = "spacing.too_close", "spacing.suboptimal", "spacing.before_quality"
TOO_MANY = "taper.too_many_sessions"
NO_UNILATERAL, TOO_HEAVY = "program.no_unilateral", "program.beginner_too_heavy"
RACE = [{"date": "2026-10-18", "name": "Autumn Marathon", "priority": "A"}]

MOBILITY = sets("Couch Stretch", 2, 1, weight_kg=None) + sets("90/90 Hip Stretch", 2, 1, weight_kg=None)
UPPER = sets("Bench Press (Barbell)", 3, 8) + sets("Pull Up", 3, 8, weight_kg=None)
CORE = sets("Plank", 3, None, weight_kg=None) + sets("Crunch", 3, 20, weight_kg=None)
LEGS = sets("Bulgarian Split Squat", 3, 8) + sets("Romanian Deadlift", 3, 8)


def _sessions(sc: Scenario) -> list[tuple]:
    return sc.query("SELECT title, qualifies, why_not, working_sets, lower_body_sets FROM strength_sessions "
                    "ORDER BY start_utc")


# --- qualifying sessions -----------------------------------------------------------------------

def test_why_not_names_the_first_failing_test_of_each_session(tmp_path):
    sc = Scenario()
    sc.strength("2026-09-07", "07:00", 45, sets=LEGS, title="Legs")
    sc.strength("2026-09-07", "19:00", 45, sets=LEGS[:5], title="One set short")
    sc.strength("2026-09-08", "07:00", 15, sets=LEGS, title="Short but enough")
    sc.strength("2026-09-08", "19:00", 14, sets=LEGS, title="A minute too short")
    sc.strength("2026-09-09", "07:00", 10, sets=MOBILITY, title="Mobility")
    sc.strength("2026-09-09", "19:00", 60, sets=UPPER, title="Full body")
    sc.strength("2026-09-10", "07:00", 30, sets=CORE, title="Core circuit")
    sc.strength("2026-09-10", "19:00", 45, sets=sets("Bulgarian Split Squat", 2, 8, set_type="warmup") + LEGS[:5],
                title="Warm-ups are not working sets")
    assert sc.build(tmp_path, "2026-09-11") == []
    assert _sessions(sc) == [
        ("Legs", True, None, 6, 6),
        ("One set short", False, "too_few_sets", 5, 5),
        ("Short but enough", True, None, 6, 6),
        ("A minute too short", False, "too_short", 6, 6),
        ("Mobility", False, "mobility_only", 4, 0),
        ("Full body", False, "no_lower_body", 6, 0),
        ("Core circuit", False, "no_lower_body", 6, 0),
        ("Warm-ups are not working sets", False, "too_few_sets", 5, 5),
    ]


def test_a_session_one_working_set_short_does_not_count_for_the_week(tmp_path):
    def week(short: bool) -> list:
        sc = Scenario()
        for monday in ("2026-08-31", "2026-09-07"):
            for d in (0, 2, 4):
                sc.run(D(monday) + timedelta(days=d), "18:00", 45)
            sc.strength(D(monday) + timedelta(days=1), "07:00")
            sc.strength(D(monday) + timedelta(days=3), "07:00", sets=LEGS[:5] if short else LEGS)
        return summary(sc.build(tmp_path / str(short), "2026-09-14"))

    assert week(short=False) == []
    assert week(short=True) == [(MISSED, D("2026-09-07"), "warning")]


def test_two_qualifying_sessions_on_one_local_day_across_dst_count_once(tmp_path):
    # Berlin leaves summer time on Sun 2026-10-25 at 03:00: 00:30 and 20:00 are one local day.
    def week(days: tuple[str, str]) -> tuple[list, list]:
        sc = Scenario()
        for monday in ("2026-10-12", "2026-10-19"):
            for d in (0, 2, 4):
                sc.run(D(monday) + timedelta(days=d), "18:00", 45)
        sc.strength("2026-10-13", "07:00").strength("2026-10-15", "07:00")  # first week: met
        sc.strength(days[0], "00:30").strength(days[1], "20:00")
        flags = summary(sc.build(tmp_path / days[1], "2026-10-26"))
        return flags, sc.query("SELECT strength_sessions, verdict FROM weekly_compliance WHERE iso_week = '2026-W43'")

    assert week(("2026-10-25", "2026-10-25")) == ([(MISSED, D("2026-10-19"), "warning")], [(1, "short")])
    assert week(("2026-10-25", "2026-10-24")) == ([], [(2, "met")])


def test_mobility_upper_body_and_core_days_are_never_spaced_from_runs(tmp_path):
    sc = Scenario()
    sc.run("2026-09-07", "18:00", 45)
    sc.strength("2026-09-07", "17:00", 10, sets=MOBILITY, title="Mobility")
    sc.strength("2026-09-07", "19:00", 60, sets=UPPER, title="Full body")
    sc.run("2026-09-08", "07:00", 45, title="6x800 intervals")
    sc.strength("2026-09-08", "06:00", 30, sets=CORE, title="Core circuit")
    assert sc.build(tmp_path, "2026-09-09") == []
    # the pairs are there for analysts; the rules skip them
    assert sc.query("SELECT count(*), bool_or(session_has_lower_body) FROM spacing") == [(6, False)]


def test_no_unilateral_judges_qualifying_sessions_only(tmp_path):
    sc = Scenario()
    sc.strength("2026-09-07", "07:00", 60, sets=UPPER, title="Upper")
    sc.strength("2026-09-08", "07:00", 45, sets=sets("Squat (Barbell)", 3, 8) + sets("Romanian Deadlift", 3, 8))
    sc.strength("2026-09-09", "07:00", 45, sets=LEGS)
    flags = sc.build(tmp_path, "2026-09-10")
    assert summary(flags) == [(NO_UNILATERAL, D("2026-09-08"), "info")]
    assert flags[0].message.startswith("No unilateral lower-body exercise in the 07:00 session (")


# --- warm-up and cool-down jogs ----------------------------------------------------------------

@pytest.mark.parametrize(("at", "minutes", "expected"), [
    ("17:35", 15, []),                                     # 15 min, ends 10 min before: its warm-up
    ("17:34", 16, [(TOO_CLOSE, D("2026-09-08"), "error")]),  # a minute longer: a run
    ("17:15", 15, []),                                     # ends exactly 30 min before
    ("17:14", 15, [(TOO_CLOSE, D("2026-09-08"), "error")]),  # 31 min before: a run
    ("19:05", 15, []),                                     # cool-down 5 min after the session
    ("18:50", 15, []),                                     # overlaps the session (clock drift)
])
def test_warmup_jog_next_to_a_session_is_not_spaced(tmp_path, at, minutes, expected):
    sc = Scenario()
    sc.strength("2026-09-08", "18:00", 60)  # 18:00-19:00
    sc.run("2026-09-08", at, minutes)
    assert summary(sc.build(tmp_path, "2026-09-09")) == expected
    # a warm-up still counts as running load
    assert sc.query("SELECT run_minutes FROM daily_load WHERE local_date = '2026-09-08'") == [(minutes,)]


# --- before a quality run: hours, not dates ----------------------------------------------------

@pytest.mark.parametrize(("lift", "run", "expected"), [
    (("2026-09-07", "22:30"), ("2026-09-08", "06:30"), [(BEFORE_QUALITY, D("2026-09-08"), "error")]),  # 7.25 h
    (("2026-09-08", "00:30"), ("2026-09-08", "18:30"), []),                                            # 17.25 h
    (("2026-09-08", "05:15"), ("2026-09-08", "18:00"), []),                 # ends exactly 12 h before
    (("2026-09-08", "05:16"), ("2026-09-08", "18:00"), [(BEFORE_QUALITY, D("2026-09-08"), "error")]),
    (("2026-09-08", "18:00"), ("2026-09-08", "06:30"), []),                 # after the quality run
])
def test_before_quality_is_judged_by_quality_lead_hours(tmp_path, lift, run, expected):
    sc = Scenario()
    sc.strength(*lift, 45)
    sc.run(*run, 45, title="6x800 intervals")
    flags = sc.build(tmp_path, "2026-09-10")
    assert summary(flags) == expected
    if lift == ("2026-09-07", "22:30"):
        assert flags[0].message == ('Strength ended 7.2 h before the 06:30 quality run "6x800 intervals" '
                                    "(lift at least 12 h before a quality run, or after it)")


# --- detraining re-armed after the taper -------------------------------------------------------

def _racing_block(sc: Scenario, last_strength: str) -> Scenario:
    """Runs Mon/Wed/Fri 18:00 from 2026-08-31 to 2026-11-06, strength Tue/Thu until ``last_strength``."""
    monday = D("2026-08-31")
    while monday < D("2026-11-09"):
        for d in (0, 2, 4):
            sc.run(monday + timedelta(days=d), "18:00", 45)
        for d in (1, 3):
            if monday + timedelta(days=d) <= D(last_strength):
                sc.strength(monday + timedelta(days=d), "07:00")
        monday += timedelta(days=7)
    return sc


def test_detraining_whose_28th_day_falls_in_the_taper_fires_after_the_recovery_week(tmp_path):
    # last session Thu 2026-09-10; day 28 = 2026-10-08 is in the taper (W41-W42), W43 is the
    # recovery week; the first day after them with a run in the 7 days before is Mon 2026-10-26.
    sc = _racing_block(Scenario(races=RACE, strength_target_per_week=0), "2026-09-10")
    flags = sc.build(tmp_path, "2026-11-09")
    sharpen = [(MISSED, D("2026-09-21"), "warning"), (MISSED, D("2026-09-28"), "warning")]
    assert summary(flags) == [*sharpen, (DETRAINING, D("2026-10-26"), "error")]
    assert flags[-1].message == ("46 days without strength since 2026-09-10 (limit 28 days), "
                                 "while running continued: 20 runs")


def test_detraining_is_silent_when_strength_resumes_in_the_recovery_week(tmp_path):
    sc = _racing_block(Scenario(races=RACE, strength_target_per_week=0), "2026-09-10")
    sc.strength("2026-10-20", "07:00")
    flags = sc.build(tmp_path, "2026-11-09")
    assert summary(flags) == [(MISSED, D("2026-09-21"), "warning"), (MISSED, D("2026-09-28"), "warning")]


# --- beginner weeks ----------------------------------------------------------------------------

HEAVY_SQUATS = sets("Squat (Barbell)", 3, 5, weight_kg=100) + sets("Bulgarian Split Squat", 3, 8)


@pytest.mark.parametrize(("experience", "session", "expected"), [
    ("new", HEAVY_SQUATS, [(TOO_HEAVY, D("2026-09-08"), "warning")]),
    ("trained", HEAVY_SQUATS, []),
    ("new", sets("Box Jump", 3, 5, weight_kg=None) + LEGS, []),              # the prescribed plyometric dose
    ("new", sets("Drop Jump", 3, 5, weight_kg=None) + LEGS, [(TOO_HEAVY, D("2026-09-08"), "warning")]),
    ("new", sets("Split Squat", 3, 5, weight_kg=None) + LEGS, []),           # bodyweight, not loaded
])
def test_beginner_weeks_count_loaded_low_rep_sets_and_drop_jumps_only(tmp_path, experience, session, expected):
    sc = Scenario(strength_experience=experience)
    sc.strength("2026-09-08", "07:00", 45, sets=session)
    assert summary(sc.build(tmp_path, "2026-09-09")) == expected


def test_beginner_weeks_start_at_the_first_qualifying_session(tmp_path):
    sc = Scenario()
    sc.strength("2026-07-01", "07:00", 10, sets=MOBILITY)   # does not start the beginner clock
    sc.strength("2026-09-08", "07:00", 45, sets=HEAVY_SQUATS)
    flags = sc.build(tmp_path, "2026-09-09")
    assert summary(flags) == [(TOO_HEAVY, D("2026-09-08"), "warning")]
    assert flags[0].message == ("5-rep loaded set (back squat) in the 07:00 session in beginner week 1 of 4: "
                                "stay at 12-15 reps through 2026-10-05, heavy sets of 6 reps or fewer after that")


# --- compliance verdicts -----------------------------------------------------------------------

def test_a_taper_week_with_three_sessions_is_over_not_met(tmp_path):
    def taper(days: tuple[int, ...]) -> tuple[list, list]:
        sc = Scenario(races=RACE)
        for monday in ("2026-10-05", "2026-10-12"):
            for d in (0, 2, 4):
                sc.run(D(monday) + timedelta(days=d), "18:00", 30)
        for d in days:
            sc.strength(D("2026-10-12") + timedelta(days=d), "07:00", 20)
        sc.strength("2026-10-16", "12:00", 10, sets=MOBILITY)  # not a strength session for any rule
        flags = summary(sc.build(tmp_path / str(len(days)), "2026-10-19"))
        return flags, sc.query("SELECT strength_sessions, strength_target, strength_max, verdict, met "
                               "FROM weekly_compliance WHERE iso_week = '2026-W42'")

    assert taper((0, 1, 2)) == ([(TOO_MANY, D("2026-10-13"), "error")], [(3, 0, 1, "over", False)])
    assert taper((1,)) == ([], [(1, 0, 1, "met", True)])
