"""Issue 11 item 5, the analyst layer: Parquet partitions per view, athlete and year with exactly
the live views' rows, a catalog `runlift sql` reads, and a publish that rewrites only what
changed and never shows a reader a half-written partition."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
from gpxgen import gpx_run

from pipeline import commands
from pipeline.analyst import DATA_FILE, SCHEMA_FILE, STORE, TEMPLATE, analyst_dir, catalog_path, publish
from pipeline.config import Config, load_config
from pipeline.models import build_models

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
AS_OF = date(2026, 10, 26)
TWO = ('[[athletes]]\nid = "me"\ntimezone = "Europe/Berlin"\nmax_hr = 190\nresting_hr = 50\nthreshold_hr = 172\n'
       'strength_target_per_week = 2\n[[athletes]]\nid = "you"\ntimezone = "America/New_York"\n')
VIEWS = ["activities", "samples", "strength_sessions", "strength_sets", "daily_load", "weekly_load",
         "weekly_strength", "exercise_progress", "spacing", "weekly_compliance", "flags", "ingest_log",
         "raw.build_state"]


def _config(folder: Path) -> Config:
    (folder / "runlift.toml").write_text(TWO)
    return load_config(folder / "runlift.toml")


def _runs(folder: Path, starts: list[datetime]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for start in starts:
        (folder / f"run-{start:%Y%m%d}.gpx").write_text(gpx_run(start, points=300, step_s=2))
    return folder


YOU_RUNS = [datetime(2025, 11, 3, 12, tzinfo=UTC), datetime(2026, 5, 4, 12, tzinfo=UTC),
            datetime(2026, 9, 7, 12, tzinfo=UTC)]


@pytest.fixture(scope="module")
def club(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Config]:
    """Two athletes: the sample data for "me" (2026), three runs for "you" (2025 and 2026); built."""
    folder = tmp_path_factory.mktemp("club")
    config = _config(folder)
    db = folder / "club.duckdb"
    commands.ingest(db, config, [SAMPLE / "runs", SAMPLE / "strength"], athlete="me")
    commands.ingest(db, config, [_runs(folder / "you", YOU_RUNS)], athlete="you")
    commands.build(db, config, AS_OF)
    return db, config


def _both(db: Path) -> duckdb.DuckDBPyConnection:
    """One connection with the live DB as ``live`` and the catalog as ``cat``, both read-only."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{db}' AS live (READ_ONLY)")
    con.execute(f"ATTACH '{catalog_path(db)}' AS cat (READ_ONLY)")
    return con


def _relation(db: str, view: str) -> str:
    return f"{db}.{view}" if "." in view else f"{db}.main.{view}"


def _differ(con: duckdb.DuckDBPyConnection, view: str) -> tuple[int, int, int, int]:
    """Live rows, catalog rows, and the rows of each missing from the other, doubles compared to
    6 decimals: a parallel model run's sums vary in their last bits from build to build, and a
    partition is not republished for that (pipeline.analyst._hashed)."""
    live, cat = _relation("live", view), _relation("cat", view)
    kinds = con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {live})").fetchall()
    cols = ", ".join(f'round("{c}", 6)' if t == "DOUBLE" else f'"{c}"' for c, t in kinds)
    row = con.execute(f"SELECT (SELECT count(*) FROM {live}), (SELECT count(*) FROM {cat}), "
                      f"(SELECT count(*) FROM (SELECT {cols} FROM {live} EXCEPT ALL SELECT {cols} FROM {cat})), "
                      f"(SELECT count(*) FROM (SELECT {cols} FROM {cat} EXCEPT ALL SELECT {cols} FROM {live}))"
                      ).fetchone()
    assert row is not None
    return row


def test_every_view_has_exactly_the_live_rows_and_types(club: tuple[Path, Config]) -> None:
    db, _ = club
    with _both(db) as con:
        for view in VIEWS:
            live, cat = _relation("live", view), _relation("cat", view)
            columns = "SELECT column_name, column_type FROM (DESCRIBE {})"  # (nullability is the live tables')
            assert con.execute(columns.format(cat)).fetchall() == con.execute(columns.format(live)).fetchall(), view
            counts = _differ(con, view)
            assert counts[1:] == (counts[0], 0, 0), (view, counts)
        assert con.execute("SELECT count(*) FROM cat.main.samples").fetchone()[0] > 100_000  # type: ignore[index]


def _codecs(db: Path) -> set[str]:
    """The compression of every column chunk of every stored file."""
    with duckdb.connect() as con:
        files = f"{analyst_dir(db)}/{STORE}/**/*.parquet"
        rows = con.execute(f"SELECT DISTINCT compression FROM parquet_metadata('{files}')").fetchall()
    return {c for (c,) in rows}


def test_partitions_are_per_athlete_and_year(club: tuple[Path, Config]) -> None:
    db, _ = club
    root = analyst_dir(db)
    files = {p.relative_to(root).as_posix() for p in root.rglob(DATA_FILE)}
    for view in ("activities", "daily_load", "weekly_load"):
        assert {f for f in files if f.startswith(f"{view}/")} == {
            f"{view}/athlete=me/year=2026/{DATA_FILE}", f"{view}/athlete=you/year=2025/{DATA_FILE}",
            f"{view}/athlete=you/year=2026/{DATA_FILE}"}, view
    # samples per month as well: a new run rewrites a month of them (the sample data: Aug-Oct 2026)
    assert {f for f in files if f.startswith("samples/")} == {
        *(f"samples/athlete=me/year=2026/month={m}/{DATA_FILE}" for m in ("08", "09", "10")),
        f"samples/athlete=you/year=2025/month=11/{DATA_FILE}", f"samples/athlete=you/year=2026/month=05/{DATA_FILE}",
        f"samples/athlete=you/year=2026/month=09/{DATA_FILE}"}
    assert {f for f in files if f.startswith("ingest_log/")} == {
        f"ingest_log/athlete=me/{DATA_FILE}", f"ingest_log/athlete=you/{DATA_FILE}"}  # no date: per athlete
    assert {f for f in files if f.startswith("raw.build_state/")} == {f"raw.build_state/{DATA_FILE}"}
    assert {f for f in files if f.startswith("strength_sets/")} == {f"strength_sets/athlete=me/year=2026/{DATA_FILE}"}
    with duckdb.connect() as con:  # each file holds only its athlete's and year's rows
        for view, year in (("activities", "year(local_date)"), ("daily_load", "year(local_date)"),
                           ("weekly_load", "CAST(left(iso_week, 4) AS INTEGER)")):
            wrong = con.execute(
                f"SELECT count(*) FROM read_parquet('{root}/{view}/*/*/{DATA_FILE}', filename = true, "
                f"hive_partitioning = false) WHERE filename NOT LIKE '%/athlete=' || athlete_id || '/year=' || "
                f"{year} || '/%'").fetchone()
            assert wrong == (0,), view
        # the layout is Hive's: pyarrow and polars read athlete and year from the folder names
        hive = con.execute(f"SELECT athlete, year, count(*) FROM read_parquet('{root}/activities/*/*/{DATA_FILE}', "
                           "hive_partitioning = true) GROUP BY ALL ORDER BY ALL").fetchall()
    assert [(a, int(y)) for a, y, _ in hive] == [("me", 2026), ("you", 2025), ("you", 2026)]
    import pyarrow.parquet as pq

    table = pq.read_table(root / "samples" / "athlete=you")  # any Parquet reader, no DuckDB
    assert table.num_rows == 3 * 300 and "heart_rate" in table.column_names
    assert _codecs(db) == {"ZSTD"}  # a partition written by its own COPY


def test_runlift_sql_reads_the_catalog_with_the_live_counts_and_comments(club: tuple[Path, Config]) -> None:
    db, _ = club
    with duckdb.connect(str(db), read_only=True) as live:
        expected = live.execute("SELECT count(*) FROM activities").fetchone()
        described = live.execute("SELECT comment FROM duckdb_columns() WHERE table_name = 'activities' "
                                 "AND column_name = 'load'").fetchone()
    r = subprocess.run([sys.executable, "-m", "pipeline.app.cli", "--db", str(db), "--config",
                        str(db.parent / "runlift.toml"), "sql", "select count(*) as n from activities",
                        "--format", "json"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == [{"n": expected[0]}] and expected[0] == 50 + 3  # type: ignore[index]
    assert commands.query(db, "SELECT comment FROM duckdb_columns() WHERE table_name = 'activities' "
                              "AND column_name = 'load'") == (["comment"], [described])
    assert described is not None and described[0].startswith("Training load of a run")


def test_a_moved_layer_gets_a_catalog_over_its_own_folder(club: tuple[Path, Config], tmp_path: Path) -> None:
    """The catalog's paths are absolute: a DB moved with its layer gets a new catalog at its next
    publish (nothing else rewritten, not even the catalog's template: it names no folder), and
    reads the moved files, not the old ones."""
    db, _ = club
    moved = tmp_path / "moved" / db.name
    moved.parent.mkdir()
    for path in (db, catalog_path(db)):
        shutil.copy(path, moved.parent / path.name)
    shutil.copytree(analyst_dir(db), analyst_dir(moved))
    template = analyst_dir(moved) / TEMPLATE
    made = template.stat()
    with duckdb.connect(str(moved)) as con:
        again = publish(con, moved, set(), set())  # an ingest that changed no model
    assert again.catalog_written and again.written == [] and again.removed == []
    assert (template.stat().st_ino, template.stat().st_mtime_ns) == (made.st_ino, made.st_mtime_ns)
    with duckdb.connect(str(catalog_path(moved)), read_only=True) as cat:
        sql = cat.execute("SELECT sql FROM duckdb_views() WHERE view_name = 'activities_files'").fetchone()
        rows = cat.execute("SELECT count(*) FROM activities").fetchone()
    assert sql is not None and str(analyst_dir(moved)) in sql[0] and str(analyst_dir(db)) + "/" not in sql[0]
    assert rows == (50 + 3,)


def _stats(root: Path) -> dict[str, tuple[int, int]]:
    """The tree's files (not the store behind them) by inode and mtime."""
    return {p.relative_to(root).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns) for p in root.rglob("*.parquet")
            if not p.relative_to(root).as_posix().startswith(f"{STORE}/")}


def _flag(con: duckdb.DuckDBPyConnection, athlete: str, day: date, message: str) -> None:
    con.execute("INSERT INTO internal.rule_flags VALUES (?, 'spacing.too_close', 'error', ?, 'W', ?, '{}')",
                [athlete, day, message])


def test_a_publish_rewrites_only_the_partitions_that_changed(tmp_path: Path) -> None:
    config = _config(tmp_path)
    db = tmp_path / "two.duckdb"
    commands.ingest(db, config, [_runs(tmp_path / "me", [datetime(2026, 5, 5, 6, tzinfo=UTC)])], athlete="me")
    commands.ingest(db, config, [_runs(tmp_path / "you", YOU_RUNS[:2])], athlete="you")
    commands.build(db, config, AS_OF)
    root = analyst_dir(db)
    before = _stats(root)
    catalog = catalog_path(db).stat().st_ino
    con = duckdb.connect(str(db))
    try:
        nothing = publish(con, db)  # a full publish of an unchanged DB writes nothing
        assert (nothing.written, nothing.removed, nothing.catalog_written) == ([], [], False)
        assert nothing.unchanged > 20 and _stats(root) == before
    finally:
        con.close()

    # a new run of "you" in 2026 (ingest publishes): only you's 2026 partitions and ingest log change
    commands.ingest(db, config, [_runs(tmp_path / "you2", [datetime(2026, 5, 6, 12, tzinfo=UTC)])], athlete="you")
    after = _stats(root)
    changed = {p for p in after if after[p] != before.get(p)}
    assert {p.split("/")[0] for p in changed} >= {"activities", "samples", "daily_load", "ingest_log"}
    assert all("/athlete=you/year=2026/" in p or p == f"ingest_log/athlete=you/{DATA_FILE}" for p in changed), changed
    assert catalog_path(db).stat().st_ino != catalog  # the catalog lists the new files

    con = duckdb.connect(str(db))
    try:
        # the athletes set is the scope: a change of "you" is not looked at by a publish of "me"
        # (a run found to be a duplicate: its samples leave the view, which is not rebuilt)
        con.execute("UPDATE raw.activities SET duplicate_of = 'x' WHERE activity_id = (SELECT min(activity_id) "
                    "FROM raw.activities WHERE athlete_id = 'you' AND year(start_utc) = 2026)")
        assert publish(con, db, {"me"}).written == []
        may = root / "samples" / "athlete=you" / "year=2026" / "month=05" / DATA_FILE
        assert publish(con, db, {"you"}).written == [may]
        # ... but the flags and the ingest log are looked at whatever the scope, none too: a build's
        # rules judge what an earlier ingest's model refresh already published
        _flag(con, "you", date(2026, 5, 6), "new")
        flag_file = root / "flags" / "athlete=you" / "year=2026" / DATA_FILE
        assert publish(con, db, set()).written == [flag_file]
        con.execute("UPDATE main.ingest_log SET reason = 'x' WHERE athlete_id = 'you'")
        assert publish(con, db, set()).written == [root / "ingest_log" / "athlete=you" / DATA_FILE]
        # gone rows: the partition goes, with its folders
        con.execute("DELETE FROM internal.rule_flags WHERE athlete_id = 'you'")
        gone = publish(con, db, {"you"})
        assert (gone.written, gone.removed) == ([], [flag_file]) and not flag_file.parent.parent.exists()
        # a year with no rows left: its partitions are removed from every view
        con.execute("DELETE FROM raw.samples WHERE activity_id IN (SELECT activity_id FROM raw.activities "
                    "WHERE athlete_id = 'you' AND year(start_utc) = 2025)")
        con.execute("DELETE FROM raw.activities WHERE athlete_id = 'you' AND year(start_utc) = 2025")
        build_models(con, aliases=config.exercise_aliases)
        kept = _stats(root)
        removed = publish(con, db)
        assert {p.relative_to(root).as_posix().split("/")[0] for p in removed.removed} >= {"activities", "samples"}
        assert all("/athlete=you/year=2025/" in p.as_posix() for p in removed.removed)
        assert not list(root.glob("*/athlete=you/year=2025"))
        now = _stats(root)
        assert all(now[p] == kept[p] for p in now if "athlete=me/" in p)  # me's files untouched throughout
        assert all(now[p] == before[p] for p in now if "athlete=me/" in p)
    finally:
        con.close()
    with _both(db) as both:
        for view in VIEWS:
            counts = _differ(both, view)
            assert counts[1:] == (counts[0], 0, 0), (view, counts)
    _assert_as_from_scratch(db, tmp_path / "scratch")


STRENGTH_VIEWS = {"strength_sessions", "strength_sets", "exercise_progress"}


def test_a_publish_looks_only_at_the_views_whose_models_were_recomputed(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """An ingest or build publishes the marts its models recomputed (and the views that are not
    models) and leaves the others alone: a new run does not look at the strength views, a new
    strength log does; after each step every view shows exactly the live rows."""
    import pipeline.analyst

    publishes: list[pipeline.analyst.PublishResult] = []

    def spy(*args: object, **kwargs: object) -> pipeline.analyst.PublishResult:
        publishes.append(result := publish(*args, **kwargs))  # type: ignore[arg-type]
        return result

    monkeypatch.setattr(pipeline.analyst, "publish", spy)  # commands import it at each call
    config = _config(tmp_path)
    db = tmp_path / "views.duckdb"
    commands.ingest(db, config, [SAMPLE / "runs", SAMPLE / "strength" / "strong.csv"], athlete="me")
    commands.ingest(db, config, [_runs(tmp_path / "you", YOU_RUNS)], athlete="you")
    assert set(publishes[0].views) == set(VIEWS)  # the first refresh of the models is a full one
    commands.build(db, config, AS_OF)
    root = analyst_dir(db)

    def step(run: Callable[[], object]) -> tuple[set[str], set[str]]:
        """(views looked at, views with a file rewritten or removed), the layer checked against the live DB."""
        before = _stats(root)
        run()
        after = _stats(root)
        with _both(db) as both:
            for view in VIEWS:
                counts = _differ(both, view)
                assert counts[1:] == (counts[0], 0, 0), (view, counts)
        rewritten = {p.split("/")[0] for p in set(before) | set(after)
                     if before.get(p) != after.get(p) and not p.endswith(SCHEMA_FILE)}
        return set(publishes[-1].views), rewritten

    looked, rewritten = step(lambda: commands.ingest(
        db, config, [_runs(tmp_path / "me2", [datetime(2026, 9, 30, 6, tzinfo=UTC)])], athlete="me"))
    assert looked.isdisjoint(STRENGTH_VIEWS) and {"activities", "samples", "daily_load"} <= looked
    assert {"activities", "samples", "daily_load", "ingest_log"} <= rewritten and rewritten.isdisjoint(STRENGTH_VIEWS)
    looked, rewritten = step(lambda: commands.build(db, config, AS_OF))  # the same day: the rules only
    assert looked == {"flags", "ingest_log", "raw.build_state"} and rewritten <= {"flags", "raw.build_state"}
    # a strength log: the strength views are looked at and rewritten, the samples are not
    looked, rewritten = step(lambda: commands.ingest(db, config, [SAMPLE / "strength" / "hevy.csv"], athlete="me"))
    assert looked >= STRENGTH_VIEWS and "samples" not in looked
    assert rewritten >= STRENGTH_VIEWS
    looked, _ = step(lambda: commands.build(db, config, date(2026, 11, 2)))  # a new as-of date: its models
    assert "weekly_compliance" in looked and "samples" not in looked
    _assert_as_from_scratch(db, tmp_path / "scratch")


def _assert_as_from_scratch(db: Path, scratch: Path) -> None:
    """The layer after a series of publishes is the one a first publish of the same DB makes: the
    same partitions with the same content hashes (the views' files and nothing else)."""
    scratch.mkdir()
    shutil.copy(db, scratch / db.name)
    with duckdb.connect(str(scratch / db.name)) as con:
        publish(con, scratch / db.name)

    def layer(root: Path) -> tuple[dict[str, object], set[str]]:
        manifest = json.loads((root / "manifest.json").read_text())
        return ({v: e["partitions"] for v, e in manifest["views"].items()},
                {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
                - {"manifest.json"} - set(manifest["retired"]))

    assert layer(analyst_dir(db)) == layer(analyst_dir(scratch / db.name))


def test_samples_are_known_by_their_activities_counts(club: tuple[Path, Config]) -> None:
    """A samples partition's hash comes from raw.activities.n_samples, not from the samples: it
    is the hash the samples themselves give (ids and counts of the activities they belong to)."""
    db, _ = club
    manifest = json.loads((analyst_dir(db) / "manifest.json").read_text())["views"]["samples"]["partitions"]
    with duckdb.connect(str(db), read_only=True) as con:
        counted = con.execute(
            "SELECT a.athlete_id, strftime(a.local_date, 'year=%Y/month=%m'), sum(n), "
            "sum(hash(s.activity_id, n)::HUGEINT) "
            "FROM (SELECT activity_id, count(*) AS n FROM samples GROUP BY ALL) AS s "
            "JOIN activities AS a USING (activity_id) GROUP BY ALL").fetchall()
    assert len(counted) == 6 and sum(n for _, _, n, _ in counted) > 100_000
    assert manifest == {f"athlete={a}/{y}/{DATA_FILE}": f"{n}:{h}" for a, y, n, h in counted}


READER = """
import duckdb, json, os, sys
catalog, stop, held = sys.argv[1], sys.argv[2], sys.argv[3] == "held"
con = duckdb.connect(catalog, read_only=True) if held else None
seen, errors, reads = set(), [], 0
print("ready", flush=True)
while not os.path.exists(stop):
    try:
        c = con or duckdb.connect(catalog, read_only=True)
        seen.add(tuple(c.execute("SELECT count(*), sum(length(message)), min(message[1]), max(message[1]) "
                                 "FROM flags WHERE athlete_id = 'me'").fetchone()))
        if con is None:
            c.close()
        reads += 1
    except Exception as e:
        errors.append(repr(e))
print(json.dumps({"seen": sorted(seen), "errors": errors[:5], "reads": reads}), flush=True)
"""


def test_readers_never_fail_or_see_a_partial_partition_while_publishing(tmp_path: Path) -> None:
    """A reader connecting for each query sees each state and nothing in between (DuckDB 2.0.1 read
    a file renamed over another with the old footer and the new data); one holding its connection
    keeps the state it opened, its files kept while it reads."""
    db = tmp_path / "r.duckdb"
    commands.init_db(db, Config())
    con = duckdb.connect(str(db))
    states = {"a": 60_000, "b": 90_000}  # big enough that a partition takes a while to write

    def fill(state: str) -> None:
        con.execute("DELETE FROM internal.rule_flags")
        con.execute("INSERT INTO internal.rule_flags SELECT 'me', 'spacing.too_close', 'error', DATE '2026-09-08', "
                    "'2026-W37', ? || repeat('x', (i % 50)::INTEGER), '{}' FROM range(?) t(i)", [state, states[state]])

    fill("a")
    publish(con, db)
    stop = tmp_path / "stop"
    readers = {mode: subprocess.Popen([sys.executable, "-c", READER, str(catalog_path(db)), str(stop), mode],
                                      stdout=subprocess.PIPE, text=True) for mode in ("fresh", "held")}
    try:
        for reader in readers.values():
            assert reader.stdout is not None and reader.stdout.readline() == "ready\n"
        for publishes in range(8):  # a count, not a time: under load a publish can take seconds
            fill("b" if publishes % 2 == 0 else "a")
            assert len(publish(con, db).written) == 1
            time.sleep(0.2)  # the reader reads each state too
        stop.touch()
        results = {mode: json.loads(reader.communicate(timeout=120)[0]) for mode, reader in readers.items()}
    finally:
        for reader in readers.values():
            reader.kill()
            reader.wait()
        con.close()
    expected = {state: [n, sum(len(state) + i % 50 for i in range(n)), state, state] for state, n in states.items()}
    for result in results.values():
        assert result["errors"] == []
        assert result["reads"] >= 8
    assert results["fresh"]["seen"] == sorted(expected.values())  # both states, and nothing in between
    assert results["held"]["seen"] == [expected["a"]]


def test_many_changed_partitions_go_through_one_partitioned_copy(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A first publish of many athletes: one COPY ... PARTITION_BY per view, one file per partition."""
    import pipeline.analyst

    config = _config(tmp_path)
    db = tmp_path / "many.duckdb"
    commands.ingest(db, config, [_runs(tmp_path / "me", [datetime(2026, 5, 5, 6, tzinfo=UTC)])], athlete="me")
    commands.ingest(db, config, [_runs(tmp_path / "you", YOU_RUNS)], athlete="you")
    con = duckdb.connect(str(db))
    try:
        build_models(con, aliases=config.exercise_aliases)
        shutil.rmtree(analyst_dir(db))
        catalog_path(db).unlink()
        monkeypatch.setattr(pipeline.analyst, "FEW_PARTITIONS", 0)
        first = publish(con, db)
    finally:
        con.close()
    assert len(first.written) >= 20 and first.catalog_written
    assert not (analyst_dir(db) / ".staging").exists()
    assert len({p.parent for p in first.written}) == len(first.written)  # one file per partition
    assert _codecs(db) == {"ZSTD"}
    with _both(db) as both:
        for view in VIEWS:
            counts = _differ(both, view)
            assert counts[1:] == (counts[0], 0, 0), (view, counts)


def test_a_publish_that_failed_is_made_up_by_the_next_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The models of a new run commit, then its publish fails: the next build, which finds nothing
    new to recompute, still publishes that run (the scope owed is kept in the DB until shown)."""
    import pipeline.analyst

    config = _config(tmp_path)
    db = tmp_path / "owed.duckdb"
    commands.ingest(db, config, [_runs(tmp_path / "you", YOU_RUNS[:2])], athlete="you")
    commands.build(db, config, AS_OF)

    def disk_full(*args: object) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(pipeline.analyst, "_write_partitions", disk_full)
        with pytest.raises(OSError, match="No space left"):
            commands.ingest(db, config, [_runs(tmp_path / "you2", [YOU_RUNS[2]])], athlete="you")
    with _both(db) as both:
        assert _differ(both, "activities")[:2] == (3, 2)  # committed, not shown
    again = commands.build(db, config, AS_OF)
    assert again.touched_athletes == set()  # nothing new for the models ...
    with _both(db) as both:  # ... and yet the run is published, in every view
        for view in VIEWS:
            counts = _differ(both, view)
            assert counts[1:] == (counts[0], 0, 0), (view, counts)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM internal.publish_owed").fetchone() == (0,)
