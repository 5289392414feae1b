"""What a build must recompute: the raw rows that changed since the last build, found in SQL.

The last build's view of the raw data is kept in ``internal.build_seen_*``: a hash per activity
(its row and its laps), per strength session (its row and its sets) and per athlete (the mirrored
config row and the athlete's races), and one fingerprint of everything that is not raw data (the
model SQL and yml, the title keywords, the exercise table and aliases, the ``[rules]`` row, the
DuckDB version). Samples are not re-read: ingest writes an activity's samples with its row, once.

A build then recomputes
- the per-activity models (yml ``incremental: activity``) for the activities that are new, changed
  or gone, and every activity of an athlete whose config changed;
- every other model for the athletes those touch (their rolling windows run over the athlete's
  whole history, so the athlete is the unit), and for every athlete when the as-of date moved;
- everything (``--full``) when the fingerprint differs or no build state exists.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

import duckdb

from pipeline.db import scalar

STATE_VERSION = "1"  # bump when what the state means changes: the next build is then a full one
SEEN_ACTIVITIES = "internal.build_seen_activities"
SEEN_SESSIONS = "internal.build_seen_sessions"
SEEN_ATHLETES = "internal.build_seen_athletes"
SEEN_BUILD = "internal.build_seen"

# temp tables of one build (dropped at its end): the scopes the scoped views filter by
SCOPE_ACTIVITIES = "_rl_scope_activities"  # the activities the per-activity models recompute (one chunk)
CHANGED_ACTIVITIES = "_rl_changed_activities"  # all of them, with a chunk number
SCOPE_ATHLETES = "_rl_scope_athletes"
SCOPE_ATHLETE_ACTIVITIES = "_rl_scope_athlete_activities"  # every activity of those athletes, now or before
SCOPE_ATHLETE_SESSIONS = "_rl_scope_athlete_sessions"
_NOW = ("_rl_now_activities", "_rl_now_sessions", "_rl_now_athletes")
TEMP_TABLES = (SCOPE_ACTIVITIES, CHANGED_ACTIVITIES, SCOPE_ATHLETES, SCOPE_ATHLETE_ACTIVITIES,
               SCOPE_ATHLETE_SESSIONS, *_NOW)

CHUNK_SAMPLES = 1_000_000  # per-activity models run over about this many samples at a time


@dataclass
class Scope:
    """What this build recomputes: ``full``, or the athletes and activities listed."""

    full: bool
    athletes: set[str]
    activities: set[str]


def touched(scope: Scope | None) -> tuple[set[str] | None, set[str] | None]:
    """(athletes, activities) a build recomputed; None for each after a full build (or a given
    list of models, all rebuilt)."""
    if scope is None or scope.full:
        return None, None
    return scope.athletes, scope.activities


def fingerprint(con: duckdb.DuckDBPyConnection, model_texts: list[str], aliases: Mapping[str, str] | None) -> str:
    """A hash of everything a build reads that is not raw data."""
    from pipeline.exercises import TABLE_PATH
    from pipeline.quality_titles import macro_sql

    h = hashlib.sha256()
    for part in (STATE_VERSION, duckdb.__version__, macro_sql(), TABLE_PATH.read_text(encoding="utf-8"),
                 repr(sorted((aliases or {}).items())), repr(con.execute("SELECT * FROM raw.rules").fetchall()),
                 *model_texts):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


def has_raw_layout(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(scalar(con, "SELECT count(*) FROM information_schema.tables "
                            "WHERE table_schema = 'raw' AND table_name IN ('activities', 'rules')") == 2)


def _snapshot_now(con: duckdb.DuckDBPyConnection) -> None:
    """This build's hashes of the raw rows (sums of row hashes: order-free, duplicates count)."""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {_NOW[0]} AS
        SELECT a.activity_id, a.athlete_id, hash(a, coalesce(l.h, 0)) AS h
        FROM raw.activities AS a
        LEFT JOIN (SELECT activity_id, sum(hash(l)) AS h FROM raw.laps AS l GROUP BY activity_id) AS l
            USING (activity_id)""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {_NOW[1]} AS
        SELECT s.session_id, s.athlete_id, hash(s, coalesce(x.h, 0)) AS h
        FROM raw.strength_sessions AS s
        LEFT JOIN (SELECT session_id, sum(hash(x)) AS h FROM raw.strength_sets AS x GROUP BY session_id) AS x
            USING (session_id)""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {_NOW[2]} AS
        SELECT a.athlete_id, hash(a, coalesce(r.h, 0)) AS h
        FROM raw.athletes AS a
        LEFT JOIN (SELECT athlete_id, sum(hash(r)) AS h FROM raw.races AS r GROUP BY athlete_id) AS r
            USING (athlete_id)""")


def _state_exists(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(scalar(con, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'internal' "
                            "AND table_name = 'build_seen'"))


def plan(con: duckdb.DuckDBPyConnection, fp: str, as_of_sql: str, full: bool) -> Scope:
    """Fill the scope tables for this build; ``as_of_sql`` is the build's as-of date as SQL."""
    _snapshot_now(con)
    last = None
    if not full and _state_exists(con):
        last = con.execute(f"SELECT fingerprint, as_of FROM {SEEN_BUILD}").fetchone()
    if last is None or last[0] != fp:
        full = True
    if full or last is None:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {SCOPE_ATHLETES} AS SELECT athlete_id FROM {_NOW[2]}")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {CHANGED_ACTIVITIES} AS SELECT activity_id FROM {_NOW[0]}")
    else:
        as_of_moved = bool(scalar(con, f"SELECT ({as_of_sql}) IS DISTINCT FROM ?", [last[1]]))
        # athletes whose config or races changed: every activity of theirs is recomputed
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _rl_config_athletes AS
            SELECT coalesce(n.athlete_id, o.athlete_id) AS athlete_id
            FROM {_NOW[2]} AS n FULL JOIN {SEEN_ATHLETES} AS o USING (athlete_id)
            WHERE n.h IS DISTINCT FROM o.h""")
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _rl_changed AS
            SELECT coalesce(n.activity_id, o.activity_id) AS activity_id, n.athlete_id AS now_athlete,
                   o.athlete_id AS seen_athlete
            FROM {_NOW[0]} AS n FULL JOIN {SEEN_ACTIVITIES} AS o USING (activity_id)
            WHERE n.h IS DISTINCT FROM o.h""")
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {CHANGED_ACTIVITIES} AS
            SELECT activity_id FROM _rl_changed
            UNION SELECT activity_id FROM {_NOW[0]} WHERE athlete_id IN (SELECT athlete_id FROM _rl_config_athletes)
            UNION SELECT activity_id FROM {SEEN_ACTIVITIES}
                WHERE athlete_id IN (SELECT athlete_id FROM _rl_config_athletes)""")
        everyone = f"SELECT athlete_id FROM {_NOW[2]} UNION " if as_of_moved else ""
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {SCOPE_ATHLETES} AS
            {everyone}
            SELECT athlete_id FROM _rl_config_athletes
            UNION SELECT now_athlete FROM _rl_changed WHERE now_athlete IS NOT NULL
            UNION SELECT seen_athlete FROM _rl_changed WHERE seen_athlete IS NOT NULL
            UNION SELECT unnest([n.athlete_id, o.athlete_id])  -- a session that moved: both athletes
                FROM {_NOW[1]} AS n FULL JOIN {SEEN_SESSIONS} AS o USING (session_id)
                WHERE n.h IS DISTINCT FROM o.h""")
        con.execute(f"DELETE FROM {SCOPE_ATHLETES} WHERE athlete_id IS NULL")
        for t in ("_rl_config_athletes", "_rl_changed"):
            con.execute(f"DROP TABLE {t}")
    seen = (f"UNION SELECT activity_id, athlete_id FROM {SEEN_ACTIVITIES}" if not full else "")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {SCOPE_ATHLETE_ACTIVITIES} AS
        SELECT activity_id FROM (SELECT activity_id, athlete_id FROM {_NOW[0]} {seen})
        WHERE athlete_id IN (SELECT athlete_id FROM {SCOPE_ATHLETES})""")
    seen = (f"UNION SELECT session_id, athlete_id FROM {SEEN_SESSIONS}" if not full else "")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {SCOPE_ATHLETE_SESSIONS} AS
        SELECT session_id FROM (SELECT session_id, athlete_id FROM {_NOW[1]} {seen})
        WHERE athlete_id IN (SELECT athlete_id FROM {SCOPE_ATHLETES})""")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {SCOPE_ACTIVITIES} (activity_id VARCHAR)")
    athletes = {r[0] for r in con.execute(f"SELECT DISTINCT athlete_id FROM {SCOPE_ATHLETES}").fetchall()}
    activities = {r[0] for r in con.execute(f"SELECT activity_id FROM {CHANGED_ACTIVITIES}").fetchall()}
    return Scope(full, athletes, activities)


def chunks(con: duckdb.DuckDBPyConnection) -> int:
    """Number the changed activities into chunks of about CHUNK_SAMPLES samples; returns how many
    (at least one, so a model with nothing to do still gets its table)."""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _rl_chunks AS
        SELECT c.activity_id,
               (sum(coalesce(a.n_samples, 0) + 1) OVER (ORDER BY c.activity_id) - 1) // {CHUNK_SAMPLES} AS chunk
        FROM {CHANGED_ACTIVITIES} AS c LEFT JOIN raw.activities AS a USING (activity_id)""")
    return int(scalar(con, "SELECT coalesce(max(chunk), 0) + 1 FROM _rl_chunks"))


def select_chunk(con: duckdb.DuckDBPyConnection, chunk: int) -> None:
    con.execute(f"DELETE FROM {SCOPE_ACTIVITIES}")
    con.execute(f"INSERT INTO {SCOPE_ACTIVITIES} SELECT activity_id FROM _rl_chunks WHERE chunk = ?", [chunk])


def record(con: duckdb.DuckDBPyConnection, fp: str, as_of_sql: str) -> None:
    """Remember what this build saw, for the next one."""
    for table, now in zip((SEEN_ACTIVITIES, SEEN_SESSIONS, SEEN_ATHLETES), _NOW, strict=True):
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM {now}")
    con.execute(f"CREATE OR REPLACE TABLE {SEEN_BUILD} AS SELECT CAST(? AS VARCHAR) AS fingerprint, "
                f"CAST(({as_of_sql}) AS DATE) AS as_of", [fp])


def forget(con: duckdb.DuckDBPyConnection) -> None:
    """A build of some models only: the next build of the project is a full one."""
    con.execute(f"DROP TABLE IF EXISTS {SEEN_BUILD}")


def drop_temp(con: duckdb.DuckDBPyConnection) -> None:
    for t in (*TEMP_TABLES, "_rl_chunks", "_rl_config_athletes", "_rl_changed"):
        con.execute(f"DROP TABLE IF EXISTS temp.main.{t}")


def scope_filter(columns: set[str], mode: str) -> tuple[str, str] | None:
    """(key column, scope table) that restricts a relation with ``columns`` in ``mode``
    ("activity": the chunk of activities; "athlete": the touched athletes), None: unrestricted."""
    if mode == "activity":
        return ("activity_id", SCOPE_ACTIVITIES) if "activity_id" in columns else None
    for key, table in (("athlete_id", SCOPE_ATHLETES), ("activity_id", SCOPE_ATHLETE_ACTIVITIES),
                       ("session_id", SCOPE_ATHLETE_SESSIONS)):
        if key in columns:
            return key, table
    return None
