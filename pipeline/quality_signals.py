"""The build notice for athletes whose runs can carry no quality signal.

A quality run is found from a title, laps of a structured workout, a race date, or time at
threshold heart rate or pace (SPEC Definitions). FIT files carry no titles, so an athlete who
loads only watch files and sets neither threshold has nothing but race days and lap-structured
workouts to go on, and ``spacing.before_quality`` stays silent before ordinary tempo runs and
intervals. The build says so once per build, per athlete, instead of judging in silence.
"""

from __future__ import annotations

import duckdb

from pipeline.config import Config


def no_quality_signal(con: duckdb.DuckDBPyConnection, config: Config) -> list[str]:
    """One line per athlete who has runs, none of them titled, and neither threshold set."""
    blind = [a.id for a in config.all_athletes if a.threshold_hr is None and a.threshold_pace is None]
    if not blind:
        return []
    rows = con.execute(
        """SELECT athlete_id, count(*) AS runs
           FROM internal.stg_activities
           WHERE sport = 'running' AND athlete_id IN (SELECT unnest(?::VARCHAR[]))
           GROUP BY athlete_id
           HAVING count(*) FILTER (WHERE nullif(trim(title), '') IS NOT NULL) = 0
           ORDER BY athlete_id""",
        [blind],
    ).fetchall()
    return [
        f"athlete {athlete}: none of {runs} run{'s' if runs != 1 else ''} has a title and runlift.toml sets "
        "neither threshold_hr nor threshold_pace, so only race days and lap-structured workouts can be "
        "quality runs (spacing.before_quality misses tempo runs and intervals); set one of them"
        for athlete, runs in rows
    ]
