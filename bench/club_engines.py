"""Club benchmark end to end (not a timed test): the whole club archive through the CLI on the
process pool and on a Dask LocalCluster, with the same results required.

For each engine, in a fresh folder: `runlift ingest <inbox>` then `runlift build --full`, each a
whole process (wall seconds, peak RSS of the largest process of its tree, as bench/scale_bench.py
measures them, and each process's own peak, bench/rss_tree.py's: runlift's main process, which
holds a LocalCluster's scheduler and nannies, and each worker); then the digest of every raw
table, the ingest log and the flags (bench/dask_bench.py's) must be equal across engines. Dask
here is ``task_runner = "dask"`` with no ``dask_address``: the command starts its own LocalCluster
(one worker per core), as a user's first try would.

Usage:  .venv/bin/python bench/club_engines.py CLUB_DIR [--engines processes,dask] [--work DIR]
CLUB_DIR from ``python bench/fast_archive.py club --out CLUB_DIR --athletes 200 --weeks 52``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from dask_bench import digest  # noqa: E402
from rss_tree import Tree, sample  # noqa: E402


def config_for(club: Path, engine: str, folder: Path) -> Path:
    """The club's config with ``[engine] task_runner`` set (the archive's config has no [engine]);
    its inbox path made absolute, since athletes are known by their folder under it."""
    text = (club / "runlift.toml").read_text().replace('path = "./inbox"', f'path = "{(club / "inbox").resolve()}"')
    if "[engine]" in text:
        raise SystemExit(f"{club / 'runlift.toml'} already has an [engine] table")
    path = folder / "runlift.toml"
    path.write_text(f'{text}\n[engine]\ntask_runner = "{engine}"\n')
    return path


def digest_apart(db: Path) -> str:
    """The digest, taken in a child process: this one must stay small, since a child forked from
    it reports this process's peak RSS as its own (Linux keeps the high-water mark across exec)."""
    return subprocess.run([sys.executable, __file__, "--digest", str(db)], capture_output=True, text=True,
                          check=True).stdout.strip()


def timed(cmd: list[str]) -> Tree:
    """The command, sampled; never run from this checkout's folder (another checkout's parse workers
    would import its `pipeline`)."""
    with tempfile.TemporaryFile() as err:
        tree = sample(cmd, cwd=Path(tempfile.gettempdir()), stderr=err.fileno())
        if tree.returncode != 0:
            err.seek(0)
            raise SystemExit(f"command failed ({tree.returncode}): {' '.join(cmd)}\n"
                             f"{err.read().decode(errors='replace')[-2000:]}")
    return tree


def per_process(tree: Tree) -> str:
    return ", ".join(f"{role} {mib:.0f}" for role, mib in tree.peaks() if role != "resource tracker")


def main() -> None:
    if sys.argv[1:2] == ["--digest"]:
        print(digest(Path(sys.argv[2])))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("club", type=Path)
    ap.add_argument("--engines", default="processes,dask")
    ap.add_argument("--work", type=Path, default=None, help="folder for the engines' DBs (default: the temp dir)")
    args = ap.parse_args()
    if args.work is not None:
        args.work.mkdir(parents=True, exist_ok=True)
    runlift = Path(sys.executable).parent / "runlift"
    digests: dict[str, str] = {}
    print("| engine | ingest | ingest peak RSS | ingest, each process's own peak (MiB) | build --full "
          "| build peak RSS | DB |")
    print("|---|---|---|---|---|---|---|")
    for engine in args.engines.split(","):
        with tempfile.TemporaryDirectory(prefix=f"club-{engine}-", dir=args.work) as tmp:
            folder = Path(tmp)
            db, config = folder / "runlift.duckdb", config_for(args.club, engine, folder)
            base = [str(runlift), "--db", str(db), "--config", str(config)]
            ingest = timed([*base, "ingest", str(args.club / "inbox")])
            build = timed([*base, "build", "--full"])
            digests[engine] = digest_apart(db)
            mb = db.stat().st_size / 1e6
            print(f"| {engine} | {ingest.wall:.1f} s | {ingest.maxrss_kib / 1024:.0f} MiB | {per_process(ingest)} "
                  f"| {build.wall:.1f} s | {build.maxrss_kib / 1024:.0f} MiB | {mb:.0f} MB |", flush=True)
    first, *rest = digests.values()
    same = all(d == first for d in rest)
    print(f"\nsame rows and flags on every engine: {'yes' if same else 'NO'}")
    print(first.replace("; ", "\n"))
    if not same:
        for engine, d in digests.items():
            print(f"{engine}: {d}")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
