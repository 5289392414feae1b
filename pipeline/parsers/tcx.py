"""Garmin Training Center (TCX) files -> one :class:`Activity` per ``<Activity>`` element.

The tree comes from :mod:`pipeline.parsers.safe_xml` (no DTD, no entities) and is walked by
local element name, so the default namespace, ``ns3:``/``ext:``/``tpx:`` prefixes and
extension versions all read the same.

Choices:

- Sport: ``Running`` -> running, ``Biking`` -> cycling; ``Other`` (or none) is typed from the
  movement like an untyped GPX (:mod:`pipeline.parsers.movement`: running, walking as
  other/walking, cycling, else other). TCX has no swimming value. The loader applies a Strava
  export's ``activities.csv`` on top.
- Title: the activity's ``<Notes>``, else none.
- Elapsed time runs from the first to the last timed trackpoint, widened to the laps'
  ``StartTime`` + ``TotalTimeSeconds`` where those reach further (so it is never shorter
  than the timer time); moving time is the sum of the laps' ``TotalTimeSeconds`` (the
  device's timer time). An activity without trackpoints (a treadmill session typed in by
  hand) is placed by its laps alone; the ``Id`` stands in for a missing lap start.
- Distance: the trackpoints' cumulative ``DistanceMeters``; when no trackpoint has one,
  the haversine path over positions; when there are no positions either, the laps' sum. The
  laps' sum wins where it is more than 2 % larger (trackpoints that start late cover only part
  of the laps; within 2 % the two differ by rounding).
  Likewise the laps' ``TotalTimeSeconds`` widen a trackpoint span that is shorter (above).
- Speed: the TPX ``Speed`` extension where recorded, else distance step over time step.
- Cadence: ``<Cadence>`` (bike) or the TPX ``RunCadence`` extension, as the device reports it.
- Trackpoints without ``<Time>`` are skipped, and so are trackpoints timed outside the
  plausible window [1990-01-01, 2100-01-01) UTC (``records.EARLIEST``/``records.LATEST``, shared by
  every parser): they cannot be placed. An activity whose laps or ``Id`` lie outside the
  window is quarantined (a wrong clock or damage). A heart rate of 0 (no strap contact) or
  255 and above is missing. An empty number element (``<LatitudeDegrees/>``,
  written by some apps) is a missing value; text that is not a number is a broken file.
  A position of exactly 0/0 is a device without a fix, like in GPX.
- Laps: each ``<Lap>`` is a :class:`Lap` (``StartTime``, ``TotalTimeSeconds`` as timer time,
  ``DistanceMeters``, ``Intensity`` Active -> active, Resting -> rest); a lap value that
  cannot be read is None in the lap.
- A Course file (``Courses/Course``) is a planned route, not something that was done.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any
from xml.etree.ElementTree import Element

import numpy as np

from pipeline.parsers import arrow, safe_xml
from pipeline.parsers.gpx import heart_rate_summary, path_steps, step_speeds
from pipeline.parsers.movement import sport_from_movement
from pipeline.parsers.records import (
    EARLIEST,
    LATEST,
    Activity,
    Lap,
    LapIntensity,
    ParseContext,
    ParseResult,
    QuarantineError,
    Sport,
    as_utc,
    samples_table,
)

_SPORTS: dict[str, Sport] = {"running": "running", "biking": "cycling"}
_INTENSITIES: dict[str, LapIntensity] = {"active": "active", "resting": "rest"}  # TCX's Intensity_t
_LAPS_WIN_ABOVE = 1.02  # the laps' distance replaces the trackpoints' when more than 2 % larger


@dataclass
class _Track:
    """Trackpoint values as columns (one entry per timed trackpoint), ready for samples."""

    ts: list[datetime] = field(default_factory=list)
    lat: list[float] = field(default_factory=list)
    lon: list[float] = field(default_factory=list)
    ele: list[float] = field(default_factory=list)
    dist: list[float] = field(default_factory=list)
    hr: list[float] = field(default_factory=list)
    cad: list[float] = field(default_factory=list)
    speed: list[float] = field(default_factory=list)


@dataclass
class _Laps:
    """What the laps of one activity add up to."""

    start: datetime | None
    end: datetime | None  # the latest lap start plus that lap's timer time
    total_s: float | None
    distance_m: float | None
    avg_hr: float | None
    max_hr: float | None


def parse(data: bytes, name: str, ctx: ParseContext) -> ParseResult:
    """Parse one TCX file into a :class:`ParseResult` with one activity per ``<Activity>``."""
    root = safe_xml.parse_root(data)
    if safe_xml.local_name(root.tag) != "TrainingCenterDatabase":
        root_name = safe_xml.shown_name(safe_xml.local_name(root.tag))
        raise QuarantineError(f"not a TCX document (root element <{root_name}>)")
    elements = [el for el in root.iter() if safe_xml.local_name(el.tag) == "Activity"]
    if not elements:
        if any(safe_xml.local_name(el.tag) == "Course" for el in root.iter()):
            raise QuarantineError("TCX course, not an activity")
        raise QuarantineError("TCX holds no activity")
    # The csv names the file, not an activity inside it: only a one-activity file can use it.
    activities = [a for a in (_activity(el) for el in elements) if a is not None]
    if not activities:
        raise QuarantineError("TCX activity has neither timed trackpoints nor lap times")
    return ParseResult(format="tcx", activities=activities)


def _activity(el: Element) -> Activity | None:
    """One activity, or None when it holds nothing that can be placed in time."""
    track = _read_track(el)
    laps = _read_laps(el)
    span = _time_span(track, laps)
    if span is None:
        return None
    start, end = span
    if start < EARLIEST or end > LATEST:
        raise QuarantineError(
            f"implausible date: TCX activity runs {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC "
            "(before 1990 or after 2100: a wrong device clock or a damaged file)"
        )
    duration = (end - start).total_seconds()
    # Lap timer times are rounded per lap; their sum can pass the wall clock by a fraction.
    moving = min(laps.total_s, duration) if laps.total_s is not None else None
    columns = _samples(track)
    sport, sub_sport = _sport(el.get("Sport"), columns)
    avg_hr, max_hr = heart_rate_summary(columns["heart_rate"])
    return Activity(
        sport=sport,
        sub_sport=sub_sport,
        title=_text(_child(el, "Notes")),
        start_utc=start,
        end_utc=end,
        duration_s=duration,
        moving_s=moving,
        distance_m=_distance(columns["distance_m"], laps),
        avg_hr=laps.avg_hr if avg_hr is None else avg_hr,
        max_hr=laps.max_hr if max_hr is None else max_hr,
        samples=samples_table(columns),
        laps=_lap_records(el),
    )


def _sport(attr: str | None, samples: dict[str, list[Any]]) -> tuple[Sport, str | None]:
    """The activity's ``Sport``; for ``Other`` (TCX's only value besides Running and Biking) or
    none, the sport its movement shows (:mod:`pipeline.parsers.movement`), else other."""
    sport = _SPORTS.get((attr or "").strip().lower())
    if sport is not None:
        return sport, None
    seconds = arrow.micros(samples["ts_utc"]) / 1e6
    typed = sport_from_movement(seconds, samples["speed_mps"], samples["cadence"])
    return typed or ("other", None)


def _time_span(track: _Track, laps: _Laps) -> tuple[datetime, datetime] | None:
    """(start, end) over trackpoints and laps; None when nothing places the activity in time.

    Laps widen the trackpoint span where they reach further (a file whose recording was
    cut short), so elapsed time is never less than the timer time the laps report."""
    times = [t for t in (laps.start, laps.end) if t is not None] + track.ts
    if not times or min(times) == max(times):
        return None
    start, end = min(times), max(times)
    if laps.start is None and laps.total_s is not None and laps.total_s > (end - start).total_seconds():
        # no lap start to place the laps, and trackpoints that started late: the laps' timer time
        # says the activity began before the first trackpoint
        try:
            start = end - timedelta(seconds=laps.total_s)
        except OverflowError:  # TotalTimeSeconds 1e308: no datetime reaches that far
            raise QuarantineError("invalid TCX: a Lap TotalTimeSeconds is out of range") from None
    return start, end


def _distance(column: list[float], laps: _Laps) -> float | None:
    """The larger of the cumulative distance the trackpoints reach and what the laps add up to:
    trackpoints that start late (the GPS or the recording came in after the lap timer started)
    cover only part of the laps' DistanceMeters, which the device measured over the whole lap.
    Within 2 % the two only differ by rounding: the trackpoints' own distance is kept."""
    values = np.asarray(column, dtype=np.float64)
    reached = float(np.nanmax(values)) if (~np.isnan(values)).any() else math.nan
    if math.isnan(reached):
        return laps.distance_m
    if laps.distance_m is not None and laps.distance_m > reached * _LAPS_WIN_ABOVE:
        return laps.distance_m
    return float(reached)


def _samples(track: _Track) -> dict[str, list[Any]]:
    """The samples' columns in time order (:data:`SAMPLE_COLUMNS`); fills distance and speed
    from positions where the device did not."""
    order = sorted(range(len(track.ts)), key=track.ts.__getitem__)  # stable time order
    cols = {f.name: [getattr(track, f.name)[i] for i in order] for f in fields(_Track)}
    one_segment = [0] * len(order)
    steps = path_steps(cols["lat"], cols["lon"], one_segment)
    if all(math.isnan(d) for d in cols["dist"]) and any(steps):
        cols["dist"] = list(itertools.accumulate(steps))
    dist_steps = _dist_steps(cols["dist"])
    derived = step_speeds(dist_steps, cols["ts"], one_segment)
    speed = [s if not math.isnan(s) else d for s, d in zip(cols["speed"], derived, strict=True)]
    return {
        "ts_utc": cols["ts"], "lat": cols["lat"], "lon": cols["lon"], "distance_m": cols["dist"],
        "speed_mps": speed, "heart_rate": cols["hr"], "cadence": cols["cad"], "altitude_m": cols["ele"],
    }  # fmt: skip


def _dist_steps(dist: list[float]) -> list[float]:
    """Metres since the previous trackpoint (NaN at the first and where either lacks one)."""
    return [math.nan, *(b - a for a, b in itertools.pairwise(dist))][: len(dist)]


def _read_track(activity: Element) -> _Track:
    track = _Track()
    for index, tp in enumerate(_descendants(activity, "Trackpoint")):
        time_text = _text(_child(tp, "Time"))
        if time_text is None:
            continue  # a point the device could not place in time adds nothing to the samples
        ts = _time(time_text, f"trackpoint {index} Time")
        if EARLIEST <= ts < LATEST:  # else a placeholder or damage: like a point without a time
            _add_trackpoint(track, tp, index, ts)
    return track


def _add_trackpoint(track: _Track, tp: Element, index: int, ts: datetime) -> None:
    where = f"trackpoint {index}"
    position = _child(tp, "Position")
    lat = _number(_child(position, "LatitudeDegrees"), where)
    lon = _number(_child(position, "LongitudeDegrees"), where)
    _check_position(lat, lon, where)
    if lat == 0 and lon == 0:
        lat = lon = math.nan  # 0/0: the device had no fix
    extension = _first_descendant(tp, "TPX")
    cadence = _number(_child(tp, "Cadence"), where)
    if math.isnan(cadence):
        cadence = _number(_child(extension, "RunCadence"), where)
    track.ts.append(ts)
    track.lat.append(lat)
    track.lon.append(lon)
    track.ele.append(_number(_child(tp, "AltitudeMeters"), where))
    track.dist.append(_number(_child(tp, "DistanceMeters"), where, nonnegative=True))
    track.hr.append(_heart_rate(_number(_child(_child(tp, "HeartRateBpm"), "Value"), where)))
    track.cad.append(cadence)
    track.speed.append(_number(_child(extension, "Speed"), where))


def _check_position(lat: float, lon: float, where: str) -> None:
    if math.isnan(lat) != math.isnan(lon):
        raise QuarantineError(f"invalid TCX: {where} has only half a position (lat={lat}, lon={lon})")
    if not math.isnan(lat) and not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise QuarantineError(f"invalid TCX: {where} has position lat={lat} lon={lon} out of range")


def _read_laps(activity: Element) -> _Laps:
    laps = [lap for lap in activity if safe_xml.local_name(lap.tag) == "Lap"]
    starts = [_time(s, "Lap StartTime") for s in (lap.get("StartTime") for lap in laps) if s]
    totals = [_number(_child(lap, "TotalTimeSeconds"), "Lap", nonnegative=True) for lap in laps]
    dists = [_number(_child(lap, "DistanceMeters"), "Lap", nonnegative=True) for lap in laps]
    avgs = [_heart_rate(_number(_child(_child(lap, "AverageHeartRateBpm"), "Value"), "Lap")) for lap in laps]
    maxes = [_heart_rate(_number(_child(_child(lap, "MaximumHeartRateBpm"), "Value"), "Lap")) for lap in laps]
    id_time = _text(_child(activity, "Id"))
    start = min(starts) if starts else _time(id_time, "Activity Id") if id_time else None
    return _Laps(
        start=start,
        end=_laps_end(laps, totals),
        total_s=_sum(totals),
        distance_m=_sum(dists),
        avg_hr=_weighted_mean(avgs, totals),
        max_hr=max((m for m in maxes if not math.isnan(m)), default=None),
    )


def _lap_records(activity: Element) -> list[Lap]:
    """The activity's laps as records, in document order. Lenient where :func:`_read_laps` is
    strict: a value that cannot be read is None here (whether the file loads is decided there)."""
    return [
        Lap(
            start_utc=_lap_start(lap.get("StartTime")),
            elapsed_s=None,  # TCX records one time per lap, the timer time
            timer_s=_lap_number(_child(lap, "TotalTimeSeconds")),
            distance_m=_lap_number(_child(lap, "DistanceMeters")),
            intensity=_INTENSITIES.get((_text(_child(lap, "Intensity")) or "").lower()),
        )
        for lap in activity
        if safe_xml.local_name(lap.tag) == "Lap"
    ]


def _lap_start(text: str | None) -> datetime | None:
    try:
        start = _time(text, "Lap StartTime") if text else None
    except QuarantineError:
        return None
    return start if start is not None and EARLIEST <= start < LATEST else None


def _lap_number(el: Element | None) -> float | None:
    try:
        value = _number(el, "Lap", nonnegative=True)
    except QuarantineError:
        return None
    return None if math.isnan(value) else value


def _laps_end(laps: list[Element], totals: list[float]) -> datetime | None:
    try:
        ends = [
            _time(lap.get("StartTime", ""), "Lap StartTime") + timedelta(seconds=total)
            for lap, total in zip(laps, totals, strict=True)
            if lap.get("StartTime") and not math.isnan(total)
        ]
    except OverflowError:  # TotalTimeSeconds 1e308: no datetime reaches that far
        raise QuarantineError("invalid TCX: a Lap TotalTimeSeconds is out of range") from None
    return max(ends, default=None)


def _heart_rate(bpm: float) -> float:
    """NaN for 0 (no strap contact) and 255 and above (not a heart rate; FIT's invalid value)."""
    return bpm if 0 < bpm < 255 else math.nan


def _sum(values: list[float]) -> float | None:
    present = [v for v in values if not math.isnan(v)]
    return sum(present) if present else None


def _weighted_mean(values: list[float], weights: list[float]) -> float | None:
    """Lap average heart rates weighted by lap time (laps without a time weigh nothing)."""
    pairs = [(v, w) for v, w in zip(values, weights, strict=True) if not math.isnan(v) and w > 0]
    total = sum(w for _, w in pairs)
    return sum(v * w for v, w in pairs) / total if total else None


def _time(text: str, what: str) -> datetime:
    """ISO 8601 (``Z``, offsets, any fraction) -> aware UTC; naive means UTC (xsd:dateTime)."""
    try:
        return as_utc(datetime.fromisoformat(text.strip()))
    except (ValueError, OverflowError):  # OverflowError: year 1 or 9999 with an offset has no UTC
        raise QuarantineError(f"invalid TCX: {what} is not a date-time") from None


def _number(el: Element | None, where: str, nonnegative: bool = False) -> float:
    """The element's number; NaN when absent or empty; quarantine when it is not a number
    (or, for a time or distance, ``nonnegative``, when it is negative: such a lap would make
    the moving time or distance negative)."""
    text = _text(el)
    if text is None:
        return math.nan
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        tag = safe_xml.local_name(el.tag) if el is not None else "value"
        raise QuarantineError(f"invalid TCX: {tag} in {where} is not a number")
    if nonnegative and value < 0:
        tag = safe_xml.local_name(el.tag) if el is not None else "value"
        raise QuarantineError(f"invalid TCX: {tag} in {where} is negative")
    return value


def _text(el: Element | None) -> str | None:
    if el is None or el.text is None:
        return None
    return el.text.strip() or None


def _child(el: Element | None, name: str) -> Element | None:
    """First direct child with this local name (None-safe, so lookups chain)."""
    if el is None:
        return None
    return next((c for c in el if safe_xml.local_name(c.tag) == name), None)


def _first_descendant(el: Element, name: str) -> Element | None:
    return next(_descendants(el, name), None)


def _descendants(el: Element, name: str) -> Iterator[Element]:
    return (d for d in el.iter() if safe_xml.local_name(d.tag) == name)
