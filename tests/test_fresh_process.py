"""A big ingest refreshes its models (and `run` builds) in a fresh process
(:func:`pipeline.forkserver.call_in_fresh_process`): the same tables and flags as in runlift's own
process, errors raised as they would be there, and no child left behind by a killed or
interrupted runlift."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipeline import commands
from pipeline.app.cli import app
from pipeline.config import load_config
from pipeline.errors import ChildDied, ConfigError
from pipeline.forkserver import call_in_fresh_process
from tests.test_data_safety import _marked, _marker, _no_survivors
from tests.test_incremental_build import assert_same, model_rows

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
SAMPLE_CONFIG = load_config(SAMPLE / "runlift.toml")
AS_OF = date(2026, 10, 26)


def pid_and(value: int) -> tuple[int, int]:
    return os.getpid(), value


def refuse(message: str) -> None:
    raise ConfigError(message)


def die(status: int) -> None:
    os._exit(status)


def die_by(sig: int) -> None:
    os.kill(os.getpid(), sig)


def test_a_function_runs_in_another_process_and_returns_its_result() -> None:
    pid, value = call_in_fresh_process(pid_and, 7)
    assert value == 7 and pid != os.getpid()
    assert call_in_fresh_process(pid_and, 8)[0] != pid  # fresh each time


def test_its_exception_is_raised_here() -> None:
    with pytest.raises(ConfigError, match="^runlift.toml: bad$"):
        call_in_fresh_process(refuse, "runlift.toml: bad")


def test_a_child_that_dies_without_a_result_is_one_clear_error() -> None:
    with pytest.raises(ChildDied, match=r"^the die step's process exited with status 3 before it finished; "):
        call_in_fresh_process(die, 3)
    with pytest.raises(ChildDied, match=r"^the die_by step's process was killed by signal 9 before it finished; "):
        call_in_fresh_process(die_by, signal.SIGKILL)


SLEEPING_PARENT = ("import time; from pipeline.forkserver import call_in_fresh_process; "
                   "print('start', flush=True); call_in_fresh_process(time.sleep, 120)")


def _sleeping_parent(marker: str) -> subprocess.Popen[str]:
    """A runlift-like process waiting on a fresh process that sleeps; returned once the child runs."""
    proc = subprocess.Popen([sys.executable, "-c", SLEEPING_PARENT], cwd=ROOT, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=os.environ | {"RUNLIFT_TEST_MARKER": marker})
    assert proc.stdout is not None and proc.stdout.readline() == "start\n"
    deadline = time.monotonic() + 60
    # the forkserver and the child it forked (both run multiprocessing.forkserver's main)
    while sum("multiprocessing.forkserver" in cmd for _, cmd in _marked(marker)) < 2:
        assert proc.poll() is None and time.monotonic() < deadline, "the fresh process never started"
        time.sleep(0.05)
    return proc


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")
def test_a_sigkilled_runlift_leaves_no_fresh_process_behind() -> None:
    marker = _marker()
    proc = _sleeping_parent(marker)
    proc.kill()
    proc.communicate()
    _no_survivors(marker)


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")
def test_ctrl_c_stops_the_fresh_process_at_once() -> None:
    marker = _marker()
    proc = _sleeping_parent(marker)
    t = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert time.monotonic() - t < 10 and proc.returncode != 0
    assert err.strip().splitlines()[-1] == "KeyboardInterrupt"
    _no_survivors(marker)


def _rows(db: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return model_rows(con)
    finally:
        con.close()


def test_a_big_ingest_refreshes_the_models_in_a_fresh_process(tmp_path: Path, fresh_calls: list[str]) -> None:
    here, fresh = tmp_path / "here.duckdb", tmp_path / "fresh.duckdb"
    with pytest.MonkeyPatch.context() as m:
        m.setattr(commands, "FRESH_PROCESS_FILES", 10_000)
        commands.ingest(here, SAMPLE_CONFIG, [SAMPLE])
    assert fresh_calls == []
    summary = commands.ingest(fresh, SAMPLE_CONFIG, [SAMPLE])
    assert summary.new == 52 and fresh_calls == ["refresh"]
    assert_same(_rows(fresh), _rows(here))
    # and the analyst layer shows them
    assert commands.query(fresh, "SELECT count(*) FROM activities")[1] == [(50,)]
    assert commands.ingest(fresh, SAMPLE_CONFIG, [SAMPLE]).new == 0 and fresh_calls == ["refresh"]


def test_a_build_after_a_big_ingest_runs_in_a_fresh_process(tmp_path: Path, fresh_calls: list[str]) -> None:
    here, fresh = tmp_path / "here.duckdb", tmp_path / "fresh.duckdb"
    for db in (here, fresh):
        commands.ingest(db, SAMPLE_CONFIG, [SAMPLE], refresh_models=False)
    expected = commands.build(here, SAMPLE_CONFIG, AS_OF)
    got = commands.build(fresh, SAMPLE_CONFIG, AS_OF, fresh_process=True)
    assert fresh_calls == ["build"]
    assert got.flags == expected.flags and got.as_of == AS_OF and len(got.flags) == 18
    assert got.notices == expected.notices
    assert_same(_rows(fresh), _rows(here))


def test_run_after_a_big_ingest_builds_in_a_fresh_process(tmp_path: Path, fresh_calls: list[str]) -> None:
    db = tmp_path / "run.duckdb"
    result = CliRunner().invoke(app, ["--db", str(db), "--config", str(SAMPLE / "runlift.toml"), "run", str(SAMPLE),
                                      "--as-of", AS_OF.isoformat()], catch_exceptions=False)
    assert result.exit_code == 0 and fresh_calls == ["build"]  # the ingest left its refresh to the build
    assert "ingest: 52 new" in result.output
    assert "build: as of 2026-10-26: 6 errors, 8 warnings, 4 info" in result.output
