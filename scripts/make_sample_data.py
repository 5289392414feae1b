"""Generate ``sample_data/``: ten weeks of one runner-who-lifts before an A-race marathon.

Deterministic: fixed seeds and dates, no wall-clock input, so running it twice gives
byte-identical files. Usage::

    .venv/bin/python scripts/make_sample_data.py [--out DIR] [--jobs N]

The athlete "me" (Europe/Berlin) trains from Friday 2026-08-07 (first strength session,
ISO week 2026-W32) to the "Lakeside Marathon" on Sunday 2026-10-18 (W42). Runs are FIT
files (1 Hz; long runs with 5 s smart recording) and GPX exports (5 s, titled, Garmin
TrackPointExtension heart rate); strength comes from a Strong CSV, a Hevy CSV, one watch
FIT file that duplicates a Hevy session and one of a session logged on the watch only.
Situations the rules must flag, and contract v2 cases that must stay silent (a warm-up jog,
a mobility log, an HR dropout), are planted on purpose; the script re-derives every expected
flag from the generated data with a small reference implementation of the SPEC's (contract
v2) definitions and rules, written independently of ``pipeline/``, and writes them to
``expected_flags.json`` and the README, failing loudly if the data does not produce exactly
the planted set or a run's quality signal
sits too close to its threshold for another implementation to agree.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from multiprocessing import Pool
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import fitgen
import gpxpy
import gpxpy.gpx
import numpy as np
from fit_tool.profile.profile_type import (
    CalfRaiseExerciseName,
    DeadliftExerciseName,
    HipRaiseExerciseName,
    LungeExerciseName,
    PlankExerciseName,
    PlyoExerciseName,
    SquatExerciseName,
    WarmUpExerciseName,
)
from fitgen import ExerciseCategory as Cat
from fitgen import Intensity, Segment, SubSport, WatchSet

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "sample_data"
TZ = ZoneInfo("Europe/Berlin")
SEED = 20261018

ATHLETE: dict[str, Any] = {"id": "me", "max_hr": 190, "resting_hr": 50, "threshold_hr": 172, "threshold_pace": "4:15",
                           "target": 2, "strength_experience": "new"}
THRESHOLD_SPEED_MPS = 1000 / (4 * 60 + 15)  # threshold_pace 4:15 min/km
RACE_DATE = date(2026, 10, 18)
RACE_NAME = "Lakeside Marathon"
RULES = {
    "min_gap_hours": 3,
    "optimal_gap_hours": 6,
    "detraining_days": 28,
    "taper_days": 14,
    "taper_max_minutes": 30,
    "acwr_max": 1.5,
    "light_reps": 15,
    "beginner_weeks": 4,
    "quality_lead_hours": 12,
    "warmup_max_minutes": 15,
    "warmup_window_minutes": 30,
    "min_session_minutes": 15,
    "min_working_sets": 6,
    "acwr_min_weekly_load": 60,
    "monotony_max": 2.0,
    "hr_min_coverage": 0.8,
    "heavy_pct_e1rm": 70,
    "heavy_max_reps": 6,
    "long_run_gap_hours": 24,
}
LONG_RUN_MINUTES = 90  # the athlete's long_run_minutes (default)
# The SPEC's English quality keywords (whole words) and easy words; enough for the sample's titles.
QUALITY_TITLE = re.compile(
    r"\b(intervals?|tempo|threshold|fartlek|repeats|vo2(max)?|hills|hill (repeats|sprints)|sprints|speedwork"
    r"|track (session|workout)|race|parkrun|progression|LT|yasso|ladder)\b|\b\d+ ?x ?\d+\b", re.I)
EASY_TITLE = re.compile(r"\b(easy|recovery|shakeout|jog|warm[- ]?up|cool[- ]?down|strides)\b", re.I)
LOWER_BODY = ("squat", "hinge", "single_leg", "calf", "plyometric")
GPX_TPX_NS = "http://www.garmin.com/xmlschemas/TrackPointExtension/v1"

# Loops the athlete runs (centre lat, lon, mean radius m, altitude m).
PLACES = {
    "lake": (52.4400, 13.2090, 700.0, 38.0),  # Schlachtensee, ~4.4 km loop
    "park": (52.5145, 13.3501, 550.0, 36.0),  # Tiergarten
    "forest": (52.4870, 13.2390, 1500.0, 55.0),  # Grunewald, long runs and trail
    "track": (52.4732, 13.4015, 64.0, 45.0),  # a 400 m track
    "race": (52.4370, 13.6450, 1680.0, 34.0),  # Mueggelsee: 4 laps of ~10.5 km
}


# =========================================================================== the plan: runs


@dataclass(frozen=True)
class RunPlan:
    """One run: when (local), what (segments), and how it was recorded."""

    start_local: datetime
    kind: str  # easy | long | intervals | tempo | track | race
    segments: tuple[Segment, ...]
    formats: tuple[str, ...] = ("fit",)  # "fit", "gpx" or both (the duplicate)
    title: str | None = None  # GPX <name>; FIT files carry none
    place: str | None = "lake"  # key of PLACES; None: no GPS (treadmill)
    interval_s: int = 1  # FIT recording interval (GPX exports are always 5 s)
    sub_sport: SubSport = SubSport.GENERIC
    hr_drift_bpm: float = 0.0
    with_hr: bool = True  # False: no heart-rate sensor at all
    hr_until_s: int | None = None  # the sensor stops reporting after this many seconds
    lap_plan: tuple[tuple[int, Intensity], ...] | None = None  # a structured workout's laps (FIT intensity)
    quality: str | None = None  # the quality_reason the plan means this run to have (checked)

    @property
    def stem(self) -> str:
        return f"{self.start_local:%Y-%m-%d_%H%M}_{self.kind}"

    @property
    def seed(self) -> int:
        return SEED + int(self.start_local.strftime("%m%d%H%M"))


def _local(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%d %H:%M").replace(tzinfo=TZ)


def utc_offset_s(when: datetime) -> int:
    """Seconds the local time ``when`` is ahead of UTC."""
    offset = when.utcoffset()
    assert offset is not None, "expected an aware datetime"
    return int(offset.total_seconds())


def _easy(stamp: str, minutes: int, kind: str = "easy", **kw: Any) -> RunPlan:
    rng = np.random.default_rng(int(stamp[5:7] + stamp[8:10]))
    segs = fitgen.easy_run(minutes * 60, speed_mps=float(rng.uniform(2.9, 3.15)), hr=float(rng.uniform(138, 147)))
    return RunPlan(_local(stamp), kind, tuple(segs), **kw)


def _long(stamp: str, km: float) -> RunPlan:
    segs = fitgen.steady_run(km * 1000, speed_mps=3.0, hr=146.0)
    return RunPlan(_local(stamp), "long", tuple(segs), place="forest", interval_s=5, hr_drift_bpm=6.0)


def _intervals(stamp: str, reps: int, rep_m: float, **kw: Any) -> RunPlan:
    speed = 4.55 if rep_m <= 800 else 4.4
    segs = fitgen.intervals(reps, rep_m, speed_mps=speed, recovery_s=90 if rep_m >= 800 else 60)
    reason = "title" if kw.get("title") else "threshold_hr"
    return RunPlan(_local(stamp), "intervals", tuple(segs), quality=reason, **kw)


def _tempo(stamp: str, minutes: int, **kw: Any) -> RunPlan:
    reason = "title" if kw.get("title") else "threshold_hr"
    return RunPlan(_local(stamp), "tempo", tuple(fitgen.tempo_run(minutes * 60)), quality=reason, **kw)


def _pace_tempo(stamp: str, minutes: int) -> RunPlan:
    """A tempo run without a heart-rate sensor: quality only by threshold_pace (4.05 m/s = 4:07/km)."""
    segs = fitgen.tempo_run(minutes * 60, speed_mps=4.05)
    return RunPlan(_local(stamp), "tempo", tuple(segs), place="park", with_hr=False, quality="threshold_pace")


def _lap_workout(stamp: str) -> RunPlan:
    """A watch-guided 8 x 1 min workout (laps warmup/active/rest.../cooldown) whose heart rate stays
    below threshold_hr and whose fast minutes stay under 10: quality only by its laps."""
    segs, laps = fitgen.structured_intervals(8, 60, speed_mps=4.3, hr=163.0, rest_s=90)
    return RunPlan(_local(stamp), "workout", tuple(segs), place="park", lap_plan=tuple(laps), quality="laps")


def _race() -> RunPlan:
    segs = fitgen.steady_run(42195, speed_mps=3.70, hr=163.0)
    return RunPlan(_local("2026-10-18 09:30"), "race", tuple(segs), place="race", hr_drift_bpm=9.0, quality="race")


def run_plan() -> list[RunPlan]:
    """Every run of the block, in time order (48 runs; the 2026-09-09 one exists twice)."""
    gpx = ("gpx",)
    return [
        # W32 (partial: the athlete starts on Friday 7 Aug)
        _easy("2026-08-08 09:00", 50),
        _long("2026-08-09 09:00", 14),
        # W33
        _easy("2026-08-10 17:45", 10, "warmup", place=None, sub_sport=SubSport.TREADMILL),  # before strength 18:00
        _intervals("2026-08-11 18:30", 6, 800, formats=gpx, title="Tuesday intervals 6x800", place="park"),
        _easy("2026-08-12 07:00", 45),
        _easy("2026-08-14 07:00", 50, place="park"),
        _long("2026-08-16 09:00", 16),
        # W34
        _lap_workout("2026-08-18 18:30"),  # strength 07:00-07:50 the same morning
        _easy("2026-08-19 07:00", 45, formats=gpx, title="Easy morning run"),
        _easy("2026-08-21 07:00", 45, place=None, sub_sport=SubSport.TREADMILL),
        _easy("2026-08-22 09:00", 50),
        _long("2026-08-23 09:00", 18),
        # W35 (only one strength session: missed)
        _intervals("2026-08-25 18:30", 5, 1000, place="park"),
        _easy("2026-08-26 07:00", 50),
        _easy("2026-08-28 07:00", 40, formats=gpx, title="Recovery jog"),
        _long("2026-08-30 09:00", 20),
        # W36
        _tempo("2026-09-01 18:30", 25, formats=gpx, title="Tempo run 25 min", place="park"),
        _easy("2026-09-02 07:00", 60, hr_until_s=300),  # the optical HR drops out after 5 min
        _easy("2026-09-04 07:00", 45, place="park"),
        _easy("2026-09-05 10:45", 50),  # 2 h after strength: too close
        _long("2026-09-06 09:00", 22),
        # W37
        _intervals("2026-09-08 18:30", 6, 800, place="park"),  # strength in the morning
        _easy("2026-09-09 07:00", 40, formats=("fit", "gpx"), title="Morning Run"),  # duplicate
        _easy("2026-09-10 07:00", 45),
        _easy("2026-09-12 09:00", 50),
        _long("2026-09-13 09:00", 24),
        # W38
        _intervals("2026-09-15 18:30", 12, 400, formats=gpx, title="Track session 12x400", place="track"),
        _easy("2026-09-16 06:45", 50),  # 4 h before strength: suboptimal
        _easy("2026-09-18 07:00", 50, place="park"),
        _long("2026-09-20 09:00", 26),
        # W39 (sharpen)
        _intervals("2026-09-22 06:30", 5, 1000, place="park"),  # after strength 21:30-22:15 the evening before
        _easy("2026-09-23 07:00", 45, formats=gpx, title="Easy run by the lake"),
        _easy("2026-09-24 07:00", 45),
        _easy("2026-09-26 09:00", 60, place="forest", sub_sport=SubSport.TRAIL),
        _long("2026-09-27 08:30", 30),
        # W40 (sharpen)
        _pace_tempo("2026-09-29 06:15", 25),  # no HR sensor; strength until 18:40 the evening before
        _intervals("2026-09-30 18:30", 5, 1000, formats=gpx, title="Intervals 5x1000", place="park"),
        _easy("2026-10-02 07:00", 50),
        _long("2026-10-04 09:00", 24),
        # W41 (taper)
        _easy("2026-10-06 07:00", 40),
        _tempo("2026-10-07 18:30", 20, place="park"),
        _easy("2026-10-08 07:00", 40, formats=gpx, title="Easy shakeout"),
        _easy("2026-10-10 09:00", 45),
        _long("2026-10-11 09:00", 18),
        # W42 (taper, race week)
        _intervals("2026-10-13 18:30", 4, 1000, place="park"),
        _easy("2026-10-14 07:00", 40),
        _easy("2026-10-16 07:00", 30, place="park"),
        _race(),
    ]


# =========================================================================== the plan: strength


@dataclass(frozen=True)
class Exercise:
    """How each source names an exercise, its FIT category/subtype numbers, and its movement
    pattern as the SPEC's exercise table gives it (the reference rules classify by this)."""

    strong: str
    hevy: str
    category: Cat
    subtype: int
    pattern: str
    unilateral: bool = False
    timed: bool = False

    @property
    def lower_body(self) -> bool:
        return self.pattern in LOWER_BODY


EXERCISES = {
    "squat": Exercise("Back Squat (Barbell)", "Squat (Barbell)", Cat.SQUAT,
                      SquatExerciseName.BARBELL_BACK_SQUAT.value, "squat"),
    "goblet": Exercise("Goblet Squat (Kettlebell)", "Goblet Squat", Cat.SQUAT,
                       SquatExerciseName.GOBLET_SQUAT.value, "squat"),
    "bss": Exercise("Bulgarian Split Squat (Dumbbell)", "Bulgarian Split Squat", Cat.LUNGE,
                    LungeExerciseName.DUMBBELL_BULGARIAN_SPLIT_SQUAT.value, "single_leg", True),
    "rdl": Exercise("Romanian Deadlift (Barbell)", "Romanian Deadlift (Barbell)", Cat.DEADLIFT,
                    DeadliftExerciseName.ROMANIAN_DEADLIFT.value, "hinge"),
    "sl_rdl": Exercise("Single Leg Romanian Deadlift (Dumbbell)", "Single Leg Romanian Deadlift (Dumbbell)",
                       Cat.DEADLIFT, DeadliftExerciseName.SINGLE_LEG_ROMANIAN_DEADLIFT_WITH_DUMBBELL.value, "hinge",
                       True),
    "step_up": Exercise("Step Up (Dumbbell)", "Dumbbell Step Up", Cat.SQUAT,
                        SquatExerciseName.DUMBBELL_STEP_UP.value, "single_leg", True),
    "hip_thrust": Exercise("Hip Thrust (Barbell)", "Hip Thrust (Barbell)", Cat.HIP_RAISE,
                           HipRaiseExerciseName.BARBELL_HIP_THRUST_WITH_BENCH.value, "hinge"),
    "box_jump": Exercise("Box Jump", "Box Jump", Cat.PLYO, PlyoExerciseName.BOX_JUMP.value, "plyometric"),
    "pogo": Exercise("Pogo Hops", "Pogo Jumps", Cat.PLYO, PlyoExerciseName.JUMP_SQUAT.value, "plyometric"),
    "calf": Exercise("Calf Raise (Dumbbell)", "Standing Calf Raise (Dumbbell)", Cat.CALF_RAISE,
                     CalfRaiseExerciseName.STANDING_DUMBBELL_CALF_RAISE.value, "calf"),
    "plank": Exercise("Plank", "Plank", Cat.PLANK, PlankExerciseName.PLANK.value, "core", timed=True),
    # stretches of the mobility log (Hevy only; never on the watch)
    "couch": Exercise("Couch Stretch", "Couch Stretch", Cat.WARM_UP, WarmUpExerciseName.STRETCH_90_90.value,
                      "mobility", True, timed=True),
    "pigeon": Exercise("Pigeon Pose", "Pigeon Pose", Cat.WARM_UP, WarmUpExerciseName.GLUTES_STRETCH.value,
                       "mobility", True, timed=True),
    "wgs": Exercise("World's Greatest Stretch", "World's Greatest Stretch", Cat.WARM_UP,
                    WarmUpExerciseName.BENT_OVER_REACH_TO_SKY.value, "mobility", timed=True),
    "cat_cow": Exercise("Cat Cow", "Cat Cow", Cat.WARM_UP, WarmUpExerciseName.STRETCH_CAT_COW.value, "mobility",
                        timed=True),
}


@dataclass(frozen=True)
class LoggedSet:
    """A set as the athlete logged it. ``kind``: warmup | normal | failure."""

    kind: str
    reps: int | None
    weight_kg: float | None
    seconds: int | None = None
    rpe: float | None = None
    note: str = ""


@dataclass(frozen=True)
class Block:
    exercise: str  # key of EXERCISES
    sets: tuple[LoggedSet, ...]


@dataclass(frozen=True)
class StrengthPlan:
    """One strength session as logged in ``source`` (strong | hevy | watch: the watch FIT only);
    ``watch`` is the start and end (local) of a watch FIT recording of the session, if there is one."""

    start_local: datetime
    minutes: int
    title: str
    source: str
    blocks: tuple[Block, ...]
    notes: str = ""
    watch: tuple[datetime, datetime] | None = None

    @property
    def end_local(self) -> datetime:
        return self.start_local + timedelta(minutes=self.minutes)


def warm(*pairs: tuple[int, float]) -> list[LoggedSet]:
    """Warm-up sets from (reps, kg) pairs."""
    return [LoggedSet("warmup", r, w) for r, w in pairs]


def work(n: int, reps: int | None, kg: float | None, *, seconds: int | None = None, rpe: float | None = None
         ) -> list[LoggedSet]:
    """``n`` identical working sets."""
    return [LoggedSet("normal", reps, kg, seconds, rpe) for _ in range(n)]


def block(exercise: str, *sets: Iterable[LoggedSet]) -> Block:
    return Block(exercise, tuple(s for group in sets for s in group))


def intro_session() -> tuple[Block, ...]:
    """First session ever: light, 10+ reps."""
    return (
        block("goblet", warm((10, 8)), work(3, 10, 16)),
        block("bss", work(3, 10, 6)),
        block("rdl", warm((10, 20)), work(3, 10, 40)),
        block("calf", work(2, 15, 10)),
        block("pogo", work(2, 20, None)),
    )


def beginner_a(squat: float, bss: float, rdl: float, top_set: bool = False) -> tuple[Block, ...]:
    """Beginner lower-body A: 8-12 reps; ``top_set`` adds a heavy single set of 5."""
    squat_sets = [*warm((10, 20), (8, 40)), *work(3, 10, squat)]
    if top_set:
        squat_sets.append(LoggedSet("normal", 5, squat + 20, note="Tried a heavy top set"))
    return (
        block("squat", squat_sets),
        block("bss", work(3, 10, bss)),
        block("rdl", warm((10, 30)), work(3, 10, rdl)),
        block("calf", work(2, 15, 12)),
        block("pogo", work(2, 20, None)),
    )


def beginner_b(step: float, sl_rdl: float, hip: float, *, box_jumps: bool = False) -> tuple[Block, ...]:
    """Beginner lower-body B: single-leg work, 8-12 reps; ``box_jumps`` adds 3 x 5 box jumps (a
    beginner dose: not a heavy set, only drop/depth jumps are)."""
    blocks = [
        block("step_up", work(3, 10, step)),
        block("sl_rdl", work(3, 10, sl_rdl)),
        block("hip_thrust", warm((10, 40)), work(3, 12, hip)),
        block("calf", work(3, 15, 12)),
    ]
    if box_jumps:
        blocks.append(block("box_jump", work(3, 5, None)))
    return tuple(blocks)


def heavy_a(squat: float, bss: float, *, plank: bool = True) -> tuple[Block, ...]:
    """Heavy lower-body A: squat 4x5 after ramping warm-ups, split squats, jumps."""
    blocks = [
        block("squat", warm((8, 20), (5, 50), (3, squat - 20)), work(4, 5, squat, rpe=8)),
        block("bss", work(3, 6, bss)),
        block("box_jump", work(3, 5, None)),
        block("calf", work(3, 8, 24)),
    ]
    if plank:
        blocks.append(block("plank", work(2, None, None, seconds=60)))
    return tuple(blocks)


def heavy_b(rdl: float, sl_rdl: float, step: float, *, failure: bool = False) -> tuple[Block, ...]:
    """Heavy lower-body B: RDL 4x5, single-leg RDL and step-ups, pogo hops; ``failure``
    replaces the last RDL set by one taken to failure."""
    rdl_sets = [*warm((8, 40), (5, rdl - 25)), *work(4, 5, rdl)]
    if failure:
        rdl_sets[-1] = LoggedSet("failure", 3, rdl + 5, rpe=10, note="Grip gave out on rep 4")
    return (
        block("rdl", rdl_sets),
        block("sl_rdl", work(3, 6, sl_rdl)),
        block("step_up", work(3, 6, step)),
        block("pogo", work(3, 20, None)),
    )


def light_circuit() -> tuple[Block, ...]:
    """High-rep circuit: every set 15+ reps (too light after the beginner weeks)."""
    return (
        block("step_up", work(3, 20, 8)),
        block("bss", work(3, 15, 8)),
        block("goblet", work(3, 20, 16)),
        block("calf", work(3, 25, 10)),
    )


def bilateral_session() -> tuple[Block, ...]:
    """Squats, RDLs and jumps only: no single-leg exercise."""
    return (
        block("squat", warm((8, 20), (5, 60), (3, 80)), work(4, 4, 97.5)),
        block("rdl", warm((5, 60)), work(3, 5, 100)),
        block("box_jump", work(4, 4, None)),
        block("calf", work(3, 8, 26)),
        block("plank", work(2, None, None, seconds=60)),
    )


def activation() -> tuple[Block, ...]:
    """Short pre-race primer."""
    return (
        block("bss", work(2, 5, 20)),
        block("box_jump", work(3, 3, None)),
        block("pogo", work(2, 15, None)),
    )


def moderate_a() -> tuple[Block, ...]:
    """A build-week session that stays at the beginner's 3 x 10 (no heavy set) and has no hinge."""
    return (
        block("squat", warm((10, 20), (8, 40)), work(3, 10, 60)),
        block("bss", work(3, 10, 16)),
        block("box_jump", work(3, 5, None)),
        block("calf", work(3, 12, 22)),
        block("plank", work(2, None, None, seconds=60)),
    )


def moderate_b() -> tuple[Block, ...]:
    """Its partner of the same week: goblet squats, step-ups, split squats, calf raises at 10-12 reps."""
    return (
        block("goblet", warm((10, 16)), work(3, 10, 24)),
        block("step_up", work(3, 10, 14)),
        block("bss", work(3, 10, 14)),
        block("calf", work(3, 12, 20)),
    )


def watch_squats() -> tuple[Block, ...]:
    """Logged on the watch only: heavy squats 4 x 5 at 90 kg, split squats and calf raises (the
    watch records no dumbbell weights)."""
    return (
        block("squat", work(4, 5, 90)),
        block("bss", work(3, 6, None)),
        block("calf", work(3, 10, None)),
    )


def mobility_log() -> tuple[Block, ...]:
    """Ten minutes of stretches logged in Hevy (the couch stretch as "1 rep" of 60 s, as people log it)."""
    return (
        block("couch", [LoggedSet("normal", 1, None, 60)] * 2),
        block("pigeon", work(2, None, None, seconds=60)),
        block("wgs", work(1, 5, None)),
        block("cat_cow", work(1, 10, None)),
    )


def late_session() -> tuple[Block, ...]:
    """After-work-late lower-body session: squat 4x5, split squats, calf raises."""
    return (
        block("squat", warm((8, 20), (5, 60)), work(4, 5, 90, rpe=8)),
        block("bss", work(3, 6, 20)),
        block("calf", work(3, 8, 26)),
    )


def strength_plan() -> list[StrengthPlan]:
    """Every strength session, in time order (Strong, Hevy, one of them also on the watch, and one
    on the watch only: source "watch")."""

    def s(stamp: str, minutes: int, title: str, source: str, blocks: tuple[Block, ...], **kw: Any
          ) -> StrengthPlan:
        return StrengthPlan(_local(stamp), minutes, title, source, blocks, **kw)

    return [
        s("2026-08-07 17:00", 50, "Full body intro", "hevy", intro_session()),
        s("2026-08-10 18:00", 50, "Lower A", "strong", beginner_a(50, 8, 45)),
        s("2026-08-13 18:30", 50, "Lower B", "strong", beginner_b(8, 10, 60, box_jumps=True)),
        s("2026-08-18 07:00", 50, "Lower A", "strong", beginner_a(55, 10, 50), notes="Before work"),
        s("2026-08-20 18:30", 55, "Lower A", "strong", beginner_a(60, 10, 55, top_set=True)),
        s("2026-08-26 07:55", 12, "Mobility", "hevy", mobility_log()),
        s("2026-08-27 18:30", 45, "Lower B", "strong", beginner_b(10, 12, 70)),
        s("2026-08-31 18:00", 50, "Lower A", "strong", beginner_a(62.5, 12, 60)),
        s("2026-09-05 08:00", 45, "Lower A", "strong", heavy_a(80, 16, plank=False),
          notes="Gym before the Saturday run"),
        s("2026-09-08 07:00", 45, "Lower B", "hevy", moderate_b()),
        s("2026-09-10 18:00", 60, "Lower A", "hevy", moderate_a(),
          watch=(_local("2026-09-10 18:02"), _local("2026-09-10 18:57"))),
        s("2026-09-14 18:00", 55, "Lower B", "strong", heavy_b(95, 18, 18, failure=True)),
        s("2026-09-16 11:35", 50, "Lower A", "strong", heavy_a(87.5, 20), notes="Lunch break session"),
        s("2026-09-19 17:30", 35, "Strength", "watch", watch_squats(),
          watch=(_local("2026-09-19 17:30"), _local("2026-09-19 18:05"))),
        s("2026-09-21 21:30", 45, "Late lower", "strong", late_session(), notes="Only slot today"),
        s("2026-09-24 18:00", 35, "Circuit", "strong", light_circuit()),
        s("2026-09-28 18:00", 40, "Squat and jumps", "strong", bilateral_session()),
        s("2026-10-06 18:00", 55, "Lower A", "strong", heavy_a(90, 20)),
        s("2026-10-09 17:30", 25, "Activation", "strong", activation()),
    ]


# =========================================================================== runs: files


@dataclass(frozen=True)
class RunResult:
    """What the reference rules need to know about a generated run."""

    files: tuple[str, ...]
    kind: str
    title: str | None
    start_utc: datetime
    end_utc: datetime
    distance_m: float
    moving_s: float  # the simulated runner never stops: moving time = elapsed time
    hr_s: float  # seconds the heart-rate sensor covers
    trimp: float  # Banister TRIMP over the samples with heart rate
    seconds_at_threshold: float
    seconds_at_pace: float  # at or faster than threshold_pace
    structured: bool  # >= 2 active/interval laps separated by rest/recovery laps

    @property
    def minutes(self) -> float:
        return self.moving_s / 60

    @property
    def hr_coverage(self) -> float:
        return self.hr_s / self.moving_s


def make_run(job: tuple[RunPlan, str]) -> RunResult:
    """Simulate one run and write its FIT and/or GPX file(s) under ``out/runs``."""
    plan, out = job
    route = None
    if plan.place is not None:
        lat, lon, radius, alt = PLACES[plan.place]
        route = fitgen.loop_route(lat, lon, radius, seed=plan.seed, altitude_m=alt)
    start = plan.start_local.astimezone(UTC)

    def synth(interval_s: int) -> fitgen.RunTrack:
        return fitgen.synth_run(start, plan.segments, seed=plan.seed, route=route, interval_s=interval_s,
                                hr_drift_bpm=plan.hr_drift_bpm, with_hr=plan.with_hr, hr_until_s=plan.hr_until_s)

    fine = synth(plan.interval_s)
    files = []
    offset = utc_offset_s(plan.start_local)
    if "fit" in plan.formats:
        path = Path(out, "runs", plan.stem + ".fit")
        fitgen.write_run_fit(fine, path, sub_sport=plan.sub_sport, utc_offset_s=offset, lap_plan=plan.lap_plan)
        files.append(path)
    if "gpx" in plan.formats:
        coarse = synth(5)  # same simulation, every 5th second: a subset of the FIT samples
        assert plan.with_hr and plan.hr_until_s is None and plan.lap_plan is None, "GPX keeps none of these"
        path = Path(out, "runs", plan.stem + ".gpx")
        fitgen.write_bytes(gpx_bytes(coarse, plan.title or "Run"), path)
        files.append(path)
    return RunResult(
        files=tuple(str(p.relative_to(out)) for p in files),
        kind=plan.kind,
        title=plan.title if "fit" not in plan.formats else None,
        start_utc=fine.start,
        end_utc=fine.end,
        distance_m=float(fine.distance_m[-1]),
        moving_s=float(fine.duration_s),
        hr_s=fine.seconds_with_hr(),
        trimp=banister_trimp(fine),
        seconds_at_threshold=fine.seconds_at_or_above(ATHLETE["threshold_hr"]),
        seconds_at_pace=fine.seconds_at_or_faster(THRESHOLD_SPEED_MPS),
        structured=_structured(plan.lap_plan or ()),
    )


def _structured(laps: Sequence[tuple[int, Intensity]]) -> bool:
    """SPEC: >= 2 laps of intensity active/interval separated by rest/recovery laps."""
    work, rest = {Intensity.ACTIVE, Intensity.INTERVAL}, {Intensity.REST, Intensity.RECOVERY}
    kinds = ["w" if i in work else "r" if i in rest else "-" for _, i in laps]
    return bool(re.search(r"wr+w", "".join(k for k in kinds if k != "-")))


def gpx_bytes(track: fitgen.RunTrack, name: str) -> bytes:
    """A GPX 1.1 track like a Strava/Garmin export: name, type running, time, position,
    elevation and heart rate (Garmin TrackPointExtension); no speed, distance or cadence."""
    gpx = gpxpy.gpx.GPX()
    gpx.creator = "runlift sample data"
    gpx.nsmap["gpxtpx"] = GPX_TPX_NS
    gpx.time = track.start
    trk = gpxpy.gpx.GPXTrack(name=name)
    trk.type = "running"  # type: ignore[assignment]  # gpxpy declares type as None
    seg = gpxpy.gpx.GPXTrackSegment()
    assert track.lat is not None and track.lon is not None and track.heart_rate is not None
    for i, when in enumerate(track.times()):
        point = gpxpy.gpx.GPXTrackPoint(
            float(track.lat[i]), float(track.lon[i]), elevation=float(track.altitude_m[i]), time=when
        )
        ext = ET.Element("gpxtpx:TrackPointExtension")
        ET.SubElement(ext, "gpxtpx:hr").text = str(int(track.heart_rate[i]))
        point.extensions.append(ext)
        seg.points.append(point)
    trk.segments.append(seg)
    gpx.tracks.append(trk)
    return gpx.to_xml(version="1.1").encode("utf-8")


def banister_trimp(track: fitgen.RunTrack) -> float:
    """Banister TRIMP (male weighting) summed per sample (each weighted by its interval) over the
    samples that have heart rate; 0 without any."""
    if track.heart_rate is None:
        return 0.0
    hr_rest, hr_max = ATHLETE["resting_hr"], ATHLETE["max_hr"]
    hr = track.heart_rate[1:]
    has_hr = ~np.isnan(hr)
    ratio = np.clip((hr[has_hr] - hr_rest) / (hr_max - hr_rest), 0, 1)
    minutes = np.diff(track.offsets_s)[has_hr] / 60
    return float(np.sum(minutes * ratio * 0.64 * np.exp(1.92 * ratio)))


# =========================================================================== strength: files


def strong_csv(sessions: Sequence[StrengthPlan]) -> str:
    """Strong's classic comma-separated export (no units: weights in kg)."""
    lines = ["Date,Workout Name,Duration,Exercise Name,Set Order,Weight,Reps,Distance,Seconds,Notes,Workout Notes,RPE"]
    for sess in sessions:
        for blk in sess.blocks:
            number = 0
            for st in blk.sets:
                if st.kind == "normal":
                    number += 1
                order = {"warmup": "W", "failure": "F"}.get(st.kind, str(number))
                lines.append(",".join([
                    f"{sess.start_local:%Y-%m-%d %H:%M:%S}",
                    _q(sess.title),
                    _strong_duration(sess.minutes),
                    _q(EXERCISES[blk.exercise].strong),
                    order,
                    f"{st.weight_kg or 0:.1f}",
                    str(st.reps or 0),
                    "0",
                    str(st.seconds or 0),
                    _q(st.note),
                    _q(sess.notes),
                    "" if st.rpe is None else f"{st.rpe:g}",
                ]))
    return "\n".join(lines) + "\n"


def hevy_csv(sessions: Sequence[StrengthPlan]) -> str:
    """Hevy's export: one row per set, times like ``7 Aug 2026, 17:00``, weight_kg."""
    header = ("title,start_time,end_time,description,exercise_title,superset_id,exercise_notes,"
              "set_index,set_type,weight_kg,reps,distance_km,duration_seconds,rpe")
    lines = [",".join(_q(h) for h in header.split(","))]
    kinds = {"warmup": "warmup", "normal": "normal", "failure": "failure"}
    for sess in sessions:
        for blk in sess.blocks:
            for index, st in enumerate(blk.sets):
                lines.append(",".join([
                    _q(sess.title),
                    _q(_hevy_time(sess.start_local)),
                    _q(_hevy_time(sess.end_local)),
                    _q(sess.notes),
                    _q(EXERCISES[blk.exercise].hevy),
                    "",
                    _q(st.note),
                    str(index),
                    _q(kinds[st.kind]),
                    _num(st.weight_kg),
                    _num(st.reps),
                    "",
                    _num(st.seconds),
                    _num(st.rpe),
                ]))
    return "\n".join(lines) + "\n"


def _q(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _strong_duration(minutes: int) -> str:
    hours, mins = divmod(minutes, 60)
    return f"{hours}h {mins}m" if hours else f"{mins}m"


def _hevy_time(when: datetime) -> str:
    return f"{when.day} {when:%b %Y, %H:%M}"


def watch_fit(sess: StrengthPlan) -> bytes:
    """The watch's recording of ``sess``: it missed the first warm-up set and the planks
    (no reps to detect), miscounted one rep, and has no weights for dumbbell work."""
    assert sess.watch is not None
    start, end = (t.astimezone(UTC) for t in sess.watch)
    sets: list[tuple[Exercise, LoggedSet]] = []
    for blk in sess.blocks:
        ex = EXERCISES[blk.exercise]
        if not ex.timed:
            sets += [(ex, st) for st in blk.sets]
    sets = sets[1:]  # the first warm-up went unnoticed
    active = [3.0 * (st.reps or 5) + 6.0 for _, st in sets]
    lead_in, tail = 90.0, 60.0
    rest = float(((end - start).total_seconds() - lead_in - tail - sum(active)) // (len(sets) - 1))
    tail = (end - start).total_seconds() - lead_in - sum(active) - rest * (len(sets) - 1)
    watch_sets = []
    for i, ((ex, st), secs) in enumerate(zip(sets, active, strict=True)):
        reps = (st.reps or 0) - 1 if i == 4 else st.reps
        weight = st.weight_kg if ex.category in (Cat.SQUAT, Cat.DEADLIFT) and "Barbell" in ex.strong else None
        watch_sets.append(WatchSet(ex.category, ex.subtype, reps, weight, secs, rest if i < len(sets) - 1 else 0))
    offset = utc_offset_s(sess.start_local)
    return fitgen.strength_fit_bytes(start, watch_sets, seed=SEED, lead_in_s=lead_in, tail_s=tail,
                                     utc_offset_s=offset)


WATCH_LEAD_IN_S = 600.0  # the watch runs through the general warm-up before the first set
WATCH_REST_S = {"squat": 60.0}  # rest after each set of a block (rushed on the squats) ...
WATCH_DEFAULT_REST_S = 75.0
WATCH_BLOCK_REST_S = 150.0  # ... and between exercises


def watch_only_sets(sess: StrengthPlan) -> list[WatchSet]:
    """The sets of a session logged on the watch only, exactly as planned, with their rests."""
    out = []
    for b, blk in enumerate(sess.blocks):
        ex = EXERCISES[blk.exercise]
        for k, st in enumerate(blk.sets):
            last_of_block = k == len(blk.sets) - 1
            rest = WATCH_BLOCK_REST_S if last_of_block else WATCH_REST_S.get(blk.exercise, WATCH_DEFAULT_REST_S)
            if last_of_block and b == len(sess.blocks) - 1:
                rest = 0.0
            out.append(WatchSet(ex.category, ex.subtype, st.reps, st.weight_kg, 3.0 * (st.reps or 5) + 6.0, rest))
    return out


def watch_only_fit(sess: StrengthPlan) -> bytes:
    """The FIT file of a session logged on the watch only (no Strong/Hevy log to merge with)."""
    assert sess.watch is not None and sess.source == "watch"
    start, end = (t.astimezone(UTC) for t in sess.watch)
    sets = watch_only_sets(sess)
    tail = (end - start).total_seconds() - WATCH_LEAD_IN_S - sum(w.duration_s + w.rest_s for w in sets)
    assert tail > 0, "the planned watch session is too short for its sets"
    return fitgen.strength_fit_bytes(start, sets, seed=SEED + 1, lead_in_s=WATCH_LEAD_IN_S, tail_s=tail,
                                     utc_offset_s=utc_offset_s(sess.start_local))


# =========================================================================== expected flags


@dataclass
class Flag:
    rule: str
    date: date
    detail: str
    evidence: dict[str, object] = field(default_factory=dict)

    @property
    def week(self) -> str:
        year, week, _ = self.date.isocalendar()
        return f"{year}-W{week:02d}"


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def phase_of(monday: date) -> str:
    """Training phase of the ISO week starting ``monday`` (SPEC definitions)."""
    days = (RACE_DATE - monday).days
    if monday == RACE_DATE - timedelta(days=RACE_DATE.weekday()) + timedelta(days=7):
        return "recovery"
    if days < 0 or days >= 84:
        return "off"
    return "taper" if days < 14 else "sharpen" if days < 28 else "build" if days < 56 else "base"


def target_of(phase: str) -> int:
    return {"taper": 0, "recovery": 0, "sharpen": 1}.get(phase, ATHLETE["target"])


def quality_reason(run: RunResult) -> str | None:
    """SPEC "Quality run": the first of race, title, laps, threshold_hr, threshold_pace that applies."""
    if run.start_utc.astimezone(TZ).date() == RACE_DATE:
        return "race"
    if run.title and QUALITY_TITLE.search(run.title) and not EASY_TITLE.search(run.title):
        return "title"
    if run.structured:
        return "laps"
    if run.seconds_at_threshold >= 600:
        return "threshold_hr"
    if run.seconds_at_pace >= 600:
        return "threshold_pace"
    return None


def run_loads(runs: Sequence[RunResult]) -> list[tuple[float, str]]:
    """SPEC "Training load of a run": (load, load_source) per run, in the order of ``runs``."""
    covered = [r for r in runs if r.hr_coverage >= RULES["hr_min_coverage"]]
    out = []
    for run in runs:
        if run in covered:
            out.append((run.trimp, "hr"))
            continue
        before = [r for r in covered if run.start_utc - timedelta(days=90) <= r.start_utc < run.start_utc]
        rates = [r.trimp / r.minutes for r in (before or covered)]
        out.append((run.minutes * float(np.median(rates)), "estimated"))
    return out


@dataclass(frozen=True)
class Session:
    """A merged strength session as the reference rules see it."""

    plan: StrengthPlan
    start_utc: datetime
    end_utc: datetime
    working: tuple[tuple[Exercise, LoggedSet], ...]

    @property
    def day(self) -> date:
        return self.start_utc.astimezone(TZ).date()

    @property
    def minutes(self) -> float:
        return (self.end_utc - self.start_utc).total_seconds() / 60

    @property
    def lower_body(self) -> list[tuple[Exercise, LoggedSet]]:
        return [(ex, st) for ex, st in self.working if ex.lower_body]

    @property
    def is_strength(self) -> bool:
        """A session of mobility/cardio sets only is never a strength session."""
        return any(ex.pattern not in ("mobility", "cardio") for ex, _ in self.working)

    @property
    def why_not(self) -> str | None:
        counted = [ex for ex, _ in self.working if ex.pattern not in ("mobility", "cardio")]
        if not counted:
            return "mobility_only"
        if not self.lower_body:
            return "no_lower_body"
        if len(counted) < RULES["min_working_sets"]:
            return "too_few_sets"
        if self.minutes < RULES["min_session_minutes"]:
            return "too_short"
        return None

    @property
    def evidence(self) -> dict[str, object]:
        return {"session": f"{self.plan.start_local:%Y-%m-%d %H:%M}", "source": self.plan.source}


def merged_sessions(plans: Sequence[StrengthPlan]) -> list[Session]:
    out = []
    for plan in plans:
        start, end = (t.astimezone(UTC) for t in (plan.watch or (plan.start_local, plan.end_local)))
        working = tuple((EXERCISES[b.exercise], st) for b in plan.blocks for st in b.sets if st.kind != "warmup")
        out.append(Session(plan, start, end, working))
    return out


def beginner_window(sessions: Sequence[Session]) -> tuple[date, date] | None:
    """[first, end) of the beginner weeks: from the first qualifying session, for a new lifter."""
    if ATHLETE["strength_experience"] != "new":
        return None
    first = min(s.day for s in sessions if s.why_not is None)
    return first, first + timedelta(days=7 * RULES["beginner_weeks"])


def is_warmup(run: RunResult, sess: Session) -> bool:
    """SPEC "Warm-up/cool-down jog"."""
    if run.minutes > RULES["warmup_max_minutes"]:
        return False
    window = timedelta(minutes=RULES["warmup_window_minutes"])
    before = timedelta(0) <= sess.start_utc - run.end_utc <= window
    after = timedelta(0) <= run.start_utc - sess.end_utc <= window
    return before or after


def expected_flags(runs: Sequence[RunResult], plans: Sequence[StrengthPlan], as_of: date) -> list[Flag]:
    """A small reference implementation of the SPEC (contract v2) rule catalog over the planned data."""
    sessions = merged_sessions(plans)
    flags = _spacing_flags(runs, sessions) + _program_flags(sessions) + _taper_flags(sessions)
    flags += _weekly_program_flags(runs, sessions, as_of) + _long_run_flags(runs, sessions)
    flags += _rushed_rest_flags(sessions)
    flags += _missed_flags(runs, sessions, as_of) + _detraining_flags(runs, sessions, as_of)
    flags += _acwr_flags(runs, as_of) + _monotony_flags(runs, as_of)
    return sorted(flags, key=lambda f: (f.date, f.rule))


def _spacing_flags(runs: Sequence[RunResult], sessions: Sequence[Session]) -> list[Flag]:
    out = []
    for sess in (s for s in sessions if s.lower_body):
        for run in runs:
            if is_warmup(run, sess):
                continue
            strength_first = sess.start_utc <= run.start_utc
            first_end, later_start = (sess.end_utc, run.start_utc) if strength_first else (run.end_utc, sess.start_utc)
            gap_h = max(0.0, (later_start - first_end).total_seconds() / 3600)
            if gap_h >= 24:
                continue
            day = later_start.astimezone(TZ).date()
            ev = {"session": f"{sess.plan.start_local:%Y-%m-%d %H:%M}", "run": _local_str(run.start_utc),
                  "gap_hours": round(gap_h, 2)}
            if gap_h < RULES["min_gap_hours"]:
                out.append(Flag("spacing.too_close", day, f"{gap_h:.2f} h gap", ev))
            elif gap_h < RULES["optimal_gap_hours"]:
                out.append(Flag("spacing.suboptimal", day, f"{gap_h:.2f} h gap", ev))
            lead_h = (run.start_utc - sess.end_utc).total_seconds() / 3600
            if strength_first and 0 <= lead_h < RULES["quality_lead_hours"] and quality_reason(run):
                out.append(Flag("spacing.before_quality", day,
                                f"strength ended {lead_h:.2f} h before a quality run ({quality_reason(run)})",
                                {**ev, "lead_hours": round(lead_h, 2)}))
    return out


def _local_str(when: datetime) -> str:
    return f"{when.astimezone(TZ):%Y-%m-%d %H:%M}"


def _program_flags(sessions: Sequence[Session]) -> list[Flag]:
    window = beginner_window(sessions)
    out = []
    for sess in (s for s in sessions if s.is_strength):
        day, ev = sess.day, sess.evidence
        in_beginner = window is not None and window[0] <= day < window[1]
        qualifies = sess.why_not is None
        counted = [st for ex, st in sess.lower_body if ex.pattern != "plyometric" and st.reps and not st.seconds]
        if qualifies and not in_beginner and counted and all((st.reps or 0) >= RULES["light_reps"] for st in counted):
            out.append(Flag("program.too_light", day, f"all lower-body working sets >= {RULES['light_reps']} reps",
                            ev))
        if any(st.kind == "failure" or (st.rpe or 0) >= 10 for _, st in sess.working):
            out.append(Flag("program.to_failure", day, "a set to failure", ev))
        if qualifies and not any(ex.unilateral for ex, _ in sess.lower_body):
            out.append(Flag("program.no_unilateral", day, "no unilateral lower-body exercise", ev))
        heavy = [st.reps for ex, st in sess.working if ex.pattern in ("squat", "hinge", "single_leg")
                 and st.weight_kg and st.reps is not None and st.reps <= 6]
        if in_beginner and heavy:  # the sample has no drop/depth jumps
            out.append(Flag("program.beginner_too_heavy", day, f"loaded working set of {min(heavy)} reps", ev))
    return out


def heavy_lower_sets(sessions: Sequence[Session]) -> dict[int, list[LoggedSet]]:
    """SPEC "Estimated 1RM" and heavy sets, per session (by index): the lower-body working sets of
    at most heavy_max_reps reps at >= heavy_pct_e1rm % of the exercise's best Epley estimate of the
    42 days ending that day, or at RPE >= 8."""
    estimates: list[tuple[date, str, float]] = [
        (sess.day, ex.strong, st.weight_kg * (1 + st.reps / 30))
        for sess in sessions for ex, st in sess.working
        if st.weight_kg and st.reps is not None and 1 <= st.reps <= 10]
    out: dict[int, list[LoggedSet]] = {}
    for i, sess in enumerate(sessions):
        heavy = []
        for ex, st in sess.lower_body:
            if st.reps is None or not 1 <= st.reps <= RULES["heavy_max_reps"]:
                continue
            best = max((e for d, name, e in estimates
                        if name == ex.strong and sess.day - timedelta(days=41) <= d <= sess.day), default=None)
            pct = 100 * st.weight_kg / best if st.weight_kg and best else None
            if (pct is not None and pct >= RULES["heavy_pct_e1rm"]) or (st.rpe or 0) >= 8:
                heavy.append(st)
        out[i] = heavy
    return out


def _weekly_program_flags(runs: Sequence[RunResult], sessions: Sequence[Session], as_of: date) -> list[Flag]:
    """program.not_heavy (build/sharpen), program.missing_pattern (base/build), program.no_plyometrics
    (sharpen): complete weeks with qualifying sessions, never the first week, none with a day in the
    beginner weeks, judged from the sets of the qualifying sessions."""
    window = beginner_window(sessions)
    first_week = iso_week(_first_day(runs, sessions))
    heavy = heavy_lower_sets(sessions)
    weeks: dict[date, list[int]] = defaultdict(list)
    for i, sess in enumerate(sessions):
        if sess.why_not is None:
            weeks[sess.day - timedelta(days=sess.day.weekday())].append(i)
    out = []
    for monday, ids in sorted(weeks.items()):
        if not monday + timedelta(days=6) < as_of or iso_week(monday) == first_week:
            continue
        if window is not None and monday < window[1]:
            continue
        phase = phase_of(monday)
        working = [(ex, st) for i in ids for ex, st in sessions[i].working]
        ev: dict[str, object] = {"week": iso_week(monday), "phase": phase}
        if phase in ("build", "sharpen") and not any(heavy[i] for i in ids):
            out.append(Flag("program.not_heavy", monday, "no heavy lower-body set", ev))
        missing = [p for p in ("squat", "hinge", "calf") if not any(ex.pattern == p for ex, _ in working)]
        if phase in ("base", "build") and missing:
            out.append(Flag("program.missing_pattern", monday, f"no {' / '.join(missing)} working set",
                            {**ev, "missing": missing}))
        contacts = sum((st.reps or 0) * (2 if ex.unilateral else 1) for ex, st in working if ex.pattern == "plyometric")
        if phase == "sharpen" and contacts == 0:
            out.append(Flag("program.no_plyometrics", monday, "no plyometric contacts", ev))
    return out


def _rushed_rest_flags(sessions: Sequence[Session]) -> list[Flag]:
    """program.rushed_rest: a qualifying session whose median rest before its heavy working sets
    that follow another working set is under 90 s. Only sets kept from a watch FIT are timed: the
    logs win every merge with the watch (more complete sets), so only watch-only sessions count."""
    heavy = heavy_lower_sets(sessions)
    out = []
    for i, sess in enumerate(sessions):
        if sess.plan.source != "watch" or sess.why_not is not None:
            continue
        timed = watch_only_sets(sess.plan)
        rests = [timed[j - 1].rest_s for j, (_, st) in enumerate(sess.working) if j > 0 and st in heavy[i]]
        median = float(np.median(rests)) if rests else None
        if median is not None and median < 90:
            out.append(Flag("program.rushed_rest", sess.day,
                            f"median rest {median:.0f} s before {len(rests)} heavy sets",
                            {**sess.evidence, "median_rest_s": median}))
    return out


def _long_run_flags(runs: Sequence[RunResult], sessions: Sequence[Session]) -> list[Flag]:
    """spacing.before_long_run: a session with a heavy lower-body set ending < long_run_gap_hours
    before a long run (>= long_run_minutes moving) starts."""
    heavy = heavy_lower_sets(sessions)
    out = []
    for i, sess in enumerate(sessions):
        for run in runs:
            lead_h = (run.start_utc - sess.end_utc).total_seconds() / 3600
            if heavy[i] and run.minutes >= LONG_RUN_MINUTES and sess.start_utc <= run.start_utc \
                    and lead_h < RULES["long_run_gap_hours"]:
                out.append(Flag("spacing.before_long_run", run.start_utc.astimezone(TZ).date(),
                                f"heavy strength ended {max(lead_h, 0):.2f} h before a long run",
                                {"session": f"{sess.plan.start_local:%Y-%m-%d %H:%M}",
                                 "run": _local_str(run.start_utc)}))
    return out


def _taper_flags(sessions: Sequence[Session]) -> list[Flag]:
    window_start = RACE_DATE - timedelta(days=RULES["taper_days"])
    in_taper = [s for s in sessions if s.lower_body and window_start <= s.day < RACE_DATE]
    out = []
    if len(in_taper) > 1:
        out.append(Flag("taper.too_many_sessions", in_taper[1].day, f"{len(in_taper)} sessions in taper",
                        {"sessions": [f"{s.plan.start_local:%Y-%m-%d %H:%M}" for s in in_taper]}))
    for sess in in_taper:
        if sess.minutes > RULES["taper_max_minutes"]:
            out.append(Flag("taper.long_session", sess.day, f"{sess.minutes:.0f} min",
                            {"session": f"{sess.plan.start_local:%Y-%m-%d %H:%M}", "minutes": sess.minutes}))
    return out


def strength_days(sessions: Sequence[Session]) -> set[date]:
    """Local days with a qualifying session (at most one counts per day)."""
    return {s.day for s in sessions if s.why_not is None}


def _first_day(runs: Sequence[RunResult], sessions: Sequence[Session]) -> date:
    return min(min(s.day for s in sessions), runs[0].start_utc.astimezone(TZ).date())


def _missed_flags(runs: Sequence[RunResult], sessions: Sequence[Session], as_of: date) -> list[Flag]:
    first_week = iso_week(_first_day(runs, sessions))
    run_weeks = {iso_week(r.start_utc.astimezone(TZ).date()) for r in runs}
    counts: dict[str, int] = defaultdict(int)
    for day in strength_days(sessions):
        counts[iso_week(day)] += 1
    out = []
    for week in sorted(run_weeks):
        monday = date.fromisocalendar(int(week[:4]), int(week[6:]), 1)
        target = target_of(phase_of(monday))
        complete = monday + timedelta(days=6) < as_of
        if complete and week != first_week and counts[week] < target:
            out.append(Flag("strength.missed_sessions", monday, f"{counts[week]} of {target} sessions",
                            {"week": week, "sessions": counts[week], "target": target}))
    return out


def _detraining_flags(runs: Sequence[RunResult], sessions: Sequence[Session], as_of: date) -> list[Flag]:
    """SPEC "Days without strength": once per gap, on the first day on or after the count reaches
    detraining_days outside taper/recovery weeks with a run in the 7 days ending on it."""
    days = sorted(strength_days(sessions))
    run_days = {r.start_utc.astimezone(TZ).date() for r in runs}
    last_day = max(as_of, max(run_days))
    out: list[Flag] = []
    day = days[0]
    while day <= last_day:
        last = max(d for d in days if d <= day)
        gap = (day - last).days
        monday = day - timedelta(days=day.weekday())
        ran = any(day - timedelta(days=i) in run_days for i in range(7))
        already = any(f.evidence["last_session"] == last.isoformat() for f in out)
        if gap >= RULES["detraining_days"] and not already and phase_of(monday) not in ("taper", "recovery") and ran:
            out.append(Flag("strength.detraining", day, f"{gap} days without strength",
                            {"last_session": last.isoformat(), "days": gap}))
        day += timedelta(days=1)
    return out


def daily_loads(runs: Sequence[RunResult]) -> dict[date, float]:
    loads: dict[date, float] = defaultdict(float)
    for run, (load, _) in zip(runs, run_loads(runs), strict=True):
        loads[run.start_utc.astimezone(TZ).date()] += load
    return loads


def acwr_series(runs: Sequence[RunResult], last: date) -> dict[date, float]:
    """Rolling ACWR per judged day: from the first run + 27 days, while the 28-day load / 4 is at
    least acwr_min_weekly_load."""
    loads = daily_loads(runs)
    out = {}
    day = runs[0].start_utc.astimezone(TZ).date() + timedelta(days=27)
    while day <= last:
        acute = sum(loads.get(day - timedelta(days=i), 0.0) for i in range(7))
        chronic = sum(loads.get(day - timedelta(days=i), 0.0) for i in range(28)) / 4
        if chronic >= RULES["acwr_min_weekly_load"]:
            out[day] = acute / chronic
        day += timedelta(days=1)
    return out


def _acwr_flags(runs: Sequence[RunResult], as_of: date) -> list[Flag]:
    out, seen = [], set()
    for day, ratio in acwr_series(runs, as_of).items():
        if ratio > RULES["acwr_max"] and iso_week(day) not in seen and day != RACE_DATE:
            seen.add(iso_week(day))
            out.append(Flag("load.acwr_high", day, f"ACWR {ratio:.2f}", {"acwr": round(ratio, 2)}))
    return out


def weekly_monotony(runs: Sequence[RunResult], as_of: date) -> dict[str, float]:
    """Monotony of every complete week with >= 3 runs (10 when the daily loads do not vary)."""
    loads = daily_loads(runs)
    counts: dict[str, int] = defaultdict(int)
    for run in runs:
        counts[iso_week(run.start_utc.astimezone(TZ).date())] += 1
    out = {}
    for week, n in counts.items():
        monday = date.fromisocalendar(int(week[:4]), int(week[6:]), 1)
        if n < 3 or monday + timedelta(days=6) >= as_of:
            continue
        daily = np.array([loads.get(monday + timedelta(days=i), 0.0) for i in range(7)])
        sd = float(daily.std())
        out[week] = 10.0 if sd == 0 else min(10.0, float(daily.mean()) / sd)
    return out


def _monotony_flags(runs: Sequence[RunResult], as_of: date) -> list[Flag]:
    return [Flag("load.monotony_high", date.fromisocalendar(int(w[:4]), int(w[6:]), 1), f"monotony {m:.2f}",
                 {"monotony": round(m, 2)})
            for w, m in sorted(weekly_monotony(runs, as_of).items()) if m > RULES["monotony_max"]]


PLANTED = {
    ("strength.missed_sessions", date(2026, 8, 24)),
    ("spacing.before_quality", date(2026, 8, 18)),  # lap-structured workout
    ("program.beginner_too_heavy", date(2026, 8, 20)),
    ("spacing.too_close", date(2026, 9, 5)),
    ("spacing.before_quality", date(2026, 9, 8)),
    ("program.to_failure", date(2026, 9, 14)),
    ("spacing.suboptimal", date(2026, 9, 16)),
    ("spacing.before_quality", date(2026, 9, 22)),  # the late-evening lift, 8.25 h
    ("program.too_light", date(2026, 9, 24)),
    ("program.no_unilateral", date(2026, 9, 28)),
    ("program.no_plyometrics", date(2026, 9, 21)),  # W39: sharpen, two qualifying sessions, no jumps
    ("spacing.before_quality", date(2026, 9, 29)),  # pace-only tempo run
    ("program.not_heavy", date(2026, 9, 7)),  # W37: both sessions at 3 x 10
    ("program.missing_pattern", date(2026, 9, 7)),  # W37: no hinge
    ("program.rushed_rest", date(2026, 9, 19)),  # watch-only session, 60 s between heavy squat sets
    ("spacing.before_long_run", date(2026, 9, 20)),  # the same heavy squats 15 h before the long run
    ("taper.long_session", date(2026, 10, 6)),
    ("taper.too_many_sessions", date(2026, 10, 9)),
}


def check_planted(flags: Sequence[Flag], runs: Sequence[RunResult], plans: Sequence[RunPlan],
                  strength: Sequence[StrengthPlan]) -> None:
    """Fail if the data yields other flags than the planted ones, a run's quality reason is not the
    one its plan means, a signal sits too close to its threshold to be robust, or a planted
    strength/run case is not what the README says."""
    got = {(f.rule, f.date) for f in flags}
    if got != PLANTED:
        raise SystemExit(f"planted flags mismatch: missing {PLANTED - got}, unexpected {got - PLANTED}")
    for plan, run in zip(plans, runs, strict=True):
        reason = quality_reason(run)
        if reason != plan.quality:
            raise SystemExit(f"{plan.stem}: quality reason {reason}, planned {plan.quality}")
        # margins: another implementation of "10 min at threshold" must reach the same verdict
        if "fit" in plan.formats and plan.kind != "race":
            if not (run.seconds_at_threshold >= 720 or run.seconds_at_threshold < 300):
                raise SystemExit(f"{plan.stem}: {run.seconds_at_threshold:.0f} s at threshold_hr is too close to 600")
            if plan.quality in (None, "laps", "threshold_pace") and not (
                    run.seconds_at_pace >= 900 or run.seconds_at_pace < 540):
                raise SystemExit(f"{plan.stem}: {run.seconds_at_pace:.0f} s at threshold_pace is too close to 600")
    loads = dict(zip((r.files[0] for r in runs), run_loads(runs), strict=True))
    estimated = sorted(f for f, (_, source) in loads.items() if source == "estimated")
    if estimated != ["runs/2026-09-02_0700_easy.fit", "runs/2026-09-29_0615_tempo.fit"]:
        raise SystemExit(f"estimated loads: {estimated}")
    sessions = merged_sessions(strength)
    why = {f"{s.plan.start_local:%Y-%m-%d %H:%M}": s.why_not for s in sessions if s.why_not}
    if why != {"2026-08-26 07:55": "mobility_only"}:
        raise SystemExit(f"sessions that do not qualify: {why}")
    warmups = [(r.files[0], f"{s.plan.start_local:%m-%d %H:%M}") for s in sessions for r in runs if is_warmup(r, s)]
    if warmups != [("runs/2026-08-10_1745_warmup.fit", "08-10 18:00")]:
        raise SystemExit(f"warm-up pairs: {warmups}")


# =========================================================================== config + README


def config_toml() -> str:
    a = ATHLETE
    rules = "\n".join(f"{k} = {v}" for k, v in RULES.items())
    return f"""# runlift config for the sample data (see SPEC.md, "Config").
[athlete]
id = "{a['id']}"
timezone = "Europe/Berlin"
max_hr = {a['max_hr']}
resting_hr = {a['resting_hr']}
sex = "m"
threshold_hr = {a['threshold_hr']}
threshold_pace = "{a['threshold_pace']}"
strength_target_per_week = {a['target']}
strength_experience = "{a['strength_experience']}"

[[races]]
date = "{RACE_DATE.isoformat()}"
name = "{RACE_NAME}"
priority = "A"

[rules]
{rules}

[sources.strong]
weight_unit = "kg"
"""


SITUATIONS = [
    ("strength.missed_sessions", "W35 (Mon 2026-08-24 .. Sun 08-30): one qualifying strength session (Thu 08-27 "
     "18:30) against a target of 2; the 12-min Hevy \"Mobility\" log of Wed 08-26 does not count"),
    ("spacing.before_quality", "Tue 2026-08-18: Strong session 07:00-07:50, then at 18:30 an untitled FIT "
     "8 x 1 min workout whose heart rate stays below threshold_hr: quality only by its laps "
     "(warmup, active/rest x 8, cooldown) -> 10.7 h < 12 h"),
    ("program.beginner_too_heavy", "Thu 2026-08-20 18:30 (Strong, beginner weeks): squat top set of 5 reps "
     "at 80 kg"),
    ("spacing.too_close", "Sat 2026-09-05: Strong session 08:00-08:45, easy run 10:45 (gap 2.0 h)"),
    ("spacing.before_quality", "Tue 2026-09-08: Hevy session 07:00-07:45, 6x800 interval run (FIT, "
     "quality by heart rate) 18:30 (10.75 h)"),
    ("program.to_failure", "Mon 2026-09-14 18:00 (Strong): last RDL set is `F` (failure), RPE 10"),
    ("spacing.suboptimal", "Wed 2026-09-16: easy run 06:45-07:35, Strong session 11:35 (gap 4.0 h)"),
    ("spacing.before_quality", "The late-evening lift: Mon 2026-09-21 Strong session 21:30-22:15, 5x1000 "
     "interval run (FIT, quality by heart rate) Tue 09-22 06:30: 8.25 h < 12 h although the dates differ"),
    ("program.no_plyometrics", "W39 (sharpen, Mon 2026-09-21 .. Sun 09-27): the \"Late lower\" (squat, split "
     "squats, calf raises) and \"Circuit\" sessions hold no plyometric exercise"),
    ("program.too_light", "Thu 2026-09-24 18:00 (Strong) \"Circuit\": every lower-body working set 15-25 reps"),
    ("program.no_unilateral", "Mon 2026-09-28 18:00 (Strong) \"Squat and jumps\": squat, RDL, box jump, "
     "calf raise, plank: no unilateral lower-body exercise"),
    ("spacing.before_quality", "Tue 2026-09-29 06:15: a FIT tempo run with no heart-rate sensor, 25 min at "
     "4:07/km (threshold_pace 4:15): quality only by pace; the Mon 09-28 session ended 18:40 (11.6 h)"),
    ("program.not_heavy", "W37 (build, Mon 2026-09-07 .. Sun 09-13): both qualifying sessions (Hevy Tue 09-08 "
     "07:00 and Thu 09-10 18:00) stay at 3 x 10-12 reps: no working set of 6 reps or fewer, none at RPE 8"),
    ("program.missing_pattern", "W37 (build): goblet and back squats, step-ups, split squats, calf raises and "
     "box jumps, but no hinge (no Romanian deadlift, hip thrust or single-leg RDL). A build week, not a base "
     "week: the base weeks W32-W34 all hold days of the beginner weeks, which no weekly program rule judges"),
    ("program.rushed_rest", "Sat 2026-09-19 17:30-18:05: a session logged on the watch only "
     "(`strength/watch_2026-09-19_1730.fit`): back squat 4 x 5 at 90 kg (86 % of its e1RM) with 60 s "
     "between the sets (the 3 heavy sets after the first: median 60 s < 90 s), split squats, calf raises"),
    ("spacing.before_long_run", "The same watch session ends Sat 18:05, 14.9 h before the 26 km long run of "
     "Sun 2026-09-20 09:00 (< 24 h)"),
    ("taper.long_session", "Tue 2026-10-06 18:00 (Strong): 55 min strength session in the taper"),
    ("taper.too_many_sessions", "Fri 2026-10-09 17:30 (Strong): second strength session in the taper "
     "(after 10-06), 25 min"),
]

# Contract v2 cases that must stay silent (or change a number, not a flag).
SILENT = [
    ("warm-up jog", "Mon 2026-08-10 17:45-17:55: a 10-min treadmill FIT run ending 5 min before the 18:00 "
     "Strong session", "no `spacing.too_close` (`spacing.is_warmup`); its load counts in daily_load"),
    ("mobility log", "Wed 2026-08-26 07:55-08:07: Hevy \"Mobility\" (couch stretch logged as 1 rep, pigeon pose, "
     "world's greatest stretch, cat cow) 5 min after the 07:00-07:50 easy run, in the beginner weeks",
     "not a strength session: no spacing flag, no `program.beginner_too_heavy`, not counted "
     "(`why_not` mobility_only), so W35 stays `strength.missed_sessions`"),
    ("box jumps", "Thu 2026-08-13 (beginner weeks): box jumps 3 x 5 in \"Lower B\"",
     "no `program.beginner_too_heavy` (only loaded squat/hinge/single-leg sets and drop/depth jumps count)"),
    ("HR dropout", "Wed 2026-09-02 07:00: a 60-min easy FIT run whose heart rate stops after 5 min "
     "(coverage 0.08 < 0.8)", "`load_source` estimated (60 min x the median TRIMP per minute), no load flag"),
    ("no HR at all", "Tue 2026-09-29 06:15 tempo run (above)", "`load_source` estimated"),
    ("untitled laps", "every other FIT run has auto laps (intensity active, no rest laps)",
     "not a structured workout; their quality comes from heart rate or not at all"),
    ("taper week over", "W41 (taper, strength_max 1): 2 sessions", "`weekly_compliance.verdict` over (no "
     "extra flag beyond the two taper flags)"),
]

def readme(flags: Sequence[Flag], runs: Sequence[RunResult], as_of: date) -> str:
    """The sample data's README: contents, planted situations and the expected flags."""
    week_rows = []
    monday = date(2026, 8, 3)
    while monday <= date(2026, 10, 19):
        phase = phase_of(monday)
        week_rows.append(f"| {iso_week(monday)} | {monday} | {phase} | {target_of(phase)} |")
        monday += timedelta(days=7)
    flag_rows = [f"| {f.date} | {f.week} | `{f.rule}` | {f.detail} |" for f in flags]
    situation_rows = [f"| `{rule}` | {text} |" for rule, text in SITUATIONS]
    silent_rows = [f"| {case} | {text} | {expect} |" for case, text, expect in SILENT]
    acwr = acwr_series(runs, as_of)
    peak_day = max(acwr, key=lambda d: acwr[d])
    monotony = weekly_monotony(runs, as_of)
    peak_week = max(monotony, key=lambda w: monotony[w])
    run_rows = [f"| {_local_str(r.start_utc)} | `{r.files[0]}` | {quality_reason(r) or '-'} | {source} | {load:.1f} |"
                for r, (load, source) in zip(runs, run_loads(runs), strict=True)
                if quality_reason(r) or source != "hr" or r.kind == "warmup"]
    return "\n".join([
        "# runlift sample data",
        "",
        "Generated by `scripts/make_sample_data.py` (deterministic; do not edit by hand, re-run the script).",
        "One athlete, `me` (Europe/Berlin, all local times below are CEST = UTC+2), ten weeks of training",
        f"before the A race \"{RACE_NAME}\" on Sunday {RACE_DATE} (run as `runs/2026-10-18_0930_race.fit`).",
        "Config: `runlift.toml`.",
        "",
        "## Contents",
        "",
        "- `runs/*.fit`: runs recorded by the watch; 1 Hz, long runs with 5 s smart recording; no titles.",
        "  2026-08-10 (warm-up jog) and 2026-08-21 are treadmill runs (no GPS), 2026-09-26 a trail run;",
        "  2026-08-18 is a watch-guided workout (laps with FIT intensity), 2026-09-29 has no heart rate and",
        "  2026-09-02 loses it after 5 min.",
        "- `runs/*.gpx`: runs exported as GPX (5 s points, heart rate in Garmin TrackPointExtension,",
        "  `<type>running</type>`, titled `<name>`; quality ones have titles such as \"Tuesday intervals 6x800\").",
        "- `strength/watch_2026-09-19_1730.fit`: a strength_training recording of a session logged on the",
        "  watch only (no Strong/Hevy log): its sets are kept, with their timing (`rest_s`).",
        "- `strength/strong.csv`: Strong classic export (comma-separated, no units = kg), W33-W36 and W38-W41.",
        "- `strength/hevy.csv`: Hevy export (`weight_kg`, times like `7 Aug 2026, 17:00`): 2026-08-07, 08-26",
        "  (the mobility log), 09-08, 09-10.",
        "- `strength/watch_strength.fit`: the watch's strength_training recording of the Hevy session of",
        "  Thu 2026-09-10 (watch 18:02-18:57, Hevy 18:00-19:00). The watch missed a warm-up set and the planks,",
        "  so Hevy has the more complete sets: **one** session after merging, with the watch's times.",
        "- `runs/2026-09-09_0700_easy.fit` and `.gpx`: the **same** easy run twice (same start and end; the GPX",
        "  has 5 s points and only position/elevation/heart rate): one activity after dedup, the FIT kept.",
        "- `corrupt/truncated_run.fit`: the first 60 % of `runs/2026-10-02_0700_easy.fit`: must be quarantined.",
        "- `expected_flags.json`: the flags below, machine-readable.",
        "",
        "Config: `threshold_hr = 172`, `threshold_pace = \"4:15\"`, `strength_experience = \"new\"`, every other",
        "threshold at its default. Quality runs: FIT intervals/tempo runs spend >= 12 min at or above",
        "threshold_hr 172; easy and long runs never reach 172 and spend under 9 min at threshold_pace. The first",
        "qualifying strength session (2026-08-07) starts the beginner weeks (to 2026-09-03): until then working",
        "sets are 8-20 reps except the planted top set; afterwards mostly 3-6 reps. Every strength session",
        "qualifies (>= 6 working sets, lower-body work, >= 15 min) except the mobility log.",
        "",
        "## Weeks",
        "",
        "| week | Monday | phase | strength target |",
        "|---|---|---|---|",
        *week_rows,
        "",
        "## Planted situations",
        "",
        "| rule | situation (local time) |",
        "|---|---|",
        *situation_rows,
        "",
        "Deliberately *not* flagged: W32 has one strength session but is the week of the first activity;",
        "W39 (sharpen, target 1) has two, W40 one; W41/W42 (taper, target 0); the 2026-09-10 session merged from",
        "two sources counts once; every other strength/run gap is >= 6 h; every other quality run starts >= 12 h",
        "after the last strength session ended. No `spacing.before_long_run` for the heavy Sat 2026-09-05",
        "session (08:00-08:45): it ends 24.25 h before the Sun 09-06 09:00 long run. W38 has three",
        "qualifying sessions (target 2; `strength_max` applies to taper weeks only, so it stays met). No",
        "`program.rushed_rest` on the merged 2026-09-10 session: its sets come from Hevy, which times no set.",
        "",
        "## Contract v2 cases that stay silent",
        "",
        "| case | situation (local time) | expected |",
        "|---|---|---|",
        *silent_rows,
        "",
        "## Runs of note: quality runs, loads not from heart rate, the warm-up jog",
        "",
        "Loads as the reference rules compute them (TRIMP per sample; estimated = moving minutes x the median",
        "TRIMP per moving minute of the HR-covered runs in the 90 days before).",
        "",
        "| start (local) | file | quality_reason | load_source | load |",
        "|---|---|---|---|---|",
        *run_rows,
        "",
        f"## Expected flags (`runlift build --as-of {as_of}`)",
        "",
        "| date | week | rule | detail |",
        "|---|---|---|---|",
        *flag_rows,
        "",
        f"No `load.acwr_high` (highest rolling ACWR {acwr[peak_day]:.2f} on {peak_day}, limit {RULES['acwr_max']};",
        f"TRIMP per sample, judged from {min(acwr)}), no `load.monotony_high` (highest {monotony[peak_week]:.2f} in",
        f"{peak_week}, limit {RULES['monotony_max']}) and no `strength.detraining` (no running after the race).",
        "Any later `--as-of` (such as today's default) gives the same flags: no runs after the race.",
        "",
    ])


def flags_json(flags: Sequence[Flag], as_of: date) -> str:
    items = [{"rule": f.rule, "date": f.date.isoformat(), "week": f.week, "detail": f.detail,
              "evidence": f.evidence} for f in flags]
    return json.dumps({"athlete": ATHLETE["id"], "as_of": as_of.isoformat(), "flags": items}, indent=2) + "\n"


# =========================================================================== main


def generate(out: Path, jobs: int) -> dict[str, float]:
    """Write the whole sample data set into ``out`` (replaced); returns timings in seconds."""
    timings: dict[str, float] = {}
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)

    t0 = time.perf_counter()
    plans = run_plan()
    with Pool(jobs) as pool:
        runs = pool.map(make_run, [(p, str(tmp)) for p in plans], chunksize=1)
    timings["runs"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    sessions = strength_plan()
    _write_text(tmp / "strength" / "strong.csv", strong_csv([s for s in sessions if s.source == "strong"]))
    _write_text(tmp / "strength" / "hevy.csv", hevy_csv([s for s in sessions if s.source == "hevy"]))
    merged = [s for s in sessions if s.watch and s.source != "watch"]
    fitgen.write_bytes(watch_fit(merged[0]), tmp / "strength" / "watch_strength.fit")
    for sess in (s for s in sessions if s.source == "watch"):
        fitgen.write_bytes(watch_only_fit(sess), tmp / "strength" / f"watch_{sess.start_local:%Y-%m-%d_%H%M}.fit")
    source = (tmp / "runs" / "2026-10-02_0700_easy.fit").read_bytes()
    fitgen.write_bytes(fitgen.truncate_bytes(source, 0.6), tmp / "corrupt" / "truncated_run.fit")
    timings["strength+corrupt"] = time.perf_counter() - t0

    as_of = date(2026, 10, 19)
    flags = expected_flags(runs, sessions, as_of)
    check_planted(flags, runs, plans, sessions)
    _write_text(tmp / "runlift.toml", config_toml())
    _write_text(tmp / "expected_flags.json", flags_json(flags, as_of))
    _write_text(tmp / "README.md", readme(flags, runs, as_of))

    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return timings


def _write_text(path: Path, text: str) -> None:
    fitgen.write_bytes(text.encode("utf-8"), path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (replaced)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes for the FIT/GPX runs")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    timings = generate(args.out.resolve(), args.jobs)
    files = [p for p in args.out.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    parts = ", ".join(f"{k} {v:.1f} s" for k, v in timings.items())
    print(f"wrote {len(files)} files ({size / 1e6:.2f} MB) to {args.out} in {time.perf_counter() - t0:.1f} s ({parts})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
