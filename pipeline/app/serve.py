"""`runlift serve`: the two scheduled deployments, served until interrupted.

Prefect's temporary in-process server runs no scheduler, so serving needs a real one: the
server at ``PREFECT_API_URL`` when set, else a ``prefect server start`` on 127.0.0.1 that this
process starts, waits for, and stops on exit.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from pipeline.config import Config, ConfigError
from pipeline.orphans import end_descendants_with_this_process

SERVER_START_TIMEOUT_S = 120


def deployments(db: Path, config_path: Path, config: Config) -> list:
    """The `sync-inbox` (interval) and `weekly-report` (cron, athlete's zone) deployments."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
    from prefect.schedules import Cron, Interval

    from flows.inbox import sync_inbox_flow
    from flows.report import weekly_report_flow

    params = {"db": str(Path(db).resolve()), "config_path": str(Path(config_path).resolve())}
    zone = config.all_athletes[0].timezone
    sync = sync_inbox_flow.to_deployment(
        name="sync-inbox",
        schedule=Interval(timedelta(minutes=config.inbox.interval_minutes), timezone=zone),
        parameters=params,
        description="Ingest new files from the inbox, then build.",
        tags=["runlift"],
        # one sync at a time: a sync due while one still runs is cancelled (the next finds its files),
        # instead of queueing up behind the DuckDB write lock
        concurrency_limit=ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW),
    )
    weekly = weekly_report_flow.to_deployment(
        name="weekly-report",
        schedule=Cron(config.report.cron, timezone=zone),
        parameters=params,
        description="Build, write and e-mail the weekly compliance report.",
        tags=["runlift"],
        concurrency_limit=ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE),
    )
    return [sync, weekly]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


def server_env(port: int) -> dict[str, str]:
    """The environment of the Prefect server started here: its UI must call the API at the port it
    listens on (the UI's default is PREFECT_SERVER_API_PORT, 4200: "Can't connect to Server API")."""
    return {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
            "PREFECT_SERVER_API_HOST": "127.0.0.1", "PREFECT_SERVER_API_PORT": str(port),
            "PREFECT_UI_API_URL": f"http://127.0.0.1:{port}/api", "PREFECT_UI_URL": f"http://127.0.0.1:{port}"}


@contextmanager
def prefect_server() -> Iterator[str]:
    """The API URL of a Prefect server: the configured one, or one started (and stopped) here."""
    configured = os.environ.get("PREFECT_API_URL")
    if configured:
        yield configured
        return
    port = _free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    end_descendants_with_this_process()  # the server, its workers and the flow runs, killed or not
    env = server_env(port)
    proc = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while not _healthy(api_url):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise ConfigError(f"could not start a Prefect server on 127.0.0.1:{port}; "
                                  "start one with `prefect server start` and set PREFECT_API_URL")
            time.sleep(0.5)
        yield api_url
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def serve(db: Path, config_path: Path, config: Config, on_ready=None) -> None:
    """Serve both deployments against a real Prefect server until interrupted (Ctrl-C or SIGTERM,
    as systemd and docker stop it); the server this process started is stopped on the way out."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # unwind through the finally blocks
    with prefect_server() as api_url:
        os.environ["PREFECT_API_URL"] = api_url  # the flow runs the runner starts inherit it
        from prefect import serve as prefect_serve
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings(updates={PREFECT_API_URL: api_url}):
            if on_ready:
                on_ready(api_url)
            prefect_serve(*deployments(db, config_path, config))
