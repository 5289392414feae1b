"""A ten-year database in seconds, for measuring builds (not a timed test).

The sample data is ingested for real (so every raw column is as ingest writes it), then SQL adds
``--runs`` one-hour 1 Hz runs, one a day ending before the sample's first run (HR, speed and
distance every second, four laps each, an interval session every seventh day), and two strength
sessions a week copied from the sample's sessions: 3,000 runs make 10.8 M samples.

Usage:  .venv/bin/python bench/big_db.py DIR [--runs 3000]
        .venv/bin/runlift --db DIR/big.duckdb --config DIR/runlift.toml build --full --as-of 2026-10-26
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline import commands  # noqa: E402
from pipeline.config import load_config  # noqa: E402
from pipeline.db import open_for_write, scalar  # noqa: E402

SAMPLE = ROOT / "sample_data"


def add_history(con: duckdb.DuckDBPyConnection, runs: int) -> None:
    """``runs`` days of history before the sample's first activity, all in SQL."""
    first = scalar(con, "SELECT min(start_utc) FROM raw.activities")
    con.execute("CREATE TEMP TABLE big_days AS SELECT i, ? - to_days(CAST(i AS INTEGER)) AS start_utc "
                "FROM range(1, ? + 1) AS t(i)", [first, runs])
    con.execute("""
        INSERT INTO raw.activities
        SELECT 'big-' || i, 'me', 'big' || i, 'big/run' || i || '.fit', 'fit', 'running', NULL,
               CASE WHEN i % 7 = 0 THEN 'Intervals 6x800' ELSE 'Easy run' END,
               start_utc, start_utc + INTERVAL 3600 SECOND, 3600, 3500, 10800, 145, 170, 3600, 3600, NULL
        FROM big_days""")
    con.execute("""
        INSERT INTO raw.samples
        SELECT 'big-' || d.i, d.start_utc + to_seconds(k), 52.5 + k * 1e-6, 13.4 + k * 1e-6, 3.0 * k,
               3.0 + 0.5 * sin(k / 120.0), 135 + 25 * sin(k / 600.0) + d.i % 11, 170, 40
        FROM big_days AS d, range(3600) AS t(k)""")
    con.execute("""
        INSERT INTO raw.laps
        SELECT 'big-' || d.i, l, d.start_utc + to_seconds(l * 900), 900, 900, 2700,
               CASE WHEN d.i % 7 = 0 AND l = 2 THEN 'rest' ELSE 'active' END
        FROM big_days AS d, range(4) AS t(l)""")
    # two sessions a week, each a copy of one of the sample's sessions (its sets too)
    con.execute("CREATE TEMP TABLE big_src AS SELECT session_id, row_number() OVER (ORDER BY session_id) - 1 AS n "
                "FROM raw.strength_sessions WHERE duplicate_of IS NULL")
    con.execute("""
        CREATE TEMP TABLE big_sessions AS
        SELECT 'bigs-' || d.i AS session_id, s.session_id AS src, d.start_utc + INTERVAL 10 HOUR AS start_utc
        FROM big_days AS d JOIN big_src AS s ON s.n = d.i % (SELECT count(*) FROM big_src)
        WHERE d.i % 7 IN (2, 5)""")
    con.execute("""
        INSERT INTO raw.strength_sessions
        SELECT b.session_id, 'me', 'bigs' || b.session_id, 'big/strong.csv', s.source_format, NULL, s.title, NULL,
               b.start_utc, b.start_utc + (s.end_utc - s.start_utc), s.n_sets, s.n_complete_sets, NULL
        FROM big_sessions AS b JOIN raw.strength_sessions AS s ON s.session_id = b.src""")
    con.execute("""
        INSERT INTO raw.strength_sets
        SELECT b.session_id, x.set_index, x.exercise_raw, x.exercise, x.set_type, x.reps, x.weight_kg, x.rpe,
               x.duration_s, x.is_unilateral, x.is_plyometric,
               CASE WHEN x.start_utc IS NOT NULL THEN b.start_utc + (x.start_utc - s.start_utc) END
        FROM big_sessions AS b JOIN raw.strength_sets AS x ON x.session_id = b.src
        JOIN raw.strength_sessions AS s ON s.session_id = b.src""")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dir", type=Path)
    ap.add_argument("--runs", type=int, default=3000)
    args = ap.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    db = args.dir / "big.duckdb"
    db.unlink(missing_ok=True)
    shutil.copy(SAMPLE / "runlift.toml", args.dir / "runlift.toml")
    config = load_config(args.dir / "runlift.toml")
    t0 = time.perf_counter()
    commands.ingest(db, config, [SAMPLE / "runs", SAMPLE / "strength"], refresh_models=False)
    con = open_for_write(db, config)
    try:
        add_history(con, args.runs)
        n = scalar(con, "SELECT count(*) FROM raw.samples")
    finally:
        con.close()
    print(f"{db}: {n:,} samples, made in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
