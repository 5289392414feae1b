"""What the analyst layer still owes the live views: the athletes and models each model run
recomputed, recorded in the transaction that commits them and cleared by the publish that
shows them. A publish that failed or was killed after its models committed is made up by the
next one: an incremental build that finds nothing new would not look at those athletes again."""

from __future__ import annotations

from collections.abc import Collection

import duckdb

TABLE = "internal.publish_owed"
KINDS = ("athlete", "model")


def owe(con: duckdb.DuckDBPyConnection, athletes: Collection[str] | None, models: Collection[str] | None) -> None:
    """Record a model run's scope (None: every athlete, or every model), inside its transaction."""
    con.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (kind VARCHAR NOT NULL, name VARCHAR)")  # name NULL: every
    for kind, names in zip(KINDS, (athletes, models), strict=True):
        con.execute(f"INSERT INTO {TABLE} SELECT ?, unnest(?::VARCHAR[])",
                    [kind, sorted(names) if names is not None else [None]])


def owed(con: duckdb.DuckDBPyConnection, athletes: set[str] | None,
         models: Collection[str] | None) -> tuple[set[str] | None, set[str] | None]:
    """``athletes`` and ``models`` with what earlier runs still owe added."""
    if not _exists(con):
        return athletes, (set(models) if models is not None else None)
    rows = con.execute(f"SELECT kind, name FROM {TABLE}").fetchall()
    merged: list[set[str] | None] = []
    for kind, given in zip(KINDS, (athletes, models), strict=True):
        names = [name for k, name in rows if k == kind]
        merged.append(None if given is None or None in names else set(given) | set(names))
    return merged[0], merged[1]


def settle(con: duckdb.DuckDBPyConnection) -> None:
    """A publish showed everything owed."""
    if _exists(con):
        con.execute(f"DELETE FROM {TABLE}")


def _exists(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                            "AND schema_name = 'internal' AND table_name = 'publish_owed'").fetchone()[0])  # type: ignore[index]
