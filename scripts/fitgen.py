"""Synthetic watch data: realistic run tracks and FIT activity files written with fit-tool.

Two halves:

* **Tracks** — :func:`synth_run` turns a list of :class:`Segment` (duration, pace, target heart
  rate) into a :class:`RunTrack`: per-sample arrays of time, position, distance, speed, heart
  rate, cadence and altitude. Speed and heart rate follow their targets with a lag and smooth
  noise; positions follow a closed :class:`Route` loop so that distances between GPS points
  agree with the distance channel. Everything is driven by an explicit seed: same inputs, same
  arrays, same bytes.
* **FIT files** — :func:`run_fit_bytes` writes a running activity (file_id, timer events,
  records, auto laps or the laps of a structured workout with their ``intensity``, session,
  activity); :func:`strength_fit_bytes` writes a Garmin-style
  strength_training activity (``set`` messages, active and rest, with exercise category and
  subtype numbers; a sparse heart-rate record stream; lap, session, activity).

fit-tool is pure Python and slow (about 0.5 ms per record, so 2-3 s for a one-hour run at
1 Hz); callers generating many files should use a process pool.

Usage from another script (``scripts/`` is not a package)::

    sys.path.insert(0, str(REPO / "scripts"))
    import fitgen
    track = fitgen.synth_run(start, fitgen.easy_run(50 * 60), seed=1, route=fitgen.loop_route(...))
    fitgen.write_run_fit(track, Path("run.fit"))
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from fit_tool.fit_file_builder import FitFileBuilder
from fit_tool.message import Message
from fit_tool.profile.messages.activity_message import ActivityMessage
from fit_tool.profile.messages.event_message import EventMessage
from fit_tool.profile.messages.file_id_message import FileIdMessage
from fit_tool.profile.messages.lap_message import LapMessage
from fit_tool.profile.messages.record_message import RecordMessage
from fit_tool.profile.messages.session_message import SessionMessage
from fit_tool.profile.messages.set_message import SetMessage
from fit_tool.profile.profile_type import (
    Activity,
    Event,
    EventType,
    ExerciseCategory,
    FileType,
    FitBaseUnit,
    GarminProduct,
    Intensity,
    LapTrigger,
    Manufacturer,
    SessionTrigger,
    SetType,
    Sport,
    SubSport,
)

__all__ = [
    "ExerciseCategory",
    "Intensity",
    "Route",
    "RunTrack",
    "Segment",
    "SetType",
    "Sport",
    "SubSport",
    "WatchSet",
    "easy_run",
    "intervals",
    "loop_route",
    "run_fit_bytes",
    "steady_run",
    "strength_fit_bytes",
    "structured_intervals",
    "synth_run",
    "tempo_run",
    "truncate_bytes",
    "write_bytes",
    "write_run_fit",
]

FIT_EPOCH_UNIX_S = 631_065_600  # 1989-12-31T00:00:00Z, the FIT epoch
METERS_PER_DEG_LAT = 111_320.0
DEFAULT_SERIAL = 3_391_234_567
DEFAULT_PRODUCT = GarminProduct.FR255.value

# Local message numbers: one per message type so definitions are written once.
_LOCAL_ID = {"file_id": 0, "event": 1, "record": 2, "lap": 3, "session": 4, "activity": 5, "set": 6}


# --------------------------------------------------------------------------- tracks


@dataclass(frozen=True)
class Segment:
    """A stretch of a workout at a steady effort: the runner aims for ``speed_mps`` and the
    heart rate settles towards ``hr`` (with a lag of about half a minute)."""

    duration_s: int
    speed_mps: float
    hr: float


@dataclass(frozen=True)
class Route:
    """A closed loop around ``(lat, lon)`` with mean radius ``radius_m``; ``shape`` gives the
    relative amplitudes of its 2nd and 3rd harmonic wobble, ``phase`` rotates them.
    Altitude undulates around ``altitude_m`` by up to ``hill_m`` per lap."""

    lat: float
    lon: float
    radius_m: float
    shape: tuple[float, float] = (0.12, 0.06)
    phase: float = 0.0
    altitude_m: float = 40.0
    hill_m: float = 6.0


@dataclass
class RunTrack:
    """Samples of one run. ``offsets_s`` are whole seconds from ``start`` (aware UTC); the
    other arrays have the same length. ``lat``/``lon`` are ``None`` without GPS (treadmill),
    ``heart_rate`` is ``None`` without a heart-rate sensor and NaN where the sensor lost contact."""

    start: datetime
    offsets_s: np.ndarray
    lat: np.ndarray | None
    lon: np.ndarray | None
    distance_m: np.ndarray
    speed_mps: np.ndarray
    heart_rate: np.ndarray | None
    cadence: np.ndarray
    altitude_m: np.ndarray

    @property
    def duration_s(self) -> int:
        """Elapsed seconds from the first to the last sample."""
        return int(self.offsets_s[-1])

    @property
    def end(self) -> datetime:
        """Time of the last sample."""
        return self.start + timedelta(seconds=self.duration_s)

    def times(self) -> list[datetime]:
        """Aware UTC datetime of every sample."""
        return [self.start + timedelta(seconds=int(s)) for s in self.offsets_s]

    def seconds_at_or_above(self, hr: float) -> float:
        """Time (s) spent at or above heart rate ``hr``, each sample weighted by its interval."""
        if self.heart_rate is None or len(self.offsets_s) < 2:
            return 0.0
        dt = np.diff(self.offsets_s)
        return float(dt[self.heart_rate[1:] >= hr].sum())

    def seconds_with_hr(self) -> float:
        """Time (s) the heart-rate sensor covers, each sample weighted by its interval."""
        if self.heart_rate is None or len(self.offsets_s) < 2:
            return 0.0
        return float(np.diff(self.offsets_s)[~np.isnan(self.heart_rate[1:])].sum())

    def seconds_at_or_faster(self, speed_mps: float) -> float:
        """Time (s) spent at or faster than ``speed_mps``, each sample weighted by its interval."""
        if len(self.offsets_s) < 2:
            return 0.0
        return float(np.diff(self.offsets_s)[self.speed_mps[1:] >= speed_mps].sum())


def easy_run(duration_s: int, *, speed_mps: float = 3.0, hr: float = 142.0) -> list[Segment]:
    """An easy run: a five-minute gentle start, then steady aerobic running."""
    warm = min(300, duration_s // 4)
    return [Segment(warm, speed_mps * 0.93, hr - 8), Segment(duration_s - warm, speed_mps, hr)]


def steady_run(distance_m: float, *, speed_mps: float, hr: float) -> list[Segment]:
    """A continuous run of ``distance_m`` at one pace (long runs, races)."""
    return [Segment(round(distance_m / speed_mps), speed_mps, hr)]


def tempo_run(
    tempo_s: int, *, warmup_s: int = 900, cooldown_s: int = 600, speed_mps: float = 3.92, hr: float = 177.0
) -> list[Segment]:
    """Warm-up, a continuous block at threshold effort, cool-down."""
    return [
        *easy_run(warmup_s, hr=140.0),
        Segment(tempo_s, speed_mps, hr),
        Segment(cooldown_s, 2.9, 138.0),
    ]


def intervals(
    reps: int,
    rep_m: float,
    *,
    speed_mps: float = 4.55,
    hr: float = 182.0,
    recovery_s: int = 90,
    warmup_s: int = 900,
    cooldown_s: int = 600,
) -> list[Segment]:
    """Warm-up, ``reps`` x ``rep_m`` metres fast with jog recoveries, cool-down."""
    segments = list(easy_run(warmup_s, hr=140.0))
    for i in range(reps):
        segments.append(Segment(round(rep_m / speed_mps), speed_mps, hr))
        if i < reps - 1:
            segments.append(Segment(recovery_s, 2.3, 138.0))
    segments.append(Segment(cooldown_s, 2.9, 140.0))
    return segments


def structured_intervals(
    reps: int,
    rep_s: int,
    *,
    speed_mps: float,
    hr: float,
    rest_s: int,
    warmup_s: int = 600,
    cooldown_s: int = 600,
) -> tuple[list[Segment], list[tuple[int, Intensity]]]:
    """A workout the watch guided: warm-up, ``reps`` timed reps with standing/jogging rests,
    cool-down; returns the segments and the lap plan (one lap per step, with its intensity)."""
    steps = [(Segment(warmup_s, 2.9, 140.0), Intensity.WARMUP)]
    for i in range(reps):
        steps.append((Segment(rep_s, speed_mps, hr), Intensity.ACTIVE))
        if i < reps - 1:
            steps.append((Segment(rest_s, 2.2, 135.0), Intensity.REST))
    steps.append((Segment(cooldown_s, 2.9, 138.0), Intensity.COOLDOWN))
    return [seg for seg, _ in steps], [(seg.duration_s, intensity) for seg, intensity in steps]


def loop_route(lat: float, lon: float, radius_m: float, *, seed: int, altitude_m: float = 40.0) -> Route:
    """A :class:`Route` with a seeded shape around the given centre."""
    rng = np.random.default_rng(seed)
    shape = (float(rng.uniform(0.05, 0.15)), float(rng.uniform(0.02, 0.08)))
    return Route(lat, lon, radius_m, shape, float(rng.uniform(0, 2 * math.pi)), altitude_m)


def synth_run(
    start: datetime,
    segments: Sequence[Segment],
    *,
    seed: int,
    route: Route | None,
    interval_s: int = 1,
    hr_drift_bpm: float = 0.0,
    with_hr: bool = True,
    hr_until_s: int | None = None,
) -> RunTrack:
    """Simulate a run second by second and keep every ``interval_s``-th sample (plus the
    last one, so the track ends exactly at ``start + sum(durations)``).

    ``route=None`` means no GPS (treadmill). ``hr_drift_bpm`` adds cardiac drift that grows
    linearly to that many beats per minute at the end of the run. ``hr_until_s``: the heart-rate
    sensor stops reporting after that many seconds (an optical sensor losing contact)."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    rng = np.random.default_rng(seed)
    target_speed = np.concatenate([np.full(s.duration_s, s.speed_mps) for s in segments])
    target_hr = np.concatenate([np.full(s.duration_s, s.hr) for s in segments])
    total = len(target_speed)
    speed = _lagged(target_speed, tau_s=4.0, start=0.0) + _smooth_noise(rng, total, sd=0.08, corr=0.95)
    speed = np.clip(speed, 0.3, None)
    distance = np.concatenate([[0.0], np.cumsum(speed)])  # metres at t = 0..total
    speed = np.concatenate([[speed[0]], speed])
    drift = hr_drift_bpm * np.linspace(0.0, 1.0, total)
    hr = _lagged(target_hr + drift, tau_s=30.0, start=95.0) + _smooth_noise(rng, total, sd=1.5, corr=0.9)
    hr = np.clip(np.round(np.concatenate([[95.0], hr])), 60, 205)
    cadence = np.round(70.0 + 4.5 * speed + _smooth_noise(rng, total + 1, sd=0.8, corr=0.8))
    if hr_until_s is not None:
        hr[hr_until_s + 1:] = np.nan
    keep = np.unique(np.concatenate([np.arange(0, total + 1, interval_s), [total]]))
    lat, lon, alt = _positions(route, distance[keep]) if route else (None, None, None)
    if alt is None:
        alt = np.full(len(keep), 35.0)
    return RunTrack(
        start=start.astimezone(UTC),
        offsets_s=keep.astype(np.int64),
        lat=lat,
        lon=lon,
        distance_m=np.round(distance[keep], 2),
        speed_mps=np.round(speed[keep], 3),
        heart_rate=hr[keep] if with_hr else None,
        cadence=cadence[keep],
        altitude_m=np.round(alt, 1),
    )


def _lagged(target: np.ndarray, *, tau_s: float, start: float) -> np.ndarray:
    """First-order response of a signal chasing ``target`` (1 s steps, time constant tau)."""
    alpha = 1.0 - math.exp(-1.0 / tau_s)
    out = np.empty(len(target))
    value = start
    for i, goal in enumerate(target.tolist()):
        value += alpha * (goal - value)
        out[i] = value
    return out


def _smooth_noise(rng: np.random.Generator, n: int, *, sd: float, corr: float) -> np.ndarray:
    """AR(1) noise with stationary standard deviation ``sd``."""
    shocks = rng.normal(0.0, sd * math.sqrt(1.0 - corr * corr), n)
    out = np.empty(n)
    value = rng.normal(0.0, sd)
    for i, shock in enumerate(shocks.tolist()):
        value = corr * value + shock
        out[i] = value
    return out


def _positions(route: Route, distance_m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Latitude, longitude (degrees) and altitude (m) at each distance along the loop."""
    theta = np.linspace(0.0, 2 * math.pi, 2001)
    a2, a3 = route.shape
    radius = route.radius_m * (1 + a2 * np.sin(2 * theta + route.phase) + a3 * np.sin(3 * theta + route.phase))
    x, y = radius * np.cos(theta), radius * np.sin(theta)
    arc = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))])
    s = np.mod(distance_m, arc[-1])
    px, py = np.interp(s, arc, x), np.interp(s, arc, y)
    lat = route.lat + py / METERS_PER_DEG_LAT
    lon = route.lon + px / (METERS_PER_DEG_LAT * math.cos(math.radians(route.lat)))
    fraction = s / arc[-1]
    alt = route.altitude_m + route.hill_m * (
        0.7 * np.sin(2 * math.pi * fraction) + 0.3 * np.sin(6 * math.pi * fraction + 1.0)
    )
    return np.round(lat, 7), np.round(lon, 7), alt


# --------------------------------------------------------------------------- FIT helpers


def _ms(when: datetime) -> int:
    """Milliseconds since the Unix epoch (what fit-tool's date_time setters take)."""
    return round(when.timestamp() * 1000)


def _local_timestamp(when: datetime, utc_offset_s: int) -> int:
    """A FIT ``local_date_time``: seconds since the FIT epoch, shifted to local time."""
    return round(when.timestamp()) + utc_offset_s - FIT_EPOCH_UNIX_S


def _file_id(created: datetime, serial: int, product: int) -> FileIdMessage:
    msg = FileIdMessage(local_id=_LOCAL_ID["file_id"])
    msg.type = FileType.ACTIVITY
    msg.manufacturer = Manufacturer.GARMIN.value
    msg.product = product
    msg.serial_number = serial
    msg.time_created = _ms(created)
    return msg


def _timer_event(when: datetime, event_type: EventType) -> EventMessage:
    msg = EventMessage(local_id=_LOCAL_ID["event"])
    msg.timestamp = _ms(when)
    msg.event = Event.TIMER
    msg.event_type = event_type
    msg.event_group = 0
    return msg


def _activity(end: datetime, timer_s: float, utc_offset_s: int) -> ActivityMessage:
    msg = ActivityMessage(local_id=_LOCAL_ID["activity"])
    msg.timestamp = _ms(end)
    msg.total_timer_time = timer_s
    msg.num_sessions = 1
    msg.type = Activity.MANUAL
    msg.event = Event.ACTIVITY
    msg.event_type = EventType.STOP
    msg.local_timestamp = _local_timestamp(end, utc_offset_s)
    return msg


def _build(messages: Sequence[Message]) -> bytes:
    """Encode messages into a complete FIT file (header, definitions, data, CRC)."""
    builder = FitFileBuilder(auto_define=True, min_string_size=0)
    builder.add_all(list(messages))
    return builder.build().to_bytes()


def write_bytes(data: bytes, path: Path) -> Path:
    """Write ``data`` to ``path`` atomically (via a temporary sibling), creating folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path


def truncate_bytes(data: bytes, fraction: float) -> bytes:
    """The first ``fraction`` of a file: what an interrupted sync leaves behind."""
    return data[: int(len(data) * fraction)]


# --------------------------------------------------------------------------- running FIT


def run_fit_bytes(
    track: RunTrack,
    *,
    sub_sport: SubSport = SubSport.GENERIC,
    lap_m: float = 1000.0,
    utc_offset_s: int = 7200,
    serial: int = DEFAULT_SERIAL,
    product: int = DEFAULT_PRODUCT,
    lap_plan: Sequence[tuple[int, Intensity]] | None = None,
) -> bytes:
    """A FIT activity file of a run: file_id, timer start, one record per sample, timer stop,
    laps, session (sport running) and activity.

    Laps: auto laps every ``lap_m`` metres (intensity active, as watches write them), or with
    ``lap_plan`` the laps of a structured workout: (seconds, intensity) per lap, in order, their
    seconds adding up to the track's duration. ``utc_offset_s`` only sets the activity's
    local_timestamp (what the watch showed)."""
    times = track.times()
    messages: list[Message] = [_file_id(track.start, serial, product), _timer_event(track.start, EventType.START)]
    messages += [_record(track, i, times[i]) for i in range(len(times))]
    messages.append(_timer_event(track.end, EventType.STOP_ALL))
    if lap_plan is None:
        laps = _lap_slices(track.distance_m, lap_m)
        intensities = [Intensity.ACTIVE] * len(laps)
    else:
        laps = _planned_lap_slices(track.offsets_s, [secs for secs, _ in lap_plan])
        intensities = [intensity for _, intensity in lap_plan]
    for i, (sl, intensity) in enumerate(zip(laps, intensities, strict=True)):
        lap = _summary(LapMessage(local_id=_LOCAL_ID["lap"]), track, sl, i, sub_sport)
        lap.intensity = intensity
        if lap_plan is not None and i < len(laps) - 1:
            lap.lap_trigger = LapTrigger.TIME  # the watch moved to the workout's next step
        messages.append(lap)
    session = _summary(SessionMessage(local_id=_LOCAL_ID["session"]), track, slice(0, None), 0, sub_sport)
    session.num_laps = len(laps)
    session.first_lap_index = 0
    session.trigger = SessionTrigger.ACTIVITY_END
    messages += [session, _activity(track.end, track.duration_s, utc_offset_s)]
    return _build(messages)


def write_run_fit(
    track: RunTrack,
    path: Path,
    *,
    sub_sport: SubSport = SubSport.GENERIC,
    utc_offset_s: int = 7200,
    lap_plan: Sequence[tuple[int, Intensity]] | None = None,
) -> Path:
    """Write :func:`run_fit_bytes` of ``track`` to ``path``."""
    data = run_fit_bytes(track, sub_sport=sub_sport, utc_offset_s=utc_offset_s, lap_plan=lap_plan)
    return write_bytes(data, path)


def _record(track: RunTrack, i: int, when: datetime) -> RecordMessage:
    msg = RecordMessage(local_id=_LOCAL_ID["record"])
    msg.timestamp = _ms(when)
    if track.lat is not None and track.lon is not None:
        msg.position_lat = float(track.lat[i])
        msg.position_long = float(track.lon[i])
    msg.distance = float(track.distance_m[i])
    msg.enhanced_speed = float(track.speed_mps[i])
    if track.heart_rate is not None and not np.isnan(track.heart_rate[i]):
        msg.heart_rate = int(track.heart_rate[i])
    msg.cadence = int(track.cadence[i])
    msg.enhanced_altitude = float(track.altitude_m[i])
    return msg


def _lap_slices(distance_m: np.ndarray, lap_m: float) -> list[slice]:
    """Sample slices of auto laps; consecutive laps share their boundary sample."""
    lap_of = (distance_m // lap_m).astype(int)
    bounds = [0, *(np.flatnonzero(np.diff(lap_of)) + 1).tolist()]
    if bounds[-1] != len(distance_m) - 1:
        bounds.append(len(distance_m) - 1)
    return [slice(a, b + 1) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _planned_lap_slices(offsets_s: np.ndarray, lap_seconds: Sequence[int]) -> list[slice]:
    """Sample slices of laps of the given lengths; consecutive laps share their boundary sample."""
    ends = np.cumsum(lap_seconds)
    if int(ends[-1]) != int(offsets_s[-1]):
        raise ValueError(f"laps add up to {int(ends[-1])} s, the track lasts {int(offsets_s[-1])} s")
    bounds = [0, *np.searchsorted(offsets_s, ends).tolist()]
    return [slice(a, b + 1) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _summary(
    msg: LapMessage | SessionMessage, track: RunTrack, sl: slice, index: int, sub_sport: SubSport
) -> LapMessage | SessionMessage:
    """Fill the fields laps and sessions share from the samples in ``sl``."""
    offsets = track.offsets_s[sl]
    start = track.start + timedelta(seconds=int(offsets[0]))
    elapsed = float(offsets[-1] - offsets[0])
    distance = float(track.distance_m[sl][-1] - track.distance_m[sl][0])
    msg.message_index = index
    msg.timestamp = _ms(track.start + timedelta(seconds=int(offsets[-1])))
    msg.start_time = _ms(start)
    msg.event = Event.LAP if isinstance(msg, LapMessage) else Event.SESSION
    msg.event_type = EventType.STOP
    msg.sport = Sport.RUNNING
    msg.sub_sport = sub_sport
    msg.total_elapsed_time = elapsed
    msg.total_timer_time = elapsed
    msg.total_distance = distance
    msg.enhanced_avg_speed = distance / elapsed if elapsed else 0.0
    msg.enhanced_max_speed = float(track.speed_mps[sl].max())
    msg.avg_cadence = round(float(track.cadence[sl].mean()))
    msg.max_cadence = int(track.cadence[sl].max())
    lap_hr = None if track.heart_rate is None else track.heart_rate[sl][~np.isnan(track.heart_rate[sl])]
    if lap_hr is not None and len(lap_hr):
        msg.avg_heart_rate = round(float(lap_hr.mean()))
        msg.max_heart_rate = int(lap_hr.max())
    if track.lat is not None and track.lon is not None:
        msg.start_position_lat = float(track.lat[sl][0])
        msg.start_position_long = float(track.lon[sl][0])
        msg.end_position_lat = float(track.lat[sl][-1])
        msg.end_position_long = float(track.lon[sl][-1])
    msg.total_calories = round(distance / 1000 * 65)
    if isinstance(msg, LapMessage):
        msg.lap_trigger = LapTrigger.SESSION_END if sl.stop >= len(track.offsets_s) else LapTrigger.DISTANCE
    return msg


# --------------------------------------------------------------------------- strength FIT


@dataclass(frozen=True)
class WatchSet:
    """One active set as a watch logs it, followed by ``rest_s`` seconds of rest (0: none).
    ``subtype`` is the exercise-name number within ``category`` (e.g.
    ``SquatExerciseName.BARBELL_BACK_SQUAT.value``)."""

    category: ExerciseCategory
    subtype: int
    reps: int | None
    weight_kg: float | None
    duration_s: float
    rest_s: float = 0.0


def strength_fit_bytes(
    start: datetime,
    sets: Sequence[WatchSet],
    *,
    seed: int,
    lead_in_s: float = 60.0,
    tail_s: float = 60.0,
    utc_offset_s: int = 7200,
    serial: int = DEFAULT_SERIAL,
    product: int = DEFAULT_PRODUCT,
) -> bytes:
    """A FIT strength_training activity (sport training, sub_sport strength_training).

    After ``lead_in_s`` seconds the sets follow back to back, each active set followed by a
    rest set of its ``rest_s``. Heart rate is recorded every 5 s. The session ends
    ``tail_s`` after the last set."""
    set_msgs, end_of_sets = _set_messages(start + timedelta(seconds=lead_in_s), sets)
    end = end_of_sets + timedelta(seconds=tail_s)
    records = _strength_records(start, end, set_msgs, seed)
    elapsed = (end - start).total_seconds()
    hrs = [r.heart_rate for r in records]
    lap = _strength_summary(LapMessage(local_id=_LOCAL_ID["lap"]), start, end, hrs)
    lap.lap_trigger = LapTrigger.SESSION_END
    session = _strength_summary(SessionMessage(local_id=_LOCAL_ID["session"]), start, end, hrs)
    session.num_laps = 1
    session.first_lap_index = 0
    session.trigger = SessionTrigger.ACTIVITY_END
    messages: list[Message] = [_file_id(start, serial, product), _timer_event(start, EventType.START)]
    messages += _merge_by_time(records, set_msgs)
    messages += [_timer_event(end, EventType.STOP_ALL), lap, session, _activity(end, elapsed, utc_offset_s)]
    return _build(messages)


def _set_messages(first_start: datetime, sets: Sequence[WatchSet]) -> tuple[list[SetMessage], datetime]:
    """Active and rest ``set`` messages in order; returns them and the end of the last one."""
    out: list[SetMessage] = []
    clock = first_start
    for ws in sets:
        out.append(_set_message(len(out), clock, ws.duration_s, ws))
        clock += timedelta(seconds=ws.duration_s)
        if ws.rest_s > 0:
            out.append(_set_message(len(out), clock, ws.rest_s, None))
            clock += timedelta(seconds=ws.rest_s)
    return out, clock


def _set_message(index: int, start: datetime, duration_s: float, ws: WatchSet | None) -> SetMessage:
    """One ``set`` message; ``ws=None`` makes a rest set."""
    msg = SetMessage(local_id=_LOCAL_ID["set"])
    msg.timestamp = _ms(start + timedelta(seconds=duration_s))
    msg.start_time = _ms(start)
    msg.duration = duration_s
    msg.message_index = index
    if ws is None:
        msg.set_type = SetType.REST
        return msg
    msg.set_type = SetType.ACTIVE
    msg.category = [ws.category.value]
    msg.category_subtype = [ws.subtype]
    if ws.reps is not None:
        msg.repetitions = ws.reps
    if ws.weight_kg is not None:
        msg.weight = ws.weight_kg
        msg.weight_display_unit = FitBaseUnit.KILOGRAM
    return msg


def _strength_records(start: datetime, end: datetime, sets: list[SetMessage], seed: int) -> list[RecordMessage]:
    """Heart-rate records every 5 s: higher during active sets, recovering during rest."""
    rng = np.random.default_rng(seed)
    active = [(s.start_time, s.timestamp) for s in sets if s.set_type == SetType.ACTIVE.value]
    n = int((end - start).total_seconds()) // 5 + 1
    noise = _smooth_noise(rng, n, sd=2.0, corr=0.8)
    records, hr = [], 90.0
    for i in range(n):
        ms = _ms(start) + i * 5000
        working = any(a <= ms <= b for a, b in active)
        hr += (0.35 if working else 0.12) * ((128.0 if working else 98.0) - hr)
        msg = RecordMessage(local_id=_LOCAL_ID["record"])
        msg.timestamp = ms
        msg.heart_rate = int(round(hr + noise[i]))
        records.append(msg)
    return records


def _merge_by_time(records: list[RecordMessage], sets: list[SetMessage]) -> list[Message]:
    """Interleave records and set messages by timestamp (sets are logged when they end)."""
    tagged = [(r.timestamp, 0, i, r) for i, r in enumerate(records)]
    tagged += [(s.timestamp, 1, i, s) for i, s in enumerate(sets)]
    return [msg for *_, msg in sorted(tagged, key=lambda t: t[:3])]


def _strength_summary(
    msg: LapMessage | SessionMessage, start: datetime, end: datetime, hrs: list[int | None]
) -> LapMessage | SessionMessage:
    elapsed = (end - start).total_seconds()
    values = [h for h in hrs if h is not None]
    msg.message_index = 0
    msg.timestamp = _ms(end)
    msg.start_time = _ms(start)
    msg.event = Event.LAP if isinstance(msg, LapMessage) else Event.SESSION
    msg.event_type = EventType.STOP
    msg.sport = Sport.TRAINING
    msg.sub_sport = SubSport.STRENGTH_TRAINING
    msg.total_elapsed_time = elapsed
    msg.total_timer_time = elapsed
    msg.total_calories = round(elapsed / 60 * 6)
    if values:
        msg.avg_heart_rate = round(sum(values) / len(values))
        msg.max_heart_rate = max(values)
    return msg
