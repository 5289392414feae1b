"""No process outlives the runlift command that started it (SPEC: "a killed runlift process never
leaves worker processes behind").

A SIGKILLed runlift cannot clean up, so the parse pool's forkserver watches for it:
:func:`exit_with_parent` starts a daemon thread that, once the parent is gone (the parent pid
changes when it dies and the process is re-parented), kills the processes it forked (the parse
workers, some of which may still be waiting for the dead parent's start-up data) and ends itself.
The forkserver runs it through :mod:`pipeline.orphans_forkserver`, a forkserver preload. Polling
rather than Linux's PR_SET_PDEATHSIG, because that fires when the parent *thread* ends, and the
thread that started the forkserver may end long before runlift does. The multiprocessing resource
tracker then ends by itself: the last process holding its pipe is gone.

A Prefect API server started for runlift (a tracked run's temporary one, `serve`'s) runs none of
our code, so a watchdog process (:func:`end_descendants_with_this_process`) ends it once runlift is gone.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

POLL_S = 0.2
STOP_GRACE_S = 5.0  # a watched server's time to stop on SIGTERM before it is SIGKILLed
PARENT_ENV = "RUNLIFT_POOL_PARENT"  # the pid a forkserver must outlive (set by whoever starts it)


def exit_with_parent(parent: int | None = None) -> None:
    """Once this process's parent dies: SIGKILL this process's children, then exit (status 1).

    ``parent``: the pid of the process that started this one, when known. A spawned process runs
    this only after its imports (seconds): a parent killed meanwhile has re-parented it already,
    which only the pid it was started by can tell."""
    parent = os.getppid() if parent is None else parent

    _end_when(lambda: os.getppid() != parent)


def _end_when(gone: Callable[[], bool]) -> None:
    """A daemon thread that, once ``gone()``, SIGKILLs this process's children and exits (status 1)."""

    def watch() -> None:
        while not gone():
            time.sleep(POLL_S)
        for pid in children():
            with contextlib.suppress(OSError):  # it ended meanwhile
                os.kill(pid, signal.SIGKILL)
        os._exit(1)

    threading.Thread(target=watch, name="end-with-runlift", daemon=True).start()


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, killed but not yet reaped, does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def exit_when_gone(pid: int | None) -> None:
    """End this process (and its children) once ``pid`` no longer runs; at once when it is gone
    already. For a pool worker, whose parent is the forkserver rather than runlift itself."""
    if pid is None or not Path("/proc").is_dir():
        return
    if not _alive(pid):
        os._exit(1)
    _end_when(lambda: not _alive(pid))


def children(of: int | None = None) -> list[int]:
    """Pids whose parent is ``of`` (default: this process), from /proc; [] where there is no /proc."""
    me = of or os.getpid()
    found = []
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = entry.read_text().rsplit(")", 1)[1].split()  # after "pid (comm)": state, ppid, ...
        except (OSError, IndexError):
            continue
        if int(fields[1]) == me:
            found.append(int(entry.parent.name))
    return found



OWNER_ENV = "RUNLIFT_OWNER"  # inherited by every process started after end_descendants_with_this_process
_watchdog: list[subprocess.Popen] = []  # held: started once, and never collected while it runs


def end_descendants_with_this_process() -> None:
    """Start a watchdog that, once this process is gone (SIGKILLed included), ends every process
    started from here on, whoever its parent is by then, and then itself. For what runs none of
    our code, so cannot watch for runlift itself: Prefect's API servers (a tracked run's temporary
    one, `serve`'s), which Prefect stops only on a clean exit. They are found by an environment
    variable they inherit: they need not be known (nor have started) when the watchdog starts."""
    if _watchdog:
        return
    owner = f"{os.getpid()}-{time.time_ns()}"
    os.environ[OWNER_ENV] = owner
    cmd = [sys.executable, "-P", "-m", "pipeline.orphans_watchdog", str(os.getpid()), owner]
    # its own session: a Ctrl-C meant for runlift does not end the watchdog before it is needed
    _watchdog.append(subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, start_new_session=True))


def owned_by(owner: str) -> list[int]:
    """Pids of the live processes (but this one) whose environment carries ``owner``."""
    mark, me, found = f"\0{OWNER_ENV}={owner}\0".encode(), os.getpid(), []
    for proc in Path("/proc").glob("[0-9]*"):
        pid = int(proc.name)
        with contextlib.suppress(OSError):  # it ended meanwhile, or is another user's
            if pid != me and mark in b"\0" + (proc / "environ").read_bytes() + b"\0" and _alive(pid):
                found.append(pid)
    return found


def _wait_for_exit(pid: int) -> None:
    """Return once ``pid`` has ended: on a pidfd (Linux 5.3+), which a new process given the same
    pid cannot fool, else by polling it."""
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):  # no pidfd here, or it is gone already
        while _alive(pid):
            time.sleep(POLL_S)
        return
    try:
        select.select([fd], [], [])  # readable once it has ended
    finally:
        os.close(fd)


def watch(runlift: int, owner: str) -> None:
    """The watchdog's loop (:mod:`pipeline.orphans_watchdog`): once ``runlift`` no longer runs,
    SIGTERM to what it owned, then SIGKILL to what is left after :data:`STOP_GRACE_S`."""
    _wait_for_exit(runlift)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        deadline = time.monotonic() + STOP_GRACE_S
        for pid in owned_by(owner):
            with contextlib.suppress(OSError):
                os.kill(pid, sig)
        while owned_by(owner) and time.monotonic() < deadline:
            time.sleep(POLL_S)
