"""`runlift ingest` end to end: idempotency, duplicates, archives, hostile files, crash safety."""

from __future__ import annotations

import gzip
import io
import os
import signal
import subprocess
import sys
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from gpxgen import BILLION_LAUGHS, gpx_run

from pipeline import commands, sources
from pipeline.config import Config, parse_config

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
BERLIN = parse_config({"athlete": {"id": "me", "timezone": "Europe/Berlin"}})
RAW_TABLES = ("raw.activities", "raw.samples", "raw.strength_sessions", "raw.strength_sets", "ingest_log")


def counts(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in RAW_TABLES}
    finally:
        con.close()


def rows(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("sample") / "sample.duckdb"
    commands.ingest(db, parse_config({"athlete": {"id": "me", "timezone": "Europe/Berlin"},
                                 "sources": {"strong": {"weight_unit": "kg"}}}), [SAMPLE])
    return db


def test_second_ingest_changes_no_row(sample_db: Path) -> None:
    before = counts(sample_db)
    summary = commands.ingest(sample_db, BERLIN, [SAMPLE])
    assert (summary.new, summary.duplicate, summary.quarantined) == (0, 0, 0)
    assert summary.skipped == before["ingest_log"]
    assert counts(sample_db) == before


def test_sample_ingest_outcome(sample_db: Path) -> None:
    status = dict(rows(sample_db, "SELECT status, count(*) FROM ingest_log GROUP BY status"))
    runs = len(list((SAMPLE / "runs").glob("*")))
    # every run file loads except the GPX twin of the FIT run; 4 strength files; 1 corrupt FIT
    assert status == {"loaded": runs - 1 + 4, "duplicate": 1, "quarantined": 1}
    reason = rows(sample_db, "SELECT reason FROM ingest_log WHERE status = 'quarantined'")[0][0]
    assert "truncated" in reason.lower()


def test_fit_and_gpx_of_one_run_kept_once(sample_db: Path) -> None:
    kept = rows(sample_db, "SELECT source_format, source_file FROM activities "
                           "WHERE local_date = DATE '2026-09-09' AND sport = 'running'")
    assert [(fmt, Path(f).name) for fmt, f in kept] == [("fit", "2026-09-09_0700_easy.fit")]
    (status, reason), = rows(sample_db, "SELECT status, reason FROM ingest_log WHERE file LIKE '%09-09_0700_easy.gpx'")
    assert status == "duplicate" and "2026-09-09_0700_easy.fit" in reason


def test_hevy_and_watch_strength_session_merged(sample_db: Path) -> None:
    got = rows(sample_db, "SELECT source_format, strftime(start_local, '%H:%M'), strftime(end_utc AT TIME ZONE "
                          "'Europe/Berlin', '%H:%M'), activity_id IS NOT NULL FROM strength_sessions "
                          "WHERE local_date = DATE '2026-09-10'")
    # Hevy's sets (more complete), the watch's times (18:02-18:57), linked to the watch activity
    assert got == [("hevy_csv", "18:02", "18:57", True)]


def test_order_does_not_matter_for_duplicates(tmp_path: Path) -> None:
    fit = SAMPLE / "runs" / "2026-09-09_0700_easy.fit"
    gpx = SAMPLE / "runs" / "2026-09-09_0700_easy.gpx"
    db = tmp_path / "r.duckdb"
    commands.ingest(db, BERLIN, [gpx])
    commands.ingest(db, BERLIN, [fit])
    assert rows(db, "SELECT source_format FROM activities") == [("fit",)]
    assert sorted(rows(db, "SELECT status FROM ingest_log")) == [("duplicate",), ("loaded",)]
    # in one run, GPX first: the summary counts the GPX as the duplicate once the FIT arrives
    one_run = commands.ingest(tmp_path / "one.duckdb", BERLIN, [gpx, fit], workers=1)
    assert (one_run.new, one_run.duplicate) == (1, 1)


def _zip(path: Path, members: dict[str, bytes], symlink: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = 0o120777 << 16
            zf.writestr(info, "/etc/passwd")
    return path


def test_zip_export_members(tmp_path: Path) -> None:
    t0 = datetime(2026, 5, 4, 5, 0, tzinfo=UTC)
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("nested/run.gpx", gpx_run(t0 + timedelta(days=2)))
    strava_csv = (
        "Activity ID,Activity Date,Activity Name,Activity Type,Filename\n"
        '1,"May 4, 2026",Morning Tempo,Run,activities/1.gpx.gz\n'
    )
    archive = _zip(tmp_path / "export.zip", {
        "activities.csv": strava_csv.encode(),
        "activities/1.gpx.gz": gzip.compress(gpx_run(t0, name="", sport="").encode()),
        "activities/2.gpx": gpx_run(t0 + timedelta(days=1)).encode(),
        "../escape.gpx": gpx_run(t0 + timedelta(days=3)).encode(),
        "/abs/path.gpx": gpx_run(t0 + timedelta(days=4)).encode(),
        "inner.zip": inner.getvalue(),
        "notes.json": b"{}",
        # Strava's profile table (SPEC v2: an export's profile is ignored, not quarantined)
        "profile.csv": b"Athlete ID,Email Address,First Name,Last Name,Sex,Description,Weight,City\n"
                       b"1,a@example.org,A,B,M,,70,Berlin\n",
    }, symlink="link.gpx")
    db = tmp_path / "z.duckdb"
    summary = commands.ingest(db, BERLIN, [archive])
    assert (summary.new, summary.quarantined, summary.ignored, summary.unsupported) == (3, 3, 1, 1)
    log = dict(rows(db, "SELECT file, coalesce(reason, status) FROM ingest_log"))
    a = str(archive)
    assert log[f"{a}!profile.csv"] == "profile.csv of an export, not a strength log; holds no activity"
    assert "escapes its folder" in log[f"{a}!../escape.gpx"]
    assert "absolute path" in log[f"{a}!/abs/path.gpx"]
    assert "symbolic link" in log[f"{a}!link.gpx"]
    assert log[f"{a}!inner.zip!nested/run.gpx"] == "loaded"
    titled = rows(db, "SELECT title, sport FROM activities WHERE source_file LIKE '%1.gpx.gz'")
    assert titled == [("Morning Tempo", "running")]
    assert not (tmp_path / "escape.gpx").exists() and not (tmp_path.parent / "escape.gpx").exists()


def test_zip_bomb_stops_at_the_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "MAX_MEMBER_BYTES", 1 << 20)
    archive = _zip(tmp_path / "bomb.zip", {"big.gpx": b"\0" * (8 << 20)})
    assert archive.stat().st_size < 64 * 1024
    db = tmp_path / "b.duckdb"
    summary = commands.ingest(db, BERLIN, [archive])
    assert summary.quarantined == 1
    assert "zip bomb" in rows(db, "SELECT reason FROM ingest_log")[0][0]


def test_entity_bomb_quarantined_fast(tmp_path: Path) -> None:
    bomb = tmp_path / "lol.gpx"
    bomb.write_text(BILLION_LAUGHS)
    db = tmp_path / "e.duckdb"
    t = time.perf_counter()
    summary = commands.ingest(db, BERLIN, [bomb])
    assert time.perf_counter() - t < 5
    assert summary.quarantined == 1
    assert "DOCTYPE" in rows(db, "SELECT reason FROM ingest_log")[0][0]


def test_same_content_under_another_name_is_a_duplicate(tmp_path: Path) -> None:
    text = gpx_run(datetime(2026, 5, 4, 5, 0, tzinfo=UTC))
    (tmp_path / "a.gpx").write_text(text)
    (tmp_path / "b.gpx").write_text(text)
    db = tmp_path / "d.duckdb"
    summary = commands.ingest(db, BERLIN, [tmp_path / "a.gpx", tmp_path / "b.gpx"])
    assert (summary.new, summary.duplicate) == (1, 1)
    assert rows(db, "SELECT reason FROM ingest_log WHERE status = 'duplicate'")[0][0].startswith("same content as")


def _many_runs(folder: Path, n: int, points: int) -> None:
    folder.mkdir()
    t0 = datetime(2025, 1, 1, 6, 0, tzinfo=UTC)
    for i in range(n):
        (folder / f"run{i:03}.gpx").write_text(gpx_run(t0 + timedelta(days=i), points=points))


def _assert_whole_files(db: Path, points: int) -> int:
    """Every logged file has all of its samples and every stored activity has its log row."""
    partial = rows(db, """
        SELECT a.source_file, a.n_samples, count(s.ts_utc)
        FROM raw.activities a LEFT JOIN raw.samples s USING (activity_id)
        GROUP BY ALL HAVING a.n_samples <> count(s.ts_utc) OR a.n_samples <> ?""", [points])
    assert partial == []
    orphans = rows(db, "SELECT count(*) FROM raw.activities WHERE source_file NOT IN (SELECT file FROM ingest_log)")
    assert orphans == [(0,)]
    return rows(db, "SELECT count(*) FROM ingest_log")[0][0]


def test_sigkill_mid_ingest_leaves_whole_files_and_rerun_completes(tmp_path: Path) -> None:
    n, points = 80, 3000
    _many_runs(tmp_path / "runs", n, points)
    db = tmp_path / "k.duckdb"
    cmd = [sys.executable, "-m", "pipeline.app.cli", "--db", str(db), "--config", str(_empty_config(tmp_path)),
           "ingest", str(tmp_path / "runs")]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    # wait until the writer has committed something, then kill it without warning
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
        written = sum(p.stat().st_size for p in (db, Path(f"{db}.wal")) if p.exists())
        if written > 2_000_000:
            break
    assert proc.poll() is None, "ingest finished before it could be killed; make the workload larger"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = _assert_whole_files(db, points)
    assert 0 <= done < n
    summary = commands.ingest(db, Config(), [tmp_path / "runs"])
    assert summary.new == n - done and summary.skipped == done
    assert _assert_whole_files(db, points) == n
    assert counts(db)["raw.samples"] == n * points


def test_a_hanging_parse_is_cut_off_and_quarantined(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline import ingest as ingestion
    from pipeline.parsers import gpx

    def hang(data: bytes, name: str, ctx: object) -> None:
        while True:
            time.sleep(0.01)

    monkeypatch.setattr(ingestion, "PARSE_TIMEOUT_S", 0.5)
    monkeypatch.setattr(gpx, "parse", hang)
    (tmp_path / "slow.gpx").write_text(gpx_run(datetime(2026, 5, 4, 5, 0, tzinfo=UTC), points=5))
    db = tmp_path / "h.duckdb"
    t = time.perf_counter()
    summary = commands.ingest(db, BERLIN, [tmp_path / "slow.gpx"], workers=1)
    assert time.perf_counter() - t < 10 and summary.quarantined == 1
    assert rows(db, "SELECT reason FROM ingest_log") == [("parsing took longer than 0.5 s; refused",)]


def test_the_whole_corpus_ingests_without_a_crash(tmp_path: Path) -> None:
    from conftest import CORPUS, corpus_rows

    manifest = corpus_rows()
    if not manifest:
        pytest.skip("shared corpus not present")
    db = tmp_path / "corpus.duckdb"
    summary = commands.ingest(db, BERLIN, [CORPUS])
    status = {Path(f).relative_to(CORPUS).as_posix(): (s, r) for f, s, r in rows(db, "SELECT file, status, reason "
                                                                                    "FROM ingest_log")}
    assert len(status) == len(manifest) and summary.quarantined == sum(s == "quarantined" for s, _ in status.values())
    for row in manifest:
        got, reason = status[row["file"]]
        if row["kind"] == "corrupt":
            assert got == "quarantined" and reason, row["file"]
        elif row["kind"] == "valid":
            # one "valid" GPX (GPSBabel) stamps every point 1901-12-13, its no-time placeholder: an
            # activity that cannot be placed in time is quarantined, saying so
            placeholder = got == "quarantined" and "placeholder" in reason
            assert got in ("loaded", "duplicate") or placeholder, (row["file"], reason)
    # every activity that loaded is whole: its samples are all there
    assert rows(db, """SELECT count(*) FROM raw.activities a WHERE n_samples <>
                       (SELECT count(*) FROM raw.samples s WHERE s.activity_id = a.activity_id)""") == [(0,)]


def test_close_sessions_of_one_log_stay_apart_but_a_reexport_merges(tmp_path: Path) -> None:
    log = ("date,time,exercise,set,reps,weight_kg,set_type,rpe,duration_min,title\n"
           "2026-05-04,07:00,Back Squat,1,5,80,,,15,Lower\n"
           "2026-05-04,07:20,Plank,1,1,0,,,15,Core\n")
    (tmp_path / "a.csv").write_text(log)
    db = tmp_path / "s.duckdb"
    commands.ingest(db, BERLIN, [tmp_path / "a.csv"])
    assert rows(db, "SELECT title FROM strength_sessions ORDER BY start_utc") == [("Lower",), ("Core",)]
    assert rows(db, "SELECT exercise FROM strength_sets ORDER BY exercise") == [("back squat",), ("plank",)]
    # a later export of the same log (new content: one more workout) repeats both: they merge
    (tmp_path / "b.csv").write_text(log + "2026-05-06,07:00,Step Up,1,8,10,,,15,Lower\n")
    commands.ingest(db, BERLIN, [tmp_path / "b.csv"])
    assert rows(db, "SELECT title FROM strength_sessions ORDER BY start_utc") == [("Lower",), ("Core",), ("Lower",)]


def _empty_config(folder: Path) -> Path:
    """A config with every default (athlete "me" in UTC), as the in-process ``Config()``."""
    cfg = folder / "runlift.toml"
    cfg.write_text("# defaults\n")
    return cfg


def test_multi_athlete_inbox(tmp_path: Path) -> None:
    cfg = tmp_path / "runlift.toml"
    cfg.write_text('[[athletes]]\nid = "ana"\ntimezone = "Europe/Berlin"\n'
                   '[[athletes]]\nid = "ben"\ntimezone = "America/New_York"\n[inbox]\npath = "inbox"\n')
    from pipeline.config import load_config

    config = load_config(cfg)
    for folder in ("inbox/ana", "inbox/ben"):
        (tmp_path / folder).mkdir(parents=True)
    t0 = datetime(2026, 5, 4, 5, 0, tzinfo=UTC)
    (tmp_path / "inbox/ana/run.gpx").write_text(gpx_run(t0))
    (tmp_path / "inbox/ben/run.gpx").write_text(gpx_run(t0 + timedelta(days=1)))
    (tmp_path / "inbox/whose.gpx").write_text(gpx_run(t0 + timedelta(days=2)))
    (tmp_path / "inbox/README.txt").write_text("notes")
    db = tmp_path / "m.duckdb"
    summary = commands.ingest(db, config, [tmp_path / "inbox"])
    assert (summary.new, summary.quarantined, summary.unsupported) == (2, 1, 1)
    assert rows(db, "SELECT athlete_id, local_date FROM activities ORDER BY athlete_id") == [
        ("ana", datetime(2026, 5, 4).date()), ("ben", datetime(2026, 5, 5).date())]
    (reason,), = rows(db, "SELECT reason FROM ingest_log WHERE status = 'quarantined'")
    assert reason == "several athletes configured; pass --athlete or use inbox/<athlete-id>/"


def test_a_file_holding_no_activity_is_logged_ignored_with_its_reason(tmp_path, monkeypatch):
    from pipeline import ingest
    from pipeline.parsers.records import NotAnActivity

    def settings_only(data, file, fmt, ctx):
        raise NotAnActivity("device settings file; holds no activity")

    monkeypatch.setattr(ingest, "parse", settings_only)
    (tmp_path / "settings.fit").write_bytes(b"\x0e\x10" + b"\0" * 12)
    db = tmp_path / "x.duckdb"
    summary = commands.ingest(db, BERLIN, [tmp_path / "settings.fit"], refresh_models=False,
                              parse_jobs=ingest.in_processes(1))
    assert (summary.new, summary.quarantined, summary.ignored) == (0, 0, 1)
    assert rows(db, "SELECT status, reason FROM ingest_log") == [
        ("ignored", "device settings file; holds no activity")]
    again = commands.ingest(db, BERLIN, [tmp_path / "settings.fit"], refresh_models=False)
    assert (again.skipped, again.ignored) == (1, 0)


# Every raw row of sample_data + the corpus as `runlift ingest` of main eb9bdb1 (pandas samples
# frames) wrote them: (rows, md5 over the sorted md5s of each row's text, paths made relative,
# ingested_at left out). Doubles print as their shortest round-trip text, so a changed bit, a
# NaN for a NULL or -0.0 for 0.0 changes the fingerprint. A deliberate change to what ingest
# stores updates these, saying why.
MAIN_RAW_FINGERPRINTS = {
    "ingest_log": (126, "17be6acbe78cbc93456585603be5f9b9"),
    "raw.activities": (122, "5d1e6772d1417315ce09c7fd91dee5ad"),
    "raw.samples": (324448, "f03d97323c88c5629333e75f2d7e271c"),
    "raw.laps": (808, "ff51d4f1544f2fbc67a1d0d87bf883f9"),
    "raw.strength_sessions": (238, "388f8672a585849341c42b21b88788ca"),
    "raw.strength_sets": (4364, "9efbc46d0b14d75082d227e9161f688e"),
}


def test_raw_rows_of_sample_data_and_corpus_are_the_ones_main_wrote(tmp_path: Path) -> None:
    import shutil

    from conftest import CORPUS

    if not CORPUS.is_dir():
        pytest.skip("shared corpus not present")
    for folder in ("runs", "strength", "corrupt"):
        shutil.copytree(SAMPLE / folder, tmp_path / "in" / folder)
    shutil.copytree(CORPUS, tmp_path / "in" / "corpus")
    shutil.copy(SAMPLE / "runlift.toml", tmp_path / "runlift.toml")
    db = tmp_path / "runlift.duckdb"
    done = subprocess.run([str(Path(sys.executable).parent / "runlift"), "--db", str(db), "ingest", "in/runs",
                           "in/strength", "in/corrupt", "in/corpus"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    con = duckdb.connect(str(db), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        got = {}
        for table in MAIN_RAW_FINGERPRINTS:
            columns = "* EXCLUDE (ingested_at)" if table == "ingest_log" else "*"
            got[table] = con.execute(
                f"SELECT count(*), md5(string_agg(h, '' ORDER BY h)) FROM (SELECT md5(replace(CAST(t AS VARCHAR), "
                f"?, '')) AS h FROM (SELECT {columns} FROM {table}) t)", [f"{tmp_path.resolve()}/"]).fetchone()
    finally:
        con.close()
    assert got == MAIN_RAW_FINGERPRINTS
