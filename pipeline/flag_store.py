"""``runlift flags``: the flags of the last build, read from the ``flags`` view.

Its own small module so that ``runlift flags`` imports only DuckDB and the config: not the
ingest, the models or the report (nor Prefect), which cost more than the query on a ten-year DB.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from pipeline.db import connect, scalar
from pipeline.errors import MissingDatabaseError
from pipeline.wording import SEVERITIES

LOCK_WAIT_S = 10.0  # as commands.LOCK_WAIT_S: how long to wait for another process's write lock


def read_flags(db: Path, week: str | None = None, since: date | None = None, rule: str | None = None,
               severity: str | None = None, athlete: str | None = None) -> list[dict[str, Any]]:
    """Flags of the last build in the SPEC JSON shape, sorted by date then rule. ``rule`` is an id
    or a family (``spacing``); ``severity`` is the lowest severity shown."""
    if not Path(db).exists():
        raise MissingDatabaseError(f"{db}: no such database (run `runlift run PATH` first)")
    con = connect(db, read_only=True, wait_s=LOCK_WAIT_S)
    try:
        if not scalar(con, "SELECT count(*) FROM information_schema.tables "
                      "WHERE table_schema = 'main' AND table_name = 'flags'"):
            return []
        where: list[str] = ["true"]
        params: list[object] = []
        if week:
            where.append("week = ?")
            params.append(week)
        if since:
            where.append("date >= ?")
            params.append(since)
        if rule:
            where.append("(rule = ? OR rule LIKE ? || '.%')")
            params += [rule, rule]
        if severity:
            shown = SEVERITIES[: SEVERITIES.index(severity) + 1]
            where.append(f"severity IN ({', '.join('?' for _ in shown)})")
            params += shown
        if athlete:
            where.append("athlete_id = ?")
            params.append(athlete)
        rows = con.execute(
            f"SELECT rule, severity, athlete_id, date, week, message, CAST(evidence AS VARCHAR) FROM flags "
            f"WHERE {' AND '.join(where)} ORDER BY date, rule, athlete_id, message", params).fetchall()
    finally:
        con.close()
    keys = ("rule", "severity", "athlete", "date", "week", "message", "evidence")
    return [dict(zip(keys, (r[0], r[1], r[2], r[3].isoformat(), r[4], r[5], json.loads(r[6])), strict=True))
            for r in rows]
