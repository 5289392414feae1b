"""The analyst layer: every documented view as Parquet partitions, and a small catalog over them.

``x.duckdb`` publishes ``x.analyst/<view>/athlete=<id>/year=<yyyy>/data.parquet`` (samples per
month too, ``.../year=<yyyy>/month=<mm>/``: a new run rewrites a month of them, not a year; per
athlete only for views without a date, one ``data.parquet`` for views without an athlete) and the
catalog ``x.analyst.duckdb``: views with the live names, columns and comments over the Parquet
files, in an older storage format, so `runlift sql`, the DuckDB CLI, pandas or polars read it
while the writer runs, and the live DB is never copied whole.

Only what changed is written: each partition's content hash (row count and the sum of its
rows' hashes) is kept in ``manifest.json``; a partition whose hash is unchanged is not touched.
A partition's content is written once, to a file named by its hash in ``x.analyst/.store/``
that never changes; the tree above is hard links to the current files, each made beside its
place and renamed over it (``os.replace``), so a tool reading the tree opens the old file or the
new one, never a half-written one. The catalog lists the store's files and is itself renamed
into place: DuckDB reads a Parquet file's footer and its data through separate opens of its
path, so a file renamed over another can hand a DuckDB reader the old footer with the new data
(2.0.1 does, under load); files that never change make each catalog a consistent snapshot. A
stored file no catalog lists any more is kept :data:`RETIRED_KEPT_S` for the connections still
reading an older catalog, then deleted. Each view also has a zero-row schema file, so it lists
a file when it has no rows.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from pipeline.models import SQL_DIR
from pipeline.publish_owed import owed, settle

NULL_KEY = "__HIVE_DEFAULT_PARTITION__"  # Hive's (and pyarrow's) name for a null partition value
DATA_FILE = "data.parquet"
SCHEMA_FILE = "_schema.parquet"  # pyarrow datasets skip files starting with "_"
STORE = ".store"  # the files the catalog reads, each named by its content (pyarrow skips "." too)
# A stored file that no catalog lists any more stays this long for connections on an older one.
RETIRED_KEPT_S = 3600.0
MANIFEST = "manifest.json"
MANIFEST_VERSION = 2  # 2: the catalog reads .store/ (1: it globbed the tree, renamed over in place)
# The catalog is written in DuckDB 1.4's storage format (version 67): the current DuckDB CLI (1.5)
# and the previous minor release (1.4) both open it; the live DB is in DuckDB 2.0's own format.
CATALOG_STORAGE_VERSION = "v1.4.0"
CATALOG_ALIAS = "runlift_analyst_catalog"
# The catalog's documented views read views of their stored files in this schema: a publish that
# changed files replaces those only, in a copy of a template holding the rest (the comments took
# 90 % of writing the catalog, ~3 ms each), made anew when the views' columns or comments change.
FILES_SCHEMA = "_files"  # views named "<view>_files": a view's name stays unique across schemas
TEMPLATE = ".catalog-template.duckdb"
# Up to this many changed partitions of a view are written a COPY each: ten years of samples this
# way took 11.7 s and 206 MB, one partitioned COPY under the limit 39 s and 393 MB (2 busy cores)
FEW_PARTITIONS = 16
# zstd, not DuckDB's default snappy: ten years of one runner take 75 MB instead of 273 MB beside a
# 265 MB DB, in the same publish time, and read as fast (every Parquet reader decodes it)
PARQUET = "FORMAT parquet, COMPRESSION zstd"
# Views beyond the marts that the README lists for analysts.
EXTRA_VIEWS = (("main", "ingest_log"), ("raw", "build_state"))
# Views without athlete_id get theirs (and their year) from the row they belong to.
PARENTS = {"activity_id": "activities", "session_id": "strength_sessions"}
DATE_COLUMNS = ("local_date", "date")
# A sample is stored once, with its activity, and never changed (an activity id is its file's
# content hash), and the writer counts an activity's samples into raw.activities.n_samples in the
# same transaction: a samples partition is known by its activities' ids and counts, read from the
# activities alone (the rows stg_samples shows: those of activities that are not duplicates),
# where counting ten million samples took most of a one-new-file publish.
KNOWN_BY_COUNT = {"samples": "SELECT activity_id AS _key, CAST(n_samples AS BIGINT) AS n FROM raw.activities "
                             "WHERE duplicate_of IS NULL AND n_samples > 0"}
# Views whose rows change without the build's models touching an athlete, looked at in full at
# every publish: the log of every file ingested, and the flags (an ingest refreshes the models of
# what it loaded; the next build's rules judge it, with nothing left for its models to touch).
LOOKED_AT_IN_FULL = {"ingest_log", "flags"}


def analyst_dir(db: Path | str) -> Path:
    """The Parquet folder of ``db`` (``x.duckdb`` -> ``x.analyst/``)."""
    db = Path(db)
    return db.with_name(f"{db.stem}.analyst")


def catalog_path(db: Path | str) -> Path:
    """The analysts' catalog of ``db`` (``x.duckdb`` -> ``x.analyst.duckdb``)."""
    db = Path(db)
    return db.with_name(f"{db.stem}.analyst{db.suffix or '.duckdb'}")


@dataclass(frozen=True)
class View:
    """One published view and how its rows are keyed to partitions."""

    schema: str
    name: str
    columns: list[tuple[str, str]]  # (name, DuckDB type) as in the live DB
    source: str  # FROM clause; the view's rows are ``v``
    athlete: str | None  # SQL of the athlete key, None: not partitioned
    year: str | None  # SQL of the folders below the athlete's ("year=2026"), None: per athlete only
    stored: bool  # a table (a materialized model's computed values), not a view over stored rows
    parent: tuple[str, str] | None = None  # (key column, view) the keys come from, joined as ``p``

    @property
    def relation(self) -> str:
        return f"{_ident(self.schema)}.{_ident(self.name)}"

    @property
    def folder(self) -> str:
        return self.name if self.schema == "main" else f"{self.schema}.{self.name}"

    @property
    def signature(self) -> str:
        return _digest(json.dumps([self.columns, self.athlete, self.year]))

    def stored_file(self, rel: str, content: str) -> str:
        """The store's file (below the root) of partition ``rel`` with content hash ``content``."""
        parent = rel.rpartition("/")[0]
        name = f"part-{_digest(self.signature + rel + content)[:16]}.parquet"
        return "/".join(part for part in (STORE, self.folder, parent, name) if part)

    @property
    def stored_schema(self) -> str:
        return f"{STORE}/{self.folder}/_schema-{self.signature[:16]}.parquet"

    def rel_path(self, athlete: str | None, year: str | None) -> str:
        if self.athlete is None:
            return DATA_FILE
        return f"athlete={athlete or NULL_KEY}/" + (f"{year}/" if self.year is not None else "") + DATA_FILE


@dataclass
class PublishResult:
    written: list[Path]  # partitions (re)written
    removed: list[Path]  # partitions whose rows are gone
    unchanged: int  # partitions looked at and left alone
    catalog_written: bool
    views: list[str] = field(default_factory=list)  # the views looked at (their folders)


def published_views(con: duckdb.DuckDBPyConnection) -> list[View]:
    """The marts (main schema) plus :data:`EXTRA_VIEWS`, with their partition keys."""
    # the marts' names from their files: parsing the models (pipeline.models.discover) costs seconds
    names = [("main", p.stem) for p in sorted((SQL_DIR / "marts").glob("*.sql"))] + list(EXTRA_VIEWS)
    rows = con.execute("SELECT schema_name, table_name, column_name, data_type FROM duckdb_columns() "
                       "WHERE database_name = current_database() ORDER BY column_index").fetchall()
    columns: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, table, column, kind in rows:
        columns.setdefault((schema, table), []).append((column, kind))
    tables = set(con.execute("SELECT schema_name, table_name FROM duckdb_tables() "
                             "WHERE database_name = current_database()").fetchall())
    views = []
    for schema, name in names:
        cols = columns.get((schema, name))
        if cols:  # a DB built by an older version may lack one
            views.append(_keyed(schema, name, cols, (schema, name) in tables))
    return views


def _keyed(schema: str, name: str, cols: list[tuple[str, str]], stored: bool) -> View:
    names = [c for c, _ in cols]
    source = f"{_ident(schema)}.{_ident(name)} AS v"
    key = None if "athlete_id" in names else next((k for k in PARENTS if k in names), None)
    if key is not None:
        # a left join: a row whose parent is missing still gets published (in the null partition)
        source += f" LEFT JOIN main.{_ident(PARENTS[key])} AS p ON p.{key} = v.{key}"
        # the parent's athlete and year (and month, for samples: a new run rewrites a month of them)
        folders = (f"strftime(p.local_date, 'year=%Y/month=%m'), 'year={NULL_KEY}/month={NULL_KEY}'"
                   if name in KNOWN_BY_COUNT else f"'year=' || year(p.local_date), 'year={NULL_KEY}'")
        return View(schema, name, cols, source, "p.athlete_id", f"coalesce({folders})", stored, (key, PARENTS[key]))
    if "athlete_id" not in names:
        return View(schema, name, cols, source, None, None, stored)
    date = next((c for c in DATE_COLUMNS if c in names), None)
    if name == "ingest_log":  # a log, not dated data: per athlete only
        year = None
    elif date is not None:
        year = f"coalesce('year=' || year(v.{_ident(date)}), 'year={NULL_KEY}')"
    elif "iso_week" in names:
        year = f"coalesce('year=' || left(v.iso_week, 4), 'year={NULL_KEY}')"
    else:
        year = None
    return View(schema, name, cols, source, "v.athlete_id", year, stored)


def publish(con: duckdb.DuckDBPyConnection, db: Path | str, athletes: set[str] | None = None,
            models: Collection[str] | None = None) -> PublishResult:
    """Publish the analyst layer of ``db`` from ``con`` (its writer).

    ``athletes`` None looks at every partition (a full build); a set looks only at those
    athletes' partitions (and the rows without an athlete), which is what an incremental build
    changed. ``models`` None looks at every view; a collection only at the marts among those
    models (the ones an incremental build recomputed: the others' rows are as published) and at
    the views that are not models. Either way a partition is rewritten only when its content hash
    changed, and a partition whose rows are gone is removed; a view with new columns is written
    anew. What an earlier publish failed to show (:mod:`pipeline.publish_owed`) is looked at too."""
    athletes, models = owed(con, athletes, models)  # and what an earlier, failed publish left
    root = analyst_dir(db).resolve()  # the catalog's paths are absolute: it opens from any folder
    root.mkdir(parents=True, exist_ok=True)
    _drop_legacy_snapshot(Path(db))
    manifest = _read_manifest(root)
    staging = root / ".staging"
    shutil.rmtree(staging, ignore_errors=True)  # a publish killed half-way
    result = PublishResult([], [], 0, False)
    # the write connection's memory limit (pipeline.db) holds here too: a partitioned COPY of ten
    # years of samples otherwise holds 1.2 GB; under it DuckDB flushes and the hash aggregates spill
    _publish(con, db, root, athletes, models, manifest, staging, result)
    settle(con)
    return result


def _publish(con: duckdb.DuckDBPyConnection, db: Path | str, root: Path, athletes: set[str] | None,
             models: Collection[str] | None, manifest: dict[str, Any], staging: Path,
             result: PublishResult) -> None:
    views = published_views(con)
    entries: dict[str, dict[str, Any]] = manifest.setdefault("views", {})
    gone = set(entries) - {v.folder for v in views}  # views no longer published
    try:
        for view in views:
            known = entries.get(view.folder)
            fresh = known is None or known.get("signature") != view.signature
            # new columns: every partition anew
            entry = {"signature": view.signature, "partitions": {}} if fresh or known is None else known
            scope = None if view.name in LOOKED_AT_IN_FULL else athletes
            if known is not None and not fresh and (
                    (scope is not None and not scope and view.athlete is not None)  # no athlete's rows changed
                    or (models is not None and _is_model(view) and view.name not in models)):  # nor the view's
                continue
            result.views.append(view.folder)
            entries[view.folder] = _publish_view(con, root, view, scope, entry, fresh, staging, result)
        for folder in gone:
            shutil.rmtree(root / folder, ignore_errors=True)  # its stored files are retired below
            del entries[folder]
        # the catalog's shape (its template) is made of the views' columns (their Parquet types
        # follow from them in a DuckDB version) and the comments; the catalog, of its shape, the
        # folder (its paths are absolute) and the files it lists: when none changed, it is not
        # rewritten. A moved or copied folder rewrites the catalog, not the template.
        comments = _comments(con)
        listed = {v.folder: _listed(v, entries[v.folder]["partitions"]) for v in views}
        shape = _digest(json.dumps([duckdb.__version__, [(v.schema, v.name, v.columns) for v in views],
                                    sorted((repr(k), c) for k, c in comments.items())]))
        made_of = _digest(json.dumps([str(root), shape, listed]))
        if manifest.get("catalog") != made_of or not catalog_path(db).exists():
            files = _files_sql(root, views, listed)

            def new_template() -> None:
                _write_catalog(con, root / TEMPLATE, files + ";\n" + _catalog_sql(con, root, views, comments))
                manifest["catalog_shape"] = shape

            if manifest.get("catalog_shape") != shape or not (root / TEMPLATE).exists():
                new_template()
            try:
                _write_catalog(con, catalog_path(db), files, start_from=root / TEMPLATE)
            except duckdb.Error:  # a template that does not open (a damaged disk, an edit): made anew
                new_template()
                _write_catalog(con, catalog_path(db), files, start_from=root / TEMPLATE)
            manifest["catalog"] = made_of
            result.catalog_written = True
        # only now that the catalog in place lists none of them: a publish that failed before
        # left the old catalog, whose files start their hour when a new one replaces it
        retired = manifest.setdefault("retired", {})
        for folder in {*result.views, *gone}:
            _retire(root, folder, set(listed.get(folder, ())), retired)
        _sweep(root, retired)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        _write_manifest(root, manifest)


def _is_model(view: View) -> bool:
    """A mart whose rows change only when its model is recomputed: not the flags (the rules'),
    nor ingest_log or the build state (raw tables)."""
    return view.schema == "main" and (view.schema, view.name) not in EXTRA_VIEWS and view.name not in LOOKED_AT_IN_FULL


def _publish_view(con: duckdb.DuckDBPyConnection, root: Path, view: View, athletes: set[str] | None,
                  entry: dict[str, Any], fresh: bool, staging: Path, result: PublishResult) -> dict[str, Any]:
    folder = root / view.folder
    old: dict[str, str] = dict(entry["partitions"])
    if fresh:  # every partition must get the new columns, whoever the build touched
        athletes = None
    stored_schema = root / view.stored_schema
    if not stored_schema.exists():
        stored_schema.parent.mkdir(parents=True, exist_ok=True)
        _copy(con, f"SELECT {_columns(view)} FROM {view.relation} LIMIT 0", stored_schema)
    if fresh or not (folder / SCHEMA_FILE).exists():
        _link(stored_schema, folder / SCHEMA_FILE)
    keyed = _keyed_query(view, athletes)
    hashes = {view.rel_path(a, y): f"{n}:{h}" for a, y, n, h in con.execute(_hash_query(view, athletes)).fetchall()}
    in_scope = {p for p in _files(folder) if _in_scope(p, athletes)}
    stored = {p: root / view.stored_file(p, h) for p, h in hashes.items()}
    changed = {p: stored[p] for p, h in hashes.items()
               if old.get(p) != h or not (folder / p).exists() or not stored[p].exists()}
    if changed:
        _write_partitions(con, folder, view, keyed, changed, staging / view.folder, result)
    result.unchanged += len(hashes) - len(changed)
    for rel in sorted(in_scope - set(hashes)):
        _remove(folder, rel)
        result.removed.append(folder / rel)
    partitions = {p: h for p, h in old.items() if not _in_scope(p, athletes)} | hashes
    return {"signature": view.signature, "partitions": partitions}


def _hash_query(view: View, athletes: set[str] | None) -> str:
    """Each partition's row count and the sum of its rows' hashes. Rows keyed through a parent
    (a sample through its activity) are summed per parent first: joining the few sums is cheaper
    than joining every sample."""
    if view.parent is None:
        keyed = _keyed_query(view, athletes)
        return (f"SELECT _k_athlete, _k_year, count(*), sum(hash(row({_hashed(view, 'k')}))) "
                f"FROM ({keyed}) AS k GROUP BY ALL")
    key, parent = view.parent
    if view.name in KNOWN_BY_COUNT:
        sums = f"SELECT _key, n, hash(_key, n)::HUGEINT AS h FROM ({KNOWN_BY_COUNT[view.name]}) AS c"
    else:
        sums = (f"SELECT v.{_ident(key)} AS _key, count(*) AS n, sum(hash(row({_hashed(view, 'v')}))) AS h "
                f"FROM {view.relation} AS v GROUP BY v.{_ident(key)}")
    keys = (f"SELECT coalesce({view.athlete}, '') AS _k_athlete, {view.year} AS _k_year, n, h "
            f"FROM ({sums}) AS s LEFT JOIN main.{_ident(parent)} AS p ON p.{_ident(key)} = s._key "
            f"{_athlete_filter(view, athletes)}")
    return f"SELECT _k_athlete, _k_year, sum(n), sum(h) FROM ({keys}) AS k GROUP BY ALL"


def _hashed(view: View, alias: str) -> str:
    """The columns a partition's hash is taken over. Floating-point sums come out of a parallel
    model run different in the last bits from one build to the next: a table's (a model's
    computed values) are rounded, so they do not make an unchanged partition look changed; a
    view's are the stored values and are hashed as they are (rounding 10 M samples costs)."""
    return ", ".join(f"round({alias}.{_ident(c)}, 6)" if view.stored and t in ("DOUBLE", "FLOAT")
                     else f"{alias}.{_ident(c)}" for c, t in view.columns)


def _keyed_query(view: View, athletes: set[str] | None) -> str:
    """The view's rows with their partition keys ``_k_athlete`` ('' for null) and ``_k_year`` (the
    folders below the athlete's), kept to the athletes asked for."""
    athlete = f"coalesce({view.athlete}, '')" if view.athlete else "''"
    year = view.year or "''"
    keyed = f"SELECT {_columns(view, 'v')}, {athlete} AS _k_athlete, {year} AS _k_year FROM {view.source}"
    return keyed + " " + _athlete_filter(view, athletes)


def _athlete_filter(view: View, athletes: set[str] | None) -> str:
    """The WHERE clause keeping the athletes asked for (and the rows without one), on the view's
    own athlete column, so DuckDB filters in the scan (a club's other athletes are never hashed)."""
    if athletes is None or view.athlete is None:
        return ""
    listed = ", ".join(_sql_string(a) for a in sorted(athletes))
    return f"WHERE ({view.athlete} IN ({listed or 'NULL'}) OR {view.athlete} IS NULL)"


def _write_partitions(con: duckdb.DuckDBPyConnection, folder: Path, view: View, keyed: str,
                      changed: dict[str, Path], staging: Path, result: PublishResult) -> None:
    """Write each changed partition to its stored file (unless a file of the same content is
    still there) and link it into the tree: a COPY each when they are few (what a build of new
    files changes), else one partitioned COPY into ``staging`` (a first publish of many
    athletes), which scans the view once but holds a buffer per open partition."""
    for rel, stored in sorted(changed.items()):
        if stored.exists():
            _link(stored, folder / rel)
            result.written.append(folder / rel)
    by_key = {_key(view, rel): rel for rel, stored in changed.items() if not stored.exists()}
    if len(by_key) <= FEW_PARTITIONS:
        for (athlete, year), rel in sorted(by_key.items()):
            changed[rel].parent.mkdir(parents=True, exist_ok=True)
            _copy(con, _parents_in(view, athlete, year) or
                  f"SELECT * EXCLUDE (_k_athlete, _k_year) FROM ({keyed}) AS k WHERE _k_athlete = "
                  f"{_sql_string(athlete)} AND _k_year = {_sql_string(year)}", changed[rel])
            _link(changed[rel], folder / rel)
            result.written.append(folder / rel)
        return
    # staged by the partition's number: a key's characters never reach a folder name DuckDB makes
    keys = sorted(by_key)
    pairs = ", ".join(f"({_sql_string(a)}, {_sql_string(y)}, {i})" for i, (a, y) in enumerate(keys))
    filtered = (f"SELECT k.* EXCLUDE (_k_athlete, _k_year), c.i AS _k_i FROM ({keyed}) AS k "
                f"JOIN (VALUES {pairs}) AS c(a, y, i) ON k._k_athlete = c.a AND k._k_year = c.y")
    staging.parent.mkdir(parents=True, exist_ok=True)
    # DuckDB's own limit of open partitions (100) stays: ten years of samples (120 months) took
    # 1.7x as long with a file open for each, at the same peak RSS
    con.execute(f"COPY ({filtered}) TO '{_sql_path(staging)}' ({PARQUET}, PARTITION_BY (_k_i))")
    for i, key in enumerate(keys):
        rel = by_key[key]
        parts = sorted((staging / f"_k_i={i}").glob("*.parquet"))
        stored = changed[rel]
        stored.parent.mkdir(parents=True, exist_ok=True)
        if len(parts) == 1:
            os.replace(parts[0], stored)
        else:  # a partition flushed in pieces (many open partitions): one file again
            listed = ", ".join(f"'{_sql_path(p)}'" for p in parts)
            _copy(con, f"SELECT * FROM read_parquet([{listed}])", stored)
        _link(stored, folder / rel)
        result.written.append(folder / rel)


def _parents_in(view: View, athlete: str, year: str) -> str | None:
    """For rows keyed through a parent, one partition's rows as those whose parent has its keys (a
    semi-join, no join): DuckDB then reads one month's samples, not every sample joined to its
    activity. None for the other views and for rows without a parent."""
    if view.parent is None or not athlete:
        return None
    key, parent = view.parent
    return (f"SELECT {_columns(view, 'v')} FROM {view.relation} AS v WHERE v.{_ident(key)} IN "
            f"(SELECT p.{_ident(key)} FROM main.{_ident(parent)} AS p "
            f"WHERE p.athlete_id = {_sql_string(athlete)} AND {view.year} = {_sql_string(year)})")


def _key(view: View, rel: str) -> tuple[str, str]:
    """(``_k_athlete``, ``_k_year``) of a partition's path."""
    folders = rel.split("/")[:-1]
    if not folders:
        return "", ""
    athlete = folders[0].removeprefix("athlete=")
    return ("" if athlete == NULL_KEY else athlete), "/".join(folders[1:])


def _in_scope(rel: str, athletes: set[str] | None) -> bool:
    if athletes is None or not rel.startswith("athlete="):
        return True
    athlete = rel.split("/", 1)[0].removeprefix("athlete=")
    return athlete in athletes or athlete == NULL_KEY


def _listed(view: View, partitions: dict[str, str]) -> list[str]:
    """The stored files (below the root) the catalog lists for a view: its schema file first."""
    return [view.stored_schema] + sorted(view.stored_file(rel, content) for rel, content in partitions.items())


def _retire(root: Path, folder: str, listed: set[str], retired: dict[str, float]) -> None:
    """Note when each stored file of a view's ``folder`` that the catalog does not list was first
    found so (a file listed again, a partition back to an earlier content, is not retired any more)."""
    now = time.time()
    for path in (root / STORE / folder).rglob("*"):
        rel = path.relative_to(root).as_posix()
        if rel in listed:
            retired.pop(rel, None)
        elif path.is_file():
            retired.setdefault(rel, now)


def _sweep(root: Path, retired: dict[str, float]) -> None:
    """Delete the retired files older than :data:`RETIRED_KEPT_S`, with the folders they leave empty."""
    now = time.time()
    for rel, since in sorted(retired.items()):
        if now - since >= RETIRED_KEPT_S or not (root / rel).exists():
            _remove(root / STORE, rel.removeprefix(f"{STORE}/"))
            del retired[rel]


def _link(stored: Path, target: Path) -> None:
    """Make ``target`` a hard link to ``stored`` (a copy where the file system has no hard links:
    FAT, many network mounts), made beside it and renamed into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and os.path.samefile(stored, target):
        return  # renaming a link over another of the same file would do nothing and leave ``tmp``
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(stored, tmp)
    except OSError:
        shutil.copyfile(stored, tmp)
    os.replace(tmp, target)


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob(DATA_FILE)}


def _remove(folder: Path, rel: str) -> None:
    (folder / rel).unlink(missing_ok=True)
    parent = (folder / rel).parent
    while parent != folder:  # an athlete or year folder left empty
        try:
            parent.rmdir()
        except OSError:
            break
        parent = parent.parent


def _files_sql(root: Path, views: Iterable[View], listed: dict[str, list[str]]) -> str:
    """The views of each view's stored files (:data:`FILES_SCHEMA`), made or replaced."""
    statements = [f"CREATE SCHEMA IF NOT EXISTS {CATALOG_ALIAS}.{FILES_SCHEMA}"]
    for view in views:
        files = ", ".join(f"'{_sql_path(root / rel)}'" for rel in listed[view.folder])
        statements.append(f"CREATE OR REPLACE VIEW {CATALOG_ALIAS}.{FILES_SCHEMA}.{_ident(view.folder + '_files')} AS "
                          f"SELECT * FROM read_parquet([{files}], hive_partitioning = false)")
    return ";\n".join(statements)


def _catalog_sql(con: duckdb.DuckDBPyConnection, root: Path, views: Iterable[View],
                 comments: dict[tuple[str, str, str | None], str]) -> str:
    """The catalog's documented views over the views of their stored files, each column cast back
    where Parquet keeps another type (HUGEINT is stored as DOUBLE), with the live DB's comments."""
    statements = [f"CREATE SCHEMA IF NOT EXISTS {CATALOG_ALIAS}.{_ident(s)}" for s in sorted({v.schema for v in views})]
    for view in views:
        stored = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM "
                                  f"read_parquet('{_sql_path(root / view.stored_schema)}'))").fetchall())
        select = ", ".join(_ident(c) if stored.get(c) == t else f"CAST({_ident(c)} AS {t}) AS {_ident(c)}"
                           for c, t in view.columns)
        target = f"{CATALOG_ALIAS}.{view.relation}"
        statements.append(f"CREATE VIEW {target} AS SELECT {select} FROM "
                          f"{CATALOG_ALIAS}.{FILES_SCHEMA}.{_ident(view.folder + '_files')}")
        if comments.get((view.schema, view.name, None)):
            statements.append(f"COMMENT ON VIEW {target} IS {_sql_string(comments[(view.schema, view.name, None)])}")
        for column, _ in view.columns:
            if comments.get((view.schema, view.name, column)):
                statements.append(f"COMMENT ON COLUMN {target}.{_ident(column)} IS "
                                  f"{_sql_string(comments[(view.schema, view.name, column)])}")
    return ";\n".join(statements)


def _comments(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str, str | None], str]:
    rows = con.execute(
        "SELECT schema_name, table_name, NULL, comment FROM duckdb_tables() WHERE database_name = current_database() "
        "UNION ALL SELECT schema_name, view_name, NULL, comment FROM duckdb_views() "
        "WHERE database_name = current_database() AND NOT internal "
        "UNION ALL SELECT schema_name, table_name, column_name, comment FROM duckdb_columns() "
        "WHERE database_name = current_database()").fetchall()
    return {(s, t, c): text for s, t, c, text in rows if text}


def _write_catalog(con: duckdb.DuckDBPyConnection, target: Path, ddl: str, start_from: Path | None = None) -> None:
    """Write a catalog (``ddl`` run in a new one, or in a copy of ``start_from``) beside
    ``target`` and rename it into place. A ``.wal`` beside the old one (an analyst who opened it
    read-write and crashed) is removed first: DuckDB would replay it against the new file."""
    tmp = target.with_name(f".{target.name}.tmp")
    for leftover in (tmp, _wal(tmp)):
        leftover.unlink(missing_ok=True)
    if start_from is not None:
        shutil.copyfile(start_from, tmp)  # its storage version with it
    version = "" if start_from is not None else f" (STORAGE_VERSION '{CATALOG_STORAGE_VERSION}')"
    con.execute(f"ATTACH '{_sql_path(tmp)}' AS {CATALOG_ALIAS}{version}")
    try:
        for statement in ddl.split(";\n"):
            con.execute(statement)
        con.execute(f"CHECKPOINT {CATALOG_ALIAS}")
    finally:
        con.execute(f"DETACH {CATALOG_ALIAS}")
    _wal(tmp).unlink(missing_ok=True)  # empty after the checkpoint
    _wal(target).unlink(missing_ok=True)
    os.replace(tmp, target)


def _drop_legacy_snapshot(db: Path) -> None:
    """Earlier versions copied the whole DB to ``x.snapshot.duckdb``; left, it would go stale."""
    legacy = db.with_name(f"{db.stem}.snapshot{db.suffix or '.duckdb'}")
    for path in (legacy, _wal(legacy)):
        path.unlink(missing_ok=True)


def _copy(con: duckdb.DuckDBPyConnection, query: str, target: Path) -> None:
    """COPY a query to ``target`` through a file beside it, renamed into place."""
    tmp = target.with_name(f".{target.name}.tmp")
    con.execute(f"COPY ({query}) TO '{_sql_path(tmp)}' ({PARQUET})")
    os.replace(tmp, target)


def _read_manifest(root: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"version": MANIFEST_VERSION}
    return manifest if isinstance(manifest, dict) and manifest.get("version") == MANIFEST_VERSION \
        else {"version": MANIFEST_VERSION}


def _write_manifest(root: Path, manifest: dict[str, Any]) -> None:
    tmp = root / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, root / MANIFEST)


def _columns(view: View, alias: str | None = None) -> str:
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + _ident(c) for c, _ in view.columns)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
