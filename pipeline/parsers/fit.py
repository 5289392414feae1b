"""FIT activity and strength files (Garmin, Wahoo, COROS, Zwift ...) -> :class:`ParseResult`.

What comes out of one file:

- one :class:`Activity` per ``session`` message (multisport files give several). ``record``
  messages go to the session that was running when they were recorded: the one with the
  latest start at or before the record (records before the first start go to the first
  session), so every record lands in exactly one activity. Sessions of one sport that overlap
  by at least half of the shorter one are one activity recorded twice and merge into one (see
  "overlapping sessions in one file" below). Triathlon transitions (sport
  ``transition``) are kept as sport ``other`` / sub_sport ``transition``: they are no run,
  but dropping them would lose their samples and time.
- sport mapping: FIT ``running`` (road, trail, treadmill, track ...) -> running, ``cycling``
  -> cycling, ``swimming`` -> swimming, ``training`` or ``fitness_equipment`` with sub_sport
  ``strength_training`` -> strength; every other sport (walking, HIIT, yoga, other training,
  e-biking, volleyball ...) -> other. ``sub_sport`` keeps the FIT sub_sport name; for sport
  ``other`` a generic sub_sport is replaced by the FIT sport name ("walking", "transition"),
  so an analyst can still tell what it was.
- one :class:`StrengthSession` per strength session, with the ``set`` messages that started
  in it (rest entries are not sets; ``active`` sets are working sets, warm-up category sets
  are warm-ups). A strength session therefore yields both an Activity and a StrengthSession.
- a file with records but no session (some apps, crashed recordings) gives one activity
  derived from its laps and records.
- ``lap`` messages become the activity's :class:`Lap` list (start, elapsed and timer time,
  distance, FIT ``intensity`` by name), in file order, each in the session it started in
  (placed by its end time when the start is missing). A damaged lap field (not a number, a
  negative time, a time outside the plausible window, an unknown intensity) is None; a lap
  never refuses the file.
- implausible values are missing, not loaded: a record timed before 1990 or from 2100 on
  is dropped like a record without a time (a damaged timestamp, tests/test_fuzz.py); heart
  rate samples of 0 (no strap contact) or 255 (invalid) are NaN; set repetitions over 1,000
  and weights over 1,000 kg are None.

Quarantined (:class:`QuarantineError`, the reason says what is wrong and how far the file got):

- no FIT header; a truncated file (bytes present of those declared, records still readable,
  the time of the last one); a header or file CRC mismatch; bytes fitparse cannot decode;
  device-relative times with no clock reference; an activity placed before 1990-01-01 or
  after 2100-01-01 UTC (a wrong clock or damage). A file cut off mid-message that still has
  thousands of readable records is quarantined too, not half-loaded: its summary is missing
  and the rest of the workout would silently be absent.
Ignored (:class:`NotAnActivity`: readable, but no activity in it; ingest_log status ``ignored``
with the reason saying what the file is):

- a FIT file whose file_id type is not ``activity`` and that has no session: device settings,
  sport settings, totals, goals, monitoring, weight, planned workouts and courses ...
  ("device settings file (FIT file type 'settings'); holds no activity");
- an activity file with nothing to load (a file_id alone, one record spanning no time).

Decoding (pipeline/parsers/fit_decoder.py, the one module that touches fitparse internals).
Speed: stock fitparse builds objects for every field of every message and runs its data
processors over each: ~190 ms for a one-hour 1 Hz run (~160 ms with check_crc=False, ~120 ms
with no-op processors and its CRC check). Here fitparse still does the framing, definitions,
compressed timestamps, developer-field registration and the profile (scale, offset,
components, subfields), but ``record`` messages are unpacked with one precompiled struct per
definition straight into column lists, messages nobody reads are only skipped over, and the
CRC is checked in one compiled pass over the bytes.
``tests/test_ingest_fit.py`` checks that records decode exactly as stock fitparse decodes them.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
from fastcrc.crc16 import arc as _crc16_arc
from fitparse.records import DataMessage  # public fitparse API; its internals stay in fit_decoder.py
from fitparse.utils import FitEOFError

from pipeline.parsers import fit_profile
from pipeline.parsers.fit_decoder import DECODE_ERRORS, NO_TIME, FitReader, RecordColumns, count_messages, decode
from pipeline.parsers.records import (
    EARLIEST,
    LATEST,
    Activity,
    Format,
    Lap,
    LapIntensity,
    NotAnActivity,
    ParseContext,
    ParseResult,
    QuarantineError,
    Sport,
    StrengthSession,
    StrengthSet,
    samples_table_from_arrays,
)

FORMAT: Format = "fit"
_FIT_EPOCH = datetime(1989, 12, 31, tzinfo=UTC)  # FIT date_time 0
_FIT_EPOCH_UNIX = int(_FIT_EPOCH.timestamp())
_RELATIVE_LIMIT = 0x10000000  # date_time values below this count seconds since device power-on
# The plausible window (records.EARLIEST/LATEST) in FIT seconds, for the vectorised record path.
_EARLIEST_S = int((EARLIEST - _FIT_EPOCH).total_seconds())
_LATEST_S = int((LATEST - _FIT_EPOCH).total_seconds())
_MAX_REPS, _MAX_WEIGHT_KG = 1000, 1000.0  # a set beyond these is a damaged field: the value is dropped
_SEMICIRCLE_DEG = 180.0 / 2**31

# FIT sport / sub_sport numbers used by the mapping
_RUNNING, _CYCLING, _SWIMMING = 1, 2, 5
_STRENGTH_SPORTS = frozenset({4, 10})  # fitness_equipment, training
_STRENGTH_TRAINING = 20  # sub_sport strength_training
_SET_REST = 0  # set_type rest (1 is active)
# FIT intensity enum (lap and workout_step); fitparse's profile names only 0-3
_INTENSITIES: dict[int, LapIntensity] = {
    0: "active", 1: "rest", 2: "warmup", 3: "cooldown", 4: "recovery", 5: "interval", 6: "other",
}


def parse(data: bytes, name: str, ctx: ParseContext) -> ParseResult:
    """Parse one FIT file; raises :class:`QuarantineError` for a damaged or unusable file.

    ``name`` is not needed (a FIT file describes itself); ``ctx.zone`` is only used to place
    device-relative times (see :class:`_Clock`)."""
    end = check_integrity(data)
    reader = decode(data[:end])
    _check_is_activity(reader)
    clock = _Clock(reader, ctx)
    samples = _Samples.build(reader.records, clock)
    parts = _session_parts(reader, clock) or _derived_parts(reader, samples, clock)
    if not parts:
        raise NotAnActivity(_nothing_to_load(reader))
    owner = _assign(samples.ts, [p.start for p in parts])
    laps = _laps(reader.summary["lap"], clock, parts)
    groups = _overlap_groups(parts)
    grouped = [_group_samples(samples, owner, group) for group in groups]
    kept = [_richest(parts, group, mine.ts) for group, mine in zip(groups, grouped, strict=True)]
    activities = [
        _activity(parts[k], mine, _group_laps(laps, group))
        for k, group, mine in zip(kept, groups, grouped, strict=True)
    ]
    parts = [parts[k] for k in kept]
    for a in activities:  # a session placed outside the plausible window: a wrong clock or damage
        if not (EARLIEST <= a.start_utc <= LATEST and EARLIEST <= a.end_utc <= LATEST):
            raise QuarantineError(
                f"implausible date: FIT activity runs {a.start_utc:%Y-%m-%d %H:%M} to {a.end_utc:%Y-%m-%d %H:%M} UTC "
                "(before 1990 or after 2100: a wrong device clock or a damaged file)"
            )
    sessions = _strength_sessions(parts, reader.summary["set"], clock)
    return ParseResult(format=FORMAT, activities=activities, sessions=sessions)


# --------------------------------------------------------------------------- integrity


def fit_crc(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """FIT CRC-16 (CRC-16/ARC); over a chunk that ends with its own CRC the result is 0.

    Compiled (fastcrc, crc-rs): the byte-wise Python loop it replaces cost 4.5 ms of a one-hour
    file's 34 ms; this costs ~0.01 ms."""
    return int(_crc16_arc(data, crc))


def check_integrity(data: bytes) -> int:
    """Walk the (possibly chained) FIT files in ``data``, checking sizes and CRCs.

    Returns the end offset of the FIT data: zero bytes after it (padding) are ignored, other
    bytes that start no FIT header are damage."""
    pos, count = 0, 0
    view = memoryview(data)
    while pos < len(data):
        header = data[pos : pos + 14]
        if len(header) < 12 or header[8:12] != b".FIT" or header[0] < 12:
            if not count:
                raise QuarantineError("not a FIT file: no valid FIT header ('.FIT' signature) at the start")
            if data[pos:].strip(b"\0"):
                raise QuarantineError(f"corrupt FIT file: {len(data) - pos:,} unexpected bytes after the FIT data")
            break
        header_size, data_size = header[0], int.from_bytes(header[4:8], "little")
        end = pos + header_size + data_size + 2
        if end > len(data):
            raise QuarantineError(_truncated(data, end))
        if header_size >= 14 and header[12:14] != b"\0\0" and fit_crc(header[:14]) != 0:
            raise QuarantineError(f"corrupt FIT file: header CRC mismatch at byte {pos:,}")
        if fit_crc(view[pos:end]) != 0:
            raise QuarantineError(_crc_mismatch(data[:end], pos))
        pos, count = end, count + 1
    if not count:
        raise QuarantineError("not a FIT file: the file is empty")
    return pos


def _truncated(data: bytes, expected: int) -> str:
    if expected - len(data) == 2:
        what = f"the 2-byte file CRC is missing (ends after {len(data):,} of {expected:,} bytes)"
    else:
        what = f"ends after {len(data):,} of {expected:,} bytes ({len(data) / expected:.0%})"
    return f"truncated FIT file: {what}; {_Progress.read(data)}"


def _crc_mismatch(data: bytes, pos: int) -> str:
    progress = _Progress.read(data)
    if progress.ran_out:  # the CRC bytes hold message data: the writer stopped mid-message
        return (
            "truncated FIT file: the last message runs past the declared data size and the file CRC "
            f"is missing; {progress}"
        )
    return f"corrupt FIT file: CRC mismatch over bytes {pos:,}-{len(data):,} (damaged in transfer or storage)"


@dataclass
class _Progress:
    """How far a damaged file can be read, for the quarantine reason."""

    records: int
    last: int | None  # FIT seconds of the last readable record with an absolute time
    ran_out: bool  # a message ran past the end of the data

    @classmethod
    def read(cls, data: bytes) -> _Progress:
        count_messages(data)  # a damaged record bomb is refused as one, before it is decoded
        reader, ran_out = None, False
        try:
            reader = FitReader(data)
            reader.parse()
        except FitEOFError:
            ran_out = True
        except DECODE_ERRORS:
            pass  # reading stops where the damage starts: what was read so far is what we report
        stamps = reader.records.timestamp if reader else []
        last = next((t for t in reversed(stamps) if isinstance(t, int) and t >= _RELATIVE_LIMIT), None)
        return cls(len(stamps), last, ran_out)

    def __str__(self) -> str:
        when = f", the last at {_to_datetime(self.last):%Y-%m-%d %H:%M:%S} UTC" if self.last else ""
        return f"{self.records:,} record messages readable{when}"


# ----------------------------------------------------------------------------- decoding


def _to_datetime(fit_seconds: int) -> datetime:
    return _FIT_EPOCH + timedelta(seconds=fit_seconds)


class _Clock:
    """Turns raw FIT date_time values into UTC.

    Values below 0x10000000 count seconds since the device was switched on (old watches
    without a GPS fix, e.g. Forerunner 70). They become absolute through a
    timestamp_correlation message, else through the activity message's local_timestamp read
    in the athlete's zone; a file with neither cannot be placed in time."""

    def __init__(self, reader: FitReader, ctx: ParseContext) -> None:
        self._reader, self._ctx = reader, ctx
        self._offset: int | None = None
        self._resolved = False

    def seconds(self, raw: object) -> int | None:
        """Absolute FIT seconds for a raw date_time (None stays None)."""
        if raw is None or not isinstance(raw, int):
            return None
        return raw if raw >= _RELATIVE_LIMIT else raw + self.offset()

    def offset(self) -> int:
        if not self._resolved:
            self._offset, self._resolved = self._find_offset(), True
        if self._offset is None:
            raise QuarantineError(
                "FIT file has device-relative times (seconds since power-on) and no clock reference to place them"
            )
        return self._offset

    def _find_offset(self) -> int | None:
        for m in self._reader.summary["timestamp_correlation"]:
            utc, system = _int(m.get_raw_value("timestamp")), _int(m.get_raw_value("system_timestamp"))
            if utc is not None and system is not None and utc >= _RELATIVE_LIMIT:
                return utc - system
        for m in self._reader.summary["activity"]:
            local, system = _int(m.get_raw_value("local_timestamp")), _int(m.get_raw_value("timestamp"))
            if local is not None and system is not None and local >= _RELATIVE_LIMIT > system:
                naive = _to_datetime(local).replace(tzinfo=None)
                local_utc = naive.replace(tzinfo=self._ctx.zone).astimezone(UTC)
                return int((local_utc - _FIT_EPOCH).total_seconds()) - system
        return None


# ----------------------------------------------------------------------------- samples


@dataclass
class _Samples:
    """Records as arrays in time order; timestamps as absolute FIT seconds, positions in degrees."""

    ts: np.ndarray
    columns: dict[str, np.ndarray]

    @classmethod
    def build(cls, rec: RecordColumns, clock: _Clock) -> _Samples:
        stamps = np.frombuffer(rec.timestamp, dtype=np.int64) if len(rec) else np.zeros(0, dtype=np.int64)
        timed = stamps != NO_TIME  # a record with no time has no place
        full = bool(timed.all())
        raw = stamps.copy() if full else stamps[timed]
        if len(raw) and raw.min() < _RELATIVE_LIMIT:
            raw = np.where(raw < _RELATIVE_LIMIT, raw + clock.offset(), raw)

        def column(values: array[float], scale: float = 1.0) -> np.ndarray[Any, Any]:
            arr = np.frombuffer(values, dtype=np.float64) if len(values) else np.zeros(0)
            arr = arr.copy() if full else arr[timed]  # owned and writable: the arrays stay the decoder's
            if scale != 1.0:
                arr *= scale
            return arr

        columns = {
            "lat": column(rec.lat, _SEMICIRCLE_DEG),
            "lon": column(rec.lon, _SEMICIRCLE_DEG),
            "distance_m": column(rec.distance),
            "speed_mps": column(rec.speed),
            "heart_rate": column(rec.heart_rate),
            "cadence": column(rec.cadence),
            "altitude_m": column(rec.altitude),
        }
        plausible = (raw >= _EARLIEST_S) & (raw < _LATEST_S)
        if not plausible.all():  # a damaged timestamp places a record nowhere: dropped like an untimed one
            raw, columns = raw[plausible], {k: v[plausible] for k, v in columns.items()}
        hr = columns["heart_rate"]
        hr[(hr <= 0) | (hr >= 255)] = np.nan  # 0: no strap contact; 255 is FIT's invalid uint8
        if len(raw) > 1 and (np.diff(raw) < 0).any():  # some devices write a record or two out of order
            order = np.argsort(raw, kind="stable")
            raw, columns = raw[order], {k: v[order] for k, v in columns.items()}
        return cls(raw, columns)

    def take(self, mask: np.ndarray) -> _Samples:
        if mask.all():  # one activity takes every sample: no copy
            return self
        return _Samples(self.ts[mask], {k: v[mask] for k, v in self.columns.items()})

    def table(self) -> pa.Table:
        return samples_table_from_arrays(self.ts + _FIT_EPOCH_UNIX, self.columns)

    def nan_stat(self, column: str, fn: Callable[[np.ndarray], float]) -> float | None:
        values = self.columns[column]
        values = values[~np.isnan(values)]
        return float(fn(values)) if len(values) else None


def _assign(ts: np.ndarray, starts: Sequence[int]) -> np.ndarray:
    """Index of the session each timestamp belongs to: the latest start at or before it
    (before the first start: the first session)."""
    if not starts:
        return np.zeros(len(ts), dtype=np.int64)
    order = np.argsort(np.asarray(starts, dtype=np.int64), kind="stable")
    sorted_starts = np.asarray(starts, dtype=np.int64)[order]
    pos = np.searchsorted(sorted_starts, ts, side="right") - 1
    return order[np.clip(pos, 0, None)]


# ---------------------------------------------------------------------- activities


@dataclass
class _Part:
    """One activity to build: a session message, or what laps/records say when there is none."""

    start: int  # absolute FIT seconds
    elapsed: float | None
    timer: float | None
    distance: float | None
    avg_hr: float | None
    max_hr: float | None
    sport_raw: int | None
    sub_sport_raw: int | None


def _session_parts(reader: FitReader, clock: _Clock) -> list[_Part]:
    parts = []
    for m in reader.summary["session"]:
        v = m.get_values()
        start = clock.seconds(m.get_raw_value("start_time"))
        end = clock.seconds(m.get_raw_value("timestamp"))
        elapsed = _num(v.get("total_elapsed_time"))
        elapsed = elapsed if elapsed is None or elapsed >= 0 else None
        if start is None and end is not None and elapsed is not None:
            start = end - int(elapsed)
        if start is None:
            continue  # a session that cannot be placed in time; its records go to the others
        if elapsed is None and end is not None and end >= start:
            elapsed = float(end - start)
        parts.append(
            _Part(
                start=start,
                elapsed=elapsed,
                timer=_num(v.get("total_timer_time")),
                distance=_num(v.get("total_distance")),
                avg_hr=_num(v.get("avg_heart_rate")) or None,  # 0: no strap connected
                max_hr=_num(v.get("max_heart_rate")) or None,
                sport_raw=_int(m.get_raw_value("sport")),
                sub_sport_raw=_int(m.get_raw_value("sub_sport")),
            )
        )
    return sorted(parts, key=lambda p: p.start)


# ------------------------------------------------------- overlapping sessions in one file
#
# Sessions of one FIT sport inside one file whose times overlap by at least half of the shorter one
# are one activity recorded twice (a watch that wrote its session again, a sync tool that
# appended the file to itself: 2,000 chained copies became 2,000 runs). They merge here by the
# rule the loader applies across files, so a file's result never depends on what else is
# ingested with it: the richest session (the most samples within its own time, then the most
# summary values, then the longest) keeps its summary; the samples are those of the whole group,
# one per timestamp (nothing recorded is lost, nothing counted twice), and the laps and strength
# sets those of the group without exact repeats.


def _end(part: _Part) -> float:
    return part.start + (part.elapsed or 0.0)


def _overlaps(a: _Part, b: _Part) -> bool:
    overlap = min(_end(a), _end(b)) - max(a.start, b.start)
    return overlap >= 0 and overlap >= 0.5 * min(_end(a) - a.start, _end(b) - b.start)


def _overlap_groups(parts: list[_Part]) -> list[list[int]]:
    """Indexes of ``parts`` (sorted by start) grouped into the activities they are. A part joins
    the first open group of its FIT sport whose first member it overlaps enough (the FIT sport,
    not the mapped one: a multisport file's ``generic`` session spanning the whole race is no
    copy of its ``transition`` legs, though both map to ``other``); a group closes once parts
    start after all its members ended, so 2,000 copies cost 2,000 comparisons."""
    groups: list[list[int]] = []
    ends: list[float] = []  # the latest end of each group's members
    open_groups: list[int] = []
    for i, part in enumerate(parts):
        open_groups = [g for g in open_groups if ends[g] >= part.start]
        for g in open_groups:
            first = parts[groups[g][0]]
            if first.sport_raw == part.sport_raw and _overlaps(first, part):
                groups[g].append(i)
                ends[g] = max(ends[g], _end(part))
                break
        else:
            groups.append([i])
            ends.append(_end(part))
            open_groups.append(len(groups) - 1)
    return groups


def _richest(parts: list[_Part], group: list[int], ts: np.ndarray) -> int:
    """The member that covers most of the group's samples within its own time, then the one with
    the most summary values, then the longest, then the first."""
    if len(group) == 1:
        return group[0]

    def richness(i: int) -> tuple[int, int, float, int]:
        p = parts[i]
        covered = int(np.count_nonzero((ts >= p.start) & (ts <= _end(p))))
        values = sum(v is not None for v in (p.elapsed, p.timer, p.distance, p.avg_hr, p.max_hr))
        return covered, values, p.elapsed or 0.0, -i

    return max(group, key=richness)


def _group_samples(samples: _Samples, owner: np.ndarray, group: list[int]) -> _Samples:
    if len(group) == 1:
        return samples.take(owner == group[0])
    mine = samples.take(np.isin(owner, group))
    _, first = np.unique(mine.ts, return_index=True)  # one sample per timestamp (the first recorded)
    keep = np.zeros(len(mine.ts), dtype=bool)
    keep[first] = True
    return mine.take(keep)


def _group_laps(laps: list[list[Lap]], group: list[int]) -> list[Lap]:
    if len(group) == 1:
        return laps[group[0]]
    unique: list[Lap] = []
    for lap in (lap for i in group for lap in laps[i]):
        if lap not in unique:
            unique.append(lap)
    return unique


def _derived_parts(reader: FitReader, samples: _Samples, clock: _Clock) -> list[_Part]:
    """No session message: one activity spanning the laps and records (if they span any time)."""
    timed = [(_lap_seconds(clock, m.get_raw_value("start_time")), m) for m in reader.summary["lap"]]
    laps = [(start, m) for start, m in timed if start is not None]
    starts = [start for start, _ in laps] + ([int(samples.ts.min())] if len(samples.ts) else [])
    ends = [start + (_num(m.get_value("total_elapsed_time")) or 0) for start, m in laps]
    ends += [int(samples.ts.max())] if len(samples.ts) else []
    if not starts or max(ends) <= min(starts):
        return []
    described = reader.summary["lap"] + reader.summary["sport"]
    sport = next((_int(m.get_raw_value("sport")) for m in described), None)
    sub_sport = next((_int(m.get_raw_value("sub_sport")) for m in described), None)
    timers = [t for _, m in laps if (t := _num(m.get_value("total_timer_time"))) is not None]
    distances = [d for _, m in laps if (d := _num(m.get_value("total_distance"))) is not None]
    return [
        _Part(
            start=min(starts),
            elapsed=float(max(ends) - min(starts)),
            timer=sum(timers) if laps and len(timers) == len(laps) else None,
            distance=sum(distances) if laps and len(distances) == len(laps) else None,
            avg_hr=None,
            max_hr=None,
            sport_raw=sport,
            sub_sport_raw=sub_sport,
        )
    ]


def map_sport(sport: int | None, sub_sport: int | None) -> tuple[Sport, str | None]:
    """runlift sport and sub_sport for raw FIT sport/sub_sport numbers (see the module docstring)."""
    mapped: Sport
    if sport == _RUNNING:
        mapped = "running"
    elif sport == _CYCLING:
        mapped = "cycling"
    elif sport == _SWIMMING:
        mapped = "swimming"
    elif sport in _STRENGTH_SPORTS and sub_sport == _STRENGTH_TRAINING:
        mapped = "strength"
    else:
        mapped = "other"
    name = fit_profile.sub_sport_name(sub_sport)
    if mapped == "other" and sub_sport in (None, 0) and sport is not None:
        name = fit_profile.sport_name(sport)  # "walking", "transition", "volleyball" say more than "generic"
    return mapped, name


# FIT file_id.type numbers (FIT profile ``file``) and what such a file is, for the ignore reason
_ACTIVITY_FILE = 4
_FILE_KINDS: dict[int, tuple[str, str]] = {
    1: ("device", "device description file"), 2: ("settings", "device settings file"),
    3: ("sport", "sport settings file"), 5: ("workout", "planned workout file"),
    6: ("course", "course (planned route) file"), 7: ("schedules", "workout schedule file"),
    9: ("weight", "weight scale file"), 10: ("totals", "lifetime totals file"), 11: ("goals", "goals file"),
    14: ("blood_pressure", "blood pressure file"), 15: ("monitoring_a", "daily monitoring file"),
    20: ("activity_summary", "activity summary file"), 28: ("monitoring_daily", "daily monitoring file"),
    32: ("monitoring_b", "daily monitoring file"), 34: ("segment", "segment file"),
    35: ("segment_list", "segment list file"), 40: ("exd_configuration", "data screen configuration file"),
}  # fmt: skip


def _check_is_activity(reader: FitReader) -> None:
    """Raise :class:`NotAnActivity` for a file typed as anything but an activity that holds no
    session (settings, monitoring, courses ...); a file with no file_id is judged by its content."""
    types = [t for m in reader.summary["file_id"] if (t := _int(m.get_raw_value("type"))) is not None]
    if not types or _ACTIVITY_FILE in types or reader.summary["session"]:
        return
    name, what = _FILE_KINDS.get(types[0], (str(types[0]), "non-activity FIT file"))
    if 0xF7 <= types[0] <= 0xFE:  # mfg_range_min .. mfg_range_max
        what = "manufacturer-specific FIT file"
    raise NotAnActivity(f"{what} (FIT file type '{name}'); holds no activity")


def _nothing_to_load(reader: FitReader) -> str:
    records = len(reader.records.timestamp)
    what = f"{records:,} record message(s) spanning no time" if records else "no record messages"
    return f"FIT activity file with no session and {what}; holds no activity"


def _activity(part: _Part, samples: _Samples, laps: list[Lap]) -> Activity:
    sport, sub_sport = map_sport(part.sport_raw, part.sub_sport_raw)
    start = _to_datetime(part.start)
    duration = part.elapsed
    if duration is None:
        # records before the start belong to the first session: never a negative duration
        duration = max(float(samples.ts.max() - part.start), 0.0) if len(samples.ts) else 0.0
    distance = part.distance
    if distance is None:
        low, high = samples.nan_stat("distance_m", np.min), samples.nan_stat("distance_m", np.max)
        distance = None if high is None or low is None else high - low
    return Activity(
        sport=sport,
        sub_sport=sub_sport,
        title=None,  # FIT files carry none; the loader adds one from an export's activities.csv
        start_utc=start,
        end_utc=start + timedelta(seconds=duration),
        duration_s=float(duration),
        moving_s=part.timer,
        distance_m=distance,
        avg_hr=part.avg_hr or samples.nan_stat("heart_rate", np.mean),
        max_hr=part.max_hr or samples.nan_stat("heart_rate", np.max),
        samples=samples.table(),
        laps=laps,
    )


# ------------------------------------------------------------------------------ laps


def _laps(messages: list[DataMessage], clock: _Clock, parts: list[_Part]) -> list[list[Lap]]:
    """The laps of each part, in file order: a lap goes to the session it started in (like a
    record); a lap with no time at all only has a place when there is one session."""
    timed = [_lap(m, clock) for m in messages]
    placed = [(at, lap) for at, lap in timed if at is not None]
    owner = _assign(np.array([at for at, _ in placed], dtype=np.int64), [p.start for p in parts])
    owners = iter(owner.tolist())
    laps: list[list[Lap]] = [[] for _ in parts]
    for at, lap in timed:
        if at is not None:
            laps[next(owners)].append(lap)
        elif len(parts) == 1:
            laps[0].append(lap)
    return laps


def _lap(message: DataMessage, clock: _Clock) -> tuple[int | None, Lap]:
    """(absolute FIT seconds placing the lap or None, the lap). A damaged field is dropped."""
    start = _lap_seconds(clock, message.get_raw_value("start_time"))
    end = _lap_seconds(clock, message.get_raw_value("timestamp"))  # a lap message is written at its end
    elapsed = _nonnegative(message.get_value("total_elapsed_time"))
    if start is None and end is not None and elapsed is not None:
        start = end - int(elapsed)
    at = start if start is not None else end
    intensity = _int(message.get_raw_value("intensity"))
    return at, Lap(
        start_utc=_to_datetime(start) if start is not None else None,
        elapsed_s=elapsed,
        timer_s=_nonnegative(message.get_value("total_timer_time")),
        distance_m=_nonnegative(message.get_value("total_distance")),
        intensity=_INTENSITIES.get(intensity) if intensity is not None else None,
    )


def _lap_seconds(clock: _Clock, raw: object) -> int | None:
    """Absolute FIT seconds of a lap time inside the plausible window, else None: a lap that
    cannot be placed loses its time, the file is not refused for it."""
    try:
        seconds = clock.seconds(raw)
    except QuarantineError:  # device-relative with no clock reference: only this value is lost
        return None
    return seconds if seconds is not None and _EARLIEST_S <= seconds < _LATEST_S else None


def _nonnegative(value: object) -> float | None:
    number = _num(value)
    return number if number is not None and number >= 0 else None


def _num(value: object) -> float | None:
    """A finite number or None (a damaged definition can turn any field into a string or an array)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# -------------------------------------------------------------------------- strength


def _strength_sessions(parts: list[_Part], set_messages: list[DataMessage], clock: _Clock) -> list[StrengthSession]:
    """One StrengthSession per strength session; each set goes to the strength session it started in."""
    strength = [p for p in parts if map_sport(p.sport_raw, p.sub_sport_raw)[0] == "strength"]
    if not strength:
        return []
    timed = [(_set_time(m, clock, strength[0].start), m) for m in set_messages]
    owner = _assign(np.array([t for t, _ in timed], dtype=np.int64), [p.start for p in strength])
    sessions = []
    for i, part in enumerate(strength):
        mine = sorted(((t, m) for (t, m), o in zip(timed, owner, strict=True) if o == i), key=lambda tm: tm[0])
        sets = _without_repeats([s for s in (_strength_set(m, clock) for _, m in mine) if s is not None])
        for index, s in enumerate(sets):
            s.set_index = index
        start = _to_datetime(part.start)
        sessions.append(
            StrengthSession(
                title=None, start_utc=start, end_utc=start + timedelta(seconds=part.elapsed or 0.0), sets=sets
            )
        )
    return sessions


def _without_repeats(sets: list[StrengthSet]) -> list[StrengthSet]:
    """Drop exact repeats of a timed set (a session recorded twice in one file gives each set
    twice; two different sets never start at the same instant)."""
    seen: set[tuple[object, ...]] = set()
    unique = []
    for s in sets:
        key = (s.start_utc, s.exercise, s.set_type, s.reps, s.weight_kg, s.duration_s)
        if s.start_utc is None or key not in seen:
            unique.append(s)
            seen.add(key)
    return unique


def _set_time(message: DataMessage, clock: _Clock, default: int) -> int:
    for name in ("start_time", "timestamp"):
        seconds = clock.seconds(message.get_raw_value(name))
        if seconds is not None:
            return seconds
    return default


def _strength_set(message: DataMessage, clock: _Clock) -> StrengthSet | None:
    """A StrengthSet for an active set message; None for rest entries, which are not sets (their
    time is the gap between the active sets' start_time + duration, so nothing of it is lost)."""
    set_type = message.get_raw_value("set_type")
    category, subtype = _exercise(message.get_raw_value("category"), message.get_raw_value("category_subtype"))
    reps = _int(message.get_value("repetitions"))
    if set_type == _SET_REST or (set_type is None and category is None and reps is None):
        return None
    weight = _num(message.get_value("weight"))
    # a valid uint16 can still be absurd (65,534 reps, 4,000 kg): a damaged field, the set stays
    reps = reps if reps is None or reps <= _MAX_REPS else None
    weight = weight if weight is None or 0 <= weight <= _MAX_WEIGHT_KG else None
    return StrengthSet(
        set_index=0,
        exercise=fit_profile.exercise_name(category, subtype),
        set_type="warmup" if category == fit_profile.WARM_UP_CATEGORY else "working",
        reps=reps,
        weight_kg=weight,
        duration_s=_num(message.get_value("duration")),
        start_utc=_set_start(message, clock),
    )


def _set_start(message: DataMessage, clock: _Clock) -> datetime | None:
    """The set's own start_time (the message timestamp is when it was written, not when it began)."""
    seconds = clock.seconds(message.get_raw_value("start_time"))
    return _to_datetime(seconds) if seconds is not None and _EARLIEST_S <= seconds < _LATEST_S else None


def _exercise(categories: object, subtypes: object) -> tuple[int | None, int | None]:
    """The set's (category, subtype). FIT allows arrays (Garmin writes three candidates); the first
    valid entry is taken as the logged exercise, the subtype at the same position with it."""
    cats = categories if isinstance(categories, tuple) else (categories,)
    subs = subtypes if isinstance(subtypes, tuple) else (subtypes,)
    for i, category in enumerate(cats):
        if _int(category) is not None:
            return category, _int(subs[i]) if i < len(subs) else None
    return None, None
