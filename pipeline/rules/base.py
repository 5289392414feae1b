"""What every rule shares: the flag record, the context a rule reads, and the registry.

A rule is a plain function ``rule(ctx) -> list[Flag]`` decorated with :func:`rule`, which
records its id and severity once; the rule builds its flags with :meth:`RuleContext.flag`, which
fills in that id, severity and the athlete. Rules read the marts through ``ctx.con`` (SQL or
DataFrames) and take every threshold from ``ctx.rules`` (the ``[rules]`` config section).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb

from pipeline.config import Athlete, Config, Race, Rules
from pipeline.wording import SEVERITIES, iso_week

Evidence = dict[str, Any]  # JSON-ready values: the ``evidence`` object of a flag
Row = dict[str, Any]  # one result row of a mart query, by column name


@dataclass(frozen=True)
class Flag:
    rule: str
    severity: str
    athlete: str
    date: date  # the local date the flag is about (a week flag: its Monday)
    message: str
    evidence: Evidence = field(default_factory=dict)

    @property
    def week(self) -> str:
        return iso_week(self.date)

    def as_json(self) -> dict[str, Any]:
        """The SPEC shape of one flag in ``runlift flags --format json``."""
        return {"rule": self.rule, "severity": self.severity, "athlete": self.athlete,
                "date": self.date.isoformat(), "week": self.week, "message": self.message,
                "evidence": self.evidence}


RuleFn = Callable[["RuleContext"], list[Flag]]


@dataclass(frozen=True)
class RuleSpec:
    id: str
    severity: str
    fn: RuleFn


@dataclass
class RuleContext:
    """One rule run for one athlete: what the rule reads, and who its flags are for."""

    con: duckdb.DuckDBPyConnection
    config: Config
    athlete: Athlete
    as_of: date
    spec: RuleSpec  # the rule being run: its flags carry this id and severity

    @property
    def rules(self) -> Rules:
        return self.config.rules

    def a_races(self) -> list[Race]:
        return self.config.a_races(self.athlete.id)

    def rows(self, sql: str, params: list[Any]) -> list[Row]:
        """Run a query against the marts; rows as dicts. ``fetchall`` on purpose: an unfinished
        result would keep the connection busy for the flags insert that follows the rules."""
        cur = self.con.execute(sql, params)
        names = [d[0] for d in cur.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def flag(self, on: date, message: str, evidence: Evidence) -> Flag:
        """A flag of the running rule for this athlete, dated ``on`` (a local date)."""
        return Flag(self.spec.id, self.spec.severity, self.athlete.id, on, message, evidence)


REGISTRY: dict[str, RuleSpec] = {}


def rule(rule_id: str, severity: str) -> Callable[[RuleFn], RuleFn]:
    """Register a rule function under its catalog id and severity."""
    if severity not in SEVERITIES:
        raise ValueError(severity)

    def register(fn: RuleFn) -> RuleFn:
        REGISTRY[rule_id] = RuleSpec(rule_id, severity, fn)
        return fn

    return register
