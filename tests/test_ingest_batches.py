"""The writer's batches and the inbox's memory (issue 11): parsed files are written many per
transaction with the rows and log of one file at a time; a batch that cannot be written is
written file by file, so only the bad file is quarantined; an unchanged inbox is not read again.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from bench.fast_archive import shift_fit
from pipeline import commands, ingest, writer
from pipeline.config import Config, load_config, parse_config
from pipeline.errors import IngestInterrupted
from tests.gpxgen import gpx_run

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
T0 = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
TABLES = {  # every raw table ingest writes, in an order that makes rows comparable
    "raw.activities": "activity_id", "raw.samples": "activity_id, ts_utc", "raw.laps": "activity_id, lap_index",
    "raw.strength_sessions": "session_id", "raw.strength_sets": "session_id, set_index",
}


def _runs(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = [folder / f"run{i:02d}.gpx" for i in range(n)]
    for i, f in enumerate(files):
        f.write_text(gpx_run(T0 + timedelta(days=i), points=30))
    return files


def _in_process(jobs: Iterator[ingest.Job]) -> Iterator[ingest.Parsed]:
    return ingest.in_processes(1)(jobs)


def _ingest(db: Path, paths: list[Path], config: Config | None = None,
            parse_jobs: ingest.ParseJobs = _in_process) -> ingest.Summary:
    return commands.ingest(db, config or Config(), paths, parse_jobs=parse_jobs, refresh_models=False)


def _contents(db: Path) -> dict[str, list[tuple[object, ...]]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {t: con.execute(f"SELECT * FROM {t} ORDER BY {order}").fetchall() for t, order in TABLES.items()}
        out["ingest_log"] = con.execute("SELECT * EXCLUDE (ingested_at) FROM ingest_log ORDER BY file").fetchall()
        return out
    finally:
        con.close()


# --- batches: the same rows as one file at a time ---------------------------------------------------

def test_batches_write_exactly_the_rows_and_log_of_one_file_at_a_time(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # the sample data holds every kind of duplicate: a run as FIT and GPX, a watch strength session
    # logged in Strong and Hevy too, and two exports of one log
    config = load_config(SAMPLE / "runlift.toml")
    batched = _ingest(tmp_path / "batched.duckdb", [SAMPLE], config)
    monkeypatch.setattr(ingest, "BATCH_FILES", 1)
    alone = _ingest(tmp_path / "alone.duckdb", [SAMPLE], config)
    assert (batched.new, batched.duplicate, batched.quarantined) == (alone.new, alone.duplicate, alone.quarantined)
    assert batched.duplicate > 0  # the dedup ran inside a batch
    assert _contents(tmp_path / "batched.duckdb") == _contents(tmp_path / "alone.duckdb")


def test_a_batch_that_cannot_be_written_is_written_file_by_file_and_the_bad_file_is_quarantined(
        tmp_path: Path) -> None:
    files = _runs(tmp_path / "inbox", 5)
    bad = str(files[2])

    def one_unwritable(jobs: Iterator[ingest.Job]) -> Iterator[ingest.Parsed]:
        for parsed in ingest.in_processes(1)(jobs):  # a parser bug: a sport the table refuses
            if parsed.job.file == bad and parsed.result is not None:
                parsed.result.activities[0].sport = None  # type: ignore[assignment]
            yield parsed

    db = tmp_path / "b.duckdb"
    summary = _ingest(db, [tmp_path / "inbox"], parse_jobs=one_unwritable)
    assert (summary.new, summary.quarantined) == (4, 1)
    reason = "could not be written to the database (ConstraintException); please report it with the file"
    assert summary.quarantine_reasons == [(bad, reason)]
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT file, status, reason FROM ingest_log ORDER BY file").fetchall() == [
            (str(f), "quarantined", reason) if str(f) == bad else (str(f), "loaded", None) for f in files]
        assert con.execute("SELECT count(*), count(DISTINCT activity_id) FROM raw.activities").fetchone() == (4, 4)
        assert con.execute("SELECT count(DISTINCT activity_id) FROM raw.samples").fetchone() == (4,)
    finally:
        con.close()
    assert _ingest(db, [tmp_path / "inbox"]).skipped == 5  # logged, quarantined one too


def test_ctrl_c_mid_batch_rolls_the_batch_back_and_says_what_loaded(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _runs(tmp_path / "inbox", 6)
    real_insert = writer._insert
    calls = []

    def interrupted_second_batch(con: duckdb.DuckDBPyConnection, table: str, frame: object) -> None:
        if table == "raw.samples":
            calls.append(table)
            if len(calls) == 2:  # the second batch's activities are in, its transaction open
                raise KeyboardInterrupt
        real_insert(con, table, frame)

    monkeypatch.setattr(writer, "_insert", interrupted_second_batch)
    monkeypatch.setattr(ingest, "BATCH_FILES", 4)
    db = tmp_path / "i.duckdb"
    with pytest.raises(IngestInterrupted, match="^interrupted; 4 files loaded, the rest will load next run$"):
        _ingest(db, [tmp_path / "inbox"])
    con = duckdb.connect(str(db), read_only=True)
    try:  # the second batch rolled back whole
        assert con.execute("SELECT (SELECT count(*) FROM ingest_log), (SELECT count(*) FROM raw.activities)"
                           ).fetchone() == (4, 4)
    finally:
        con.close()
    monkeypatch.setattr(writer, "_insert", real_insert)
    assert _ingest(db, [tmp_path / "inbox"]).new == 2


# --- the inbox's memory: an unchanged file is not read again -------------------------------------------

def _no_reading(monkeypatch: pytest.MonkeyPatch, inbox: Path, allowed: frozenset[Path] = frozenset()) -> list[Path]:
    """Make reading any file of ``inbox`` but ``allowed`` fail the test; returns the allowed files read."""
    read: list[Path] = []
    real_open, real_read = Path.open, Path.read_bytes

    def guarded_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        if inbox in self.parents and self not in allowed:
            raise AssertionError(f"{self} was read again")
        read.append(self)
        return real_open(self, *args, **kwargs)

    def guarded_read(self: Path) -> bytes:
        if inbox in self.parents and self not in allowed:
            raise AssertionError(f"{self} was read again")
        read.append(self)
        return real_read(self)

    monkeypatch.setattr(Path, "open", guarded_open)
    monkeypatch.setattr(Path, "read_bytes", guarded_read)
    return read


def test_a_resync_of_an_unchanged_inbox_reads_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inbox = tmp_path / "inbox"
    files = _runs(inbox, 4)
    (inbox / "notes.txt").write_text("not an activity")
    (inbox / "empty.gpx").write_bytes(b"")  # quarantined: known by its stat as well
    db = tmp_path / "r.duckdb"
    first = _ingest(db, [inbox])
    assert (first.new, first.quarantined, first.unsupported) == (4, 1, 1)
    with monkeypatch.context() as m:
        _no_reading(m, inbox)
        again = _ingest(db, [inbox])
    assert (again.new, again.skipped, again.unsupported, again.quarantined) == (0, 5, 1, 0)

    # touched (same bytes): read and hashed once, known; rewritten: read and loaded
    os.utime(files[0], ns=(time.time_ns(), time.time_ns()))
    files[1].write_text(gpx_run(T0 + timedelta(days=40), points=30))
    with monkeypatch.context() as m:
        read = _no_reading(m, inbox, allowed=frozenset({files[0], files[1]}))
        changed = _ingest(db, [inbox])
    assert (changed.new, changed.skipped) == (1, 4)
    assert {p for p in read if inbox in p.parents} == {files[0], files[1]}
    with monkeypatch.context() as m:
        _no_reading(m, inbox)
        assert _ingest(db, [inbox]).skipped == 5


def test_a_remembered_file_is_read_again_once_its_log_row_is_gone(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    _runs(inbox, 2)
    db = tmp_path / "g.duckdb"
    assert _ingest(db, [inbox]).new == 2
    con = duckdb.connect(str(db))
    for table in ("ingest_log", "raw.samples", "raw.laps", "raw.activities"):  # started over
        con.execute(f"DELETE FROM {table}")
    con.close()
    assert _ingest(db, [inbox]).new == 2


def test_a_file_remembered_for_one_athlete_is_read_for_another(tmp_path: Path) -> None:
    config = parse_config({"athletes": [{"id": "ana", "timezone": "UTC"}, {"id": "ben", "timezone": "UTC"}]})
    inbox = tmp_path / "inbox"
    _runs(inbox, 1)
    db = tmp_path / "a.duckdb"
    assert commands.ingest(db, config, [inbox], athlete="ana", parse_jobs=_in_process, refresh_models=False).new == 1
    assert commands.ingest(db, config, [inbox], athlete="ben", parse_jobs=_in_process, refresh_models=False).new == 1
    assert commands.ingest(db, config, [inbox], athlete="ben", parse_jobs=_in_process,
                           refresh_models=False).skipped == 1


# --- bounded memory --------------------------------------------------------------------------------

def test_ingest_memory_does_not_grow_with_the_files_ingested(tmp_path: Path) -> None:
    """Peak RSS of whole ingest processes (parsing in process too): 80 one-hour FIT runs cost
    what 20 do, within 40 MB (a frame per file kept, or a table read back, would cost ~0.3 MB a file)."""
    runs = sorted((SAMPLE / "runs").glob("*.fit"))

    def peak(n: int) -> float:
        inbox = tmp_path / f"in{n}"
        inbox.mkdir()
        for i in range(n):  # distinct runs: the sample runs moved by whole multiples of their span
            copy, run = divmod(i, len(runs))
            (inbox / f"run{i:03d}.fit").write_bytes(shift_fit(runs[run].read_bytes(), (copy + 1) * 100 * 86_400))
        code = ("import resource, sys; from pathlib import Path; from pipeline import commands; "
                "from pipeline.config import Config; from pipeline.ingest import in_processes; "
                "commands.ingest(Path(sys.argv[1]), Config(), [Path(sys.argv[2])], "
                "parse_jobs=in_processes(1), refresh_models=False); "
                "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
        out = subprocess.run([sys.executable, "-c", code, str(tmp_path / f"m{n}.duckdb"), str(inbox)],
                             capture_output=True, text=True, check=True, cwd=ROOT)
        shutil.rmtree(inbox)
        return int(out.stdout.split()[-1]) / 1024

    small, large = peak(20), peak(80)
    assert large < small + 40, (small, large)


def test_the_pool_holds_at_most_its_input_bytes_in_flight_and_writes_the_same_rows(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Parsed frames wait in runlift until written: the pool takes a job only while the pending
    jobs' input is under ``MAX_IN_FLIGHT_BYTES`` (here two files' worth), however many per worker."""
    files = _runs(tmp_path / "runs", 8)
    size = max(f.stat().st_size for f in files)
    monkeypatch.setattr(ingest, "MAX_IN_FLIGHT_BYTES", 2 * size + 1)
    pulled = yielded = most = 0

    def counted(jobs: Iterator[ingest.Job]) -> Iterator[ingest.Parsed]:
        nonlocal yielded, most

        def pull() -> Iterator[ingest.Job]:
            nonlocal pulled
            for job in jobs:
                pulled += 1
                yield job

        for parsed in ingest.in_processes(2)(pull()):
            most = max(most, pulled - yielded)
            yielded += 1
            yield parsed

    pooled = _ingest(tmp_path / "pool.duckdb", [tmp_path / "runs"], parse_jobs=counted)
    alone = _ingest(tmp_path / "alone.duckdb", [tmp_path / "runs"])
    assert (pooled.new, alone.new) == (8, 8)
    assert most == 3  # the third job's bytes reach the cap: its first result is taken before a fourth
    assert _contents(tmp_path / "pool.duckdb") == _contents(tmp_path / "alone.duckdb")


def _hour_runs(first_day: int, n: int) -> list[writer.ToLoad]:
    """``n`` one-hour 1 Hz runs on consecutive days, as a FIT parser hands them to the writer."""
    import numpy as np

    from pipeline.parsers.records import Activity, ParseResult, samples_table_from_arrays
    from pipeline.sources import SourceFile

    rng = np.random.default_rng(first_day)
    out = []
    for day in range(first_day, first_day + n):
        start = T0 + timedelta(days=day)
        seconds = int(start.timestamp()) + np.arange(3600)
        samples = samples_table_from_arrays(seconds, {
            "heart_rate": 140 + rng.integers(-5, 6, 3600).astype(float),
            "distance_m": np.cumsum(rng.uniform(2.5, 3.5, 3600)),
            "lat": 52.5 + np.cumsum(rng.normal(0, 1e-5, 3600)), "lon": 13.4 + np.cumsum(rng.normal(0, 1e-5, 3600))})
        run = Activity("running", None, None, start, start + timedelta(hours=1), 3600.0, 3600.0, 10_000.0, 140.0,
                       150.0, samples)
        source = SourceFile(f"/runs/{day}.fit", f"{day:064x}", "fit", "me")
        out.append(writer.ToLoad(source, ParseResult("fit", [run])))
    return out


def test_batches_of_hour_runs_leave_no_free_blocks_in_the_db_file(tmp_path: Path) -> None:
    """A batch of one-activity record batches made DuckDB write raw.samples twice (underfull row
    groups before the commit, folded into full ones at the checkpoint): the first copy stayed in
    the file as free blocks, 40 % of a ten-year ingest's file. Written in row-group batches, it
    is written once."""
    from pipeline.db import open_for_write

    db = tmp_path / "runlift.duckdb"
    con = open_for_write(db, parse_config({"athlete": {"id": "me"}}))
    try:
        for first in (0, 64, 128):  # BATCH_FILES runs a batch: 230,400 samples, ~1.9 row groups
            assert {o.status for o in writer.load_batch(con, _hour_runs(first, 64))} == {"loaded"}
    finally:
        con.close()  # the checkpoint that folded the underfull row groups
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM raw.samples").fetchone() == (3 * 64 * 3600,)
        used, free = con.execute("SELECT used_blocks, free_blocks FROM pragma_database_size()").fetchone()
    finally:
        con.close()
    assert free <= used // 20, (used, free)
