"""GPX 1.0 / 1.1 tracks -> one :class:`Activity` per recording session (normally per file).

Choices (documented because GPX leaves them open):

- **One activity per file**, as a rule. A GPX file is what one device session or one export
  produced; several ``<trk>`` (GPSBabel "ACTIVE LOG #2", a watch's pauses) are pieces of
  it. All timed track points of all tracks become the samples, in time order. The one
  exception: a pause of more than :data:`SPLIT_GAP` (4 h) starts a new activity, because
  multi-day trips and OSM traces put days or years of tracks in one file, and a 140-day
  "activity" would swallow every run it overlaps in duplicate matching and daily load.
  A session of a single instant (a lone point after a long gap) is dropped.
- Distance is summed within segments only, like gpxpy's ``length_2d``: a segment break
  means the GPS lost its fix or the watch paused, and the straight line across the gap was
  not travelled. Speed is the step distance over the step time.
- **Time is required.** Points without ``<time>`` are dropped (they cannot be placed on the
  sample axis). Times outside the plausible window [1990-01-01, 2100-01-01) UTC count as
  missing too: earlier ones are device placeholders - e.g. GPSBabel writes
  1901-12-13T20:45:52Z, the 32-bit epoch minimum, when it has no time - and later ones are
  damage (the same window as the FIT and CSV parsers; ``tests/test_fuzz.py``). A file left
  with no timed point is quarantined: an activity that cannot be placed in time cannot be
  judged by any rule. Naive times are UTC (GPX spec).
- **Sport** comes from the file's own hints first: the track's ``<type>`` (Garmin Connect's
  ``running``, Strava's ``9``/``1`` ...), else an activity its extensions name (Locus Map's
  ``<locus:activity>``). Without any, it is typed from its movement
  (:mod:`pipeline.parsers.movement`: median moving speed and cadence, conservative bands) as
  running, walking (sport ``other``, sub_sport ``walking``) or cycling, and ``other`` when that
  is unclear: an untyped GPX is as often a hike, a drive or a planned route as a run, and
  counting a drive as running load would raise false flags. The loader applies a Strava
  export's ``activities.csv`` type and name on top.
- **Title** is the track's ``<name>``, else the metadata ``<name>``.
- Heart rate and cadence come from extensions matched by local name (``gpxtpx:hr``,
  ``ns3:hr``, ``heartrate``; ``cad``, ``cadence``) so any prefix or extension version works.
  A heart rate of 0 (no strap contact) or 255 and above is missing, like an unreadable one;
  so are infinite or NaN numbers (``<ele>inf</ele>``) and elevations outside
  -1,000..100,000 m (gpxpy's 3-D step distance overflows on ``<ele>1e308</ele>``).
- A position of exactly 0/0 ("Null Island") is a device without a fix: the sample is kept
  with no position and adds no distance.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from xml.etree.ElementTree import Element

import gpxpy
import gpxpy.gpx
import numpy as np
from gpxpy.geo import haversine_distance

from pipeline.parsers import safe_xml
from pipeline.parsers.movement import sport_from_movement
from pipeline.parsers.records import (
    EARLIEST,
    LATEST,
    Activity,
    ParseContext,
    ParseResult,
    QuarantineError,
    Sport,
    as_utc,
    samples_table,
)

# A pause longer than this ends a recording session: a multi-day trip or an OSM trace
# collecting years of tracks in one file must not become a 140-day "activity".
SPLIT_GAP = timedelta(hours=4)

_ELEVATION_M = (-1_000.0, 100_000.0)  # below the Dead Sea shore (-430 m) to the edge of space
_HR_TAGS = frozenset({"hr", "heartrate", "heart_rate"})
_CADENCE_TAGS = frozenset({"cad", "cadence", "runcadence"})

# <type> values seen in exports (Garmin Connect, Strava, Runkeeper, NikePlus, OsmAnd ...),
# lower-cased. Strava's older GPX exports write numbers: 1 = Ride, 9 = Run.
_SPORT_BY_TYPE: dict[str, Sport] = {
    "running": "running", "run": "running", "9": "running", "trail_running": "running",
    "trailrun": "running", "treadmill_running": "running", "virtualrun": "running",
    "street_running": "running", "track_running": "running",
    "cycling": "cycling", "biking": "cycling", "ride": "cycling", "bike": "cycling", "1": "cycling",
    "road_biking": "cycling", "mountain_biking": "cycling", "virtualride": "cycling",
    "ebikeride": "cycling", "gravel_cycling": "cycling", "indoor_cycling": "cycling",
    "swimming": "swimming", "swim": "swimming", "open_water_swimming": "swimming",
    "lap_swimming": "swimming",
}  # fmt: skip


_MAX_TYPE = 40  # an exporter's type word is kept as sub_sport, cut to this length

# Types that say no more than the sport they map to (no sub_sport worth keeping).
_GENERIC_TYPES = frozenset({"running", "run", "cycling", "biking", "ride", "bike", "swimming", "swim", "other"})


@dataclass
class _Point:
    """One timed track point, flattened out of gpxpy's track/segment/point tree."""

    ts: datetime
    track: int  # index of its <trk>: names the activity and gives its <type>
    segment: int  # running number of its <trkseg>: distance is not summed across segments
    lat: float
    lon: float
    ele: float
    hr: float
    cad: float
    src: gpxpy.gpx.GPXTrackPoint  # for gpxpy's moving-time computation


def parse(data: bytes, name: str, ctx: ParseContext) -> ParseResult:
    """Parse one GPX file: one activity per recording session (normally exactly one)."""
    doc = safe_xml.load(data)
    root_name = safe_xml.local_name(doc.root.tag)
    if root_name != "gpx":
        raise QuarantineError(f"not a GPX document (root element <{safe_xml.shown_name(root_name)}>)")
    gpx = _gpxpy_parse(doc.text)
    _check_times(doc.root, gpx)
    sessions = [s for s in split_sessions(_timed_points(gpx)) if s[-1].ts > s[0].ts]
    if not sessions:
        raise QuarantineError("GPX track spans no time (its timed points share one instant)")
    return ParseResult(
        format="gpx",
        activities=[_activity(gpx, session) for session in sessions],
    )


def _gpxpy_parse(text: str) -> gpxpy.gpx.GPX:
    """gpxpy on the vetted text (no DTD left, so its parser cannot expand entities)."""
    try:
        return gpxpy.parse(text)
    except (gpxpy.gpx.GPXException, ValueError) as err:
        raise QuarantineError(_gpxpy_reason(err)) from None


# gpxpy's messages quote the offending text ("Invalid value for <ele>... <the text> (could not
# convert ...)"); a reason names only the element, which comes from gpxpy's own schema.
_GPXPY_INVALID_VALUE = re.compile(r"Invalid value for <(\w+)>")
_GPXPY_MANDATORY = re.compile(r"(\w+) is mandatory in (\w+)")


def _gpxpy_reason(err: Exception) -> str:
    message = str(err)
    if match := _GPXPY_INVALID_VALUE.match(message):
        tag = match.group(1)
        return "invalid GPX: a position (lat/lon) is not a number" if tag == "None" else (
            f"invalid GPX: a <{tag}> value cannot be read")
    if match := _GPXPY_MANDATORY.match(message):
        where = "a point" if match.group(2) == "None" else f"<{match.group(2)}>"  # None: an attribute
        return f"invalid GPX: {where} lacks its mandatory {match.group(1)}"
    if message.startswith("Invalid time"):
        return "invalid GPX: a <time> value is not a date-time"
    if message.startswith("Invalid version"):
        return "invalid GPX: unsupported GPX version"
    return f"invalid GPX: gpxpy cannot read the document ({type(err).__name__})"


def _check_times(root: Element, gpx: gpxpy.gpx.GPX) -> None:
    """Quarantine a track point whose ``<time>`` is unreadable.

    gpxpy silently turns such a time into None, which would make a broken file look like
    one with a few untimed points. Its points follow trk/trkseg/trkpt in document order,
    so they line up with the same walk over the vetted tree."""
    texts = [
        _element_text(_children(pt, "time"))
        for trk in _children(root, "trk")
        for seg in _children(trk, "trkseg")
        for pt in _children(seg, "trkpt")
    ]
    points = [p for _, _, p in _track_points(gpx)]
    if len(texts) != len(points):
        return  # the walks disagree: nothing safe to compare
    for index, (text, point) in enumerate(zip(texts, points, strict=True)):
        if text and point.time is None:
            raise QuarantineError(f"invalid GPX: track point {index} has a <time> that is not a date-time")


def _children(el: Element | None, name: str) -> list[Element]:
    return [] if el is None else [c for c in el if safe_xml.local_name(c.tag) == name]


def _element_text(elements: list[Element]) -> str | None:
    return _clean(elements[0].text) if elements else None


def _timed_points(gpx: gpxpy.gpx.GPX) -> list[_Point]:
    """All usable track points in time order; quarantine files that hold none."""
    raw = _track_points(gpx)
    if not raw:
        raise QuarantineError(_no_points_reason(gpx))
    for index, (_, _, point) in enumerate(raw):
        _check_position(point.latitude, point.longitude, index)
    timed = [(t, s, p, _utc(p.time)) for t, s, p in raw if p.time is not None]
    usable = [_point(t, s, p, ts) for t, s, p, ts in timed if ts is not None and EARLIEST <= ts < LATEST]
    if not usable:
        raise QuarantineError(_no_time_reason(len(raw), len(timed)))
    usable.sort(key=lambda pt: pt.ts)  # stable: equal times keep document order
    return usable


def _utc(time: datetime) -> datetime | None:
    """Aware UTC; None for a time that has no UTC equivalent (year 1 or 9999 with an offset)."""
    try:
        return as_utc(time)
    except OverflowError:
        return None


def _track_points(gpx: gpxpy.gpx.GPX) -> list[tuple[int, int, gpxpy.gpx.GPXTrackPoint]]:
    """(track index, file-wide segment number, point) for every track point, in file order."""
    out: list[tuple[int, int, gpxpy.gpx.GPXTrackPoint]] = []
    segments = ((t, seg) for t, track in enumerate(gpx.tracks) for seg in track.segments)
    for s, (t, seg) in enumerate(segments):
        out.extend((t, s, p) for p in seg.points)
    return out


def split_sessions(points: list[_Point], gap: timedelta = SPLIT_GAP) -> list[list[_Point]]:
    """Cut time-ordered points wherever the recording pauses for longer than ``gap``."""
    sessions = [[points[0]]]
    for prev, point in itertools.pairwise(points):
        if point.ts - prev.ts > gap:
            sessions.append([])
        sessions[-1].append(point)
    return sessions


def _no_points_reason(gpx: gpxpy.gpx.GPX) -> str:
    if gpx.tracks:
        return "GPX track is empty (no track points)"
    if gpx.routes or gpx.waypoints:
        return "GPX holds no track (route/waypoints only)"
    return "GPX holds no track"


def _no_time_reason(n_points: int, n_timed: int) -> str:
    if n_timed:
        return (
            "GPX has no timestamps; cannot place the activity in time "
            f"(all {n_timed} point times are before 1990 or from 2100 on: device placeholders or damage)"
        )
    return f"GPX has no timestamps; cannot place the activity in time ({n_points} points, none timed)"


def _check_position(lat: float, lon: float, index: int) -> None:
    """gpxpy accepts ``nan``/``inf`` and out-of-range numbers; a track point cannot have them."""
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise QuarantineError(f"invalid GPX: track point {index} has position lat={lat} lon={lon}")


def _point(track: int, segment: int, p: gpxpy.gpx.GPXTrackPoint, ts: datetime) -> _Point:
    no_fix = p.latitude == 0 and p.longitude == 0
    hr, cad = _extension_values(p)
    if p.elevation is not None and not _ELEVATION_M[0] <= p.elevation <= _ELEVATION_M[1]:  # NaN fails too
        p.elevation = None  # damage, not a height: also kept out of gpxpy's moving-time distances
    return _Point(
        ts=ts,
        track=track,
        segment=segment,
        lat=math.nan if no_fix else p.latitude,
        lon=math.nan if no_fix else p.longitude,
        ele=math.nan if p.elevation is None else p.elevation,
        hr=hr if 0 < hr < 255 else math.nan,  # 0: no strap contact; 255+: not a heart rate
        cad=cad,
        src=p,
    )


def _extension_values(p: gpxpy.gpx.GPXTrackPoint) -> tuple[float, float]:
    """Heart rate and cadence from any extension element, matched by local name."""
    hr = cad = math.nan
    for ext in p.extensions:
        for el in ext.iter():
            tag = safe_xml.local_name(el.tag).lower()
            if tag in _HR_TAGS and math.isnan(hr):
                hr = _number(el.text)
            elif tag in _CADENCE_TAGS and math.isnan(cad):
                cad = _number(el.text)
    return hr, cad


def _number(text: str | None) -> float:
    """Extension values are free-form: an unreadable one is missing, not a broken file."""
    try:
        value = float((text or "").strip())
    except ValueError:
        return math.nan
    return value if math.isfinite(value) else math.nan


def path_steps(lats: Sequence[float], lons: Sequence[float], segments: Sequence[int]) -> list[float]:
    """Haversine metres from the previous positioned point of the same segment to each point
    (0 for the first point of a segment and for points without a position)."""
    steps: list[float] = []
    prev_seg, prev_lat, prev_lon = None, math.nan, math.nan
    for lat, lon, seg in zip(lats, lons, segments, strict=True):
        if math.isnan(lat) or math.isnan(lon):
            steps.append(0.0)
            continue
        steps.append(haversine_distance(prev_lat, prev_lon, lat, lon) if seg == prev_seg else 0.0)
        prev_seg, prev_lat, prev_lon = seg, lat, lon
    return steps


def step_speeds(steps: Sequence[float], times: Sequence[datetime], segments: Sequence[int]) -> list[float]:
    """Speed over the step into each point; NaN at a segment start or when time stands still."""
    speeds = [math.nan]
    for i in range(1, len(steps)):
        dt = (times[i] - times[i - 1]).total_seconds()
        same = segments[i] == segments[i - 1]
        speeds.append(steps[i] / dt if same and dt > 0 else math.nan)
    return speeds[: len(steps)]


def _activity(gpx: gpxpy.gpx.GPX, points: list[_Point]) -> Activity:
    """One activity from the time-ordered points of one recording session."""
    times = [p.ts for p in points]
    segments = [p.segment for p in points]
    lats, lons = [p.lat for p in points], [p.lon for p in points]
    steps = path_steps(lats, lons, segments)
    distance = _cumsum(steps)
    speeds = step_speeds(steps, times, segments)
    hrs = [p.hr for p in points]
    samples = samples_table({
        "ts_utc": times, "lat": lats, "lon": lons, "distance_m": distance,
        "speed_mps": speeds, "heart_rate": hrs,
        "cadence": [p.cad for p in points], "altitude_m": [p.ele for p in points],
    })  # fmt: skip
    # The session's own track names and types it; other tracks of the file are the fallback.
    track = gpx.tracks[points[0].track]
    hint = _clean(track.type) or _first(t.type for t in gpx.tracks)
    hint = hint or _track_hint(track) or _first(_track_hint(t) for t in gpx.tracks)
    if hint:
        sport, sub_sport = sport_of(hint)
    else:
        seconds = [t.timestamp() for t in times]
        sport, sub_sport = sport_from_movement(seconds, speeds, [p.cad for p in points]) or ("other", None)
    title = _clean(track.name) or _first(t.name for t in gpx.tracks) or _clean(gpx.name)
    avg_hr, max_hr = heart_rate_summary(hrs)
    return Activity(
        sport=sport,
        sub_sport=sub_sport,
        title=title,
        start_utc=times[0],
        end_utc=times[-1],
        duration_s=(times[-1] - times[0]).total_seconds(),
        moving_s=_moving_seconds(points),
        distance_m=distance[-1],
        avg_hr=avg_hr,
        max_hr=max_hr,
        samples=samples,
    )


def heart_rate_summary(values: Sequence[float]) -> tuple[float | None, float | None]:
    """Mean and maximum of the recorded values (NaN: none recorded); (None, None) without any.
    The mean sums with NaN as 0 and divides by the count, as pandas did, to the last bit."""
    hr = np.asarray(values, dtype=np.float64)
    missing = np.isnan(hr)
    if missing.all():
        return None, None
    return float(np.where(missing, 0.0, hr).sum() / float(len(hr) - missing.sum())), float(hr[~missing].max())


def _cumsum(values: Sequence[float]) -> list[float]:
    return list(itertools.accumulate(values, initial=0.0))[1:]


def _moving_seconds(points: list[_Point]) -> float | None:
    """gpxpy's moving time over the session's points that have a fix, segment by segment.

    None when gpxpy sees no movement at all: a track standing still (treadmill, lost GPS)
    says nothing about how long the athlete moved."""
    by_segment: dict[int, list[gpxpy.gpx.GPXTrackPoint]] = {}
    for p in points:
        if not math.isnan(p.lat):
            p.src.time = p.ts  # aware UTC: gpxpy subtracts times, mixed naive/aware would fail
            by_segment.setdefault(p.segment, []).append(p.src)
    track = gpxpy.gpx.GPXTrack()
    track.segments = [gpxpy.gpx.GPXTrackSegment(points=seg) for seg in by_segment.values()]
    return track.get_moving_data().moving_time or None


# Track extensions that name the activity: Locus Map's <locus:activity>running</locus:activity>,
# trails.io's <trailsio:activity>; matched by local name like the point extensions.
_HINT_TAGS = frozenset({"activity", "activitytype", "activity_type", "sport"})


def _track_hint(track: gpxpy.gpx.GPXTrack) -> str | None:
    """The activity type a track's own extensions name, if any."""
    for ext in track.extensions:
        for el in ext.iter():
            if safe_xml.local_name(el.tag).lower() in _HINT_TAGS and (text := _clean(el.text)):
                return text
    return None


# Words inside a compound type ("cycling_mtb", "transport_bike" is no ride: only these words)
_SPORT_WORDS: dict[str, Sport] = {"running": "running", "run": "running", "jogging": "running",
                                  "cycling": "cycling", "biking": "cycling", "swimming": "swimming"}


def sport_of(raw_type: str | None) -> tuple[Sport, str | None]:
    """Map an exporter's activity type to (sport, sub_sport).

    The sub_sport keeps the exporter's own word when it says more than the sport does
    (``trail_running``, ``hiking``) so an analyst can still tell a hike from a drive."""
    if not raw_type:
        return "other", None
    key = raw_type.strip().lower().replace(" ", "_").replace("-", "_")[:_MAX_TYPE]
    words = [] if "transport" in key else [_SPORT_WORDS[w] for w in key.split("_") if w in _SPORT_WORDS]
    sport: Sport = _SPORT_BY_TYPE.get(key) or (words[0] if words else "other")
    says_more = not key.isdigit() and key not in _GENERIC_TYPES
    return sport, key if says_more else None


def _first(values: Iterable[str | None]) -> str | None:
    for value in values:
        cleaned = _clean(value)
        if cleaned:
            return cleaned
    return None


def _clean(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None
