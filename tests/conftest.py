"""Shared test helpers: where the real-file corpus lives and what its manifest lists."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

# pytest-xdist (``./dev test`` runs two workers): each worker gets its own Prefect home, so two
# temporary Prefect servers never share a settings folder or a SQLite database
# (test modules import this file too: set it once)
if (worker := os.environ.get("PYTEST_XDIST_WORKER")) and os.environ.get("PREFECT_HOME") \
        and not os.environ["PREFECT_HOME"].endswith(f"/{worker}"):
    os.environ["PREFECT_HOME"] = str(Path(os.environ["PREFECT_HOME"]) / worker)
    Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)

# ../shared/corpus relative to the project root; never copied into the repository
# (resolved: ingest stores file names with their folder resolved, and ../shared may be a link)
CORPUS = (Path(__file__).resolve().parents[1].parent / "shared" / "corpus").resolve()


def corpus_rows(format: str | None = None) -> list[dict[str, str]]:
    """MANIFEST.tsv rows (file, format, source_repo, source_path, commit, license, kind, notes),
    optionally only one format; [] when the corpus is absent."""
    manifest = CORPUS / "MANIFEST.tsv"
    if not manifest.is_file():
        return []
    with open(manifest, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [r for r in rows if format is None or r["format"] == format]


@pytest.fixture(scope="session")
def prefect_harness():
    """One temporary Prefect server for every flow test of the session (it takes 12-18 s to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield


@pytest.fixture
def fresh_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every ingest counts as big (pipeline.commands.FRESH_PROCESS_FILES); the names of the
    functions then run in a fresh process, in order."""
    from pipeline import commands, forkserver

    calls: list[str] = []
    real = forkserver.call_in_fresh_process

    def spy(fn, *args):
        calls.append(fn.__name__)
        return real(fn, *args)

    monkeypatch.setattr(commands, "FRESH_PROCESS_FILES", 1)
    monkeypatch.setattr(forkserver, "call_in_fresh_process", spy)
    return calls
