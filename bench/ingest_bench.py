"""Ingest benchmark (not a timed test): 120 one-hour 1 Hz FIT runs with HR and GPS.

Measures, in one run and as whole processes (start-up included), alternating the commands
round by round so machine drift hits all of them alike:

  (a) baseline   a sequential loop: fitparse parses each file, one bulk DataFrame insert per file
  (b) ingest     `runlift ingest` of the folder into a fresh DB
  (c) reingest   `runlift ingest` of the unchanged folder again
  (d) limit      fitparse alone parsing every file in a process pool, no DB
  (e) single     `runlift ingest` of one small file into a fresh DB, on a fresh shell
  (f) parsers    runlift's own FIT parser on every core, no DB: the limit for (b) itself

and prints medians, the ratios a/b and b/d, samples/s and each command's peak RSS.
Usage:  .venv/bin/python bench/ingest_bench.py [--rounds 3]
The archive is generated once (fixed seed) into bench/.cache/fit120/ (git-ignored).

``--scale N`` measures history instead, on N time-shifted copies of those runs (bench/fast_archive.py):
ingest of the N files into a fresh DB (models not refreshed: ingest alone), its parsers alone in
the same pool (f), one new file added to the N (the whole inbox walked, ingest alone), and a
re-sync of the unchanged folder as the whole ``runlift ingest`` command (once the models are built,
as any ingest but this benchmark's leaves them).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RUNLIFT = str(ROOT / ".venv" / "bin" / "runlift")

RECORD_FIELDS = ("timestamp", "position_lat", "position_long", "distance", "enhanced_speed", "heart_rate",
                 "cadence", "enhanced_altitude")


def _fitparse_records(path: str) -> dict[str, list]:
    import fitparse

    cols: dict[str, list] = {f: [] for f in RECORD_FIELDS}
    for msg in fitparse.FitFile(path).get_messages("record"):
        values = msg.get_values()
        for f in RECORD_FIELDS:
            cols[f].append(values.get(f))
    return cols


def baseline(folder: str, db: str) -> None:
    """(a) the plain way: parse with fitparse, insert each file with one DataFrame insert."""
    import duckdb
    import pandas as pd

    con = duckdb.connect(db)
    con.execute("CREATE TABLE samples (file VARCHAR, " + ", ".join(
        f"{f} {'TIMESTAMP' if f == 'timestamp' else 'DOUBLE'}" for f in RECORD_FIELDS) + ")")
    for path in sorted(Path(folder).rglob("*.fit")):
        frame = pd.DataFrame(_fitparse_records(str(path)))
        frame.insert(0, "file", path.name)
        con.execute("INSERT INTO samples SELECT * FROM frame")
    con.close()


def limit(folder: str) -> None:
    """(d) fitparse alone on every core, no DB: what parallel parsing can reach at best."""
    files = [str(p) for p in sorted(Path(folder).rglob("*.fit"))]
    with ProcessPoolExecutor(max_workers=len(os.sched_getaffinity(0))) as pool:
        for _ in pool.map(_fitparse_records, files, chunksize=4):
            pass


def _runlift_parse(path: str) -> int:
    from pipeline.parsers import fit
    from pipeline.parsers.records import ParseContext

    return sum(len(a.samples) for a in fit.parse(Path(path).read_bytes(), path, ParseContext()).activities)


def parser_limit(folder: str) -> None:
    """(f) runlift's FIT parser alone on every core, no DB."""
    files = [str(p) for p in sorted(Path(folder).rglob("*.fit"))]
    with ProcessPoolExecutor(max_workers=len(os.sched_getaffinity(0))) as pool:
        for _ in pool.map(_runlift_parse, files, chunksize=4):
            pass


def ingest_only(db: str, *paths: str) -> None:
    """`runlift ingest` without the model refresh that follows it: the ingest's own cost."""
    from pipeline import commands
    from pipeline.config import Config

    commands.ingest(Path(db), Config(), [Path(p) for p in paths], refresh_models=False)


def scale(n: int, rounds: int) -> None:
    from bench.fast_archive import CACHE, ten_years

    archive = ten_years(CACHE / f"ten-years-{n}-runs-only", days=n, strength_days=0)
    folder = archive.root / "runs"
    work = Path(tempfile.mkdtemp(prefix="runlift-scale-"))
    me = [sys.executable, __file__]
    new = next(iter(archive.next_runs.values())).parent
    rows: dict[str, list[tuple[float, float]]] = {k: [] for k in ("ingest", "parsers", "one new", "re-sync")}
    try:
        for r in range(rounds):
            db = str(work / f"s{r}.duckdb")
            rows["ingest"].append(timed(me + ["ingest-only", db, str(folder)]))
            rows["parsers"].append(timed(me + ["parsers", str(folder)]))
            rows["one new"].append(timed(me + ["ingest-only", db, str(folder), str(new)]))
            timed([RUNLIFT, "--db", db, "build"])  # the models a user's ingest has built: a re-sync has none to run
            rows["re-sync"].append(timed([RUNLIFT, "--db", db, "ingest", str(folder), str(new)]))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    med = {k: statistics.median(w for w, _ in v) for k, v in rows.items()}
    print(f"{n} files, {rounds} rounds (median wall s, peak RSS MiB of the largest process)")
    for k, v in rows.items():
        print(f"  {k:<10} {med[k]:7.2f} s   {max(m for _, m in v):6.0f} MiB")
    print(f"  ingest / parsers alone = {med['ingest'] / med['parsers']:.2f}  (target <= 1.15)")


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB, the largest process of the command's tree) of a command."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PREFECT_API_URL": ""})
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"command failed: {' '.join(cmd)}")
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scale", type=int, metavar="N", help="measure history on N time-shifted runs instead")
    parser.add_argument("mode", nargs="?", choices=["baseline", "limit", "parsers", "ingest-only"])
    parser.add_argument("args", nargs="*")
    opts = parser.parse_args()
    if opts.scale:
        return scale(opts.scale, opts.rounds)
    if opts.mode == "ingest-only":
        return ingest_only(*opts.args)
    if opts.mode == "baseline":
        return baseline(*opts.args)
    if opts.mode == "limit":
        return limit(*opts.args)
    if opts.mode == "parsers":
        return parser_limit(*opts.args)

    from bench.make_archive import ensure_archive

    folder = ensure_archive(120)
    files = sorted(folder.glob("*.fit"))
    work = Path(tempfile.mkdtemp(prefix="runlift-bench-"))
    me = [sys.executable, __file__]
    results: dict[str, list[tuple[float, float]]] = {k: [] for k in "abcdef"}
    small = ROOT / "sample_data" / "runs" / "2026-08-09_0900_long.fit"
    try:
        for r in range(opts.rounds):
            for f in work.glob("*"):
                f.unlink()
            results["a"].append(timed(me + ["baseline", str(folder), str(work / f"a{r}.duckdb")]))
            results["b"].append(timed([RUNLIFT, "--db", str(work / f"b{r}.duckdb"), "ingest", str(folder)]))
            results["c"].append(timed([RUNLIFT, "--db", str(work / f"b{r}.duckdb"), "ingest", str(folder)]))
            results["d"].append(timed(me + ["limit", str(folder)]))
            results["e"].append(timed(["sh", "-c", f"exec {RUNLIFT} --db {work}/e{r}.duckdb ingest {small}"]))
            results["f"].append(timed(me + ["parsers", str(folder)]))
        import duckdb

        con = duckdb.connect(str(work / f"b{opts.rounds - 1}.duckdb"), read_only=True)
        samples = con.execute("SELECT count(*) FROM raw.samples").fetchone()[0]
        con.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    med = {k: statistics.median(w for w, _ in v) for k, v in results.items()}
    rss = {k: max(m for _, m in v) for k, v in results.items()}
    names = {"a": "baseline (sequential parse + insert)", "b": "runlift ingest (fresh DB)",
             "c": "runlift ingest (unchanged, re-run)", "d": "limit (fitparse in a pool, no DB)",
             "e": "runlift ingest of one small file", "f": "limit (runlift's FIT parser in a pool, no DB)"}
    print(f"{len(files)} files, {samples:,} samples, {opts.rounds} rounds (median wall s, peak RSS MiB)")
    for k in "abcdef":
        print(f"  ({k}) {names[k]:<40} {med[k]:7.2f} s   {rss[k]:6.0f} MiB")
    print(f"  speed-up a/b = {med['a'] / med['b']:.2f}x   (target >= 1.7)")
    print(f"  overhead b/d = {med['b'] / med['d']:.2f}    (target <= 1.15; d is stock fitparse)")
    print(f"  overhead b/f = {med['b'] / med['f']:.2f}    (ingest vs its own parsers alone)")
    print(f"  re-ingest    = {med['c']:.2f} s  (target < 2 s);  single file = {med['e']:.2f} s (target < 3 s)")
    print(f"  throughput   = {samples / med['b']:,.0f} samples/s ingest, {samples / med['a']:,.0f} baseline")


if __name__ == "__main__":
    main()
