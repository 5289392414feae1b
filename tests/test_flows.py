"""The Prefect flows run for real under one session-scoped test harness."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipeline.config import load_config

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
CONFIG = str(SAMPLE / "runlift.toml")

pytestmark = [pytest.mark.prefect, pytest.mark.usefixtures("prefect_harness")]


def test_ingest_flow_loads_then_is_a_no_op(tmp_path: Path) -> None:
    from flows.ingest import ingest_flow

    db = str(tmp_path / "f.duckdb")
    strength = str(SAMPLE / "strength")
    first = ingest_flow(db, CONFIG, [strength])
    assert (first.new, first.skipped, first.sessions) == (3, 0, 17)
    again = ingest_flow(db, CONFIG, [strength])
    assert (again.new, again.skipped, again.quarantined) == (0, 3, 0)
    con = duckdb.connect(db, read_only=True)
    assert con.execute("SELECT count(*) FROM strength_sessions").fetchone()[0] == 16
    con.close()


def test_run_flow_ingests_and_builds(tmp_path: Path) -> None:
    from flows.build import run_flow
    from pipeline.demo import DEMO_AS_OF

    db = str(tmp_path / "r.duckdb")
    summary, result = run_flow(db, CONFIG, [str(SAMPLE)], None, DEMO_AS_OF)
    assert (summary.new, summary.duplicate, summary.quarantined) == (50, 1, 1)
    assert len(result.flags) == 10 and result.as_of == DEMO_AS_OF
    assert load_config(CONFIG).athlete.id == "me"
