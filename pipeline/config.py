"""`runlift.toml`: the validated configuration (SPEC, Config).

Every section is a strict pydantic model, so an unknown key, a wrong type, an out-of-range or
non-finite number, an unknown time zone, an invalid cron or a contradiction between keys becomes
a :class:`ConfigError` whose one-line message names the key. A missing file is not an error: the
defaults describe a single athlete ``me`` in UTC.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import hashlib
import importlib.util
import os
import re
import tomllib
from collections.abc import Collection, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from pipeline.errors import ConfigError
from pipeline.user_cache import cache_file, read_cached, write_cached

__all__ = ["TEMPLATE", "Athlete", "Config", "ConfigError", "Race", "Rules", "check_exercise_aliases",
           "load_config", "parse_config"]

# Bounds keep every value inside what the date arithmetic and the DB's INTEGER columns can hold.
Hours = Annotated[float, Field(ge=0, le=24 * 7, allow_inf_nan=False)]
Minutes = Annotated[float, Field(ge=0, le=24 * 60, allow_inf_nan=False)]
Days = Annotated[int, Field(ge=0, le=366)]
Count = Annotated[int, Field(ge=0, le=1000)]
HeartRate = Annotated[int, Field(gt=0, le=250)]
FIRST_RACE_DATE, LAST_RACE_DATE = date(1900, 1, 1), date(2100, 12, 31)
PACE_RANGE_S = (120, 1200)  # 2:00-20:00 min/km: faster than any human, slower than walking


class _Strict(BaseModel):
    # built at the first validation (under _without_plugins), not at import
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)


@contextlib.contextmanager
def _without_plugins() -> Iterator[None]:
    """Pydantic's plugins (validation observers found through package entry points) are not for a
    config file: looking them up reads every installed package's metadata (~10 ms a command).
    Typer builds its option parsers the same way."""
    before = os.environ.get("PYDANTIC_DISABLE_PLUGINS")
    os.environ["PYDANTIC_DISABLE_PLUGINS"] = "__all__"
    try:
        yield
    finally:
        if before is None:
            del os.environ["PYDANTIC_DISABLE_PLUGINS"]
        else:
            os.environ["PYDANTIC_DISABLE_PLUGINS"] = before


class _KeyedError(ValueError):
    """A model-level error about one key below the model (``parse_config`` names that key)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


# ------------------------------------------------------------------ time zones and cron

@functools.cache
def _duckdb_zones() -> frozenset[str]:
    """The zone names DuckDB's ICU knows: a zone Python loads but DuckDB does not breaks the build.

    Asking DuckDB costs every command an in-memory database (~30 ms), so the list is kept in the
    user's cache folder, one file per installed DuckDB (its path, size and mtime): it changes only
    when DuckDB does."""
    cache = _zone_cache_file()
    kept = frozenset((read_cached(cache) or "").split("\n"))
    if "UTC" in kept:  # else no list DuckDB gave (none yet, a truncated file): ask DuckDB
        return kept
    import duckdb

    try:
        with duckdb.connect() as con:
            zones = frozenset(row[0] for row in con.execute("SELECT name FROM pg_timezone_names()").fetchall())
    except duckdb.Error:  # no ICU: the canonical tzdata names are the safe subset
        from zoneinfo import available_timezones

        return frozenset(available_timezones() - {"localtime"})
    write_cached(cache, "\n".join(sorted(zones)))
    return zones


def _zone_cache_file() -> Path | None:
    """Where DuckDB's zone list is kept for the installed DuckDB (None: no cache folder, or no DuckDB
    file to tell versions apart by)."""
    spec = importlib.util.find_spec("duckdb")
    if spec is None or spec.origin is None:
        return None
    try:
        st = os.stat(spec.origin)
    except OSError:
        return None
    key = hashlib.sha256(f"{spec.origin}\0{st.st_size}\0{st.st_mtime_ns}".encode()).hexdigest()[:16]
    return cache_file(f"duckdb-zones-{key}.txt")


def _check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
        known = value in _duckdb_zones()
    except (ZoneInfoNotFoundError, ValueError):
        known = False
    if not known:
        raise ValueError(f"unknown time zone {value!r} (use an IANA name such as 'Europe/Berlin' or 'UTC')")
    return value


@functools.cache
def _croniter() -> Any:
    """The croniter Prefect's Cron schedule parses with (vendored in Prefect), loaded from its file
    so that validating a config never imports Prefect (over a second per process)."""
    spec = importlib.util.find_spec("prefect")
    if spec is not None and spec.submodule_search_locations:
        path = Path(next(iter(spec.submodule_search_locations))) / "_vendor" / "croniter" / "croniter.py"
        file_spec = importlib.util.spec_from_file_location("_runlift_prefect_croniter", path)
        if path.is_file() and file_spec is not None and file_spec.loader is not None:
            module = importlib.util.module_from_spec(file_spec)
            file_spec.loader.exec_module(module)
            return module.croniter
    from prefect._vendor.croniter.croniter import croniter  # a Prefect that moved the file

    return croniter


def _check_cron(value: str) -> str:
    croniter = _croniter()
    # Prefect's validate_cron_string: croniter's grammar without random/hashed ("R"/"H") fields
    if not croniter.is_valid(value) or any(field.casefold() in ("r", "h") for field in value.split()):
        raise ValueError(f"not a cron schedule: {value!r} (minute hour day month weekday, e.g. '0 7 * * MON')")
    try:
        croniter(value, datetime(2026, 1, 1)).get_next(datetime)
    except ValueError:  # croniter's CroniterBadDateError: e.g. '0 7 31 2 *'
        raise ValueError(f"cron schedule {value!r} never fires") from None
    return value


def _check_addresses(values: list[str]) -> list[str]:
    for address in values:
        if not re.fullmatch(r"[^@\s,;<>]+@[^@\s,;<>]+", address):
            raise ValueError(f"not an e-mail address: {address!r}")
    return values


# ------------------------------------------------------------------ sections

_WINDOWS_DEVICES = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}


class Athlete(_Strict):
    id: str = "me"
    timezone: str = "UTC"
    max_hr: HeartRate = 190
    resting_hr: HeartRate = 50
    sex: Literal["m", "f"] = "m"
    threshold_hr: HeartRate | None = None
    threshold_pace: str | None = None  # min:sec per km; see threshold_pace_s_per_km
    strength_target_per_week: Annotated[int, Field(ge=0, le=14)] = 2
    strength_experience: Literal["new", "trained"] = "new"
    long_run_minutes: Annotated[float, Field(gt=0, le=24 * 60, allow_inf_nan=False)] = 90
    email_to: list[str] | None = None  # None: the [report] email_to

    _zone = field_validator("timezone")(_check_zone)

    @field_validator("email_to")
    @classmethod
    def _addresses(cls, value: list[str] | None) -> list[str] | None:
        return value if value is None else _check_addresses(value)

    @field_validator("id")
    @classmethod
    def _id_is_safe_file_name(cls, value: str) -> str:
        # it names the inbox sub-folder and report files: no path parts, no hidden or device names
        if not re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}", value) or value.endswith("."):
            raise ValueError(f"{value!r}: use 1-64 letters, digits, '.', '_' or '-', not starting or ending "
                             "with '.' (it names the inbox sub-folder)")
        if value.split(".")[0].casefold() in _WINDOWS_DEVICES:
            raise ValueError(f"{value!r} is a reserved device name on Windows (it names the inbox sub-folder)")
        return value

    @field_validator("threshold_pace")
    @classmethod
    def _pace(cls, value: str | None) -> str | None:
        if value is not None:
            low, high = PACE_RANGE_S
            match = re.fullmatch(r"(\d{1,2}):([0-5]\d)", value)
            if not match or not low <= int(match[1]) * 60 + int(match[2]) <= high:
                raise ValueError(f"{value!r}: expected min:sec per km between {low // 60}:00 and {high // 60}:00, "
                                 "such as '4:10'")
        return value

    @model_validator(mode="after")
    def _hr_order(self) -> Athlete:
        if not self.resting_hr < self.max_hr:
            raise _KeyedError("resting_hr", f"must be below max_hr ({self.resting_hr} >= {self.max_hr})")
        if self.threshold_hr is not None and not self.resting_hr < self.threshold_hr <= self.max_hr:
            raise _KeyedError("threshold_hr", f"must be above resting_hr and at most max_hr "
                                              f"({self.resting_hr} < {self.threshold_hr} <= {self.max_hr} fails)")
        return self

    @property
    def threshold_pace_s_per_km(self) -> int | None:
        """``threshold_pace`` "4:10" as 250 seconds per km (None when not set)."""
        if self.threshold_pace is None:
            return None
        minutes, seconds = self.threshold_pace.split(":")
        return int(minutes) * 60 + int(seconds)


class Race(_Strict):
    # SPEC writes the date as a string; TOML dates work too
    date: Annotated[date, Field(strict=False, ge=FIRST_RACE_DATE, le=LAST_RACE_DATE)]
    name: str = "Race"
    priority: Literal["A", "B", "C"] = "A"
    athlete: str | None = None  # multi-athlete setups: whose race; None = every athlete's


class Rules(_Strict):
    min_gap_hours: Hours = 3
    optimal_gap_hours: Hours = 6
    detraining_days: Annotated[int, Field(ge=1, le=366)] = 28
    taper_days: Days = 14
    taper_max_minutes: Minutes = 30
    acwr_max: Annotated[float, Field(gt=0, le=10, allow_inf_nan=False)] = 1.5
    light_reps: Annotated[int, Field(ge=1, le=1000)] = 15
    beginner_weeks: Annotated[int, Field(ge=0, le=520)] = 4
    quality_lead_hours: Hours = 12
    warmup_max_minutes: Minutes = 15
    warmup_window_minutes: Minutes = 30
    min_session_minutes: Minutes = 15
    min_working_sets: Count = 6
    acwr_method: Literal["rolling", "uncoupled", "ewma"] = "rolling"
    acwr_min_weekly_load: Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)] = 60
    monotony_max: Annotated[float, Field(gt=0, le=100, allow_inf_nan=False)] = 2.0
    hr_min_coverage: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = 0.8
    heavy_pct_e1rm: Annotated[float, Field(gt=0, le=100, allow_inf_nan=False)] = 70
    heavy_max_reps: Annotated[int, Field(ge=1, le=100)] = 6
    long_run_gap_hours: Hours = 24

    @model_validator(mode="after")
    def _gaps_in_order(self) -> Rules:
        if self.min_gap_hours > self.optimal_gap_hours:
            raise _KeyedError("min_gap_hours", f"{self.min_gap_hours:g} is above "
                                               f"rules.optimal_gap_hours ({self.optimal_gap_hours:g})")
        return self


class HevySource(_Strict):
    timezone: str = "local"  # "local" = the athlete's zone

    @field_validator("timezone")
    @classmethod
    def _zone_or_local(cls, value: str) -> str:
        return value if value == "local" else _check_zone(value)


class StrongSource(_Strict):
    weight_unit: Literal["kg", "lb"] = "kg"


class Sources(_Strict):
    hevy: HevySource = Field(default_factory=HevySource)
    strong: StrongSource = Field(default_factory=StrongSource)


class Inbox(_Strict):
    path: Annotated[str, Field(min_length=1)] = "./inbox"
    interval_minutes: Annotated[float, Field(gt=0, le=7 * 24 * 60, allow_inf_nan=False)] = 15


class Report(_Strict):
    cron: str = "0 7 * * MON"
    out: Annotated[str, Field(min_length=1)] = "./reports"
    email_to: list[str] = []
    coach_email_to: list[str] = []  # one roster digest of every athlete's week

    _cron = field_validator("cron")(_check_cron)
    _addresses = field_validator("email_to", "coach_email_to")(_check_addresses)


class Engine(_Strict):
    task_runner: Literal["processes", "threads", "dask"] = "processes"
    dask_address: str = ""  # with "dask": a running scheduler (tcp://host:8786); empty = a local cluster


class Config(_Strict):
    # relative paths in the file ([inbox] path, [report] out) are relative to the file's folder
    _base_dir: Path = PrivateAttr(default_factory=Path.cwd)
    _source: str = PrivateAttr(default="runlift.toml")  # the file, for errors raised after loading
    athlete: Athlete | None = None
    athletes: list[Athlete] | None = None
    races: list[Race] = []
    rules: Rules = Field(default_factory=Rules)
    exercise_aliases: dict[str, str] = {}  # the user's exercise name -> a name in the exercise table
    sources: Sources = Field(default_factory=Sources)
    inbox: Inbox = Field(default_factory=Inbox)
    report: Report = Field(default_factory=Report)
    engine: Engine = Field(default_factory=Engine)

    @field_validator("exercise_aliases")
    @classmethod
    def _aliases_are_names(cls, value: dict[str, str]) -> dict[str, str]:
        seen: dict[str, str] = {}
        for alias, target in value.items():
            if not alias.strip() or not target.strip():
                raise _KeyedError(f'"{alias}"', "an alias and its exercise must not be empty")
            if (folded := _fold(alias)) in seen:
                raise _KeyedError(f'"{alias}"', f'the same name as "{seen[folded]}" (case and spaces do not count)')
            seen[folded] = alias
        return value

    @model_validator(mode="after")
    def _athletes_consistent(self) -> Config:
        if self.athlete is not None and self.athletes is not None:
            raise ValueError("use either [athlete] or [[athletes]], not both")
        if self.athletes is not None and not self.athletes:
            raise _KeyedError("athletes", "needs at least one athlete")
        ids = [a.id for a in self.all_athletes]
        if len(set(ids)) != len(ids):
            raise _KeyedError("athletes", f"athlete ids must be unique, got {ids}")
        for i, race in enumerate(self.races):
            if race.athlete is not None and race.athlete not in ids:
                raise _KeyedError(f"races[{i}].athlete",
                                  f"unknown athlete {race.athlete!r} (configured: {', '.join(ids)})")
        return self

    @property
    def inbox_dir(self) -> Path:
        return self._base_dir / self.inbox.path

    @property
    def report_dir(self) -> Path:
        return self._base_dir / self.report.out

    @property
    def all_athletes(self) -> list[Athlete]:
        if self.athletes:
            return list(self.athletes)
        return [self.athlete or Athlete()]

    def athlete_by_id(self, athlete_id: str) -> Athlete:
        for a in self.all_athletes:
            if a.id == athlete_id:
                return a
        known = ", ".join(a.id for a in self.all_athletes)
        raise ConfigError(f"unknown athlete {athlete_id!r} (configured: {known})")

    def races_for(self, athlete_id: str) -> list[Race]:
        """The races of one athlete (a race without ``athlete`` is everyone's), by date."""
        return sorted((r for r in self.races if r.athlete in (None, athlete_id)), key=lambda r: r.date)

    def a_races(self, athlete_id: str) -> list[Race]:
        """The A races that drive phases and taper rules for one athlete, by date."""
        return [r for r in self.races_for(athlete_id) if r.priority == "A"]

    def email_to_for(self, athlete_id: str) -> list[str]:
        """Who gets one athlete's weekly report: the athlete's ``email_to``, else ``[report] email_to``."""
        own = self.athlete_by_id(athlete_id).email_to
        return list(self.report.email_to if own is None else own)


def _fold(name: str) -> str:
    return " ".join(name.split()).casefold()


def check_exercise_aliases(config: Config, known: Collection[str]) -> None:
    """Raise a one-line :class:`ConfigError` for the first alias whose target is not one of the
    ``known`` canonical exercise names (compared ignoring case and repeated spaces)."""
    canonical = {_fold(name): name for name in known}
    for alias, target in config.exercise_aliases.items():
        if _fold(target) not in canonical:
            close = difflib.get_close_matches(_fold(target), canonical, n=1)
            hint = f"did you mean {canonical[close[0]]!r}? " if close else ""
            raise ConfigError(f"{config._source}: invalid value for 'exercise_aliases.\"{alias}\"': unknown exercise "
                              f"{target!r} ({hint}`runlift exercises` lists the table)")


def _key_path(loc: tuple[object, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts[-1] = f"{parts[-1]}[{item}]" if parts else f"[{item}]"
        else:
            parts.append(str(item))
    return ".".join(parts)


def parse_config(data: dict[str, Any], source: str = "runlift.toml", base_dir: Path | None = None) -> Config:
    try:
        with _without_plugins():
            config = Config.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        key = _key_path(first["loc"])
        cause = first.get("ctx", {}).get("error")
        if isinstance(cause, _KeyedError):
            key = f"{key}.{cause.key}" if key else cause.key
        if first["type"] == "extra_forbidden":
            raise ConfigError(f"{source}: unknown key '{key}'") from None
        msg = first["msg"].removeprefix("Value error, ").replace("Input should be", "must be")
        if not key:
            raise ConfigError(f"{source}: {msg}") from None
        raise ConfigError(f"{source}: invalid value for '{key}': {msg}") from None
    config._source = source
    if base_dir is not None:
        config._base_dir = base_dir
    return config


def load_config(path: Path | str | None) -> Config:
    """Read and validate a config file; ``None`` or a missing default file gives the defaults."""
    if path is None or not Path(path).exists():
        with _without_plugins():
            return Config()
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read: {err}") from None
    return parse_config(data, str(path), path.resolve().parent)


TEMPLATE = '''\
# runlift configuration. Every key is optional: the values shown are the defaults, except the
# two thresholds marked as placeholders. A key left commented out is optional; remove the "# "
# to use it. Docs: README.md, section "Configuration".

[athlete]                    # or [[athletes]] tables, one per athlete
id = "me"                    # names the inbox sub-folder in multi-athlete setups
timezone = "UTC"             # your IANA zone, e.g. "Europe/Berlin"; naive times in CSV logs are local times here
max_hr = 190
resting_hr = 50
sex = "m"                    # "m" | "f": Banister TRIMP weighting
# Placeholders (about 90 % of max_hr; a 4:10 min/km 10k-to-half-marathon pace): set them to your
# own. They find quality runs: >= 10 min at or above threshold_hr, or >= 10 moving min at or
# faster than threshold_pace. Leaving both out costs most of them: FIT files carry no titles, so
# only titled runs, structured laps and race days are quality runs, and spacing.before_quality
# misses lifting before your tempo runs and intervals.
threshold_hr = 172           # bpm
threshold_pace = "4:10"      # min:sec per km
strength_target_per_week = 2
strength_experience = "new"  # "new" | "trained": a trained lifter has no beginner weeks
long_run_minutes = 90        # a run at least this long (moving time) is a long run
# email_to = ["me@example.org"]  # this athlete's report; default: [report] email_to

# [[races]]
# date = "2026-10-18"
# name = "Autumn Marathon"
# priority = "A"             # only A races drive phases and taper rules; a race of any priority is a quality run
# athlete = "me"             # the race is this athlete's only (default: every athlete's)

[rules]
min_gap_hours = 3            # strength <-> run closer than this is an error
optimal_gap_hours = 6        # ... closer than this a warning
detraining_days = 28
taper_days = 14
taper_max_minutes = 30
acwr_max = 1.5
light_reps = 15
beginner_weeks = 4
quality_lead_hours = 12      # strength must end this long before a quality run starts
warmup_max_minutes = 15      # a run this short, right next to a session, is its warm-up/cool-down
warmup_window_minutes = 30
min_session_minutes = 15     # a qualifying strength session lasts at least this long ...
min_working_sets = 6         # ... and has at least this many working sets of strength exercises
acwr_method = "rolling"      # "rolling" (coupled 7/28 d) | "uncoupled" | "ewma" (Williams 2017)
acwr_min_weekly_load = 60    # ACWR is judged only while the 28-day load / 4 is at least this
monotony_max = 2.0
hr_min_coverage = 0.8        # HR must cover this share of a run's moving time for HR-based TRIMP
heavy_pct_e1rm = 70          # a heavy set: at least this % of the exercise's estimated 1RM ...
heavy_max_reps = 6           # ... for at most this many reps
long_run_gap_hours = 24      # heavy lower-body strength must end this long before a long run

# [exercise_aliases]         # your own exercise names -> names in the exercise table (`runlift exercises`)
# "Bulgarian SS" = "bulgarian split squat"

[sources.hevy]
timezone = "local"           # naive Hevy times: "local" (athlete zone) or an IANA zone such as "UTC"

[sources.strong]
weight_unit = "kg"           # Strong exports carry no unit: "kg" | "lb"

[inbox]
path = "./inbox"             # sub-folder per athlete id when several athletes; relative to this file
interval_minutes = 15

[report]
cron = "0 7 * * MON"         # when `runlift serve` sends the weekly report (athlete's zone)
out = "./reports"            # relative to this file
email_to = []
coach_email_to = []          # one roster digest of every athlete's week
# SMTP settings come from the environment only:
# RUNLIFT_SMTP_HOST, RUNLIFT_SMTP_PORT, RUNLIFT_SMTP_USER, RUNLIFT_SMTP_PASSWORD,
# RUNLIFT_SMTP_FROM, RUNLIFT_SMTP_STARTTLS

[engine]
task_runner = "processes"    # "processes" | "threads" | "dask"
dask_address = ""            # with "dask": a running scheduler (tcp://host:8786); empty = a local cluster
'''
