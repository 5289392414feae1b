"""Prefect flow for `runlift ingest` (and the ingest half of `run` / `sync-inbox`).

Thin over :mod:`pipeline.ingest`: planning and writing happen in the flow's process (one
DuckDB writer); parsing is a task per batch of files on a process pool, so the parsers run
in parallel without each file paying for a task run of its own.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from flows.runners import parse_task_runner
from pipeline.config import load_config
from pipeline.db import open_for_write
from pipeline.ingest import Job, Parsed, Summary, default_workers, parse_job, plan_jobs, write_parsed
from pipeline.models import build_models, models_built

BATCH = 8


@task(name="parse files", cache_policy=NO_CACHE)
def parse_batch(jobs: list[Job]) -> list[Parsed]:
    return [parse_job(j) for j in jobs]


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
    return "\n".join(lines)


def _md(text: str) -> str:
    """Escape what would break a Markdown table cell or inject markup."""
    return "".join("\\" + c if c in "\\`*_{}[]<>()#+-.!|" else c for c in text).replace("\n", " ")


def _batches(jobs: Iterator[Job], size: int) -> Iterator[list[Job]]:
    batch: list[Job] = []
    for job in jobs:
        batch.append(job)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def ingest_in_flow(db: str, config_path: str | None, paths: list[str], athlete: str | None,
                   refresh_models: bool = True) -> Summary:
    """The body shared by the ingest flow and the sync/run flows (call it inside a flow).

    Batches are planned lazily and only a few are in flight, so a big export is never held in
    memory at once; the flow's process is the one DuckDB writer."""
    logger = get_run_logger()
    config = load_config(config_path)
    con = open_for_write(db, config, wait_s=60)
    try:
        summary = Summary()
        pending: deque = deque()

        def write_next() -> None:
            for parsed in pending.popleft().result():
                outcome = write_parsed(con, parsed)
                summary.count(parsed.job.file, outcome, parsed.result)
                if outcome.status == "quarantined":
                    logger.warning("quarantined %s: %s", parsed.job.file, outcome.reason)

        for batch in _batches(plan_jobs(con, config, [Path(p) for p in paths], athlete, summary), BATCH):
            pending.append(parse_batch.submit(batch))
            if len(pending) > 2 * default_workers():
                write_next()
        while pending:
            write_next()
        if refresh_models and (summary.changed or not models_built(con)):
            build_models(con)
    finally:
        con.close()
    logger.info("ingest: %d new, %d duplicate, %d skipped, %d quarantined",
                summary.new, summary.duplicate, summary.skipped, summary.quarantined)
    create_markdown_artifact(summary_markdown("runlift ingest", summary), key="runlift-ingest")
    return summary


@flow(name="ingest", task_runner=parse_task_runner(), log_prints=True)
def ingest_flow(db: str, config_path: str | None, paths: list[str], athlete: str | None = None) -> Summary:
    """Ingest watch exports and strength logs into the runlift DuckDB file."""
    return ingest_in_flow(db, config_path, paths, athlete)
