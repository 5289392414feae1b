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

from pipeline.config import Config, check_exercise_aliases
from pipeline.db import transaction
from pipeline.exercises import canonical_names, unclassified_notice
from pipeline.incremental import touched
from pipeline.models import run_data_tests, run_models
from pipeline.quality_signals import no_quality_signal
from pipeline.rules import evaluate
from pipeline.rules.base import Flag


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


def store_flags(con: duckdb.DuckDBPyConnection, flags: list[Flag]) -> None:
    """Replace ``internal.rule_flags`` with ``flags``: one INSERT of seven parallel lists (no pandas
    frame: importing pandas cost a build ~0.2 s, more than the insert)."""
    rows = [(f.athlete, f.rule, f.severity, f.date, f.week, f.message, json.dumps(f.evidence, default=str))
            for f in flags]
    columns = [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in range(7)]
    con.execute("DELETE FROM internal.rule_flags")
    con.execute("INSERT INTO internal.rule_flags SELECT unnest($1::VARCHAR[]), unnest($2::VARCHAR[]), "
                "unnest($3::VARCHAR[]), unnest($4::DATE[]), unnest($5::VARCHAR[]), unnest($6::VARCHAR[]), "
                "unnest($7::VARCHAR[])::JSON", columns)


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
        store_flags(con, flags)
        run_data_tests(con, [m for m in models if m.name == "flags"])  # the view shows the new flags now
        notices = [line for notice in NOTICES for line in notice(con, config)]
    return BuildResult(as_of, flags, timings, notices, *touched(scope))
