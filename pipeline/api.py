"""What the CLI verbs and the Prefect flows do, as plain functions over a DB path and a config.

The CLI (``pipeline/cli.py``) only parses options and prints; the flows (``flows/``) wrap the
same steps in tasks. Nothing here imports Prefect.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pipeline.config import Config
from pipeline.db import connect, open_for_write
from pipeline.ingestion import Summary, ingest_paths
from pipeline.models import Model, build_models, discover

LOCK_WAIT_S = 10.0


def init_db(db: Path, config: Config) -> None:
    """Create the DB with the raw schema and every model (empty)."""
    con = open_for_write(db, config)
    try:
        build_models(con)
    finally:
        con.close()


def ingest(db: Path, config: Config, paths: list[Path], athlete: str | None = None,
           on_item: Callable[[str, str], None] | None = None, workers: int | None = None) -> Summary:
    """Load files into the DB, then refresh the SQL models so the views show them."""
    con = open_for_write(db, config, wait_s=LOCK_WAIT_S)
    try:
        summary = ingest_paths(con, config, paths, athlete=athlete, workers=workers, on_item=on_item)
        build_models(con)
        return summary
    finally:
        con.close()


def refresh_models(db: Path, config: Config, timings: dict[str, float] | None = None) -> list[Model]:
    con = open_for_write(db, config, wait_s=LOCK_WAIT_S)
    try:
        return build_models(con, timings=timings)
    finally:
        con.close()


def query(db: Path, sql: str) -> tuple[list[str], list[tuple]]:
    """Run one read-only query; returns column names and rows."""
    con = connect(db, read_only=True, wait_s=LOCK_WAIT_S)
    try:
        cur = con.execute(sql)
        return [d[0] for d in cur.description or []], cur.fetchall()
    finally:
        con.close()


def list_models() -> list[Model]:
    return discover()
