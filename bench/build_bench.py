"""Build benchmark (not a timed test): `runlift build` on the ingest benchmark archive (120
one-hour 1 Hz FIT runs) plus two years of generated strength sessions (simple CSV, 2 a week).

Prints the median wall time of the whole `runlift build` process (start-up included) over
several runs, and the per-model breakdown of one in-process build.
Usage:  .venv/bin/python bench/build_bench.py [--rounds 5]
        .venv/bin/python bench/build_bench.py --prepare DIR   # DIR/b.duckdb + DIR/runlift.toml, built, no timing

``--prepare`` leaves the archive's database for pairing two checkouts with farm-bench, each on its own
database (each checkout prepares its own, so each schema is its own):
    farm-bench -n 5 --timeout 600 -- NEW/.venv/bin/runlift --db N/b.duckdb --config N/runlift.toml build \
        --as-of 2026-01-01 --vs 'OLD/.venv/bin/runlift --db O/b.duckdb --config O/runlift.toml build --as-of 2026-01-01'
and the same with ``report --week 2025-W52 --out N/reports``.
"""

from __future__ import annotations

import argparse
import csv
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RUNLIFT = str(ROOT / ".venv" / "bin" / "runlift")
AS_OF = date(2026, 1, 1)
EXERCISES = [("Back Squat", 5, 90.0), ("Bulgarian Split Squat", 8, 24.0), ("Romanian Deadlift", 6, 80.0),
             ("Step Up", 10, 16.0), ("Box Jump", 5, 0.0), ("Calf Raise", 12, 40.0)]


def strength_log(path: Path, start: date = date(2024, 1, 1), weeks: int = 104, seed: int = 7) -> int:
    """Two strength sessions a week (Tue 18:00, Fri 07:00) in runlift's simple CSV; returns sets."""
    rng = random.Random(seed)
    rows = 0
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["date", "time", "exercise", "set", "reps", "weight_kg", "set_type", "rpe",
                         "duration_min", "title"])
        for w in range(weeks):
            for offset, clock in ((1, "18:00"), (4, "07:00")):
                day = start + timedelta(weeks=w, days=offset)
                for name, reps, kg in rng.sample(EXERCISES, 4):
                    for s in range(1, 4):
                        writer.writerow([day.isoformat(), clock, name, s, reps, kg + rng.choice((0, 2.5)),
                                         "warmup" if s == 1 else "working", "", 50, "Strength"])
                        rows += 1
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--prepare", type=Path, metavar="DIR", help="write and build the database in DIR, then stop")
    opts = parser.parse_args()

    from bench.make_archive import ensure_archive
    from pipeline import commands
    from pipeline.config import parse_config

    work = opts.prepare or Path(tempfile.mkdtemp(prefix="runlift-build-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        sets = strength_log(work / "strength.csv")
        db = work / "b.duckdb"
        config = parse_config({"athlete": {"id": "me", "timezone": "Europe/Berlin", "threshold_hr": 165}})
        cfg = work / "runlift.toml"
        cfg.write_text('[athlete]\nid = "me"\ntimezone = "Europe/Berlin"\nthreshold_hr = 165\n')
        commands.ingest(db, config, [ensure_archive(120), work / "strength.csv"])
        if opts.prepare:
            commands.build(db, config, AS_OF)
            print(f"prepared {db} and {cfg}")
            return
        walls = []
        for _ in range(opts.rounds):
            t0 = time.perf_counter()
            subprocess.run([RUNLIFT, "--db", str(db), "--config", str(cfg), "build", "--as-of", AS_OF.isoformat()],
                           check=True, capture_output=True)
            walls.append(time.perf_counter() - t0)
        result = commands.build(db, config, AS_OF)
        _, counts = commands.query(db, "select (select count(*) from samples), "
                                   "(select count(*) from strength_sessions), "
                                   "(select count(*) from daily_load), (select count(*) from flags)")
    finally:
        if not opts.prepare:
            shutil.rmtree(work, ignore_errors=True)
    samples, sessions, days, flags = counts[0]
    print(f"{samples:,} samples, {sessions} strength sessions ({sets} sets), {days} days, {flags} flags")
    print(f"runlift build: median {statistics.median(walls):.2f} s over {opts.rounds} runs "
          f"(min {min(walls):.2f}, max {max(walls):.2f}; target < 5 s)")
    print("in-process breakdown (s):")
    for name, secs in sorted(result.timings.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<24} {secs:6.3f}")


if __name__ == "__main__":
    main()
