"""The model runner on its own: yml checks and the descriptions written into DuckDB."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipeline.errors import ModelError
from pipeline.models import build_models, discover
from pipeline.resources import sql_dir


def _tiny_project(root: Path, yml: str) -> Path:
    (root / "staging").mkdir(parents=True)
    (root / "staging" / "stg_one.sql").write_text("select 1 as a, 'x' as b\n")
    (root / "staging" / "stg_one.yml").write_text(yml)
    return root


def test_a_stray_yml_key_is_refused(tmp_path: Path) -> None:
    # the unquoted comma makes "b, c" a second key of the column mapping
    sql = _tiny_project(tmp_path / "sql", "grain: one row\ncolumns:\n  - {name: a, description: one, two}\n")
    with pytest.raises(ModelError, match="stg_one: unknown yml key 'two'"):
        discover(sql)


def test_descriptions_are_written_into_duckdb(tmp_path: Path) -> None:
    sql = _tiny_project(tmp_path / "sql", "grain: one row\ndescription: The one row.\ncolumns:\n"
                                          "  - {name: a, description: \"It's a.\"}\n  - {name: b}\n")
    con = duckdb.connect()
    build_models(con, discover(sql))
    assert con.execute("SELECT comment FROM duckdb_views() WHERE view_name = 'stg_one'").fetchall() == [
        ("The one row.",)]
    assert con.execute("SELECT column_name, comment FROM duckdb_columns() WHERE table_name = 'stg_one' "
                       "ORDER BY column_index").fetchall() == [("a", "It's a."), ("b", None)]


def test_a_documented_column_the_model_lacks_fails_the_build(tmp_path: Path) -> None:
    sql = _tiny_project(tmp_path / "sql", "grain: one row\ncolumns:\n  - {name: gone, description: Old.}\n")
    with pytest.raises(ModelError, match="stg_one: its yml does not match the model"):
        build_models(duckdb.connect(), discover(sql))


def test_every_column_of_every_analyst_view_is_described(tmp_path: Path) -> None:
    """The docs cannot drift: each mart column has a description in its yml, and so in DuckDB."""
    from pipeline import commands
    from pipeline.config import Config

    db = tmp_path / "docs.duckdb"
    commands.init_db(db, Config())
    marts = [m.name for m in discover(sql_dir()) if m.layer == "marts"]
    con = duckdb.connect(str(db), read_only=True)
    try:
        undocumented = con.execute(
            "SELECT table_name || '.' || column_name FROM duckdb_columns() WHERE schema_name = 'main' "
            f"AND table_name IN ({', '.join('?' for _ in marts)}) AND (comment IS NULL OR comment = '') "
            "ORDER BY 1", marts).fetchall()
        described = con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' "
                                "AND comment IS NOT NULL AND comment <> ''").fetchone()
    finally:
        con.close()
    assert undocumented == []
    assert described is not None and described[0] >= 8
