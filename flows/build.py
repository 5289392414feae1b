"""Prefect flows for `runlift build` and `runlift run` (ingest + build in one flow run)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from flows.ingest import ingest_in_flow
from flows.runners import parse_task_runner
from pipeline import commands
from pipeline.build import BuildResult
from pipeline.config import load_config
from pipeline.ingest import Summary
from pipeline.wording import SEVERITIES, severity_counts


def build_markdown(result: BuildResult) -> str:
    counts = severity_counts(f.severity for f in result.flags)
    lines = [f"# runlift build (as of {result.as_of})", "", "| severity | flags |", "|---|---|"]
    lines += [f"| {sev} | {counts.get(sev, 0)} |" for sev in SEVERITIES]
    return "\n".join(lines)


@task(name="build models and rules", retries=3, retry_delay_seconds=[5, 15, 45], cache_policy=NO_CACHE)
def build_task(db: str, config_path: str | None, as_of: date | None) -> BuildResult:
    """Retried: the usual failure is the DuckDB file locked by another process."""
    result = commands.build(Path(db), load_config(config_path), as_of)
    get_run_logger().info("build as of %s: %d flag(s)", result.as_of, len(result.flags))
    create_markdown_artifact(build_markdown(result), key="runlift-build")
    return result


@flow(name="build", log_prints=True)
def build_flow(db: str, config_path: str | None, as_of: date | None = None) -> BuildResult:
    """Run the SQL models and the rules; replace the flags table."""
    return build_task(db, config_path, as_of)


@flow(name="run", task_runner=parse_task_runner(), log_prints=True)
def run_flow(db: str, config_path: str | None, paths: list[str], athlete: str | None = None,
             as_of: date | None = None) -> tuple[Summary, BuildResult]:
    """Ingest files, then build, in one flow run."""
    summary = ingest_in_flow(db, config_path, paths, athlete, refresh_models=False)  # the build does it
    return summary, build_task(db, config_path, as_of)
