"""`runlift demo`: the whole pipeline on the generated `sample_data/`, offline.

The sample athlete trains ~10 weeks towards an A race on 2026-10-18; the demo judges as of the
Monday after the recovery week, so its output does not depend on today's date, and writes the
report of one build week to ``reports/`` beside its DB. It keeps to its own folder (SPEC: `runlift
demo [DIR]`, default ./runlift-demo/) and reads only the sample's config: the sample athlete has
the id of `runlift init`'s template, so writing into a user's ./runlift.duckdb would mix them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from rich.table import Table

from pipeline import commands
from pipeline.build import BuildResult
from pipeline.config import load_config
from pipeline.ingest import Summary
from pipeline.resources import sample_dir

SAMPLE_DIR = sample_dir()
DEMO_AS_OF = date(2026, 10, 26)


DEMO_REPORT_WEEK = "2026-W38"  # a build week with a quality run, a spacing warning and a failure set


@dataclass
class DemoResult:
    summary: Summary
    build: BuildResult
    weeks: list[tuple]
    reports: list[commands.WrittenReport]


def run_demo(db: Path, sample_dir: Path = SAMPLE_DIR, report_dir: Path | None = None) -> DemoResult:
    """The whole pipeline on the sample into ``db``; the report goes to ``report_dir`` (default
    ``reports/`` beside ``db``)."""
    report_dir = db.parent / "reports" if report_dir is None else report_dir
    config = load_config(sample_dir / "runlift.toml")
    summary = commands.ingest(db, config, [sample_dir], refresh_models=False)  # the build runs them
    result = commands.build(db, config, DEMO_AS_OF)
    reports = commands.write_reports(db, config, DEMO_REPORT_WEEK, report_dir)
    _, weeks = commands.query(db, """
        select c.iso_week, c.phase, c.runs, round(l.run_km, 1), round(l.trimp), c.strength_sessions,
               c.strength_target, c.verdict
        from weekly_compliance c join weekly_load l using (athlete_id, iso_week)
        order by c.athlete_id, c.iso_week""")
    return DemoResult(summary, result, weeks, reports)


def week_table(weeks: list[tuple]) -> Table:
    table = Table("week", "phase", "runs", "km", "TRIMP", "strength", "target", "verdict", title="Per week")
    for week, phase, runs, km, trimp, done, target, verdict in weeks:
        shown = "" if verdict is None else verdict if verdict == "met" else f"[red]{verdict}[/]"
        table.add_row(week, phase, str(runs), f"{km:.1f}", f"{trimp:.0f}", str(done), str(target), shown)
    return table
