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
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import yaml

from pipeline import incremental
from pipeline.db import scalar, transaction
from pipeline.errors import ModelError
from pipeline.publish_owed import owe
from pipeline.resources import sql_dir
from pipeline.user_cache import cache_file, read_cached, write_cached

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
    sources: set[str] = field(default_factory=set)  # raw tables (and ingest_log) it reads itself
    incremental: str = "athlete"  # yml ``incremental: activity``: its rows depend on their activity alone

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


def _cached_references(texts: list[str]) -> list[tuple[set[str], set[str]]]:
    """:func:`_references` of each text, from the cache file where it holds them (parsing the
    models' SQL costs 0.6 s, a third of adding one file to a big DB); keyed by the text itself."""
    path = cache_file("sql-references.json")
    try:
        cache: dict[str, list[list[str]]] = json.loads(read_cached(path) or "{}")
    except ValueError:
        cache = {}
    if not isinstance(cache, dict):  # another version's file, checkouts side by side: start over
        cache = {}
    keys = [hashlib.sha256(t.encode()).hexdigest() for t in texts]
    missing = [(k, t) for k, t in zip(keys, texts, strict=True)
               if not (isinstance(cache.get(k), list) and len(cache[k]) == 2)]
    for key, text in missing:
        bare, sources = _references(text)
        cache[key] = [sorted(bare), sorted(sources)]
    if missing:
        kept = cache if len(cache) <= 1000 else {k: cache[k] for k in keys}  # checkouts side by side share it
        write_cached(path, json.dumps(kept))
    return [(set(cache[k][0]), set(cache[k][1])) for k in keys]


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


_MODEL_KEYS = {"grain", "unique_key", "description", "columns", "incremental"}
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
            columns=meta.get("columns", []), incremental=meta.get("incremental", "athlete"),
        )
        if models[path.stem].incremental not in ("athlete", "activity"):
            raise ModelError(f"model {path.stem}: incremental must be athlete or activity")
    for m, (bare, sources) in zip(models.values(), _cached_references([m.sql for m in models.values()]), strict=True):
        m.depends_on = bare & models.keys()
        m.sources = sources
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


def _data_tests(m: Model, relations: dict[str, str], source: str | None = None) -> list[tuple[str, str]]:
    """(test name, SQL counting offending rows) for each test in the model's yml, over the
    model's relation or ``source`` (the rows an incremental build wrote). The tests of one row
    at a time (not_null, accepted_values) are counts of one scan: ``count(*) FILTER (WHERE ...)``
    over ``_t``, whose FROM the caller adds (:func:`run_data_tests`); the others are subqueries."""
    tests = []
    src = source or m.relation
    if m.unique_key:
        key = ", ".join(f'"{c}"' for c in m.unique_key)
        tests.append((f"grain({', '.join(m.unique_key)})",
                      f"(SELECT count(*) FROM (SELECT {key} FROM {src} GROUP BY {key} HAVING count(*) > 1))"))
    for col in m.columns:
        c = f'"{col["name"]}"'
        for test in col.get("tests", []):
            kind: str
            arg: Any
            kind, arg = (test, None) if isinstance(test, str) else next(iter(test.items()))
            name = f"{kind}({col['name']})"
            if kind == "unique":
                if m.unique_key == [col["name"]]:  # the grain's test is stricter (a null key counts too)
                    continue
                sql = (f"(SELECT count(*) FROM (SELECT {c} FROM {src} WHERE {c} IS NOT NULL "
                       f"GROUP BY {c} HAVING count(*) > 1))")
            elif kind == "not_null":
                sql = f"count(*) FILTER (WHERE _t.{c} IS NULL)"
            elif kind == "accepted_values":
                values = ", ".join("'" + str(v).replace("'", "''") + "'" for v in arg)
                sql = f"count(*) FILTER (WHERE _t.{c} IS NOT NULL AND CAST(_t.{c} AS VARCHAR) NOT IN ({values}))"
            elif kind == "relationships":
                to, fld = arg["to"], arg["field"]
                to = relations.get(to, to)
                sql = (f"(SELECT count(*) FROM {src} WHERE {c} IS NOT NULL "
                       f'AND {c} NOT IN (SELECT "{fld}" FROM {to}))')
            else:
                raise ModelError(f"model {m.name}: unknown data test {kind!r}")
            tests.append((name, sql))
    return tests


def run_data_tests(con: duckdb.DuckDBPyConnection, models: list[Model],
                   sources: dict[str, str] | None = None) -> int:
    """Run the models' data tests; with ``sources``, only those models', each over its source."""
    count = 0
    relations = {m.name: m.relation for m in models}
    for m in models:
        if sources is not None and m.name not in sources:
            continue
        src = sources[m.name] if sources is not None else None
        tests = _data_tests(m, relations, src)
        if not tests:
            continue
        # one statement per model, one scan for the row tests: a statement's (and a scan's) own
        # cost is most of a test's on small scopes
        # (count(*) first: one row, an aggregate, even for a model with subquery tests only)
        row = con.execute("SELECT count(*), " + ", ".join(sql for _, sql in tests) + f" FROM {src or m.relation} AS _t"
                          ).fetchone() or ()
        count += len(tests)
        for (name, _), bad in zip(tests, row[1:], strict=True):
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
                 timings: dict[str, float] | None = None, aliases: Mapping[str, str] | None = None,
                 full: bool = False) -> list[Model]:
    """Build the models (only what changed since the last build unless ``full``; see
    :mod:`pipeline.incremental`) and run their data tests, in one transaction (all or nothing)."""
    with transaction(con):
        return build_models_in_transaction(con, models, timings, aliases, full)


def build_models_in_transaction(con: duckdb.DuckDBPyConnection, models: list[Model] | None = None,
                                timings: dict[str, float] | None = None,
                                aliases: Mapping[str, str] | None = None, full: bool = False) -> list[Model]:
    """The body of :func:`build_models`, for callers that own the transaction (``build``)."""
    return run_models(con, models, timings, aliases, full)[0]


def _model_text(m: Model) -> str:
    return repr((m.name, m.layer, m.sql, m.materialized, m.unique_key, m.description, m.columns, m.incremental))


def run_models(con: duckdb.DuckDBPyConnection, models: list[Model] | None = None,
               timings: dict[str, float] | None = None, aliases: Mapping[str, str] | None = None,
               full: bool = False) -> tuple[list[Model], incremental.Scope | None]:
    """Build the models; returns them and what was recomputed (None: a given list of models, all
    rebuilt). Only the whole project (``models`` None) on the raw layout builds incrementally:
    the build state describes the project's tables."""
    project = models is None
    models = models if models is not None else discover()
    timings = timings if timings is not None else {}
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {INTERNAL_SCHEMA}")
    scope: incremental.Scope | None = None
    if not (project and incremental.has_raw_layout(con)):
        _create_macros(con)
        _load_derived_tables(con, aliases)
        if incremental.has_raw_layout(con):
            incremental.forget(con)
        _build_all(con, models, timings)
    else:
        fp = incremental.fingerprint(con, [_model_text(m) for m in models], aliases)
        catalog = _catalog(con)
        if not all((m.schema, m.name) in catalog for m in models) or (INTERNAL_SCHEMA, "exercise_names") not in catalog:
            full = True
        # the build's temporary tables go with its transaction when it fails
        scope = incremental.plan(con, fp, "SELECT as_of FROM internal.stg_build", full)
        # the macros and lookup tables depend on the fingerprint's files (and the sessions' names):
        # the last build's are still in place when neither changed
        if scope.full:
            _create_macros(con)
        if scope.full or scope.by_kind.get("sessions"):
            _load_derived_tables(con, aliases)
        columns = _build_scoped(con, models, timings, scope, catalog)
        incremental.record(con, fp, "SELECT as_of FROM internal.stg_build")
        if not scope.full:  # the rows this build wrote; the others passed when they were written
            t0 = time.perf_counter()
            written = _written(con, models, scope, columns)
            scope.models = set(written)
            run_data_tests(con, models, written)
            timings["(data tests)"] = time.perf_counter() - t0
        incremental.drop_temp(con, scope)
    if scope is None or scope.full:
        t0 = time.perf_counter()
        run_data_tests(con, models)
        timings["(data tests)"] = time.perf_counter() - t0
    athletes, _, changed = incremental.touched(scope)
    owe(con, athletes, changed)  # committed with the models: the analyst layer shows them next
    return models, scope


def kinds_read(models: list[Model]) -> dict[str, frozenset[str]]:
    """Per model (in run order), the kinds of change that reach it (:func:`incremental.kinds_read`
    of every source it reads, itself or through the models it reads)."""
    sources: dict[str, set[str]] = {}
    for m in models:
        sources[m.name] = set(m.sources).union(*(sources[d] for d in m.depends_on))
    return {name: incremental.kinds_read(read) for name, read in sources.items()}


def _written(con: duckdb.DuckDBPyConnection, models: list[Model], scope: incremental.Scope,
             columns: dict[tuple[str, str], set[str]]) -> dict[str, str]:
    """Per model, the rows of the build's scope as a subquery (a model without a key column: all);
    models the build left alone are not listed."""
    if not scope.athletes and not scope.activities:
        return {}
    kinds = kinds_read(models)
    sources = {}
    for m in models:
        mode = "activity" if m.incremental == "activity" and m.materialized == "table" else "athlete"
        part = incremental.athlete_part(con, scope, kinds[m.name]) if mode == "athlete" else ""
        if (part is None) if mode == "athlete" else not scope.activities:
            continue
        key = incremental.scope_filter(columns.get((m.schema, m.name), set()), mode, part or "")
        if key is None:
            sources[m.name] = m.relation
            continue
        # a view's rows of an activity change only with its raw rows (the samples of one: millions)
        by_activity = mode == "activity" or (m.materialized == "view" and key[0] == "activity_id")
        table = incremental.CHANGED_ACTIVITIES if by_activity else key[1]
        sources[m.name] = f"(SELECT * FROM {m.relation} WHERE {key[0]} IN (SELECT {key[0]} FROM temp.main.{table}))"
    return sources


def _create(con: duckdb.DuckDBPyConnection, m: Model, body: str) -> None:
    kind = "VIEW" if m.materialized == "view" else "TABLE"
    try:
        con.execute(f"CREATE OR REPLACE {kind} {m.relation} AS {body}")
    except duckdb.Error as err:
        raise ModelError(f"model {m.name} ({m.layer}) failed: {err}") from None


def _build_all(con: duckdb.DuckDBPyConnection, models: list[Model], timings: dict[str, float]) -> None:
    """Every model afresh, in one statement each."""
    internal = {m.name for m in models if m.schema != "main"}
    catalog = _catalog(con)
    for m in models:
        t0 = time.perf_counter()
        _drop_other_kind(con, m, catalog)
        _create(con, m, _body(m, internal))
        _comment(con, m)
        timings[m.name] = time.perf_counter() - t0


def _columns(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], set[str]]:
    """The columns of each table and view of the DB file (not the temp ones)."""
    cols: dict[tuple[str, str], set[str]] = {}
    for schema, table, column in con.execute(
            "SELECT schema_name, table_name, column_name FROM duckdb_columns() "
            "WHERE database_name = current_database()").fetchall():
        cols.setdefault((schema, table), set()).add(column)
    return cols


def _scoped_inputs(m: Model, by_name: dict[str, Model], columns: dict[tuple[str, str], set[str]],
                   mode: str, part: str, database: str) -> str:
    """A WITH clause naming each model ``m`` reads after it (a CTE shadows the table of its name
    in the SELECT), holding only the rows of the build's scope; inlined like a view, so the
    filter reaches the scans. Empty when ``m`` reads no model."""
    ctes = []
    for dep in sorted(m.depends_on):
        d = by_name[dep]
        where = incremental.scope_filter(columns.get((d.schema, d.name), set()), mode, part)
        filt = f" WHERE {where[0]} IN (SELECT {where[0]} FROM temp.main.{where[1]})" if where else ""
        # the file's own name: the temp database has a schema main too
        ctes.append(f'"{dep}" AS NOT MATERIALIZED (SELECT * FROM "{database}".{d.relation}{filt})')
    return f"WITH {', '.join(ctes)} " if ctes else ""


def _run_scoped(con: duckdb.DuckDBPyConnection, m: Model, by_name: dict[str, Model],
                columns: dict[tuple[str, str], set[str]], mode: str, create: bool, database: str,
                part: str = "") -> None:
    """Insert (or with ``create``, create the table with) ``m``'s rows of the scope (its athletes:
    scope tables ``part``), its SELECT reading only the scope's rows of its inputs, in one statement."""
    inputs = _scoped_inputs(m, by_name, columns, mode, part, database)
    key = incremental.scope_filter(columns.get((m.schema, m.name), set()) if not create else
                                   {c["name"] for c in m.columns}, mode, part)
    body = m.sql.strip().rstrip(";")
    filt = f" WHERE {key[0]} IN (SELECT {key[0]} FROM temp.main.{key[1]})" if key else ""
    try:
        if create:
            con.execute(f"CREATE OR REPLACE TABLE {m.relation} AS {inputs}SELECT * FROM ({body}) AS _m{filt}")
        else:
            con.execute(f"INSERT INTO {m.relation} {inputs}SELECT * FROM ({body}) AS _m{filt}")
    except duckdb.Error as err:
        raise ModelError(f"model {m.name} ({m.layer}) failed: {err}") from None


def _delete_scope(con: duckdb.DuckDBPyConnection, m: Model, columns: dict[tuple[str, str], set[str]],
                  mode: str, part: str = "") -> None:
    key = incremental.scope_filter(columns.get((m.schema, m.name), set()), mode, part)
    if key is None:  # a table no scope can split (none in the project): all of it is the scope
        con.execute(f"DELETE FROM {m.relation}")
        return
    scope_table = incremental.CHANGED_ACTIVITIES if mode == "activity" else key[1]
    con.execute(f"DELETE FROM {m.relation} WHERE {key[0]} IN (SELECT {key[0]} FROM temp.main.{scope_table})")


def _chunked(models: list[Model], per_activity: list[Model]) -> list[Model]:
    """The per-activity models built in chunks of activities: those that read the samples (their
    scans are what a build's memory would otherwise grow with) and what they read; the others
    run once over every changed activity (a statement per chunk costs more than their rows)."""
    by_name = {m.name: m for m in models}
    reads_samples: dict[str, bool] = {}
    for m in models:
        reads_samples[m.name] = "raw.samples" in m.sources or any(reads_samples[d] for d in m.depends_on)
    chunked = {m.name for m in per_activity if reads_samples[m.name]}
    for m in reversed(per_activity):
        if m.name in chunked:
            chunked |= {d for d in m.depends_on if by_name[d] in per_activity}
    return [m for m in per_activity if m.name in chunked]


def _build_scoped(con: duckdb.DuckDBPyConnection, models: list[Model], timings: dict[str, float],
                  scope: incremental.Scope, catalog: Catalog) -> dict[tuple[str, str], set[str]]:
    """The project's build: views and the per-athlete tables afresh when ``scope.full``, else only
    the scope's rows replaced, each table for the athletes the kinds of change it reads touched;
    the per-activity tables for the changed activities (those over samples in chunks, either way).
    Returns the columns of every table and view as they were before it ran (:func:`_columns`), which
    an incremental build keeps (a full one may change them; :func:`_written` is for incremental ones)."""
    by_name = {m.name: m for m in models}
    database = scalar(con, "SELECT current_database()")
    per_activity = [m for m in models if m.incremental == "activity" and m.materialized == "table"]
    for m in per_activity:
        later = [d for d in m.depends_on if by_name[d].materialized == "table" and by_name[d] not in per_activity]
        if later:
            raise ModelError(f"model {m.name} is incremental by activity but reads {later[0]}, built per athlete")
    chunked = _chunked(models, per_activity)
    internal = {m.name for m in models if m.schema != "main"}
    if scope.full:
        for m in models:
            if m.materialized == "view":
                t0 = time.perf_counter()
                _drop_other_kind(con, m, catalog)
                _create(con, m, _body(m, internal))
                _comment(con, m)
                timings[m.name] = time.perf_counter() - t0
    columns = _columns(con)
    if not scope.full and scope.activities:
        for m in per_activity:
            _delete_scope(con, m, columns, "activity")
    for chunk in range(incremental.chunks(con) if (scope.activities or scope.full) else 0):
        incremental.select_chunk(con, chunk)
        for m in chunked:
            t0 = time.perf_counter()
            create = scope.full and chunk == 0
            if create:
                _drop_other_kind(con, m, catalog)
            _run_scoped(con, m, by_name, columns, "activity", create, database)
            timings[m.name] = timings.get(m.name, 0.0) + time.perf_counter() - t0
    if scope.full:
        for m in chunked:
            _comment(con, m)
    elif scope.activities:
        incremental.select_chunk(con, None)
    kinds = kinds_read(models)
    if scope.full:  # the chunked tables are new
        columns = _columns(con)
    for m in models:
        if m.materialized == "view" or m in chunked:
            continue
        t0 = time.perf_counter()
        if scope.full:
            _drop_other_kind(con, m, catalog)
            _create(con, m, _body(m, internal))
            _comment(con, m)
        elif m in per_activity:
            if scope.activities:
                _run_scoped(con, m, by_name, columns, "activity", False, database)
        else:
            part = incremental.athlete_part(con, scope, kinds[m.name])
            if part is not None:
                _delete_scope(con, m, columns, "athlete", part)
                _run_scoped(con, m, by_name, columns, "athlete", False, database, part)
        timings[m.name] = time.perf_counter() - t0
    return columns
