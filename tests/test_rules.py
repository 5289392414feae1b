"""Every catalog rule: a scenario where it fires and the nearest case where it must not.

Each test states runs and strength sessions in local time (tests/scenario.py), builds a real
DuckDB file through ingest's loader and ``pipeline.build.build``, and asserts the FULL list of
flags as (rule, date, severity). Sessions default to a qualifying session (3 x 8 Bulgarian split
squats + 3 x 8 Romanian deadlifts: unilateral, neither too heavy nor too light), so unrelated
program rules stay silent.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from pipeline.rules.base import REGISTRY
from tests.scenario import Scenario, sets, summary

D = date.fromisoformat
MISSED, DETRAINING = "strength.missed_sessions", "strength.detraining"
TOO_CLOSE, SUBOPTIMAL, BEFORE_QUALITY = "spacing.too_close", "spacing.suboptimal", "spacing.before_quality"
TOO_MANY, LONG = "taper.too_many_sessions", "taper.long_session"
TOO_LIGHT, FAILURE, NO_UNILATERAL, TOO_HEAVY = (
    "program.too_light", "program.to_failure", "program.no_unilateral", "program.beginner_too_heavy")
ACWR, MONOTONY = "load.acwr_high", "load.monotony_high"


def training_week(sc: Scenario, monday: str | date, *, strength: int = 2, run_days: tuple[int, ...] = (0, 2, 4),
                  run_minutes: float = 45) -> Scenario:
    """Runs at 18:00 on ``run_days`` (0 = Monday) and ``strength`` sessions (Tue, then Thu) at 07:00:
    every strength/run gap is >= 10 h, so no spacing rule fires."""
    monday = D(monday) if isinstance(monday, str) else monday
    for d in run_days:
        sc.run(monday + timedelta(days=d), "18:00", run_minutes)
    for d in (1, 3)[:strength]:
        sc.strength(monday + timedelta(days=d), "07:00")
    return sc


def test_every_catalog_rule_is_registered_with_its_severity():
    assert {k: v.severity for k, v in REGISTRY.items()} == {
        MISSED: "warning", DETRAINING: "error",
        TOO_CLOSE: "error", SUBOPTIMAL: "warning", BEFORE_QUALITY: "error",
        TOO_MANY: "error", LONG: "warning",
        TOO_LIGHT: "warning", FAILURE: "warning", NO_UNILATERAL: "info", TOO_HEAVY: "warning",
        ACWR: "warning", MONOTONY: "warning",
        "spacing.before_long_run": "warning", "program.not_heavy": "warning", "program.missing_pattern": "info",
        "program.no_plyometrics": "info", "program.rushed_rest": "info",
    }
    assert all(spec.fn.__doc__ for spec in REGISTRY.values())


# --- strength.missed_sessions -------------------------------------------------------------------

def test_missed_sessions_in_a_complete_week_short_of_target(tmp_path):
    sc = Scenario()
    training_week(sc, "2026-08-31", strength=0)   # W36: first week, never judged
    training_week(sc, "2026-09-07", strength=1)   # W37: 1 of 2 -> flagged on its Monday
    training_week(sc, "2026-09-14", strength=2)   # W38: target met
    training_week(sc, "2026-09-21", strength=0, run_days=())  # W39: no run, not judged
    flags = sc.build(tmp_path, "2026-09-28")
    assert summary(flags) == [(MISSED, D("2026-09-07"), "warning")]
    assert flags[0].message == "Week 2026-W37: 1 qualifying strength session, target 2 (off phase)"
    assert flags[0].week == "2026-W37"
    assert flags[0].evidence == {"iso_week": "2026-W37", "strength_sessions": 1, "strength_target": 2,
                                 "phase": "off", "runs": 3}


@pytest.mark.parametrize(("as_of", "expected"), [
    ("2026-09-20", []),                                         # W38's Sunday is not before as-of
    ("2026-09-21", [(MISSED, D("2026-09-14"), "warning")]),    # now it is complete
])
def test_incomplete_week_is_not_judged(tmp_path, as_of, expected):
    sc = Scenario()
    training_week(sc, "2026-09-07")
    training_week(sc, "2026-09-14", strength=1)
    assert summary(sc.build(tmp_path, as_of)) == expected


def test_week_of_first_activity_is_never_judged(tmp_path):
    sc = Scenario()
    sc.run("2026-09-10", "18:00").run("2026-09-12", "09:00")   # W37 starts on a Thursday, no strength
    training_week(sc, "2026-09-14", strength=0)
    flags = sc.build(tmp_path, "2026-09-21")
    assert summary(flags) == [(MISSED, D("2026-09-14"), "warning")]
    assert flags[0].message == "Week 2026-W38: 0 qualifying strength sessions, target 2 (off phase)"


def test_phase_targets_sharpen_taper_and_recovery(tmp_path):
    # A race Sun 2026-10-18: W38 build (2), W39-W40 sharpen (1), W41-W42 taper (0), W43 recovery (0),
    # W44 off again (2). The last strength session (Tue 09-22) reaches 28 days on Tue 10-20, which
    # lies in the recovery week: detraining fires on the first day after it, Mon 10-26.
    sc = Scenario(races=[{"date": "2026-10-18", "name": "Autumn 10k"}])
    training_week(sc, "2026-09-07")                 # W37 first week
    training_week(sc, "2026-09-14", strength=1)     # build: 1 < 2
    training_week(sc, "2026-09-21", strength=1)     # sharpen: 1 = 1
    training_week(sc, "2026-09-28", strength=0)     # sharpen: 0 < 1
    training_week(sc, "2026-10-05", strength=0)     # taper
    training_week(sc, "2026-10-12", strength=0, run_days=(0, 2, 6))  # race week, race on Sunday
    training_week(sc, "2026-10-19", strength=0)     # recovery
    training_week(sc, "2026-10-26", strength=0)     # off: 0 < 2
    flags = sc.build(tmp_path, "2026-11-02")
    assert summary(flags) == [
        (MISSED, D("2026-09-14"), "warning"),
        (MISSED, D("2026-09-28"), "warning"),
        (DETRAINING, D("2026-10-26"), "error"),
        (MISSED, D("2026-10-26"), "warning"),
    ]
    assert [f.message for f in flags if f.rule == MISSED] == [
        "Week 2026-W38: 1 qualifying strength session, target 2 (build phase)",
        "Week 2026-W40: 0 qualifying strength sessions, target 1 (sharpen phase)",
        "Week 2026-W44: 0 qualifying strength sessions, target 2 (off phase)",
    ]


def test_monday_0030_berlin_counts_for_its_local_week_and_date(tmp_path):
    # Mon 2026-10-26 00:30 CET is Sun 10-25 23:30 UTC (and 10-25 is the autumn DST change).
    sc = Scenario(tz="Europe/Berlin")
    training_week(sc, "2026-10-12")                       # W42 first week
    training_week(sc, "2026-10-19", strength=0)           # W43: only the Wednesday session below
    sc.strength("2026-10-21", "07:00")
    training_week(sc, "2026-10-26", strength=0)           # W44: Monday 00:30 + Thursday
    sc.strength("2026-10-26", "00:30", sets=sets("Back Squat", 6, 8))
    sc.strength("2026-10-29", "07:00")
    flags = sc.build(tmp_path, "2026-11-02")
    # counted by UTC, W43 would have 2 sessions and W44 only 1
    assert summary(flags) == [
        (MISSED, D("2026-10-19"), "warning"),
        (NO_UNILATERAL, D("2026-10-26"), "info"),
    ]
    row = sc.query("SELECT local_date, iso_week, CAST(timezone('UTC', start_utc) AS DATE) "
                   "FROM strength_sessions WHERE strftime(start_local, '%H:%M') = '00:30'")
    assert row == [(D("2026-10-26"), "2026-W44", D("2026-10-25"))]
    assert sc.query("SELECT iso_week, strength_sessions FROM weekly_compliance "
                    "WHERE iso_week IN ('2026-W43', '2026-W44') ORDER BY 1") == [("2026-W43", 1), ("2026-W44", 2)]


# --- strength.detraining --------------------------------------------------------------------------
# strength_target_per_week = 0 keeps missed_sessions quiet: these scenarios stop lifting on purpose.

def _runs_mon_wed_fri(sc: Scenario, first: str, weeks: int) -> Scenario:
    for w in range(weeks):
        training_week(sc, D(first) + timedelta(weeks=w), strength=0)
    return sc


@pytest.mark.parametrize(("next_session", "as_of", "expected"), [
    (None, "2026-07-13", [(DETRAINING, D("2026-06-30"), "error")]),  # the gap after the last session
    (None, "2026-06-30", [(DETRAINING, D("2026-06-30"), "error")]),  # the limit day is the as-of day
    (None, "2026-06-29", []),                                         # 27 days so far
    ("2026-06-30", "2026-07-13", []),                                 # lifted on the limit day
    ("2026-07-01", "2026-07-13", [(DETRAINING, D("2026-06-30"), "error")]),
])
def test_detraining_fires_on_the_day_the_limit_is_reached(tmp_path, next_session, as_of, expected):
    sc = _runs_mon_wed_fri(Scenario(strength_target_per_week=0), "2026-06-01", 6)
    sc.strength("2026-06-02", "07:00")
    if next_session:
        sc.strength(next_session, "07:00")
    flags = sc.build(tmp_path, as_of)
    assert summary(flags) == expected
    if expected:
        assert flags[0].message == ("28 days without strength since 2026-06-02 (limit 28 days), "
                                    "while running continued: 12 runs")
        assert flags[0].evidence["last_strength_date"] == "2026-06-02"


def test_detraining_at_most_once_per_gap_and_again_after_the_next_session(tmp_path):
    sc = _runs_mon_wed_fri(Scenario(strength_target_per_week=0), "2026-06-01", 16)
    sc.strength("2026-06-02", "07:00").strength("2026-08-18", "07:00")   # a 77-day gap
    flags = sc.build(tmp_path, "2026-09-20")
    assert summary(flags) == [(DETRAINING, D("2026-06-30"), "error"), (DETRAINING, D("2026-09-15"), "error")]


@pytest.mark.parametrize(("run_on", "expected"), [
    (None, []),                                                   # no run at all in the gap
    ("2026-06-30", [(DETRAINING, D("2026-06-30"), "error")]),     # one run, on the limit day
    ("2026-06-24", [(DETRAINING, D("2026-06-30"), "error")]),     # 6 days before it: still running
    ("2026-06-23", []),                                           # stopped a week before: resting, not detraining
    ("2026-07-01", [(DETRAINING, D("2026-07-01"), "error")]),     # the first run after the limit day re-arms it
])
def test_detraining_needs_running_in_the_gap(tmp_path, run_on, expected):
    # acwr_max is raised: a lone run after weeks of rest is a load spike too, not the point here
    sc = Scenario(strength_target_per_week=0, rules={"acwr_max": 10})
    sc.run("2026-06-01", "18:00").strength("2026-06-02", "07:00")
    if run_on:
        sc.run(run_on, "18:00")
    assert summary(sc.build(tmp_path, "2026-07-13")) == expected


def test_no_detraining_for_an_athlete_who_never_lifted(tmp_path):
    sc = _runs_mon_wed_fri(Scenario(strength_target_per_week=0), "2026-06-01", 8)
    assert summary(sc.build(tmp_path, "2026-08-01")) == []


@pytest.mark.parametrize(("race", "phase", "fires"), [
    ("2026-07-05", "taper", "2026-07-13"),      # 06-30 is in the race week: fires after the recovery week
    ("2026-06-28", "recovery", "2026-07-06"),   # 06-30 is in the week after the race week: fires the Monday after
    ("2026-07-19", "sharpen", "2026-06-30"),
])
def test_no_detraining_in_taper_or_recovery_weeks(tmp_path, race, phase, fires):
    sc = _runs_mon_wed_fri(Scenario(strength_target_per_week=0, races=[{"date": race}]), "2026-06-01", 6)
    sc.strength("2026-06-02", "07:00")
    flags = sc.build(tmp_path, "2026-07-13")
    assert sc.query("SELECT phase FROM weekly_compliance WHERE iso_week = '2026-W27'") == [(phase,)]
    # the sharpen/taper targets (1/0) also judge these weeks for missed sessions: look at detraining only
    assert [x for x in summary(flags) if x[0] == DETRAINING] == [(DETRAINING, D(fires), "error")]


# --- spacing ------------------------------------------------------------------------------------
# One day in the athlete's first week (never judged for counts), the day after as as-of.

@pytest.mark.parametrize(("strength_at", "run_at", "expected_rule", "gap"), [
    ("12:00", "15:00", TOO_CLOSE, 2.0),
    ("12:00", "16:00", SUBOPTIMAL, 3.0),       # exactly 3 h: at the minimum, not too close
    ("12:00", "18:59", SUBOPTIMAL, 5.98),
    ("12:00", "19:00", None, 6.0),             # exactly 6 h: optimal
    ("12:00", "12:30", TOO_CLOSE, 0.0),        # overlap: gap 0
    ("12:00", "11:30", TOO_CLOSE, 0.0),        # the run (11:30-12:15) overlaps the session's start
    ("11:00", "09:00", TOO_CLOSE, 1.25),       # run 09:00-09:45 first, strength 1.25 h later
    ("12:45", "09:00", SUBOPTIMAL, 3.0),
    ("15:45", "09:00", None, 6.0),
])
def test_spacing_gap_thresholds(tmp_path, strength_at, run_at, expected_rule, gap):
    sc = Scenario().strength("2026-09-08", strength_at, 60 if strength_at == "12:00" else 45)
    sc.run("2026-09-08", run_at, 45)
    flags = sc.build(tmp_path, "2026-09-09")
    assert summary(flags) == ([(expected_rule, D("2026-09-08"), "error" if expected_rule == TOO_CLOSE else "warning")]
                              if expected_rule else [])
    assert sc.query("SELECT gap_hours FROM spacing") == [(pytest.approx(gap, abs=0.01),)]
    if flags:
        assert flags[0].evidence["gap_hours"] == round(flags[0].evidence["gap_hours"], 2)
        assert flags[0].evidence["gap_hours"] == pytest.approx(gap, abs=0.01)


def test_spacing_messages(tmp_path):
    sc = Scenario()
    sc.strength("2026-09-08", "15:00", 60).run("2026-09-08", "17:15", 50, title="6x800 intervals")  # 1.25 h
    sc.run("2026-09-10", "07:00", 60).strength("2026-09-10", "12:30")                             # 4.5 h
    sc.strength("2026-09-11", "07:00").run("2026-09-11", "07:30")                                 # overlap
    flags = sc.build(tmp_path, "2026-09-12")
    assert [(f.rule, f.message) for f in flags] == [
        (BEFORE_QUALITY, 'Strength ended 1.2 h before the 17:15 quality run "6x800 intervals" '
                         "(lift at least 12 h before a quality run, or after it)"),
        (TOO_CLOSE, 'Strength ended 1.2 h before the 17:15 quality run "6x800 intervals" (minimum 3 h)'),
        (SUBOPTIMAL, "Strength started 4.5 h after the 07:00 run ended (optimal at least 6 h)"),
        (TOO_CLOSE, "Strength at 07:00 overlapped the 07:30 run (minimum 3 h)"),
    ]
    assert flags[1].evidence == {"session_id": flags[1].evidence["session_id"],
                                 "activity_id": flags[1].evidence["activity_id"],
                                 "gap_hours": 1.25, "which_first": "strength_first"}


def test_spacing_flag_dated_on_the_later_start_across_midnight(tmp_path):
    sc = Scenario()
    sc.strength("2026-09-07", "22:00").run("2026-09-08", "01:00", 30, title="track repeats")  # quality, next day
    sc.run("2026-09-09", "23:00", 30).strength("2026-09-10", "01:00")                         # run first
    flags = sc.build(tmp_path, "2026-09-11")
    # the quality run is on the next local day, 2.25 h later: before_quality is judged by hours
    assert summary(flags) == [(BEFORE_QUALITY, D("2026-09-08"), "error"), (TOO_CLOSE, D("2026-09-08"), "error"),
                              (TOO_CLOSE, D("2026-09-10"), "error")]
    assert flags[2].message == "Strength started 1.5 h after the Wed 23:00 run ended (minimum 3 h)"


@pytest.mark.parametrize(("days", "expected"), [
    # strength 07:00-07:45, quality run 17:30 the same day: 9.75 h apart, still before_quality
    ((("s", "2026-09-08", "07:00"), ("q", "2026-09-08", "17:30")), [(BEFORE_QUALITY, D("2026-09-08"), "error")]),
    # ... and close: both fire independently
    ((("s", "2026-09-08", "15:00"), ("q", "2026-09-08", "17:30")),
     [(BEFORE_QUALITY, D("2026-09-08"), "error"), (TOO_CLOSE, D("2026-09-08"), "error")]),
    # after the quality run is fine
    ((("q", "2026-09-08", "07:00"), ("s", "2026-09-08", "17:00")), []),
    # the evening before is another day, but only 11.25 h away: under quality_lead_hours (12)
    ((("s", "2026-09-07", "19:00"), ("q", "2026-09-08", "07:00")), [(BEFORE_QUALITY, D("2026-09-08"), "error")]),
    # 12.25 h away
    ((("s", "2026-09-07", "18:00"), ("q", "2026-09-08", "07:00")), []),
    # before an easy run is fine
    ((("s", "2026-09-08", "07:00"), ("e", "2026-09-08", "17:30")), []),
])
def test_before_quality(tmp_path, days, expected):
    sc = Scenario()
    for kind, on, at in days:
        if kind == "s":
            sc.strength(on, at)
        else:
            sc.run(on, at, 50, title="6x800 intervals" if kind == "q" else "Easy run")
    assert summary(sc.build(tmp_path, "2026-09-09")) == expected


@pytest.mark.parametrize(("hr", "expected"), [(175, [(BEFORE_QUALITY, D("2026-09-08"), "error")]), (171, [])])
def test_before_quality_by_threshold_hr(tmp_path, hr, expected):
    sc = Scenario(threshold_hr=172)
    sc.strength("2026-09-08", "07:00").run("2026-09-08", "17:30", 20, hr=hr)   # 20 min at/above threshold
    assert summary(sc.build(tmp_path, "2026-09-09")) == expected


def test_before_quality_on_a_race_day(tmp_path):
    sc = Scenario(races=[{"date": "2026-09-13", "name": "City 10k"}])
    sc.strength("2026-09-13", "06:00", 30).run("2026-09-13", "12:30", 40)      # untitled: the A race makes it quality
    assert summary(sc.build(tmp_path, "2026-09-14")) == [(BEFORE_QUALITY, D("2026-09-13"), "error")]


def test_spacing_across_spring_forward(tmp_path):
    # Sun 2026-03-29, Europe/Berlin: 02:00 CET -> 03:00 CEST.
    sc = Scenario(tz="Europe/Berlin")
    sc.strength("2026-03-29", "00:30", 45).run("2026-03-29", "04:30", 30)   # 01:15 CET -> 04:30 CEST = 2.25 h real
    flags = sc.build(tmp_path, "2026-03-30")
    assert summary(flags) == [(TOO_CLOSE, D("2026-03-29"), "error")]          # wall clock says 3.25 h
    assert flags[0].evidence["gap_hours"] == 2.25


def test_session_across_spring_forward_night(tmp_path):
    sc = Scenario(tz="Europe/Berlin")
    sc.strength("2026-03-29", "01:30", 60)        # 01:30 CET .. 03:30 CEST: one real hour
    sc.run("2026-03-29", "09:30", 30)             # exactly 6 h after 03:30 CEST
    assert summary(sc.build(tmp_path, "2026-03-30")) == []
    assert sc.query("SELECT strftime(start_local, '%H:%M'), strftime(timezone('Europe/Berlin', end_utc), '%H:%M'), "
                    "duration_s, local_date, iso_week FROM strength_sessions") == [
        ("01:30", "03:30", 3600.0, D("2026-03-29"), "2026-W13")]
    assert sc.query("SELECT gap_hours FROM spacing") == [(6.0,)]


def test_spacing_across_autumn_fall_back(tmp_path):
    # Sun 2026-10-25, Europe/Berlin: 03:00 CEST -> 02:00 CET.
    sc = Scenario(tz="Europe/Berlin")
    sc.strength("2026-10-25", "00:00", 15)        # ends 00:15 CEST = 22:15 UTC Sat
    sc.run("2026-10-25", "03:00", 30)             # 03:00 CET = 02:00 UTC: 3.75 h real, 2.75 h on the wall clock
    flags = sc.build(tmp_path, "2026-10-26")
    assert summary(flags) == [(SUBOPTIMAL, D("2026-10-25"), "warning")]
    assert flags[0].evidence["gap_hours"] == 3.75
    assert sc.query("SELECT local_date, iso_week FROM activities") == [(D("2026-10-25"), "2026-W43")]


# --- taper --------------------------------------------------------------------------------------
# A race Sun 2026-10-18, taper_days 14: the window is 10-04 .. 10-17.

RACE = [{"date": "2026-10-18", "name": "Autumn Marathon"}]


@pytest.mark.parametrize(("session_days", "expected"), [
    (("2026-10-03", "2026-10-04"), []),                                          # race - 15 is outside
    (("2026-10-04", "2026-10-17"), [(TOO_MANY, D("2026-10-17"), "error")]),     # race - 14 and race - 1
    (("2026-10-17", "2026-10-18"), []),                                          # race day itself is outside
    (("2026-10-04", "2026-10-10", "2026-10-17"), [(TOO_MANY, D("2026-10-10"), "error")]),  # dated on the 2nd
])
def test_taper_too_many_sessions(tmp_path, session_days, expected):
    sc = Scenario(races=RACE)
    for d in session_days:
        sc.strength(d, "17:00", 30)
    flags = sc.build(tmp_path, "2026-10-25")
    assert summary(flags) == expected
    if expected:
        n = sum("2026-10-04" <= d <= "2026-10-17" for d in session_days)
        assert flags[0].message == (f"{n} strength sessions in the 14 days before the A race Autumn Marathon "
                                    "on 2026-10-18 (taper: at most 1)")


@pytest.mark.parametrize(("on", "minutes", "expected"), [
    ("2026-10-10", 31, [(LONG, D("2026-10-10"), "warning")]),
    ("2026-10-10", 30, []),                 # exactly the limit
    ("2026-10-03", 60, []),                 # race - 15: before the taper
    ("2026-10-18", 60, []),                 # race day: not in the window
])
def test_taper_long_session(tmp_path, on, minutes, expected):
    sc = Scenario(races=RACE).strength(on, "17:00", minutes)
    flags = sc.build(tmp_path, "2026-10-25")
    assert summary(flags) == expected
    if expected:
        assert flags[0].message == ("31-min strength session 8 days before the A race Autumn Marathon on 2026-10-18 "
                                    "(taper limit 30 min)")


def test_taper_message_for_an_unnamed_race(tmp_path):
    sc = Scenario(races=[{"date": "2026-10-18"}]).strength("2026-10-17", "17:00", 40)
    flags = sc.build(tmp_path, "2026-10-25")
    assert [(f.rule, f.message) for f in flags] == [
        (LONG, "40-min strength session 1 day before the A race on 2026-10-18 (taper limit 30 min)")]


def test_no_taper_rules_for_b_races(tmp_path):
    sc = Scenario(races=[{"date": "2026-10-18", "priority": "B"}])
    sc.strength("2026-10-10", "17:00", 60).strength("2026-10-14", "17:00", 60)
    assert summary(sc.build(tmp_path, "2026-10-25")) == []


# --- program ------------------------------------------------------------------------------------
# First strength session Mon 2026-06-01: the beginner weeks are 06-01 .. 06-28 (first + 27).

@pytest.mark.parametrize(("offset", "session_sets", "expected"), [
    (27, sets("Bulgarian Split Squat", 3, 5), [(TOO_HEAVY, "warning")]),
    (28, sets("Bulgarian Split Squat", 3, 5), []),
    (27, sets("Step Up", 6, 15), []),
    (28, sets("Step Up", 6, 15), [(TOO_LIGHT, "warning")]),
    # warm-ups do not count either way
    (27, sets("Step Up", 1, 5, set_type="warmup") + sets("Step Up", 6, 10), []),
    (28, sets("Step Up", 1, 5, set_type="warmup") + sets("Step Up", 6, 20), [(TOO_LIGHT, "warning")]),
    # one working set under light_reps is enough; sets without reps (holds) are not judged
    (28, sets("Step Up", 5, 15) + sets("Lunge", 1, 14), []),
    (28, sets("Single Leg Plank", 3, None), []),
])
def test_beginner_weeks_edge(tmp_path, offset, session_sets, expected):
    sc = Scenario().strength("2026-06-01", "18:00")
    on = D("2026-06-01") + timedelta(days=offset)
    sc.strength(on, "18:00", sets=session_sets)
    flags = sc.build(tmp_path, "2026-07-31")
    assert summary(flags) == [(rule, on, severity) for rule, severity in expected]
    messages = {f.rule: f.message for f in flags}
    if TOO_HEAVY in messages:
        assert messages[TOO_HEAVY] == (
            "5-rep loaded set (bulgarian split squat) in the 18:00 session in beginner week 4 of 4: "
            "stay at 12-15 reps through 2026-06-28, heavy sets of 6 reps or fewer after that")
    if TOO_LIGHT in messages and len(session_sets) == 6:
        assert messages[TOO_LIGHT] == (
            "All 6 lower-body working sets in the 18:00 session had 15 or more reps (fewest 15): "
            "too light to build strength; go heavy with 3-6 reps at 70-85 % 1RM")


def test_to_failure_one_flag_per_session(tmp_path):
    sc = Scenario()
    sc.strength("2026-06-01", "18:00", sets=sets("Bulgarian Split Squat", 2, 8) + sets("Back Squat", 1, 8,
                                                                                        set_type="failure"))
    sc.strength("2026-06-03", "18:00", sets=sets("Bulgarian Split Squat", 3, 8, rpe=10))
    sc.strength("2026-06-05", "18:00", sets=sets("Bulgarian Split Squat", 3, 8, rpe=9.5))   # hard, not failure
    flags = sc.build(tmp_path, "2026-06-08")
    assert summary(flags) == [(FAILURE, D("2026-06-01"), "warning"), (FAILURE, D("2026-06-03"), "warning")]
    assert flags[1].message == ("3 sets to failure in the 18:00 session (bulgarian split squat): "
                                "stop 1-2 reps short of failure (RPE 8-9, not 10)")
    assert flags[0].evidence["failure_sets"] == 1 and flags[1].evidence["max_rpe"] == 10.0


def test_no_unilateral(tmp_path):
    sc = Scenario()
    sc.strength("2026-06-01", "18:00", sets=sets("Back Squat", 3, 8) + sets("Romanian Deadlift", 3, 8))
    sc.strength("2026-06-03", "18:00", sets=sets("Back Squat", 3, 8) + sets("Single Leg RDL", 3, 8))
    sc.strength("2026-06-05", "18:00", sets=[])                  # a session without logged sets is not judged
    flags = sc.build(tmp_path, "2026-06-08")
    assert summary(flags) == [(NO_UNILATERAL, D("2026-06-01"), "info")]
    assert flags[0].message == ("No unilateral lower-body exercise in the 18:00 session (back squat, "
                                "romanian deadlift): include at least 1, such as split squats or step-ups")


# --- load.acwr_high -----------------------------------------------------------------------------
# Runs without HR (load = minutes), 60 min at 18:00; strength Tue/Thu 07:00 keeps the other rules quiet.

def _acwr_block(sc: Scenario, daily_weeks: set[int]) -> Scenario:
    for w in range(5):
        days = tuple(range(7)) if w in daily_weeks else (0, 2, 4)
        training_week(sc, D("2026-06-01") + timedelta(weeks=w), run_days=days, run_minutes=60)
    return sc


def test_acwr_high_once_per_week_on_the_first_day(tmp_path):
    # 4 weeks of 3 x 60 min, then a week of 7 x 60: ACWR 1.43 on Fri 07-03, 1.60 on Sat 07-04,
    # 1.75 on Sun 07-05; on Mon 07-06 it is still 1.60 (a new week, a new flag). Seven equal days
    # are also a monotony of 10 (its own flag, on the week's Monday).
    sc = _acwr_block(Scenario(), daily_weeks={4})
    flags = sc.build(tmp_path, "2026-07-06")
    assert summary(flags) == [(MONOTONY, D("2026-06-29"), "warning"), (ACWR, D("2026-07-04"), "warning"),
                              (ACWR, D("2026-07-06"), "warning")]
    flags = flags[1:]
    assert flags[0].message == ("Load spike on Sat 2026-07-04: 7-day load 360 is 1.60 times the 4-week average "
                                "of 225 per week (ACWR limit 1.5); 2 days over the limit this week")
    assert flags[0].evidence == {"iso_week": "2026-W27", "acwr": 1.6, "acute_7d": 360.0, "chronic_28d": 900.0,
                                 "max_acwr": 1.75, "days_over": 2, "acwr_method": "rolling"}


def test_acwr_not_judged_in_the_first_27_days(tmp_path):
    # a spike in the very first week (ACWR would be 4.0 on day 7), then steady: never flagged
    sc = _acwr_block(Scenario(), daily_weeks={0})
    assert summary(sc.build(tmp_path, "2026-07-06")) == []


def test_acwr_threshold_from_config(tmp_path):
    sc = _acwr_block(Scenario(rules={"acwr_max": 1.75, "monotony_max": 10}), daily_weeks={4})
    assert summary(sc.build(tmp_path, "2026-07-06")) == []         # 1.75 is not above 1.75
