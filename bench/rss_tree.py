"""Peak RSS of each process of a command's tree, sampled (not a timed test): which process holds
the memory. ``ru_maxrss`` of the tree (bench/scale_bench.py's ``timed``) names only the largest,
and a child forked from a big parent reports the parent's high-water mark as its own; VmHWM in
/proc is each process's own.

Usage:  .venv/bin/python bench/rss_tree.py [--every S] [--trace FILE] -- COMMAND...
Prints one line per process (pid, its own peak VmHWM as last read, up to ``--every`` before it
ended, when its sampled RSS peaked, its command), the wall time and the tree's ru_maxrss;
``--trace`` writes every sample (seconds, pid, VmRSS MiB) as CSV.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Seen:
    cmd: str
    hwm_kib: int = 0
    rss_kib: int = 0
    peak_rss_at: float = 0.0


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        kids.setdefault(ppid, []).append(int(entry.name))
    return kids


def _tree(root: int) -> list[int]:
    kids, todo, out = _children(), [root], []
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(kids.get(pid, []))
    return out


def _status(pid: int) -> tuple[int, int] | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    try:
        return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])
    except KeyError:  # a zombie
        return None


def _cmd(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")[:160]
    except OSError:
        return "?"


@dataclass
class Tree:
    wall: float
    returncode: int
    procs: dict[int, Seen]
    root: int
    maxrss_kib: int  # ru_maxrss of the tree (exact, but only the largest, and see the docstring)

    def role(self, pid: int) -> str:
        """What the process is: runlift's own (with a LocalCluster's scheduler and nannies in it),
        a Dask worker (spawned by a nanny), a process-pool worker (forkserver), a helper."""
        cmd = self.procs[pid].cmd
        if pid == self.root:
            return "main"
        if "resource_tracker" in cmd:
            return "resource tracker"
        if "multiprocessing.spawn" in cmd:
            return "dask worker"
        if "forkserver" in cmd:
            return "pool worker"
        return cmd.split(" ", 1)[0]

    def peaks(self) -> list[tuple[str, float]]:
        """(role, own peak MiB) of every process, the largest first."""
        largest_first = sorted(self.procs.items(), key=lambda kv: -kv[1].hwm_kib)
        return [(self.role(pid), s.hwm_kib / 1024) for pid, s in largest_first]


def sample(cmd: list[str], every: float = 0.5, trace: Path | None = None, cwd: Path | None = None,
           stderr: int | None = None) -> Tree:
    """Run ``cmd``, sampling its tree's VmRSS/VmHWM every ``every`` seconds."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=stderr, cwd=cwd,
                            env={**os.environ, "PREFECT_API_URL": ""})
    seen: dict[int, Seen] = {}
    out = trace.open("w") if trace else None
    try:
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            now = time.perf_counter() - t0
            for pid in _tree(proc.pid):
                st = _status(pid)
                if st is None:
                    continue
                s = seen.setdefault(pid, Seen(_cmd(pid)))
                rss, hwm = st
                s.hwm_kib = max(s.hwm_kib, hwm)
                if rss > s.rss_kib:
                    s.rss_kib, s.peak_rss_at = rss, now
                if out:
                    out.write(f"{now:.1f},{pid},{rss / 1024:.0f}\n")
            time.sleep(every)
    finally:
        if out:
            out.close()
    return Tree(time.perf_counter() - t0, os.waitstatus_to_exitcode(status), seen, proc.pid, usage.ru_maxrss)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--every", type=float, default=0.5)
    ap.add_argument("--trace", type=Path, default=None)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    tree = sample(args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd, args.every, args.trace)
    print(f"exit {tree.returncode}, wall {tree.wall:.1f} s, ru_maxrss {tree.maxrss_kib / 1024:.0f} MiB")
    for pid, s in sorted(tree.procs.items(), key=lambda kv: -kv[1].hwm_kib):
        print(f"{pid:>8} {tree.role(pid):<16} hwm {s.hwm_kib / 1024:6.0f} MiB  max sampled rss "
              f"{s.rss_kib / 1024:6.0f} MiB at {s.peak_rss_at:6.1f} s  {s.cmd}")
    sys.exit(tree.returncode)


if __name__ == "__main__":
    main()
