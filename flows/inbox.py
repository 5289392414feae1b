"""The `sync-inbox` flow: ingest what is new in the inbox folder, then build.

Files dropped into ``[inbox] path`` (one sub-folder per athlete id when several athletes are
configured) are ingested; known files are skipped by content hash, so a run that finds nothing
new writes nothing and skips the build.
"""

from __future__ import annotations

from prefect import flow, get_run_logger

from flows.build import build_task
from flows.ingest import ingest_in_flow
from flows.runners import parse_task_runner
from pipeline.config import load_config
from pipeline.ingest import Summary


@flow(name="sync-inbox", task_runner=parse_task_runner(), log_prints=True)
def sync_inbox_flow(db: str, config_path: str | None) -> Summary:
    """Ingest new files from the inbox, then rebuild the models and flags if anything changed."""
    inbox = load_config(config_path).inbox_dir
    inbox.mkdir(parents=True, exist_ok=True)
    summary = ingest_in_flow(db, config_path, [str(inbox)], None, refresh_models=False)
    if summary.changed:
        build_task(db, config_path, None)
    else:
        get_run_logger().info("nothing new in %s", inbox)
    return summary
