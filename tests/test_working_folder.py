"""runlift runs from any folder: one holding a Python package named like runlift's own (a user's
`pipeline/` of scripts, say) must not be imported by runlift's parse workers instead."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"


def test_an_ingest_from_a_folder_with_its_own_pipeline_package_parses_with_runlifts(tmp_path: Path) -> None:
    (tmp_path / "pipeline").mkdir()
    (tmp_path / "pipeline" / "__init__.py").write_text('raise SystemExit("the folder\'s own pipeline")\n')
    runs = sorted((SAMPLE / "runs").iterdir())
    assert len(runs) >= 3  # enough files for the parse pool (fewer parse in runlift's process)
    db = tmp_path / "x.duckdb"
    runlift = Path(sys.executable).with_name("runlift")
    done = subprocess.run([str(runlift), "--db", str(db), "--config", str(SAMPLE / "runlift.toml"),
                           "ingest", str(SAMPLE / "runs")], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert "own pipeline" not in done.stderr
    with duckdb.connect(str(db), read_only=True) as con:
        logged = dict(con.execute("SELECT status, count(*) FROM ingest_log GROUP BY ALL").fetchall())
    assert logged == {"loaded": len(runs) - 1, "duplicate": 1}  # the sample data holds one run twice
