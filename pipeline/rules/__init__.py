"""The rule engine: every catalog rule (SPEC, Rule catalog) over the marts, one function each.

:func:`evaluate` runs every registered rule once for the whole roster (each rule's SQL covers
every athlete: the query count does not grow with the club) and returns the flags sorted by
date, then rule, then athlete. The rule modules register themselves on import.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

import duckdb

from pipeline.config import Config
from pipeline.rules import load, program, spacing, strength, taper  # noqa: F401  (registers rules)
from pipeline.rules.base import REGISTRY, Flag, RuleContext, roster_tables

__all__ = ["REGISTRY", "Flag", "evaluate"]


def evaluate(con: duckdb.DuckDBPyConnection, config: Config, as_of: date,
             athletes: Collection[str] | None = None) -> list[Flag]:
    """Every rule's flags up to ``as_of`` for the configured athletes (only ``athletes`` when
    given, in config order either way)."""
    roster = [a for a in config.all_athletes if athletes is None or a.id in athletes]
    flags: list[Flag] = []
    with roster_tables(con, config, roster):
        for spec in REGISTRY.values():
            ctx = RuleContext(con, config, as_of, spec)
            flags.extend(f for f in spec.fn(ctx) if f.date <= as_of)
    return sorted(flags, key=lambda f: (f.date, f.rule, f.athlete, f.message))
