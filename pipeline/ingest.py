"""`runlift ingest`: find files, parse them in parallel, write them with one writer.

One loop, :func:`ingest_paths`, serves the plain CLI and the Prefect flows (``flows/``); only
*how* files are parsed is pluggable (a :data:`ParseJobs` callable):

1. a :class:`Planner` walks the paths, hashes every file and decides what needs parsing
   (files already in ``ingest_log`` with the same content are skipped — that is what makes a
   re-run cheap and idempotent); what is refused is logged on the way;
2. :func:`parse_job` parses one file in whatever process it is given — the parsers are pure
   Python and hold the GIL, so parallelism means processes: :func:`in_processes` (the CLI) or
   Prefect tasks (the flows), both through :func:`parse_batches`;
3. :func:`write_parsed` loads one parsed file in one transaction (``pipeline.writer``), in the
   process that holds the one DuckDB write connection.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path
from typing import ClassVar, Literal, Protocol, TypeVar

import duckdb

from pipeline.config import Config
from pipeline.errors import ConfigError
from pipeline.parsers import parse
from pipeline.parsers.records import NotAnActivity, ParseContext, ParseResult, QuarantineError
from pipeline.sources import Item, SourceFile, StravaInfo, items_from_paths
from pipeline.writer import Loaded, Outcome, ignore, load_result, log_duplicate, quarantine

MAX_IN_FLIGHT_PER_WORKER = 4
PARSE_TIMEOUT_S = 120.0  # a 10 MB multisport FIT parses in ~1 s; minutes mean something is wrong


@dataclass
class Job:
    """One file to parse, small enough to send to a worker process."""

    source: SourceFile
    ctx: ParseContext
    content: Path | bytes  # plain files travel to workers as paths, archive members as bytes
    strava: StravaInfo | None = None

    @property
    def file(self) -> str:
        return self.source.file

    def read(self) -> bytes:
        return self.content if isinstance(self.content, bytes) else self.content.read_bytes()


@dataclass
class Parsed:
    job: Job
    result: ParseResult | None
    reason: str | None
    transient: bool = False  # the file could not be read this time: not logged, retried next run
    ignored: bool = False  # readable, but holds no activity: ``reason`` says what it is


# --- what the planner decides per file (a Job when it is to be parsed) ---------------------------

# the status passed to ``on_item`` for a file handled without parsing
PlannedStatus = Literal["unsupported", "skip", "refuse", "same_content"]
ItemStatus = PlannedStatus | Outcome
OnItem = Callable[[str, ItemStatus], None]


@dataclass(frozen=True)
class Unsupported:
    """Not an activity file: counted, not logged."""

    file: str
    status: ClassVar[PlannedStatus] = "unsupported"


@dataclass(frozen=True)
class Known:
    """In ``ingest_log`` already with the same name, content and athlete: skipped."""

    file: str
    status: ClassVar[PlannedStatus] = "skip"


@dataclass(frozen=True)
class Refuse:
    """Refused before parsing (an unsafe archive member, a file no athlete owns): quarantined."""

    source: SourceFile
    reason: str
    status: ClassVar[PlannedStatus] = "refuse"


@dataclass(frozen=True)
class SameContent:
    """The same bytes are loaded for this athlete under another name: logged as a duplicate."""

    source: SourceFile
    first: str  # the file loaded with these bytes
    status: ClassVar[PlannedStatus] = "same_content"

    @property
    def reason(self) -> str:
        return f"same content as {self.first}"


Decision = Unsupported | Known | Refuse | SameContent | Job


@dataclass
class Summary:
    new: int = 0
    duplicate: int = 0
    skipped: int = 0
    quarantined: int = 0
    unsupported: int = 0
    ignored: int = 0
    activities: int = 0
    sessions: int = 0
    quarantine_reasons: list[tuple[str, str]] = field(default_factory=list)
    loaded_with_reasons: list[tuple[str, str]] = field(default_factory=list)  # a log loaded with rows skipped
    loaded_now: set[str] = field(default_factory=set)  # files loaded by this run

    @property
    def changed(self) -> bool:
        """Whether this run wrote anything beyond skipping known files."""
        return bool(self.new or self.duplicate or self.quarantined or self.ignored)

    def count(self, file: str, outcome: Loaded, result: ParseResult | None = None) -> None:
        for earlier in outcome.superseded:
            if earlier in self.loaded_now:  # counted as new a moment ago; a richer copy came later
                self.loaded_now.discard(earlier)
                self.new -= 1
                self.duplicate += 1
        if outcome.status == "loaded":
            self.new += 1
            self.loaded_now.add(file)
            if outcome.reason:
                self.loaded_with_reasons.append((file, outcome.reason))
        elif outcome.status == "skipped":
            self.skipped += 1
            self.quarantine_reasons.append((file, outcome.reason or ""))
        elif outcome.status == "duplicate":
            self.duplicate += 1
        elif outcome.status == "ignored":
            self.ignored += 1
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


class NoAthleteError(ConfigError):
    """No athlete owns a file (several are configured, and it is not in an athlete's inbox
    folder); ``reason`` is what ``ingest_log`` records for it."""

    def __init__(self, file: str, reason: str) -> None:
        super().__init__(f"{file}: {reason}")
        self.file, self.reason = file, reason


def athlete_for(item: Item, config: Config, athlete: str | None) -> str:
    """``--athlete``, else the inbox sub-folder named after an athlete, else the only athlete.

    An unknown ``--athlete`` raises :class:`ConfigError`; a file no athlete owns raises
    :class:`NoAthleteError`."""
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
    raise NoAthleteError(item.file, "several athletes configured; pass --athlete or use inbox/<athlete-id>/")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Planner:
    """Decides per item: unsupported, known (skip), refuse, same content as a loaded file, or parse."""

    def __init__(self, con: duckdb.DuckDBPyConnection, config: Config, athlete: str | None):
        self.config, self.athlete = config, athlete
        rows = con.execute("SELECT file, sha256, athlete_id, status FROM ingest_log").fetchall()
        self.seen: set[tuple[str, str, str | None]] = {(f, s, a) for f, s, a, _ in rows}
        self.loaded: dict[tuple[str, str], str] = {(s, a): f for f, s, a, st in rows if st != "quarantined"}
        self.contexts: dict[str, ParseContext] = {}

    def decide(self, item: Item) -> Decision:
        if item.format is None and item.reason is None:
            return Unsupported(item.file)
        try:
            athlete_id = athlete_for(item, self.config, self.athlete)
        except NoAthleteError as err:  # a file in the inbox root of a multi-athlete setup: logged, the rest loads
            return self._refused(item, None, err.reason)
        if item.reason is not None:
            return self._refused(item, athlete_id, item.reason)
        source = SourceFile(item.file, _sha256(item.read()), item.format, athlete_id)
        if not self._first_sight(source):
            return Known(item.file)
        first = self.loaded.get((source.sha256, athlete_id))
        if first is not None:
            return SameContent(source, first)
        self.loaded[(source.sha256, athlete_id)] = item.file
        if athlete_id not in self.contexts:
            self.contexts[athlete_id] = context_for(self.config, athlete_id)
        content = item.path if item.path is not None else item.read()
        return Job(source, self.contexts[athlete_id], content, item.strava)

    def _refused(self, item: Item, athlete_id: str | None, reason: str) -> Refuse | Known:
        # a refused archive member may have no bytes to hash: it is known by its name instead
        data = item.data if item.data is not None else item.file.encode()
        source = SourceFile(item.file, _sha256(data), item.format, athlete_id)
        return Refuse(source, reason) if self._first_sight(source) else Known(item.file)

    def _first_sight(self, source: SourceFile) -> bool:
        key = (source.file, source.sha256, source.athlete_id)
        if key in self.seen:
            return False
        self.seen.add(key)
        return True


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
    fmt = job.source.format
    if fmt is None:  # the planner sends only files with a detected format
        return Parsed(job, None, "unsupported format")
    try:
        data = job.read()
    except OSError as err:  # vanished or unreadable mid-sync: nothing about the file is known yet
        return Parsed(job, None, f"cannot read the file: {err.strerror or err}", transient=True)
    try:
        with time_limit(PARSE_TIMEOUT_S):
            return Parsed(job, parse(data, job.file, fmt, job.ctx), None)
    except NotAnActivity as err:
        return Parsed(job, None, str(err), ignored=True)
    except (QuarantineError, ParseTimeout) as err:
        return Parsed(job, None, str(err) or "unreadable file")
    except Exception as err:  # a parser bug must not stop the other files
        return Parsed(job, None, f"parser error: {type(err).__name__}: {err}")


def parse_batch(jobs: list[Job]) -> list[Parsed]:
    return [parse_job(j) for j in jobs]


def write_parsed(con: duckdb.DuckDBPyConnection, parsed: Parsed) -> Loaded:
    job = parsed.job
    if parsed.transient:
        return Loaded("skipped", f"{parsed.reason} (not logged; tried again next run)")
    if parsed.ignored:
        return ignore(con, job.source, parsed.reason or "holds no activity")
    if parsed.result is None:
        return quarantine(con, job.source, parsed.reason or "unreadable file")
    return load_result(con, job.source, parsed.result, job.strava)


def _log_unparsed(con: duckdb.DuckDBPyConnection, decision: Refuse | SameContent) -> Loaded:
    if isinstance(decision, Refuse):
        return quarantine(con, decision.source, decision.reason)
    return log_duplicate(con, decision.source, decision.reason)


# --- how jobs are parsed: pluggable, so the CLI and the flows share everything else ----------------

# takes the jobs lazily (planning runs as they are consumed), yields each job's result
ParseJobs = Callable[[Iterator[Job]], Iterator[Parsed]]
T_co = TypeVar("T_co", covariant=True)


class Pending(Protocol[T_co]):
    """A submitted piece of work: a ``concurrent.futures.Future`` or a Prefect future."""

    def result(self) -> T_co: ...


def _batches(jobs: Iterable[Job], size: int) -> Iterator[list[Job]]:
    it = iter(jobs)
    while batch := list(islice(it, size)):
        yield batch


def parse_batches(jobs: Iterable[Job], submit: Callable[[list[Job]], Pending[list[Parsed]]], batch_size: int,
                  in_flight: int) -> Iterator[Parsed]:
    """Submit jobs in batches, at most ``in_flight`` batches pending, and yield the results in
    submission order: memory stays flat however big the export."""
    pending: deque[Pending[list[Parsed]]] = deque()
    for batch in _batches(jobs, batch_size):
        pending.append(submit(batch))
        if len(pending) >= in_flight:
            yield from pending.popleft().result()
    while pending:
        yield from pending.popleft().result()


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def in_processes(workers: int | None = None) -> ParseJobs:
    """Parse in a pool of ``workers`` processes (default: one per core); a handful of files parse
    in this process, faster than a pool starts."""
    n = workers or default_workers()

    def run(jobs: Iterator[Job]) -> Iterator[Parsed]:
        head = list(islice(jobs, 3))
        if n == 1 or len(head) < 3:
            yield from map(parse_job, chain(head, jobs))
            return
        ctx = multiprocessing.get_context("forkserver")
        # the forkserver and its workers end with runlift, even a SIGKILLed one (pipeline.orphans)
        ctx.set_forkserver_preload(["pipeline.orphans_forkserver", "pipeline.parsers", "pipeline.parsers.fit",
                                    "pandas"])
        with ProcessPoolExecutor(max_workers=n, mp_context=ctx) as pool:
            yield from parse_batches(chain(head, jobs), lambda batch: pool.submit(parse_batch, batch),
                                     batch_size=1, in_flight=n * MAX_IN_FLIGHT_PER_WORKER)

    return run


# --- the one ingest loop ---------------------------------------------------------------------------


def _planned(con: duckdb.DuckDBPyConnection, config: Config, paths: list[Path], athlete: str | None,
             summary: Summary, notify: OnItem) -> Iterator[Job]:
    """The jobs to parse, lazily; what is known or refused is logged and counted on the way."""
    for p in paths:
        if not p.exists():
            raise ConfigError(f"{p}: no such file or directory")
    planner = Planner(con, config, athlete)
    for item in items_from_paths(paths):
        decision = planner.decide(item)
        if isinstance(decision, Job):
            yield decision
            continue
        if isinstance(decision, Unsupported):
            summary.unsupported += 1
        elif isinstance(decision, Known):
            summary.skipped += 1
        else:
            summary.count(item.file, _log_unparsed(con, decision))
        notify(item.file, decision.status)


def _ignore(file: str, status: ItemStatus) -> None:
    pass


def ingest_paths(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    paths: list[Path],
    athlete: str | None = None,
    parse_jobs: ParseJobs | None = None,
    on_item: OnItem | None = None,
) -> Summary:
    """Ingest files, folders, ``.gz`` and ``.zip`` into an open DB; returns the counts.

    ``parse_jobs`` parses the planned files (default: :func:`in_processes`); whatever it is,
    planning and writing happen here, on ``con``. ``on_item(file, status)`` is called once per
    file handled (for a progress bar).
    """
    summary = Summary()
    notify = on_item or _ignore
    jobs = _planned(con, config, paths, athlete, summary, notify)
    for parsed in (parse_jobs or in_processes())(jobs):
        outcome = write_parsed(con, parsed)
        summary.count(parsed.job.file, outcome, parsed.result)
        notify(parsed.job.file, outcome.status)
    return summary
