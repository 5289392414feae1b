"""The SQL model runner: ``sql/{staging,intermediate,marts}/<model>.sql`` in dependency order.

Each model is one SELECT in its own file, named after the view or table it builds. The run
order is derived from the SQL itself (sqlglot finds the tables each model reads), not kept by
hand. A first-line comment ``-- materialized: view|table`` picks how it is built (default:
view in staging, table elsewhere). Each model has a sibling ``<model>.yml`` with its grain,
a description per column and data tests (unique, not_null, accepted_values, relationships)
that run after every build, inside the same transaction: a failing test rolls the whole build
back, so the previous results stay in place.
"""

from __future__ import annotations

import copy
import graphlib
import hashlib
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import yaml

from pipeline.db import scalar, transaction
from pipeline.errors import ModelError
from pipeline.resources import sql_dir

SQL_DIR = sql_dir()
_YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 10x faster
LAYERS = ("staging", "intermediate", "marts")
INTERNAL_SCHEMA = "internal"  # stg_*/int_* live here, so a BI tool's main schema shows only the documented views



@dataclass
class Model:
    name: str
    layer: str
    sql: str
    materialized: str
    grain: str = ""
    unique_key: list[str] = field(default_factory=list)  # the grain's columns
    description: str = ""
    columns: list[dict[str, Any]] = field(default_factory=list)
    depends_on: set[str] = field(default_factory=set)

    @property
    def schema(self) -> str:
        """Staging and intermediate models are internal; the marts are the analyst's views."""
        return "main" if self.layer == "marts" else INTERNAL_SCHEMA

    @property
    def relation(self) -> str:
        return f'{self.schema}."{self.name}"'


def _materialization(sql: str, layer: str) -> str:
    m = re.match(r"\s*--\s*materialized:\s*(view|table)", sql)
    if m:
        return m.group(1)
    return "view" if layer == "staging" else "table"


def _references(sql: str) -> tuple[set[str], set[str]]:
    """(models or tables the SQL reads by bare name, sources it reads: ``raw.*`` and ingest_log)."""
    import sqlglot  # only for discovering the run order (0.3 s to import)
    from sqlglot import exp

    tree = sqlglot.parse_one(sql, read="duckdb")
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    tables = [t for t in tree.find_all(exp.Table) if t.name not in ctes or t.db]
    bare = {t.name for t in tables if not t.db}
    sources = {f"{t.db}.{t.name}" if t.db else t.name for t in tables if t.db == "raw" or t.name == "ingest_log"}
    return bare, sources


_MODEL_KEYS = {"grain", "unique_key", "description", "columns"}
_COLUMN_KEYS = {"name", "description", "tests"}


def _check_meta(name: str, meta: dict[str, Any]) -> None:
    """Unknown keys are refused: in a YAML flow mapping an unquoted comma silently splits a
    description into a stray key, and the docs an analyst reads would lose half a sentence."""
    stray = set(meta) - _MODEL_KEYS
    for col in meta.get("columns", []):
        stray |= set(col) - _COLUMN_KEYS
    if stray:
        raise ModelError(f"model {name}: unknown yml key {sorted(map(str, stray))[0]!r} "
                         "(quote descriptions that contain a comma)")


# parsed models by the hash of every model file's text: parsing the SQL and YAML costs 0.3 s,
# and a process that builds many times (the scheduled sync, the test suite) pays it once
_DISCOVERED: dict[str, list[Model]] = {}


def discover(sql_dir: Path = SQL_DIR) -> list[Model]:
    """All models in run order (dependencies first, then layer, then name)."""
    texts: list[tuple[str, Path, str, str | None]] = []
    for layer in LAYERS:
        for path in sorted((sql_dir / layer).glob("*.sql")):
            meta_path = path.with_suffix(".yml")
            meta_text = meta_path.read_text(encoding="utf-8") if meta_path.exists() else None
            texts.append((layer, path, path.read_text(encoding="utf-8"), meta_text))
    key = hashlib.sha256(repr([(str(p), sql, meta) for _, p, sql, meta in texts]).encode()).hexdigest()
    if key not in _DISCOVERED:
        _DISCOVERED[key] = _parse_models(texts)
    return copy.deepcopy(_DISCOVERED[key])  # callers may annotate their models


def _parse_models(texts: list[tuple[str, Path, str, str | None]]) -> list[Model]:
    models: dict[str, Model] = {}
    for layer, path, sql, meta_text in texts:
        meta = yaml.load(meta_text, Loader=_YamlLoader) if meta_text is not None else {}
        _check_meta(path.stem, meta)
        models[path.stem] = Model(
            name=path.stem, layer=layer, sql=sql, materialized=_materialization(sql, layer),
            grain=meta.get("grain", ""), unique_key=meta.get("unique_key", []),
            description=meta.get("description", ""),
            columns=meta.get("columns", []),
        )
    for m in models.values():
        bare, sources = _references(m.sql)
        m.depends_on = bare & models.keys()
        if sources and m.layer != "staging":  # one place knows the raw layout: staging
            raise ModelError(f"model {m.name} ({m.layer}) reads {sorted(sources)[0]}; only staging models read sources")
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    for m in models.values():
        upward = [d for d in m.depends_on if rank[models[d].layer] > rank[m.layer]]
        if upward:
            raise ModelError(f"model {m.name} ({m.layer}) reads {upward[0]} from a later layer")
    # layers in order; within a layer, dependencies first, then by name
    order: list[str] = []
    for layer in LAYERS:
        names = {n for n, m in models.items() if m.layer == layer}
        sorter = graphlib.TopologicalSorter({n: models[n].depends_on & names for n in names})
        sorter.prepare()
        while sorter.is_active():
            ready = sorted(sorter.get_ready())
            order.extend(ready)
            sorter.done(*ready)
    return [models[n] for n in order]


def models_built(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether a model build has run on this DB (the analyst tables exist)."""
    return bool(scalar(con, "SELECT count(*) FROM information_schema.tables "
                            "WHERE table_schema = 'main' AND table_name = 'activities'"))


def _body(m: Model, internal: set[str]) -> str:
    """The model's SELECT with every internal model it reads qualified by its schema: a view in
    ``main`` must bind for an analyst whose search path is only ``main``."""
    sql = m.sql.strip().rstrip(";")
    if not internal:
        return sql
    names = "|".join(sorted(map(re.escape, internal)))
    return re.sub(rf"(?<![\w.\"])({names})\b", rf"{INTERNAL_SCHEMA}.\1", sql)


Catalog = dict[tuple[str, str], bool]  # (schema, name) -> is a view


def _catalog(con: duckdb.DuckDBPyConnection) -> Catalog:
    rows = con.execute("SELECT table_schema, table_name, table_type = 'VIEW' FROM information_schema.tables").fetchall()
    return {(schema, name): is_view for schema, name, is_view in rows}


def _drop_other_kind(con: duckdb.DuckDBPyConnection, m: Model, catalog: Catalog) -> None:
    """A model that changed from view to table (or back) must drop the old object first.

    ``catalog`` is what existed when the build started; a model's own object is only ever
    replaced by the model itself, so it stays true for the model's turn."""
    is_view = catalog.get((m.schema, m.name))
    if is_view is not None and is_view != (m.materialized == "view"):
        con.execute(f"DROP {'VIEW' if is_view else 'TABLE'} {m.relation} CASCADE")
    if m.schema != "main":  # built in main by an earlier version
        old_is_view = catalog.get(("main", m.name))
        if old_is_view is not None:
            con.execute(f'DROP {"VIEW" if old_is_view else "TABLE"} main."{m.name}" CASCADE')


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _comment(con: duckdb.DuckDBPyConnection, m: Model) -> None:
    """The yml's descriptions, stored in DuckDB itself so every client (a BI tool, the duckdb CLI)
    shows them: ``duckdb_views()``/``duckdb_tables()`` and ``duckdb_columns()``."""
    kind = "VIEW" if m.materialized == "view" else "TABLE"
    try:
        con.execute(f"COMMENT ON {kind} {m.relation} IS {_sql_string(m.description)}")
        for col in m.columns:
            if col.get("description"):
                con.execute(f'COMMENT ON COLUMN {m.relation}."{col["name"]}" IS {_sql_string(col["description"])}')
    except duckdb.Error as err:  # a yml column the model does not have: the docs drifted
        raise ModelError(f"model {m.name}: its yml does not match the model: {err}") from None


def comment_sources(con: duckdb.DuckDBPyConnection, sql_dir: Path = SQL_DIR) -> None:
    """The raw tables' descriptions (``sources.yml``), written into DuckDB like the models'."""
    path = sql_dir / "sources.yml"
    if not path.exists():
        return
    for src in yaml.load(path.read_text(encoding="utf-8"), Loader=_YamlLoader)["sources"]:
        relation = f'{src["schema"]}."{src["name"]}"'
        con.execute(f"COMMENT ON TABLE {relation} IS {_sql_string(src['description'])}")
        for col in src.get("columns", []):
            con.execute(f'COMMENT ON COLUMN {relation}."{col["name"]}" IS {_sql_string(col["description"])}')


def _data_tests(m: Model, relations: dict[str, str]) -> list[tuple[str, str]]:
    """(test name, SQL counting offending rows) for each test in the model's yml."""
    tests = []
    if m.unique_key:
        key = ", ".join(f'"{c}"' for c in m.unique_key)
        tests.append((f"grain({', '.join(m.unique_key)})",
                      f"SELECT count(*) FROM (SELECT {key} FROM {m.relation} GROUP BY {key} HAVING count(*) > 1)"))
    for col in m.columns:
        c = f'"{col["name"]}"'
        for test in col.get("tests", []):
            kind: str
            arg: Any
            kind, arg = (test, None) if isinstance(test, str) else next(iter(test.items()))
            name = f"{kind}({col['name']})"
            if kind == "unique":
                sql = (f"SELECT count(*) FROM (SELECT {c} FROM {m.relation} WHERE {c} IS NOT NULL "
                       f"GROUP BY {c} HAVING count(*) > 1)")
            elif kind == "not_null":
                sql = f"SELECT count(*) FROM {m.relation} WHERE {c} IS NULL"
            elif kind == "accepted_values":
                values = ", ".join("'" + str(v).replace("'", "''") + "'" for v in arg)
                sql = (f"SELECT count(*) FROM {m.relation} "
                       f"WHERE {c} IS NOT NULL AND CAST({c} AS VARCHAR) NOT IN ({values})")
            elif kind == "relationships":
                to, fld = arg["to"], arg["field"]
                to = relations.get(to, to)
                sql = (f"SELECT count(*) FROM {m.relation} WHERE {c} IS NOT NULL "
                       f'AND {c} NOT IN (SELECT "{fld}" FROM {to})')
            else:
                raise ModelError(f"model {m.name}: unknown data test {kind!r}")
            tests.append((name, sql))
    return tests


def run_data_tests(con: duckdb.DuckDBPyConnection, models: list[Model]) -> int:
    count = 0
    relations = {m.name: m.relation for m in models}
    for m in models:
        for name, sql in _data_tests(m, relations):
            bad = scalar(con, sql)
            count += 1
            if bad:
                raise ModelError(f"model {m.name}: data test {name} failed for {bad} row(s)")
    return count


def _create_macros(con: duckdb.DuckDBPyConnection) -> None:
    """SQL functions the models call, built from tables in the repo at every build."""
    from pipeline.quality_titles import macro_sql

    con.execute(macro_sql())


def _load_derived_tables(con: duckdb.DuckDBPyConnection, aliases: Mapping[str, str] | None) -> None:
    """Lookup tables the models join, derived from the raw data and the repo's tables at every
    build (so an edited exercise table reaches sets loaded before the edit)."""
    from pipeline.exercises import load_exercise_names

    try:
        load_exercise_names(con, aliases)
    except ValueError as err:  # a bad row in exercise_map.csv: the message names its line
        raise ModelError(str(err)) from None


def build_models(con: duckdb.DuckDBPyConnection, models: list[Model] | None = None,
                 timings: dict[str, float] | None = None, aliases: Mapping[str, str] | None = None) -> list[Model]:
    """Build every model and run its data tests in one transaction (all or nothing)."""
    with transaction(con):
        return build_models_in_transaction(con, models, timings, aliases)


def build_models_in_transaction(con: duckdb.DuckDBPyConnection, models: list[Model] | None = None,
                                timings: dict[str, float] | None = None,
                                aliases: Mapping[str, str] | None = None) -> list[Model]:
    """The body of :func:`build_models`, for callers that own the transaction (``build``)."""
    models = models if models is not None else discover()
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {INTERNAL_SCHEMA}")
    _create_macros(con)
    _load_derived_tables(con, aliases)
    internal = {m.name for m in models if m.schema != "main"}
    catalog = _catalog(con)
    for m in models:
        t0 = time.perf_counter()
        _drop_other_kind(con, m, catalog)
        kind = "VIEW" if m.materialized == "view" else "TABLE"
        try:
            con.execute(f"CREATE OR REPLACE {kind} {m.relation} AS {_body(m, internal)}")
        except duckdb.Error as err:
            raise ModelError(f"model {m.name} ({m.layer}) failed: {err}") from None
        _comment(con, m)
        if timings is not None:
            timings[m.name] = time.perf_counter() - t0
    t0 = time.perf_counter()
    run_data_tests(con, models)
    if timings is not None:
        timings["(data tests)"] = time.perf_counter() - t0
    return models
