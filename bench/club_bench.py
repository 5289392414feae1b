"""Club benchmark of the rules, the report and ``runlift flags``: N athletes, optionally years each.

The sample data (10 weeks of one runner) is ingested once; its raw rows are then copied by SQL
under new athlete ids (``a000`` ...), and shifted back by whole 10-week periods for longer
histories, so a club DB of any size takes seconds to make. Every athlete gets the sample's
config; odd athletes are "trained" lifters and in UTC (even: "new", Europe/Berlin), so the
per-athlete config varies. Then a full build (``timings['(rules)']``), the weekly report of every
athlete (and the roster digest) and ``runlift flags`` as a whole command are timed.

    .venv/bin/python bench/club_bench.py --athletes 1 50 200 [--years 1] [--no-samples] [--no-report]
    CLUB_BENCH_CODE=/path/to/other/checkout .venv/bin/python bench/club_bench.py ...   # "before"

``gather_s`` is the report data of every athlete for the week (the queries), ``report_s`` the
whole ``write_reports`` (data, matplotlib charts, files, index; the roster with coach_email_to).

``--no-samples`` copies the runs without their 1 Hz samples (loads are then estimated from
minutes): the rules and the report read the marts, not the samples, and the build is faster.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CODE = Path(os.environ.get("CLUB_BENCH_CODE", REPO))  # another checkout's pipeline (a "before" run)
sys.path.insert(0, str(CODE))

from pipeline import commands  # noqa: E402
from pipeline.config import load_config  # noqa: E402
from pipeline.db import connect, open_for_write  # noqa: E402

SAMPLE = REPO / "sample_data"
PERIOD_DAYS = 70  # the sample's 10 weeks: copies shifted by whole weeks keep their weekdays
AS_OF = date(2026, 10, 26)
WEEK = "2026-W42"  # the race week of the sample


def club_config(folder: Path, n: int) -> Path:
    """``runlift.toml`` of ``n`` athletes a000... with the sample's settings."""
    body = (SAMPLE / "runlift.toml").read_text()
    head, rest = body.split("[athlete]\n", 1)
    athlete, rest = rest.split("\n\n", 1)
    settings = [line for line in athlete.splitlines() if not line.startswith(("id ", "timezone", "strength_exp"))]
    blocks = []
    for i in range(n):
        zone, experience = ("UTC", "trained") if i % 2 else ("Europe/Berlin", "new")
        blocks.append("\n".join(["[[athletes]]", f'id = "a{i:03d}"', f'timezone = "{zone}"',
                                 f'strength_experience = "{experience}"', *settings]))
    path = folder / "runlift.toml"
    path.write_text(head + "\n\n".join(blocks) + "\n\n" + rest + '\n[report]\nout = "reports"\n')
    return path


def base_db(cache: Path) -> Path:
    """The sample data ingested once under ``a000`` (cached)."""
    db = cache / "club-base.duckdb"
    if not db.exists():
        cache.mkdir(parents=True, exist_ok=True)
        config = load_config(club_config(cache, 1))
        commands.ingest(db, config, [SAMPLE / "runs", SAMPLE / "strength"], athlete="a000", workers=2,
                        refresh_models=False)
    return db


def make_club(folder: Path, n: int, years: int, samples: bool) -> tuple[Path, Path]:
    """A DB of ``n`` athletes with ``years`` of history each (copies of the sample), not built."""
    config_path = club_config(folder, n)
    db = folder / "club.duckdb"
    shutil.copy(base_db(REPO / "bench" / ".cache"), db)
    config = load_config(config_path)
    copies = max(1, round(years * 365 / PERIOD_DAYS))
    con = open_for_write(db, config)
    try:
        con.execute("""CREATE TEMP TABLE copies AS
                       SELECT printf('a%03d', a) AS athlete, k * ? AS shift,
                              printf('-a%03d-%d', a, k) AS suffix
                       FROM range(?) AS t(a), range(?) AS u(k) WHERE a > 0 OR k > 0""", [PERIOD_DAYS, n, copies])
        back = "INTERVAL (c.shift) DAY"
        con.execute(f"""INSERT INTO raw.activities SELECT r.* REPLACE (
                            r.activity_id || c.suffix AS activity_id, c.athlete AS athlete_id,
                            r.start_utc - {back} AS start_utc, r.end_utc - {back} AS end_utc,
                            r.duplicate_of || c.suffix AS duplicate_of)
                        FROM raw.activities AS r, copies AS c""")
        con.execute(f"""INSERT INTO raw.laps SELECT r.* REPLACE (r.activity_id || c.suffix AS activity_id,
                            r.start_utc - {back} AS start_utc) FROM raw.laps AS r, copies AS c""")
        if samples:
            con.execute(f"""INSERT INTO raw.samples SELECT r.* REPLACE (r.activity_id || c.suffix AS activity_id,
                                r.ts_utc - {back} AS ts_utc) FROM raw.samples AS r, copies AS c""")
        con.execute(f"""INSERT INTO raw.strength_sessions SELECT r.* REPLACE (
                            r.session_id || c.suffix AS session_id, c.athlete AS athlete_id,
                            r.activity_id || c.suffix AS activity_id,
                            r.start_utc - {back} AS start_utc, r.end_utc - {back} AS end_utc,
                            r.duplicate_of || c.suffix AS duplicate_of)
                        FROM raw.strength_sessions AS r, copies AS c""")
        con.execute(f"""INSERT INTO raw.strength_sets SELECT r.* REPLACE (r.session_id || c.suffix AS session_id,
                            r.start_utc - {back} AS start_utc) FROM raw.strength_sets AS r, copies AS c""")
    finally:
        con.close()
    return db, config_path


def gather_s(db: Path, config_path: Path) -> float:
    """Seconds to gather the report data of every athlete for WEEK (no charts, no files)."""
    from pipeline.report import data

    config = load_config(config_path)
    ids = [a.id for a in config.all_athletes]
    con = connect(db, read_only=True)
    try:
        t0 = time.perf_counter()
        if hasattr(data, "gather_all"):
            data.gather_all(con, config, ids, WEEK)
        else:
            for a in ids:
                data.gather(con, config, a, WEEK)
        return time.perf_counter() - t0
    finally:
        con.close()


def flags_command_s(db: Path, config_path: Path) -> float:
    """Best of 3 wall times of ``runlift flags --format json`` as a whole process."""
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"} | {"PYTHONPATH": str(CODE)}
    argv = [sys.executable, "-c", "import sys; from pipeline.app.cli import main; sys.argv[0] = 'runlift'; main()",
            "--db", str(db), "--config", str(config_path), "flags", "--format", "json"]
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - t0)
    return min(times)


def run(n: int, years: int, samples: bool, report: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="club-bench-") as tmp:
        folder = Path(tmp)
        db, config_path = make_club(folder, n, years, samples)
        config = load_config(config_path)
        t0 = time.perf_counter()
        result = commands.build(db, config, AS_OF)
        build_s = time.perf_counter() - t0
        report_s = float("nan")
        if report:
            t0 = time.perf_counter()
            commands.write_reports(db, config, WEEK)
            report_s = time.perf_counter() - t0
        return {"athletes": n, "years": years, "flags": len(result.flags), "build_s": build_s,
                "rules_s": result.timings["(rules)"], "gather_s": gather_s(db, config_path), "report_s": report_s,
                "flags_cmd_s": flags_command_s(db, config_path)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--athletes", type=int, nargs="+", default=[1, 50, 200])
    parser.add_argument("--years", type=int, default=0, help="history per athlete (0: the sample's 10 weeks)")
    parser.add_argument("--no-samples", action="store_true")
    parser.add_argument("--no-report", action="store_true", help="skip writing the reports (charts: ~1-4 s each)")
    args, _ = parser.parse_known_args()  # `./dev bench ARGS` hands every benchmark the same arguments
    print(f"code: {CODE}")
    print("athletes years flags  build_s rules_s gather_s report_s flags_cmd_s")
    for n in args.athletes:
        r = run(n, args.years, not args.no_samples, not args.no_report)
        print(f"{r['athletes']:8d} {r['years']:5d} {r['flags']:5d} {r['build_s']:8.2f} {r['rules_s']:7.3f} "
              f"{r['gather_s']:8.3f} {r['report_s']:8.2f} {r['flags_cmd_s']:11.2f}", flush=True)


if __name__ == "__main__":
    main()
