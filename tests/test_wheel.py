"""The installed package works on its own: build the wheel, install it into a fresh venv with the
locked dependency versions, and run the demo from an empty folder (no checkout on the path)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UV = Path(sys.executable).with_name("uv")


def _run(*cmd: str | Path, cwd: Path = ROOT, env: dict[str, str] | None = None) -> str:
    done = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{cmd[0]} failed: {done.stderr[-2000:]}"
    return done.stdout


@pytest.mark.skipif(not UV.exists(), reason="uv is installed into .venv by ./dev")
def test_the_wheel_runs_the_demo_from_an_empty_folder(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    _run(UV, "build", "--wheel", "-q", "-o", dist)
    wheel = next(dist.glob("runlift-*.whl"))
    locked = tmp_path / "requirements.txt"
    locked.write_text(_run(UV, "export", "--frozen", "--no-hashes", "--no-emit-project", "--no-dev", "-q"))
    venv = tmp_path / "venv"
    _run(UV, "venv", "-q", "--python", sys.executable, venv)
    _run(UV, "pip", "install", "-q", "--python", venv / "bin" / "python", "-r", locked, wheel)

    empty = tmp_path / "empty"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PREFECT_API_URL")}
    out = _run(venv / "bin" / "runlift", "demo", "here", cwd=empty, env=env)
    assert "build: as of 2026-10-26: 6 errors, 8 warnings, 4 info" in out
    assert (empty / "here" / "reports" / "me-2026-W38.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    flags = json.loads(_run(venv / "bin" / "runlift", "--db", empty / "here" / "runlift.duckdb", "flags",
                            "--format", "json", cwd=empty, env=env))
    assert flags == json.loads((ROOT / "tests" / "snapshots" / "demo_flags.json").read_text(encoding="utf-8"))
    # the installed runlift read its SQL and sample data from the package, not from this checkout
    site = _run(venv / "bin" / "python", "-c", "import pipeline.resources as r; print(r.sql_dir(), r.sample_dir())",
                cwd=empty, env=env)
    assert str(ROOT) not in site and "_data" in site
    shutil.rmtree(venv)
