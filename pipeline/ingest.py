"""`runlift ingest`: find files, parse them in parallel, write them with one writer.

The three steps are separate functions so the plain CLI (a process pool, here) and the
Prefect flow (tasks, ``flows/``) run the same code:

1. :func:`plan_jobs` walks the paths, hashes every file and decides what needs parsing
   (files already in ``ingest_log`` with the same content are skipped — that is what makes a
   re-run cheap and idempotent);
2. :func:`parse_job` parses one file in whatever process it is given — the parsers are pure
   Python and hold the GIL, so parallelism means processes;
3. :func:`write_parsed` loads one parsed file in one transaction (``pipeline.writer``).
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path

import duckdb

from pipeline.config import Config
from pipeline.db import transaction
from pipeline.errors import ConfigError
from pipeline.parsers import parse
from pipeline.parsers.records import ParseContext, ParseResult, QuarantineError
from pipeline.sources import Item, items_from_paths
from pipeline.writer import IngestStatus, Loaded, load_result, log_entry, quarantine

MAX_IN_FLIGHT_PER_WORKER = 4
PARSE_TIMEOUT_S = 120.0  # a 10 MB multisport FIT parses in ~1 s; minutes mean something is wrong


@dataclass(frozen=True)
class SourceFile:
    """What identifies one file handled: its name as given, its content hash, its detected format
    (None when runlift does not read it) and the athlete it belongs to (None when unknown)."""

    file: str  # as given; archive members as archive.zip!member/path
    sha256: str
    format: str | None
    athlete_id: str | None


@dataclass
class Job:
    """One file to parse, small enough to send to a worker process."""

    file: str
    format: str
    sha256: str
    athlete_id: str
    ctx: ParseContext
    path: Path | None = None
    data: bytes | None = None
    strava: tuple[str | None, str | None] | None = None

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.path is not None, "a job carries its bytes or its path"
        return self.path.read_bytes()


@dataclass
class Parsed:
    job: Job
    result: ParseResult | None
    reason: str | None
    transient: bool = False  # the file could not be read this time: not logged, retried next run


@dataclass
class Summary:
    new: int = 0
    duplicate: int = 0
    skipped: int = 0
    quarantined: int = 0
    unsupported: int = 0
    activities: int = 0
    sessions: int = 0
    quarantine_reasons: list[tuple[str, str]] = field(default_factory=list)
    loaded_now: set[str] = field(default_factory=set)  # files loaded by this run

    @property
    def changed(self) -> bool:
        """Whether this run wrote anything beyond skipping known files."""
        return bool(self.new or self.duplicate or self.quarantined)

    def count(self, file: str, outcome: Loaded, result: ParseResult | None = None) -> None:
        for earlier in outcome.superseded:
            if earlier in self.loaded_now:  # counted as new a moment ago; a richer copy came later
                self.loaded_now.discard(earlier)
                self.new -= 1
                self.duplicate += 1
        if outcome.status == "loaded":
            self.new += 1
            self.loaded_now.add(file)
        elif outcome.status == "skipped":
            self.skipped += 1
            self.quarantine_reasons.append((file, outcome.reason or ""))
        elif outcome.status == "duplicate":
            self.duplicate += 1
        else:
            self.quarantined += 1
            self.quarantine_reasons.append((file, outcome.reason or ""))
        if result is not None and outcome.status != "quarantined":
            self.activities += len(result.activities)
            self.sessions += len(result.sessions)


def context_for(config: Config, athlete_id: str) -> ParseContext:
    athlete = config.athlete_by_id(athlete_id)
    hevy = config.sources.hevy.timezone
    return ParseContext(
        timezone=athlete.timezone,
        strong_weight_unit=config.sources.strong.weight_unit,
        hevy_timezone=None if hevy == "local" else hevy,
    )


def athlete_for(item: Item, config: Config, athlete: str | None) -> str:
    """``--athlete``, else the inbox sub-folder named after an athlete, else the only athlete."""
    if athlete:
        return config.athlete_by_id(athlete).id
    ids = [a.id for a in config.all_athletes]
    if item.disk_path is not None:
        inbox = config.inbox_dir.resolve()
        parts = item.disk_path.resolve().parts
        if parts[: len(inbox.parts)] == inbox.parts and len(parts) > len(inbox.parts) + 1:
            folder = parts[len(inbox.parts)]
            if folder in ids:
                return folder
    if len(ids) == 1:
        return ids[0]
    raise NoAthleteError(item.file)


class NoAthleteError(ConfigError):
    """A file whose athlete cannot be told; ``reason`` is what its quarantine entry says."""

    reason = "several athletes configured; pass --athlete or use inbox/<athlete-id>/"

    def __init__(self, file: str) -> None:
        super().__init__(f"{file}: {self.reason}")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Known:
    """The file is in ``ingest_log`` with this content already: nothing to do."""


@dataclass(frozen=True)
class Unsupported:
    """Not a file runlift reads (a photo, an export's JSON)."""


@dataclass(frozen=True)
class LogOnly:
    """Logged without parsing: refused before parsing, or the same content as a loaded file."""

    source: SourceFile
    status: IngestStatus  # quarantined | duplicate
    reason: str


Decision = Known | Unsupported | LogOnly | Job


class Planner:
    """Decides per item: skip (already logged), log as duplicate content, refuse, or parse."""

    def __init__(self, con: duckdb.DuckDBPyConnection, config: Config, athlete: str | None):
        self.config, self.athlete = config, athlete
        rows = con.execute("SELECT file, sha256, athlete_id, status FROM ingest_log").fetchall()
        self.seen = {(f, s, a) for f, s, a, _ in rows}
        self.loaded = {(s, a): f for f, s, a, st in rows if st != "quarantined"}
        self.contexts: dict[str, ParseContext] = {}

    def decide(self, item: Item, summary: Summary) -> Decision:
        if item.format is None and item.reason is None:
            summary.unsupported += 1
            return Unsupported()
        athlete_id: str | None
        reason = item.reason
        try:
            athlete_id = athlete_for(item, self.config, self.athlete)
        except NoAthleteError as err:
            if self.athlete is not None:
                raise  # --athlete names no configured athlete: a user error for the whole run
            # a file in the inbox root of a multi-athlete setup: logged, the rest loads
            athlete_id, reason = None, err.reason
        # a refused archive member may have no bytes to hash: it is known by its name instead
        data = item.read() if item.data is not None or item.reason is None else item.file.encode()
        source = SourceFile(item.file, _sha256(data), item.format, athlete_id)
        if (source.file, source.sha256, athlete_id) in self.seen:
            summary.skipped += 1
            return Known()
        self.seen.add((source.file, source.sha256, athlete_id))
        if reason is not None or athlete_id is None:
            return LogOnly(source, "quarantined", reason or "no athlete for this file")
        first = self.loaded.get((source.sha256, athlete_id))
        if first is not None:
            return LogOnly(source, "duplicate", f"same content as {first}")
        self.loaded[(source.sha256, athlete_id)] = item.file
        ctx = self.contexts.setdefault(athlete_id, context_for(self.config, athlete_id))
        # plain files travel to workers as paths, archive members as bytes
        return Job(source.file, item.format or "", source.sha256, athlete_id, ctx, path=item.path,
                   data=item.data if item.path is None else None, strava=item.strava)


class ParseTimeout(Exception):
    pass


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Interrupt a parse that runs longer than ``seconds`` (a hostile file must not hang ingest).

    SIGALRM only works in a process's main thread: parse workers and the CLI qualify; elsewhere
    (a thread of a Prefect task runner) the limit is not enforced."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _expired(signum: int, frame: object) -> None:
        raise ParseTimeout(f"parsing took longer than {seconds:g} s; refused")

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def parse_job(job: Job) -> Parsed:
    """Parse one file; any failure becomes a quarantine reason, never an exception."""
    try:
        data = job.data if job.data is not None else job.read()
    except OSError as err:  # vanished or unreadable mid-sync: nothing about the file is known yet
        return Parsed(job, None, f"cannot read the file: {err.strerror or err}", transient=True)
    try:
        with time_limit(PARSE_TIMEOUT_S):
            return Parsed(job, parse(data, job.file, job.format, job.ctx), None)
    except (QuarantineError, ParseTimeout) as err:
        return Parsed(job, None, str(err) or "unreadable file")
    except Exception as err:  # a parser bug must not stop the other files
        return Parsed(job, None, f"parser error: {type(err).__name__}: {err}")


def write_parsed(con: duckdb.DuckDBPyConnection, parsed: Parsed) -> Loaded:
    job = parsed.job
    if parsed.transient:
        return Loaded("skipped", f"{parsed.reason} (not logged; tried again next run)")
    if parsed.result is None:
        return quarantine(con, job.file, job.sha256, job.format, parsed.reason or "unreadable file",
                          job.athlete_id)
    return load_result(con, job.athlete_id, job.file, job.sha256, parsed.result, job.strava)


def _log_without_parsing(con: duckdb.DuckDBPyConnection, entry: LogOnly, summary: Summary) -> None:
    src = entry.source
    if entry.status == "quarantined":
        summary.count(src.file, quarantine(con, src.file, src.sha256, src.format, entry.reason, src.athlete_id))
    else:
        with transaction(con):
            log_entry(con, src.file, src.sha256, src.format, "duplicate", entry.reason, src.athlete_id)
        summary.count(src.file, Loaded("duplicate", entry.reason))


def _parallel(jobs: Iterable[Job], workers: int) -> Iterator[Parsed]:
    """Parse jobs in a process pool, keeping a bounded number in flight (memory stays flat)."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["pipeline.parsers", "pipeline.parsers.fit", "pandas"])
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        pending: set[Future[Parsed]] = set()
        for job in jobs:
            pending.add(pool.submit(parse_job, job))
            if len(pending) >= workers * MAX_IN_FLIGHT_PER_WORKER:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                yield from (f.result() for f in done)
        for f in pending:
            yield f.result()


def plan_jobs(con: duckdb.DuckDBPyConnection, config: Config, paths: list[Path], athlete: str | None,
              summary: Summary) -> Iterator[Job]:
    """The jobs to parse, lazily (what is known or refused is logged and counted on the way)."""
    return _planned(con, config, paths, athlete, summary, lambda file, status: None)


def _planned(con: duckdb.DuckDBPyConnection, config: Config, paths: list[Path], athlete: str | None,
             summary: Summary, notify: Callable[[str, str], None]) -> Iterator[Job]:
    for p in paths:
        if not p.exists():
            raise ConfigError(f"{p}: no such file or directory")
    planner = Planner(con, config, athlete)
    for item in items_from_paths(paths):
        decision = planner.decide(item, summary)
        if isinstance(decision, Job):
            yield decision
            continue
        if isinstance(decision, LogOnly):
            _log_without_parsing(con, decision, summary)
            notify(item.file, decision.status)
        else:
            notify(item.file, "skipped" if isinstance(decision, Known) else "unsupported")


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def ingest_paths(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    paths: list[Path],
    athlete: str | None = None,
    workers: int | None = None,
    on_item: Callable[[str, str], None] | None = None,
) -> Summary:
    """Ingest files, folders, ``.gz`` and ``.zip`` into an open DB; returns the counts.

    ``on_item(file, status)`` is called once per file handled (for a progress bar).
    """
    summary = Summary()
    notify = on_item or (lambda file, status: None)
    source = _planned(con, config, paths, athlete, summary, notify)
    workers = workers or default_workers()
    head = list(islice(source, 3))
    # a handful of files parse faster in-process than a pool starts
    if workers == 1 or len(head) < 3:
        results: Iterable[Parsed] = map(parse_job, chain(head, source))
    else:
        results = _parallel(chain(head, source), workers)
    for parsed in results:
        outcome = write_parsed(con, parsed)
        summary.count(parsed.job.file, outcome, parsed.result)
        notify(parsed.job.file, outcome.status)
    return summary

