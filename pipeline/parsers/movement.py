"""The sport of a GPX/TCX recording that names none, from how it moved (SPEC: "typed from its
movement (speed, cadence) as running, walking or cycling, and ``other`` only when that is
unclear").

Conservative on purpose: a drive or a ride typed as a run adds false running load and false
flags, while a run left ``other`` only goes unjudged. Bands, on the median speed of the moving
samples (steps of at least 0.5 m/s) and the median cadence where most of them carry one:

============================  ============================================================
median moving speed           sport
============================  ============================================================
below 0.8 m/s                 unclear (standing, drifting GPS)
0.8 - 1.9 m/s                 walking; running with a running cadence (a slow jog);
                              unclear with a cadence below walking (poles, paddles)
1.9 - 2.3 m/s                 unclear, unless cadence decides (running / walking)
2.3 - 4.2 m/s                 running, unless a cadence below running says otherwise
4.2 - 6.0 m/s                 unclear (a fast run or a slow ride)
6.0 - 12.5 m/s                cycling, unless the fastest stretches exceed 20 m/s (a vehicle)
above 12.5 m/s                unclear (a vehicle)
============================  ============================================================

Basis: comfortable walking is 1.2-1.5 m/s and brisk walking reaches ~2 m/s (Bohannon 1997,
comfortable and maximum walking speed of adults); people switch from walking to running at
~2.0-2.1 m/s (Hreljac 1993, preferred gait transition speed), so 1.9-2.3 m/s is left to
cadence. 2.3-4.2 m/s is 7:15 to 4:00 min/km, the paces of recreational running; faster median
paces overlap with leisure cycling (15-25 km/h, 4.2-7 m/s), and a bike rarely holds a median
above 45 km/h (12.5 m/s) or stretches above 72 km/h (20 m/s) for 5 % of a ride, which cars do.
Cadence is read per foot (GPX ``cad`` and TCX ``RunCadence`` count one foot; values above 120
are steps a minute and are halved): running is 75-100 per foot (150-200 steps/min), walking
50-67 (100-135 steps/min); below 45 per foot it is no gait (a cross-country skier's poling
cycles: ~43 in the corpus file, which would read as walking otherwise). A cadence channel that
is recorded but 0 throughout is a device that was not counting steps (a watch in a ski or
paddle mode): no running or walking then. Fewer than 5 moving minutes, or moving samples
covering less than half of the recording (points minutes apart, long stops), are unclear too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from pipeline.parsers.records import Sport

MOVING_MPS = 0.5  # a step slower than this is standing still (GPS jitter)
MIN_MOVING_S = 300.0
MIN_MOVING_STEPS = 30
MAX_STEP_S = 30.0  # a longer gap between samples is a pause, not moving time
MIN_COVERAGE = 0.5  # moving steps must cover half the recording: sparse or mostly idle tracks are unclear
WALK_MPS = (0.8, 1.9)
TRANSITION_MPS = (1.9, 2.3)
RUN_MPS = (2.3, 4.2)
RIDE_MPS = (6.0, 12.5)
VEHICLE_P95_MPS = 20.0
RUN_CADENCE = 75.0  # per foot, at least
WALK_CADENCE = 67.0  # per foot, below
GAIT_CADENCE = 45.0  # per foot: slower is no walking gait
STEPS_PER_MINUTE_ABOVE = 120.0  # a cadence above this counts both feet


Values = Sequence[float] | np.ndarray[Any, Any]


def sport_from_movement(seconds: Values, speeds: Values, cadences: Values) -> tuple[Sport, str | None] | None:
    """(sport, sub_sport) the movement shows, or None when it is unclear; ``seconds`` are the
    samples' times (any epoch), in order. Walking is sport ``other`` with sub_sport
    ``walking``, as a FIT or GPX walk is (the sports the database knows)."""
    with np.errstate(over="ignore", invalid="ignore"):  # a damaged 1e308 speed is just no band
        kind = movement_kind(seconds, speeds, cadences)
    if kind == "walking":
        return "other", "walking"
    if kind in ("running", "cycling"):
        return kind, None  # type: ignore[return-value]
    return None


def movement_kind(seconds: Values, speeds: Values, cadences: Values) -> str | None:
    """"running", "walking", "cycling" or None (unclear), by the bands in the module docstring."""
    if len(seconds) < 2:
        return None
    ts = np.asarray(seconds, dtype=np.float64)
    step_s = np.diff(ts, prepend=ts[0])
    speed = np.asarray(speeds, dtype=np.float64)
    moving = (speed >= MOVING_MPS) & (step_s > 0) & (step_s <= MAX_STEP_S)
    moving_s = step_s[moving].sum()
    if moving.sum() < MIN_MOVING_STEPS or moving_s < MIN_MOVING_S or moving_s < MIN_COVERAGE * (ts[-1] - ts[0]):
        return None
    v = float(np.median(speed[moving]))
    cadence = _cadence(np.asarray(cadences, dtype=np.float64)[moving])
    if cadence == 0.0:  # recorded, never counting steps: no foot sport
        return "cycling" if _rides(v, speed[moving]) else None
    if cadence is not None and cadence < GAIT_CADENCE and v < RUN_MPS[1]:
        return None  # moving on foot speeds without a gait: skis, a paddle board
    if WALK_MPS[0] <= v < WALK_MPS[1]:
        return "running" if cadence is not None and cadence >= RUN_CADENCE else "walking"
    if TRANSITION_MPS[0] <= v < TRANSITION_MPS[1]:
        if cadence is None:
            return None
        return "running" if cadence >= RUN_CADENCE else "walking" if cadence < WALK_CADENCE else None
    if RUN_MPS[0] <= v < RUN_MPS[1]:
        return None if cadence is not None and cadence < WALK_CADENCE else "running"
    return "cycling" if _rides(v, speed[moving]) else None


def _rides(median: float, moving: np.ndarray) -> bool:
    return RIDE_MPS[0] <= median < RIDE_MPS[1] and float(np.percentile(moving, 95)) <= VEHICLE_P95_MPS


def _cadence(values: np.ndarray) -> float | None:
    """Median cadence per foot of the moving samples; None when fewer than half carry one; 0.0
    when they carry only zeros."""
    present = values[~np.isnan(values)]
    if len(present) * 2 < len(values):
        return None
    counting = present[present > 0]
    if not len(counting):
        return 0.0
    median = float(np.median(counting))
    return median / 2 if median > STEPS_PER_MINUTE_ABOVE else median
