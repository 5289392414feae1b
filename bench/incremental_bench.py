"""Full vs incremental build on a big DB (bench/big_db.py), each step in its own process so its
peak RSS is its own; in-process timings (no CLI start-up, no snapshot publishing).

Usage:  .venv/bin/python bench/incremental_bench.py DIR/big.duckdb DIR/runlift.toml NEW.fit [--as-of 2026-10-26]
(the DB is copied first; NEW.fit is one file the DB does not hold, e.g. from bench/make_archive.py)
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def step(db: str, config_path: str, what: str, as_of: str, new: str) -> dict:
    from pipeline import commands
    from pipeline.build import build
    from pipeline.config import load_config
    from pipeline.db import open_for_write

    config = load_config(Path(config_path))
    t0 = time.perf_counter()
    out: dict = {"step": what}
    if what == "ingest":  # ingest (its incremental model refresh included), then a build
        commands.ingest(Path(db), config, [Path(new)], workers=1)
        out["ingest_s"] = time.perf_counter() - t0
    con = open_for_write(db, config)
    try:
        t1 = time.perf_counter()
        result = build(con, config, date.fromisoformat(as_of), full=what == "full")
        out["build_s"] = time.perf_counter() - t1
    finally:
        con.close()
    out["total_s"] = time.perf_counter() - t0
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["touched_athletes"] = sorted(result.touched_athletes) if result.touched_athletes is not None else None
    out["touched_activities"] = len(result.touched_activities) if result.touched_activities is not None else None
    out["slowest"] = sorted(((k, round(v, 3)) for k, v in result.timings.items()), key=lambda kv: -kv[1])[:5]
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("db")
    ap.add_argument("config")
    ap.add_argument("new")
    ap.add_argument("--as-of", default="2026-10-26")
    ap.add_argument("--step")
    args = ap.parse_args()
    if args.step:
        print(json.dumps(step(args.db, args.config, args.step, args.as_of, args.new)))
        return
    work = Path(args.db).with_name("incremental_bench.duckdb")
    shutil.copy(args.db, work)
    for what in ("full", "unchanged", "ingest"):
        proc = subprocess.run([sys.executable, __file__, str(work), args.config, args.new, "--as-of", args.as_of,
                               "--step", what], capture_output=True, text=True, check=True)
        print(proc.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
