"""A tiny test-data builder: state runs and strength sessions in LOCAL time, get a real build.

    sc = Scenario(tz="Europe/Berlin")
    sc.run("2026-09-08", "17:30", 50, title="6x800 intervals")
    sc.strength("2026-09-08", "15:00", 45)            # default sets: 3 x 8 Bulgarian split squats
    flags = sc.build(tmp_path, as_of="2026-09-14")
    assert summary(flags) == [("spacing.too_close", date(2026, 9, 8), "error"), ...]

Everything goes through the real code path: ParseResult records -> ``pipeline.writer.load_result``
into a DB from ``pipeline.db.open_for_write`` -> ``pipeline.build.build`` (models + rules).
Local times are read in the athlete's zone (ambiguous autumn times take the first, summer-time
occurrence); durations are real elapsed minutes, so a session across a DST change ends at the
right instant.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from pipeline.build import build
from pipeline.config import Config, parse_config
from pipeline.db import open_for_write
from pipeline.parsers.records import Activity, ParseResult, StrengthSession, StrengthSet, samples_table
from pipeline.rules.base import Flag
from pipeline.sources import SourceFile
from pipeline.writer import load_result

SAMPLE_EVERY_S = 10
SPEED_MPS = 3.0


def day(value: str | date) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def sets(exercise: str, n: int, reps: int | None, *, set_type: str = "working", rpe: float | None = 8,
         weight_kg: float | None = 40.0) -> list[StrengthSet]:
    """``n`` identical sets (set_index is renumbered by :meth:`Scenario.strength`)."""
    return [StrengthSet(0, exercise, set_type, reps, weight_kg, rpe) for _ in range(n)]


def default_sets() -> list[StrengthSet]:
    """3 x 8 Bulgarian split squats + 3 x 8 Romanian deadlifts: a qualifying session (6 working
    sets, lower body, one unilateral exercise), neither too heavy for a beginner nor too light."""
    return sets("Bulgarian Split Squat", 3, 8) + sets("Romanian Deadlift", 3, 8)


def summary(flags: list[Flag]) -> list[tuple[str, date, str]]:
    """(rule, date, severity) per flag, in the engine's order (date, then rule)."""
    return [(f.rule, f.date, f.severity) for f in flags]


class Scenario:
    def __init__(self, tz: str = "Europe/Berlin", *, races: list[dict] | None = None,
                 rules: dict | None = None, **athlete: object) -> None:
        self.zone = ZoneInfo(tz)
        self.config: Config = parse_config({
            "athlete": {"id": "me", "timezone": tz, **athlete},
            "races": [r | {"date": day(r["date"])} for r in races or []],  # TOML gives dates
            "rules": rules or {},
        })
        self.activities: list[Activity] = []
        self.sessions: list[StrengthSession] = []
        self.con: duckdb.DuckDBPyConnection | None = None

    def _utc(self, on: str | date, at: str) -> datetime:
        return datetime.combine(day(on), time.fromisoformat(at), tzinfo=self.zone).astimezone(UTC)

    def run(self, on: str | date, at: str, minutes: float = 45, *, title: str | None = None,
            hr: float | None = None, avg_hr: float | None = None, sport: str = "running",
            hr_minutes: float | None = None, moving_s: float | None = None) -> Scenario:
        """A run at local ``at`` on ``on``: one sample per 10 s at 3 m/s, constant ``hr`` (or no HR);
        ``avg_hr`` alone gives a run with only a summary heart rate (the TRIMP fallback);
        ``hr_minutes``: the HR stops after that many minutes (samples go on without it);
        ``moving_s``: the source's moving time (default none, so the elapsed time counts)."""
        start = self._utc(on, at)
        n = int(minutes * 60 // SAMPLE_EVERY_S) + 1
        offsets = [i * SAMPLE_EVERY_S for i in range(n)]
        samples = samples_table({
            "ts_utc": [start + timedelta(seconds=s) for s in offsets],
            "distance_m": [s * SPEED_MPS for s in offsets],
            "speed_mps": [SPEED_MPS] * n,
            "heart_rate": [hr if hr_minutes is None or s < hr_minutes * 60 else None for s in offsets],
        })
        self.activities.append(Activity(
            sport=sport, sub_sport=None, title=title, start_utc=start,
            end_utc=start + timedelta(minutes=minutes), duration_s=minutes * 60, moving_s=moving_s,
            distance_m=minutes * 60 * SPEED_MPS, avg_hr=hr if hr is not None else avg_hr, max_hr=hr,
            samples=samples))
        return self

    def strength(self, on: str | date, at: str, minutes: float = 45, *,
                 sets: list[StrengthSet] | None = None, title: str = "Strength") -> Scenario:
        """A logged strength session (default: :func:`default_sets`, a qualifying session)."""
        start = self._utc(on, at)
        chosen = sets if sets is not None else default_sets()
        numbered = [replace(s, set_index=i) for i, s in enumerate(chosen)]
        self.sessions.append(StrengthSession(title, start, start + timedelta(minutes=minutes), numbered))
        return self

    def build(self, path: Path, as_of: str | date) -> list[Flag]:
        """Load the runs (one GPX-like file) and the sessions (one Hevy-like file) into
        ``path/runlift.duckdb``, build models and rules, return the flags; ``self.con`` stays open.
        (Scenarios never state two overlapping runs or two sessions within 30 min, which ingest
        would merge as one workout recorded twice.)"""
        self.con = open_for_write(Path(path) / "runlift.duckdb", self.config)
        files = [ParseResult("gpx", activities=self.activities), ParseResult("hevy_csv", sessions=self.sessions)]
        for result in files:
            if result.activities or result.sessions:
                sha = hashlib.sha256(f"scenario.{result.format}".encode()).hexdigest()
                load_result(self.con, SourceFile(f"scenario.{result.format}", sha, result.format, "me"), result)
        return build(self.con, self.config, day(as_of)).flags

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        assert self.con is not None, "build() first"
        return self.con.execute(sql, params or []).fetchall()
