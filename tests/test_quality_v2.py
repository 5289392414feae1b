"""Quality runs v2 (SPEC Definitions): laps from FIT/TCX, structured workouts (reason ``laps``),
threshold pace from moving samples, races of any priority, the reason order, and the build
notice for athletes whose runs can carry no quality signal."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import CORPUS, corpus_rows
from scenario import Scenario

from pipeline.build import NOTICES, build
from pipeline.config import parse_config
from pipeline.db import open_for_write
from pipeline.ingest import in_processes, ingest_paths
from pipeline.parsers import fit, tcx
from pipeline.parsers.records import Activity, Lap, LapIntensity, ParseContext, samples_table
from pipeline.quality_signals import no_quality_signal
from pipeline.sources import SourceFile
from pipeline.writer import load_result

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
import make_fit_fixtures  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"
CTX = ParseContext()
TZ = "Europe/Berlin"
EVERY_S = 10  # one sample per 10 s in the runs built here


# ------------------------------------------------------------------------ laps parsed


def test_fit_structured_laps_are_parsed_exactly() -> None:
    result = fit.parse((FIXTURES / "fit" / "structured_laps.fit").read_bytes(), "structured_laps.fit", CTX)
    (run,) = result.activities
    names = {2: "warmup", 3: "cooldown", 4: "recovery", 5: "interval"}
    expected, offset = [], 0
    for seconds, speed, _, intensity in make_fit_fixtures.STRUCTURED_STEPS:
        start = make_fit_fixtures.START + timedelta(seconds=offset)
        metres = round(seconds * speed * 100) / 100  # FIT stores centimetres
        expected.append(Lap(start, float(seconds), float(seconds), metres, names[intensity]))  # type: ignore[arg-type]
        offset += seconds
    assert run.laps == expected
    assert [lap.intensity for lap in run.laps] == [
        "warmup", "interval", "recovery", "interval", "recovery", "interval", "cooldown"]  # fmt: skip
    assert run.duration_s == offset == 480


def test_tcx_active_and_resting_laps_are_parsed_exactly() -> None:
    (run,) = tcx.parse((FIXTURES / "tcx" / "structured_laps.tcx").read_bytes(), "structured_laps.tcx", CTX).activities
    start = datetime(2026, 4, 14, 17, 0, tzinfo=UTC)
    steps = [(180, 540.0, "active"), (120, 540.0, "active"), (60, 120.0, "rest"), (120, 540.0, "active"),
             (60, 120.0, "rest")]  # fmt: skip
    expected, offset = [], 0
    for seconds, metres, intensity in steps:
        expected.append(Lap(start + timedelta(seconds=offset), None, float(seconds), metres, intensity))  # type: ignore[arg-type]
        offset += seconds
    assert run.laps == expected


@pytest.mark.parametrize("with_session", [True, False])
def test_damaged_fit_lap_values_are_dropped_not_the_file(with_session: bool) -> None:
    mff = make_fit_fixtures
    w = mff.FitWriter()
    mff._file_id(w)
    w.define(1, mff.RECORD, [(253, mff.UINT32, 4), (6, mff.UINT16, 2)])
    w.define(2, mff.LAP, mff.LAP_FIELDS)
    t0 = mff._fit_seconds(mff.START)
    for i in range(61):
        w.data(1, [t0 + i * 5, 3000])
    invalid = 0xFFFFFFFF
    # a device-relative start with no clock reference in the file, FIT's invalid value for the
    # times and an intensity the profile does not have; then a lap with only its end time
    w.data(2, [t0 + 150, 1000, invalid, invalid, invalid, 77, 0, 9, 1])
    w.data(2, [t0 + 300, invalid, 150_000, 150_000, 45_000, 1, 1, 9, 1])
    if with_session:
        w.define(3, mff.SESSION, [(253, mff.UINT32, 4), (2, mff.UINT32, 4), (7, mff.UINT32, 4), (5, mff.ENUM, 1)])
        w.data(3, [t0 + 300, t0, 300_000, 1])
    (run,) = fit.parse(w.to_bytes(), "damaged_laps.fit", CTX).activities
    assert (run.start_utc, run.duration_s) == (mff.START, 300.0)
    assert run.laps == [
        Lap(None, None, None, None, None),  # placed in the run by its end time, every value dropped
        Lap(mff.START + timedelta(seconds=150), 150.0, 150.0, 450.0, "rest"),  # start = end - elapsed
    ]


def test_unknown_tcx_lap_intensity_is_dropped_not_the_file() -> None:
    doc = (FIXTURES / "tcx" / "structured_laps.tcx").read_text().replace(
        "<Intensity>Resting</Intensity>", "<Intensity>Sprinting</Intensity>", 1)
    (run,) = tcx.parse(doc.encode(), "odd.tcx", CTX).activities
    assert [lap.intensity for lap in run.laps] == ["active", "active", None, "active", "rest"]


def _ingest_fixture(tmp_path: Path, *files: Path, **athlete: object):
    config = parse_config({"athlete": {"id": "me", "timezone": "UTC", **athlete}})
    con = open_for_write(tmp_path / "runlift.duckdb", config)
    for path in files:
        parser = fit if path.suffix == ".fit" else tcx
        data = path.read_bytes()
        source = SourceFile(path.name, hashlib.sha256(data).hexdigest(), path.suffix[1:], "me")  # type: ignore[arg-type]
        load_result(con, source, parser.parse(data, path.name, CTX))
    return con, config


def test_laps_are_stored_with_their_activity_and_make_a_laps_quality_run(tmp_path: Path) -> None:
    con, config = _ingest_fixture(tmp_path, FIXTURES / "fit" / "structured_laps.fit",
                                  FIXTURES / "tcx" / "structured_laps.tcx")
    rows = con.execute("""SELECT a.source_format, l.lap_index, l.timer_s, l.intensity FROM raw.laps l
                          JOIN raw.activities a USING (activity_id) ORDER BY a.source_format, l.lap_index""").fetchall()
    fit_steps = make_fit_fixtures.STRUCTURED_STEPS
    assert [r[1:] for r in rows if r[0] == "fit"] == [
        (i, float(s[0]), n) for i, (s, n) in enumerate(zip(fit_steps, [
            "warmup", "interval", "recovery", "interval", "recovery", "interval", "cooldown"], strict=True))]
    assert [r[1:] for r in rows if r[0] == "tcx"] == [
        (0, 180.0, "active"), (1, 120.0, "active"), (2, 60.0, "rest"), (3, 120.0, "active"), (4, 60.0, "rest")]
    build(con, config, date(2026, 5, 10))
    assert con.execute("SELECT source_format, quality_reason FROM activities ORDER BY 1").fetchall() == [
        ("fit", "laps"), ("tcx", "laps")]


# ------------------------------------------------------------------------ runs built here


def _run(sc: Scenario, on: str, at: str, speeds: Sequence[tuple[float, float]], *, title: str | None = None,
         laps: list[LapIntensity | None] | None = None, hr: float | None = None,
         gaps: dict[int, int] | None = None, speed_column: bool = True) -> None:
    """A run of ``(minutes, m/s)`` segments, one sample per 10 s (the sample at t has the speed of
    the segment holding t); ``gaps`` adds seconds of pause after sample i (a paused watch);
    ``speed_column=False`` leaves speed_mps missing (distance only); ``laps`` splits it evenly."""
    start = datetime.combine(date.fromisoformat(on), time.fromisoformat(at), tzinfo=ZoneInfo(TZ)).astimezone(UTC)
    total_s = round(sum(m for m, _ in speeds) * 60)
    ts, dist, speed = [], [], []
    t, shift, metres = 0, 0, 0.0
    bounds = [0]
    for m, _ in speeds:
        bounds.append(bounds[-1] + round(m * 60))
    while t <= total_s:
        v = next((s for (_, s), end in zip(speeds, bounds[1:], strict=True) if t < end), 0.0)
        ts.append(start + timedelta(seconds=t + shift))
        dist.append(metres)
        speed.append(v)
        metres += v * EVERY_S
        shift += (gaps or {}).get(len(ts) - 1, 0)
        t += EVERY_S
    samples = samples_table({"ts_utc": ts, "distance_m": dist, "speed_mps": speed if speed_column else None,
                             "heart_rate": [hr] * len(ts)})
    duration = (ts[-1] - start).total_seconds()
    lap_s = duration / len(laps) if laps else 0.0
    sc.activities.append(Activity(
        sport="running", sub_sport=None, title=title, start_utc=start, end_utc=ts[-1], duration_s=duration,
        moving_s=None, distance_m=metres, avg_hr=hr, max_hr=hr, samples=samples,
        laps=[Lap(start + timedelta(seconds=i * lap_s), lap_s, lap_s, None, x) for i, x in enumerate(laps or [])]))


def _reasons(sc: Scenario, tmp_path: Path) -> list[tuple[date, str | None]]:
    sc.build(tmp_path, as_of="2026-10-26")
    return sc.query("SELECT local_date, quality_reason FROM activities ORDER BY start_utc")


def _pace_minutes(sc: Scenario) -> list[tuple[float, float]]:
    return sc.query("SELECT round(p.moving_minutes, 6), round(p.minutes_at_threshold_pace, 6) "
                    "FROM internal.int_activity_pace p JOIN activities a USING (activity_id) ORDER BY a.start_utc")


STEADY = [(40.0, 3.0)]


@pytest.mark.parametrize(
    ("laps", "structured"),
    [
        (["warmup", "interval", "recovery", "interval", "recovery", "interval", "cooldown"], True),
        (["active", "rest", "active"], True),  # the shortest structure
        (["warmup", "active", "rest", "rest", "interval", "cooldown"], True),  # two rest laps, one gap
        (["active"] * 8, False),  # auto laps of a steady run: every lap active
        (["warmup", "active", "active", "cooldown"], False),  # no rest between the work
        (["active", "active", "rest"], False),  # rest only after the work (a cool-down walk)
        (["rest", "active", "active"], False),
        (["warmup", "rest", "cooldown"], False),  # warm-up and cool-down are not work
        ([None, None, None], False),  # a device that records no intensity
    ],
)
def test_laps_reason_needs_work_rest_work(tmp_path: Path, laps: list[LapIntensity | None], structured: bool) -> None:
    sc = Scenario(tz=TZ)
    _run(sc, "2026-09-08", "07:00", STEADY, laps=laps)
    assert _reasons(sc, tmp_path) == [(date(2026, 9, 8), "laps" if structured else None)]


THRESHOLD_SPEED = 4.0  # threshold_pace "4:10" = 250 s/km = 4 m/s


@pytest.mark.parametrize(
    ("segments", "gaps", "speed_column", "expected"),
    [
        ([(10, 3.0), (10.0, THRESHOLD_SPEED), (10, 3.0)], None, True, (30.0, 10.0)),
        ([(10, 3.0), (9.5, THRESHOLD_SPEED), (10, 3.0)], None, True, (29.5, 9.5)),
        ([(10, 3.0), (10.0, 4.6), (10, 3.0)], None, True, (30.0, 10.0)),  # faster than threshold counts
        ([(10, 3.0), (10.0, 3.99), (10, 3.0)], None, True, (30.0, 0.0)),  # a touch slower does not
        # a stop (speed 0) within the fast block: 9.5 fast minutes around it, the stop counts for nothing
        ([(5.0, THRESHOLD_SPEED), (2.0, 0.0), (4.5, THRESHOLD_SPEED), (10, 3.0)], None, True, (19.5, 9.5)),
        # the same stop with speed from the distance only (speed_mps not recorded)
        ([(5.0, THRESHOLD_SPEED), (2.0, 0.0), (4.5, THRESHOLD_SPEED), (10, 3.0)], None, False, (19.5, 9.5)),
        ([(10, 3.0), (10.0, THRESHOLD_SPEED), (10, 3.0)], None, False, (30.0, 10.0)),
        # 9:20 fast, then the watch paused 5 min after a fast sample: it counts 30 s, not 5 min
        ([(9 + 1 / 3, THRESHOLD_SPEED), (10, 3.0)], {55: 300}, True, (19 + 1 / 3 + 20 / 60, 9 + 1 / 3 + 20 / 60)),
    ],
    ids=["10min", "9.5min", "faster", "slower", "stop", "stop-distance-only", "distance-only", "pause"],
)
def test_threshold_pace_counts_moving_minutes_at_or_faster(
    tmp_path: Path, segments: list[tuple[float, float]], gaps: dict[int, int] | None, speed_column: bool,
    expected: tuple[float, float],
) -> None:
    sc = Scenario(tz=TZ, threshold_pace="4:10")
    _run(sc, "2026-09-08", "07:00", segments, gaps=gaps, speed_column=speed_column)
    reasons = _reasons(sc, tmp_path)
    assert _pace_minutes(sc) == [(round(expected[0], 6), round(expected[1], 6))]
    assert reasons == [(date(2026, 9, 8), "threshold_pace" if expected[1] >= 10 else None)]


def test_threshold_pace_unset_finds_nothing(tmp_path: Path) -> None:
    sc = Scenario(tz=TZ)
    _run(sc, "2026-09-08", "07:00", [(20.0, 5.0)])
    assert _reasons(sc, tmp_path) == [(date(2026, 9, 8), None)]
    assert _pace_minutes(sc) == [(20.0, 0.0)]


@pytest.mark.parametrize("priority", ["A", "B", "C"])
def test_a_race_of_any_priority_makes_its_day_quality(tmp_path: Path, priority: str) -> None:
    sc = Scenario(tz=TZ, races=[{"date": "2026-09-13", "name": "City 10k", "priority": priority}])
    _run(sc, "2026-09-12", "09:00", STEADY)  # the day before: a shakeout, no signal
    _run(sc, "2026-09-13", "08:30", [(10, 2.5)])  # the warm-up jog on race morning is on the race date too
    _run(sc, "2026-09-13", "10:00", [(42, 4.0)])
    assert _reasons(sc, tmp_path) == [(date(2026, 9, 12), None), (date(2026, 9, 13), "race"),
                                      (date(2026, 9, 13), "race")]


def test_reason_is_the_first_that_applies(tmp_path: Path) -> None:
    """race > title > laps > threshold_hr > threshold_pace: each day drops the signal before."""
    sc = Scenario(tz=TZ, threshold_hr=170, threshold_pace="4:10",
                  races=[{"date": "2026-09-07", "name": "Club race", "priority": "B"}])
    fast = [(5, 3.0), (12, THRESHOLD_SPEED), (5, 3.0)]
    workout: list[LapIntensity | None] = ["warmup", "interval", "recovery", "interval", "cooldown"]
    _run(sc, "2026-09-07", "07:00", fast, title="Tempo", laps=workout, hr=175)
    _run(sc, "2026-09-08", "07:00", fast, title="Tempo", laps=workout, hr=175)
    _run(sc, "2026-09-09", "07:00", fast, title="Morning run", laps=workout, hr=175)
    _run(sc, "2026-09-10", "07:00", fast, laps=["active"] * 4, hr=175)
    _run(sc, "2026-09-11", "07:00", fast, hr=150)
    _run(sc, "2026-09-12", "07:00", [(22, 3.0)], title="Easy tempo", hr=150)  # the easy word vetoes the title
    assert _reasons(sc, tmp_path) == [
        (date(2026, 9, 7), "race"), (date(2026, 9, 8), "title"), (date(2026, 9, 9), "laps"),
        (date(2026, 9, 10), "threshold_hr"), (date(2026, 9, 11), "threshold_pace"), (date(2026, 9, 12), None)]
    assert sc.query("SELECT count(*) FILTER (WHERE is_quality) FROM activities") == [(5,)]


# ------------------------------------------------------------------------ the build notice


def test_notice_for_untitled_runs_without_thresholds(tmp_path: Path) -> None:
    assert no_quality_signal in NOTICES
    sc = Scenario(tz=TZ)
    for d in ("2026-09-08", "2026-09-10", "2026-09-12"):
        _run(sc, d, "07:00", STEADY)
    sc.build(tmp_path, as_of="2026-09-14")
    assert sc.con is not None
    assert build(sc.con, sc.config, date(2026, 9, 14)).notices == [
        "athlete me: none of 3 runs has a title and runlift.toml sets neither threshold_hr nor threshold_pace, "
        "so only race days and lap-structured workouts can be quality runs (spacing.before_quality misses tempo "
        "runs and intervals); set one of them"]


@pytest.mark.parametrize(
    ("athlete", "title"),
    [({"threshold_pace": "4:10"}, None), ({"threshold_hr": 170}, None), ({}, "Sunday long run")],
    ids=["threshold_pace", "threshold_hr", "one-titled-run"],
)
def test_notice_is_silent_with_a_signal(tmp_path: Path, athlete: dict, title: str | None) -> None:
    sc = Scenario(tz=TZ, **athlete)
    _run(sc, "2026-09-08", "07:00", STEADY)
    _run(sc, "2026-09-10", "07:00", STEADY, title=title)
    sc.build(tmp_path, as_of="2026-09-14")
    assert sc.con is not None
    assert no_quality_signal(sc.con, sc.config) == []


def test_notice_is_silent_without_runs(tmp_path: Path) -> None:
    sc = Scenario(tz=TZ)
    sc.strength("2026-09-08", "18:00", 45)
    sc.build(tmp_path, as_of="2026-09-14")
    assert sc.con is not None
    assert no_quality_signal(sc.con, sc.config) == []


# ------------------------------------------------------------------------ the real corpus


def _is_structured(laps: list[Lap]) -> bool:
    """Work, rest, work somewhere in lap order (written apart from the SQL, to check it)."""
    kinds = ["work" if x.intensity in ("active", "interval") else "rest" if x.intensity in ("rest", "recovery")
             else None for x in laps]
    seen = ""
    for kind in kinds:
        if kind == "work" and seen in ("", "work_rest"):
            seen = "work" if seen == "" else "done"
        elif kind == "rest" and seen == "work":
            seen = "work_rest"
    return seen == "done"


@pytest.mark.skipif(not corpus_rows(), reason="shared corpus not present")
def test_corpus_laps_are_stored_as_parsed_and_judged(tmp_path: Path) -> None:
    config = parse_config({"athlete": {"id": "me", "timezone": "UTC"}})
    con = open_for_write(tmp_path / "runlift.duckdb", config)
    files = [CORPUS / r["file"] for r in corpus_rows() if r["format"] in ("fit", "tcx")]
    ingest_paths(con, config, files, parse_jobs=in_processes(1))
    build(con, config, date(2026, 10, 26))
    stored = dict(con.execute("""SELECT a.source_file, count(l.lap_index) FROM raw.activities a
                                 LEFT JOIN raw.laps l USING (activity_id) GROUP BY 1""").fetchall())
    parsed = {}
    for path in files:
        if str(path) in stored:
            module = fit if path.suffix == ".fit" else tcx
            parsed[str(path)] = sum(len(a.laps) for a in module.parse(path.read_bytes(), path.name, CTX).activities)
    assert parsed == stored
    runs = con.execute("""SELECT a.activity_id, a.quality_reason, list(l.intensity ORDER BY l.lap_index)
                          FILTER (WHERE l.lap_index IS NOT NULL)
                          FROM activities a LEFT JOIN internal.stg_laps l USING (activity_id)
                          WHERE a.sport = 'running' GROUP BY 1, 2""").fetchall()
    with_laps = [r for r in runs if r[2]]
    for _, reason, intensities in runs:
        if reason not in ("race", "title"):  # reasons that come before laps
            laps = [Lap(None, None, None, None, x) for x in intensities or []]
            assert (reason == "laps") == _is_structured(laps), intensities
    assert with_laps
