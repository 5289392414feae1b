"""Prefect flow for `runlift ingest` (and the ingest step of `run` / `sync-inbox`).

Thin over :func:`pipeline.commands.ingest`: the flow's process plans and writes (one DuckDB
writer) exactly as the CLI does; only the parsing is handed over, as a task per batch of files
on a Prefect :class:`ProcessPoolTaskRunner`, so the parsers run in parallel without each file
paying for a task run of its own.

The pool is this module's own (:class:`TaskPool`), not the flow's task runner, because it must
outlive what breaks a pool:

- a file that crashes its worker (SIGSEGV in a C extension, the OOM killer) breaks the whole
  pool (``BrokenProcessPool`` for every batch in flight): the pool is replaced, the failed batches
  are parsed again one file per task, and the file whose task crashes again is quarantined;
- a batch whose task engine fails, that is unfinished while the Prefect API does not answer (a
  task engine in a worker waits on it for good), or that does not finish within :data:`STALL_S`
  (a wedged worker) ends the parsing: its files and the rest are skipped (not logged, tried again
  next run) and the pool's processes are killed, so the flow finishes and releases the DuckDB
  write lock instead of holding it for good; the futures are waited on without API calls;
- the workers end with the flow's process, even a SIGKILLed one (:func:`pipeline.orphans.exit_with_parent`
  as the workers' initializer).

With ``[engine] task_runner = "dask"`` the parse tasks run on Prefect's ``DaskTaskRunner``
instead (:func:`parse_in_dask_tasks`): on the scheduler at ``dask_address``, or on a local
cluster for the flow run; the files' bytes travel in the tasks and crash handling is
:func:`pipeline.dask_parse.parse_on`'s. The Dask workers run Prefect's task engine: they need
runlift installed and the Prefect API reachable.
"""

from __future__ import annotations

import contextlib
import os
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures.process import BrokenProcessPool
from itertools import chain, islice
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture
from prefect.settings import get_current_settings
from prefect.task_runners import ProcessPoolTaskRunner

from pipeline import commands, dask_parse
from pipeline.config import Config
from pipeline.ingest import PARSE_TIMEOUT_S, Job, Parsed, ParseJobs, Summary, default_workers, parse_batch
from pipeline.orphans import exit_with_parent

BATCH = 8  # files per parse task
STALL_S = PARSE_TIMEOUT_S + 60.0  # a batch still unfinished this long after we wait for it is stuck
CRASHED = "the parser crashed on this file (its worker process died); refused"
PROBE_S = 5.0  # while waiting for a batch, how often to check that the Prefect API is still there
# reasons of files left unparsed (the writer adds "not logged; tried again next run")
STUCK = "the parse task did not finish within {s:g} s"
API_GONE = "the Prefect API went away while the file was parsed"

# Test-only: an extra (initializer, initargs) run in every parse worker after the watchdog, for tests
# that make a worker crash or hang on a given file (tests/worker_hooks.py). None in production.
WORKER_HOOK: tuple[Callable[..., None], tuple[Any, ...]] | None = None


def _init_worker(parent: int, hook: tuple[Callable[..., None], tuple[Any, ...]] | None) -> None:
    exit_with_parent(parent)  # a SIGKILLed flow process leaves no worker behind
    if hook is not None:
        hook[0](*hook[1])


def process_pool() -> ProcessPoolTaskRunner:
    """A task runner for parsing: one process per core, each ending with the process that started it."""
    return ProcessPoolTaskRunner(max_workers=default_workers(), initializer=_init_worker,
                                 initargs=(os.getpid(), WORKER_HOOK))


@task(name="parse files", cache_policy=NO_CACHE)
def parse_task(jobs: list[Job]) -> list[Parsed]:
    return parse_batch(jobs)


@task(name="parse files on dask", cache_policy=NO_CACHE)
def parse_shipped_task(jobs: list[Job]) -> list[Parsed]:
    return dask_parse.parse_shipped(jobs)


class Stalled(Exception):
    """A parse task did not finish in time: parsing stops, the files are tried again next run."""


class TaskPool:
    """A :func:`process_pool` that is replaced when a worker crashes, and killed when one is stuck."""

    def __init__(self) -> None:
        self.generation = 0
        self._runner: ProcessPoolTaskRunner | None = None

    def submit(self, jobs: list[Job]) -> tuple[int, PrefectFuture[list[Parsed]]]:
        if self._runner is None:
            self._runner = process_pool().__enter__()
        return self.generation, self._runner.submit(parse_task, parameters={"jobs": jobs})

    def collect(self, jobs: list[Job], generation: int, future: PrefectFuture[list[Parsed]]) -> list[Parsed]:
        """The batch's results; a crashed batch is parsed again one file per task."""
        try:
            return self._wait(future)
        except BrokenProcessPool:  # a worker died, taking every batch in flight with it
            self._replace(generation)
        return [self._alone(job) for job in jobs]

    def _alone(self, job: Job) -> Parsed:
        generation, future = self.submit([job])
        try:
            (parsed,) = self._wait(future)
            return parsed
        except BrokenProcessPool:  # it crashed the worker once more, on its own: the file is the culprit
            self._replace(generation)
            return Parsed(job, None, CRASHED)

    def _wait(self, future: PrefectFuture[list[Parsed]]) -> list[Parsed]:
        """The future's result, without asking the API (``future.state`` would, retrying for minutes)."""
        deadline = time.monotonic() + STALL_S
        while True:
            try:
                return future.result(timeout=min(PROBE_S, max(0.0, deadline - time.monotonic())))
            except BrokenProcessPool:
                raise
            except TimeoutError:
                if time.monotonic() >= deadline:
                    raise Stalled(STUCK.format(s=STALL_S)) from None
                if not api_reachable():  # the worker's task engine cannot finish the task without it
                    raise Stalled(API_GONE) from None
            except Exception as err:  # the task engine failed (not the parser: parse_job returns reasons)
                raise Stalled(f"the parse task failed ({type(err).__name__})") from None

    def _replace(self, generation: int) -> None:
        if generation == self.generation:  # not replaced yet by another failed batch of the same pool
            self.close(kill=True)
            self.generation += 1

    def close(self, kill: bool = False) -> None:
        runner, self._runner = self._runner, None
        if runner is None:
            return
        if kill:  # a stuck or broken pool: shutting down would wait for its workers
            executor = getattr(runner, "_executor", None)  # Prefect gives no public handle on its processes
            for proc in list((getattr(executor, "_processes", None) or {}).values()):
                with contextlib.suppress(OSError, ValueError):
                    proc.kill()
        runner.__exit__(None, None, None)


def api_reachable() -> bool:
    """Whether the Prefect API answers at all (any HTTP reply counts: Prefect Cloud wants a key)."""
    url = get_current_settings().api.url
    if not url:
        return True
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/health", timeout=PROBE_S):
            return True
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False


def parse_in_tasks(jobs: Iterator[Job]) -> Iterator[Parsed]:
    """Parse as Prefect tasks, a few batches in flight (a big export is never held in memory)."""
    pool = TaskPool()
    in_flight = 2 * default_workers() + 1
    pending: deque[tuple[list[Job], int, PrefectFuture[list[Parsed]]]] = deque()
    finished = False
    stalled: str | None = None
    started = time.monotonic()
    try:
        while batch := list(islice(jobs, BATCH)):
            pending.append((batch, *pool.submit(batch)))
            if len(pending) >= in_flight:
                yield from pool.collect(*pending[0])
                pending.popleft()
        while pending:
            yield from pool.collect(*pending[0])
            pending.popleft()
        finished = True
    except Stalled as err:
        stalled = str(err)
    finally:
        pool.close(kill=not finished)  # stalled, or the writer gave up: do not wait for the workers
    if stalled is not None:  # what is left is tried again next run
        get_run_logger().warning("parsing stopped after %.0f s: %s", time.monotonic() - started, stalled)
        unparsed = chain.from_iterable(b for b, _, _ in pending)
        yield from (Parsed(job, None, stalled, transient=True) for job in chain(unparsed, jobs))


def _api_gone() -> str | None:
    return None if api_reachable() else API_GONE


def parse_in_dask_tasks(address: str) -> ParseJobs:
    """Parse as Prefect tasks on a ``DaskTaskRunner``: the scheduler at ``address``, or a local
    cluster (one single-threaded worker per core) for the run when it is empty."""

    def run(jobs: Iterator[Job]) -> Iterator[Parsed]:
        from prefect_dask import DaskTaskRunner

        with dask_parse.cluster_for(address) as target:
            runner = DaskTaskRunner(address=target) if isinstance(target, str) else DaskTaskRunner(cluster=target)
            with dask_parse.sigint_blocked():
                runner.__enter__()
            try:
                with dask_parse.sigint_blocked():
                    client = runner.client
                dask_parse.wait_for_workers(client, address or "the local cluster")
                in_flight = 2 * (sum(client.nthreads().values()) or 1) + 1

                def submit(batch: list[Job]) -> PrefectFuture[list[Parsed]]:
                    return runner.submit(parse_shipped_task, parameters={"jobs": batch})

                yield from dask_parse.parse_on(submit, jobs, BATCH, in_flight, alive=_api_gone)
            finally:
                with dask_parse.sigint_blocked():
                    runner.__exit__(None, None, None)

    return run


def summary_table(summary: Summary) -> list[dict[str, int]]:
    return [{"new": summary.new, "duplicate": summary.duplicate, "skipped": summary.skipped,
             "quarantined": summary.quarantined, "ignored": summary.ignored, "activities": summary.activities,
             "strength sessions": summary.sessions}]


def publish_summary(summary: Summary) -> None:
    """Table artifacts of what changed; a run that changed nothing (a quiet inbox sync every few
    minutes) publishes none."""
    if not summary.changed:
        return
    create_table_artifact(summary_table(summary), key="runlift-ingest", description="runlift ingest")
    if summary.quarantine_reasons:
        create_table_artifact([{"file": f, "reason": r} for f, r in summary.quarantine_reasons],
                              key="runlift-quarantined", description="files not loaded, with the reason")
    if summary.loaded_with_reasons:
        create_table_artifact([{"file": f, "reason": r} for f, r in summary.loaded_with_reasons],
                              key="runlift-rows-skipped", description="files loaded with rows skipped, and why")


def ingest_step(db: Path, config: Config, paths: list[Path], athlete: str | None = None,
                refresh_models: bool = True) -> Summary:
    """The ingest step of the ingest, run and sync-inbox flows (call it inside a flow)."""
    engine = config.engine
    parse_jobs = parse_in_dask_tasks(engine.dask_address) if engine.task_runner == "dask" else parse_in_tasks
    summary = commands.ingest(db, config, paths, athlete, refresh_models=refresh_models,
                              parse_jobs=parse_jobs, lock_wait_s=commands.FLOW_LOCK_WAIT_S)
    logger = get_run_logger()
    for file, reason in summary.quarantine_reasons:
        logger.warning("not loaded %s: %s", file, reason)
    for file, reason in summary.loaded_with_reasons:
        logger.warning("loaded %s: %s", file, reason)
    logger.info("ingest: %d new, %d duplicate, %d skipped, %d quarantined",
                summary.new, summary.duplicate, summary.skipped, summary.quarantined)
    publish_summary(summary)
    return summary


@flow(name="ingest", log_prints=True)
def ingest_flow(db: Path, config: Config, paths: list[Path], athlete: str | None = None) -> Summary:
    """Ingest watch exports and strength logs into the runlift DuckDB file."""
    return ingest_step(db, config, paths, athlete)
