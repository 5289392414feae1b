"""The single writer: put one parsed file into DuckDB in one transaction.

Everything a file holds (activities with their samples and laps, strength sessions with their
sets) goes in with bulk Arrow inserts (never row by row; never through pandas, which would
cost every ingest its import), together with its ``ingest_log``
row, inside one transaction: a crash leaves either the whole file or none of it, and a re-run
picks up where the last one stopped.

Duplicates are resolved here, while the writer holds the only write connection:
- the same workout recorded twice (a FIT and a GPX of one run): same sport, time ranges
  overlapping by at least half of the shorter one; the richer recording is kept (heart rate,
  then format FIT > TCX > GPX, then more samples) and the other gets ``duplicate_of``;
- a strength session logged in two sources (:func:`_dedup_sessions`):
  - a log (Strong, Hevy, simple CSV) and the watch (FIT): overlapping times or starts within
    30 minutes; the session with more complete set rows keeps its sets, the other gets
    ``duplicate_of`` (the views take the watch's times for the merged session);
  - two different logs (Strong and Hevy): only starts within 30 minutes (SPEC), however long
    they overlap: a long Strong workout and a Hevy one an hour later are two sessions;
  - two exports of the same log (same format, another file): the same workout, matched by
    its start (within 30 minutes, the nearest first), and the *later or longer* export wins
    session by session (:func:`_export_rank`): a partial copy taken while the app was still
    writing must never keep its cut-off values, whatever order the files arrive in. A file
    all of whose sessions lost that way is logged ``duplicate``.
Nothing is deleted: a duplicate stays in the raw tables, out of the analyst views.

A log file whose parser skipped rows (an implausible value, a cut-off last line) is
``loaded`` with a reason listing them (:func:`skipped_reason`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

import duckdb

from pipeline.db import transaction
from pipeline.parsers.records import SAMPLE_COLUMNS, Activity, ParseResult, Sport, StrengthSession
from pipeline.sources import SourceFile, StravaInfo

if TYPE_CHECKING:
    import pyarrow as pa

Row = tuple[object, ...]
FORMAT_RANK = {"fit": 3, "tcx": 2, "gpx": 1}
SESSION_MATCH_MINUTES = 30
MAX_REASON_CHARS = 300  # an ingest_log reason stays one readable line
# Strava's activities.csv "Activity Type" -> our sport, for files whose own type says nothing
STRAVA_SPORTS: dict[str, Sport] = {
    "run": "running", "trail run": "running", "virtual run": "running",
    "ride": "cycling", "virtual ride": "cycling", "e-bike ride": "cycling",
    "swim": "swimming", "weight training": "strength",
}


# an ingest_log status; "ignored": a file that holds no activity (SPEC v2)
LogStatus = Literal["loaded", "duplicate", "quarantined", "ignored"]
# what happened to one file in this run: a log status, or "skipped" (a transient read error: not logged)
Outcome = LogStatus | Literal["skipped"]


@dataclass
class Loaded:
    status: Outcome
    reason: str | None = None
    superseded: list[str] = field(default_factory=list)  # earlier files this one made duplicates


def _ids(athlete_id: str, sha256: str, n: int, kind: str) -> list[str]:
    base = hashlib.sha256(f"{athlete_id}:{sha256}".encode()).hexdigest()[:16]
    return [f"{base}-{kind}{i}" for i in range(n)]


def log_entry(con: duckdb.DuckDBPyConnection, source: SourceFile, status: LogStatus, reason: str | None,
              activities: int = 0, sessions: int = 0) -> None:
    # a file's newest outcome supersedes its quarantine: a file fixed in place (or parsed again with
    # --retry-quarantined) is not left 'quarantined' under its earlier content
    con.execute("DELETE FROM ingest_log WHERE file = ? AND athlete_id IS NOT DISTINCT FROM ? "
                "AND status = 'quarantined'", [source.file, source.athlete_id])
    con.execute(
        "INSERT INTO ingest_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [source.file, source.sha256, source.format, status, reason, datetime.now(UTC), source.athlete_id,
         activities, sessions],
    )


def quarantine(con: duckdb.DuckDBPyConnection, source: SourceFile, reason: str) -> Loaded:
    with transaction(con):
        log_entry(con, source, "quarantined", reason)
    return Loaded("quarantined", reason)


def ignore(con: duckdb.DuckDBPyConnection, source: SourceFile, reason: str) -> Loaded:
    """Log a readable file that holds no activity (device settings, an export's profile)."""
    with transaction(con):
        log_entry(con, source, "ignored", reason)
    return Loaded("ignored", reason)


def log_duplicate(con: duckdb.DuckDBPyConnection, source: SourceFile, reason: str) -> Loaded:
    """Log a file whose content is already loaded under another name (nothing else is written)."""
    with transaction(con):
        log_entry(con, source, "duplicate", reason)
    return Loaded("duplicate", reason)


def _apply_strava(activity: Activity, strava: StravaInfo | None) -> None:
    """Inside a Strava export, its activities.csv is what the athlete last said about the
    activity: its title wins over the file's own (a GPX <name> is the name at upload; a run
    renamed "6x800" on Strava is a quality run), for every member format alike, and its type
    wins wherever it maps to a sport."""
    if not strava:
        return
    title, kind = strava
    if title and title.strip():
        activity.title = title.strip()
    sport = STRAVA_SPORTS.get((kind or "").strip().lower())
    if sport:
        activity.sport = sport


def skipped_reason(skipped: list[str]) -> str:
    """One line for ``ingest_log.reason`` from a parser's per-row reasons ("line 14: ..."):
    the count, then the reasons, rows with the same reason together ("lines 88-99 (12
    rows): Date 1989-03-01 is implausible ..."), cut at :data:`MAX_REASON_CHARS`."""
    groups: dict[str, list[str]] = {}
    for entry in skipped:
        line, sep, why = entry.partition(": ")
        if not (sep and line.startswith("line ")):
            line, why = "", entry
        groups.setdefault(why, []).append(line.removeprefix("line "))
    parts = []
    for why, lines in groups.items():
        if len(lines) == 1:
            where = f"line {lines[0]}: " if lines[0] else ""
        else:
            where = f"lines {lines[0]}-{lines[-1]} ({len(lines)} rows): "
        parts.append(where + why)
    head = f"{len(skipped)} row{'s' if len(skipped) != 1 else ''} skipped: "
    text = head + "; ".join(parts)
    if len(text) <= MAX_REASON_CHARS:
        return text
    shown: list[str] = []
    for part in parts:
        more = f"; and {len(parts) - len(shown) - 1} more"
        if len(head + "; ".join([*shown, part]) + more) > MAX_REASON_CHARS:
            break
        shown.append(part)
    rest = len(parts) - len(shown)
    text = head + "; ".join(shown) + f"{'; ' if shown else ''}and {rest} more"
    return text if len(text) <= MAX_REASON_CHARS else text[: MAX_REASON_CHARS - 1] + "…"


def _activity_rows(athlete_id: str, sha256: str, file: str, fmt: str, acts: list[Activity],
                   ids: list[str]) -> list[Row]:
    """Rows in :data:`ACTIVITY_COLUMNS`' order."""
    return [(aid, athlete_id, sha256, file, fmt, a.sport, a.sub_sport, a.title, a.start_utc, a.end_utc,
             a.duration_s, a.moving_s, a.distance_m, a.avg_hr, a.max_hr, a.samples.num_rows,
             a.samples.num_rows - a.samples.column("heart_rate").null_count, None)
            for aid, a in zip(ids, acts, strict=True)]


# each table's columns as the writer fills them, with the Arrow type each is built as
# (pipeline.parsers.arrow): "str", "int" (int32), "float", "ts" (microseconds, UTC)
ACTIVITY_COLUMNS = {
    "activity_id": "str", "athlete_id": "str", "file_sha256": "str", "source_file": "str",
    "source_format": "str", "sport": "str", "sub_sport": "str", "title": "str", "start_utc": "ts",
    "end_utc": "ts", "duration_s": "float", "moving_s": "float", "distance_m": "float", "avg_hr": "float",
    "max_hr": "float", "n_samples": "int", "n_hr_samples": "int", "duplicate_of": "str",
}
LAP_COLUMNS = {"activity_id": "str", "lap_index": "int", "start_utc": "ts", "elapsed_s": "float",
               "timer_s": "float", "distance_m": "float", "intensity": "str"}
SESSION_COLUMNS = {
    "session_id": "str", "athlete_id": "str", "file_sha256": "str", "source_file": "str",
    "source_format": "str", "activity_id": "str", "title": "str", "notes": "str", "start_utc": "ts",
    "end_utc": "ts", "n_sets": "int", "n_complete_sets": "int", "duplicate_of": "str",
}
SET_COLUMNS = {"session_id": "str", "set_index": "int", "exercise_raw": "str", "set_type": "str", "reps": "int",
               "weight_kg": "float", "rpe": "float", "duration_s": "float", "start_utc": "ts"}
LOG_COLUMNS = {"file": "str", "sha256": "str", "format": "str", "status": "str", "reason": "str",
               "ingested_at": "ts", "athlete_id": "str", "activities": "int", "sessions": "int"}


def _rows_table(columns: dict[str, str], rows: list[Row]) -> pa.Table:
    """Rows (tuples in ``columns``' order) as an Arrow table of the columns' types."""
    from pipeline.parsers import arrow

    build = {"str": arrow.strings, "int": arrow.ints, "float": arrow.floats, "ts": arrow.datetimes}
    values = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
    return arrow.table({name: build[kind](list(v))  # type: ignore[operator]
                        for (name, kind), v in zip(columns.items(), values, strict=True)})


def _lap_rows(acts: list[Activity], ids: list[str]) -> list[Row]:
    return [(aid, i, lap.start_utc, lap.elapsed_s, lap.timer_s, lap.distance_m, lap.intensity)
            for aid, a in zip(ids, acts, strict=True) for i, lap in enumerate(a.laps)]


def _session_rows(athlete_id: str, sha256: str, file: str, fmt: str, sessions: list[StrengthSession],
                  ids: list[str], activity_ids: dict[int, str]) -> tuple[list[Row], list[Row]]:
    """Session rows and set rows, in :data:`SESSION_COLUMNS`' and :data:`SET_COLUMNS`' order."""
    rows: list[Row] = []
    sets: list[Row] = []
    for i, (sid, s) in enumerate(zip(ids, sessions, strict=True)):
        complete = sum(1 for x in s.sets if x.reps is not None and x.weight_kg is not None)
        rows.append((sid, athlete_id, sha256, file, fmt, activity_ids.get(i), s.title, s.notes, s.start_utc,
                     s.end_utc, len(s.sets), complete, None))
        # names as logged: the model build classifies them (pipeline/exercises.py), so an edit
        # to the exercise table reaches these sets without re-ingesting
        sets.extend((sid, x.set_index, x.exercise, x.set_type, x.reps, x.weight_kg, x.rpe, x.duration_s, x.start_utc)
                    for x in s.sets)
    return rows, sets


# DuckDB's default row group (rows); raw.samples is written in batches of it (:func:`_samples_table`)
ROW_GROUP_ROWS = 122_880


def _samples_table(samples: list[tuple[str, pa.Table]]) -> pa.Table | None:
    """Every activity's samples as one Arrow table with the activity id dictionary-encoded (one
    string per activity, not per sample), in record batches of :data:`ROW_GROUP_ROWS`.

    The batch size keeps the DB file small. DuckDB inserts an Arrow table record batch by record
    batch, in parallel, writing a large insert to the file before the commit; batches smaller
    than a row group (one activity: ~3,600 rows) are merged into underfull row groups (a batch
    of 64 runs: 111,600 + 111,600 + 7,200 rows), which the next checkpoint folds into full ones,
    writing those samples again and leaving the first copy's blocks free in the file: a
    ten-year ingest's file was 40 % free blocks (430 MB against 267 MB). Batches of a whole row
    group are written once, as full row groups. A table under one row group stays in memory
    until the commit anyway, so it is left as it is (no copy)."""
    import numpy as np
    import pyarrow as pa

    from pipeline.parsers import arrow

    samples = [(aid, s) for aid, s in samples if s.num_rows]
    if not samples:
        return None
    ids = arrow.strings([aid for aid, _ in samples])
    names = ["activity_id", *SAMPLE_COLUMNS]
    batches = []
    for i, (_, table) in enumerate(samples):
        for batch in table.select(list(SAMPLE_COLUMNS)).to_batches():
            owner = pa.DictionaryArray.from_arrays(arrow.ints(np.full(batch.num_rows, i, dtype=np.int32)), ids)
            batches.append(pa.RecordBatch.from_arrays([owner, *batch.columns], names=names))
    table = pa.Table.from_batches(batches)
    if table.num_rows <= ROW_GROUP_ROWS:
        return table
    # one copy of the batch's samples (as the pandas frame made), then zero-copy slices
    return pa.Table.from_batches(table.combine_chunks().to_batches(max_chunksize=ROW_GROUP_ROWS))


def _watch_activity_for_sessions(acts: list[Activity], ids: list[str],
                                 sessions: list[StrengthSession]) -> dict[int, str]:
    """In a FIT file, each strength session is also a strength activity: link them by time."""
    links: dict[int, str] = {}
    for i, s in enumerate(sessions):
        for aid, a in zip(ids, acts, strict=True):
            if a.sport == "strength" and a.start_utc < s.end_utc and s.start_utc < a.end_utc:
                links[i] = aid
                break
    return links


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pa.Table | None) -> None:
    if frame is None or not frame.num_rows:
        return
    names = frame.column_names
    with registered(con, "_incoming", frame):
        cols = ", ".join(f'"{c}"' for c in names)
        con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _incoming")


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, name: str, data: object) -> Iterator[None]:
    """``data`` (a DataFrame, an Arrow table) as the view ``name`` for the duration."""
    con.register(name, data)
    try:
        yield
    finally:
        # in a transaction a failed statement aborted, unregistering raises too and would hide
        # that statement's error; the next register replaces the view anyway
        with suppress(duckdb.TransactionException):
            con.unregister(name)


def _richness(fmt: str, n_hr: int, n_samples: int) -> tuple[int, int, int]:
    return (int(n_hr > 0), FORMAT_RANK.get(fmt, 0), n_samples)


def _dedup_activities(con: duckdb.DuckDBPyConnection, athlete_id: str, ids: list[str], hidden: list[str]
                      ) -> tuple[list[str], list[str]]:
    """Mark the poorer of each overlapping same-sport pair. Returns the reasons for the new
    activities that lost, and the earlier files that became duplicates of this one. ``hidden``:
    activities of files later in the batch, not there yet for this file."""
    lost: list[str] = []
    superseded: list[str] = []
    for aid in ids:
        new = con.execute(
            "SELECT sport, start_utc, end_utc, source_format, n_hr_samples, n_samples, source_file, file_sha256 "
            "FROM raw.activities WHERE activity_id = ?", [aid]).fetchall()[0]
        sport, start, end, fmt, n_hr, n, file, sha = new
        old = con.execute(
            """SELECT activity_id, source_format, n_hr_samples, n_samples, source_file
               FROM raw.activities
               WHERE athlete_id = ? AND sport = ? AND file_sha256 <> ? AND duplicate_of IS NULL
                 AND NOT list_contains(?::VARCHAR[], activity_id)
                 AND start_utc < ? AND end_utc > ?
                 AND epoch(least(end_utc, ?::TIMESTAMPTZ) - greatest(start_utc, ?::TIMESTAMPTZ))
                     >= 0.5 * least(epoch(end_utc - start_utc), epoch(?::TIMESTAMPTZ - ?::TIMESTAMPTZ))
               ORDER BY start_utc LIMIT 1""",
            [athlete_id, sport, sha, hidden, end, start, end, start, end, start]).fetchone()
        if old is None:
            continue
        old_id, old_fmt, old_hr, old_n, old_file = old
        if _richness(fmt, n_hr, n) > _richness(old_fmt, old_hr, old_n):
            con.execute("UPDATE raw.activities SET duplicate_of = ? WHERE activity_id = ? OR duplicate_of = ?",
                        [aid, old_id, old_id])
            if _mark_file_duplicate(con, old_file, f"same workout as {file} ({fmt.upper()} kept)"):
                superseded.append(old_file)
        else:
            con.execute("UPDATE raw.activities SET duplicate_of = ? WHERE activity_id = ?", [old_id, aid])
            lost.append(f"same workout as {old_file} ({old_fmt.upper()} kept)")
    return lost, superseded


def _mark_file_duplicate(con: duckdb.DuckDBPyConnection, file: str, reason: str) -> bool:
    """A file all of whose activities lost to a richer recording is logged as a duplicate."""
    updated = con.execute(
        """UPDATE ingest_log SET status = 'duplicate', reason = ?
           WHERE file = ? AND status = 'loaded' AND sessions = 0
             AND NOT EXISTS (SELECT 1 FROM raw.activities a
                             WHERE a.source_file = ? AND a.duplicate_of IS NULL)""",
        [reason, file, file]).fetchone()
    return bool(updated and updated[0] > 0)  # the UPDATE's row count


def _export_rank(con: duckdb.DuckDBPyConnection, athlete_id: str, sha256: str) -> tuple[datetime, int, int, int]:
    """How late and long an export of a log is: its last workout's start, then its workouts,
    sets and complete sets. A cumulative log only grows, so a later export ranks higher, and
    a copy cut off while being written ranks below the complete file (fewer sets: the cut
    row is skipped by the parser)."""
    row = con.execute(
        "SELECT max(start_utc), count(*), sum(n_sets), sum(n_complete_sets) FROM raw.strength_sessions "
        "WHERE athlete_id = ? AND file_sha256 = ?", [athlete_id, sha256]).fetchall()[0]
    return row[0], int(row[1]), int(row[2] or 0), int(row[3] or 0)


def _dedup_sessions(con: duckdb.DuckDBPyConnection, athlete_id: str, ids: list[str], new_file: str,
                    hidden: list[str]) -> tuple[list[str], list[str]]:
    """Merge each new session with the session it repeats (module docstring). Returns the
    earlier exports the new one superseded in full (logged ``duplicate`` now), and the
    exports the new file lost every session to (empty unless it lost them all)."""
    same_log_winners: list[str] = []  # per new session that lost to another export of its log
    beaten: dict[str, str] = {}  # sha256 -> file of the earlier exports that lost a session
    ranks: dict[str, tuple[datetime, int, int, int]] = {}
    for sid in ids:
        # sessions of the same file are different workouts, however close
        start, end, fmt, complete, n, sha = con.execute(
            "SELECT start_utc, end_utc, source_format, n_complete_sets, n_sets, file_sha256 "
            "FROM raw.strength_sessions WHERE session_id = ?", [sid]).fetchall()[0]
        # with a watch: overlap or near starts; two logs (of one app or two): near starts only
        old = con.execute(
            f"""SELECT session_id, source_format, n_complete_sets, n_sets, file_sha256, source_file
               FROM raw.strength_sessions
               WHERE athlete_id = ? AND file_sha256 <> ? AND duplicate_of IS NULL
                 AND NOT list_contains(?::VARCHAR[], session_id)
                 AND (abs(epoch(start_utc - ?::TIMESTAMPTZ)) <= {SESSION_MATCH_MINUTES * 60}
                      OR ((source_format = 'fit' OR ? = 'fit') AND start_utc < ? AND end_utc > ?))
               ORDER BY abs(epoch(start_utc - ?::TIMESTAMPTZ)), start_utc LIMIT 1""",
            [athlete_id, sha, hidden, start, fmt, end, start, start]).fetchone()
        if old is None:
            continue
        old_id, old_fmt, old_complete, old_n, old_sha, old_file = old
        same_log = fmt == old_fmt and fmt != "fit"
        if same_log:  # two exports of one log: the later or longer one wins
            for key in (sha, old_sha):
                if key not in ranks:
                    ranks[key] = _export_rank(con, athlete_id, key)
            new_wins = ranks[sha] >= ranks[old_sha]  # a tie: the one loaded last (later copy)
        else:
            new_wins = (complete, n, int(fmt == "fit")) > (old_complete, old_n, int(old_fmt == "fit"))
        if new_wins:
            con.execute("UPDATE raw.strength_sessions SET duplicate_of = ? "
                        "WHERE session_id = ? OR duplicate_of = ?", [sid, old_id, old_id])
            if same_log:
                beaten[old_sha] = old_file
        else:
            con.execute("UPDATE raw.strength_sessions SET duplicate_of = ? WHERE session_id = ?", [old_id, sid])
            if same_log:
                same_log_winners.append(old_file)
    lost_to = same_log_winners if len(same_log_winners) == len(ids) else []
    superseded = [f for old_sha, f in sorted(beaten.items(), key=lambda kv: kv[1])
                  if _mark_export_superseded(con, athlete_id, old_sha, f, _later_export(new_file))]
    return superseded, lost_to


def _later_export(file: str) -> str:
    return f"every session is in {file}, a later or longer export of this log"


def _mark_export_superseded(con: duckdb.DuckDBPyConnection, athlete_id: str, sha256: str, file: str,
                            reason: str) -> bool:
    """An export none of whose sessions is kept any more (a later export of the same log
    holds them all) is logged as a duplicate, like a poorer recording of a run. By content,
    not name: the next export often has the same name (``strong.csv``)."""
    updated = con.execute(
        """UPDATE ingest_log SET status = 'duplicate', reason = ?
           WHERE file = ? AND sha256 = ? AND athlete_id = ? AND status = 'loaded' AND activities = 0
             AND NOT EXISTS (SELECT 1 FROM raw.strength_sessions s
                             WHERE s.athlete_id = ? AND s.file_sha256 = ? AND s.duplicate_of IS NULL)""",
        [reason, file, sha256, athlete_id, athlete_id, sha256]).fetchone()
    return bool(updated and updated[0] > 0)


@dataclass
class ToLoad:
    """One file for :func:`load_batch`: a parse result, or (``log``) only a log row (a file
    quarantined or ignored by its parser)."""

    source: SourceFile
    result: ParseResult | None = None
    strava: StravaInfo | None = None
    log: tuple[LogStatus, str] | None = None


@dataclass
class _Staged:
    """One file of a batch, its rows built; ``log`` set for a file that only gets a log row."""

    source: SourceFile
    skipped: list[str]
    act_ids: list[str] = field(default_factory=list)
    ses_ids: list[str] = field(default_factory=list)
    log: tuple[LogStatus, str] | None = None


@dataclass
class _Rows:
    """The rows of a whole batch, table by table."""

    activities: list[Row] = field(default_factory=list)
    samples: list[tuple[str, pa.Table]] = field(default_factory=list)
    laps: list[Row] = field(default_factory=list)
    sessions: list[Row] = field(default_factory=list)
    sets: list[Row] = field(default_factory=list)

    def stage(self, item: ToLoad) -> _Staged:
        if item.log is not None or item.result is None:
            return _Staged(item.source, [], log=item.log or ("quarantined", "unreadable file"))
        athlete_id, file, sha256 = item.source.athlete_id, item.source.file, item.source.sha256
        if athlete_id is None:
            raise ValueError(f"{file}: a parsed file is loaded for an athlete")  # the planner assigns one
        result = item.result
        source = replace(item.source, format=result.format)  # the parser's format (a CSV's flavour) is logged
        acts, sessions = result.activities, result.sessions
        if not acts and not sessions:
            return _Staged(source, [], log=("quarantined", "file holds no activity or strength session"))
        for a in acts:
            _apply_strava(a, item.strava)
        act_ids = _ids(athlete_id, sha256, len(acts), "a")
        ses_ids = _ids(athlete_id, sha256, len(sessions), "s")
        self.activities += _activity_rows(athlete_id, sha256, file, result.format, acts, act_ids)
        self.samples += [(aid, a.samples) for aid, a in zip(act_ids, acts, strict=True)]
        self.laps += _lap_rows(acts, act_ids)
        links = _watch_activity_for_sessions(acts, act_ids, sessions)
        rows, sets = _session_rows(athlete_id, sha256, file, result.format, sessions, ses_ids, links)
        self.sessions += rows
        self.sets += sets
        return _Staged(source, result.skipped_rows, act_ids, ses_ids)

    def insert(self, con: duckdb.DuckDBPyConnection) -> None:
        _insert(con, "raw.activities", _rows_table(ACTIVITY_COLUMNS, self.activities))
        _insert(con, "raw.samples", _samples_table(self.samples))
        _insert(con, "raw.laps", _rows_table(LAP_COLUMNS, self.laps))
        _insert(con, "raw.strength_sessions", _rows_table(SESSION_COLUMNS, self.sessions))
        _insert(con, "raw.strength_sets", _rows_table(SET_COLUMNS, self.sets))


def _clashing(con: duckdb.DuckDBPyConnection, act_ids: list[str], ses_ids: list[str]) -> set[str]:
    """The batch's activities and sessions that may repeat another file's, in one query per table:
    everything the per-file dedup below would match (the same conditions, which are symmetric,
    without its ``duplicate_of IS NULL``), the batch's own files included. The rest of the batch
    needs no dedup at all."""
    found: set[str] = set()
    if act_ids:
        found.update(r[0] for r in con.execute(
            """SELECT DISTINCT n.activity_id FROM raw.activities n JOIN raw.activities o
                 ON o.athlete_id = n.athlete_id AND o.sport = n.sport AND o.file_sha256 <> n.file_sha256
                AND o.start_utc < n.end_utc AND o.end_utc > n.start_utc
                AND epoch(least(o.end_utc, n.end_utc) - greatest(o.start_utc, n.start_utc))
                    >= 0.5 * least(epoch(o.end_utc - o.start_utc), epoch(n.end_utc - n.start_utc))
               WHERE list_contains(?::VARCHAR[], n.activity_id)""", [act_ids]).fetchall())
    if ses_ids:
        found.update(r[0] for r in con.execute(
            f"""SELECT DISTINCT n.session_id FROM raw.strength_sessions n JOIN raw.strength_sessions o
                  ON o.athlete_id = n.athlete_id AND o.file_sha256 <> n.file_sha256
                 AND (abs(epoch(o.start_utc - n.start_utc)) <= {SESSION_MATCH_MINUTES * 60}
                      OR ((o.source_format = 'fit' OR n.source_format = 'fit')
                          AND o.start_utc < n.end_utc AND o.end_utc > n.start_utc))
                WHERE list_contains(?::VARCHAR[], n.session_id)""", [ses_ids]).fetchall())
    return found


def _log_row(source: SourceFile, status: LogStatus, reason: str | None, activities: int = 0,
             sessions: int = 0) -> Row:
    return (source.file, source.sha256, source.format, status, reason, datetime.now(UTC), source.athlete_id,
            activities, sessions)


def _write_log(con: duckdb.DuckDBPyConnection, rows: list[Row]) -> None:
    """:func:`log_entry` for many files in two statements."""
    if not rows:
        return
    with registered(con, "_log_rows", _rows_table(LOG_COLUMNS, rows)):
        con.execute("DELETE FROM ingest_log l USING _log_rows r WHERE l.status = 'quarantined' "
                    "AND l.file = r.file AND l.athlete_id IS NOT DISTINCT FROM r.athlete_id")
        con.execute(f"INSERT INTO ingest_log ({', '.join(LOG_COLUMNS)}) SELECT {', '.join(LOG_COLUMNS)} FROM _log_rows")
    rows.clear()


def load_batch(con: duckdb.DuckDBPyConnection, files: list[ToLoad]) -> list[Loaded]:
    """Write parsed files and their ``ingest_log`` rows in one transaction: the same rows and log
    as :func:`load_result` file after file, in a handful of statements per batch.

    Each table gets one bulk insert for the whole batch; one query per table finds the files that
    may repeat another's (:func:`_clashing`, usually none); only those run the per-file dedup, in
    batch order, each seeing just the files before it. Any failure rolls the whole batch back
    (the caller then writes its files one at a time)."""
    rows = _Rows()
    staged = [rows.stage(item) for item in files]
    outcomes: list[Loaded] = []
    with transaction(con):
        rows.insert(con)
        clash = _clashing(con, [a for s in staged for a in s.act_ids], [i for s in staged for i in s.ses_ids])
        later_acts = [a for s in staged for a in s.act_ids if a in clash]
        later_ses = [i for s in staged for i in s.ses_ids if i in clash]
        log: list[Row] = []
        for s in staged:
            if s.log is not None:
                log.append(_log_row(s.source, *s.log))
                outcomes.append(Loaded(*s.log))
                continue
            assert s.source.athlete_id is not None
            status: LogStatus = "loaded"
            reason = skipped_reason(s.skipped) if s.skipped else None
            superseded: list[str] = []
            mine_acts = [a for a in s.act_ids if a in clash]
            mine_ses = [i for i in s.ses_ids if i in clash]
            if mine_acts or mine_ses:
                later_acts = [a for a in later_acts if a not in mine_acts]
                later_ses = [i for i in later_ses if i not in mine_ses]
                _write_log(con, log)  # an earlier file of the batch may be the one this one supersedes
                lost, superseded = _dedup_activities(con, s.source.athlete_id, mine_acts, later_acts)
                older_exports, lost_to = _dedup_sessions(con, s.source.athlete_id, mine_ses, s.source.file,
                                                         later_ses)
                superseded += older_exports
                # a file lost whole when every one of its activities (sessions) lost
                if s.act_ids and len(lost) == len(s.act_ids) and not s.ses_ids:
                    status, reason = "duplicate", lost[0]
                elif lost_to and len(lost_to) == len(s.ses_ids) and not s.act_ids:
                    status, reason = "duplicate", _later_export(lost_to[0])
            log.append(_log_row(s.source, status, reason, len(s.act_ids), len(s.ses_ids)))
            outcomes.append(Loaded(status, reason, superseded))
        _write_log(con, log)
    return outcomes


def load_result(con: duckdb.DuckDBPyConnection, source: SourceFile, result: ParseResult,
                strava: StravaInfo | None = None) -> Loaded:
    """Write one parsed file and its ``ingest_log`` row in one transaction."""
    return load_batch(con, [ToLoad(source, result, strava)])[0]
