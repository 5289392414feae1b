"""Exercises are classified at every model build, not at load: an edit to the exercise table
(or an alias) reaches sets loaded before it, without re-ingesting."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipeline import commands, exercises
from pipeline.config import Config
from pipeline.exercises import load_exercise_names
from pipeline.models import build_models

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SQUAT_ROW = "^(barbell )?(back )?squats?$,back squat,squat,0\n"


def _ingest(tmp_path: Path, data: bytes) -> Path:
    log = tmp_path / "inbox" / "hevy.csv"
    log.parent.mkdir()
    log.write_bytes(data)
    db = tmp_path / "runlift.duckdb"
    commands.ingest(db, Config(), [log], workers=1)  # builds the models too
    return db


def _classified(con: duckdb.DuckDBPyConnection, relation: str = "main.strength_sets") -> dict[str, tuple]:
    """{logged name: (exercise, is_unilateral, is_plyometric)}."""
    rows = con.execute(f"SELECT DISTINCT exercise_raw, exercise, is_unilateral, is_plyometric FROM {relation}")
    return {raw: tuple(rest) for raw, *rest in rows.fetchall()}


def test_an_edited_exercise_table_reaches_sets_loaded_before_the_edit(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    db = _ingest(tmp_path, (FIXTURES / "hevy_small.csv").read_bytes())
    con = duckdb.connect(str(db))
    try:
        raw_before = con.execute("SELECT * FROM raw.strength_sets ORDER BY ALL").fetchall()
        # the loader keeps the name as logged and no longer classifies
        assert con.execute("SELECT count(*), count(exercise), count(is_unilateral), count(is_plyometric) "
                           "FROM raw.strength_sets").fetchone() == (len(raw_before), 0, 0, 0)
        before = _classified(con)
        assert before["Squat (Barbell)"] == ("back squat", False, False)
        assert before["Bulgarian Split Squat (Dumbbell)"] == ("bulgarian split squat", True, False)
        assert before["Box Jump"] == ("box jump", False, True)

        table = exercises.TABLE_PATH.read_text(encoding="utf-8")
        assert SQUAT_ROW in table
        edited = tmp_path / "exercise_map.csv"
        edited.write_text(table.replace(SQUAT_ROW, "^(barbell )?(back )?squats?$,barbell squat,squat,1\n"),
                          encoding="utf-8")
        monkeypatch.setattr(exercises, "TABLE_PATH", edited)
        build_models(con)

        after = _classified(con)
        assert after["Squat (Barbell)"] == ("barbell squat", True, False)
        assert {k: v for k, v in after.items() if k != "Squat (Barbell)"} == {
            k: v for k, v in before.items() if k != "Squat (Barbell)"}
        assert con.execute("SELECT * FROM raw.strength_sets ORDER BY ALL").fetchall() == raw_before
    finally:
        con.close()


def test_an_alias_classifies_a_made_up_name_as_its_target(tmp_path: Path) -> None:
    data = (FIXTURES / "hevy_small.csv").read_bytes().replace(b"Bulgarian Split Squat (Dumbbell)",
                                                              b"Gorilla Stomp (Dumbbell)")
    db = _ingest(tmp_path, data)
    con = duckdb.connect(str(db))
    try:
        # unknown to the table: its base name, no flags
        assert _classified(con)["Gorilla Stomp (Dumbbell)"] == ("gorilla stomp", False, False)
        # the alias's key is compared normalised (case, "_"/"-"); the logged name stays as logged
        assert load_exercise_names(con, aliases={"gorilla_stomp (DUMBBELL)": "Bulgarian Split Squat"}) == len(
            _classified(con))
        assert _classified(con, "internal.exercise_names")["Gorilla Stomp (Dumbbell)"] == (
            "bulgarian split squat", True, False)
        # a key without the equipment suffix matches too; the target may be a canonical name
        load_exercise_names(con, aliases={"Gorilla Stomp": "box jump"})
        names = _classified(con, "internal.exercise_names")
        assert names["Gorilla Stomp (Dumbbell)"] == ("box jump", False, True)
        assert names["Squat (Barbell)"] == ("back squat", False, False)  # names without an alias unchanged
        staged = _classified(con, "internal.stg_strength_sets")  # a view: reads the table now
        assert staged["Gorilla Stomp (Dumbbell)"] == ("box jump", False, True)
    finally:
        con.close()


def test_a_bad_exercise_table_fails_the_build_with_its_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.errors import ModelError

    bad = tmp_path / "exercise_map.csv"
    bad.write_text("match,canonical,pattern,unilateral\nsquat,squat,squat,2\n", encoding="utf-8")
    monkeypatch.setattr(exercises, "TABLE_PATH", bad)
    with pytest.raises(ModelError, match="exercise_map.csv line 2: flag must be 0 or 1"):
        build_models(duckdb.connect())


def test_config_aliases_reach_the_build_and_an_unknown_target_is_a_one_line_error(tmp_path: Path) -> None:
    from datetime import date

    from pipeline.config import load_config
    from pipeline.errors import ConfigError

    data = (FIXTURES / "hevy_small.csv").read_bytes().replace(b"Bulgarian Split Squat (Dumbbell)",
                                                              b"Gorilla Stomp (Dumbbell)")
    db = _ingest(tmp_path, data)
    cfg = tmp_path / "runlift.toml"
    cfg.write_text('[exercise_aliases]\n"Gorilla Stomp" = "box jump"\n', encoding="utf-8")
    commands.build(db, load_config(cfg), date(2026, 10, 26))
    con = duckdb.connect(str(db))
    try:
        assert _classified(con)["Gorilla Stomp (Dumbbell)"] == ("box jump", False, True)
    finally:
        con.close()
    cfg.write_text('[exercise_aliases]\n"Gorilla Stomp" = "gorilla stomp squat"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"exercise_aliases\.\"Gorilla Stomp\"': unknown exercise "
                                          r"'gorilla stomp squat'"):
        commands.build(db, load_config(cfg), date(2026, 10, 26))
