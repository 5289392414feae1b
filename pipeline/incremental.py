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
  each model only for the kinds of change it reads (:data:`SOURCE_KINDS`, through every model it
  reads): a new run leaves the strength models alone, a new day the models without the as-of date;
- everything (``--full``) when the fingerprint differs or no build state exists.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

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
_BY_KIND = "_rl_kind_athletes"  # (kind of change, athlete it touched)
TEMP_TABLES = (SCOPE_ACTIVITIES, CHANGED_ACTIVITIES, SCOPE_ATHLETES, SCOPE_ATHLETE_ACTIVITIES,
               SCOPE_ATHLETE_SESSIONS, _BY_KIND, *_NOW)

CHUNK_SAMPLES = 1_000_000  # per-activity models run over about this many samples at a time

# The kind of change each source a staging model may read is known by: the hash that covers it
# (samples come with their activity), the as-of date, or None for the fingerprint (raw.rules).
# A source not listed here counts as changed with any change.
SOURCE_KINDS: dict[str, str | None] = {
    "raw.activities": "activities", "raw.laps": "activities", "raw.samples": "activities",
    "raw.strength_sessions": "sessions", "raw.strength_sets": "sessions",  # and internal.exercise_names
    "raw.athletes": "athletes", "raw.races": "athletes",
    "raw.build_state": "as_of",
    "raw.rules": None,
}
KINDS = ("activities", "sessions", "athletes", "as_of")


def kinds_read(sources: Collection[str]) -> frozenset[str]:
    """The kinds of change that reach a model reading ``sources`` (every one it reads, through
    the models it reads)."""
    if any(s not in SOURCE_KINDS for s in sources):
        return frozenset(KINDS)
    return frozenset(k for k in (SOURCE_KINDS[s] for s in sources) if k is not None)


@dataclass
class Scope:
    """What this build recomputes: ``full``, or the athletes and activities listed; ``by_kind``:
    the athletes each kind of change touched (see :func:`athlete_part`)."""

    full: bool
    athletes: set[str]
    activities: set[str]
    by_kind: dict[str, set[str]] = field(default_factory=dict)
    parts: dict[frozenset[str], str | None] = field(default_factory=dict)  # athlete_part's scope tables
    models: set[str] = field(default_factory=set)  # the models whose rows the build may have changed (not full)

    def athletes_for(self, kinds: Collection[str]) -> set[str]:
        """The athletes a model reading ``kinds`` of change is recomputed for."""
        if self.full:
            return self.athletes
        return set().union(*(self.by_kind.get(k, set()) for k in kinds))


def touched(scope: Scope | None) -> tuple[set[str] | None, set[str] | None, set[str] | None]:
    """(athletes, activities, models) a build recomputed; None for each after a full build (or a
    given list of models, all rebuilt)."""
    if scope is None or scope.full:
        return None, None, None
    return scope.athletes, scope.activities, scope.models


def fingerprint(con: duckdb.DuckDBPyConnection, model_texts: list[str], aliases: Mapping[str, str] | None) -> str:
    """A hash of everything a build reads that is not raw data."""
    from pipeline import quality_titles
    from pipeline.exercises import TABLE_PATH

    # the title macro by what makes it (its keyword table and its code): building it compiles
    # every keyword's regex (10 ms), and a build whose fingerprint holds needs no new macro
    macro = (quality_titles.table_path().read_text(encoding="utf-8")
             + Path(quality_titles.__file__).read_text(encoding="utf-8"))
    h = hashlib.sha256()
    for part in (STATE_VERSION, duckdb.__version__, macro, TABLE_PATH.read_text(encoding="utf-8"),
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
        con.execute(f"CREATE OR REPLACE TEMP TABLE {_BY_KIND} (kind VARCHAR, athlete_id VARCHAR)")
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
        everyone = f"UNION SELECT 'as_of', athlete_id FROM {_NOW[2]}" if as_of_moved else ""
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {_BY_KIND} AS
            SELECT * FROM (
                SELECT 'athletes' AS kind, athlete_id FROM _rl_config_athletes
                {everyone}
                UNION SELECT 'activities', unnest([now_athlete, seen_athlete]) FROM _rl_changed
                UNION SELECT 'sessions', unnest([n.athlete_id, o.athlete_id])  -- a session that moved: both
                    FROM {_NOW[1]} AS n FULL JOIN {SEEN_SESSIONS} AS o USING (session_id)
                    WHERE n.h IS DISTINCT FROM o.h)
            WHERE athlete_id IS NOT NULL""")
        con.execute(f"CREATE OR REPLACE TEMP TABLE {SCOPE_ATHLETES} AS SELECT DISTINCT athlete_id FROM {_BY_KIND}")
        for t in ("_rl_config_athletes", "_rl_changed"):
            con.execute(f"DROP TABLE {t}")
    _athlete_rows(con, "", seen=not full)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {SCOPE_ACTIVITIES} (activity_id VARCHAR)")
    athletes = {r[0] for r in con.execute(f"SELECT DISTINCT athlete_id FROM {SCOPE_ATHLETES}").fetchall()}
    activities = {r[0] for r in con.execute(f"SELECT activity_id FROM {CHANGED_ACTIVITIES}").fetchall()}
    by_kind: dict[str, set[str]] = {}
    for kind, athlete in con.execute(f"SELECT kind, athlete_id FROM {_BY_KIND}").fetchall():
        by_kind.setdefault(kind, set()).add(athlete)
    return Scope(full, athletes, activities, by_kind)


def athlete_part(con: duckdb.DuckDBPyConnection, scope: Scope, kinds: frozenset[str]) -> str | None:
    """The suffix of the scope tables (:func:`scope_filter`) of the athletes a model reading
    ``kinds`` of change is recomputed for, made on first use; None: no athlete."""
    if scope.full:
        return ""
    if kinds not in scope.parts:
        athletes = scope.athletes_for(kinds)
        if not athletes:
            scope.parts[kinds] = None
        elif athletes == scope.athletes:
            scope.parts[kinds] = ""
        else:
            part = f"_{len(scope.parts)}"
            listed = ", ".join(f"'{k}'" for k in sorted(kinds))
            con.execute(f"CREATE OR REPLACE TEMP TABLE {SCOPE_ATHLETES}{part} AS "
                        f"SELECT DISTINCT athlete_id FROM {_BY_KIND} WHERE kind IN ({listed})")
            _athlete_rows(con, part, seen=True)
            scope.parts[kinds] = part
    return scope.parts[kinds]


def _athlete_rows(con: duckdb.DuckDBPyConnection, part: str, seen: bool) -> None:
    """The activities and sessions of the athletes in scope table ``part``, now or (``seen``) before."""
    for table, key, now, before in ((SCOPE_ATHLETE_ACTIVITIES, "activity_id", _NOW[0], SEEN_ACTIVITIES),
                                    (SCOPE_ATHLETE_SESSIONS, "session_id", _NOW[1], SEEN_SESSIONS)):
        union = f"UNION SELECT {key}, athlete_id FROM {before}" if seen else ""
        con.execute(f"""CREATE OR REPLACE TEMP TABLE {table}{part} AS
            SELECT {key} FROM (SELECT {key}, athlete_id FROM {now} {union})
            WHERE athlete_id IN (SELECT athlete_id FROM {SCOPE_ATHLETES}{part})""")


def chunks(con: duckdb.DuckDBPyConnection) -> int:
    """Number the changed activities into chunks of about CHUNK_SAMPLES samples; returns how many
    (at least one, so a model with nothing to do still gets its table)."""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _rl_chunks AS
        SELECT c.activity_id,
               (sum(coalesce(a.n_samples, 0) + 1) OVER (ORDER BY c.activity_id) - 1) // {CHUNK_SAMPLES} AS chunk
        FROM {CHANGED_ACTIVITIES} AS c LEFT JOIN raw.activities AS a USING (activity_id)""")
    return int(scalar(con, "SELECT coalesce(max(chunk), 0) + 1 FROM _rl_chunks"))


def select_chunk(con: duckdb.DuckDBPyConnection, chunk: int | None) -> None:
    """The scope of the per-activity models: one chunk, or (None) every changed activity."""
    con.execute(f"DELETE FROM {SCOPE_ACTIVITIES}")
    if chunk is None:
        con.execute(f"INSERT INTO {SCOPE_ACTIVITIES} SELECT activity_id FROM {CHANGED_ACTIVITIES}")
    else:
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


def drop_temp(con: duckdb.DuckDBPyConnection, scope: Scope | None = None) -> None:
    parts = [p for p in (scope.parts.values() if scope else ()) if p]
    athlete_tables = (SCOPE_ATHLETES, SCOPE_ATHLETE_ACTIVITIES, SCOPE_ATHLETE_SESSIONS)
    for t in (*TEMP_TABLES, "_rl_chunks", "_rl_config_athletes", "_rl_changed",
              *(f"{t}{p}" for p in parts for t in athlete_tables)):
        con.execute(f"DROP TABLE IF EXISTS temp.main.{t}")


def scope_filter(columns: set[str], mode: str, part: str = "") -> tuple[str, str] | None:
    """(key column, scope table) that restricts a relation with ``columns`` in ``mode``
    ("activity": the chunk of activities; "athlete": the touched athletes, of scope tables
    ``part`` (:func:`athlete_part`)), None: unrestricted."""
    if mode == "activity":
        return ("activity_id", SCOPE_ACTIVITIES) if "activity_id" in columns else None
    for key, table in (("athlete_id", SCOPE_ATHLETES), ("activity_id", SCOPE_ATHLETE_ACTIVITIES),
                       ("session_id", SCOPE_ATHLETE_SESSIONS)):
        if key in columns:
            return key, table + part
    return None
