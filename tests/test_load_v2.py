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
