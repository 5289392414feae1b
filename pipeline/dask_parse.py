"""Parsing on a Dask cluster (``[engine] task_runner = "dask"``): a :data:`ParseJobs` for the
plain CLI, and the loop the Prefect flow's ``DaskTaskRunner`` shares (``flows/ingest.py``).

Only parsing moves: the planner and the one DuckDB writer stay in runlift's process. What travels
to a worker is a :class:`Job` holding the file's bytes (read and checked against the planner's
hash here), so workers need no shared disk, only runlift installed; what comes back is the
:class:`Parsed` without those bytes.

Memory in runlift's process follows the work in flight, on the local cluster and on a user's:
at most :data:`IN_FLIGHT_PER_WORKER` batches per worker thread and
:data:`~pipeline.ingest.MAX_IN_FLIGHT_BYTES` of input pending (as the process pool), and no Dask
object of this process keeps a copy of the messages it sent (:func:`no_message_log`).

A parser that kills its worker (a crash in C, the OOM killer) must not lose the other files: the
scheduler reports the tasks that were on the dead worker as ``KilledWorker``; those are parsed
again one file at a time with nothing else in flight, and the file that kills a worker on its own
is refused, as the process pool does. On the local cluster runlift starts, the scheduler does not
retry a task on another worker first (``allowed_failures=0``): the solo run is the retry.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from itertools import chain, islice
from typing import TYPE_CHECKING, Any

from pipeline.errors import ConfigError
from pipeline.forkserver import sigint_blocked
from pipeline.ingest import (
    MAX_IN_FLIGHT_BYTES,
    PARSE_TIMEOUT_S,
    Job,
    Parsed,
    ParseJobs,
    Pending,
    default_workers,
    parse_batch,
)

if TYPE_CHECKING:
    from distributed import LocalCluster

CRASHED = "the parser crashed on this file (its Dask worker died); refused"
WORKER_WAIT_S = 30.0  # a scheduler with no worker after this long is a setup error, said so
STALL_S = PARSE_TIMEOUT_S + 60.0  # no result this long after we wait for it: parsing stops
STUCK = "no Dask worker finished the file within {s:g} s"
IN_FLIGHT_PER_WORKER = 4
PROBE_S = 5.0  # while waiting for a result, how often ``alive`` is asked
# Dask keeps the last messages of every batched stream for debugging (distributed.admin.low-level-log-
# length, 1000 by default): a task's message holds its files' bytes, so the client's stream to the
# scheduler and the local scheduler's to each worker held ~3,000 files (~100 MB of the club's ingest)
MESSAGE_LOG = {"distributed.admin.low-level-log-length": 0}
# each worker of the local cluster: far above a parse's need (a worker idles at ~190 MB); one beyond
# it is restarted by its nanny, and the file that does it alone is refused as crashing
WORKER_MEMORY_LIMIT = "2GiB"

Submit = Callable[[list[Job]], Pending[list[Parsed]]]


def _changed(job: Job, reason: str) -> Parsed:
    return Parsed(job, None, reason, transient=True)


def shipped(job: Job) -> Job | Parsed:
    """The job with its file's bytes in it (what a worker without our disk needs), or, when the
    file cannot be read or changed since the planner hashed it, the transient result."""
    if isinstance(job.content, bytes):
        return job
    try:
        data = job.content.read_bytes()
    except OSError as err:
        return _changed(job, f"cannot read the file: {err.strerror or err}")
    if hashlib.sha256(data).hexdigest() != job.source.sha256:  # what is parsed must be what is logged
        return _changed(job, "the file changed while it was read (still being written?)")
    return replace(job, content=data)


def parse_shipped(jobs: list[Job]) -> list[Parsed]:
    """Runs on a worker: parse, and send back the results without the files' bytes."""
    return [replace(p, job=replace(p.job, content=b"")) for p in parse_batch(jobs)]


@contextmanager
def no_message_log() -> Iterator[None]:
    """For the block, the Dask objects of this process (a client, a local scheduler, and its
    workers, started with this config) keep no copy of the messages they send; a stream opened
    later (a restarted worker's) is made while the block runs, so it is covered too."""
    import dask

    with dask.config.set(MESSAGE_LOG):
        yield


@contextmanager
def local_cluster(workers: int | None = None) -> Iterator[LocalCluster]:
    """A cluster on this machine: one single-threaded worker process per core (the parsers hold
    the GIL), closed on every way out of the block."""
    from multiprocessing import resource_tracker

    from distributed import LocalCluster

    # started now, unblocked: starting it later (with the first worker) unblocks SIGINT in that thread
    resource_tracker.ensure_running()
    # quiet: a closing worker logs errors; what failed is in the results. A dashboard on a free port
    # (8787 may be taken). No retry on other workers: parse_on's solo run is the retry.
    with no_message_log():
        with sigint_blocked():  # the cluster's loop thread, and so the worker processes it starts
            cluster = LocalCluster(n_workers=workers or default_workers(), threads_per_worker=1, processes=True,
                                   dashboard_address=":0", silence_logs=logging.CRITICAL,
                                   memory_limit=WORKER_MEMORY_LIMIT, scheduler_kwargs={"allowed_failures": 0})
        try:
            yield cluster
        finally:
            with sigint_blocked():  # a second Ctrl-C must not leave it half closed
                cluster.close()


@contextmanager
def cluster_for(address: str, workers: int | None = None) -> Iterator[str | LocalCluster]:
    """``dask_address`` when set (a running scheduler), else a local cluster for the block; the
    client made in the block keeps no copy of the messages it sends (:func:`no_message_log`)."""
    with no_message_log():
        if address:
            yield address
            return
        with local_cluster(workers) as cluster:
            yield cluster


def wait_for_workers(client: Any, address: str) -> None:
    try:
        client.wait_for_workers(1, timeout=WORKER_WAIT_S)
    except TimeoutError:
        raise ConfigError(f"engine.dask_address: no Dask worker joined the scheduler at {address} "
                          f"within {WORKER_WAIT_S:g} s (start one: dask worker {address})") from None


Alive = Callable[[], str | None]  # None while all is well, else why parsing cannot go on


def _result(future: Pending[list[Parsed]], alive: Alive | None) -> list[Parsed] | None:
    """The batch's results, or None when a worker died under it."""
    from distributed import KilledWorker

    try:
        return _wait(future, alive)
    except KilledWorker:
        return None


def _wait(future: Pending[list[Parsed]], alive: Alive | None) -> list[Parsed]:
    from distributed import KilledWorker

    deadline = time.monotonic() + STALL_S
    while True:
        left = deadline - time.monotonic()
        try:
            return future.result(timeout=max(0.0, min(left, PROBE_S)))  # type: ignore[call-arg]
        except KilledWorker:
            raise
        except TimeoutError:
            if left <= PROBE_S:
                raise _Stalled(STUCK.format(s=STALL_S)) from None
            why = alive() if alive is not None else None
            if why is not None:
                raise _Stalled(why) from None
        except Exception as err:  # the cluster, not a parser (parse_job returns reasons): e.g. the
            # scheduler went away, or a worker's runlift lacks this version's parse function
            raise _Stalled(f"the parse task failed on the Dask cluster ({type(err).__name__}: "
                           f"{str(err)[:200]})") from None


class _Stalled(Exception):
    pass


def parse_on(submit: Submit, jobs: Iterator[Job], batch_size: int, in_flight: int,
             alive: Alive | None = None, max_bytes: int = MAX_IN_FLIGHT_BYTES) -> Iterator[Parsed]:
    """Parse ``jobs`` in batches through ``submit`` (a Dask client or a Prefect DaskTaskRunner),
    at most ``in_flight`` batches and ``max_bytes`` of files pending (one batch whatever its size),
    yielding results in submission order: what this process holds of the parse, the files sent and
    the results taken, follows the work in flight, whatever the archive.

    Batches lost with a worker are parsed again a file at a time, alone on the cluster, once every
    other batch in flight has settled: a file then killing its worker is the culprit. A batch with
    no result within :data:`STALL_S`, or ``alive`` saying why not, ends the parsing: it and the
    rest are tried again next run (not logged)."""
    pending: deque[tuple[list[Job], Pending[list[Parsed]]]] = deque()
    jobs = iter(jobs)

    def returned(batch: list[Job], results: list[Parsed]) -> Iterator[Parsed]:
        # the job sent came back without its bytes: the writer gets the planner's own
        by_file = {j.file: j for j in batch}
        return (replace(p, job=by_file.get(p.job.file, p.job)) for p in results)

    def alone(job: Job) -> Parsed:
        results = _result(submit([job]), alive)
        return next(returned([job], results)) if results is not None else Parsed(job, None, CRASHED)

    limbo: deque[Job] = deque()  # lost with a worker, not parsed again yet
    later: deque[tuple[list[Job], list[Parsed] | None]] = deque()  # settled, behind the limbo's

    def take() -> Iterator[Parsed]:
        batch, future = pending[0]
        results = _result(future, alive)
        if results is not None:
            pending.popleft()
            del future  # released: the worker drops its copy of the results
            yield from returned(batch, results)
            return
        later.extend([(batch, None), *((b, _result(f, alive)) for b, f in islice(pending, 1, None))])
        pending.clear()
        while later:
            b, res = later.popleft()
            if res is not None:
                yield from returned(b, res)
                continue
            limbo.extend(b)
            while limbo:
                yield alone(limbo[0])
                limbo.popleft()

    def send(batch: list[Job]) -> Iterator[Parsed]:
        ready: list[Job] = []
        for job in batch:
            s = shipped(job)
            if isinstance(s, Parsed):
                yield s
            else:
                ready.append(s)
        if ready:
            pending.append((ready, submit(ready)))

    def full() -> bool:
        return bool(pending) and (len(pending) >= in_flight
                                  or sum(j.size for b, _ in pending for j in b) >= max_bytes)

    try:
        while batch := list(islice(jobs, batch_size)):
            yield from send(batch)
            while full():
                yield from take()
        while pending:
            yield from take()
    except _Stalled as err:
        logging.getLogger(__name__).warning("parsing stopped: %s", err)
        unparsed = chain(limbo, chain.from_iterable(b for b, _ in chain(later, pending)), jobs)
        yield from (_changed(job, str(err)) for job in unparsed)
    finally:
        for _, future in pending:
            cancel = getattr(future, "cancel", None)
            if cancel is not None:
                with contextlib.suppress(Exception):
                    cancel()


def in_dask(address: str = "", workers: int | None = None) -> ParseJobs:
    """Parse on the Dask scheduler at ``address`` (``tcp://host:8786``), or on a local cluster of
    ``workers`` processes (default: one per core) when it is empty. A handful of files parse in
    this process, faster than a cluster starts."""

    def run(jobs: Iterator[Job]) -> Iterator[Parsed]:
        head = list(islice(jobs, 3))
        if len(head) < 3:
            yield from parse_batch(head)
            return
        from distributed import Client

        with cluster_for(address, workers) as target:
            with sigint_blocked():
                client = Client(target, set_as_default=False)
            try:
                wait_for_workers(client, address or "the local cluster")
                threads = sum(client.nthreads().values()) or 1

                def submit(batch: list[Job]) -> Pending[list[Parsed]]:
                    return client.submit(parse_shipped, batch, pure=False)

                yield from parse_on(submit, chain(head, jobs), 1, threads * IN_FLIGHT_PER_WORKER)
            finally:
                client.close()

    return run
