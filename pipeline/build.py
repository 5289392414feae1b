"""`runlift build`: the SQL models, then the rules, replacing the `flags` table — one transaction.

A failed build (a model error, a failing data test, a rule error) rolls everything back, so
the previous build's tables and flags stay in place until a new build completes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import duckdb
import pandas as pd

from pipeline.config import Config, check_exercise_aliases
from pipeline.db import transaction
from pipeline.exercises import canonical_names, unclassified_notice
from pipeline.incremental import touched
from pipeline.models import run_data_tests, run_models
from pipeline.quality_signals import no_quality_signal
from pipeline.rules import evaluate
from pipeline.rules.base import Flag

FLAG_COLUMNS = ["athlete_id", "rule", "severity", "date", "week", "message", "evidence"]


@dataclass
class BuildResult:
    as_of: date
    flags: list[Flag]
    timings: dict[str, float]
    notices: list[str] = field(default_factory=list)  # one line each, for the user (see NOTICES)
    # what the models recomputed (pipeline.incremental): None after a full build
    touched_athletes: set[str] | None = None
    touched_activities: set[str] | None = None
    touched_models: set[str] | None = None


Notice = Callable[[duckdb.DuckDBPyConnection, Config], list[str]]
# What a finished build tells the user beyond its flags (data it could not judge well), one
# function per concern, each returning its lines; they run after the models, inside the build.
NOTICES: list[Notice] = [unclassified_notice, no_quality_signal]


def flags_frame(flags: list[Flag]) -> pd.DataFrame:
    rows = [(f.athlete, f.rule, f.severity, f.date, f.week, f.message, json.dumps(f.evidence, default=str))
            for f in flags]
    return pd.DataFrame(rows, columns=FLAG_COLUMNS)


def build(con: duckdb.DuckDBPyConnection, config: Config, as_of: date, full: bool = False) -> BuildResult:
    """Models (incrementally unless ``full``), rules, flags and notices, in one transaction."""
    timings: dict[str, float] = {}
    check_exercise_aliases(config, canonical_names())  # one line naming the alias, before any work
    with transaction(con):
        con.execute("DELETE FROM raw.build_state")
        con.execute("INSERT INTO raw.build_state VALUES (?, ?)", [as_of, datetime.now(UTC)])
        models, scope = run_models(con, timings=timings, aliases=config.exercise_aliases, full=full)
        t0 = time.perf_counter()
        flags = evaluate(con, config, as_of)
        timings["(rules)"] = time.perf_counter() - t0
        frame = flags_frame(flags)
        con.register("_flags", frame)
        try:
            con.execute("DELETE FROM internal.rule_flags")
            con.execute("INSERT INTO internal.rule_flags SELECT athlete_id, rule, severity, CAST(date AS DATE), "
                        "week, message, CAST(evidence AS JSON) FROM _flags")
        finally:
            con.unregister("_flags")
        run_data_tests(con, [m for m in models if m.name == "flags"])  # the view shows the new flags now
        notices = [line for notice in NOTICES for line in notice(con, config)]
    return BuildResult(as_of, flags, timings, notices, *touched(scope))
