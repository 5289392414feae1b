"""What `runlift serve` runs, made safe (issue 12): parse workers that crash, hang or are orphaned,
artifacts only when something changed, artifact keys from any athlete id, and an interactive
`report --send` that never sits through the scheduled flow's retries."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import duckdb
import pytest
from gpxgen import gpx_run
from test_data_safety import _marked, _no_survivors
from test_email import DripServer, Handler, free_port
from worker_hooks import crash_on, hang_on

import flows.ingest as flow_ingest
from pipeline import commands
from pipeline.config import load_config
from pipeline.errors import DeliveryError

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [pytest.mark.prefect, pytest.mark.usefixtures("prefect_harness")]


def _inbox(tmp_path: Path, names: list[str]) -> Path:
    cfg = tmp_path / "runlift.toml"
    cfg.write_text('[athlete]\nid = "me"\ntimezone = "Europe/Berlin"\n[inbox]\npath = "inbox"\n')
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for day, name in enumerate(names, start=1):
        (inbox / name).write_text(gpx_run(datetime(2026, 5, day, 6, 0, tzinfo=UTC), points=60))
    return cfg


def _log(db: Path) -> list[tuple[str, str, str | None]]:
    con = duckdb.connect(str(db))  # a write connection: nobody may still hold the lock
    try:
        return con.execute("SELECT regexp_extract(file, '[^/]+$'), status, reason FROM ingest_log "
                           "ORDER BY 1").fetchall()
    finally:
        con.close()


def _artifacts(flow_run_id: UUID) -> list[tuple[str, str, object]]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(
            any_=[flow_run_id])))
    return sorted((a.key or "", a.type or "", json.loads(a.data) if a.type == "table" else a.data) for a in found)


# --- parse workers under Prefect's ProcessPoolTaskRunner ---------------------------------------------


@pytest.mark.slow  # spawned Prefect workers, one pool per crash: several seconds each
def test_a_file_that_crashes_its_worker_is_quarantined_and_the_rest_load(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.inbox import sync_inbox_flow

    cfg = _inbox(tmp_path, ["a.gpx", "bad.gpx"])  # one batch: it crashes, then each file alone
    monkeypatch.setattr(flow_ingest, "WORKER_HOOK", (crash_on, ("bad.gpx",)))
    db = tmp_path / "s.duckdb"
    summary = sync_inbox_flow(str(db), str(cfg))
    assert (summary.new, summary.quarantined) == (1, 1)
    crashed = "the parser crashed on this file (its worker process died); refused"
    assert _log(db) == [("a.gpx", "loaded", None), ("bad.gpx", "quarantined", crashed)]


@pytest.mark.slow  # spawned Prefect workers, one pool per crash: several seconds each
def test_a_stuck_parse_task_ends_the_run_and_releases_the_database(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A task future that never resolves (a wedged worker; a task engine waiting on a Prefect API
    that went away) once held the DuckDB write lock for good; now parsing gives up after STALL_S."""
    from flows.inbox import sync_inbox_flow

    cfg = _inbox(tmp_path, ["a.gpx", "stuck.gpx"])
    monkeypatch.setattr(flow_ingest, "WORKER_HOOK", (hang_on, ("stuck.gpx",)))
    monkeypatch.setattr(flow_ingest, "STALL_S", 1.0)
    db = tmp_path / "s.duckdb"
    t = time.monotonic()
    summary = sync_inbox_flow(str(db), str(cfg))
    assert time.monotonic() - t < 20
    assert (summary.new, summary.skipped, summary.quarantined, summary.changed) == (0, 2, 0, False)
    assert _log(db) == []  # not logged: both files are tried again next run
    assert [p for p in _worker_pids() if _parent(p) == os.getpid()] == []  # the stuck worker was killed
    monkeypatch.setattr(flow_ingest, "WORKER_HOOK", None)
    monkeypatch.undo()
    assert sync_inbox_flow(str(db), str(cfg)).new == 2


def _worker_pids() -> list[int]:
    return [pid for pid, cmd in _all() if "multiprocessing.spawn" in cmd or "--multiprocessing-fork" in cmd]


def _all() -> list[tuple[int, str]]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError):  # it ended while we looked
                found.append((int(proc.name), (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()))
    return found


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError):
        return -1


KILLED_RUN = textwrap.dedent("""
    import sys
    import flows.ingest as flow_ingest
    from worker_hooks import hang_on
    from pipeline.config import load_config
    flow_ingest.WORKER_HOOK = (hang_on, ("stuck.gpx",))
    flow_ingest.ingest_flow(sys.argv[1], load_config(sys.argv[2]), [sys.argv[3]])
""")


@pytest.mark.slow  # a flow run in its own process: Prefect's import, start-up and spawned workers
@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")
def test_a_sigkilled_flow_run_leaves_no_parse_worker_or_resource_tracker(tmp_path: Path) -> None:
    from prefect.settings import PREFECT_API_URL

    cfg = _inbox(tmp_path, ["a.gpx", "stuck.gpx", "b.gpx"])
    marker = f"{os.getpid()}-{time.monotonic_ns()}"
    env = os.environ | {"RUNLIFT_TEST_MARKER": marker, "PREFECT_API_URL": str(PREFECT_API_URL.value()),
                        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
    proc = subprocess.Popen([sys.executable, "-c", KILLED_RUN, str(tmp_path / "k.duckdb"), str(cfg),
                             str(tmp_path / "inbox")], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        # the parse workers (spawned: multiprocessing.spawn's main) and the resource tracker
        while not (any("multiprocessing.spawn" in cmd for _, cmd in _marked(marker))
                   and any("resource_tracker" in cmd for _, cmd in _marked(marker))):
            assert proc.poll() is None and time.monotonic() < deadline, "the parse workers never started"
            time.sleep(0.05)
    finally:
        proc.kill()
        proc.wait()
    _no_survivors(marker)


API_LOST_RUN = textwrap.dedent("""
    import sys
    import flows.ingest as flow_ingest
    from worker_hooks import slow_on
    from pipeline.config import load_config
    flow_ingest.WORKER_HOOK = (slow_on, ("slow.gpx", 8.0))
    flow_ingest.ingest_flow(sys.argv[1], load_config(sys.argv[2]), [sys.argv[3]])
""")


def _writable(db: Path) -> bool:
    try:
        duckdb.connect(str(db)).close()
        return True
    except duckdb.Error:
        return False


@pytest.mark.slow  # a real Prefect server, killed while a flow run parses
def test_a_flow_run_that_loses_its_api_releases_the_database_and_ends(tmp_path: Path) -> None:
    from pipeline.app.serve import _free_port, _healthy, server_env

    cfg = _inbox(tmp_path, ["a.gpx", "slow.gpx"])
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"} | {"PREFECT_HOME": str(tmp_path / "ph")}
    server = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                               "--port", str(port)], env=env | server_env(port), start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = tmp_path / "l.duckdb"
    log = tmp_path / "flow.log"
    run = None
    try:
        deadline = time.monotonic() + 120
        while not _healthy(api):
            assert server.poll() is None and time.monotonic() < deadline, "no Prefect server"
            time.sleep(0.5)
        with log.open("w") as out:
            path = f"{ROOT}{os.pathsep}{ROOT / 'tests'}"
            # two client retries (2 + 4 s a call) instead of Prefect's five (62 s a call): the run
            # still ends on its own, in seconds rather than three minutes, whatever the load
            run = subprocess.Popen([sys.executable, "-c", API_LOST_RUN, str(db), str(cfg), str(tmp_path / "inbox")],
                                   env=env | {"PREFECT_API_URL": api, "PYTHONPATH": path,
                                              "PREFECT_CLIENT_MAX_RETRIES": "2"}, cwd=ROOT,
                                   stdout=out, stderr=subprocess.STDOUT)
        while not [p for p in _worker_pids() if _parent(p) == run.pid]:  # a parse worker started
            assert run.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.1)
        time.sleep(3)  # it imports Prefect, then parses slow.gpx for 8 s
    finally:
        os.killpg(server.pid, signal.SIGKILL)  # the server dies while slow.gpx parses
        server.wait()
    assert run is not None
    killed = time.monotonic()
    try:
        while not _writable(db):  # the flow holds the write lock until parsing gives up
            assert time.monotonic() - killed < 30, log.read_text()[-3000:]
            time.sleep(0.5)
        run.wait(timeout=180)  # and the run ends on its own (Prefect's client retries its last calls)
    finally:
        run.kill()
    assert _log(db) == []  # nothing half-done: both files are tried again next run
    assert "the Prefect API went away while the file was parsed (not logged; tried again next run)" in log.read_text()


@pytest.mark.slow  # Prefect's temporary server starts in a few seconds
@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")
def test_a_sigkilled_tracked_run_leaves_no_temporary_prefect_server(tmp_path: Path) -> None:
    cfg = _inbox(tmp_path, ["a.gpx", "stuck.gpx"])
    marker = f"{os.getpid()}-{time.monotonic_ns()}"
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"} | {
        "PREFECT_HOME": str(tmp_path / "ph"), "RUNLIFT_TEST_MARKER": marker}
    runlift = Path(sys.executable).with_name("runlift")
    proc = subprocess.Popen([str(runlift), "--db", str(tmp_path / "t.duckdb"), "--config", str(cfg),
                             "ingest", "--prefect", str(tmp_path / "inbox")], env=env, cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not any("uvicorn" in cmd for _, cmd in _marked(marker)):  # killed while it starts, too
            assert proc.poll() is None and time.monotonic() < deadline, "no temporary server started"
            time.sleep(0.1)
    finally:
        proc.kill()
        proc.wait()
    _no_survivors(marker, within_s=15)  # the watchdog's poll, then the server's time to stop


# --- artifacts --------------------------------------------------------------------------------------


def test_ingest_artifacts_are_tables_published_only_when_something_changed(tmp_path: Path) -> None:
    from flows.ingest import ingest_flow

    cfg = _inbox(tmp_path, ["run_1 (copy).gpx"])
    (tmp_path / "inbox" / "broken_file.gpx").write_text("<gpx")
    db = str(tmp_path / "a.duckdb")
    first = ingest_flow(db, load_config(cfg), [tmp_path / "inbox"], return_state=True)
    summary = first.result()
    assert (summary.new, summary.quarantined) == (1, 1)
    broken = str(tmp_path / "inbox" / "broken_file.gpx")  # as it is: no Markdown escapes
    assert summary.quarantine_reasons[0][0] == broken
    assert _artifacts(first.state_details.flow_run_id) == [
        ("runlift-ingest", "table", [{"new": 1, "duplicate": 0, "skipped": 0, "quarantined": 1, "ignored": 0,
                                      "activities": 1, "strength sessions": 0}]),
        ("runlift-quarantined", "table", [{"file": broken, "reason": summary.quarantine_reasons[0][1]}]),
    ]
    again = ingest_flow(db, load_config(cfg), [tmp_path / "inbox"], return_state=True)
    assert again.result().changed is False
    assert _artifacts(again.state_details.flow_run_id) == []  # a quiet sync publishes nothing


# --- the weekly report ------------------------------------------------------------------------------


def _team(tmp_path: Path, athlete: str, port: int) -> tuple[Path, Path]:
    cfg = tmp_path / "runlift.toml"
    cfg.write_text(f'[athlete]\nid = "{athlete}"\ntimezone = "Europe/Berlin"\nemail_to = ["{athlete}@example.org"]\n'
                   '[report]\nout = "out"\n')
    (tmp_path / "run.gpx").write_text(gpx_run(datetime(2026, 9, 16, 6, 0, tzinfo=UTC), points=60))
    db = tmp_path / "w.duckdb"
    config = load_config(cfg)
    commands.ingest(db, config, [tmp_path / "run.gpx"], workers=1)
    commands.build(db, config, datetime(2026, 9, 22).date())
    return db, cfg


def _smtp_env(monkeypatch: pytest.MonkeyPatch, port: int, timeout: float = 5) -> None:
    for name, value in {"RUNLIFT_SMTP_HOST": "127.0.0.1", "RUNLIFT_SMTP_PORT": str(port),
                        "RUNLIFT_SMTP_STARTTLS": "false", "RUNLIFT_SMTP_TIMEOUT": str(timeout)}.items():
        monkeypatch.setenv(name, value)
    for name in ("RUNLIFT_SMTP_USER", "RUNLIFT_SMTP_PASSWORD", "RUNLIFT_SMTP_SSL"):
        monkeypatch.delenv(name, raising=False)


def test_a_dotted_athlete_id_gets_its_mail_and_a_slug_artifact_key(tmp_path: Path, monkeypatch) -> None:
    from aiosmtpd.controller import Controller

    from flows.report import weekly_report_flow

    handler = Handler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, ready_timeout=5)
    controller.start()
    try:
        db, cfg = _team(tmp_path, "John.Doe_2", port)
        _smtp_env(monkeypatch, port)
        state = weekly_report_flow(db, str(cfg), "2026-W38", return_state=True)
        assert state.is_completed(), state.message
    finally:
        controller.stop()
    assert [r.rcpt_tos for r in handler.received] == [["John.Doe_2@example.org"]]
    keys = [k for k, _, _ in _artifacts(state.state_details.flow_run_id)]
    assert keys == ["report-john-doe-2", "runlift-build"]


def test_the_mail_goes_out_before_the_artifacts_are_published(tmp_path: Path, monkeypatch) -> None:
    from aiosmtpd.controller import Controller

    import flows.report as flow_report

    def unreachable_api(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the Prefect API is gone")

    handler = Handler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, ready_timeout=5)
    controller.start()
    try:
        db, cfg = _team(tmp_path, "ana", port)
        _smtp_env(monkeypatch, port)
        monkeypatch.setattr(flow_report, "create_markdown_artifact", unreachable_api)
        state = flow_report.weekly_report_flow(db, str(cfg), "2026-W38", return_state=True)
    finally:
        controller.stop()
    assert state.is_failed() and "the Prefect API is gone" in (state.message or "")
    assert [r.rcpt_tos for r in handler.received] == [["ana@example.org"]]


@pytest.mark.parametrize("server", ["refused", "dripping"])
def test_report_send_as_a_flow_fails_at_once_instead_of_retrying(tmp_path: Path, monkeypatch, server: str) -> None:
    """`runlift report --send` under a Prefect API: someone waits at the terminal, so one attempt
    bounded by RUNLIFT_SMTP_TIMEOUT, not the scheduled flow's retries (30 s, 2 min, 10 min)."""
    from flows.report import report_flow

    with DripServer("ehlo", every=0.5) as drip:
        port = drip.port if server == "dripping" else free_port()
        db, cfg = _team(tmp_path, "ana", port)
        _smtp_env(monkeypatch, port, timeout=1)
        t = time.monotonic()
        with pytest.raises(DeliveryError, match="connection refused$" if server == "refused"
                           else r"sending: timed out after 1 s \(RUNLIFT_SMTP_TIMEOUT bounds the whole delivery\)$"):
            report_flow(db, load_config(cfg), "2026-W38", send=True)
        assert time.monotonic() - t < 8
        assert drip.connections == (server == "dripping")
