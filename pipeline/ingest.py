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

import contextlib
import hashlib
import multiprocessing
import os
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from itertools import chain, islice
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import ClassVar, Literal, Protocol, TypeVar

import duckdb

from pipeline import forkserver
from pipeline.config import Config
from pipeline.db import transaction
from pipeline.errors import ConfigError, IngestInterrupted
from pipeline.parsers import parse
from pipeline.parsers.records import NotAnActivity, ParseContext, ParseResult, QuarantineError
from pipeline.sources import (
    ArchiveCounts,
    ArchiveStamp,
    FileStamp,
    Item,
    RememberedFile,
    SourceFile,
    StravaInfo,
    item_from_file,
    items_from_paths,
)
from pipeline.writer import (
    Loaded,
    Outcome,
    ToLoad,
    ignore,
    load_batch,
    load_result,
    log_duplicate,
    quarantine,
    registered,
)

# parse jobs in flight in the pool: enough that the workers keep parsing while the writer commits
# a batch (BATCH_FILES files take ~200 ms to write, ~8 one-hour runs' parse on 2 workers), capped
# by the input bytes in flight, which bound the parsed frames waiting in this process (a one-hour
# 1 Hz FIT of 98 kB parses to ~250 kB of samples): memory follows the work in flight
MAX_IN_FLIGHT_PER_WORKER = 16
MAX_IN_FLIGHT_BYTES = 8_000_000
# parsed files written per transaction: the writer's cost is per statement, not per byte, so a
# batch costs little more than one file (120 one-hour runs: 2.9 ms of CPU a file in batches of
# 64, 4.6 in batches of 32, 38 one by one). Capped in samples at about two DuckDB row groups
# (122,880 rows), which DuckDB writes straight to the file rather than through its WAL, so a
# batch of day-long recordings stays a few tens of MB.
BATCH_FILES = 64
BATCH_SAMPLES = 250_000
PARSE_TIMEOUT_S = 120.0  # a 10 MB multisport FIT parses in ~1 s; minutes mean something is wrong


@dataclass
class Job:
    """One file to parse, small enough to send to a worker process."""

    source: SourceFile
    ctx: ParseContext
    content: Path | bytes  # plain files travel to workers as paths, archive members as bytes
    strava: StravaInfo | None = None
    archive: ArchiveStamp | None = None  # the archive on disk it came from

    @property
    def file(self) -> str:
        return self.source.file

    def read(self) -> bytes:
        return self.content if isinstance(self.content, bytes) else self.content.read_bytes()

    @cached_property
    def size(self) -> int:
        """Bytes to parse, once (0 for a file gone meanwhile: its parse reports that)."""
        if isinstance(self.content, bytes):
            return len(self.content)
        try:
            return self.content.stat().st_size
        except OSError:
            return 0


@dataclass
class Parsed:
    job: Job
    result: ParseResult | None
    reason: str | None
    transient: bool = False  # the file could not be read this time: not logged, retried next run
    ignored: bool = False  # readable, but holds no activity: ``reason`` says what it is


# --- what the planner decides per file (a Job when it is to be parsed) ---------------------------

# the status passed to ``on_item`` for a file handled without parsing ("skipped": not read this time)
PlannedStatus = Literal["unsupported", "skip", "refuse", "same_content", "skipped"]
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
class KnownArchive:
    """An archive recognised from ``internal.known_archives``: every member is logged; not read."""

    file: str
    counts: ArchiveCounts
    status: ClassVar[PlannedStatus] = "skip"


@dataclass(frozen=True)
class Skip:
    """Not read this time (unreadable, vanished, still being written, a link, a FIFO): not logged."""

    file: str
    reason: str
    status: ClassVar[PlannedStatus] = "skipped"


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


Decision = Unsupported | Known | KnownArchive | Skip | Refuse | SameContent | Job


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


def athlete_for(item: Item, config: Config, athlete: str | None, inbox: Path | None = None) -> str:
    """``--athlete``, else the inbox sub-folder named after an athlete, else the only athlete.

    An unknown ``--athlete`` raises :class:`ConfigError`; a file no athlete owns raises
    :class:`NoAthleteError`. ``inbox``: ``config.inbox_dir`` resolved already (the planner's, once
    per run rather than once per file)."""
    if athlete:
        return config.athlete_by_id(athlete).id
    ids = [a.id for a in config.all_athletes]
    if item.disk_path is not None and len(ids) > 1:
        inbox = inbox or config.inbox_dir.resolve()
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


def _not_read(reason: str) -> str:
    return f"{reason} (not logged; tried again next run)"


class _NotSettled(Exception):
    """A plain file that could not be read whole and unchanged (the reason is the message)."""


def settled_bytes(item: Item) -> bytes:
    """The item's bytes; a plain file must be readable and unchanged (size and mtime) between the
    walk's stat and the end of this read: a file still being copied in is tried next run."""
    if item.data is not None:
        return item.data
    assert item.path is not None
    try:
        data = item.path.read_bytes()
        after = FileStamp.of(os.stat(item.path))
    except OSError as err:  # unreadable, or vanished since the walk
        raise _NotSettled(_not_read(f"cannot read the file: {err.strerror or err}")) from None
    if (item.stamp is not None and after != item.stamp) or len(data) != after.size:
        raise _NotSettled(_not_read("the file changed while it was read (still being written?)"))
    return data


def _archive_prefixes(file: str) -> Iterator[str]:
    """``a.zip!b.zip!c.fit`` -> ``a.zip!b.zip!c.fit``, ``a.zip``, ``a.zip!b.zip``."""
    yield file
    at = file.find("!")
    while at != -1:
        yield file[:at]
        at = file.find("!", at + 1)


@dataclass
class _ArchiveTally:
    """What one archive's items came to in this run: remembered when every one is logged."""

    stamp: ArchiveStamp
    skipped: int = 0
    unsupported: int = 0
    complete: bool = True


class Planner:
    """Decides per item: unsupported, known (skip), refuse, same content as a loaded file, or parse.

    With ``retry_quarantined``, files quarantined earlier are parsed again (after an upgrade fixed
    a parser) and known archives are read again."""

    def __init__(self, con: duckdb.DuckDBPyConnection, config: Config, athlete: str | None,
                 retry_quarantined: bool = False):
        self.config, self.athlete, self.retry = config, athlete, retry_quarantined
        self._inbox = config.inbox_dir.resolve()
        self._con = con
        self.contexts: dict[str, ParseContext] = {}
        self.known_archives: dict[tuple[str, str | None], tuple[FileStamp, str, ArchiveCounts]] = {
            (f, a): (FileStamp(size, mtime), sha, ArchiveCounts(skipped, unsupported))
            for f, a, size, mtime, sha, skipped, unsupported in con.execute(
                "SELECT file, athlete_id, size, mtime_ns, sha256, skipped, unsupported FROM internal.known_archives"
            ).fetchall()}
        self.tallies: dict[ArchiveStamp, _ArchiveTally] = {}
        # loose files by name: the size and mtime they were hashed at, and their sha256 (None: not
        # an activity file); with the athletes whose ingest_log row for those bytes is still there,
        # they are all a re-sync of an unchanged inbox reads: no file, no other ingest_log row
        self.files: dict[str, tuple[int, int, str | None]] = {}
        self._still_in_log: set[tuple[str, str]] = set()  # (file, athlete_id) of known files
        for f, size, mtime, sha, athletes in con.execute(
                "SELECT k.file, k.size, k.mtime_ns, k.sha256, list(l.athlete_id) FILTER (l.athlete_id IS NOT NULL) "
                "FROM internal.known_files k LEFT JOIN ingest_log l ON l.file = k.file AND l.sha256 = k.sha256 "
                "GROUP BY ALL").fetchall():
            self.files[f] = (size, mtime, sha)
            for athlete_id in athletes or ():
                self._still_in_log.add((f, athlete_id))
        self._stamps: dict[str, FileStamp] = {}  # loose files being parsed: remembered once logged
        self._remember: list[tuple[str, int, int, str | None]] = []

    def items(self, paths: list[Path]) -> Iterator[Item]:
        return items_from_paths(paths, known=None if self.retry else self)

    # --- ingest_log, read when a file is hashed or refused: before this run logs any row of its own

    @cached_property
    def _log(self) -> list[tuple[str, str, str | None, str]]:
        return self._con.execute("SELECT file, sha256, athlete_id, status FROM ingest_log").fetchall()

    @cached_property
    def seen(self) -> set[tuple[str, str, str | None]]:
        return {(f, s, a) for f, s, a, st in self._log if not (self.retry and st == "quarantined")}

    @cached_property
    def loaded(self) -> dict[tuple[str, str | None], str]:
        return {(s, a): f for f, s, a, st in self._log if st != "quarantined"}

    @cached_property
    def logged_archives(self) -> set[str]:
        """Archives with a row in ingest_log (its own or a member's): a known archive counts only then."""
        rows = self._con.execute(
            "SELECT file FROM ingest_log WHERE contains(file, '!') OR suffix(lower(file), '.zip') "
            "OR suffix(lower(file), '.gz')").fetchall()
        return {prefix for (f,) in rows for prefix in _archive_prefixes(f)}

    def decide(self, item: Item) -> Decision:
        decision = self._decide(item)
        if item.archive is not None:
            tally = self.tallies.setdefault(item.archive, _ArchiveTally(item.archive))
            if isinstance(decision, Unsupported):
                tally.unsupported += 1
            elif isinstance(decision, Skip):
                tally.complete = False
            else:
                tally.skipped += 1
        return decision

    def _decide(self, item: Item) -> Decision:
        if item.skip is not None:
            return Skip(item.file, item.skip)
        if item.known is not None:
            return KnownArchive(item.file, item.known)
        if item.remembered is not None:
            if self._still_logged(item):
                return Known(item.file)
            assert item.path is not None and item.stamp is not None
            item = item_from_file(item.path, item.file, item.stamp)  # its log row is gone: read it after all
        if item.format is None and item.reason is None:
            if item.path is not None and item.stamp is not None:
                self._remembered(item.file, item.stamp, None)
            return Unsupported(item.file)
        try:
            athlete_id = athlete_for(item, self.config, self.athlete, self._inbox)
        except NoAthleteError as err:  # a file in the inbox root of a multi-athlete setup: logged, the rest loads
            return self._refused(item, None, err.reason)
        if item.reason is not None:
            return self._refused(item, athlete_id, item.reason)
        try:
            data = settled_bytes(item)
        except _NotSettled as err:
            return Skip(item.file, str(err))
        source = SourceFile(item.file, _sha256(data), item.format, athlete_id)
        loose = item.path is not None and item.stamp is not None
        if not self._first_sight(source):
            if loose:
                self._remembered(item.file, item.stamp, source.sha256)
            return Known(item.file)
        first = self.loaded.get((source.sha256, athlete_id))
        if first is not None:
            if loose:
                self._remembered(item.file, item.stamp, source.sha256)
            return SameContent(source, first)
        self.loaded[(source.sha256, athlete_id)] = item.file
        if loose and item.stamp is not None:
            self._stamps[item.file] = item.stamp
        if athlete_id not in self.contexts:
            self.contexts[athlete_id] = context_for(self.config, athlete_id)
        content = item.path if item.path is not None else data
        return Job(source, self.contexts[athlete_id], content, item.strava, item.archive)

    def _refused(self, item: Item, athlete_id: str | None, reason: str) -> Refuse | Known:
        # a refused item may have no bytes to hash: it is known by what sources identified it with
        sha256 = _sha256(item.data) if item.data is not None else item.identity or _sha256(item.file.encode())
        source = SourceFile(item.file, sha256, item.format, athlete_id)
        return Refuse(source, reason) if self._first_sight(source) else Known(item.file)

    def _still_logged(self, item: Item) -> bool:
        """Whether a loose file unchanged since it was hashed is still in ``ingest_log`` for its athlete."""
        try:
            athlete_id = athlete_for(item, self.config, self.athlete, self._inbox)
        except NoAthleteError:
            return False
        return (item.file, athlete_id) in self._still_in_log  # its row has the sha256 it was hashed at

    def _first_sight(self, source: SourceFile) -> bool:
        key = (source.file, source.sha256, source.athlete_id)
        if key in self.seen:
            return False
        self.seen.add(key)
        return True

    # --- internal.known_files: a re-sync does not read a loose file it hashed already ---------------

    def file_by_stat(self, file: str, stamp: FileStamp) -> RememberedFile | None:
        known = self.files.get(file)
        if known is None or known[0] != stamp.size or known[1] != stamp.mtime_ns:
            return None
        return RememberedFile(known[2])

    def _remembered(self, file: str, stamp: FileStamp | None, sha256: str | None) -> None:
        if stamp is not None and self.files.get(file) != (stamp.size, stamp.mtime_ns, sha256):
            self.files[file] = (stamp.size, stamp.mtime_ns, sha256)
            self._remember.append((file, stamp.size, stamp.mtime_ns, sha256))

    def logged(self, job: Job) -> None:
        """A parsed loose file is in ``ingest_log`` now: remember its stat."""
        stamp = self._stamps.pop(job.file, None)
        if stamp is not None and job.archive is None:
            self._remembered(job.file, stamp, job.source.sha256)

    def remember_files(self, con: duckdb.DuckDBPyConnection) -> None:
        if not self._remember:
            return
        from pipeline.parsers import arrow  # pa.array would import pandas

        files, sizes, mtimes, shas = zip(*self._remember, strict=True)
        rows = arrow.table({"file": arrow.strings(files), "size": arrow.ints(sizes, wide=True),
                            "mtime_ns": arrow.ints(mtimes, wide=True), "sha256": arrow.strings(shas)})
        with registered(con, "_known_files", rows), transaction(con):
            con.execute("DELETE FROM internal.known_files k USING _known_files r WHERE k.file = r.file")
            con.execute("INSERT INTO internal.known_files SELECT file, size, mtime_ns, sha256 FROM _known_files")
        self._remember.clear()

    # --- internal.known_archives: a re-sync does not decompress an archive it loaded already --------

    def _archive_athlete(self, file: str, disk_path: Path) -> str | None:
        try:
            return athlete_for(Item(file, None, disk_path=disk_path), self.config, self.athlete, self._inbox)
        except NoAthleteError:
            return None

    def _known(self, file: str, disk_path: Path) -> tuple[FileStamp, str, ArchiveCounts] | None:
        if file not in self.logged_archives:  # ingest_log was cleared: read it again
            return None
        return self.known_archives.get((file, self._archive_athlete(file, disk_path)))

    def by_stat(self, file: str, disk_path: Path, stamp: FileStamp) -> ArchiveCounts | None:
        known = self._known(file, disk_path)
        return known[2] if known is not None and known[0] == stamp else None

    def by_sha256(self, file: str, disk_path: Path, stamp: FileStamp, sha256: str) -> ArchiveCounts | None:
        known = self._known(file, disk_path)
        if known is None or known[1] != sha256:
            return None
        counts = known[2]  # touched, same bytes: remembered under its new stat
        self.tallies[ArchiveStamp(file, disk_path, stamp, sha256)] = _ArchiveTally(
            ArchiveStamp(file, disk_path, stamp, sha256), counts.skipped, counts.unsupported)
        return counts

    def unfinished(self, job: Job) -> None:
        """A job was not logged (a transient failure): it, or its archive, is read next run."""
        self._stamps.pop(job.file, None)
        if job.archive is not None and job.archive in self.tallies:
            self.tallies[job.archive].complete = False

    def remember_archives(self, con: duckdb.DuckDBPyConnection) -> None:
        rows = [(t.stamp.file, self._archive_athlete(t.stamp.file, t.stamp.disk_path), t.stamp.stamp.size,
                 t.stamp.stamp.mtime_ns, t.stamp.sha256, t.skipped, t.unsupported)
                for t in self.tallies.values() if t.complete]
        if not rows:
            return
        with transaction(con):
            for row in rows:
                con.execute("DELETE FROM internal.known_archives WHERE file = ? AND athlete_id IS NOT DISTINCT FROM ?",
                            list(row[:2]))
                con.execute("INSERT INTO internal.known_archives VALUES (?, ?, ?, ?, ?, ?, ?)", list(row))
                # an earlier copy refused whole (a truncated download) is superseded by this one
                con.execute("DELETE FROM ingest_log WHERE file = ? AND athlete_id IS NOT DISTINCT FROM ? "
                            "AND status = 'quarantined' AND sha256 <> ?", [row[0], row[1], row[4]])


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
    if isinstance(job.content, Path) and _sha256(data) != job.source.sha256:
        # rewritten since the planner hashed it: what is parsed must be what is logged
        return Parsed(job, None, "the file changed while it was read (still being written?)", transient=True)
    try:
        with time_limit(PARSE_TIMEOUT_S):
            return Parsed(job, parse(data, job.file, fmt, job.ctx), None)
    except NotAnActivity as err:
        return Parsed(job, None, str(err), ignored=True)
    except (QuarantineError, ParseTimeout) as err:
        return Parsed(job, None, str(err) or "unreadable file")
    except Exception as err:  # a parser bug must not stop the other files
        # the exception's type only: its message may quote the file (reasons reach logs)
        return Parsed(job, None, f"parser error ({type(err).__name__}); please report it with the file")


def parse_batch(jobs: list[Job]) -> list[Parsed]:
    return [parse_job(j) for j in jobs]


def write_parsed(con: duckdb.DuckDBPyConnection, parsed: Parsed) -> Loaded:
    job = parsed.job
    if parsed.transient:
        return Loaded("skipped", _not_read(parsed.reason or "not read"))
    if parsed.ignored:
        return ignore(con, job.source, parsed.reason or "holds no activity")
    if parsed.result is None:
        return quarantine(con, job.source, parsed.reason or "unreadable file")
    return load_result(con, job.source, parsed.result, job.strava)


def _to_load(parsed: Parsed) -> ToLoad:
    job = parsed.job
    if parsed.ignored:
        return ToLoad(job.source, log=("ignored", parsed.reason or "holds no activity"))
    if parsed.result is None:
        return ToLoad(job.source, log=("quarantined", parsed.reason or "unreadable file"))
    return ToLoad(job.source, parsed.result, job.strava)


def unwritable(err: Exception) -> str:
    # the exception's type only: its message may quote the file's values
    return f"could not be written to the database ({type(err).__name__}); please report it with the file"


def write_batch(con: duckdb.DuckDBPyConnection, batch: list[Parsed]) -> list[Loaded]:
    """Write parsed files in one transaction (:func:`pipeline.writer.load_batch`). If the batch
    fails, it is rolled back and its files are written one at a time: the one that cannot be
    written is quarantined, the others load."""
    outcomes: list[Loaded | None] = [
        Loaded("skipped", _not_read(p.reason or "not read")) if p.transient else None for p in batch]
    todo = [(i, p) for i, p in enumerate(batch) if not p.transient]
    if not todo:
        return [o for o in outcomes if o is not None]
    try:
        written = load_batch(con, [_to_load(p) for _, p in todo])
    except Exception as err:
        if _interrupted(err):
            raise
        written = [_write_alone(con, p) for _, p in todo]
    for (i, _), outcome in zip(todo, written, strict=True):
        outcomes[i] = outcome
    return [o for o in outcomes if o is not None]


def _write_alone(con: duckdb.DuckDBPyConnection, parsed: Parsed) -> Loaded:
    try:
        return write_parsed(con, parsed)
    except Exception as err:
        if _interrupted(err):
            raise
        return quarantine(con, parsed.job.source, unwritable(err))


def _ready_batches(results: Iterable[Parsed]) -> Iterator[list[Parsed]]:
    """Parsed files in batches of :data:`BATCH_FILES` (fewer when they hold many samples)."""
    batch: list[Parsed] = []
    samples = 0
    for parsed in results:
        batch.append(parsed)
        if parsed.result is not None:
            samples += sum(len(a.samples) for a in parsed.result.activities)
        if len(batch) >= BATCH_FILES or samples >= BATCH_SAMPLES:
            yield batch
            batch, samples = [], 0
    if batch:
        yield batch


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


ParseBatch = Callable[[list[Job]], list[Parsed]]


def in_processes(workers: int | None = None, parse: ParseBatch = parse_batch) -> ParseJobs:
    """Parse in a pool of ``workers`` processes (default: one per core); a handful of files parse
    in this process, faster than a pool starts. ``parse`` (a module-level function: it is sent to
    the workers by name) parses one batch."""
    n = workers or default_workers()

    def run(jobs: Iterator[Job]) -> Iterator[Parsed]:
        head = list(islice(jobs, 3))
        if n == 1 or len(head) < 3:
            for job in chain(head, jobs):
                yield from parse([job])
            return
        yield from _in_pool(chain(head, jobs), n, parse)

    return run


def _in_pool(jobs: Iterator[Job], n: int, parse: ParseBatch) -> Iterator[Parsed]:
    """One job per task, up to :data:`MAX_IN_FLIGHT_PER_WORKER` per worker and
    :data:`MAX_IN_FLIGHT_BYTES` of input in flight, results in submission order. A worker that
    dies (a parser crashing in C) breaks the pool: which job killed it is unknown, so the
    unfinished jobs of the broken pool are parsed again one at a time (:class:`_Solo`), the
    crashing one is refused, and a new pool takes the rest."""
    ctx = forkserver.context()
    pool: ProcessPoolExecutor | None = None
    pending: deque[tuple[Job, Future[list[Parsed]]]] = deque()

    def take() -> Iterator[Parsed]:
        nonlocal pool
        job, fut = pending.popleft()
        try:
            yield from fut.result()
            return
        except BrokenProcessPool:
            pass
        suspects = [(job, fut), *pending]
        pending.clear()
        if pool is not None:
            pool.shutdown(wait=True)
            pool = None  # a new one when there is more to parse
        with _Solo(ctx, parse) as solo:
            for suspect, done in suspects:
                if done.exception() is None:  # finished before the pool broke
                    yield from done.result()
                else:
                    yield from solo.parse(suspect)

    def full() -> bool:
        return bool(pending) and (len(pending) >= n * MAX_IN_FLIGHT_PER_WORKER
                                  or sum(j.size for j, _ in pending) >= MAX_IN_FLIGHT_BYTES)

    try:
        for job in jobs:
            if pool is None:
                pool = ProcessPoolExecutor(max_workers=n, mp_context=ctx, initializer=forkserver.init_child)
            with forkserver.sigint_blocked():  # a submit may start the forkserver or a worker
                pending.append((job, pool.submit(parse, [job])))
            while full():
                yield from take()
        while pending:
            yield from take()
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _solo_worker(parse: ParseBatch, conn: Connection) -> None:
    forkserver.init_child()
    while (job := conn.recv()) is not None:
        conn.send(parse([job]))


class _Solo:
    """One worker process parsing one job at a time: when it dies, the job it was given is the
    one that killed it (refused with the signal); the next job gets a fresh process."""

    def __init__(self, ctx: BaseContext, parse: ParseBatch) -> None:
        self.ctx, self.parse_batch = ctx, parse
        self.proc: multiprocessing.process.BaseProcess | None = None
        self.conn: Connection | None = None

    def __enter__(self) -> _Solo:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop()

    def _start(self) -> Connection:
        if self.conn is None:
            self.conn, child = self.ctx.Pipe()
            self.proc = self.ctx.Process(target=_solo_worker, args=(self.parse_batch, child),  # type: ignore[attr-defined]
                                         daemon=True)
            with forkserver.sigint_blocked():
                self.proc.start()
            child.close()
        return self.conn

    def _stop(self, graceful: bool = True) -> int | None:
        conn, proc = self.conn, self.proc
        self.conn = self.proc = None
        if conn is not None:
            with contextlib.suppress(OSError):
                if graceful:
                    conn.send(None)
            conn.close()
        if proc is None:
            return None
        if not graceful and proc.is_alive():
            proc.kill()
        proc.join(timeout=10)
        if proc.is_alive():
            proc.kill()
            proc.join()
        return proc.exitcode

    def parse(self, job: Job) -> list[Parsed]:
        conn = self._start()
        try:
            conn.send(job)
            if not conn.poll(PARSE_TIMEOUT_S + 30):  # the parse's own time limit fires first
                self._stop(graceful=False)
                return [Parsed(job, None, f"parsing took longer than {PARSE_TIMEOUT_S:g} s; refused")]
            result: list[Parsed] = conn.recv()
            return result
        except (EOFError, OSError):  # the worker died
            pass
        code = self._stop(graceful=False)
        if code is not None and code < 0:
            reason = f"the parser crashed (signal {-code}); refused"
        else:
            reason = f"the parser process ended without a result (exit status {code}); refused"
        return [Parsed(job, None, reason)]


# --- the one ingest loop ---------------------------------------------------------------------------


def _planned(con: duckdb.DuckDBPyConnection, planner: Planner, paths: list[Path], summary: Summary,
             notify: OnItem) -> Iterator[Job]:
    """The jobs to parse, lazily; what is known or refused is logged and counted on the way."""
    for item in planner.items(paths):
        decision = planner.decide(item)
        if isinstance(decision, Job):
            yield decision
            continue
        if isinstance(decision, Unsupported):
            summary.unsupported += 1
        elif isinstance(decision, Known):
            summary.skipped += 1
        elif isinstance(decision, KnownArchive):
            summary.skipped += decision.counts.skipped
            summary.unsupported += decision.counts.unsupported
        elif isinstance(decision, Skip):
            summary.count(item.file, Loaded("skipped", decision.reason))
        else:
            summary.count(item.file, _log_unparsed(con, decision))
        notify(item.file, decision.status)


def _ignore(file: str, status: ItemStatus) -> None:
    pass


def _interrupted(err: BaseException | None) -> bool:
    """Ctrl-C, however it surfaced: DuckDB reports a SIGINT during a statement as an interrupted
    statement (a COMMIT raises ``RuntimeError: Query interrupted``), or as an aborted transaction
    (a statement after it)."""
    seen: set[int] = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, KeyboardInterrupt | duckdb.InterruptException):
            return True
        if isinstance(err, RuntimeError) and str(err) == "Query interrupted":
            return True
        if isinstance(err, duckdb.Error) and "KeyboardInterrupt" in str(err):  # raised in a DataFrame scan
            return True
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    return False


def _loaded_since(con: duckdb.DuckDBPyConnection, started: datetime, counted: int) -> int:
    """Files loaded by this run, from the log: Ctrl-C may land after a COMMIT, before the count."""
    try:
        row = con.execute("SELECT count(*) FROM ingest_log WHERE status = 'loaded' AND ingested_at >= ?",
                          [started]).fetchone()
    except (duckdb.Error, RuntimeError, KeyboardInterrupt):
        return counted
    return int(row[0]) if row else counted


def ingest_paths(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    paths: list[Path],
    athlete: str | None = None,
    parse_jobs: ParseJobs | None = None,
    on_item: OnItem | None = None,
    retry_quarantined: bool = False,
) -> Summary:
    """Ingest files, folders, ``.gz`` and ``.zip`` into an open DB; returns the counts.

    ``parse_jobs`` parses the planned files (default: :func:`in_processes`); whatever it is,
    planning and writing happen here, on ``con``. ``on_item(file, status)`` is called once per
    file handled (for a progress bar). ``retry_quarantined`` parses files quarantined earlier
    again. Ctrl-C stops cleanly: what is written stays, the file being written is rolled back, no
    parse worker is left, and :class:`IngestInterrupted` says how many files loaded.
    """
    for p in paths:
        if not p.exists():
            raise ConfigError(f"{p}: no such file or directory")
    summary = Summary()
    notify = on_item or _ignore
    return _ingest(con, config, paths, athlete, parse_jobs, notify, retry_quarantined, summary)


def _ingest(con: duckdb.DuckDBPyConnection, config: Config, paths: list[Path], athlete: str | None,
            parse_jobs: ParseJobs | None, notify: OnItem, retry_quarantined: bool, summary: Summary) -> Summary:
    planner = Planner(con, config, athlete, retry_quarantined)
    started = datetime.now(UTC)
    results = (parse_jobs or in_processes())(_planned(con, planner, paths, summary, notify))
    try:
        for batch in _ready_batches(results):
            for parsed, outcome in zip(batch, write_batch(con, batch), strict=True):
                if parsed.transient:
                    planner.unfinished(parsed.job)
                else:
                    planner.logged(parsed.job)
                summary.count(parsed.job.file, outcome, parsed.result)
                notify(parsed.job.file, outcome.status)
            planner.remember_files(con)
        planner.remember_files(con)
        planner.remember_archives(con)
    except BaseException as err:
        if not _interrupted(err):
            raise
        with contextlib.suppress(duckdb.Error):  # "no transaction is active" when none was open
            con.execute("ROLLBACK")
        raise IngestInterrupted(_loaded_since(con, started, summary.new)) from None
    finally:
        close = getattr(results, "close", None)
        if close is not None:  # stops the pool now, whatever stopped the loop
            close()
    return summary
