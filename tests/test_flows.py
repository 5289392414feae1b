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
    first = ingest_flow(db, load_config(CONFIG), [strength])
    assert (first.new, first.skipped, first.sessions) == (4, 0, 20)
    again = ingest_flow(db, load_config(CONFIG), [strength])
    assert (again.new, again.skipped, again.quarantined) == (0, 4, 0)
    con = duckdb.connect(db, read_only=True)
    assert con.execute("SELECT count(*) FROM strength_sessions").fetchone()[0] == 19
    con.close()


def test_run_flow_ingests_and_builds(tmp_path: Path) -> None:
    from flows.build import run_flow
    from pipeline.app.demo import DEMO_AS_OF

    db = str(tmp_path / "r.duckdb")
    summary, result = run_flow(db, load_config(CONFIG), [str(SAMPLE)], None, DEMO_AS_OF)
    assert (summary.new, summary.duplicate, summary.quarantined) == (52, 1, 1)
    assert len(result.flags) == 18 and result.as_of == DEMO_AS_OF
    assert load_config(CONFIG).athlete.id == "me"
    # `runlift build --full --prefect`: the same flags from every model rebuilt
    from flows.build import build_flow

    rebuilt = build_flow(db, load_config(CONFIG), DEMO_AS_OF, True)
    assert rebuilt.touched_athletes is None and rebuilt.flags == result.flags


def test_run_flow_builds_in_a_fresh_process_after_a_big_ingest(tmp_path: Path, fresh_calls: list[str]) -> None:
    from flows.build import run_flow
    from pipeline.app.demo import DEMO_AS_OF

    summary, result = run_flow(str(tmp_path / "r.duckdb"), load_config(CONFIG), [str(SAMPLE)], None, DEMO_AS_OF)
    assert fresh_calls == ["build"] and summary.new == 52 and len(result.flags) == 18


def test_sync_inbox_picks_up_new_files_only(tmp_path: Path) -> None:
    import shutil

    from flows.inbox import sync_inbox_flow

    cfg = tmp_path / "runlift.toml"
    cfg.write_text('[athlete]\nid = "me"\ntimezone = "Europe/Berlin"\n[inbox]\npath = "inbox"\n')
    db = str(tmp_path / "s.duckdb")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(SAMPLE / "runs" / "2026-09-08_1830_intervals.fit", inbox)
    first = sync_inbox_flow(db, str(cfg))
    assert (first.new, first.skipped) == (1, 0)
    assert sync_inbox_flow(db, str(cfg)).changed is False  # nothing new: a no-op
    shutil.copy(SAMPLE / "strength" / "hevy.csv", inbox)
    third = sync_inbox_flow(db, str(cfg))
    assert (third.new, third.skipped, third.sessions) == (1, 1, 4)  # hevy.csv: 4 sessions, the mobility log too
    con = duckdb.connect(db, read_only=True)
    assert con.execute("SELECT count(*) FROM activities").fetchone()[0] == 1
    assert con.execute("SELECT count(*) FROM strength_sessions").fetchone()[0] == 4
    assert con.execute("SELECT count(*) FROM raw.build_state").fetchone()[0] == 1  # the build ran
    con.close()


def test_report_flows_write_every_athletes_report(tmp_path: Path) -> None:
    """`report` takes the loaded Config; `weekly-report` (a deployment) the config file's path,
    with its relative [report] out read from the file's folder."""
    from flows.report import report_flow, weekly_report_flow
    from pipeline import commands
    from pipeline.app.demo import DEMO_AS_OF, DEMO_REPORT_WEEK

    cfg = tmp_path / "runlift.toml"
    cfg.write_text('[athlete]\nid = "me"\ntimezone = "Europe/Berlin"\n[report]\nout = "out"\n')
    config = load_config(cfg)
    db = tmp_path / "w.duckdb"
    commands.ingest(db, config, [SAMPLE / "runs"], workers=1, refresh_models=False)
    commands.build(db, config, DEMO_AS_OF)
    written = report_flow(db, config, DEMO_REPORT_WEEK, tmp_path / "elsewhere")
    assert [w.report.athlete for w in written] == ["me"]
    assert {p.parent for w in written for p in w.paths.values()} == {tmp_path / "elsewhere"}
    paths = weekly_report_flow(db, str(cfg), DEMO_REPORT_WEEK, send=False)
    assert paths and all(Path(p).parent == tmp_path / "out" and Path(p).exists() for p in paths)
