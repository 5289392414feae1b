"""The `sync-inbox` flow: ingest what is new in the inbox folder, then build.

Files dropped into ``[inbox] path`` (one sub-folder per athlete id when several athletes are
configured) are ingested; known files are skipped by content hash, so a run that finds nothing
new writes nothing and skips the build.

A scheduled deployment's entry point (``runlift serve``), so it takes the config file's path,
not a :class:`~pipeline.config.Config`: deployment parameters are stored as JSON, where a Config
would lose the folder its relative paths start from, and every run reads the file afresh, so an
edited runlift.toml applies without restarting the server.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger

from flows.build import build_task
from flows.ingest import ingest_step
from pipeline import commands
from pipeline.config import load_config
from pipeline.ingest import Summary


@flow(name="sync-inbox", log_prints=True)
def sync_inbox_flow(db: Path, config_path: Path | None) -> Summary:
    """Ingest new files from the inbox, then rebuild the models and flags if anything changed."""
    config = load_config(config_path)
    inbox = config.inbox_dir
    inbox.mkdir(parents=True, exist_ok=True)
    summary = ingest_step(db, config, [inbox], refresh_models=False)  # the build runs the models
    if summary.changed:
        build_task(db, config, None, fresh_process=commands.big(summary))
    else:
        get_run_logger().info("nothing new in %s", inbox)
    return summary
