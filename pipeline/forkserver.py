"""runlift's child processes: the parse workers, and a function run in a fresh process.

All are forked by one forkserver (started on first use), so a child costs a fork of a small
process rather than a new interpreter importing runlift; each ignores Ctrl-C (runlift handles
it and stops them) and ends with runlift, even a SIGKILLed one (:mod:`pipeline.orphans`).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from typing import Any, TypeVar

from pipeline.errors import ChildDied
from pipeline.orphans import PARENT_ENV, exit_when_gone

T = TypeVar("T")


def context() -> BaseContext:
    ctx = multiprocessing.get_context("forkserver")
    # the forkserver and its workers end with runlift, even a SIGKILLed one (pipeline.orphans); it
    # is told runlift's pid, since runlift may die while it still imports and re-parent it first
    os.environ[PARENT_ENV] = str(os.getpid())
    # the forkserver starts as `python -c`, whose sys.path begins with the working folder: a
    # folder holding a `pipeline/` of its own would be imported instead of runlift's (-P: not so);
    # left set, so every later child (Prefect's server, Dask's workers) imports only installed code
    os.environ["PYTHONSAFEPATH"] = "1"
    ctx.set_forkserver_preload(["pipeline.orphans_forkserver", "pipeline.parsers", "pipeline.parsers.fit", "pyarrow"])
    return ctx


def init_child() -> None:
    """Children leave Ctrl-C to runlift, which stops them (a child's KeyboardInterrupt is a traceback).

    Each child also ends with runlift on its own: one forked while the forkserver's watchdog
    was killing its children would otherwise be missed by it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    exit_when_gone(int(os.environ[PARENT_ENV]) if os.environ.get(PARENT_ENV) else None)


@contextmanager
def sigint_blocked() -> Iterator[None]:
    """Threads and processes started in here (the forkserver, a child, a Dask cluster's loop and
    workers) inherit SIGINT blocked, so a Ctrl-C while they still import is no traceback of theirs
    (the resource tracker does the same): it is runlift's to handle, delivered when the block ends."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def call_in_fresh_process(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in a fresh child process: its result, or its exception raised here. ``fn`` and
    ``args`` travel by pickle (``fn`` by name). Ctrl-C here kills the child, whose open DuckDB
    transaction is then rolled back by the next open, as after any crash."""
    ctx = context()
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_call, args=(fn, args, send), name=f"runlift {fn.__name__}")  # type: ignore[attr-defined]
    with sigint_blocked():
        child.start()
    send.close()
    try:
        ok, value = receive.recv()
    except EOFError:
        child.join()
        code = child.exitcode or 0
        how = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
        raise ChildDied(f"the {fn.__name__} step's process {how} before it finished; "
                        "what it had not committed was rolled back (run the command again)") from None
    except BaseException:  # Ctrl-C while waiting: the child ignores it, so it is stopped here
        child.kill()
        raise
    finally:
        child.join()
        receive.close()
    if ok:
        return value
    raise value


def _call(fn: Callable[..., Any], args: tuple[Any, ...], send: Connection) -> None:
    init_child()
    try:
        result: tuple[bool, Any] = (True, fn(*args))
    except Exception as err:  # noqa: BLE001 - every failure goes back to the caller
        result = (False, err)
    try:
        send.send(result)
    except Exception:  # noqa: BLE001 - an exception that does not pickle (a C extension's): its text
        traceback.print_exception(result[1])
        send.send((False, RuntimeError(f"{type(result[1]).__name__}: {result[1]}")))
