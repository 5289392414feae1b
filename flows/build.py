"""Prefect flows for `runlift build` and `runlift run` (ingest, then build, in one flow run)."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from flows.ingest import ingest_step
from pipeline import commands
from pipeline.build import BuildResult
from pipeline.config import Config
from pipeline.ingest import Summary


def build_markdown(result: BuildResult) -> str:
    counts = Counter(f.severity for f in result.flags)
    lines = [f"# runlift build (as of {result.as_of})", "", "| severity | flags |", "|---|---|"]
    lines += [f"| {sev} | {counts.get(sev, 0)} |" for sev in ("error", "warning", "info")]
    return "\n".join(lines)


@task(name="build models and rules", retries=3, retry_delay_seconds=[5, 15, 45], cache_policy=NO_CACHE)
def build_task(db: Path, config: Config, as_of: date | None, full: bool = False,
               fresh_process: bool = False) -> BuildResult:
    """Retried: the usual failure is the DuckDB file locked by another process."""
    result = commands.build(db, config, as_of, full=full, fresh_process=fresh_process)
    logger = get_run_logger()
    logger.info("build as of %s: %d flag(s)", result.as_of, len(result.flags))
    for line in result.notices:
        logger.warning("%s", line)
    create_markdown_artifact(build_markdown(result), key="runlift-build")
    return result


@flow(name="build", log_prints=True)
def build_flow(db: Path, config: Config, as_of: date | None = None, full: bool = False) -> BuildResult:
    """Run the SQL models and the rules (only what new files touched unless ``full``); replace the flags table."""
    return build_task(db, config, as_of, full)


@flow(name="run", log_prints=True)
def run_flow(db: Path, config: Config, paths: list[Path], athlete: str | None = None,
             as_of: date | None = None) -> tuple[Summary, BuildResult]:
    """Ingest files, then build, in one flow run."""
    summary = ingest_step(db, config, paths, athlete, refresh_models=False)  # the build runs the models
    result = build_task(db, config, as_of, fresh_process=commands.big(summary))
    return summary, result
