"""The single writer: put one parsed file into DuckDB in one transaction.

Everything a file holds (activities with their samples and laps, strength sessions with their
sets) goes in with bulk DataFrame inserts (never row by row), together with its ``ingest_log``
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
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

import duckdb

from pipeline.db import transaction
from pipeline.parsers.records import Activity, ParseResult, Sport, StrengthSession
from pipeline.sources import SourceFile, StravaInfo

if TYPE_CHECKING:
    import pandas as pd

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


def _activity_frames(athlete_id: str, sha256: str, file: str, fmt: str, acts: list[Activity],
                     ids: list[str]) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    import pandas as pd  # only when there is something to write: keeps re-runs quick to start

    rows, samples = [], []
    for aid, a in zip(ids, acts, strict=True):
        s = a.samples
        rows.append({
            "activity_id": aid, "athlete_id": athlete_id, "file_sha256": sha256, "source_file": file,
            "source_format": fmt, "sport": a.sport, "sub_sport": a.sub_sport, "title": a.title,
            "start_utc": a.start_utc, "end_utc": a.end_utc, "duration_s": a.duration_s,
            "moving_s": a.moving_s, "distance_m": a.distance_m, "avg_hr": a.avg_hr, "max_hr": a.max_hr,
            "n_samples": len(s), "n_hr_samples": int(s["heart_rate"].notna().sum()), "duplicate_of": None,
        })
        if len(s):
            samples.append(s.assign(activity_id=aid))
    sample_frame = pd.concat(samples, ignore_index=True) if samples else None
    return pd.DataFrame(rows), sample_frame


LAP_COLUMNS = ["activity_id", "lap_index", "start_utc", "elapsed_s", "timer_s", "distance_m", "intensity"]


def _lap_frame(acts: list[Activity], ids: list[str]) -> pd.DataFrame | None:
    import pandas as pd

    rows = [(aid, i, lap.start_utc, lap.elapsed_s, lap.timer_s, lap.distance_m, lap.intensity)
            for aid, a in zip(ids, acts, strict=True) for i, lap in enumerate(a.laps)]
    if not rows:
        return None
    frame = pd.DataFrame(rows, columns=LAP_COLUMNS)
    frame["start_utc"] = pd.to_datetime(frame["start_utc"], utc=True)  # a lap without a start: NaT, not object
    return frame


def _session_frames(athlete_id: str, sha256: str, file: str, fmt: str, sessions: list[StrengthSession],
                    ids: list[str], activity_ids: dict[int, str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    import pandas as pd

    rows: list[dict[str, object]] = []
    sets: list[dict[str, object]] = []
    for i, (sid, s) in enumerate(zip(ids, sessions, strict=True)):
        complete = sum(1 for x in s.sets if x.reps is not None and x.weight_kg is not None)
        rows.append({
            "session_id": sid, "athlete_id": athlete_id, "file_sha256": sha256, "source_file": file,
            "source_format": fmt, "activity_id": activity_ids.get(i), "title": s.title, "notes": s.notes,
            "start_utc": s.start_utc, "end_utc": s.end_utc, "n_sets": len(s.sets),
            "n_complete_sets": complete, "duplicate_of": None,
        })
        # names as logged: the model build classifies them (pipeline/exercises.py), so an edit
        # to the exercise table reaches these sets without re-ingesting
        sets.extend({
            "session_id": sid, "set_index": x.set_index, "exercise_raw": x.exercise, "set_type": x.set_type,
            "reps": x.reps, "weight_kg": x.weight_kg, "rpe": x.rpe, "duration_s": x.duration_s,
            "start_utc": x.start_utc,
        } for x in s.sets)
    set_cols = ["session_id", "set_index", "exercise_raw", "set_type", "reps", "weight_kg", "rpe", "duration_s",
                "start_utc"]
    set_frame = pd.DataFrame(sets, columns=set_cols)
    # a typed column even when no set is timed (CSV logs): an all-None object column has no type
    set_frame["start_utc"] = pd.to_datetime(set_frame["start_utc"], utc=True)
    return pd.DataFrame(rows), set_frame


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


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame | None) -> None:
    if frame is None or frame.empty:
        return
    con.register("_incoming", frame)
    try:
        cols = ", ".join(f'"{c}"' for c in frame.columns)
        con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _incoming")
    finally:
        con.unregister("_incoming")


def _richness(fmt: str, n_hr: int, n_samples: int) -> tuple[int, int, int]:
    return (int(n_hr > 0), FORMAT_RANK.get(fmt, 0), n_samples)


def _dedup_activities(con: duckdb.DuckDBPyConnection, athlete_id: str, ids: list[str]
                      ) -> tuple[list[str], list[str]]:
    """Mark the poorer of each overlapping same-sport pair. Returns the reasons for the new
    activities that lost, and the earlier files that became duplicates of this one."""
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
                 AND start_utc < ? AND end_utc > ?
                 AND epoch(least(end_utc, ?::TIMESTAMPTZ) - greatest(start_utc, ?::TIMESTAMPTZ))
                     >= 0.5 * least(epoch(end_utc - start_utc), epoch(?::TIMESTAMPTZ - ?::TIMESTAMPTZ))
               ORDER BY start_utc LIMIT 1""",
            [athlete_id, sport, sha, end, start, end, start, end, start]).fetchone()
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


def _dedup_sessions(con: duckdb.DuckDBPyConnection, athlete_id: str, ids: list[str], new_file: str
                    ) -> tuple[list[str], list[str]]:
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
                 AND (abs(epoch(start_utc - ?::TIMESTAMPTZ)) <= {SESSION_MATCH_MINUTES * 60}
                      OR ((source_format = 'fit' OR ? = 'fit') AND start_utc < ? AND end_utc > ?))
               ORDER BY abs(epoch(start_utc - ?::TIMESTAMPTZ)), start_utc LIMIT 1""",
            [athlete_id, sha, start, fmt, end, start, start]).fetchone()
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


def load_result(con: duckdb.DuckDBPyConnection, source: SourceFile, result: ParseResult,
                strava: StravaInfo | None = None) -> Loaded:
    """Write one parsed file and its ``ingest_log`` row in one transaction."""
    athlete_id, file, sha256 = source.athlete_id, source.file, source.sha256
    if athlete_id is None:
        raise ValueError(f"{file}: a parsed file is loaded for an athlete")  # the planner assigns one
    source = replace(source, format=result.format)  # the parser's format (a CSV's flavour) is what is logged
    acts, sessions = result.activities, result.sessions
    if not acts and not sessions:
        return quarantine(con, source, "file holds no activity or strength session")
    for a in acts:
        _apply_strava(a, strava)
    act_ids = _ids(athlete_id, sha256, len(acts), "a")
    ses_ids = _ids(athlete_id, sha256, len(sessions), "s")
    act_frame, sample_frame = _activity_frames(athlete_id, sha256, file, result.format, acts, act_ids)
    lap_frame = _lap_frame(acts, act_ids)
    links = _watch_activity_for_sessions(acts, act_ids, sessions)
    ses_frame, set_frame = _session_frames(athlete_id, sha256, file, result.format, sessions, ses_ids, links)
    with transaction(con):
        _insert(con, "raw.activities", act_frame)
        _insert(con, "raw.samples", sample_frame)
        _insert(con, "raw.laps", lap_frame)
        _insert(con, "raw.strength_sessions", ses_frame)
        _insert(con, "raw.strength_sets", set_frame)
        lost, superseded = _dedup_activities(con, athlete_id, act_ids)
        older_exports, lost_to = _dedup_sessions(con, athlete_id, ses_ids, file)
        superseded += older_exports
        status: LogStatus = "loaded"
        reason = skipped_reason(result.skipped_rows) if result.skipped_rows else None
        if acts and len(lost) == len(acts) and not sessions:
            status, reason = "duplicate", lost[0]
        elif lost_to and not acts:
            status, reason = "duplicate", _later_export(lost_to[0])
        log_entry(con, source, status, reason, len(acts), len(sessions))
    return Loaded(status, reason, superseded)
