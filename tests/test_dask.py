"""`[engine] task_runner = "dask"` on a real distributed.LocalCluster: the same rows as the process pool.

One cluster (2 single-threaded worker processes) serves the module, through ``dask_address``;
one test lets runlift start (and close) its own local cluster, one runs the Prefect flow on
Prefect's DaskTaskRunner."""

from __future__ import annotations

import gc
import os
import shutil
import signal
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import psutil
import pytest
from conftest import CORPUS
from distributed import WorkerPlugin

from pipeline import commands
from pipeline.config import Config, Engine, load_config
from pipeline.dask_parse import CRASHED, in_dask, local_cluster

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
CONFIG = load_config(SAMPLE / "runlift.toml")
NOT_COMPARED = {"ingested_at"}  # when a file was written, not what


def dask_config(address: str = "") -> Config:
    return CONFIG.model_copy(update={"engine": Engine(task_runner="dask", dask_address=address)})


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with local_cluster(2) as c:
        yield c


def rows(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every raw table and ingest_log, sorted, without write timestamps."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [f"raw.{t}" for (t,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw' "
            "AND table_type = 'BASE TABLE' ORDER BY 1").fetchall()] + ["ingest_log", "internal.known_archives"]
        out = {}
        for table in tables:
            schema, _, name = table.rpartition(".")
            cols = [c for (c,) in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
                "ORDER BY ordinal_position", [schema or "main", name]).fetchall() if c not in NOT_COMPARED]
            out[table] = sorted(con.execute(f"SELECT {', '.join(cols)} FROM {table}").fetchall(), key=repr)
        return out
    finally:
        con.close()


_processes_rows: dict[str, dict[str, list[tuple[Any, ...]]]] = {}


def processes_rows(tmp_path_factory: pytest.TempPathFactory, path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """The process pool's rows for ``path`` (computed once per module)."""
    if str(path) not in _processes_rows:
        db = tmp_path_factory.mktemp("processes") / "p.duckdb"
        commands.ingest(db, CONFIG, [path], workers=2, refresh_models=False)
        _processes_rows[str(path)] = rows(db)
    return _processes_rows[str(path)]


def children() -> list[psutil.Process]:
    """This process's children, but multiprocessing's resource tracker (one per process, for good)."""
    return [p for p in psutil.Process(os.getpid()).children(recursive=True)
            if "resource_tracker" not in " ".join(p.cmdline())]


def test_sample_data_same_rows_as_processes(cluster: Any, tmp_path: Path,
                                            tmp_path_factory: pytest.TempPathFactory) -> None:
    db = tmp_path / "d.duckdb"
    summary = commands.ingest(db, dask_config(cluster.scheduler_address), [SAMPLE], refresh_models=False)
    assert (summary.new, summary.duplicate, summary.quarantined) == (52, 1, 1)
    got, want = rows(db), processes_rows(tmp_path_factory, SAMPLE)
    assert got == want
    assert len(got["raw.samples"]) > 10_000 and len(got["ingest_log"]) == 54


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")
def test_corpus_same_rows_as_processes(cluster: Any, tmp_path: Path,
                                       tmp_path_factory: pytest.TempPathFactory) -> None:
    db = tmp_path / "c.duckdb"
    summary = commands.ingest(db, dask_config(cluster.scheduler_address), [CORPUS], refresh_models=False)
    got, want = rows(db), processes_rows(tmp_path_factory, CORPUS)
    assert got == want
    assert summary.new > 20 and summary.quarantined > 0  # the corpus holds hostile files too
    assert len(got["ingest_log"]) == summary.new + summary.duplicate + summary.quarantined + summary.ignored


class NoDiskUnder(WorkerPlugin):
    """A worker plugin: the workers cannot read files under ``folder`` (they have no shared disk)."""

    name = "runlift-no-disk"

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def setup(self, worker: Any) -> None:
        self.real, folder = Path.read_bytes, self.folder

        def read_bytes(path: Path) -> bytes:
            if str(path).startswith(folder):
                raise PermissionError(13, "not on this machine", str(path))
            return self.real(path)

        Path.read_bytes = read_bytes  # type: ignore[method-assign]

    def teardown(self, worker: Any) -> None:
        Path.read_bytes = self.real  # type: ignore[method-assign]


def test_files_travel_as_bytes(cluster: Any, tmp_path: Path) -> None:
    """Workers that cannot see runlift's disk parse every file: the bytes travel in the tasks."""
    from distributed import Client

    inbox = tmp_path / "inbox"
    shutil.copytree(SAMPLE / "runs", inbox)
    with Client(cluster.scheduler_address, set_as_default=False) as client:
        client.register_plugin(NoDiskUnder(str(tmp_path)))
        try:
            summary = commands.ingest(tmp_path / "b.duckdb", dask_config(cluster.scheduler_address), [inbox],
                                      refresh_models=False)
        finally:
            client.unregister_worker_plugin(NoDiskUnder.name)
    assert (summary.new, summary.duplicate, summary.skipped, summary.quarantined) == (48, 1, 0, 0)


class CrashOn(WorkerPlugin):
    """A worker plugin: every worker (the restarted ones too) SIGSEGVs on the file called ``name``."""

    name = "runlift-crash-on"

    def __init__(self, file: str) -> None:
        self.file = file

    def setup(self, worker: Any) -> None:
        import pipeline.ingest as ingest

        real, file = ingest.parse_job, self.file

        def parse_job(job: ingest.Job) -> ingest.Parsed:
            if job.file.endswith(file):
                os.kill(os.getpid(), signal.SIGSEGV)
            return real(job)

        self.real, ingest.parse_job = real, parse_job

    def teardown(self, worker: Any) -> None:
        import pipeline.ingest as ingest

        ingest.parse_job = self.real


def test_a_crashing_parser_quarantines_its_file_only(cluster: Any, tmp_path: Path,
                                                     tmp_path_factory: pytest.TempPathFactory) -> None:
    from distributed import Client

    culprit = "2026-09-08_1830_intervals.fit"
    with Client(cluster.scheduler_address, set_as_default=False) as client:
        client.register_plugin(CrashOn(culprit))
        try:
            summary = commands.ingest(tmp_path / "x.duckdb", dask_config(cluster.scheduler_address),
                                      [SAMPLE / "runs"], refresh_models=False)
        finally:
            client.unregister_worker_plugin(CrashOn.name)
        client.wait_for_workers(2, timeout=60)  # the nannies restarted the killed ones
    assert (summary.new, summary.duplicate, summary.quarantined) == (47, 1, 1)  # 49 files, one a copy
    assert summary.quarantine_reasons == [(str(SAMPLE / "runs" / culprit), CRASHED)]
    want = processes_rows(tmp_path_factory, SAMPLE / "runs")["raw.activities"]
    got = rows(tmp_path / "x.duckdb")["raw.activities"]
    assert len(got) == len(want) - 1 and set(got) < set(want)


def test_own_local_cluster_is_closed_after_the_command(tmp_path: Path) -> None:
    """Empty ``dask_address``: runlift starts a local cluster for the command and closes it,
    on success and when the writer fails half way."""
    jobs = _jobs(tmp_path)
    before = {p.pid for p in children()}
    summary = commands.ingest(tmp_path / "l.duckdb", dask_config(), [SAMPLE / "strength"], refresh_models=False)
    assert summary.new == 4
    assert {p.pid for p in children()} - before == set()

    parse = in_dask("", 2)(iter(jobs))
    next(parse)
    assert {p.pid for p in children()} - before  # the cluster is up
    parse.close()  # the writer stopped (an error, Ctrl-C): the generator closes the cluster
    psutil.wait_procs([p for p in children() if p.pid not in before], timeout=30)
    assert {p.pid for p in children()} - before == set()


def _jobs(tmp_path: Path, folder: Path = SAMPLE / "runs") -> list[Any]:
    from pipeline.db import open_for_write
    from pipeline.ingest import Job, Planner

    con = open_for_write(tmp_path / "plan.duckdb", CONFIG)
    try:
        planner = Planner(con, CONFIG, None)
        return [d for item in planner.items([folder]) if isinstance(d := planner.decide(item), Job)]
    finally:
        con.close()


def test_files_in_flight_are_capped_in_bytes(cluster: Any, tmp_path: Path) -> None:
    """However many batches may be pending, no more than ``max_bytes`` of files are (plus the one
    that crosses it), and every file comes back, in order, parsed as the process pool parses it."""
    from distributed import Client

    from pipeline.dask_parse import parse_on, parse_shipped
    from pipeline.ingest import parse_batch

    jobs = _jobs(tmp_path)
    cap, biggest = 200_000, max(j.size for j in jobs)
    assert sum(j.size for j in jobs[:16]) > 3 * cap  # the count alone (16) would let far more fly
    sent: list[int] = []  # bytes submitted, when each batch is
    taken = 0
    in_flight: list[int] = []
    with Client(cluster.scheduler_address, set_as_default=False) as client:
        def submit(batch: list[Any]) -> Any:
            sent.append(sum(j.size for j in batch))
            in_flight.append(sum(sent) - taken)
            return client.submit(parse_shipped, batch, pure=False)

        out = []
        for parsed in parse_on(submit, iter(jobs), 1, 16, max_bytes=cap):
            taken += parsed.job.size
            out.append(parsed)
    assert max(in_flight) <= cap + biggest
    assert max(in_flight) > biggest  # still more than one file at a time
    assert [p.job.file for p in out] == [j.file for j in jobs]
    want = parse_batch(jobs)
    assert [(p.reason, p.result is None) for p in out] == [(p.reason, p.result is None) for p in want]
    assert [len(a.samples) for p in out if p.result for a in p.result.activities] == \
        [len(a.samples) for p in want if p.result for a in p.result.activities]


def test_no_copy_of_the_files_sent_stays_in_runlift(cluster: Any, tmp_path: Path) -> None:
    """What runlift's process holds of a Dask parse follows the work in flight, not the files parsed
    so far: Dask's own message logs (the client's to the scheduler, the local scheduler's to each
    worker) would keep the bytes of the last 1,000 tasks of each."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    size, files = 400_000, 40
    for i in range(files):
        (inbox / f"r{i:02}.fit").write_bytes(os.urandom(size))  # refused by the parser, after the trip
    jobs = _jobs(tmp_path, inbox)
    assert len(jobs) == files
    held: list[int] = []
    tracemalloc.start()
    try:
        for i, parsed in enumerate(in_dask(cluster.scheduler_address)(iter(jobs))):
            assert parsed.result is None and parsed.reason and not parsed.transient
            if i in (9, files - 1):
                del parsed
                gc.collect()
                held.append(tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
    # 30 files (12 MB) more went through; kept twice each, they would be 24 MB
    assert held[1] - held[0] < 4 * size


def test_no_worker_at_the_address_is_a_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from distributed import LocalCluster

    import pipeline.dask_parse as dask_parse
    from pipeline.errors import ConfigError

    monkeypatch.setattr(dask_parse, "WORKER_WAIT_S", 1.0)
    with LocalCluster(n_workers=0, dashboard_address=None) as empty, \
            pytest.raises(ConfigError, match="no Dask worker joined the scheduler at tcp://"):
        commands.ingest(tmp_path / "n.duckdb", dask_config(empty.scheduler_address), [SAMPLE / "runs"],
                        refresh_models=False)


@pytest.mark.prefect
@pytest.mark.usefixtures("prefect_harness")
def test_prefect_flow_on_dask_task_runner_same_rows(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The ingest flow on Prefect's DaskTaskRunner, on a local cluster it starts and closes."""
    from flows.ingest import ingest_flow

    want = processes_rows(tmp_path_factory, SAMPLE)  # (its forkserver stays for the session)
    before = {p.pid for p in children()}
    db = tmp_path / "f.duckdb"
    summary = ingest_flow(db, dask_config(), [SAMPLE])
    assert (summary.new, summary.duplicate, summary.quarantined) == (52, 1, 1)
    assert rows(db) == want
    psutil.wait_procs([p for p in children() if p.pid not in before], timeout=30)
    assert {p.pid for p in children() if p.is_running()} - before == set()


def _no_such_parser(jobs: list[Any]) -> list[Any]:
    raise ModuleNotFoundError("No module named 'pipeline.dask_parse'")  # a worker with an older runlift


def test_a_failing_cluster_leaves_every_file_for_next_run(cluster: Any, tmp_path: Path) -> None:
    """Not a parser's failure but the cluster's: parsing stops, no file is lost or logged."""
    from distributed import Client

    from pipeline.dask_parse import parse_on

    jobs = _jobs(tmp_path)
    with Client(cluster.scheduler_address, set_as_default=False) as client:
        out = list(parse_on(lambda batch: client.submit(_no_such_parser, batch, pure=False), iter(jobs), 4, 3))
    assert [p.job.file for p in out] == [j.file for j in jobs]
    assert all(p.transient and p.reason == "the parse task failed on the Dask cluster (ModuleNotFoundError: "
               "No module named 'pipeline.dask_parse')" for p in out)
