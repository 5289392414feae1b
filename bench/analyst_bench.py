"""What publishing the analyst layer costs (issue 11 item 5), against the whole-DB snapshot copy
it replaces.

Makes a synthetic DB (raw rows written by SQL, so ten years take seconds, not the hours FIT files
would), runs every model, then in a fresh process times:

- ``first``: the first publish (every partition written, the catalog too);
- ``unchanged``: a full publish (``athletes=None``) of the unchanged DB (hashes only);
- ``one new run``: one run (with samples) added to one athlete, the models rebuilt (not timed),
  then ``publish(con, db, {athlete})`` and, after another new run, ``publish(con, db, None)``;
- ``snapshot copy``: what every build did before: ``COPY FROM DATABASE`` into a new file.

Each step runs in a fresh process; peak RSS is that process's (``idle``: DuckDB and the pipeline
imported, the DB opened).

    .venv/bin/python bench/analyst_bench.py --kind single   # 1 athlete x 10 years, 3,000 one-hour runs, 1 Hz
    .venv/bin/python bench/analyst_bench.py --kind club     # 200 athletes x 1 year, 4 runs a week
    .venv/bin/python bench/analyst_bench.py --kind sample   # the sample data
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

KINDS = {  # athletes, runs per athlete, days between runs, samples per run (1 Hz)
    "single": (1, 3000, 3650 / 3000, 3600),  # the ten years: 3,000 runs, 10.8 M samples
    "club": (200, 208, 7 / 4, 300),  # smart recording: a sample every ~10 s
}


def _config_text(athletes: int) -> str:
    return "".join(f'[[athletes]]\nid = "a{i:03}"\ntimezone = "Europe/Berlin"\nmax_hr = 190\nresting_hr = 50\n'
                   for i in range(athletes))


def make_db(folder: Path, kind: str) -> Path:
    """The synthetic DB of ``kind`` in ``folder``, built (every model)."""
    from pipeline import commands
    from pipeline.config import load_config
    from pipeline.db import open_for_write
    from pipeline.models import build_models

    folder.mkdir(parents=True, exist_ok=True)
    db = folder / f"{kind}.duckdb"
    if kind == "sample":
        config = load_config(REPO / "sample_data" / "runlift.toml")
        commands.ingest(db, config, [REPO / "sample_data" / "runs", REPO / "sample_data" / "strength"])
        con = open_for_write(db, config)
        build_models(con, aliases=config.exercise_aliases)
        con.close()
        return db
    athletes, runs, every, samples = KINDS[kind]
    (folder / "runlift.toml").write_text(_config_text(athletes))
    config = load_config(folder / "runlift.toml")
    con = open_for_write(db, config)
    try:
        _add_runs(con, [f"a{i:03}" for i in range(athletes)], 0, runs, every, samples)
        build_models(con, aliases=config.exercise_aliases)
    finally:
        con.close()
    return db


def _add_runs(con: duckdb.DuckDBPyConnection, athletes: list[str], first: int, runs: int, every: float,
              samples: int) -> None:
    """Runs ``first .. first+runs-1`` of each athlete (run k starts ``k * every`` days after
    2016-01-04 06:00 UTC), each ``samples`` seconds at 1 Hz with HR and GPS."""
    listed = ", ".join(f"'{a}'" for a in athletes)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _runs AS
        SELECT a.athlete_id, k, a.athlete_id || '-' || k AS activity_id,
               TIMESTAMPTZ '2016-01-04 06:00:00+00' + to_microseconds(CAST(k * {every} * 86400e6 AS BIGINT))
                 + to_minutes(CAST(hash(a.athlete_id) % 60 AS INTEGER)) AS start_utc
        FROM (SELECT unnest([{listed}]) AS athlete_id) a, range({first}, {first + runs}) r(k)""")
    con.execute(f"""
        INSERT INTO raw.activities SELECT activity_id, athlete_id, sha256(activity_id), activity_id || '.fit', 'fit',
            'running', NULL, NULL, start_utc, start_utc + to_seconds({samples}), {samples}, {samples},
            {samples} * 2.8, 150, 170, {samples}, {samples}, NULL FROM _runs""")
    con.execute(f"""
        INSERT INTO raw.samples SELECT activity_id, start_utc + to_seconds(s), 52.5 + s * 1e-5, 13.4,
            s * 2.8, 2.8, 140 + (s % 30), 85, 40 FROM _runs, range({samples}) t(s)""")
    con.execute("""
        INSERT INTO ingest_log SELECT activity_id || '.fit', sha256(activity_id), 'fit', 'loaded', NULL,
            start_utc, athlete_id, 1, 0 FROM _runs""")


def step(db: Path, name: str) -> dict[str, object]:
    """One measured step in this (fresh) process: ``idle``, ``publish:all``, ``publish:a000`` (one
    athlete's), ``add-run`` (one run for a000, then every model; not timed as a publish),
    ``rebuild`` (every model, no data changed) or ``snapshot`` (the whole-DB copy of before)."""
    from pipeline.analyst import publish
    from pipeline.models import build_models

    con = duckdb.connect(str(db))
    out: dict[str, object] = {}
    try:
        t = time.perf_counter()
        if name.startswith("publish:"):
            scope = name.removeprefix("publish:")
            r = publish(con, db, None if scope == "all" else {scope})
            out |= {"written": len(r.written), "removed": len(r.removed), "unchanged": r.unchanged}
        elif name in ("add-run", "rebuild"):
            if name == "add-run":
                kind = db.stem
                _, runs, every, samples = KINDS[kind]
                n = con.execute("SELECT count(*) FROM raw.activities WHERE athlete_id = 'a000'").fetchone()[0]  # type: ignore[index]
                _add_runs(con, ["a000"], n, 1, every, samples)
            build_models(con)
        elif name == "idle":  # the baseline: imports and the connection
            pass
        elif name == "snapshot":
            snapshot = db.with_name(".bench-snapshot.duckdb")
            snapshot.unlink(missing_ok=True)
            con.execute(f"ATTACH '{snapshot}' AS snap (STORAGE_VERSION 'v1.4.0')")
            con.execute(f"COPY FROM DATABASE \"{db.stem}\" TO snap")
            con.execute("CHECKPOINT snap")
            con.execute("DETACH snap")
            out["mb"] = round(snapshot.stat().st_size / 1e6, 1)
            snapshot.unlink()
        out["s"] = round(time.perf_counter() - t, 2)
    finally:
        con.close()
    out["peak_rss_mb"] = _peak_rss_mb()
    return out


def _peak_rss_mb() -> int:
    """This process's peak RSS (VmHWM: ru_maxrss would carry the forking parent's over exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


PLAN = ["idle", "publish:all", "publish:all", "rebuild", "publish:all", "add-run", "publish:a000", "add-run",
        "publish:all", "snapshot"]
LABELS = ["(imports and connection only)", "first publish", "unchanged, full publish",
          "models rebuilt, no data changed", "  then full publish", "one new run for a000",
          "  then publish({'a000'})", "another new run", "  then full publish",
          "snapshot copy (what every build did before)"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kind", choices=["sample", *KINDS], default="sample")
    parser.add_argument("--dir", type=Path, default=REPO / "bench" / ".cache" / "analyst")
    parser.add_argument("--step", help=argparse.SUPPRESS)  # a fresh process's side
    args, _ = parser.parse_known_args()  # `./dev bench` passes every bench the same options
    folder = args.dir / args.kind
    db = folder / f"{args.kind}.duckdb"
    if args.step:
        print(json.dumps(step(db, args.step)))
        return
    shutil.rmtree(folder, ignore_errors=True)
    t = time.perf_counter()
    make_db(folder, args.kind)
    print(f"made {db} in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    shutil.rmtree(folder / f"{args.kind}.analyst", ignore_errors=True)  # an ingest published it
    (folder / f"{args.kind}.analyst.duckdb").unlink(missing_ok=True)
    with duckdb.connect(str(db), read_only=True) as con:
        size = con.execute("SELECT (SELECT count(*) FROM samples), (SELECT count(DISTINCT athlete_id) "
                           "FROM activities)").fetchone()
    print(f"{args.kind}: {size[0]:,} samples, {size[1]} athletes, DB {db.stat().st_size / 1e6:.0f} MB")  # type: ignore[index]
    plan = PLAN if args.kind != "sample" else PLAN[:5] + PLAN[-1:]
    labels = LABELS if args.kind != "sample" else LABELS[:5] + LABELS[-1:]
    for name, label in zip(plan, labels, strict=True):
        done = subprocess.run([sys.executable, __file__, "--kind", args.kind, "--dir", str(args.dir), "--step", name],
                              check=True, capture_output=True, text=True)
        print(f"{label:45} {json.loads(done.stdout)}", flush=True)
    root = folder / f"{args.kind}.analyst"
    current = [p for p in root.rglob("*.parquet") if not p.relative_to(root).as_posix().startswith(".store/")]
    stored = {(s.st_dev, s.st_ino): s.st_size for s in (p.stat() for p in root.rglob("*.parquet"))}  # links once
    print(f"analyst layer: {len(current)} Parquet files, {sum(stored.values()) / 1e6:.0f} MB on disk "
          f"(with the store's retired files)")


if __name__ == "__main__":
    main()
