"""Load v2 (SPEC "Training load of a run", ACWR, Daily series, Monotony, load rules) on scenarios.

Every scenario goes through ingest's loader and the real build (tests/scenario.py); expected
numbers are computed here from the SPEC definitions, over small hand-written load lists.
"""

from __future__ import annotations

import math
import statistics
from datetime import date, timedelta

import pytest

from tests.scenario import Scenario, summary

D = date.fromisoformat
MONDAY = D("2026-06-01")
ACWR = "load.acwr_high"
MONOTONY = "load.monotony_high"


def banister(hr: float, minutes: float, rest: float = 50, hr_max: float = 190) -> float:
    """Banister TRIMP of ``minutes`` at a constant ``hr`` (men's weighting)."""
    hrr = (hr - rest) / (hr_max - rest)
    return minutes * hrr * 0.64 * math.exp(1.92 * hrr)


def runs(sc: Scenario) -> list[tuple]:
    return sc.query("SELECT local_date, hr_coverage, load_source, load, is_long FROM activities "
                    "WHERE sport = 'running' ORDER BY start_utc")


# --- load of a run --------------------------------------------------------------------------------
# Samples every 10 s; each HR sample counts until the next HR sample, so HR until minute 48.1 (last
# HR sample at 2880 s) covers 2880 of 3600 s = exactly 0.8; until minute 48 (last at 2870 s) 0.797.

@pytest.mark.parametrize(("hr_minutes", "coverage", "source"), [
    (48.1, 0.8, "hr"),
    (48.0, 2870 / 3600, "estimated"),
])
def test_hr_coverage_at_and_just_under_the_minimum(tmp_path, hr_minutes, coverage, source):
    sc = Scenario().run(MONDAY, "18:00", 60, hr=150)                         # full HR: 150 bpm
    sc.run(MONDAY + timedelta(days=1), "18:00", 60, hr=150, hr_minutes=hr_minutes)
    sc.build(tmp_path, MONDAY + timedelta(days=2))
    per_min = banister(150, 60) / 60
    covered_trimp = banister(150, 2880 / 60 if source == "hr" else 2870 / 60)
    load = covered_trimp if source == "hr" else 60 * per_min
    assert runs(sc) == [(MONDAY, 1.0, "hr", pytest.approx(banister(150, 60)), False),
                        (MONDAY + timedelta(days=1), pytest.approx(coverage), source, pytest.approx(load), False)]
    assert sc.query("SELECT trimp FROM activities ORDER BY start_utc")[1] == (pytest.approx(covered_trimp),)


def test_hr_dropout_run_gets_the_athletes_own_trimp_per_minute(tmp_path):
    # three HR-covered runs (median TRIMP/min from the 45-min one at 150 bpm), then a 60-min run
    # whose optical HR stopped after 5 minutes: its load is 60 x that median, not 5 minutes' TRIMP
    sc = Scenario()
    sc.run(MONDAY, "18:00", 30, hr=140).run(MONDAY + timedelta(days=2), "18:00", 45, hr=150)
    sc.run(MONDAY + timedelta(days=4), "18:00", 40, hr=160)
    sc.run(MONDAY + timedelta(days=6), "18:00", 60, hr=150, hr_minutes=5)
    sc.build(tmp_path, MONDAY + timedelta(days=7))
    rates = sorted([banister(140, 30) / 30, banister(150, 45) / 45, banister(160, 40) / 40])
    assert runs(sc)[3] == (MONDAY + timedelta(days=6), pytest.approx(290 / 3600), "estimated",
                           pytest.approx(60 * rates[1]), False)
    assert 60 * rates[1] == pytest.approx(banister(150, 60))
    assert sc.query("SELECT trimp FROM activities ORDER BY start_utc")[3] == (pytest.approx(banister(150, 29 / 6)),)


def test_estimate_uses_the_90_days_before_else_every_covered_run(tmp_path):
    a, b = D("2026-03-01"), D("2026-06-09")                      # covered runs 100 days apart
    sc = Scenario()
    sc.run(a - timedelta(days=5), "08:00", 50)                   # before any HR: all covered runs
    sc.run(a, "08:00", 60, hr=140)
    sc.run(a + timedelta(days=50), "08:00", 40)                  # 50 days after a: a's rate
    sc.run(b, "08:00", 60, hr=160)
    sc.run(b + timedelta(days=20), "08:00", 30)                  # a is 120 days back: b's rate only
    sc.build(tmp_path, b + timedelta(days=21))
    ra, rb = banister(140, 60) / 60, banister(160, 60) / 60
    assert runs(sc) == [
        (a - timedelta(days=5), 0.0, "estimated", pytest.approx(50 * (ra + rb) / 2), False),
        (a, 1.0, "hr", pytest.approx(60 * ra), False),
        (a + timedelta(days=50), 0.0, "estimated", pytest.approx(40 * ra), False),
        (b, 1.0, "hr", pytest.approx(60 * rb), False),
        (b + timedelta(days=20), 0.0, "estimated", pytest.approx(30 * rb), False)]


def test_minutes_only_without_any_hr_and_summary_hr_counts_as_covered(tmp_path):
    sc = Scenario(long_run_minutes=60).run(MONDAY, "08:00", 59.5).run(MONDAY + timedelta(days=1), "08:00", 60)
    sc.build(tmp_path, MONDAY + timedelta(days=2))
    assert runs(sc) == [(MONDAY, 0.0, "minutes", 59.5, False), (MONDAY + timedelta(days=1), 0.0, "minutes", 60.0, True)]
    other = Scenario().run(MONDAY, "08:00", 60, avg_hr=150)      # a summary HR only, no HR samples
    other.build(tmp_path / "b", MONDAY + timedelta(days=1))
    assert runs(other) == [(MONDAY, 1.0, "hr", pytest.approx(banister(150, 60)), False)]


def test_moving_time_decides_coverage_and_long_runs(tmp_path):
    # 100 min elapsed with HR all along but 75 min moving: HR covers more than the moving time (capped
    # at 1); the run is long at 75 moving minutes only with long_run_minutes = 75
    sc = Scenario(long_run_minutes=75).run(MONDAY, "08:00", 100, hr=150, moving_s=4500)
    sc.run(MONDAY + timedelta(days=1), "08:00", 100, moving_s=4499)
    sc.build(tmp_path, MONDAY + timedelta(days=2))
    assert runs(sc) == [(MONDAY, 1.0, "hr", pytest.approx(banister(150, 100)), True),
                        (MONDAY + timedelta(days=1), 0.0, "estimated",
                         pytest.approx(4499 / 60 * banister(150, 100) / 75), False)]


def test_non_runs_have_no_load_and_are_never_long(tmp_path):
    sc = Scenario(long_run_minutes=30).run(MONDAY, "08:00", 120, hr=140, sport="cycling")
    sc.strength(MONDAY, "18:00", 60)
    sc.build(tmp_path, MONDAY + timedelta(days=1))
    # (a logged strength session is not an activity row here; a FIT strength activity would be one)
    assert sc.query("SELECT sport, hr_coverage, load, load_source, is_long FROM activities") == [
        ("cycling", 1.0, None, None, False)]
    assert sc.query("SELECT load FROM daily_load WHERE local_date = ?", [MONDAY]) == [(0.0,)]


# --- load.acwr_high -----------------------------------------------------------------------------
# strength_target_per_week = 0 keeps strength.missed_sessions out of the way; runs at 18:00.

def quiet(*, races: list[dict] | None = None, rules: dict | None = None) -> Scenario:
    return Scenario(strength_target_per_week=0, races=races, rules=rules)


def mon_wed_fri(sc: Scenario, weeks: range, minutes: float = 60, hr: float | None = None) -> Scenario:
    for w in weeks:
        for d in (0, 2, 4):
            sc.run(MONDAY + timedelta(weeks=w, days=d), "18:00", minutes, hr=hr)
    return sc


def test_chest_strap_in_week_7_of_identical_training_raises_nothing(tmp_path):
    # v1 mixed minutes (weeks 1-6) with TRIMP (weeks 7-8) and flagged ACWR 1.55; v2 estimates the
    # earlier runs from the athlete's own TRIMP per minute, so the load stays the same every week
    sc = mon_wed_fri(quiet(), range(6))
    mon_wed_fri(sc, range(6, 8), hr=150)
    flags = sc.build(tmp_path, MONDAY + timedelta(weeks=8))
    assert summary(flags) == []
    rows = sc.query("SELECT load_source, load FROM activities ORDER BY start_utc")
    one = pytest.approx(banister(150, 60))
    assert rows == [("estimated", one)] * 18 + [("hr", one)] * 6
    acwr = [a for (a,) in sc.query("SELECT acwr FROM daily_load WHERE acwr IS NOT NULL")]
    assert len(acwr) == 57 - 27 and max(acwr) == pytest.approx(1.0) and min(acwr) > 0.7


@pytest.mark.parametrize(("min_weekly", "expected"), [
    (60, []),                                        # 28-day load / 4 is a few seconds' worth: not judged
    (0, [(ACWR, D("2026-07-31"), "warning")]),      # 4.0 on 07-31 and 08-01
])
def test_one_second_run_after_a_month_off(tmp_path, min_weekly, expected):
    sc = mon_wed_fri(quiet(rules={"acwr_min_weekly_load": min_weekly}), range(4))
    sc.run("2026-07-31", "18:00", 1 / 60)            # 35 days after the last run
    flags = sc.build(tmp_path, "2026-08-01")
    assert summary(flags) == expected
    if flags:
        assert flags[0].message == ("Load spike on Fri 2026-07-31: 7-day load 0.017 is 4.00 times the 4-week average "
                                    "of 0.0042 per week (ACWR limit 1.5); 2 days over the limit this week")


def _spike_week(sc: Scenario, spike_day: int, then_run: bool) -> Scenario:
    # 4 weeks of Mon/Wed/Fri 60 min; week 5: Mon, Wed 60 and a 240-min race on `spike_day`
    mon_wed_fri(sc, range(4))
    week5 = MONDAY + timedelta(weeks=4)
    sc.run(week5, "18:00", 60).run(week5 + timedelta(days=2), "18:00", 60)
    sc.run(week5 + timedelta(days=spike_day), "09:00", 240)
    if then_run:
        sc.run(week5 + timedelta(days=spike_day + 1), "18:00", 60)
    return sc


@pytest.mark.parametrize(("race", "priority", "spike_day", "then_run", "expected"), [
    # Sun 07-05: 360 / (900 / 4) = 1.60 on the race day only (Mon 07-06 is back to 1.43)
    ("2026-07-05", "B", 6, False, []),
    ("2026-07-05", "C", 6, False, []),
    ("2026-07-04", "B", 6, False, [(ACWR, D("2026-07-05"), "warning")]),       # the spike a day after the race
    (None, None, 6, False, [(ACWR, D("2026-07-05"), "warning")]),
    # race Sat 07-04 (1.60) and a run on Sun (420 / 240 = 1.75): the first non-race day over is Sunday;
    # Mon 07-06 (360 / 225 = 1.60) starts a new week
    ("2026-07-04", "B", 5, True, [(ACWR, D("2026-07-05"), "warning"), (ACWR, D("2026-07-06"), "warning")]),
])
def test_no_spike_flag_on_a_race_day(tmp_path, race, priority, spike_day, then_run, expected):
    races = [{"date": race, "name": "Race", "priority": priority}] if race else []
    sc = _spike_week(quiet(races=races), spike_day, then_run)
    flags = sc.build(tmp_path, "2026-07-06")
    assert summary(flags) == expected
    if race == "2026-07-04" and then_run:
        assert flags[0].evidence == {"iso_week": "2026-W27", "acwr": 1.75, "acwr_method": "rolling",
                                     "acute_7d": 420.0, "chronic_28d": 960.0, "max_acwr": 1.75, "days_over": 1}


def _five_weeks(sc: Scenario) -> Scenario:
    # weeks 1-4 Mon/Wed/Fri 60 min, week 5 every day: ACWR 1.60 on Sat 07-04 (28-day load 900),
    # 1.75 on Sun 07-05 (960), 1.60 on Mon 07-06 (900); week 5 has monotony 10 (7 equal days)
    mon_wed_fri(sc, range(4))
    for d in range(7):
        sc.run(MONDAY + timedelta(weeks=4, days=d), "18:00", 60)
    return sc


@pytest.mark.parametrize(("min_weekly", "expected"), [
    (225, [(MONOTONY, D("2026-06-29"), "warning"), (ACWR, D("2026-07-04"), "warning"),
           (ACWR, D("2026-07-06"), "warning")]),
    (225.5, [(MONOTONY, D("2026-06-29"), "warning"), (ACWR, D("2026-07-05"), "warning")]),
])
def test_acwr_min_weekly_load_at_and_just_over_the_chronic_load(tmp_path, min_weekly, expected):
    sc = _five_weeks(quiet(rules={"acwr_min_weekly_load": min_weekly}))
    assert summary(sc.build(tmp_path, "2026-07-06")) == expected


# --- the three ACWR methods against a hand-computed series ---------------------------------------

LOADS = [30, 0, 45, 0, 60, 0, 90] * 4 + [60, 75, 60, 0, 90, 45, 120, 30]   # minutes a day from MONDAY


def expected_acwr(method: str) -> list[float | None]:
    out: list[float | None] = []
    seed = sum(LOADS[:28]) / 28                     # EWMA seed: mean daily load of the first run's 28 days
    ea = ec = seed
    for i, load in enumerate(LOADS):
        ea += (load - ea) * 2 / 8
        ec += (load - ec) * 2 / 29
        acute, chronic = sum(LOADS[max(0, i - 6):i + 1]), sum(LOADS[max(0, i - 27):i + 1])
        before = chronic - acute
        ratio = {"rolling": acute / (chronic / 4), "uncoupled": (acute / 7) / (before / 21) if before else None,
                 "ewma": ea / ec}[method]
        out.append(ratio if i >= 27 else None)
    return out


@pytest.mark.parametrize("method", ["rolling", "uncoupled", "ewma"])
def test_acwr_methods_against_hand_computed_series(tmp_path, method):
    sc = quiet(rules={"acwr_method": method, "acwr_max": 10, "acwr_min_weekly_load": 0})
    for i, minutes in enumerate(LOADS):
        if minutes:
            sc.run(MONDAY + timedelta(days=i), "18:00", minutes)
    sc.build(tmp_path, MONDAY + timedelta(days=len(LOADS) - 1))
    got = [a for (a,) in sc.query("SELECT acwr FROM daily_load ORDER BY local_date")]
    want = expected_acwr(method)
    assert got == [None if w is None else pytest.approx(w, rel=1e-9) for w in want]
    assert want[27] is not None and want[-1] is not None
    if method == "rolling":                          # day 28: 225 / (900 / 4)
        assert want[27] == 1.0


# --- ATL / CTL seeding and TSB ----------------------------------------------------------------

def test_atl_ctl_seeded_with_the_first_42_days_and_tsb(tmp_path):
    sc = quiet().run(MONDAY, "18:00", 60).run(MONDAY + timedelta(days=45), "18:00", 100)
    sc.build(tmp_path, MONDAY + timedelta(days=49))
    rows = sc.query("SELECT local_date, atl, ctl, tsb FROM daily_load ORDER BY local_date")
    assert len(rows) == 50
    loads = {0: 60, 45: 100}
    atl = ctl = 60 / 42                               # the 100 on day 45 is outside the first 42 days
    prev: tuple[float, float] | None = None
    for i, (day, got_atl, got_ctl, got_tsb) in enumerate(rows):
        atl += (loads.get(i, 0) - atl) / 7
        ctl += (loads.get(i, 0) - ctl) / 42
        assert (day, got_atl, got_ctl) == (MONDAY + timedelta(days=i), pytest.approx(atl), pytest.approx(ctl))
        assert got_tsb == (None if prev is None else pytest.approx(prev[1] - prev[0]))
        prev = (atl, ctl)


def test_short_series_seeds_with_all_its_days(tmp_path):
    sc = quiet().run(MONDAY, "18:00", 30).run(MONDAY + timedelta(days=2), "18:00", 40)
    sc.build(tmp_path, MONDAY + timedelta(days=3))
    seed = 70 / 4
    a0, c0 = seed + (30 - seed) / 7, seed + (30 - seed) / 42
    a1, c1 = a0 - a0 / 7, c0 - c0 / 42
    rows = sc.query("SELECT atl, ctl, tsb FROM daily_load ORDER BY local_date")
    assert rows[:3] == [(pytest.approx(a0), pytest.approx(c0), None),
                        (pytest.approx(a1), pytest.approx(c1), pytest.approx(c0 - a0)),
                        (pytest.approx(a1 + (40 - a1) / 7), pytest.approx(c1 + (40 - c1) / 42),
                         pytest.approx(c1 - a1))]


# --- monotony and load.monotony_high ------------------------------------------------------------

def test_monotony_capped_at_10_and_null_without_load_or_a_full_week(tmp_path):
    sc = quiet()
    for d in range(7):                                # six 60-min days and one of 66: mean/SD 29 -> 10
        sc.run(MONDAY + timedelta(days=d), "18:00", 66 if d == 3 else 60)
    sc.run(MONDAY + timedelta(days=14), "18:00", 30)  # week 3 runs, the as-of week is cut short
    sc.build(tmp_path, MONDAY + timedelta(days=16))
    daily = [60, 60, 60, 66, 60, 60, 60]
    assert statistics.mean(daily) / statistics.pstdev(daily) > 10
    assert sc.query("SELECT iso_week, load, monotony, strain FROM weekly_load ORDER BY iso_week") == [
        ("2026-W23", 426.0, 10.0, 4260.0), ("2026-W24", 0.0, None, None), ("2026-W25", 30.0, None, None)]


def _monotony_scenario(run_days: tuple[int, ...], **rules: object) -> Scenario:
    # a run in the week before (the first activity's week is never judged), then the week judged
    sc = quiet(rules=rules).run(MONDAY, "18:00", 60)
    for d in run_days:
        sc.run(MONDAY + timedelta(weeks=1, days=d), "18:00", 60)
    return sc


@pytest.mark.parametrize(("run_days", "rules", "expected"), [
    ((0, 1, 2, 3, 4, 5), {}, [(MONOTONY, D("2026-06-08"), "warning")]),       # 6 x 60: monotony 2.45
    ((0, 1, 2, 3, 4), {}, []),                                                # 5 x 60: 1.58
    ((0, 2, 4), {"monotony_max": 0.5}, [(MONOTONY, D("2026-06-08"), "warning")]),  # 3 runs: 0.87
    ((0, 3), {"monotony_max": 0.5}, []),                                      # 2 runs: 0.63, too few runs
])
def test_monotony_high(tmp_path, run_days, rules, expected):
    sc = _monotony_scenario(run_days, **rules)
    flags = sc.build(tmp_path, MONDAY + timedelta(days=14))
    assert summary(flags) == expected
    if run_days == (0, 1, 2, 3, 4, 5):
        assert flags[0].message == (
            "Monotonous training in 2026-W24: monotony 2.45 is above the limit of 2 over 6 runs (strain 882); the "
            "days' loads barely vary, so easy and rest days do not let you recover, and high monotony with high "
            "strain goes with illness and overtraining: make easy days easier and keep rest days")
        assert flags[0].evidence == {"iso_week": "2026-W24", "monotony": 2.45, "monotony_max": 2.0, "strain": 881.8,
                                     "load": 360.0, "run_count": 6}


def test_monotony_high_waits_for_the_complete_week(tmp_path):
    sc = _monotony_scenario((0, 1, 2, 3, 4, 5))
    assert summary(sc.build(tmp_path, MONDAY + timedelta(days=13))) == []   # as of its Sunday: not complete
