"""Load metrics against values computed by hand: TRIMP, ACWR, Foster monotony/strain, ATL/CTL (v2).

Scenarios go through the real ingest loader and model build (tests/scenario.py); the expected
numbers are computed here from the definitions in SPEC and in the SQL models' comments.
"""

from __future__ import annotations

import math
import statistics
from datetime import date, timedelta

import pytest

from tests.scenario import Scenario

D = date.fromisoformat
MONDAY = D("2026-06-01")


def banister(hr: float, rest: float = 50, hr_max: float = 190, sex: str = "m", minutes: float = 60) -> float:
    """TRIMP = minutes x HRr x k x e^(b x HRr), HRr = (HR - rest) / (max - rest)."""
    hrr = (hr - rest) / (hr_max - rest)
    k, b = (0.64, 1.92) if sex == "m" else (0.86, 1.67)
    return minutes * hrr * k * math.exp(b * hrr)


def test_banister_by_hand():
    hrr = 100 / 140
    assert banister(150) == pytest.approx(60 * hrr * 0.64 * math.exp(1.92 * hrr))
    assert banister(150) == pytest.approx(108.0954, abs=1e-3)
    assert banister(150, sex="f") == pytest.approx(60 * hrr * 0.86 * math.exp(1.67 * hrr))
    assert banister(150, sex="f") == pytest.approx(121.4991, abs=1e-3)


@pytest.mark.parametrize("sex", ["m", "f"])
def test_trimp_of_a_constant_hr_hour(tmp_path, sex):
    # one sample every 10 s for 60 min at HR 150: 361 samples, 3600 s integrated
    sc = Scenario(sex=sex, max_hr=190, resting_hr=50).run(MONDAY, "18:00", 60, hr=150)
    sc.build(tmp_path, MONDAY + timedelta(days=1))
    expected = banister(150, sex=sex)
    assert sc.query("SELECT trimp FROM activities") == [(pytest.approx(expected, rel=1e-9),)]
    assert sc.query("SELECT trimp, load, run_minutes FROM daily_load WHERE local_date = ?", [MONDAY]) == [
        (pytest.approx(expected, rel=1e-9), pytest.approx(expected, rel=1e-9), 60.0)]


def test_trimp_falls_back_to_average_hr(tmp_path):
    sc = Scenario().run(MONDAY, "18:00", 60, avg_hr=150)          # samples without heart rate
    sc.build(tmp_path, MONDAY + timedelta(days=1))
    assert sc.query("SELECT avg_hr, trimp FROM activities") == [(150.0, pytest.approx(banister(150), rel=1e-9))]


def test_run_without_hr_loads_its_minutes(tmp_path):
    sc = Scenario().run(MONDAY, "18:00", 45)
    sc.build(tmp_path, MONDAY + timedelta(days=1))
    assert sc.query("SELECT trimp FROM activities") == [(None,)]
    assert sc.query("SELECT trimp, load, run_minutes FROM daily_load WHERE local_date = ?", [MONDAY]) == [
        (0.0, 45.0, 45.0)]


def test_hr_is_clamped_to_the_reserve(tmp_path):
    # above max HR counts as HRr 1, below resting as 0
    sc = Scenario().run(MONDAY, "08:00", 60, hr=200).run(MONDAY + timedelta(days=1), "08:00", 60, hr=40)
    sc.build(tmp_path, MONDAY + timedelta(days=2))
    assert sc.query("SELECT trimp FROM activities ORDER BY start_utc") == [
        (pytest.approx(60 * 0.64 * math.exp(1.92)),), (0.0,)]


# --- ACWR ---------------------------------------------------------------------------------------
# 5 weeks from Mon 2026-06-01: weeks 1-4 run 60 min Mon/Wed/Fri, week 5 every day (no HR: load = minutes).

def _five_weeks(tmp_path) -> tuple[Scenario, dict[date, float]]:
    sc = Scenario()
    loads: dict[date, float] = {}
    for w in range(5):
        for d in range(7) if w == 4 else (0, 2, 4):
            day = MONDAY + timedelta(weeks=w, days=d)
            sc.run(day, "18:00", 60)
            loads[day] = 60.0
    sc.build(tmp_path, MONDAY + timedelta(days=35))
    return sc, loads


def test_acwr_known_series(tmp_path):
    sc, _ = _five_weeks(tmp_path)
    acwr = dict(sc.query("SELECT local_date, acwr FROM daily_load ORDER BY local_date"))
    first = MONDAY
    # null before 28 days of history (first + 27 is the first judged day)
    assert all(acwr[first + timedelta(days=i)] is None for i in range(27))
    assert acwr[first + timedelta(days=27)] == pytest.approx(180 / (720 / 4))    # Sun wk 4: 1.0
    assert acwr[first + timedelta(days=29)] == pytest.approx(240 / (780 / 4))    # Tue wk 5: 1.2308
    assert acwr[first + timedelta(days=31)] == pytest.approx(300 / (840 / 4))    # Thu: 1.4286
    assert acwr[first + timedelta(days=32)] == pytest.approx(300 / (840 / 4))    # Fri: 1.4286
    assert acwr[first + timedelta(days=33)] == pytest.approx(1.6)                # Sat: 360 / (900 / 4)
    assert acwr[first + timedelta(days=34)] == pytest.approx(1.75)               # Sun: 420 / (960 / 4)
    assert acwr[first + timedelta(days=35)] == pytest.approx(1.6)                # Mon wk 6: 360 / (900 / 4)


def test_acwr_matches_the_definition_on_every_day(tmp_path):
    sc, loads = _five_weeks(tmp_path)
    rows = sc.query("SELECT local_date, load, acute_7d, chronic_28d, acwr FROM daily_load ORDER BY local_date")
    assert rows[0][0] == MONDAY and len(rows) == 36
    for day, load, acute, chronic, acwr in rows:
        a = sum(loads.get(day - timedelta(days=i), 0) for i in range(7))
        c = sum(loads.get(day - timedelta(days=i), 0) for i in range(28))
        assert (load, acute, chronic) == (loads.get(day, 0), a, c)
        assert acwr == (None if day < MONDAY + timedelta(days=27) else pytest.approx(a / (c / 4)))


def test_acwr_history_counts_from_the_first_activity_not_the_monday(tmp_path):
    # first activity on a Thursday: the series starts on its Monday, ACWR on Thursday + 27
    sc = Scenario()
    for i in range(0, 35, 2):
        sc.run(D("2026-06-04") + timedelta(days=i), "18:00", 30)
    sc.build(tmp_path, "2026-07-10")
    acwr = dict(sc.query("SELECT local_date, acwr FROM daily_load"))
    assert min(acwr) == MONDAY
    assert acwr[D("2026-06-30")] is None and acwr[D("2026-07-01")] is not None    # 06-04 + 27 = 07-01


# --- Foster monotony and strain -------------------------------------------------------------------

def test_monotony_and_strain_with_zero_load_days(tmp_path):
    sc = Scenario()
    week = {0: 60, 2: 30, 4: 90}                          # Mon, Wed, Fri; four rest days with load 0
    for d, minutes in week.items():
        sc.run(MONDAY + timedelta(days=d), "18:00", minutes)
    sc.run(MONDAY + timedelta(days=7), "18:00", 40)       # the week after: one run, six rest days
    sc.build(tmp_path, MONDAY + timedelta(days=14))
    daily = [week.get(d, 0) for d in range(7)]
    mean, sd = sum(daily) / 7, statistics.pstdev(daily)   # population SD, zero days included
    assert sd == pytest.approx(math.sqrt(sum((x - mean) ** 2 for x in daily) / 7))
    rows = sc.query("SELECT iso_week, run_count, load, monotony, strain FROM weekly_load ORDER BY iso_week")
    assert rows[0] == ("2026-W23", 3, 180.0, pytest.approx(mean / sd), pytest.approx(180 * mean / sd))
    assert rows[0][3] == pytest.approx(0.7620, abs=1e-4)
    second = [40, 0, 0, 0, 0, 0, 0]
    assert rows[1] == ("2026-W24", 1, 40.0, pytest.approx((40 / 7) / statistics.pstdev(second)),
                       pytest.approx(40 * (40 / 7) / statistics.pstdev(second)))


def test_monotony_is_capped_at_10_when_every_day_is_the_same(tmp_path):
    # SD 0 with a non-zero load: monotony 10 (SPEC), not a division by zero
    sc = Scenario()
    for d in range(7):
        sc.run(MONDAY + timedelta(days=d), "18:00", 30)
    sc.build(tmp_path, MONDAY + timedelta(days=8))
    assert sc.query("SELECT load, monotony, strain FROM weekly_load WHERE iso_week = '2026-W23'") == [
        (210.0, 10.0, 2100.0)]


# --- ATL / CTL ----------------------------------------------------------------------------------

def test_atl_ctl_recurrence(tmp_path):
    sc = Scenario()
    minutes = {0: 60, 1: 0, 2: 30, 3: 0, 4: 90, 5: 0, 6: 120}
    for d, m in minutes.items():
        if m:
            sc.run(MONDAY + timedelta(days=d), "18:00", m)
    sc.build(tmp_path, MONDAY + timedelta(days=9))
    rows = sc.query("SELECT local_date, atl, ctl FROM daily_load ORDER BY local_date")
    assert len(rows) == 10
    # x_t = x_{t-1} + (load_t - x_{t-1}) / T, seeded with the mean daily load of the series' first
    # 42 days: here all 10 of them, 300 / 10
    atl = ctl = seed = 300 / 10
    for i, (day, got_atl, got_ctl) in enumerate(rows):
        load = minutes.get(i, 0)
        atl += (load - atl) / 7
        ctl += (load - ctl) / 42
        assert day == MONDAY + timedelta(days=i)
        assert (got_atl, got_ctl) == (pytest.approx(atl), pytest.approx(ctl))
    assert rows[0][1:] == (pytest.approx(seed + (60 - seed) / 7), pytest.approx(seed + (60 - seed) / 42))


def test_exponential_averages_over_years_match_the_recurrence(tmp_path):
    # daily_load computes them set-based, in 64-day blocks; over 500 days (8 blocks) with a
    # 70-day break (the averages decay towards 0 across a block boundary) every day matches the
    # day-by-day recurrence of the file header to 1e-9
    import random

    rng = random.Random(5)
    sc = Scenario(rules={"acwr_method": "ewma", "acwr_min_weekly_load": 1})
    days = [d for d in range(3, 500) if rng.random() < 0.5 and not 200 <= d < 270]
    for d in days:
        sc.run(MONDAY + timedelta(days=d), "18:00", rng.choice([20, 35, 50, 80]))
    sc.build(tmp_path, MONDAY + timedelta(days=505))
    rows = sc.query("SELECT load, atl, ctl, acwr, local_date FROM daily_load ORDER BY local_date")
    loads = [r[0] for r in rows]
    first = (MONDAY + timedelta(days=days[0]) - rows[0][4]).days  # the series starts on the first run's Monday
    atl = ctl = sum(loads[:42]) / 42
    acute = chronic = sum(loads[first:first + 28]) / 28
    for i, (load, got_atl, got_ctl, got_acwr, _) in enumerate(rows):
        atl += (load - atl) / 7
        ctl += (load - ctl) / 42
        if i >= first:
            acute += (load - acute) * 2 / 8
            chronic += (load - chronic) * 2 / 29
        assert (got_atl, got_ctl) == (pytest.approx(atl, rel=1e-9), pytest.approx(ctl, rel=1e-9))
        if got_acwr is not None:
            assert got_acwr == pytest.approx(acute / chronic, rel=1e-9)
    assert sum(r[3] is not None for r in rows) > 300
