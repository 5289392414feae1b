"""Scale benchmark (not a timed test): runlift on years of one runner's files and on a club.

Archives come from bench/fast_archive.py (time-shifted template runs, cached in bench/.cache/):
for each size N of ``--sizes``, N daily one-hour 1 Hz runs with HR + GPS plus two strength
sessions a week over the same days (Strong, then Hevy); and the club (``--club-athletes`` x ``--club-weeks``,
4 runs a week, smart recording, Strong/Hevy logs, ``inbox/<athlete id>/``).

Every figure is a whole `runlift` process (start-up included; wall seconds; peak RSS = the
largest process of its tree, from wait4), each on its own DB in a temporary folder:

  ingest        `ingest` of the archive into a fresh DB
  limit         runlift's own parsers on every file in a pool of the same size, no DB (same checkout)
  re-sync       `ingest` of the unchanged archive again
  build         `build --full` (plain `build` where the CLI has no --full), first build of the DB
  flags/report  `flags`; `report` of the last complete week
  new file      one run after the last day: `ingest` of it + `build` (incremental), on a copy of the DB;
                and the same run by `run` (ingest, then build, in one process), on another copy
  DB            the DuckDB file after the build

With ``--vs PATH`` (another checkout's runlift), each step runs for both, A then B (B then A in
odd rounds), so machine drift hits both alike; the ratio A/B is taken step by step.
Usage:  .venv/bin/python bench/scale_bench.py [--sizes 120,500,1500,3000] [--rounds 1]
            [--club-athletes 200] [--club-weeks 52] [--only ten-years|club] [--runlift PATH] [--vs PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "bench" / ".cache"
TIMEOUT_S = 3 * 3600


# --------------------------------------------------------------------------- parser limit (in a child)


def _parse_one(path: str) -> int:
    from pipeline.parsers import detect_format, parse
    from pipeline.parsers.records import ParseContext

    data = Path(path).read_bytes()
    fmt = detect_format(path, data[:4096])
    if fmt is None:
        return 0
    result = parse(data, path, fmt, ParseContext(timezone="Europe/Berlin"))
    return sum(len(a.samples) for a in result.activities) + sum(len(s.sets) for s in result.sessions)


def parser_limit(paths: list[str]) -> None:
    """runlift's parsers alone on every file, one process per core (ingest's pool size), no DB.
    Run by the checkout's own python, so it measures that checkout's parsers."""
    from concurrent.futures import ProcessPoolExecutor

    files = sorted(str(p) for root in paths for p in ([Path(root)] if Path(root).is_file() else Path(root).rglob("*"))
                   if p.is_file() and p.suffix in (".fit", ".csv"))
    with ProcessPoolExecutor(max_workers=len(os.sched_getaffinity(0))) as pool:
        for _ in pool.map(_parse_one, files, chunksize=4):
            pass


# --------------------------------------------------------------------------- measuring


@dataclass
class Run:
    wall: float
    rss_mib: float


def timed(cmd: list[str], cwd: Path | None = None) -> Run:
    """Wall seconds and peak RSS (MiB, the largest process of the command's tree) of a command."""
    t0 = time.perf_counter()
    # never this checkout's folder: another checkout's parse workers would import its `pipeline`
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=cwd or tempfile.gettempdir(),
                            env={**os.environ, "PREFECT_API_URL": ""})
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{err.decode(errors='replace')[-2000:]}")
    return Run(wall, usage.ru_maxrss / 1024)


@dataclass
class Checkout:
    """One runlift to measure: its executable, its python (for the parser limit), its own work folder."""

    label: str
    runlift: Path
    work: Path
    full: bool = False  # its `build` has --full
    results: dict[str, list[Run]] = field(default_factory=dict)

    @classmethod
    def of(cls, label: str, runlift: Path, work: Path) -> Checkout:
        runlift = runlift.absolute()  # the venv's bin/ link, not its target: python must stay the venv's
        helps = subprocess.run([str(runlift), "build", "--help"], capture_output=True, text=True, check=True).stdout
        return cls(label, runlift, work, full="--full" in helps)

    @property
    def python(self) -> Path:
        return self.runlift.parent / "python"

    def cli(self, db: Path, config: Path, *args: str) -> list[str]:
        return [str(self.runlift), "--db", str(db), "--config", str(config), *args]

    def add(self, step: str, run: Run) -> None:
        self.results.setdefault(step, []).append(run)


@dataclass
class Scenario:
    """An archive to measure: its config, what to ingest, one later run, and the as-of date."""

    name: str
    config: Path
    ingest: list[Path]
    next_run: Path
    next_athlete: str | None
    as_of: date
    files: int


def week_before(as_of: date) -> str:
    """ISO week of the last complete week before ``as_of``."""
    year, week, _ = (as_of - timedelta(days=as_of.isoweekday())).isocalendar()
    return f"{year}-W{week:02d}"


def measure(scenario: Scenario, checkouts: list[Checkout], rounds: int) -> None:
    """Every step for every checkout, round by round, alternating which goes first."""
    paths = [str(p) for p in scenario.ingest]
    as_of = ["--as-of", scenario.as_of.isoformat()]
    nxt = [str(scenario.next_run)] + (["--athlete", scenario.next_athlete] if scenario.next_athlete else [])
    me = [str(Path(__file__).resolve())]

    def steps(c: Checkout, r: int) -> list[tuple[str, Callable[[], Run]]]:
        key = "".join(ch for ch in scenario.name if ch.isalnum())
        db, cfg = c.work / f"{key}-{r}.duckdb", scenario.config
        new_db, run_db = c.work / f"{key}-{r}-new.duckdb", c.work / f"{key}-{r}-run.duckdb"
        build = ["build", *as_of] + (["--full"] if c.full else [])
        return [
            ("ingest", lambda: timed(c.cli(db, cfg, "ingest", *paths))),
            ("count", lambda: _check_runs(c, db, cfg, scenario.files)),
            ("limit", lambda: timed([str(c.python), *me, "parsers", *paths], cwd=c.work)),
            ("resync", lambda: timed(c.cli(db, cfg, "ingest", *paths))),
            ("build", lambda: timed(c.cli(db, cfg, *build))),
            ("flags", lambda: timed(c.cli(db, cfg, "flags"))),
            ("report", lambda: timed(c.cli(db, cfg, "report", "--week", week_before(scenario.as_of),
                                           "--out", str(c.work / "reports")))),
            ("copy", lambda: _copy_db(db, new_db)),
            ("new_ingest", lambda: timed(c.cli(new_db, cfg, "ingest", *nxt))),
            ("new_build", lambda: timed(c.cli(new_db, cfg, "build", *as_of))),
            ("copy", lambda: _copy_db(db, run_db)),
            ("new_run", lambda: timed(c.cli(run_db, cfg, "run", *nxt, *as_of))),
            ("db_mb", lambda: _db_mb(db)),
            ("clean", lambda: _clean(c.work)),
        ]

    for r in range(rounds):
        order = checkouts if r % 2 == 0 else checkouts[::-1]
        plans = {c.label: steps(c, r) for c in order}
        for i in range(len(plans[order[0].label])):
            for c in order:
                step, run = plans[c.label][i]
                result = run()
                if step not in ("copy", "clean", "count"):
                    c.add(f"{scenario.name}:{step}", result)
                    units = ("MB,", "MB beside") if step == "db_mb" else ("s,", "MiB")
                    print(f"  [{scenario.name} round {r + 1}] {c.label} {step}: {result.wall:.2f} {units[0]} "
                          f"{result.rss_mib:.0f} {units[1]}", file=sys.stderr, flush=True)


def _check_runs(c: Checkout, db: Path, cfg: Path, runs: int) -> Run:
    """Untimed: the ingest loaded every run (a figure over fewer would be no figure). Read from the
    DB file itself: an older checkout's `runlift sql` reads a snapshot only its build publishes."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute("SELECT count(*) FROM raw.activities WHERE sport = 'running'").fetchone()
        held = int(row[0]) if row else 0
        if held != runs:
            log = con.execute("SELECT status, count(*), any_value(reason) FROM ingest_log GROUP BY ALL").fetchall()
            raise SystemExit(f"{c.label}: {db} holds {held} runs, expected {runs}; ingest_log: {log}")
    finally:
        con.close()
    return Run(0.0, 0.0)


def _siblings(db: Path) -> list[Path]:
    """The DB and what runlift keeps beside it (WAL, analyst snapshot): names starting "<stem>."."""
    return sorted(db.parent.glob(db.stem + ".*"))


def _copy_db(db: Path, to: Path) -> Run:
    for p in _siblings(db):
        target = to.with_name(to.stem + p.name[len(db.stem):])
        shutil.copytree(p, target) if p.is_dir() else shutil.copyfile(p, target)
    return Run(0.0, 0.0)


def _mb(path: Path) -> float:
    """Disk use of a file or folder: a file hard-linked twice (the analyst tree and its store) once."""
    files = path.rglob("*") if path.is_dir() else [path]
    sizes = {(s.st_dev, s.st_ino): s.st_size for s in (f.stat() for f in files if f.is_file())}
    return sum(sizes.values()) / 1e6


def _db_mb(db: Path) -> Run:
    """MB of the DB file (and its WAL) as ``wall``, of the rest (analyst snapshot) as ``rss_mib``."""
    own = _mb(db) + (_mb(db.with_name(db.name + ".wal")) if db.with_name(db.name + ".wal").exists() else 0.0)
    return Run(own, sum(_mb(p) for p in _siblings(db)) - own)


def _clean(work: Path) -> Run:
    for p in work.iterdir():
        shutil.rmtree(p) if p.is_dir() else p.unlink()
    return Run(0.0, 0.0)


# --------------------------------------------------------------------------- archives


def _make(kind: str, out: Path, *args: str) -> dict[str, object]:
    """Make (or find cached) an archive in a child process: this process stays small, since a
    measured command's peak RSS cannot read below that of the process that started it."""
    subprocess.run([sys.executable, str(ROOT / "bench" / "fast_archive.py"), kind, "--out", str(out), *args],
                   check=True, stdout=subprocess.DEVNULL)
    return dict(json.loads((out / ".fast_archive.json").read_text())["summary"])


def _scenario(name: str, root: Path, summary: dict[str, object], athlete: str | None) -> Scenario:
    nexts: dict[str, str] = summary["next"]  # type: ignore[assignment]
    ingest: list[str] = summary["ingest"]  # type: ignore[assignment]
    aid, nxt = next(iter(nexts.items()))
    next_day = date.fromisoformat(str(summary["next_day"]))
    return Scenario(name, root / "runlift.toml", [root / p for p in ingest], root / nxt,
                    aid if athlete else None, next_day + timedelta(days=1), int(str(summary["runs"])))


def ten_years_scenario(size: int) -> Scenario:
    root = CACHE / f"scale-{size}"
    summary = _make("ten-years", root, "--days", str(size), "--strength-days", str(size))
    return _scenario(f"{size} runs", root, summary, None)


def club_scenario(athletes: int, weeks: int) -> Scenario:
    root = CACHE / (f"club-{athletes}" if weeks == 52 else f"club-{athletes}x{weeks}")
    summary = _make("club", root, "--athletes", str(athletes), "--weeks", str(weeks))
    return _scenario(f"club {athletes} x {weeks} w", root, summary, "athlete")


# --------------------------------------------------------------------------- tables


def _secs(runs: list[Run]) -> str:
    lo, hi = min(r.wall for r in runs), max(r.wall for r in runs)
    return f"{lo:.1f} s" if f"{lo:.1f}" == f"{hi:.1f}" else f"{lo:.1f}–{hi:.1f} s"


def _rss(runs: list[Run]) -> str:
    return f"{max(r.rss_mib for r in runs):.0f} MiB"


def _sum(a: list[Run], b: list[Run]) -> list[Run]:
    return [Run(x.wall + y.wall, max(x.rss_mib, y.rss_mib)) for x, y in zip(a, b, strict=True)]


def table(c: Checkout, scenarios: list[Scenario]) -> str:
    """The issue's table, and the other figures, for one checkout."""
    head = ("| archive | ingest | peak RSS | DB (+ beside it) | one new file into it (peak RSS) "
            "| one new file by `run` (peak RSS) | build (peak RSS) "
            "| re-sync unchanged | ingest / parsers alone | flags | report (peak RSS) |")
    lines = [f"**{c.label}** (`{c.runlift}`)", "", head, "|" + "---|" * 11]
    for s in scenarios:
        g = {k.split(":", 1)[1]: v for k, v in c.results.items() if k.split(":", 1)[0] == s.name}
        new = _sum(g["new_ingest"], g["new_build"])
        ratio = statistics.median(a.wall / b.wall for a, b in zip(g["ingest"], g["limit"], strict=True))
        build = "build --full" if c.full else "build"
        db = f"{max(r.wall for r in g['db_mb']):.0f} MB (+{max(r.rss_mib for r in g['db_mb']):.0f})"
        lines.append(
            f"| {s.name} | {_secs(g['ingest'])} | {_rss(g['ingest'])} | {db} "
            f"| {_secs(new)} ({_rss(new)}; ingest {_secs(g['new_ingest'])}, build {_secs(g['new_build'])}) "
            f"| {_secs(g['new_run'])} ({_rss(g['new_run'])}) "
            f"| {_secs(g['build'])} ({_rss(g['build'])}{'' if c.full else ', ' + build}) | {_secs(g['resync'])} "
            f"| {ratio:.2f}× ({_secs(g['limit'])}) | {_secs(g['flags'])} "
            f"| {_secs(g['report'])} ({_rss(g['report'])}) |")
    return "\n".join(lines)


RATIO_STEPS = [("ingest", "ingest"), ("ingest RSS", "ingest"), ("DB", "db_mb"), ("one new file", "new"),
               ("one new file RSS", "new"), ("one new file by run", "new_run"),
               ("build", "build"), ("build RSS", "build"), ("re-sync", "resync"),
               ("flags", "flags"), ("report", "report"), ("report RSS", "report")]


def ratio_table(a: Checkout, b: Checkout, scenarios: list[Scenario]) -> str:
    """A/B per step: the median of the round-by-round ratios (RSS: of the peaks)."""
    lines = [f"**{a.label} / {b.label}** (median of paired ratios; < 1 means {a.label} is cheaper)", "",
             "| archive | " + " | ".join(n for n, _ in RATIO_STEPS) + " |", "|" + "---|" * (len(RATIO_STEPS) + 1)]
    for s in scenarios:
        cells = []
        for name, step in RATIO_STEPS:
            ra, rb = (_step(c, s, step) for c in (a, b))
            if name.endswith("RSS"):
                cells.append(f"{max(r.rss_mib for r in ra) / max(r.rss_mib for r in rb):.2f}")
            else:
                cells.append(f"{statistics.median(x.wall / y.wall for x, y in zip(ra, rb, strict=True)):.2f}")
        lines.append(f"| {s.name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _step(c: Checkout, s: Scenario, step: str) -> list[Run]:
    if step == "new":
        return _sum(c.results[f"{s.name}:new_ingest"], c.results[f"{s.name}:new_build"])
    return c.results[f"{s.name}:{step}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", nargs="?", choices=["parsers"], help=argparse.SUPPRESS)
    parser.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
    parser.add_argument("--sizes", default="120,500,1500,3000", help="ten-year archive sizes (runs)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--club-athletes", type=int, default=200, help="0: no club")
    parser.add_argument("--club-weeks", type=int, default=52)
    parser.add_argument("--only", choices=["ten-years", "club"])
    parser.add_argument("--runlift", type=Path, default=ROOT / ".venv" / "bin" / "runlift",
                        help="runlift to measure (A)")
    parser.add_argument("--vs", type=Path, help="another checkout's runlift (B), measured alternately with A")
    opts = parser.parse_args()
    if opts.mode == "parsers":
        return parser_limit(opts.paths)

    t0 = time.perf_counter()
    scenarios = []
    if opts.only != "club":
        scenarios += [ten_years_scenario(int(n)) for n in opts.sizes.split(",") if n]
    if opts.only != "ten-years" and opts.club_athletes > 0:
        scenarios.append(club_scenario(opts.club_athletes, opts.club_weeks))
    print(f"archives ready in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    work = Path(tempfile.mkdtemp(prefix="runlift-scale-"))
    try:
        checkouts = [Checkout.of("A", opts.runlift, work / "A")]
        if opts.vs:
            checkouts.append(Checkout.of("B", opts.vs, work / "B"))
        for c in checkouts:
            c.work.mkdir()
        for i, s in enumerate(scenarios):
            measure(s, checkouts, opts.rounds)
            if i < len(scenarios) - 1:  # so far, in case a long run is cut short
                print(tables(checkouts, scenarios[:i + 1], opts.rounds), file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(tables(checkouts, scenarios, opts.rounds))


def tables(checkouts: list[Checkout], scenarios: list[Scenario], rounds: int) -> str:
    cores = len(os.sched_getaffinity(0))
    out = [f"{rounds} round(s), {cores} cores, {date.today().isoformat()}; archives: "
           + ", ".join(f"{s.name} ({s.files} runs)" for s in scenarios) + "\n"]
    out += [table(c, scenarios) + "\n" for c in checkouts]
    if len(checkouts) == 2:
        out.append(ratio_table(checkouts[0], checkouts[1], scenarios))
    return "\n".join(out)


if __name__ == "__main__":
    main()
