"""Full vs incremental build on the ten-year DB of bench/big_db.py (3,000 one-hour 1 Hz runs),
each step in its own process so its peak RSS is its own; in-process timings (no CLI start-up,
no snapshot publishing): a full build, a build with nothing new, and one new FIT file (a run
in the history's last week, from bench/make_archive.py) ingested, then built.

Usage:  .venv/bin/python bench/incremental_bench.py [--dir DIR] [--runs 3000]
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
    ap.add_argument("--dir", type=Path, default=ROOT / "bench" / ".cache" / "big")
    ap.add_argument("--runs", type=int, default=3000)
    ap.add_argument("--as-of", default="2026-10-26")
    ap.add_argument("--step", help=argparse.SUPPRESS)
    args = ap.parse_args()
    db, config, new = args.dir / "big.duckdb", args.dir / "runlift.toml", args.dir / "new" / "run_574.fit"
    if args.step:
        print(json.dumps(step(str(db), str(config), args.step, args.as_of, str(new))))
        return
    if not db.exists():
        subprocess.run([sys.executable, str(ROOT / "bench" / "big_db.py"), str(args.dir), "--runs", str(args.runs)],
                       check=True)
    if not new.exists():  # 2026-08-03 17:30 UTC: in the history's last week, apart from its runs
        from bench.make_archive import make_run

        new.parent.mkdir(parents=True, exist_ok=True)
        make_run((574, str(new.parent)))
    pristine = db.with_name("pristine.duckdb")
    if not pristine.exists():
        shutil.copy(db, pristine)
    shutil.copy(pristine, db)
    for what in ("full", "unchanged", "ingest"):
        proc = subprocess.run([sys.executable, __file__, "--dir", str(args.dir), "--as-of", args.as_of,
                               "--step", what], capture_output=True, text=True, check=True)
        print(proc.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
