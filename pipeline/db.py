"""The DuckDB file: connecting, the raw schema that ingest writes, and the athletes table.

Raw tables live in the ``raw`` schema and are written only by :mod:`pipeline.writer`; analysts
query the views and marts in ``main`` that the SQL models build from them (``sql/``).
``ingest_log`` is the one raw table in ``main``: it is itself part of the contract.
"""

from __future__ import annotations

import functools
import hashlib
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from pipeline.config import Config, Rules
from pipeline.errors import DatabaseBusyError

SCHEMA_VERSION = 1

RAW_DDL = """
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS internal;
-- what the rules found at the last build; the `flags` model (sql/marts/flags.sql) shows it
CREATE TABLE IF NOT EXISTS internal.rule_flags (
    athlete_id VARCHAR NOT NULL, rule VARCHAR NOT NULL, severity VARCHAR NOT NULL, date DATE NOT NULL,
    week VARCHAR NOT NULL, message VARCHAR NOT NULL, evidence JSON
);
-- archives (.zip, .gz) whose every member is in ingest_log: a re-sync recognises an unchanged one
-- from a stat (or, touched, from its sha256) without decompressing it again (pipeline.ingest)
CREATE TABLE IF NOT EXISTS internal.known_archives (
    file VARCHAR NOT NULL, athlete_id VARCHAR, size BIGINT NOT NULL, mtime_ns BIGINT NOT NULL,
    sha256 VARCHAR NOT NULL, skipped INTEGER NOT NULL, unsupported INTEGER NOT NULL
);
-- loose files seen by ingest, as they were when hashed: a re-sync recognises an unchanged one
-- (same size and mtime) without reading it; sha256 NULL: not an activity file (pipeline.ingest)
CREATE TABLE IF NOT EXISTS internal.known_files (
    file VARCHAR NOT NULL, size BIGINT NOT NULL, mtime_ns BIGINT NOT NULL, sha256 VARCHAR
);
CREATE TABLE IF NOT EXISTS raw.meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS raw.athletes (
    athlete_id VARCHAR PRIMARY KEY,
    timezone VARCHAR NOT NULL,
    max_hr INTEGER, resting_hr INTEGER, sex VARCHAR, threshold_hr INTEGER,
    strength_target_per_week INTEGER,
    threshold_pace_s_per_km INTEGER, strength_experience VARCHAR, long_run_minutes DOUBLE
);
CREATE TABLE IF NOT EXISTS raw.build_state (
    as_of DATE NOT NULL,            -- the day the last build judged from (weeks ending before it are complete)
    built_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS raw.races (
    athlete_id VARCHAR NOT NULL, race_date DATE NOT NULL, name VARCHAR, priority VARCHAR
);
CREATE TABLE IF NOT EXISTS ingest_log (
    file VARCHAR NOT NULL,          -- as given; archive members as archive.zip!member/path
    sha256 VARCHAR NOT NULL,
    format VARCHAR,
    status VARCHAR NOT NULL,        -- loaded | duplicate | quarantined | ignored
    reason VARCHAR,
    ingested_at TIMESTAMPTZ NOT NULL,
    athlete_id VARCHAR,
    activities INTEGER,
    sessions INTEGER
);
CREATE TABLE IF NOT EXISTS raw.activities (
    activity_id VARCHAR PRIMARY KEY,
    athlete_id VARCHAR NOT NULL,
    file_sha256 VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    source_format VARCHAR NOT NULL,
    sport VARCHAR NOT NULL,
    sub_sport VARCHAR,
    title VARCHAR,
    start_utc TIMESTAMPTZ NOT NULL,
    end_utc TIMESTAMPTZ NOT NULL,
    duration_s DOUBLE,
    moving_s DOUBLE,
    distance_m DOUBLE,
    avg_hr DOUBLE,
    max_hr DOUBLE,
    n_samples INTEGER,
    n_hr_samples INTEGER,
    duplicate_of VARCHAR            -- set when another file recorded the same workout better
);
CREATE TABLE IF NOT EXISTS raw.samples (
    activity_id VARCHAR NOT NULL,
    ts_utc TIMESTAMPTZ NOT NULL,
    lat DOUBLE, lon DOUBLE, distance_m DOUBLE, speed_mps DOUBLE,
    heart_rate DOUBLE, cadence DOUBLE, altitude_m DOUBLE
);
CREATE TABLE IF NOT EXISTS raw.laps (
    activity_id VARCHAR NOT NULL,
    lap_index INTEGER NOT NULL,     -- order within the activity, from 0
    start_utc TIMESTAMPTZ,
    elapsed_s DOUBLE, timer_s DOUBLE, distance_m DOUBLE,
    intensity VARCHAR               -- active | rest | warmup | cooldown | recovery | interval | other
);
CREATE TABLE IF NOT EXISTS raw.strength_sessions (
    session_id VARCHAR PRIMARY KEY,
    athlete_id VARCHAR NOT NULL,
    file_sha256 VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    source_format VARCHAR NOT NULL,
    activity_id VARCHAR,            -- the watch activity of a FIT strength session
    title VARCHAR,
    notes VARCHAR,
    start_utc TIMESTAMPTZ NOT NULL,
    end_utc TIMESTAMPTZ NOT NULL,
    n_sets INTEGER,
    n_complete_sets INTEGER,        -- sets with both reps and weight: "more complete" wins a merge
    duplicate_of VARCHAR            -- the session this one was merged into
);
CREATE TABLE IF NOT EXISTS raw.strength_sets (
    session_id VARCHAR NOT NULL,
    set_index INTEGER NOT NULL,
    exercise_raw VARCHAR,
    exercise VARCHAR,
    set_type VARCHAR NOT NULL,
    reps INTEGER,
    weight_kg DOUBLE,
    rpe DOUBLE,
    duration_s DOUBLE,
    is_unilateral BOOLEAN,
    is_plyometric BOOLEAN,
    start_utc TIMESTAMPTZ
);
"""



def connect(path: Path | str, read_only: bool = False, wait_s: float = 0.0,
            config: dict[str, Any] | None = None) -> duckdb.DuckDBPyConnection:
    """Open the DB; a lock held by another process is retried for ``wait_s`` seconds, then
    reported as :class:`DatabaseBusyError` with a message a user can act on."""
    deadline = time.monotonic() + wait_s
    delay = 0.2
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config=config or {})
        except duckdb.IOException as err:
            if "lock" not in str(err).lower():
                raise
            if time.monotonic() >= deadline:
                raise DatabaseBusyError(_busy_message(path, str(err), read_only)) from None
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


def _busy_message(path: Path | str, error: str, read_only: bool) -> str:
    from pipeline.analyst import catalog_path  # the analyst layer imports the models, which import this

    holder = re.search(r"\(PID (\d+)\)", error)
    pid = f" (pid {holder[1]})" if holder else ""
    catalog = catalog_path(path).name
    if read_only:  # a writer (an ingest or a build) holds it
        return f"{path} is locked by another process{pid} that writes it; retry when it is done, or open {catalog}"
    # any connection of another process blocks a writer, a read-only one too: analysts belong on the
    # analyst catalog, which runlift never opens in place
    return f"{path} is locked by another process{pid}; analysts: open {catalog} or use `runlift sql`"


# What `runlift sql` may do: read the analyst layer. No ATTACH, no COPY, no reading or listing files
# outside the analyst folder, no extension installs; locked, so the query cannot SET it back (DuckDB
# "Securing DuckDB"). DuckDB lets a connection write files where it may read them, so the statements
# that write files are refused before DuckDB runs them (:func:`refuse_writes`).
ANALYST_SETTINGS = ("SET enable_external_access = false", "SET lock_configuration = true")
# statements that write files (COPY ... TO, EXPORT DATABASE, ATTACH creating a database) or run one
# that does (EXECUTE of a prepared COPY)
_WRITING_STATEMENTS = frozenset({"COPY", "COPY_DATABASE", "EXPORT", "ATTACH", "DETACH", "PREPARE", "EXECUTE"})
# rows cannot change in a read-only DB, but the catalog's views would answer with a binder error
_CHANGING_STATEMENTS = frozenset({"INSERT", "UPDATE", "DELETE"})
# EXPLAIN runs nothing, EXPLAIN ANALYZE runs its statement: only EXPLAIN of a query is let through
_PLAIN_EXPLAIN = re.compile(
    r"explain\s+\(*\s*(select|with|from|values|table|summarize|describe|show|pivot|unpivot)\b", re.IGNORECASE)
_SQL_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)


def refuse_writes(sql: str) -> None:
    """Raise :class:`duckdb.PermissionException` for a statement of ``sql`` that would write a
    file or change rows."""
    for statement in duckdb.extract_statements(sql):
        kind = statement.type.name
        text = _SQL_COMMENT.sub(" ", statement.query).strip()
        words = kind.replace("_", " ")
        if kind in _CHANGING_STATEMENTS:
            raise duckdb.PermissionException(f"Permission Error: {words} statements are not allowed: "
                                             "`runlift sql` is read-only")
        if kind in _WRITING_STATEMENTS or (kind == "EXPLAIN" and not _PLAIN_EXPLAIN.match(text)):
            raise duckdb.PermissionException(f"Permission Error: {words} statements are not allowed: "
                                             "`runlift sql` writes no file")


def connect_analyst(path: Path | str, wait_s: float = 0.0) -> duckdb.DuckDBPyConnection:
    """A read-only connection for untrusted analyst SQL (``runlift sql``): on the analyst catalog
    (:mod:`pipeline.analyst`), reading only the analyst folder; on the live DB, reading no file,
    while no build has published a catalog yet."""
    from pipeline.analyst import analyst_dir, catalog_path

    catalog = catalog_path(path)
    published = catalog.exists()
    con = connect(catalog if published else path, read_only=True, wait_s=wait_s)
    try:
        if published:  # the trailing "/": a sibling folder whose name starts alike stays out
            folder = str(analyst_dir(path).resolve()).replace("'", "''")
            con.execute(f"SET allowed_directories = ['{folder}/']")
        for setting in ANALYST_SETTINGS:
            con.execute(setting)
    except BaseException:
        con.close()
        raise
    return con


def _migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Bring a DB written by an earlier version up to the current raw schema."""
    if scalar(con, "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = 'flags'") and \
            not scalar(con, "SELECT count(*) FROM internal.rule_flags"):  # v1 built flags as a plain table
        con.execute("INSERT INTO internal.rule_flags SELECT athlete_id, rule, severity, date, week, message, evidence "
                    "FROM main.flags")
    if scalar(con, "SELECT count(*) FROM duckdb_columns() WHERE schema_name = 'main' "
                   "AND table_name = 'ingest_log' AND column_name = 'at'"):  # contract v2: "at" is an SQL reserved word
        con.execute('ALTER TABLE ingest_log RENAME COLUMN "at" TO ingested_at')
    for column, kind in _ATHLETE_COLUMNS_V2:  # mirrored from the config, filled by the next sync
        con.execute(f"ALTER TABLE raw.athletes ADD COLUMN IF NOT EXISTS {column} {kind}")
    # contract v2: set timing for rest_s (sets loaded before stay untimed: rest_s null)
    con.execute("ALTER TABLE raw.strength_sets ADD COLUMN IF NOT EXISTS start_utc TIMESTAMPTZ")


_ATHLETE_COLUMNS_V2 = (("threshold_pace_s_per_km", "INTEGER"), ("strength_experience", "VARCHAR"),
                       ("long_run_minutes", "DOUBLE"))


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> Any:
    """The first column of the first row of a query, None when it returns no row."""
    row = con.execute(sql, params or []).fetchone()
    return None if row is None else row[0]


def models_built(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether a model build has run on this DB (the analyst tables exist)."""
    return bool(scalar(con, "SELECT count(*) FROM information_schema.tables "
                            "WHERE table_schema = 'main' AND table_name = 'activities'"))


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create or migrate the raw schema; a DB this code brought up to date already is left alone
    (the DDL, migrations and comments cost ~30 ms on every command otherwise)."""
    fingerprint = _schema_fingerprint()
    if _stored_fingerprint(con) == fingerprint:
        return
    from pipeline.models import comment_sources  # the raw tables' docs live with the models' (sql/)

    con.execute(RAW_DDL)
    _migrate(con)
    _rules_table(con)
    comment_sources(con)
    con.execute(
        "INSERT INTO raw.meta VALUES ('schema_version', ?) ON CONFLICT (key) DO NOTHING",
        [str(SCHEMA_VERSION)],
    )
    con.execute("INSERT OR REPLACE INTO raw.meta VALUES ('schema_fingerprint', ?)", [fingerprint])


@functools.cache
def _schema_fingerprint() -> str:
    """What :func:`ensure_schema` applies: this module (DDL, migrations), the ``[rules]`` columns
    and the raw tables' descriptions; any change to them applies the schema again."""
    from pipeline.resources import sql_dir

    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(repr(sorted(Rules().model_dump().items())).encode())
    sources = sql_dir() / "sources.yml"
    digest.update(sources.read_bytes() if sources.exists() else b"")
    return digest.hexdigest()


def _stored_fingerprint(con: duckdb.DuckDBPyConnection) -> str | None:
    if not scalar(con, "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'raw' AND table_name = 'meta' "
                       "AND database_name = current_database()"):
        return None
    value = scalar(con, "SELECT value FROM raw.meta WHERE key = 'schema_fingerprint'")
    return str(value) if value is not None else None


def sync_athletes(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    """Mirror the configured athletes, races and ``[rules]`` into the DB: the models need zones,
    race dates and the thresholds their definitions use."""
    columns = ("athlete_id, timezone, max_hr, resting_hr, sex, threshold_hr, strength_target_per_week, "
               "threshold_pace_s_per_km, strength_experience, long_run_minutes")
    rows = [
        (a.id, a.timezone, a.max_hr, a.resting_hr, a.sex, a.threshold_hr, a.strength_target_per_week,
         a.threshold_pace_s_per_km, a.strength_experience, a.long_run_minutes)
        for a in config.all_athletes
    ]
    races = [(a.id, r.date, r.name, r.priority) for a in config.all_athletes for r in config.races_for(a.id)]
    # what was mirrored last, with the schema it went into: an unchanged config writes nothing, so a
    # command that changes nothing else (a re-sync of an unchanged inbox) leaves the file as it was
    synced = hashlib.sha256(repr((_schema_fingerprint(), rows, config.rules.model_dump(), races)).encode()).hexdigest()
    if scalar(con, "SELECT value FROM raw.meta WHERE key = 'config_synced'") == synced:
        return
    marks = ", ".join("?" * (columns.count(",") + 1))
    con.executemany(f"INSERT OR REPLACE INTO raw.athletes ({columns}) VALUES ({marks})", rows)
    _sync_rules(con, config)
    con.execute("INSERT OR REPLACE INTO raw.meta VALUES ('config_synced', ?)", [synced])
    con.execute("DELETE FROM raw.races")
    if races:
        con.executemany("INSERT INTO raw.races VALUES (?, ?, ?, ?)", races)


def _rules_table(con: duckdb.DuckDBPyConnection) -> None:
    """``raw.rules``: one row, a column per ``[rules]`` key, so SQL models read the same thresholds
    the rules do; a key added by a later version becomes a new column."""
    defaults = Rules().model_dump()
    con.execute("CREATE TABLE IF NOT EXISTS raw.rules (min_gap_hours DOUBLE)")
    for key, value in defaults.items():
        kind = "VARCHAR" if isinstance(value, str) else "DOUBLE"
        con.execute(f"ALTER TABLE raw.rules ADD COLUMN IF NOT EXISTS {key} {kind}")


def _sync_rules(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    values = config.rules.model_dump()
    con.execute("DELETE FROM raw.rules")
    con.execute(f"INSERT INTO raw.rules ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
                list(values.values()))


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


# DuckDB's own default is 80 % of RAM, and it keeps every block it read or wrote cached up to it:
# the ingest of ten years grew by the size of the database (1.3 GB), a club's build to 1 GB. Under
# the limit DuckDB flushes and spills to `<db>.tmp`; its true use runs to about twice this, and the
# ten-year full build was as fast under 128 MB as under 192 MB (issue 11: every command < 500 MB).
WRITE_MEMORY_LIMIT = "128MB"


def open_for_write(path: Path | str, config: Config, wait_s: float = 0.0) -> duckdb.DuckDBPyConnection:
    """Open (creating if missing) the DB with the raw schema and the configured athletes, under
    :data:`WRITE_MEMORY_LIMIT`."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    con = connect(path, wait_s=wait_s, config={"memory_limit": WRITE_MEMORY_LIMIT})
    with transaction(con):
        ensure_schema(con)
        sync_athletes(con, config)
    return con
