"""Prefect flow for `runlift ingest` (and the ingest step of `run` / `sync-inbox`).

Thin over :func:`pipeline.commands.ingest`: the flow's process plans and writes (one DuckDB
writer) exactly as the CLI does; only the parsing is handed over, as a task per batch of files
on the flow's process pool, so the parsers run in parallel without each file paying for a task
run of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture
from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner

from pipeline import commands
from pipeline.config import Config
from pipeline.ingest import Job, Parsed, Summary, default_workers, parse_batch, parse_batches

BATCH = 8  # files per parse task


def process_pool() -> TaskRunner[PrefectFuture[Any]]:
    """The task runner of the flows that parse: one process per core."""
    # Prefect's own annotation of ``task_runner`` does not admit its ProcessPoolTaskRunner
    return cast(TaskRunner[PrefectFuture[Any]], ProcessPoolTaskRunner(max_workers=default_workers()))


@task(name="parse files", cache_policy=NO_CACHE)
def parse_task(jobs: list[Job]) -> list[Parsed]:
    return parse_batch(jobs)


def parse_in_tasks(jobs: Iterator[Job]) -> Iterator[Parsed]:
    """Parse as Prefect tasks, a few batches in flight (a big export is never held in memory)."""
    return parse_batches(jobs, parse_task.submit, batch_size=BATCH, in_flight=2 * default_workers() + 1)


def summary_markdown(title: str, summary: Summary) -> str:
    lines = [
        f"# {title}",
        "",
        "| new | duplicate | skipped | quarantined | activities | strength sessions |",
        "|---|---|---|---|---|---|",
        f"| {summary.new} | {summary.duplicate} | {summary.skipped} | {summary.quarantined} "
        f"| {summary.activities} | {summary.sessions} |",
    ]
    if summary.quarantine_reasons:
        lines += ["", "## Quarantined", "", "| file | reason |", "|---|---|"]
        lines += [f"| `{_md(f)}` | {_md(r)} |" for f, r in summary.quarantine_reasons]
    if summary.loaded_with_reasons:
        lines += ["", "## Loaded with rows skipped", "", "| file | reason |", "|---|---|"]
        lines += [f"| `{_md(f)}` | {_md(r)} |" for f, r in summary.loaded_with_reasons]
    return "\n".join(lines)


def _md(text: str) -> str:
    """Escape what would break a Markdown table cell or inject markup."""
    return "".join("\\" + c if c in "\\`*_{}[]<>()#+-.!|" else c for c in text).replace("\n", " ")


def ingest_step(db: Path, config: Config, paths: list[Path], athlete: str | None = None,
                refresh_models: bool = True) -> Summary:
    """The ingest step of the ingest, run and sync-inbox flows (call it inside a flow)."""
    summary = commands.ingest(db, config, paths, athlete, refresh_models=refresh_models,
                              parse_jobs=parse_in_tasks, lock_wait_s=commands.FLOW_LOCK_WAIT_S)
    logger = get_run_logger()
    for file, reason in summary.quarantine_reasons:
        logger.warning("not loaded %s: %s", file, reason)
    for file, reason in summary.loaded_with_reasons:
        logger.warning("loaded %s: %s", file, reason)
    logger.info("ingest: %d new, %d duplicate, %d skipped, %d quarantined",
                summary.new, summary.duplicate, summary.skipped, summary.quarantined)
    create_markdown_artifact(summary_markdown("runlift ingest", summary), key="runlift-ingest")
    return summary


@flow(name="ingest", task_runner=process_pool(), log_prints=True)
def ingest_flow(db: Path, config: Config, paths: list[Path], athlete: str | None = None) -> Summary:
    """Ingest watch exports and strength logs into the runlift DuckDB file."""
    return ingest_step(db, config, paths, athlete)
