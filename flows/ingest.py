"""Prefect flow for `runlift ingest` (and the ingest half of `run` / `sync-inbox`).

Thin over :mod:`pipeline.ingestion`: planning and writing happen in the flow's process (one
DuckDB writer); parsing is a task per batch of files on a process pool, so the parsers run
in parallel without each file paying for a task run of its own.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ProcessPoolTaskRunner

from pipeline.config import load_config
from pipeline.db import open_for_write
from pipeline.ingestion import Job, Parsed, Summary, default_workers, parse_job, plan_jobs, write_parsed
from pipeline.models import build_models

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


def ingest_in_flow(db: str, config_path: str | None, paths: list[str], athlete: str | None) -> Summary:
    """The body shared by the ingest flow and the sync/run flows (call it inside a flow)."""
    logger = get_run_logger()
    config = load_config(config_path)
    con = open_for_write(db, config, wait_s=60)
    try:
        summary = Summary()
        jobs = plan_jobs(con, config, [Path(p) for p in paths], athlete, summary)
        logger.info("%d file(s) to parse, %d already known", len(jobs), summary.skipped)
        batches = [jobs[i : i + BATCH] for i in range(0, len(jobs), BATCH)]
        futures = [parse_batch.submit(b) for b in batches]
        for fut in futures:
            for parsed in fut.result():
                outcome = write_parsed(con, parsed)
                summary.count(parsed.job.file, outcome, parsed.result)
                if outcome.status == "quarantined":
                    logger.warning("quarantined %s: %s", parsed.job.file, outcome.reason)
        build_models(con)
    finally:
        con.close()
    logger.info("ingest: %d new, %d duplicate, %d skipped, %d quarantined",
                summary.new, summary.duplicate, summary.skipped, summary.quarantined)
    create_markdown_artifact(summary_markdown("runlift ingest", summary), key="runlift-ingest")
    return summary


@flow(name="ingest", task_runner=ProcessPoolTaskRunner(max_workers=default_workers()), log_prints=True)
def ingest_flow(db: str, config_path: str | None, paths: list[str], athlete: str | None = None) -> Summary:
    """Ingest watch exports and strength logs into the runlift DuckDB file."""
    return ingest_in_flow(db, config_path, paths, athlete)
