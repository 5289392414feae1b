"""An incremental build gives the tables of a full one (`runlift build` vs `runlift build --full`),
and recomputes only what new data touched (pipeline.incremental).

Each test loads the same raw data in steps into two DBs: one builds incrementally after every
step, the other builds everything afresh; every model (tables and views) and the flags are
compared row for row after every step.
"""

from __future__ import annotations

import hashlib
import math
import random
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipeline import commands
from pipeline.build import BuildResult, build
from pipeline.config import Config, load_config, parse_config
from pipeline.db import open_for_write
from pipeline.models import discover
from pipeline.parsers.records import Activity, ParseResult, StrengthSession
from pipeline.resources import sample_dir
from pipeline.sources import SourceFile
from pipeline.writer import load_result
from tests.scenario import Scenario, sets

SAMPLE = sample_dir()


def _key(value: object) -> tuple[bool, str]:
    if isinstance(value, float):
        return value is None, f"{value:.6g}"
    return value is None, str(value)


def model_rows(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """Every model's rows (and the flags), sorted."""
    out = {}
    for m in discover():
        rows = con.execute(f"SELECT * FROM {m.relation}").fetchall()
        out[m.name] = sorted(rows, key=lambda r: tuple(map(_key, r)))
    return out


def assert_same(incremental: dict[str, list[tuple]], full: dict[str, list[tuple]]) -> None:
    """Row for row; floats to 1e-9 relative (a sum's order of addition can differ in the last bit)."""
    assert incremental.keys() == full.keys()
    for name, rows in full.items():
        got = incremental[name]
        assert len(got) == len(rows), f"{name}: {len(got)} rows incrementally, {len(rows)} in full"
        for a, b in zip(got, rows, strict=True):
            same = all(
                math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12) if isinstance(x, float) and isinstance(y, float)
                else x == y for x, y in zip(a, b, strict=True))
            assert same, f"{name}: {a} (incremental) != {b} (full)"


def _load(con: duckdb.DuckDBPyConnection, athlete: str, name: str, activities: list[Activity],
          sessions: list[StrengthSession]) -> None:
    """One "file" of runs and one of sessions, as ingest writes them (pipeline.writer)."""
    for fmt, result in (("gpx", ParseResult("gpx", activities=activities)),
                        ("hevy_csv", ParseResult("hevy_csv", sessions=sessions))):
        if result.activities or result.sessions:
            sha = hashlib.sha256(f"{athlete}/{name}.{fmt}".encode()).hexdigest()
            load_result(con, SourceFile(f"/data/{athlete}/{name}.{fmt}", sha, fmt, athlete), result)  # type: ignore[arg-type]


class Pair:
    """The same data in two DBs: ``inc`` built incrementally, ``full`` with ``--full``."""

    def __init__(self, tmp_path: Path, config: Config) -> None:
        self.config = config
        self.inc = open_for_write(tmp_path / "inc.duckdb", config)
        self.full = open_for_write(tmp_path / "full.duckdb", config)

    def load(self, athlete: str, name: str, activities: list[Activity], sessions: list[StrengthSession]) -> None:
        for con in (self.inc, self.full):
            _load(con, athlete, name, activities, sessions)

    def build(self, as_of: date) -> BuildResult:
        result = build(self.inc, self.config, as_of)
        build(self.full, self.config, as_of, full=True)
        assert_same(model_rows(self.inc), model_rows(self.full))
        return result

    def close(self) -> None:
        self.inc.close()
        self.full.close()


def _training_block(sc: Scenario, start: date, weeks: int, rng: random.Random) -> None:
    """Weeks of runs (easy, intervals, long; some without HR, some with a summary HR only) and
    strength sessions (qualifying, upper-body only, heavy), with a gap and a load spike."""
    from datetime import timedelta

    for w in range(weeks):
        if w == weeks // 2:  # two weeks off: detraining, ACWR after a gap
            continue
        monday = start + timedelta(weeks=w)
        spike = 2.0 if w == weeks - 2 else 1.0
        for d, at, minutes, kind in ((0, "07:00", 40, "easy"), (2, "18:00", 50, "intervals"),
                                     (5, "09:00", 90, "long")):
            on = monday + timedelta(days=d)
            hr = None if rng.random() < 0.2 else 140 + 15 * rng.random()
            avg = 150.0 if hr is None and rng.random() < 0.5 else None
            sc.run(on, at, minutes * spike * (0.8 + 0.4 * rng.random()), hr=hr, avg_hr=avg,
                   title="6x800 intervals" if kind == "intervals" else f"{kind} run")
        sc.strength(monday + timedelta(days=2), "15:30", 45)  # close to the intervals: spacing
        if rng.random() < 0.7:
            sc.strength(monday + timedelta(days=4), "18:00", 50,
                        sets=sets("Back Squat", 4, 5, weight_kg=80 + 2.5 * w, rpe=8)
                        + sets("Romanian Deadlift", 3, 6, weight_kg=70 + 2.5 * w))
        if rng.random() < 0.3:
            sc.strength(monday + timedelta(days=6), "10:00", 30, sets=sets("Bench Press", 5, 5, weight_kg=60))


def _split(items: list, parts: int, rng: random.Random) -> list[list]:
    shuffled = items[:]
    rng.shuffle(shuffled)
    return [shuffled[i::parts] for i in range(parts)]


RULE_SETS = [
    {},
    {"acwr_method": "ewma", "acwr_min_weekly_load": 30},
    {"acwr_method": "uncoupled", "quality_lead_hours": 30, "long_run_gap_hours": 36},
]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rule_scenarios_in_steps(tmp_path: Path, seed: int) -> None:
    """A race-targeted block loaded in random order over three steps (later weeks first too, so a
    step reaches back into the windows of what was built), as_of moving on: the same tables."""
    rng = random.Random(seed)
    sc = Scenario(races=[{"date": "2026-11-01", "name": "City Marathon", "priority": "A"}],
                  rules=RULE_SETS[seed], max_hr=190, resting_hr=50, threshold_hr=170, sex="m" if seed else "f")
    _training_block(sc, date(2026, 7, 20), 10, rng)
    pair = Pair(tmp_path, sc.config)
    try:
        steps = list(zip(_split(sc.activities, 3, rng), _split(sc.sessions, 3, rng), strict=True))
        as_of = date(2026, 9, 1)
        for i, (acts, sess) in enumerate(steps):
            pair.load("me", f"step{i}", acts, sess)
            pair.build(as_of)
            as_of = date(2026, 9, 1 + 7 * (i + 1))
        assert pair.build(as_of).touched_athletes == {"me"}  # the as-of date moved: the athlete again
    finally:
        pair.close()


def _two_athletes() -> Config:
    return parse_config({"athletes": [
        {"id": "ana", "timezone": "Europe/Berlin", "max_hr": 185, "resting_hr": 48, "threshold_hr": 168},
        {"id": "ben", "timezone": "America/New_York", "max_hr": 195, "resting_hr": 55, "sex": "f"},
    ]})


def _scenario_for(tz: str, seed: int) -> Scenario:
    sc = Scenario(tz=tz)
    _training_block(sc, date(2026, 3, 2), 8, random.Random(seed))
    return sc


def test_a_new_file_touches_its_athlete_and_activities_only(tmp_path: Path) -> None:
    config = _two_athletes()
    ana, ben = _scenario_for("Europe/Berlin", 1), _scenario_for("America/New_York", 2)
    pair = Pair(tmp_path, config)
    try:
        pair.load("ana", "history", ana.activities[:-1], ana.sessions)
        pair.load("ben", "history", ben.activities, ben.sessions)
        first = pair.build(date(2026, 5, 4))
        assert first.touched_athletes is None  # no build before: a full one
        kept = _rowids(pair.inc, "ben")
        ana_sets = _strength_rowids(pair.inc, "ana")
        pair.load("ana", "new", ana.activities[-1:], [])
        result = pair.build(date(2026, 5, 4))
        assert ana_sets and _strength_rowids(pair.inc, "ana") == ana_sets  # a run leaves the strength models alone
        new_id = pair.inc.execute(
            "SELECT activity_id FROM raw.activities WHERE source_file LIKE '%/new.gpx'").fetchone()
        assert new_id is not None
        assert result.touched_athletes == {"ana"}
        assert result.touched_activities == {new_id[0]}
        assert _rowids(pair.inc, "ben") == kept  # ben's rows were left where they were, not rewritten
        again = pair.build(date(2026, 5, 4))
        assert (again.touched_athletes, again.touched_activities) == (set(), set())
        pair.load("ben", "strength", [], [_late_session(ben)])
        result = pair.build(date(2026, 5, 4))
        assert (result.touched_athletes, result.touched_activities) == ({"ben"}, set())
        # the day moves on: every athlete's series is longer, no activity is recomputed
        result = pair.build(date(2026, 5, 5))
        assert (result.touched_athletes, result.touched_activities) == ({"ana", "ben"}, set())
        # a full build says so
        assert build(pair.inc, config, date(2026, 5, 5), full=True).touched_athletes is None
    finally:
        pair.close()


def _rowids(con: duckdb.DuckDBPyConnection, athlete: str) -> dict[str, list[int]]:
    """Where an athlete's rows sit in a per-activity and a per-athlete table (DuckDB's rowid):
    rows deleted and inserted again get new ones."""
    return {
        "int_activity_hr": [r[0] for r in con.execute(
            "SELECT h.rowid FROM internal.int_activity_hr AS h JOIN raw.activities USING (activity_id) "
            "WHERE athlete_id = ? ORDER BY 1", [athlete]).fetchall()],
        "daily_load": [r[0] for r in con.execute(
            "SELECT rowid FROM main.daily_load WHERE athlete_id = ? ORDER BY 1", [athlete]).fetchall()],
    }


def _strength_rowids(con: duckdb.DuckDBPyConnection, athlete: str) -> list[int]:
    return [r[0] for r in con.execute(
        "SELECT x.rowid FROM main.strength_sets AS x JOIN raw.strength_sessions USING (session_id) "
        "WHERE athlete_id = ? ORDER BY 1", [athlete]).fetchall()]


def _late_session(sc: Scenario) -> StrengthSession:
    late = Scenario(tz=str(sc.zone))
    late.strength("2026-05-01", "18:00", 40)
    return late.sessions[0]


def test_a_changed_athlete_config_recomputes_that_athlete(tmp_path: Path) -> None:
    config = _two_athletes()
    ana, ben = _scenario_for("Europe/Berlin", 3), _scenario_for("America/New_York", 4)
    pair = Pair(tmp_path, config)
    try:
        pair.load("ana", "history", ana.activities, ana.sessions)
        pair.load("ben", "history", ben.activities, ben.sessions)
        pair.build(date(2026, 5, 4))
        changed = parse_config({"athletes": [
            {"id": "ana", "timezone": "Europe/Berlin", "max_hr": 185, "resting_hr": 48, "threshold_hr": 168},
            {"id": "ben", "timezone": "America/New_York", "max_hr": 200, "resting_hr": 55, "sex": "f"},
        ]})
        for con in (pair.inc, pair.full):
            open_for_write_sync(con, changed)
        pair.config = changed
        result = pair.build(date(2026, 5, 4))
        ben_runs = {r[0] for r in pair.inc.execute(
            "SELECT activity_id FROM raw.activities WHERE athlete_id = 'ben'").fetchall()}
        assert (result.touched_athletes, result.touched_activities) == ({"ben"}, ben_runs)
        # a rule threshold is not raw data: a full build
        pair.config = parse_config({"athletes": [
            {"id": "ana", "timezone": "Europe/Berlin", "max_hr": 185, "resting_hr": 48, "threshold_hr": 168},
            {"id": "ben", "timezone": "America/New_York", "max_hr": 200, "resting_hr": 55, "sex": "f"},
        ], "rules": {"hr_min_coverage": 0.5}})
        for con in (pair.inc, pair.full):
            open_for_write_sync(con, pair.config)
        assert pair.build(date(2026, 5, 4)).touched_athletes is None
    finally:
        pair.close()


def open_for_write_sync(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    """What every write does first: mirror the config's athletes and rules into the DB."""
    from pipeline.db import ensure_schema, sync_athletes, transaction

    with transaction(con):
        ensure_schema(con)
        sync_athletes(con, config)


def _sample_files() -> list[Path]:
    return sorted(p for p in SAMPLE.rglob("*") if p.is_file() and p.parent.name in ("runs", "strength"))


@pytest.mark.parametrize("seed", [11])
def test_sample_data_added_in_random_steps(tmp_path: Path, seed: int) -> None:
    """The sample data's files ingested in a random order over three ingests (each refreshing the
    models incrementally, as `runlift ingest` does), each followed by an incremental build, give
    after every step the tables of a full build of the same DB."""
    config = load_config(SAMPLE / "runlift.toml")
    files = _split(_sample_files(), 3, random.Random(seed))
    db = tmp_path / "inc.duckdb"
    as_of = date(2026, 10, 26)
    for step, batch in enumerate(files):
        commands.ingest(db, config, batch, workers=1)
        con = open_for_write(db, config)
        try:
            refreshed = model_rows(con)  # the ingest's own refresh, before any build
            build(con, config, as_of if step else date(2026, 8, 20))
            incremental = model_rows(con)
        finally:
            con.close()
        shutil.copy(db, tmp_path / "full.duckdb")
        full = open_for_write(tmp_path / "full.duckdb", config)
        try:
            build(full, config, as_of if step else date(2026, 8, 20), full=True)
            assert_same(incremental, model_rows(full))
        finally:
            full.close()
        assert refreshed["int_activity_hr"] and refreshed.keys() == incremental.keys()


def test_sample_data_demo_full_equals_incremental(tmp_path: Path) -> None:
    """The demo's DB (the sample data, one ingest and one build), then `build` again and `build
    --full`: the same tables and flags as the demo's expected flags file says nothing new."""
    config = load_config(SAMPLE / "runlift.toml")
    db = tmp_path / "demo.duckdb"
    commands.ingest(db, config, [SAMPLE / "runs", SAMPLE / "strength"], workers=1, refresh_models=False)
    con = open_for_write(db, config)
    try:
        build(con, config, date(2026, 10, 26))
        before = model_rows(con)
        again = build(con, config, date(2026, 10, 26))
        assert (again.touched_athletes, again.touched_activities) == (set(), set())
        assert_same(model_rows(con), before)
        build(con, config, date(2026, 10, 26), full=True)
        assert_same(before, model_rows(con))
    finally:
        con.close()
