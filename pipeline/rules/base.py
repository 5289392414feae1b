"""What every rule shares: the flag record, the context a rule reads, and the registry.

A rule is a plain function ``rule(ctx) -> list[Flag]`` decorated with :func:`rule`, which
records its id and severity. Rules read the marts through ``ctx.con`` (SQL or DataFrames) and
take every threshold from ``ctx.rules`` (the ``[rules]`` config section).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import duckdb

from pipeline.config import Athlete, Config, Race, Rules

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Flag:
    rule: str
    severity: str
    athlete: str
    date: date  # the local date the flag is about (a week flag: its Monday)
    message: str
    evidence: dict = field(default_factory=dict)

    @property
    def week(self) -> str:
        y, w, _ = self.date.isocalendar()
        return f"{y}-W{w:02d}"

    def as_json(self) -> dict:
        """The SPEC shape of one flag in ``runlift flags --format json``."""
        return {"rule": self.rule, "severity": self.severity, "athlete": self.athlete,
                "date": self.date.isoformat(), "week": self.week, "message": self.message,
                "evidence": self.evidence}


@dataclass
class RuleContext:
    con: duckdb.DuckDBPyConnection
    config: Config
    athlete: Athlete
    as_of: date

    @property
    def rules(self) -> Rules:
        return self.config.rules

    def a_races(self) -> list[Race]:
        return self.config.a_races(self.athlete.id)

    def rows(self, sql: str, params: list) -> list[dict]:
        """Run a query against the marts; rows as dicts. ``fetchall`` on purpose: an unfinished
        result would keep the connection busy for the flags insert that follows the rules."""
        cur = self.con.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def num(x: float) -> str:
    """A threshold as a runner reads it: 3, not 3.0; 1.5 stays 1.5."""
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


RuleFn = Callable[[RuleContext], list[Flag]]


@dataclass(frozen=True)
class RuleSpec:
    id: str
    severity: str
    fn: RuleFn


REGISTRY: dict[str, RuleSpec] = {}


def rule(rule_id: str, severity: str) -> Callable[[RuleFn], RuleFn]:
    """Register a rule function under its catalog id and severity."""
    if severity not in SEVERITIES:
        raise ValueError(severity)

    def register(fn: RuleFn) -> RuleFn:
        REGISTRY[rule_id] = RuleSpec(rule_id, severity, fn)
        fn.rule_id, fn.severity = rule_id, severity  # type: ignore[attr-defined]
        return fn

    return register
