"""Contention with analysts, the published analyst catalog, no process left behind by a killed ingest,
and (slow) SIGKILL trials of ingest and build."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from gpxgen import gpx_run

from pipeline import commands
from pipeline.analyst import catalog_path
from pipeline.config import Config, load_config
from pipeline.db import DatabaseBusyError

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
SAMPLE_CONFIG = load_config(SAMPLE / "runlift.toml")
AS_OF = "2026-10-26"


def _hold_open(db: Path) -> subprocess.Popen:
    """Another process (an analyst's notebook) holding the DB open read-only."""
    code = ("import duckdb,sys,time; c=duckdb.connect(sys.argv[1], read_only=True); "
            "print('open', flush=True); time.sleep(120)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(db)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "open"
    return proc


def _table_counts(db: Path) -> tuple[int, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT (SELECT count(*) FROM ingest_log), (SELECT count(*) FROM raw.samples)").fetchone()
    finally:
        con.close()


def test_a_reader_in_another_process_makes_writers_wait_then_fail_clearly(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "c.duckdb"
    run = tmp_path / "run.gpx"
    run.write_text(gpx_run(datetime(2026, 5, 4, 6, 0, tzinfo=UTC)))
    commands.ingest(db, Config(), [run])
    before = _table_counts(db)
    (tmp_path / "new.gpx").write_text(gpx_run(datetime(2026, 5, 5, 6, 0, tzinfo=UTC)))
    monkeypatch.setattr(commands, "LOCK_WAIT_S", 1.5)
    analyst = _hold_open(db)
    try:
        t = time.perf_counter()
        with pytest.raises(DatabaseBusyError, match="locked by another process"):
            commands.ingest(db, Config(), [tmp_path / "new.gpx"])
        assert 1.4 < time.perf_counter() - t < 15  # waited with backoff, then gave up
        cli = subprocess.run([sys.executable, "-m", "pipeline.app.cli", "--db", str(db), "build"], cwd=ROOT,
                             capture_output=True, text=True, timeout=120)
        assert cli.returncode == 1 and len(cli.stderr.strip().splitlines()) == 1
        assert "locked by another process" in cli.stderr
    finally:
        analyst.kill()
        analyst.wait()
    assert _table_counts(db) == before  # nothing half-written
    assert commands.ingest(db, Config(), [tmp_path / "new.gpx"]).new == 1  # and it goes through afterwards


def test_build_publishes_a_catalog_analysts_can_hold_open(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    commands.ingest(db, SAMPLE_CONFIG, [SAMPLE / "runs"])
    commands.build(db, SAMPLE_CONFIG, datetime(2026, 10, 26).date())
    snap = catalog_path(db)
    assert snap == tmp_path / "s.analyst.duckdb"
    analyst = _hold_open(snap)
    try:
        # the analyst holds the catalog: ingest and build of the live DB are not blocked
        commands.ingest(db, SAMPLE_CONFIG, [SAMPLE / "strength"])
        commands.build(db, SAMPLE_CONFIG, datetime(2026, 10, 26).date())
    finally:
        analyst.kill()
        analyst.wait()
    con = duckdb.connect(str(snap), read_only=True)
    assert con.execute("SELECT count(*) FROM strength_sessions").fetchone()[0] == 19
    assert con.execute("SELECT count(*) FROM flags").fetchone()[0] == 18
    con.close()
    assert not list(tmp_path.glob(".*.tmp")) and not list(tmp_path.glob("**/.*.tmp"))


# --- no process outlives a killed runlift ----------------------------------------------------------

def _marked(marker: str) -> list[tuple[int, str]]:
    """(pid, command line) of every live process whose environment carries ``marker``: the ones a
    runlift started with it inherit it, whoever their parent is now."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if f"RUNLIFT_TEST_MARKER={marker}".encode() in (proc / "environ").read_bytes() and \
                        (proc / "stat").read_text().split(")")[-1].split()[0] != "Z":
                    found.append((int(proc.name), (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()))
            except OSError:  # it ended while we looked
                pass
    return found


def _no_survivors(marker: str, within_s: float = 10) -> None:
    """Every process started with ``marker`` is gone within ``within_s`` (survivors are killed, then
    reported)."""
    deadline = time.monotonic() + within_s
    while (left := _marked(marker)) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid, _ in left:
        os.kill(pid, signal.SIGKILL)
    assert left == [], left


def _marker() -> str:
    return f"{os.getpid()}-{time.monotonic_ns()}"


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")
def test_a_sigkilled_ingest_leaves_no_parse_worker_behind(tmp_path: Path) -> None:
    marker = _marker()
    runlift = [sys.executable, "-m", "pipeline.app.cli", "--db", str(tmp_path / "x.duckdb"),
               "--config", str(SAMPLE / "runlift.toml"), "ingest", str(SAMPLE / "runs")]
    proc = subprocess.Popen(runlift, env=os.environ | {"RUNLIFT_TEST_MARKER": marker}, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        # the forkserver and at least one worker it forked (both run multiprocessing.forkserver's main)
        while sum("multiprocessing.forkserver" in cmd for _, cmd in _marked(marker)) < 2:
            assert proc.poll() is None and time.monotonic() < deadline, "the parse pool never started"
            time.sleep(0.05)
    finally:
        proc.kill()
        proc.wait()
    _no_survivors(marker)


# --- SIGKILL trials (slow) -----------------------------------------------------------------------

def _runs(folder: Path, n: int, points: int) -> Path:
    folder.mkdir()
    t0 = datetime(2025, 1, 1, 6, 0, tzinfo=UTC)
    for i in range(n):
        (folder / f"run{i:03}.gpx").write_text(gpx_run(t0 + timedelta(days=i), points=points))
    return folder


def _kill_after(cmd: list[str], seconds: float) -> bool:
    """Run ``cmd`` and SIGKILL it after ``seconds``; True when it was still running then. Either
    way, no process it started outlives it (a parse worker, the forkserver, a resource tracker)."""
    marker = _marker()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=os.environ | {"RUNLIFT_TEST_MARKER": marker},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        proc.wait(timeout=seconds)
        killed = False
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        killed = True
    _no_survivors(marker)
    return killed


def _whole_files(db: Path) -> tuple[int, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        if not con.execute("SELECT count(*) FROM duckdb_schemas() WHERE schema_name = 'raw'").fetchone()[0]:
            return 0, 0  # killed after creating the file, before the schema's commit: nothing loaded
        partial = con.execute("""
            SELECT count(*) FROM (
                SELECT a.activity_id FROM raw.activities a LEFT JOIN raw.samples s USING (activity_id)
                GROUP BY a.activity_id, a.n_samples HAVING a.n_samples <> count(s.ts_utc))""").fetchone()[0]
        orphans = con.execute("SELECT count(*) FROM raw.activities "
                              "WHERE source_file NOT IN (SELECT file FROM ingest_log)").fetchone()[0]
        assert (partial, orphans) == (0, 0)
        return con.execute("SELECT (SELECT count(*) FROM ingest_log), (SELECT count(*) FROM raw.samples)").fetchone()
    finally:
        con.close()


@pytest.mark.slow
@pytest.mark.timeout(1200)  # 20 trials; "passes on a loaded machine" (load 10 on 2 cores: ~6 min)
def test_sigkill_trials_during_ingest(tmp_path: Path) -> None:
    folder = _runs(tmp_path / "runs", 60, 2000)
    reference = tmp_path / "ref.duckdb"
    commands.ingest(reference, Config(), [folder])
    expected = _whole_files(reference)
    rng = random.Random(20261126)
    outcomes = {"killed mid-run": 0, "finished first": 0}
    for trial in range(20):
        db = tmp_path / f"k{trial}.duckdb"
        cmd = [sys.executable, "-m", "pipeline.app.cli", "--db", str(db), "--config", str(_empty_config(tmp_path)),
               "ingest", str(folder)]
        killed = _kill_after(cmd, rng.uniform(0.3, 6.0))
        outcomes["killed mid-run" if killed else "finished first"] += 1
        if db.exists():
            logged, samples = _whole_files(db)  # opens, holds whole files only
            assert samples == logged * 2000
        commands.ingest(db, Config(), [folder])
        assert _whole_files(db) == expected
    print(f"\ningest kill trials: {outcomes}")
    assert outcomes["killed mid-run"] >= 15


def _flags(db: Path) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT rule, date, message FROM flags ORDER BY ALL").fetchall()
    finally:
        con.close()


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_sigkill_trials_during_build(tmp_path: Path) -> None:
    base = tmp_path / "base.duckdb"
    commands.ingest(base, SAMPLE_CONFIG, [SAMPLE])
    commands.build(base, SAMPLE_CONFIG, datetime(2026, 9, 14).date())  # an earlier build: fewer flags
    previous = _flags(base)
    commands.build(base, SAMPLE_CONFIG, datetime(2026, 10, 26).date())
    final = _flags(base)
    commands.build(base, SAMPLE_CONFIG, datetime(2026, 9, 14).date())
    assert previous != final
    rng = random.Random(7)
    outcomes = {"killed mid-run": 0, "finished first": 0}
    for trial in range(20):
        db = tmp_path / f"b{trial}.duckdb"
        db.write_bytes(base.read_bytes())
        cmd = [sys.executable, "-m", "pipeline.app.cli", "--db", str(db), "--config", str(SAMPLE / "runlift.toml"),
               "build", "--as-of", AS_OF]
        killed = _kill_after(cmd, rng.uniform(0.2, 2.5))
        outcomes["killed mid-run" if killed else "finished first"] += 1
        # the previous build's results stay until a new build completes
        assert _flags(db) in (previous, final)
        if killed:
            commands.build(db, SAMPLE_CONFIG, datetime(2026, 10, 26).date())
        assert _flags(db) == final
    print(f"\nbuild kill trials: {outcomes}")
    assert outcomes["killed mid-run"] >= 10


def _empty_config(folder: Path) -> Path:
    """A config with every default (athlete "me" in UTC), as the in-process ``Config()``."""
    cfg = folder / "runlift.toml"
    cfg.write_text("# defaults\n")
    return cfg


def test_a_v1_database_is_migrated_to_the_v2_names(tmp_path: Path) -> None:
    """Contract v2 renamed ``ingest_log.at`` (an SQL reserved word): an old DB keeps its rows."""
    db = tmp_path / "v1.duckdb"
    con = duckdb.connect(str(db))
    con.execute('CREATE TABLE ingest_log (file VARCHAR NOT NULL, sha256 VARCHAR NOT NULL, format VARCHAR, '
                'status VARCHAR NOT NULL, reason VARCHAR, "at" TIMESTAMPTZ NOT NULL, athlete_id VARCHAR, '
                'activities INTEGER, sessions INTEGER)')
    con.execute("INSERT INTO ingest_log VALUES ('a.fit', 'abc', 'fit', 'loaded', NULL, "
                "TIMESTAMPTZ '2026-09-01 10:00:00+00', 'me', 1, 0)")
    con.close()
    commands.init_db(db, Config())
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT file, ingested_at FROM ingest_log").fetchall() == [
            ("a.fit", datetime(2026, 9, 1, 10, tzinfo=UTC))]
    finally:
        con.close()
