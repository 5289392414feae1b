"""The rule engine: every catalog rule (SPEC, Rule catalog) over the marts, one function each.

:func:`evaluate` runs every registered rule for every configured athlete and returns the flags
sorted by date, then rule. The rule modules register themselves on import.
"""

from __future__ import annotations

from datetime import date

import duckdb

from pipeline.config import Config
from pipeline.rules import load, program, spacing, strength, taper  # noqa: F401  (registers rules)
from pipeline.rules.base import REGISTRY, Flag, RuleContext

__all__ = ["REGISTRY", "Flag", "evaluate"]


def evaluate(con: duckdb.DuckDBPyConnection, config: Config, as_of: date) -> list[Flag]:
    flags: list[Flag] = []
    for athlete in config.all_athletes:
        for spec in REGISTRY.values():
            ctx = RuleContext(con, config, athlete, as_of, spec)
            flags.extend(f for f in spec.fn(ctx) if f.date <= as_of)
    return sorted(flags, key=lambda f: (f.date, f.rule, f.athlete, f.message))
