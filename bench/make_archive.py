"""The benchmark archive: ``n`` one-hour 1 Hz FIT runs with heart rate and GPS.

Generated once (fixed seed, so the files are always the same) into ``bench/.cache/fit{n}/``
(git-ignored) and reused afterwards. fit-tool needs 2-3 s per file, so the first call takes a
few minutes and uses a pool of two processes; later calls return at once.

From a bench script::

    from bench.make_archive import ensure_archive
    folder = ensure_archive()          # Path to 120 .fit files

or from the command line: ``.venv/bin/python bench/make_archive.py [--n 120]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta
from multiprocessing import Pool
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO / "scripts") not in sys.path:
    sys.path.insert(0, str(REPO / "scripts"))

import fitgen  # noqa: E402  (scripts/ is not a package)

CACHE = REPO / "bench" / ".cache"
SEED = 120_120
LOCAL_ZONE = ZoneInfo("Europe/Berlin")  # only sets the activity's local_timestamp
FIRST_START = datetime(2025, 1, 6, 5, 30, tzinfo=UTC)  # one run a day from Monday 2025-01-06
RUN_SECONDS = 3600
LOOPS = [  # (lat, lon, radius m): Berlin parks
    (52.4400, 13.2090, 700.0),
    (52.5145, 13.3501, 550.0),
    (52.4732, 13.4015, 900.0),
    (52.4870, 13.2390, 1200.0),
]

__all__ = ["archive_dir", "ensure_archive", "run_path"]


def archive_dir(n: int = 120) -> Path:
    """Folder of the archive with ``n`` runs."""
    return CACHE / f"fit{n}"


def run_path(folder: Path, index: int) -> Path:
    """File name of run ``index`` in ``folder``."""
    return folder / f"run_{index:03d}.fit"


def run_start(index: int) -> datetime:
    """Run ``index`` is on day ``index`` at a morning or evening time: no two runs overlap."""
    hour_shift = (0, 1, 12, 13)[index % 4]
    return FIRST_START + timedelta(days=index, hours=hour_shift)


def run_segments(index: int) -> list[fitgen.Segment]:
    """One hour: mostly easy runs, every fourth a 30-minute tempo between warm-up and cool-down."""
    rng = np.random.default_rng(SEED + index)
    if index % 4 == 3:
        return fitgen.tempo_run(1800, warmup_s=1080, cooldown_s=720)
    return fitgen.easy_run(RUN_SECONDS, speed_mps=float(rng.uniform(2.8, 3.3)), hr=float(rng.uniform(135, 150)))


def make_run(job: tuple[int, str]) -> str:
    """Pool worker: write run ``index`` into ``folder``; returns its path."""
    index, folder = job
    lat, lon, radius = LOOPS[index % len(LOOPS)]
    route = fitgen.loop_route(lat, lon, radius, seed=SEED + index)
    start = run_start(index)
    track = fitgen.synth_run(start, run_segments(index), seed=SEED + index, route=route)
    offset = int(start.astimezone(LOCAL_ZONE).utcoffset().total_seconds())  # type: ignore[union-attr]
    return str(fitgen.write_run_fit(track, run_path(Path(folder), index), utc_offset_s=offset))


def ensure_archive(n: int = 120, *, jobs: int = 2) -> Path:
    """Return the folder with ``n`` generated runs, generating the missing ones first."""
    folder = archive_dir(n)
    missing = [i for i in range(n) if not run_path(folder, i).is_file()]
    if not missing:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    with Pool(max(1, min(jobs, len(missing)))) as pool:
        pool.map(make_run, [(i, str(folder)) for i in missing], chunksize=1)
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate the benchmark FIT archive (once).")
    parser.add_argument("--n", type=int, default=120, help="number of one-hour runs")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    folder = ensure_archive(args.n, jobs=args.jobs)
    files = sorted(folder.glob("*.fit"))
    size = sum(p.stat().st_size for p in files)
    print(f"{folder}: {len(files)} files, {size / 1e6:.1f} MB, {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
