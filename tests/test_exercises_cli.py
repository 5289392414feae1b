"""`runlift exercises [--unknown]` and the build's one line about sets the exercise table does not know."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

from typer.testing import CliRunner

from pipeline.app.cli import app
from pipeline.build import build
from pipeline.exercises import table_exercises
from tests.scenario import Scenario, sets

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
AS_OF = date(2026, 10, 26)
NOTICE_TAIL = ("no pattern in the exercise table; `runlift exercises --unknown` lists them "
               "(alias them in [exercise_aliases])")


def _scenario(tmp_path: Path) -> Scenario:
    """Known sets plus 3 + 2 + 1 sets of two names the table does not know ("Zorp" twice spelled)."""
    sc = Scenario()
    sc.strength("2026-10-06", "18:00", sets=sets("Squat (Barbell)", 3, 5) + sets("Gorilla Stomp", 3, 8))
    sc.strength("2026-10-08", "18:00", sets=sets("Zorp (Dumbbell)", 2, 8) + sets("zorp", 1, 8) + sets("Plank", 2, None))
    sc.run("2026-10-07", "07:00")
    sc.build(tmp_path, AS_OF)
    return sc


def _cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_the_table_needs_no_database(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, text = _cli("exercises", "--format", "json")
    assert code == 0
    listed = json.loads(text)
    assert listed == [dict(zip(["exercise", "pattern", "unilateral", "plyometric", "lower_body"], e, strict=True))
                      for e in table_exercises()]
    assert {"exercise": "bulgarian split squat", "pattern": "single_leg", "unilateral": True, "plyometric": False,
            "lower_body": True} in listed
    code, text = _cli("exercises")
    assert code == 0 and "box jump" in text and "plyometric" in text
    code, text = _cli("exercises", "--format", "csv")
    assert text.splitlines()[0] == "exercise,pattern,unilateral,plyometric,lower_body"
    assert "couch stretch,mobility,False,False,False" in text.splitlines()
    assert not (tmp_path / "runlift.duckdb").exists()


def test_unknown_names_with_their_set_counts_most_first(tmp_path: Path) -> None:
    _scenario(tmp_path).con.close()  # type: ignore[union-attr]
    db = str(tmp_path / "runlift.duckdb")
    code, text = _cli("--db", db, "--config", str(tmp_path / "none.toml"), "exercises", "--unknown")
    assert code != 0  # an explicitly named config that does not exist
    code, text = _cli("--db", db, "exercises", "--unknown", "--format", "json")
    assert code == 0
    assert json.loads(text) == [
        {"exercise": "gorilla stomp", "sets": 3, "logged_as": "Gorilla Stomp"},
        {"exercise": "zorp", "sets": 3, "logged_as": "Zorp (Dumbbell) | zorp"},
    ]
    code, text = _cli("--db", db, "exercises", "--unknown")
    assert code == 0 and "gorilla stomp" in text and "Zorp (Dumbbell) | zorp" in text

    # an alias takes effect at once (read-only: no build needed) and at the next build
    cfg = tmp_path / "runlift.toml"
    cfg.write_text('[exercise_aliases]\n"Zorp" = "step up"\n', encoding="utf-8")
    code, text = _cli("--db", db, "--config", str(cfg), "exercises", "--unknown", "--format", "csv")
    assert text.splitlines() == ["exercise,sets,logged_as", "gorilla stomp,3,Gorilla Stomp"]
    cfg.write_text('[exercise_aliases]\n"Zorp" = "step up"\n"gorilla stomp" = "box jump"\n', encoding="utf-8")
    code, text = _cli("--db", db, "--config", str(cfg), "exercises", "--unknown")
    assert code == 0 and "every logged exercise has a pattern" in text


def test_unknown_without_a_database_is_one_line(tmp_path: Path) -> None:
    missing = subprocess.run([sys.executable, "-m", "pipeline.app.cli", "--db", str(tmp_path / "none.duckdb"),
                              "exercises", "--unknown"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert missing.returncode == 1
    assert missing.stderr == f"runlift: {tmp_path / 'none.duckdb'}: no such database (run `runlift run PATH` first)\n"
    assert not (tmp_path / "none.duckdb").exists()


def test_the_build_names_the_sets_it_could_not_classify(tmp_path: Path) -> None:
    sc = _scenario(tmp_path)
    assert sc.con is not None
    notices = build(sc.con, sc.config, AS_OF).notices
    assert [n for n in notices if "exercise table" in n] == [f"6 logged sets of 2 exercise names have {NOTICE_TAIL}"]
    sc.con.execute("DELETE FROM raw.strength_sets WHERE exercise_raw NOT IN ('Squat (Barbell)', 'zorp')")
    notices = build(sc.con, sc.config, AS_OF).notices
    assert [n for n in notices if "exercise table" in n] == [f"1 logged set of 1 exercise name has {NOTICE_TAIL}"]
    sc.con.execute("DELETE FROM raw.strength_sets WHERE exercise_raw = 'zorp'")
    assert [n for n in build(sc.con, sc.config, AS_OF).notices if "exercise table" in n] == []


def test_aliases_silence_the_notice(tmp_path: Path) -> None:
    from pipeline.config import parse_config

    sc = _scenario(tmp_path)
    assert sc.con is not None
    config = parse_config({"athlete": {"id": "me", "timezone": "Europe/Berlin"},
                           "exercise_aliases": {"Zorp": "step up", "Gorilla Stomp": "box jump"}})
    assert [n for n in build(sc.con, config, AS_OF).notices if "exercise table" in n] == []
    assert sc.query("SELECT DISTINCT exercise_raw, exercise, pattern, is_lower_body FROM strength_sets "
                    "WHERE exercise_raw IN ('zorp', 'Gorilla Stomp') ORDER BY 1") == [
        ("Gorilla Stomp", "box jump", "plyometric", True), ("zorp", "step up", "single_leg", True)]
