"""`runlift serve`: the deployments it builds, and (slow) a real scheduled sync-inbox run."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from gpxgen import gpx_run

from pipeline.app.serve import deployments
from pipeline.config import load_config

ROOT = Path(__file__).resolve().parents[1]


def _config(tmp_path: Path, interval: float = 15, cron: str = "0 7 * * MON") -> Path:
    cfg = tmp_path / "runlift.toml"
    cfg.write_text(f'[athlete]\nid = "ana"\ntimezone = "America/New_York"\n\n[inbox]\npath = "in"\n'
                   f"interval_minutes = {interval}\n\n[report]\ncron = \"{cron}\"\nout = \"out\"\n")
    return cfg


def test_deployments_have_the_configured_schedules(tmp_path: Path) -> None:
    cfg = _config(tmp_path, interval=20, cron="30 6 * * SUN")
    sync, weekly = deployments(tmp_path / "x.duckdb", cfg, load_config(cfg))
    assert (sync.name, weekly.name) == ("sync-inbox", "weekly-report")
    (s1,), (s2,) = sync.schedules, weekly.schedules
    assert s1.schedule.interval == timedelta(minutes=20) and s1.schedule.timezone == "America/New_York"
    assert s2.schedule.cron == "30 6 * * SUN" and s2.schedule.timezone == "America/New_York"
    params = {"db": str((tmp_path / "x.duckdb").resolve()), "config_path": str(cfg.resolve())}
    assert sync.parameters == params and weekly.parameters == params
    assert sync.entrypoint.endswith("flows/inbox.py:sync_inbox_flow")
    assert weekly.entrypoint.endswith("flows/report.py:weekly_report_flow")


def test_each_deployment_runs_one_at_a_time(tmp_path: Path) -> None:
    """Syncs piled up on the DuckDB lock: a sync due while one runs is cancelled (the next sync
    finds its files); a weekly report waits for the one before."""
    from prefect.client.schemas.objects import ConcurrencyLimitStrategy

    cfg = _config(tmp_path)
    sync, weekly = deployments(tmp_path / "x.duckdb", cfg, load_config(cfg))
    assert (sync.concurrency_limit, sync.concurrency_options.collision_strategy) == (
        1, ConcurrencyLimitStrategy.CANCEL_NEW)
    assert (weekly.concurrency_limit, weekly.concurrency_options.collision_strategy) == (
        1, ConcurrencyLimitStrategy.ENQUEUE)


@pytest.mark.slow
def test_the_started_servers_ui_calls_the_api_at_its_own_port(tmp_path: Path, monkeypatch) -> None:
    """The UI's default API address is port 4200: with the server on a free port it said "Can't
    connect to Server API"."""
    import json
    import urllib.request

    from pipeline.app.serve import prefect_server

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))
    with prefect_server() as api_url:
        base = api_url.removesuffix("/api")
        with urllib.request.urlopen(f"{base}/ui-settings", timeout=10) as resp:
            settings = json.load(resp)
    assert settings["api_url"] == api_url and not api_url.endswith(":4200/api")


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _loaded(db: Path) -> list[tuple]:
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error:
        return []  # missing, or the flow holds the write lock right now
    try:
        return con.execute("SELECT file, status FROM ingest_log").fetchall()
    except duckdb.Error:
        return []
    finally:
        con.close()


@pytest.mark.slow
def test_serve_runs_a_scheduled_sync_and_stops_its_server(tmp_path: Path) -> None:
    cfg = _config(tmp_path, interval=10 / 60)
    db = tmp_path / "serve.duckdb"
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "run.gpx").write_text(gpx_run(datetime(2026, 5, 4, 10, 0, tzinfo=UTC)))
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1")
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.app.cli", "--db", str(db), "--config", str(cfg), "serve"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    port = None
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            text = (tmp_path / "serve.log").read_text()
            if port is None and (m := re.search(r"127\.0\.0\.1:(\d+)/api", text)):
                port = int(m.group(1))
            if [s for _, s in _loaded(db)] == ["loaded"]:
                break
            time.sleep(2)
        assert [s for _, s in _loaded(db)] == ["loaded"], (tmp_path / "serve.log").read_text()[-3000:]
        assert port is not None and _port_open(port)
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
    assert not _port_open(port)  # the Prefect server it started is gone


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")
def test_a_sigkilled_serve_leaves_no_prefect_server_behind(tmp_path: Path) -> None:
    from test_data_safety import _marked, _no_survivors

    cfg = _config(tmp_path)
    marker = f"{os.getpid()}-{time.monotonic_ns()}"
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), RUNLIFT_TEST_MARKER=marker)
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "pipeline.app.cli", "--db", str(tmp_path / "s.duckdb"),
                                 "--config", str(cfg), "serve"], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 240
        while not re.search(r"127\.0\.0\.1:(\d+)/api", log.read_text()):  # the server it started is up
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.5)
        assert any("prefect server start" in cmd for _, cmd in _marked(marker))
    finally:
        proc.kill()
        proc.wait()
    _no_survivors(marker, within_s=30)  # the watchdog's poll, then the server's time to stop
