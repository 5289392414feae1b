"""What every rule shares: the flag record, the context a rule reads, and the registry.

A rule is a plain function ``rule(ctx) -> list[Flag]`` decorated with :func:`rule`, which
records its id and severity once. A rule runs once for the whole roster: its SQL reads every
athlete's rows at once (``athlete_id`` in each row) and it builds each flag with
:meth:`RuleContext.flag`, which fills in that id and severity. The per-athlete config a rule
needs is in two small temporary tables made for the run (:func:`roster_tables`):

- ``rule_athletes(athlete_id, beginner_days)``: the configured athletes; ``beginner_days`` is
  ``beginner_weeks`` x 7 for a new lifter, 0 for a trained one;
- ``rule_races(athlete_id, race_no, race_date, name, priority)``: each athlete's races (a race
  without ``athlete`` is everyone's), ``race_no`` their order by date.

Rules take every threshold from ``ctx.rules`` (the ``[rules]`` config section).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb

from pipeline.config import Athlete, Config, Rules
from pipeline.wording import SEVERITIES, iso_week

Evidence = dict[str, Any]  # JSON-ready values: the ``evidence`` object of a flag
Row = dict[str, Any]  # one result row of a mart query, by column name

ATHLETES = "rule_athletes"
RACES = "rule_races"


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
    """One rule run over every athlete of ``rule_athletes``: what the rule reads, and its id."""

    con: duckdb.DuckDBPyConnection
    config: Config
    as_of: date
    spec: RuleSpec  # the rule being run: its flags carry this id and severity

    @property
    def rules(self) -> Rules:
        return self.config.rules

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run a query against the marts; rows as dicts. ``fetchall`` on purpose: an unfinished
        result would keep the connection busy for the flags insert that follows the rules."""
        cur = self.con.execute(sql, list(params))
        names = [d[0] for d in cur.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def flag(self, athlete: str, on: date, message: str, evidence: Evidence) -> Flag:
        """A flag of the running rule for ``athlete``, dated ``on`` (a local date)."""
        return Flag(self.spec.id, self.spec.severity, athlete, on, message, evidence)


@contextmanager
def roster_tables(con: duckdb.DuckDBPyConnection, config: Config, athletes: Sequence[Athlete]) -> Iterator[None]:
    """Create ``rule_athletes`` and ``rule_races`` (module docstring) as temporary tables for the
    rules' SQL: two statements whatever the roster (lists zipped by ``unnest``), dropped after."""
    weeks = config.rules.beginner_weeks
    races = [(a.id, no, r.date, r.name, r.priority) for a in athletes for no, r in enumerate(config.races_for(a.id))]
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {ATHLETES} AS
                    SELECT unnest(?::VARCHAR[]) AS athlete_id, unnest(?::INTEGER[]) AS beginner_days""",
                [[a.id for a in athletes], [7 * weeks if a.strength_experience == "new" else 0 for a in athletes]])
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {RACES} AS
                    SELECT unnest(?::VARCHAR[]) AS athlete_id, unnest(?::INTEGER[]) AS race_no,
                           unnest(?::DATE[]) AS race_date, unnest(?::VARCHAR[]) AS name,
                           unnest(?::VARCHAR[]) AS priority""",
                [list(c) for c in zip(*races, strict=True)] if races else [[]] * 5)
    yield
    # not on an error: the build's rollback drops them, and a DROP in an aborted transaction would
    # hide the rule's own error
    con.execute(f"DROP TABLE IF EXISTS temp.{ATHLETES}")
    con.execute(f"DROP TABLE IF EXISTS temp.{RACES}")


def group(rows: list[Row], key: str = "athlete_id") -> dict[Any, list[Row]]:
    """Rows grouped by ``key``, each group in query order."""
    out: dict[Any, list[Row]] = {}
    for r in rows:
        out.setdefault(r[key], []).append(r)
    return out


REGISTRY: dict[str, RuleSpec] = {}


def rule(rule_id: str, severity: str) -> Callable[[RuleFn], RuleFn]:
    """Register a rule function under its catalog id and severity."""
    if severity not in SEVERITIES:
        raise ValueError(severity)

    def register(fn: RuleFn) -> RuleFn:
        REGISTRY[rule_id] = RuleSpec(rule_id, severity, fn)
        return fn

    return register
