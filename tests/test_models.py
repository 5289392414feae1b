"""The model runner on its own: yml checks and the descriptions written into DuckDB."""

from __future__ import annotations

import os
import re
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
        main = con.execute("SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = 'main' UNION ALL "
                           "SELECT view_name, comment FROM duckdb_views() WHERE schema_name = 'main' "
                           "AND NOT internal").fetchall()
        internal = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                              "WHERE table_schema = 'internal'").fetchall()}
    finally:
        con.close()
    assert undocumented == []
    # main holds the documented views (each described) and the raw ingest_log; stg_/int_ are internal
    assert {name for name, comment in main if comment} == set(marts) | {"ingest_log"}
    assert {name for name, _ in main} == set(marts) | {"ingest_log"}
    # plus the rules' table, the exercise names classified at build, the ingest's memory of archives
    # and what the last build saw (pipeline.incremental), and what the analyst layer has yet to show
    assert internal == {m.name for m in discover(sql_dir()) if m.layer != "marts"} | {
        "rule_flags", "exercise_names", "known_archives", "known_files", "build_seen", "build_seen_activities",
        "build_seen_sessions", "build_seen_athletes", "publish_owed"}


def test_internal_models_of_an_older_db_leave_main(tmp_path: Path) -> None:
    sql = _tiny_project(tmp_path / "sql", "grain: one row\n")
    con = duckdb.connect()
    con.execute("CREATE VIEW main.stg_one AS SELECT 0 AS a")  # where an earlier version built it
    build_models(con, discover(sql))
    assert con.execute("SELECT schema_name, view_name FROM duckdb_views() WHERE view_name = 'stg_one'").fetchall() == [
        ("internal", "stg_one")]


def _project(root: Path, models: dict[str, tuple[str, str]]) -> Path:
    """Models as {"layer/name": (sql, yml)} in a fresh folder."""
    for key, (sql, yml) in models.items():
        layer, name = key.split("/")
        (root / layer).mkdir(parents=True, exist_ok=True)
        (root / layer / f"{name}.sql").write_text(sql)
        (root / layer / f"{name}.yml").write_text(yml)
    return root


TWO_ROWS = "select * from (values (1, 'a'), (2, 'b')) t(id, kind)"


def test_run_order_follows_the_references_within_and_across_layers(tmp_path: Path) -> None:
    sql = _project(tmp_path / "sql", {
        "staging/stg_b": ("select * from stg_a", "grain: x\n"),
        "staging/stg_a": (TWO_ROWS, "grain: x\n"),
        "intermediate/int_c": ("select * from stg_b", "grain: x\n"),
        "marts/m": ("select * from int_c join stg_a using (id, kind)", "grain: x\n"),
    })
    assert [(m.name, m.schema) for m in discover(sql)] == [
        ("stg_a", "internal"), ("stg_b", "internal"), ("int_c", "internal"), ("m", "main")]
    con = duckdb.connect()
    build_models(con, discover(sql))
    assert con.execute("SELECT id FROM main.m ORDER BY id").fetchall() == [(1,), (2,)]


def test_an_upward_reference_is_refused(tmp_path: Path) -> None:
    sql = _project(tmp_path / "sql", {"staging/stg_a": ("select * from m", "grain: x\n"),
                                      "marts/m": (TWO_ROWS, "grain: x\n")})
    with pytest.raises(ModelError, match="stg_a \\(staging\\) reads m from a later layer"):
        discover(sql)


@pytest.mark.parametrize(("yml", "failure"), [
    ("unique_key: [kind]\n", "grain(kind) failed for 1 row"),
    ("columns:\n  - {name: kind, tests: [unique]}\n", "unique(kind) failed for 1 row"),
    ("columns:\n  - {name: note, tests: [not_null]}\n", "not_null(note) failed for 1 row"),
    ("columns:\n  - {name: kind, tests: [{accepted_values: [b]}]}\n", "accepted_values(kind) failed for 1 row"),
    ("columns:\n  - {name: id, tests: [{relationships: {to: stg_ref, field: id}}]}\n",
     "relationships(id) failed for 1 row"),
])
def test_each_data_test_kind_fails_and_rolls_the_build_back(tmp_path: Path, yml: str, failure: str) -> None:
    rows = "select * from (values (1, 'b', 'x'), (2, 'b', null), (3, 'c', 'y')) t(id, kind, note)"
    sql = _project(tmp_path / "sql", {"staging/stg_ref": ("select 1 as id union all select 2", "grain: x\n"),
                                      "marts/m": (rows, "grain: x\n" + yml)})
    con = duckdb.connect()
    con.execute("CREATE TABLE main.m AS SELECT 'previous build' AS kind")
    with pytest.raises(ModelError, match=f"model m: data test {re.escape(failure)}"):
        build_models(con, discover(sql))
    assert con.execute("SELECT kind FROM main.m").fetchall() == [("previous build",)]  # rolled back


def test_the_real_models_pass_their_own_tests_with_no_data(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "empty.duckdb"))
    from pipeline.db import ensure_schema

    ensure_schema(con)
    models = build_models(con, discover(sql_dir()))
    one_row_or_huge = ("stg_build", "stg_rules", "stg_samples", "samples", "flags")
    assert all(m.unique_key for m in models if m.name not in one_row_or_huge)


def test_only_staging_reads_the_raw_sources(tmp_path: Path) -> None:
    sql = _project(tmp_path / "sql", {"intermediate/int_a": ("select * from raw.activities", "grain: x\n")})
    with pytest.raises(ModelError, match=r"int_a \(intermediate\) reads raw.activities; only staging models read"):
        discover(sql)


def test_every_raw_column_is_described(tmp_path: Path) -> None:
    from pipeline.db import ensure_schema

    con = duckdb.connect()
    ensure_schema(con)
    assert con.execute("SELECT schema_name || '.' || table_name || '.' || column_name FROM duckdb_columns() "
                       "WHERE schema_name IN ('raw', 'main') AND NOT internal AND database_name = current_database() "
                       "AND (comment IS NULL OR comment = '')").fetchall() == []
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'raw' AND comment IS NULL"
                       ).fetchall() == [(0,)]


def test_model_references_are_cached_between_processes(tmp_path: Path) -> None:
    """A second process finds the run order without parsing the SQL (sqlglot never imported)."""
    import subprocess
    import sys

    code = ("import sys; from pipeline.models import discover; order = [m.name for m in discover()]; "
            "print(','.join(order), 'sqlglot' in sys.modules)")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    first, second = (subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                    env=env, cwd=Path(__file__).resolve().parents[1]).stdout.split()
                     for _ in range(2))
    assert (first[1], second[1]) == ("True", "False") and first[0] == second[0]
    assert (tmp_path / "runlift" / "sql-references.json").exists()
