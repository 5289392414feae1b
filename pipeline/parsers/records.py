"""The typed records every parser returns, whatever the file format.

A parser turns the bytes of one file into a :class:`ParseResult`: zero or more
:class:`Activity` summaries (each with its samples as an Arrow table) and zero or more
:class:`StrengthSession` objects (each with its sets). The loader knows nothing about
formats; parsers know nothing about the database.

Conventions shared by all parsers:
- every datetime is timezone-aware UTC;
- ``Activity.laps`` lists the laps in recording order (empty when the format has none);
- ``Activity.samples`` is a ``pyarrow.Table`` with exactly :data:`SAMPLE_COLUMNS`, ``ts_utc``
  as ``timestamp[us, tz=UTC]`` and the rest as float64, NULL where a device did not record
  a value: raw.samples' columns as they are, built from the parser's arrays without pandas
  (an ingest never imports it) and inserted by the writer without another conversion;
- a file that cannot be read raises :class:`QuarantineError` with a reason a person can act on.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, get_args
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

# The plausible window for every time a parser loads. Fixed, not "today + 1 year", so a parse
# never depends on the day it runs: consumer GPS/HR recorders start in the 1990s (and FIT cannot
# express an absolute time before 1998), while a damaged uint32 FIT timestamp easily lands in
# 2100-2126. A sample outside it is dropped like an untimed one; a whole activity or session
# outside it quarantines the file.
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)

Sport = Literal["running", "cycling", "swimming", "strength", "other"]
SetType = Literal["warmup", "working", "failure", "drop"]
Format = Literal["fit", "gpx", "tcx", "strong_csv", "hevy_csv", "simple_csv"]
# what detection says before parsing: "csv" is a CSV whose flavour only the whole file decides
DetectedFormat = Format | Literal["csv"]
# what ingest_log records as a file's format: also "zip"/"gz" for an archive that cannot be read
SourceFormat = DetectedFormat | Literal["zip", "gz"]
SPORTS: tuple[Sport, ...] = get_args(Sport)
# a lap's intensity: FIT's enum by name (TCX's Active/Resting are active/rest)
LapIntensity = Literal["active", "rest", "warmup", "cooldown", "recovery", "interval", "other"]
LAP_INTENSITIES: tuple[LapIntensity, ...] = get_args(LapIntensity)
SET_TYPES: tuple[SetType, ...] = get_args(SetType)
SAMPLE_COLUMNS = (
    "ts_utc",
    "lat",
    "lon",
    "distance_m",
    "speed_mps",
    "heart_rate",
    "cadence",
    "altitude_m",
)


class QuarantineError(Exception):
    """The file cannot be loaded; ``str(err)`` is the reason stored in ``ingest_log``."""


class NotAnActivity(Exception):
    """The file is readable but holds no activity (device settings, monitoring data, an export's
    profile): logged as ``ignored`` with ``str(err)`` as the reason saying what it is."""


@dataclass(frozen=True)
class ParseContext:
    """What a parser needs to know beyond the bytes: how to read naive times and units."""

    timezone: str = "UTC"  # IANA zone for naive local times in CSV logs
    strong_weight_unit: str = "kg"  # Strong exports carry no unit: "kg" | "lb"
    hevy_timezone: str | None = None  # override for Hevy's naive times; None = athlete zone

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass
class Lap:
    """One lap as the device recorded it (manual, auto or a structured workout's step).

    Every value is optional: a damaged field is dropped, never a reason to refuse the file."""

    start_utc: datetime | None
    elapsed_s: float | None
    timer_s: float | None
    distance_m: float | None
    intensity: LapIntensity | None


@dataclass
class Activity:
    """One recorded activity (a run, a ride, a strength session on a watch ...)."""

    sport: Sport
    sub_sport: str | None
    title: str | None
    start_utc: datetime
    end_utc: datetime
    duration_s: float  # elapsed time
    moving_s: float | None  # timer time / moving time where the source has it
    distance_m: float | None
    avg_hr: float | None
    max_hr: float | None
    samples: pa.Table = field(default_factory=lambda: empty_samples())
    laps: list[Lap] = field(default_factory=list)  # in the device's order

    def __post_init__(self) -> None:
        if self.sport not in SPORTS:
            raise ValueError(f"sport {self.sport!r} is not one of {SPORTS}")
        for name in ("start_utc", "end_utc"):
            if getattr(self, name).tzinfo is None:
                raise ValueError(f"{name} must be timezone-aware")


@dataclass
class StrengthSet:
    """One set as logged. ``exercise`` is the name as the source spells it;
    the loader normalises it (see ``pipeline/exercises.py``)."""

    set_index: int  # order within the session, from 0
    exercise: str
    set_type: SetType
    reps: int | None
    weight_kg: float | None
    rpe: float | None = None
    duration_s: float | None = None
    # when the set started (UTC), where the source times sets (FIT ``set`` messages): the rest
    # before a set is its start minus the previous set's start + duration (strength_sets.rest_s)
    start_utc: datetime | None = None


@dataclass
class StrengthSession:
    """One strength workout from a log (Strong, Hevy, simple CSV) or a watch FIT file."""

    title: str | None
    start_utc: datetime
    end_utc: datetime
    sets: list[StrengthSet] = field(default_factory=list)
    notes: str | None = None


@dataclass
class ParseResult:
    """Everything one file holds. ``format`` is the source format name stored in the DB."""

    format: Format
    activities: list[Activity] = field(default_factory=list)
    sessions: list[StrengthSession] = field(default_factory=list)
    # one reason per row a log parser left out while loading the rest ("line 14: Reps 1200 is
    # implausible (0-1000)"); the writer summarises them in the file's ingest_log reason
    skipped_rows: list[str] = field(default_factory=list)


def empty_samples() -> pa.Table:
    return samples_table({})


def samples_table(columns: Mapping[str, Sequence[Any] | None]) -> pa.Table:
    """Build a samples table with the canonical columns and types from whatever subset of
    columns a parser has (lists of equal length: ``ts_utc`` aware datetimes, required when
    non-empty; the rest numbers, NaN or None where missing)."""
    # imported here: a re-run that only finds known files never needs numpy or pyarrow (start-up time)
    from pipeline.parsers import arrow

    ts = columns.get("ts_utc") or []
    data = {"ts_utc": arrow.datetimes(ts)}
    for name in SAMPLE_COLUMNS[1:]:
        values = columns.get(name)
        data[name] = arrow.floats([math.nan] * len(ts) if values is None else values)
    return arrow.table(data)


def samples_table_from_arrays(unix_seconds: np.ndarray, columns: dict[str, np.ndarray]) -> pa.Table:
    """:func:`samples_table` for a parser that already holds float64 arrays (the FIT parser):
    the arrays become the columns as they are (no copy, no Python object per value)."""
    import numpy as np

    from pipeline.parsers import arrow

    n = len(unix_seconds)
    data = {"ts_utc": arrow.epoch_micros(np.asarray(unix_seconds, dtype=np.int64) * 1_000_000)}
    for name in SAMPLE_COLUMNS[1:]:
        values = columns.get(name)
        data[name] = arrow.floats(np.full(n, np.nan) if values is None else values)
    return arrow.table(data)


def as_utc(dt: datetime, zone: ZoneInfo | None = None) -> datetime:
    """Make ``dt`` aware UTC: a naive value is read in ``zone`` (UTC when not given)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=zone or UTC)
    return dt.astimezone(UTC)
