"""Ingest against a hostile filesystem: files rewritten or copied in while ingest runs, a parser
that crashes, names that are not UTF-8, huge files, zip bombs, links, FIFOs, unreadable files,
malformed zips, paths spelled two ways, --retry-quarantined and Ctrl-C (issue 12)."""

from __future__ import annotations

import os
import signal
import stat
import struct
import threading
import time
import tracemalloc
import zipfile
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from multiprocessing import forkserver
from pathlib import Path

import duckdb
import pytest
from gpxgen import gpx_run

from pipeline import commands, ingest, sources, writer
from pipeline.config import Config
from pipeline.errors import IngestInterrupted
from pipeline.orphans import children
from pipeline.parsers.records import QuarantineError

T0 = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)
LATER = " (not logged; tried again next run)"


def _gpx(day: int, points: int = 30) -> str:
    return gpx_run(T0 + timedelta(days=day), points=points)


def _runs(folder: Path, n: int, first_day: int = 0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = [folder / f"run{first_day + i:02d}.gpx" for i in range(n)]
    for i, f in enumerate(files):
        f.write_text(_gpx(first_day + i))
    return files


def _log(db: Path) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT file, status, reason FROM ingest_log ORDER BY file").fetchall()
    finally:
        con.close()


def _in_process(jobs: Iterator[ingest.Job]) -> Iterator[ingest.Parsed]:
    return ingest.in_processes(1)(jobs)


def _ingest(db: Path, paths: list[Path], parse_jobs: ingest.ParseJobs = _in_process,
            on_item: ingest.OnItem | None = None) -> ingest.Summary:
    return commands.ingest(db, Config(), paths, parse_jobs=parse_jobs, on_item=on_item, refresh_models=False)


# --- 1, 2: hash what is parsed; files settle before they are read ----------------------------------

def test_a_file_rewritten_while_ingest_runs_is_tried_again_not_quarantined(tmp_path: Path) -> None:
    run = tmp_path / "run.gpx"
    run.write_text(_gpx(0))

    def rewritten_under_the_worker(jobs: Iterator[ingest.Job]) -> Iterator[ingest.Parsed]:
        for job in jobs:  # truncated by whatever rewrites it, after the planner hashed it
            run.write_bytes(b"")
            yield from ingest.parse_batch([job])

    db = tmp_path / "r.duckdb"
    summary = _ingest(db, [run], parse_jobs=rewritten_under_the_worker)
    assert (summary.new, summary.skipped, summary.quarantined) == (0, 1, 0)
    assert summary.quarantine_reasons == [(str(run), "the file changed while it was read (still being written?)"
                                           + LATER)]
    assert _log(db) == []
    run.write_text(_gpx(0))  # the writer finished
    assert _ingest(db, [run]).new == 1


def test_a_file_still_being_copied_in_is_tried_again(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    first, copying = _runs(inbox, 2)
    db = tmp_path / "c.duckdb"
    _ingest(db, [first])
    content = copying.read_bytes()
    copying.write_bytes(content[: len(content) // 2])

    def copy_goes_on(file: str, status: str) -> None:  # after the walk's stat, before the read
        if file == str(first):
            copying.write_bytes(content)

    summary = _ingest(db, [inbox], on_item=copy_goes_on)
    assert (summary.new, summary.skipped) == (0, 2)
    assert summary.quarantine_reasons == [(str(copying), "the file changed while it was read (still being written?)"
                                           + LATER)]
    assert _ingest(db, [inbox]).new == 1


def test_a_quarantined_file_that_later_loads_is_no_longer_quarantined(tmp_path: Path) -> None:
    run = tmp_path / "run.gpx"
    run.write_bytes(b"")
    db = tmp_path / "q.duckdb"
    assert _ingest(db, [run]).quarantined == 1
    run.write_text(_gpx(0))
    assert _ingest(db, [run]).new == 1
    assert _log(db) == [(str(run), "loaded", None)]


# --- 3: a parser that crashes --------------------------------------------------------------------

def crash_on_marker(jobs: list[ingest.Job]) -> list[ingest.Parsed]:
    """A parse batch whose parser dies in C on ``crash.gpx`` (as a GPX of 200,000 nested elements
    did); module level: the pool's workers import it by name."""
    if any(job.file.endswith("crash.gpx") for job in jobs):
        os.kill(os.getpid(), signal.SIGSEGV)
    return ingest.parse_batch(jobs)


def _forkserver_children() -> list[int]:
    """The parse workers still alive (or not yet reaped) under the forkserver, after a short grace."""
    pid = forkserver._forkserver._forkserver_pid  # type: ignore[attr-defined]
    if pid is None:
        return []
    deadline = time.monotonic() + 3
    while (left := children(pid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_a_parser_crash_quarantines_its_file_and_the_rest_loads(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    _runs(inbox, 2)  # with the crashing one, enough for a pool
    (inbox / "crash.gpx").write_text(_gpx(9))
    db = tmp_path / "x.duckdb"
    summary = _ingest(db, [inbox], parse_jobs=ingest.in_processes(2, parse=crash_on_marker))
    assert (summary.new, summary.quarantined) == (2, 1)
    assert summary.quarantine_reasons == [(str(inbox / "crash.gpx"), "the parser crashed (signal 11); refused")]
    assert _forkserver_children() == []
    again = _ingest(db, [inbox], parse_jobs=ingest.in_processes(2, parse=crash_on_marker))
    assert (again.new, again.skipped, again.quarantined) == (0, 3, 0)  # the crash is known: not parsed again


# --- 4: a file name that is not UTF-8 --------------------------------------------------------------

def test_a_file_name_that_is_not_utf8_is_logged_and_known_next_run(tmp_path: Path) -> None:
    run = tmp_path / os.fsdecode(b"caf\xe9.gpx")  # Latin-1 on a UTF-8 system: a surrogate in the str
    run.write_text(_gpx(0))
    db = tmp_path / "u.duckdb"
    assert _ingest(db, [tmp_path]).new == 1
    assert _log(db) == [(f"{tmp_path}/caf\\xe9.gpx", "loaded", None)]
    again = _ingest(db, [tmp_path])
    assert (again.new, again.skipped, again.duplicate) == (0, 1, 0)


# --- 5: size caps, zip bombs, known archives -------------------------------------------------------

def test_an_oversized_plain_file_is_refused_from_its_stat(tmp_path: Path) -> None:
    big = tmp_path / "one-line.gpx"
    with big.open("wb") as fh:  # sparse: 200 MB by its stat, nothing on disk
        fh.write(b'<?xml version="1.0"?><gpx version="1.1" creator="x"><trk><trkseg>')
        fh.truncate(200_000_000)
    db = tmp_path / "b.duckdb"
    tracemalloc.start()
    summary = _ingest(db, [big])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert summary.quarantined == 1
    assert _log(db) == [(str(big), "quarantined",
                         "the file is 200,000,000 bytes, over the 64 MiB limit for GPX files; refused")]
    assert peak < 20 << 20  # never read whole


def _overlapping_bomb(path: Path, members: int, kernel_bytes: int) -> None:
    """Fifield-style: one compressed kernel, ``members`` directory entries all pointing at it."""
    name = b"run.gpx"
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    kernel = comp.compress(b"\0" * kernel_bytes) + comp.flush()
    crc = zlib.crc32(b"\0" * kernel_bytes)
    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(kernel), kernel_bytes,
                        len(name), 0) + name + kernel
    central = b"".join(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(kernel),
                                   kernel_bytes, len(name), 0, 0, 0, 0, 0, 0) + name for _ in range(members))
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, members, members, len(central), len(local), 0)
    path.write_bytes(local + central + end)


def test_an_overlapping_zip_bomb_is_refused_unread_and_known_from_a_stat(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = tmp_path / "inbox" / "export.zip"
    bomb.parent.mkdir()
    _overlapping_bomb(bomb, members=200, kernel_bytes=16 << 20)  # 3.2 GB inflated, 16 kB on disk
    assert bomb.stat().st_size < 64 * 1024
    db = tmp_path / "z.duckdb"
    tracemalloc.start()
    summary = _ingest(db, [bomb.parent])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert summary.quarantined == 1
    assert _log(db) == [(str(bomb), "quarantined", "200 archive members overlap each other; "
                                                    "refused as a possible zip bomb")]
    assert peak < 8 << 20  # not one member inflated

    def no_reading(*args: object, **kwargs: object) -> None:
        raise AssertionError("a known archive was opened again")

    monkeypatch.setattr(sources.zipfile, "ZipFile", no_reading)
    for touch in (False, True):  # unchanged: known from a stat; touched: from its sha256
        if touch:
            os.utime(bomb, ns=(time.time_ns(), time.time_ns()))
        t = time.perf_counter()
        again = _ingest(db, [bomb.parent])
        assert time.perf_counter() - t < 2
        assert (again.skipped, again.quarantined, again.new) == (1, 0, 0)


def test_a_known_archive_is_read_again_once_ingest_log_is_cleared(tmp_path: Path) -> None:
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.gpx", _gpx(0))
        zf.writestr("notes.txt", "not an activity")
    db = tmp_path / "k.duckdb"
    assert _ingest(db, [archive]).new == 1
    again = _ingest(db, [archive])
    assert (again.skipped, again.unsupported, again.new) == (1, 1, 0)
    con = duckdb.connect(str(db))
    for table in ("ingest_log", "raw.samples", "raw.laps", "raw.activities"):  # started over
        con.execute(f"DELETE FROM {table}")
    con.close()
    assert _ingest(db, [archive]).new == 1


@pytest.mark.parametrize(("members", "reasons"), [
    # three members of 600 kB under a 1 MiB archive total: the first is read, the others refused
    ([("a.gpx", 600_000), ("b.gpx", 600_000), ("c.gpx", 600_000)],
     dict.fromkeys(("b.gpx", "c.gpx"), "cannot read archive member: the archive decompresses to more than "
                                       "1 MiB in total; refused as a possible zip bomb")),
    # 8 MiB of zeros deflate to 8 kB: over 200 times
    ([("a.gpx", 8 << 20)],
     {"a.gpx": "cannot read archive member: decompresses to more than 200 times its compressed size; "
               "refused as a possible zip bomb"}),
])
def test_an_archive_is_capped_in_total_and_by_compression_ratio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                members: list[tuple[str, int]],
                                                                reasons: dict[str, str]) -> None:
    monkeypatch.setattr(sources, "MAX_ARCHIVE_BYTES", 1 << 20, raising=False)
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, size in members:
            zf.writestr(name, b"<gpx>" + b"\0" * size)
    items = {i.file.rsplit("!", 1)[1]: i.reason for i in sources.items_from_paths([archive])}
    assert {name: reason for name, reason in items.items() if reason and "zip bomb" in reason} == reasons


# --- 6, 7: links and special files ---------------------------------------------------------------

def test_symbolic_links_in_a_folder_walk_are_not_followed(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    (run,) = _runs(inbox, 1)
    (inbox / "passwd").symlink_to("/etc/passwd")
    (inbox / "elsewhere").symlink_to(tmp_path, target_is_directory=True)
    db = tmp_path / "l.duckdb"
    summary = _ingest(db, [inbox])
    assert (summary.new, summary.skipped, summary.quarantined) == (1, 2, 0)
    assert summary.quarantine_reasons == [(str(inbox / "elsewhere"), "symbolic link; not followed"),
                                          (str(inbox / "passwd"), "symbolic link; not followed")]
    assert _log(db) == [(str(run), "loaded", None)]


def test_a_fifo_is_refused_without_opening_it(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    (run,) = _runs(inbox, 1)
    fifo = inbox / "pipe.gpx"
    os.mkfifo(fifo)
    db = tmp_path / "f.duckdb"
    _ingest(db, [run])  # the DB exists before the clock starts
    result: list[ingest.Summary] = []
    worker = threading.Thread(target=lambda: result.append(
        _ingest(db, [inbox, fifo])), daemon=True)
    worker.start()
    worker.join(30)
    if worker.is_alive():  # blocked in open(): unblock it before failing
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("ingest blocked on a FIFO")
    (summary,) = result
    assert (summary.skipped, summary.quarantined) == (3, 0)
    assert summary.quarantine_reasons == [(str(fifo), "not a regular file (FIFO); not read")] * 2
    assert stat.S_ISFIFO(fifo.stat().st_mode)


# --- 8: unreadable and vanished files ------------------------------------------------------------

def test_an_unreadable_or_vanished_file_is_skipped_and_the_rest_loads(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    inbox = tmp_path / "inbox"
    known, vanishing, locked, *rest = _runs(inbox, 8)
    db = tmp_path / "v.duckdb"
    _ingest(db, [known])
    if os.geteuid() == 0:  # root reads a chmod 000 file: refuse it the way the kernel would
        real_open = Path.open

        def denied(self: Path, *args: object, **kwargs: object) -> object:
            if self == locked:
                raise PermissionError(13, "Permission denied", str(self))
            return real_open(self, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(Path, "open", denied)
    else:
        locked.chmod(0)

    def vanish(file: str, status: str) -> None:  # between the walk and the open
        if file == str(known):
            vanishing.unlink()

    summary = _ingest(db, [inbox], on_item=vanish)
    assert (summary.new, summary.skipped) == (5, 3)
    assert summary.quarantine_reasons == [
        (str(vanishing), "cannot read the file: No such file or directory" + LATER),
        (str(locked), "cannot read the file: Permission denied" + LATER)]
    assert {f for f, _, _ in _log(db)} == {str(p) for p in (known, *rest)}


# --- 9: malformed zips ------------------------------------------------------------------------------

def _patched_zip(path: Path, members: dict[str, bytes], patch: str) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    raw = bytearray(path.read_bytes())
    if patch == "bad utf-8 name":  # flagged UTF-8 (0x800, set by zipfile for "é"), bytes that are not
        raw = bytearray(bytes(raw).replace("é".encode(), b"\xff\xfe"))
    # (signature, offset of the name length, of the name, of the flags, of the compression method)
    for sig, name_len_at, name_at, flags_at, method_at in ((b"PK\x03\x04", 26, 30, 6, 8),
                                                            (b"PK\x01\x02", 28, 46, 8, 10)):
        at = raw.find(sig)
        while at != -1:
            n = struct.unpack_from("<H", raw, at + name_len_at)[0]
            if raw[at + name_at:at + name_at + n] == b"activities.csv":
                if patch == "deflate64":
                    struct.pack_into("<H", raw, at + method_at, 9)
                elif patch == "encrypted":
                    raw[at + flags_at] |= 0x1
            at = raw.find(sig, at + 4)
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize(("patch", "member", "reason"), [
    ("bad utf-8 name", None, "unreadable zip archive: 'utf-8' codec can't decode byte 0xff in position 14: "
                             "invalid start byte"),
    ("huge field", "activities.csv", "cannot read the archive's activities.csv: field larger than field limit "
                                     "(131072)"),
    ("deflate64", "activities.csv", "cannot read the archive's activities.csv: That compression method is not "
                                    "supported"),
    ("encrypted", "activities.csv", "cannot read the archive's activities.csv: File 'activities.csv' is encrypted, "
                                    "password required for extraction"),
])
def test_a_malformed_zip_is_quarantined_and_the_rest_loads(tmp_path: Path, patch: str, member: str | None,
                                                           reason: str) -> None:
    inbox = tmp_path / "inbox"
    (plain,) = _runs(inbox, 1)
    archive = inbox / "export.zip"
    field = "x" * (140 * 1024) if patch == "huge field" else "Morning Run"
    members = {"activities.csv": f"Filename,Activity Name\nactivities/b.gpx,{field}\n".encode(),
               "activities/b.gpx": _gpx(1).encode()}
    if patch == "bad utf-8 name":
        members = {"activities/runé.gpx": _gpx(1).encode()}
    _patched_zip(archive, members, patch)
    db = tmp_path / "m.duckdb"
    summary = _ingest(db, [inbox])
    bad = str(archive) if member is None else f"{archive}!{member}"
    assert summary.quarantine_reasons == [(bad, reason)]
    loaded = [str(plain)] + ([] if member is None else [f"{archive}!activities/b.gpx"])
    assert [f for f, status, _ in _log(db) if status == "loaded"] == sorted(loaded)


# --- 10: one file however its path is spelled -----------------------------------------------------

def test_the_same_inbox_given_relative_and_absolute_is_the_same_files(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    inbox = tmp_path / "inbox"
    _runs(inbox, 2)
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "p.duckdb"
    assert _ingest(db, [Path("inbox")]).new == 2
    again = _ingest(db, [inbox, Path("./inbox/../inbox/run00.gpx")])
    assert (again.new, again.duplicate, again.skipped) == (0, 0, 3)
    assert [f for f, _, _ in _log(db)] == [str(inbox / "run00.gpx"), str(inbox / "run01.gpx")]


# --- 11: --retry-quarantined -----------------------------------------------------------------------

def test_retry_quarantined_parses_again_and_replaces_the_quarantine_row(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    inbox = tmp_path / "inbox"
    (run,) = _runs(inbox, 1)
    db = tmp_path / "rq.duckdb"
    real_parse = ingest.parse

    def buggy(*args: object) -> object:
        raise QuarantineError("a parser bug")

    monkeypatch.setattr(ingest, "parse", buggy)
    assert _ingest(db, [inbox]).quarantined == 1
    monkeypatch.setattr(ingest, "parse", real_parse)  # the upgrade
    assert _ingest(db, [inbox]).skipped == 1
    monkeypatch.chdir(tmp_path)
    from typer.testing import CliRunner  # (not at the top: the crash test's workers import this module)

    from pipeline.app import cli

    result = CliRunner().invoke(cli.app, ["--db", str(db), "ingest", "inbox", "--retry-quarantined"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "ingest: 1 new, 0 duplicate, 0 skipped, 0 quarantined" in result.output
    assert _log(db) == [(str(run), "loaded", None)]


# --- 12: Ctrl-C --------------------------------------------------------------------------------------

@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_ctrl_c_mid_file_rolls_it_back_stops_the_pool_and_says_what_loaded(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    inbox = tmp_path / "inbox"
    _runs(inbox, 6)
    db = tmp_path / "i.duckdb"
    real_insert = writer._insert
    samples = []

    def interrupted_third(con: duckdb.DuckDBPyConnection, table: str, frame: object) -> None:
        if table == "raw.samples":
            samples.append(table)
            if len(samples) == 3:  # the third file's activity row is in, its transaction open
                raise KeyboardInterrupt
        real_insert(con, table, frame)  # type: ignore[arg-type]

    monkeypatch.setattr(writer, "_insert", interrupted_third)
    monkeypatch.setattr(ingest, "BATCH_FILES", 1)  # a transaction per file (batches: the test below)
    try:
        with pytest.raises(IngestInterrupted, match="^interrupted; 2 files loaded, the rest will load next run$"):
            _ingest(db, [inbox], parse_jobs=ingest.in_processes(2))
    except KeyboardInterrupt:
        pytest.fail("KeyboardInterrupt escaped ingest")
    assert _forkserver_children() == []
    con = duckdb.connect(str(db), read_only=True)
    try:  # the third file rolled back whole
        assert con.execute("SELECT (SELECT count(*) FROM ingest_log), (SELECT count(*) FROM raw.activities)"
                           ).fetchone() == (2, 2)
    finally:
        con.close()
    monkeypatch.setattr(writer, "_insert", real_insert)
    assert _ingest(db, [inbox]).new == 4


def test_the_cli_reports_an_interrupted_ingest_in_one_line_with_exit_130(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from pipeline.app import cli

    def interrupted(*args: object, **kwargs: object) -> None:
        raise IngestInterrupted(3)

    monkeypatch.setattr(commands, "ingest", interrupted)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.argv", ["runlift", "--db", str(tmp_path / "x.duckdb"), "ingest", str(tmp_path)])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    assert exit_.value.code == 130
    assert capsys.readouterr().err == "runlift: interrupted; 3 files loaded, the rest will load next run\n"


def _marked(marker: str) -> list[int]:
    """Live processes whose environment carries ``marker`` (runlift, its forkserver and workers)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                alive = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
                if alive and f"RUNLIFT_TEST_MARKER={marker}".encode() in (proc / "environ").read_bytes():
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")
def test_ctrl_c_on_the_cli_exits_130_in_one_line_and_leaves_no_worker(tmp_path: Path) -> None:
    import subprocess
    import sys

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for i in range(60):
        (inbox / f"run{i:02d}.gpx").write_text(gpx_run(T0 + timedelta(days=i), points=1500))
    marker = f"ctrl-c-{os.getpid()}"
    cmd = [sys.executable, "-m", "pipeline.app.cli", "--db", str(tmp_path / "c.duckdb"), "ingest", str(inbox)]
    proc = subprocess.Popen(cmd, env=os.environ | {"RUNLIFT_TEST_MARKER": marker}, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 60
    while len(_marked(marker)) < 5:  # runlift, its resource tracker, the forkserver, two workers
        assert proc.poll() is None and time.monotonic() < deadline, "the parse pool never started"
        time.sleep(0.05)
    wal = tmp_path / "c.duckdb.wal"
    size = wal.stat().st_size if wal.exists() else 0
    while not (wal.exists() and wal.stat().st_size > size):  # a file committed
        assert proc.poll() is None and time.monotonic() < deadline, "no file loaded"
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole foreground group
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    (line,) = err.strip().splitlines()
    assert line.startswith("runlift: interrupted; ") and line.endswith(" loaded, the rest will load next run")
    deadline = time.monotonic() + 5
    while _marked(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _marked(marker) == []
    loaded = int(line.split("; ")[1].split()[0])
    db = tmp_path / "c.duckdb"
    assert len(_log(db)) == loaded
    assert _ingest(db, [inbox], parse_jobs=ingest.in_processes(2)).new == 60 - loaded


def test_a_parser_bug_is_quarantined_without_quoting_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.parsers import gpx

    def buggy(data: bytes, name: str, ctx: object) -> None:
        raise ValueError(f"could not convert {data[:40]!r}")  # a library message quoting content

    monkeypatch.setattr(gpx, "parse", buggy)
    (tmp_path / "run.gpx").write_text(gpx_run(datetime(2026, 5, 4, 5, 0, tzinfo=UTC), points=5))
    db = tmp_path / "b.duckdb"
    summary = commands.ingest(db, Config(), [tmp_path / "run.gpx"], workers=1, refresh_models=False)
    assert summary.quarantined == 1
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT reason FROM ingest_log").fetchall() == [
            ("parser error (ValueError); please report it with the file",)]
    finally:
        con.close()
