"""Issue 12, the analyst's side: `runlift sql` cannot write, attach, copy or read files (issue 11:
it reads the analyst folder only, and writes no file there either); the analyst catalog survives
a crashed read-write analyst and opens in older DuckDB CLIs; the lock error points at the catalog;
DuckDB's instance cache is documented; data never reaches the terminal as Rich markup or control
characters."""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipeline import commands
from pipeline.analyst import analyst_dir, catalog_path, publish
from pipeline.app import cli
from pipeline.config import Config
from pipeline.db import DatabaseBusyError, connect

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
HOSTILE = "[/b]\x1b[2J\x07[red]x"  # closes a tag never opened, clears the screen, rings the bell
HOSTILE_SHOWN = "[/b]\\x1b[2J\\x07[red]x"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty runlift DB (every model built) with one hostile flag, published."""
    path = tmp_path_factory.mktemp("analyst") / "runlift.duckdb"
    commands.init_db(path, Config())
    con = duckdb.connect(str(path))
    con.execute("INSERT INTO internal.rule_flags VALUES ('me', 'spacing.too_close', 'error', DATE '2026-09-08', "
                "'2026-W37', ?, '{}')", [f"Strength ({HOSTILE}) ended 1.2 h before the run"])
    publish(con, path)
    con.close()
    return path


def run_main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """The real entry point in this process: exit code, stdout, stderr."""
    monkeypatch.setattr(sys, "argv", ["runlift", *args])
    try:
        cli.main()
        code = 0
    except SystemExit as stop:
        code = int(stop.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# ------------------------------------------------------------------ 1. runlift sql is read-only

REFUSED = "runlift: query refused: `runlift sql` only reads the DB (no writes, ATTACH, COPY, file access or SET): "


def test_sql_cannot_attach_copy_read_files_or_unlock(db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "runlift.toml"
    config.write_text('[athlete]\nid = "me"\n')
    secret = tmp_path / "secret.txt"
    secret.write_text("hunter2")
    alias = tmp_path / "alias.duckdb"
    os.link(db, alias)  # the live DB under another name: DuckDB would attach it read-write
    disabled = "file system operations are disabled by configuration"
    folder = analyst_dir(db)
    planted = folder / "flags" / "athlete=me" / "year=2026" / "data.parquet"
    before = planted.read_bytes()
    attempts = {
        f"ATTACH '{alias}' AS w (READ_WRITE); DELETE FROM w.raw.strength_sets": "ATTACH statements are not allowed",
        f"ATTACH '{db}' AS w (READ_WRITE)": "ATTACH statements are not allowed",
        f"ATTACH '{tmp_path / 'new.duckdb'}' AS n": "ATTACH statements are not allowed",
        f"COPY (SELECT 'x = 1') TO '{config}'": "COPY statements are not allowed",
        f"COPY flags FROM '{secret}'": "COPY statements are not allowed",
        f"SELECT * FROM read_text('{secret}')": disabled,
        f"SELECT * FROM read_csv('{secret}')": disabled,
        f"SELECT * FROM glob('{tmp_path}/*')": disabled,
        f"SELECT * FROM read_parquet('{folder}/../runlift.duckdb')": disabled,  # the live DB, beside the folder
        f"SELECT * FROM read_blob('{db}')": disabled,
        f"EXPORT DATABASE '{tmp_path / 'out'}'": "EXPORT statements are not allowed",
        # where it may read, DuckDB would write: the analyst folder is refused as a COPY target too
        f"COPY (SELECT 'forged' AS message) TO '{planted}'": "COPY statements are not allowed",
        f"EXPLAIN ANALYZE COPY (SELECT 1) TO '{folder}/x.parquet'": "EXPLAIN statements are not allowed",
        f"/* hi */ explain (analyze) COPY (SELECT 1) TO '{folder}/x.parquet'": "EXPLAIN statements are not allowed",
        f"PREPARE p AS COPY (SELECT 1) TO '{folder}/x.parquet'": "PREPARE statements are not allowed",
        "SELECT 1; EXECUTE p": "EXECUTE statements are not allowed",
        "INSTALL httpfs": disabled,
        "SET enable_external_access = true": "the configuration has been locked",
        "SET allowed_directories = ['/']": "the configuration has been locked",
        "RESET lock_configuration": "the configuration has been locked",
        "DROP VIEW flags": "read-only mode",
        "CREATE TABLE mine AS SELECT 1": "read-only mode",
        "DELETE FROM flags": "`runlift sql` is read-only",
        "WITH x AS (SELECT 1) INSERT INTO flags SELECT * FROM flags": "`runlift sql` is read-only",
    }
    for sql, reason in attempts.items():
        code, out, err = run_main(monkeypatch, capsys, "--db", str(db), "--config", str(config), "sql", sql)
        assert (code, out) == (1, ""), sql
        assert err.startswith(REFUSED) and err.count("\n") == 1 and reason in err, (sql, err)
        assert "hunter2" not in err
    assert config.read_text() == '[athlete]\nid = "me"\n'
    assert not (tmp_path / "new.duckdb").exists() and not (tmp_path / "out").exists()
    assert planted.read_bytes() == before and not (folder / "x.parquet").exists()
    code, out, _ = run_main(monkeypatch, capsys, "--db", str(db), "--config", str(config), "sql",
                            "SELECT count(*) AS n FROM flags", "--format", "json")
    assert (code, json.loads(out)) == (0, [{"n": 1}])  # reading works, and nothing was dropped
    code, out, _ = run_main(monkeypatch, capsys, "--db", str(db), "--config", str(config), "sql",
                            "EXPLAIN SELECT count(*) FROM flags", "--format", "json")
    assert code == 0 and "READ_PARQUET" in out.upper()  # a plain EXPLAIN runs nothing, and is let through


def test_sql_on_a_db_never_published_reads_the_live_db_with_no_file_access(tmp_path: Path) -> None:
    db = tmp_path / "fresh.duckdb"
    commands.init_db(db, Config())  # init builds the models but publishes nothing
    assert not catalog_path(db).exists()
    assert commands.query(db, "SELECT count(*) FROM activities") == (["count_star()"], [(0,)])
    (tmp_path / "secret.txt").write_text("hunter2")
    with pytest.raises(duckdb.PermissionException, match="disabled by configuration"):
        commands.query(db, f"SELECT * FROM read_text('{tmp_path / 'secret.txt'}')")


def test_readme_says_what_sql_allows() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert ("`runlift sql` runs one query on a read-only connection that cannot attach databases, "
            "COPY to or from files, read or list files (`read_csv`, `read_text`, `glob`) outside the analyst "
            "folder, install extensions or change settings (`SET`)") in " ".join(readme.split())


# ------------------------------------------------------------------ 2. a crashed analyst's WAL

def _published(path: Path) -> duckdb.DuckDBPyConnection:
    """An empty runlift DB (every model built), published; its write connection."""
    commands.init_db(path, Config())
    con = duckdb.connect(str(path))
    publish(con, path)
    return con


def _flag(con: duckdb.DuckDBPyConnection, message: str) -> None:
    con.execute("INSERT INTO internal.rule_flags VALUES ('me', 'spacing.too_close', 'error', DATE '2026-09-08', "
                "'2026-W37', ?, '{}')", [message])


def _catalog_files(catalog: Path) -> str:
    with duckdb.connect(str(catalog), read_only=True) as con:
        return " ".join(sql for sql, in con.execute("SELECT sql FROM duckdb_views() WHERE NOT internal").fetchall())


def test_a_crashed_read_write_analyst_leaves_no_wal_a_new_catalog_pairs_with(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    con = _published(db)
    catalog = catalog_path(db)
    # an analyst opens the catalog read-write, writes without a checkpoint, and is killed
    code = ("import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
            "c.execute(\"SET checkpoint_threshold = '1TB'\"); "
            "c.execute('CREATE TABLE mine AS SELECT 42 AS x'); "
            "print('written', flush=True); time.sleep(60)")
    analyst = subprocess.Popen([sys.executable, "-c", code, str(catalog)], stdout=subprocess.PIPE, text=True)
    assert analyst.stdout is not None and analyst.stdout.readline() == "written\n"
    analyst.send_signal(signal.SIGKILL)
    analyst.wait()
    wal = catalog.with_name("x.analyst.duckdb.wal")
    assert wal.stat().st_size > 0
    _flag(con, "new rows")
    publish(con, db)  # the views' columns are the same: the catalog (and its own WAL) stays, its views see the rows
    with duckdb.connect(str(catalog), read_only=True) as reader:
        assert reader.execute("SELECT message FROM flags").fetchall() == [("new rows",)]
    # a build that changes a view's columns writes a new catalog: the stale WAL is removed first
    con.execute("ALTER TABLE ingest_log ADD COLUMN note VARCHAR")
    publish(con, db)
    con.close()
    assert not wal.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.analyst", "x.analyst.duckdb", "x.duckdb"]
    with duckdb.connect(str(catalog), read_only=True) as reader:
        assert reader.execute("SELECT message FROM flags").fetchall() == [("new rows",)]
        assert reader.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'mine'").fetchone() == (0,)
        assert "note" in [row[0] for row in reader.execute("DESCRIBE ingest_log").fetchall()]


# ------------------------------------------------------------------ 3. the lock error

def test_the_lock_error_points_analysts_at_the_catalog(tmp_path: Path) -> None:
    db = tmp_path / "busy.duckdb"
    duckdb.connect(str(db)).close()
    code = ("import duckdb, sys, time; c = duckdb.connect(sys.argv[1], read_only=True); "
            "print('open', flush=True); time.sleep(60)")
    reader = subprocess.Popen([sys.executable, "-c", code, str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout is not None and reader.stdout.readline() == "open\n"
        with pytest.raises(DatabaseBusyError) as busy:
            connect(db)
    finally:
        reader.kill()
        reader.wait()
    assert str(busy.value) == (f"{db} is locked by another process (pid {reader.pid}); "
                               "analysts: open busy.analyst.duckdb or use `runlift sql`")
    code = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('open', flush=True); time.sleep(60)"
    writer = subprocess.Popen([sys.executable, "-c", code, str(db)], stdout=subprocess.PIPE, text=True)
    try:  # and a reader (`flags`) waiting for a writer is told to retry or read the catalog
        assert writer.stdout is not None and writer.stdout.readline() == "open\n"
        with pytest.raises(DatabaseBusyError) as busy:
            connect(db, read_only=True)
    finally:
        writer.kill()
        writer.wait()
    assert str(busy.value) == (f"{db} is locked by another process (pid {writer.pid}) that writes it; "
                               "retry when it is done, or open busy.analyst.duckdb")


# ------------------------------------------------------------------ 4. the catalog's storage version

def _storage_version(path: Path) -> int:
    """The version number in a DuckDB file's main header (after the 8-byte checksum and b"DUCK")."""
    header = path.read_bytes()[:20]
    assert header[8:12] == b"DUCK"
    return int(struct.unpack("<Q", header[12:20])[0])


def test_the_catalog_opens_in_the_current_and_previous_duckdb_cli(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    con = _published(db)
    _flag(con, "one")
    publish(con, db)
    con.close()
    catalog = catalog_path(db)
    # the DuckDB CLI 1.5 reads storage versions 64-68, 1.4 reads 64-67; DuckDB 2.0 writes its own
    assert _storage_version(catalog) == 67
    with duckdb.connect(str(catalog), read_only=True) as reader:
        assert reader.execute("SELECT tags FROM duckdb_databases() WHERE database_name = current_database()"
                              ).fetchone() == ({"storage_version": "v1.4.0+"},)
        assert reader.execute("SELECT message FROM flags").fetchall() == [("one",)]


def test_the_catalog_keeps_every_view_column_and_comment(db: Path) -> None:
    views = ("SELECT schema_name, table_name, comment FROM duckdb_tables() UNION ALL "
             "SELECT schema_name, view_name, comment FROM duckdb_views() WHERE NOT internal")
    columns = "SELECT schema_name, table_name, column_name, data_type, comment FROM duckdb_columns() WHERE NOT internal"
    published = ("WHERE (schema_name = 'main' AND table_name NOT LIKE 'stg\\_%' ESCAPE '\\') "
                 "OR (schema_name = 'raw' AND table_name = 'build_state') ORDER BY ALL")
    with duckdb.connect(str(db), read_only=True) as live:
        expected = (live.execute(f"SELECT * FROM ({views}) {published}").fetchall(),
                    live.execute(f"SELECT * FROM ({columns}) {published}").fetchall())
    with duckdb.connect(str(catalog_path(db)), read_only=True) as catalog:
        assert (catalog.execute(f"SELECT * FROM ({views}) {published}").fetchall(),
                catalog.execute(f"SELECT * FROM ({columns}) {published}").fetchall()) == expected
        assert catalog.execute("SELECT count(*) FROM duckdb_tables()").fetchone() == (0,)  # views only
    names = {row[1] for row in expected[0]}
    assert names == {"activities", "samples", "strength_sessions", "strength_sets", "daily_load", "weekly_load",
                     "weekly_strength", "exercise_progress", "spacing", "weekly_compliance", "flags", "ingest_log",
                     "build_state"}
    assert len(expected[1]) > 100 and all(row[2] for row in expected[0] if row[1] != "ingest_log")
    assert all(row[4] for row in expected[1] if row[1] != "ingest_log")  # every mart column is described


# ------------------------------------------------------------------ 5. DuckDB's instance cache

def test_an_open_connection_keeps_its_build_and_the_instance_cache_is_documented(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pipeline.analyst

    db = tmp_path / "x.duckdb"
    con = _published(db)
    catalog = catalog_path(db)
    first = duckdb.connect(str(catalog), read_only=True)
    assert first.execute("SELECT count(*) FROM flags").fetchone() == (0,)
    for message in ("one", "two"):
        _flag(con, message)
        publish(con, db)
    # a snapshot: the files `first` reads are kept (an hour) though no catalog lists them any more
    assert first.execute("SELECT count(*) FROM flags").fetchone() == (0,)
    # what the note warns of: while `first` is open, a new connection gets the old catalog ...
    with duckdb.connect(str(catalog), read_only=True) as again:
        assert again.execute("SELECT count(*) FROM flags").fetchone() == (0,)
    first.close()
    with duckdb.connect(str(catalog), read_only=True) as fresh:  # ... and after closing it, the new
        assert fresh.execute("SELECT count(*) FROM flags").fetchone() == (2,)
    root = analyst_dir(db)
    retired = json.loads((root / "manifest.json").read_text())["retired"]
    assert len(retired) == 1 and all((root / rel).exists() for rel in retired)  # the flags of the 1-row build
    monkeypatch.setattr(pipeline.analyst, "RETIRED_KEPT_S", 0.0)
    publish(con, db)  # nothing changed: only the sweep
    con.close()
    assert not any((root / rel).exists() for rel in retired)
    assert json.loads((root / "manifest.json").read_text())["retired"] == {}
    views = _catalog_files(catalog)  # the catalog lists every stored file left
    with duckdb.connect(str(catalog), read_only=True) as after:
        assert after.execute("SELECT count(*) FROM flags").fetchone() == (2,)
    stored = [p for p in (root / ".store").rglob("*") if p.is_file()]
    assert len(stored) > 13 and all(f"'{p}'" in views for p in stored)
    note = ("In one Python process, close every connection to the catalog before reconnecting to see a later "
            "build, as while one is open DuckDB hands new connections the old one.")
    assert note.removesuffix(".") in " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    shown = runner.invoke(cli.app, ["--db", str(db), "--config", str(tmp_path / "none.toml"), "models"])
    assert shown.exit_code == 1  # a named config that is missing is an error for models too
    shown = runner.invoke(cli.app, ["--db", str(db), "models"], catch_exceptions=False)
    where = ("Analysts: open x.analyst.duckdb read-only (views over the Parquet files in x.analyst/, which every "
             "build republishes where they changed) or use `runlift sql`; any Parquet reader can read "
             "x.analyst/VIEW/ too. A connection keeps the build it opened on (its files are kept an hour): "
             "connect again to see a later build; in one Python process, close every connection to the "
             "catalog first, as while one is open DuckDB hands new connections the old one.")
    assert where in " ".join(shown.output.split())


# ------------------------------------------------------------------ 6. markup and control characters

def test_flags_and_sql_tables_print_markup_and_controls_as_text(db: Path) -> None:
    flags = runner.invoke(cli.app, ["--db", str(db), "flags"], catch_exceptions=False)
    assert flags.exit_code == 0
    assert f"Strength ({HOSTILE_SHOWN}) ended 1.2 h before the run" in flags.output
    assert "\x1b" not in flags.output and "\x07" not in flags.output
    sql = runner.invoke(cli.app, ["--db", str(db), "sql",
                                  "SELECT split_part(split_part(message, '(', 2), ')', 1) AS \"[b]name\" FROM flags"],
                        catch_exceptions=False)
    assert sql.exit_code == 0
    assert "[b]name" in sql.output and HOSTILE_SHOWN in sql.output and "\x1b" not in sql.output


def test_the_ingest_summary_prints_hostile_file_names_as_text(tmp_path: Path) -> None:
    # a file name cannot hold "/": a folder "x[" and a file "b]..." make the path ".../x[/b]..."
    (tmp_path / "in" / "x[").mkdir(parents=True)
    (tmp_path / "in" / "x[" / "b]\x1b[2J\x07.gpx").write_text("<gpx><trk>not closed")
    result = runner.invoke(cli.app, ["--db", str(tmp_path / "i.duckdb"), "ingest", str(tmp_path / "in")],
                           catch_exceptions=False)
    assert result.exit_code == 0
    line = next(line for line in result.output.splitlines() if "quarantined " in line)
    assert line.startswith(f"  quarantined {tmp_path}/in/x[/b]\\x1b[2J\\x07.gpx: ")
    assert "\x1b" not in result.output and "\x07" not in result.output


def test_error_lines_neutralise_control_characters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / f"{HOSTILE}.toml"
    code, _, err = run_main(monkeypatch, capsys, "--config", str(missing), "flags")
    assert (code, err) == (1, f"runlift: {tmp_path}/{HOSTILE_SHOWN}.toml: no such config file\n")


def test_printable_shows_every_control_as_an_escape() -> None:
    from pipeline.app.terminal import markup_safe, printable

    assert printable("a\x00b\tc\nd\x1b\x7f\x9b\u202eé✓") == "a\\x00b\\x09c\\x0ad\\x1b\\x7f\\x9b\\u202eé✓"
    assert markup_safe("[/b] ok") == "\\[/b] ok"


def test_csv_to_a_terminal_escapes_controls_and_piped_keeps_the_data() -> None:
    rows = [("=1", HOSTILE, 3)]
    assert cli._format_rows(["a\x1b", "b"], rows, "csv", terminal=True).splitlines() == [
        "a\\x1b,b", f"'=1,{HOSTILE_SHOWN},3"]
    assert cli._format_rows(["a", "b"], rows, "csv", terminal=False).splitlines() == ["a,b", f"'=1,{HOSTILE},3"]


def _one_flag(folder: Path) -> tuple[Path, duckdb.DuckDBPyConnection, Path]:
    """A published DB with one new flag not published yet: the DB, its write connection, its layer."""
    db = folder / "x.duckdb"
    con = _published(db)
    _flag(con, "one")
    return db, con, analyst_dir(db)


def test_a_failed_publish_starts_no_hour_for_the_files_the_catalog_in_place_lists(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pipeline.analyst

    db, con, root = _one_flag(tmp_path)
    publish(con, db)
    (first,) = [p for p in (root / ".store" / "flags").rglob("part-*.parquet")]
    _flag(con, "two")

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(pipeline.analyst, "_write_catalog", disk_full)
        with pytest.raises(OSError, match="No space left"):
            publish(con, db)
    rel = first.relative_to(root).as_posix()
    assert f"'{first}'" in _catalog_files(catalog_path(db))  # the catalog in place still reads it ...
    assert rel not in json.loads((root / "manifest.json").read_text())["retired"]  # ... so it is not retired
    publish(con, db)
    con.close()
    assert f"'{first}'" not in _catalog_files(catalog_path(db))
    assert rel in json.loads((root / "manifest.json").read_text())["retired"] and first.exists()


def test_a_file_system_without_hard_links_gets_copies_and_a_republish_leaves_no_temporary_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db, con, root = _one_flag(tmp_path)

    def no_links(src: object, dst: object) -> None:
        raise OSError(1, "Operation not permitted")  # FAT, many network mounts

    with monkeypatch.context() as patched:
        patched.setattr(os, "link", no_links)
        publish(con, db)
    (tree,) = root.glob("flags/athlete=me/year=2026/data.parquet")
    (stored,) = (root / ".store" / "flags").rglob("part-*.parquet")
    assert not os.path.samefile(tree, stored) and tree.read_bytes() == stored.read_bytes()
    (root / "manifest.json").unlink()  # every partition looked at anew: linked again, where it can
    publish(con, db)
    con.close()
    assert os.path.samefile(tree, stored)
    assert [p for p in root.rglob("*") if p.name.endswith(".tmp")] == []
    (root / "manifest.json").unlink()
    with duckdb.connect(str(db)) as again:
        publish(again, db)  # linked already: nothing to rename, nothing left beside it
    assert [p for p in root.rglob("*") if p.name.endswith(".tmp")] == []


def test_a_view_no_longer_published_keeps_its_stored_files_their_hour(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A mart renamed in an upgrade: its tree goes at once, the files an open catalog reads stay."""
    import pipeline.analyst

    db = tmp_path / "x.duckdb"
    con = _published(db)
    root = analyst_dir(db)
    old = root / ".store" / "old_mart" / "athlete=me" / "part-0.parquet"
    old.parent.mkdir(parents=True)
    old.write_bytes(next((root / ".store" / "flags").glob("_schema-*.parquet")).read_bytes())
    (root / "old_mart").mkdir()
    manifest = json.loads((root / "manifest.json").read_text())
    manifest["views"]["old_mart"] = {"signature": "s", "partitions": {}}
    (root / "manifest.json").write_text(json.dumps(manifest))
    publish(con, db)
    manifest = json.loads((root / "manifest.json").read_text())
    assert "old_mart" not in manifest["views"] and not (root / "old_mart").exists()
    assert old.exists() and list(manifest["retired"]) == [".store/old_mart/athlete=me/part-0.parquet"]
    monkeypatch.setattr(pipeline.analyst, "RETIRED_KEPT_S", 0.0)
    publish(con, db)
    con.close()
    assert not (root / ".store" / "old_mart").exists()


def test_a_damaged_catalog_template_is_made_anew(tmp_path: Path) -> None:
    db, con, root = _one_flag(tmp_path)
    (root / ".catalog-template.duckdb").write_bytes(b"not a database" * 100)
    assert publish(con, db).catalog_written
    con.close()
    with duckdb.connect(str(catalog_path(db)), read_only=True) as cat:
        assert cat.execute("SELECT message FROM flags").fetchall() == [("one",)]
