"""`runlift.toml`: the validated configuration (SPEC, Config).

Every section is a strict pydantic model, so an unknown key, a wrong type or an unknown time
zone becomes a :class:`ConfigError` whose one-line message names the key. A missing file is
not an error: the defaults describe a single athlete ``me`` in UTC.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from pipeline.errors import ConfigError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}") from None
    return value


class Athlete(_Strict):
    id: str = "me"
    timezone: str = "UTC"
    max_hr: int = 190
    resting_hr: int = 50
    sex: Literal["m", "f"] = "m"
    threshold_hr: int | None = None
    threshold_pace: str | None = None
    strength_target_per_week: int = Field(2, ge=0)

    _zone = field_validator("timezone")(_check_zone)

    @field_validator("id")
    @classmethod
    def _id_is_simple(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", value):
            raise ValueError("use letters, digits, '.', '_' or '-' (it names the inbox sub-folder)")
        return value

    @field_validator("threshold_pace")
    @classmethod
    def _pace(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"\d{1,2}:[0-5]\d", value):
            raise ValueError("expected min:sec per km such as '4:10'")
        return value

    @model_validator(mode="after")
    def _hr_order(self) -> Athlete:
        if not 0 < self.resting_hr < self.max_hr:
            raise ValueError("resting_hr must be above 0 and below max_hr")
        return self


class Race(_Strict):
    date: Annotated[date, Field(strict=False)]  # SPEC writes it as a string; TOML dates work too
    name: str = "Race"
    priority: Literal["A", "B", "C"] = "A"
    athlete: str | None = None  # multi-athlete setups: whose race; None = every athlete


class Rules(_Strict):
    min_gap_hours: float = 3
    optimal_gap_hours: float = 6
    detraining_days: int = 28
    taper_days: int = 14
    taper_max_minutes: float = 30
    acwr_max: float = 1.5
    light_reps: int = 15
    beginner_weeks: int = 4


class HevySource(_Strict):
    timezone: str = "local"  # "local" = the athlete's zone

    @field_validator("timezone")
    @classmethod
    def _zone_or_local(cls, value: str) -> str:
        return value if value == "local" else _check_zone(value)


class StrongSource(_Strict):
    weight_unit: Literal["kg", "lb"] = "kg"


class Sources(_Strict):
    hevy: HevySource = HevySource()
    strong: StrongSource = StrongSource()


class Inbox(_Strict):
    path: str = "./inbox"
    interval_minutes: float = Field(15, gt=0)


class Report(_Strict):
    cron: str = "0 7 * * MON"
    out: str = "./reports"
    email_to: list[str] = []


class Config(_Strict):
    # relative paths in the file ([inbox] path, [report] out) are relative to the file's folder
    _base_dir: Path = PrivateAttr(default_factory=Path.cwd)
    athlete: Athlete | None = None
    athletes: list[Athlete] | None = None
    races: list[Race] = []
    rules: Rules = Rules()
    sources: Sources = Sources()
    inbox: Inbox = Inbox()
    report: Report = Report()

    @model_validator(mode="after")
    def _one_athlete_form(self) -> Config:
        if self.athlete is not None and self.athletes is not None:
            raise ValueError("use either [athlete] or [[athletes]], not both")
        ids = [a.id for a in self.all_athletes]
        if len(set(ids)) != len(ids):
            raise ValueError(f"athlete ids must be unique, got {ids}")
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


def _key_path(loc: tuple[object, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts[-1] = f"{parts[-1]}[{item}]" if parts else f"[{item}]"
        else:
            parts.append(str(item))
    return ".".join(parts) or "(top level)"


def parse_config(data: dict, source: str = "runlift.toml", base_dir: Path | None = None) -> Config:
    try:
        config = Config.model_validate(data)
        if base_dir is not None:
            config._base_dir = base_dir
        return config
    except ValidationError as err:
        first = err.errors()[0]
        key = _key_path(first["loc"])
        if first["type"] == "extra_forbidden":
            raise ConfigError(f"{source}: unknown key '{key}'") from None
        msg = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{source}: invalid value for '{key}': {msg}") from None


def load_config(path: Path | str | None) -> Config:
    """Read and validate a config file; ``None`` or a missing default file gives the defaults."""
    if path is None:
        return Config()
    path = Path(path)
    if not path.exists():
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read: {err}") from None
    return parse_config(data, str(path), path.resolve().parent)


TEMPLATE = '''\
# runlift configuration. Every key is optional; the values shown are the defaults or examples.
# Docs: README.md, section "Configuration".

[athlete]                    # or [[athletes]] tables, one per athlete
id = "me"                    # names the inbox sub-folder in multi-athlete setups
timezone = "Europe/Berlin"   # IANA zone; naive times in CSV logs are local times here
max_hr = 190
resting_hr = 50
sex = "m"                    # "m" | "f": Banister TRIMP weighting
# threshold_hr = 172         # enables HR-based quality-run detection
# threshold_pace = "4:10"    # min/km
strength_target_per_week = 2

# [[races]]
# date = "2026-10-18"
# name = "Autumn Marathon"
# priority = "A"             # only A races drive phases and taper rules

[rules]
min_gap_hours = 3            # strength <-> run closer than this is an error
optimal_gap_hours = 6        # ... closer than this a warning
detraining_days = 28
taper_days = 14
taper_max_minutes = 30
acwr_max = 1.5
light_reps = 15
beginner_weeks = 4

[sources.hevy]
timezone = "local"           # naive Hevy times: "local" (athlete zone) or an IANA zone

[sources.strong]
weight_unit = "kg"           # Strong exports carry no unit: "kg" | "lb"

[inbox]
path = "./inbox"
interval_minutes = 15

[report]
cron = "0 7 * * MON"
out = "./reports"
email_to = []
# SMTP settings come from the environment only:
# RUNLIFT_SMTP_HOST, RUNLIFT_SMTP_PORT, RUNLIFT_SMTP_USER, RUNLIFT_SMTP_PASSWORD,
# RUNLIFT_SMTP_FROM, RUNLIFT_SMTP_STARTTLS
'''
