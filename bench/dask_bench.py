"""Dask benchmark (not a timed test): `runlift ingest` on the process pool vs a Dask local cluster
of 1 and 2 workers, and the two throughputs that decide how far more machines go.

Measured in one run, on one archive folder, alternating the engines round by round:

  processes   ingest on the process pool (one worker per core) into a fresh DB
  dask-1/2    ingest with ``task_runner = "dask"`` on a running LocalCluster of 1 / 2 single-threaded
              workers (its ~3 s start-up is reported apart: a real deployment keeps its cluster)
  parse/wkr   the parse tasks alone on the 1-worker cluster, no DB: files/s and samples/s per worker
  writer      runlift's process alone, files parsed beforehand: planning and the single writer,
              files/s and rows/s

and prints medians, the ratios against processes, and the throughput N machines of one worker
would give, ``min(N x parse/wkr, writer)``: the writer is the limit past ``writer / parse-per-worker``.

Usage:  .venv/bin/python bench/dask_bench.py [ARCHIVE] [--config runlift.toml] [--rounds 3]
ARCHIVE defaults to sample_data/ (with its config); a club archive: ``python bench/fast_archive.py
club --out DIR --athletes N``, then ``bench/dask_bench.py DIR --config DIR/runlift.toml``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline import commands  # noqa: E402
from pipeline.config import Config, Engine, load_config  # noqa: E402
from pipeline.dask_parse import local_cluster, parse_shipped, shipped  # noqa: E402
from pipeline.db import open_for_write  # noqa: E402
from pipeline.ingest import Job, Parsed, Planner, default_workers, in_processes  # noqa: E402


def planned_jobs(config: Config, archive: Path, tmp: Path) -> list[Job]:
    con = open_for_write(tmp / "plan.duckdb", config)
    try:
        planner = Planner(con, config, None)
        return [d for item in planner.items([archive]) if isinstance(d := planner.decide(item), Job)]
    finally:
        con.close()


def samples_of(parsed: list[Parsed]) -> int:
    return sum(len(a.samples) for p in parsed if p.result for a in p.result.activities)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def ingest_once(config: Config, archive: Path, tmp: Path, tag: str, results: dict[str, str] | None = None) -> float:
    """Seconds to ingest ``archive`` into a fresh DB; with ``results``, the DB is then built and
    the digest of its rows and flags kept under ``tag`` (the engines must agree)."""
    db = tmp / f"{tag}-{time.monotonic_ns()}.duckdb"
    seconds, _ = timed(lambda: commands.ingest(db, config, [archive], refresh_models=False))
    if results is not None:
        commands.build(db, config, commands.today_for(config), full=True)
        results[tag] = digest(db)
    for f in tmp.glob(f"{db.stem}*"):
        if f.is_file():
            f.unlink()
    return seconds


def digest(db: Path) -> str:
    """Every raw table, the ingest log (but when each file was logged) and the flags, as counts and
    order-free row hashes: two DBs with the same digest hold the same rows."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [f"raw.{t}" for (t,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw' "
            "AND table_type = 'BASE TABLE' AND table_name <> 'build_state' ORDER BY 1").fetchall()]
        parts = []
        for table in [*tables, "main.ingest_log", "main.flags"]:
            cols = [c for (c,) in con.execute(f"SELECT column_name FROM information_schema.columns WHERE "
                                              f"table_schema || '.' || table_name = '{table}' ORDER BY 1").fetchall()
                    if c != "ingested_at"]
            row = con.execute(f"SELECT count(*), sum(hash(row({', '.join(cols)})))::VARCHAR FROM {table}").fetchone()
            parts.append(f"{table}:{row}")
        return "; ".join(parts)
    finally:
        con.close()


def parse_alone(address: str, jobs: list[Job]) -> tuple[float, list[Parsed]]:
    """The parse tasks on the cluster, results collected, nothing written."""
    from distributed import Client

    with Client(address, set_as_default=False) as client:
        shipped_jobs = [s for j in jobs if isinstance(s := shipped(j), Job)]
        client.wait_for_workers(1)
        return timed(lambda: [p for f in client.map(parse_shipped, [[j] for j in shipped_jobs], pure=False)
                              for p in f.result()])


def count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0


def writer_alone(config: Config, archive: Path, jobs: list[Job], tmp: Path) -> tuple[float, int]:
    """runlift's own process alone, parsing done beforehand (a process pool): ``ingest`` with a
    ``ParseJobs`` that hands back the ready results, so what is timed is planning (listing,
    hashing) and the single writer. Returns the seconds and the rows written."""
    ready = {p.job.file: p for p in in_processes()(iter(jobs))}

    def parse_jobs(planned: Iterator[Job]) -> Iterator[Parsed]:
        return (replace(ready[j.file], job=j) for j in planned)

    db = tmp / f"w-{time.monotonic_ns()}.duckdb"
    seconds, _ = timed(lambda: commands.ingest(db, config, [archive], parse_jobs=parse_jobs, refresh_models=False))
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [t for (t,) in con.execute("SELECT table_name FROM information_schema.tables "
                                            "WHERE table_schema = 'raw' AND table_type = 'BASE TABLE'").fetchall()]
        rows = sum([count(con, f"raw.{t}") for t in tables] + [count(con, "ingest_log")])
    finally:
        con.close()
    return seconds, rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("archive", nargs="?", type=Path, default=ROOT / "sample_data")
    ap.add_argument("--config", type=Path, default=None)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--machines", type=int, default=10, help="the estimate's number of one-worker machines")
    args = ap.parse_args()
    archive: Path = args.archive.resolve()
    config_path = args.config or (archive / "runlift.toml" if (archive / "runlift.toml").is_file()
                                  else ROOT / "sample_data" / "runlift.toml")
    base = load_config(config_path)
    tmp = Path(tempfile.mkdtemp(prefix="runlift-dask-bench-"))
    jobs = planned_jobs(base, archive, tmp)
    print(f"archive {archive}: {len(jobs)} files to parse; {default_workers()} cores; {args.rounds} rounds")

    times: dict[str, list[float]] = {"processes": [], "dask-1": [], "dask-2": []}
    parse_s: list[float] = []
    samples = 0
    with local_cluster(1) as one, local_cluster(2) as two:
        def on(cluster: Any) -> Config:
            engine = Engine(task_runner="dask", dask_address=cluster.scheduler_address)
            return base.model_copy(update={"engine": engine})

        engines = {"processes": base, "dask-1": on(one), "dask-2": on(two)}
        results: dict[str, str] = {}
        for r in range(args.rounds):
            for name, config in engines.items():
                times[name].append(ingest_once(config, archive, tmp, name, results if r == 0 else None))
            seconds, parsed = parse_alone(one.scheduler_address, jobs)
            parse_s.append(seconds)
            samples = samples_of(parsed)
    with_start, _ = timed(lambda: local_cluster(2).__enter__().close())
    writes = [writer_alone(base, archive, jobs, tmp) for _ in range(args.rounds)]
    write_s = statistics.median(w[0] for w in writes)
    rows = writes[0][1]

    same = len(set(results.values())) == 1
    print(f"rows, ingest log and flags after a full build: {'the same on every engine' if same else 'DIFFER'}"
          f" ({results['processes'].count(';') + 1} tables compared)")
    med = {k: statistics.median(v) for k, v in times.items()}
    per_worker_fps = len(jobs) / statistics.median(parse_s)
    writer_fps = len(jobs) / write_s
    print()
    print("| engine | ingest (median s) | files/s | vs processes |")
    print("|---|---|---|---|")
    for name, s in med.items():
        print(f"| {name} | {s:.2f} | {len(jobs) / s:.1f} | {s / med['processes']:.2f}x |")
    print()
    print(f"LocalCluster(2) start + close: {with_start:.1f} s (not in the ingest times: the cluster was running)")
    print(f"parse per Dask worker: {per_worker_fps:.1f} files/s, {samples / statistics.median(parse_s):,.0f} samples/s")
    print(f"runlift process alone (planning + single writer): {writer_fps:.1f} files/s, "
          f"{rows / write_s:,.0f} rows/s ({rows:,} rows)")
    limit = writer_fps / per_worker_fps
    print(f"writer limit at ~{limit:.1f} one-worker machines; estimate for N machines of one worker each:")
    for n in (1, 2, 4, args.machines, 2 * args.machines):
        fps = min(n * per_worker_fps, writer_fps)
        print(f"  N={n:>2}: {fps:7.1f} files/s{'  (writer-bound)' if n * per_worker_fps > writer_fps else ''}")


if __name__ == "__main__":
    main()
