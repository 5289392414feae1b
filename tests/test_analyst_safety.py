"""Issue 12, the analyst's side: `runlift sql` cannot write, attach, copy or read files; the
snapshot survives a crashed read-write analyst and opens in older DuckDB CLIs; the lock error
points at the snapshot; DuckDB's instance cache is documented; data never reaches the terminal
as Rich markup or control characters."""

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
from pipeline.app import cli
from pipeline.config import Config
from pipeline.db import DatabaseBusyError, connect, publish_snapshot, snapshot_path

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
HOSTILE = "[/b]\x1b[2J\x07[red]x"  # closes a tag never opened, clears the screen, rings the bell
HOSTILE_SHOWN = "[/b]\\x1b[2J\\x07[red]x"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty runlift DB (every model built) with one hostile flag and one hostile set."""
    path = tmp_path_factory.mktemp("analyst") / "runlift.duckdb"
    commands.init_db(path, Config())
    con = duckdb.connect(str(path))
    con.execute("INSERT INTO internal.rule_flags VALUES ('me', 'spacing.too_close', 'error', DATE '2026-09-08', "
                "'2026-W37', ?, '{}')", [f"Strength ({HOSTILE}) ended 1.2 h before the run"])
    con.execute("INSERT INTO raw.strength_sets (session_id, set_index, exercise_raw, set_type) "
                "VALUES ('s1', 0, ?, 'working')", [HOSTILE])
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
    attempts = {
        f"ATTACH '{alias}' AS w (READ_WRITE); DELETE FROM w.raw.strength_sets": disabled,
        f"ATTACH '{db}' AS w (READ_WRITE)": "already attached",
        f"ATTACH '{tmp_path / 'new.duckdb'}' AS n": disabled,
        f"COPY (SELECT 'x = 1') TO '{config}'": disabled,
        f"COPY raw.strength_sets FROM '{secret}'": disabled,
        f"SELECT * FROM read_text('{secret}')": disabled,
        f"SELECT * FROM read_csv('{secret}')": disabled,
        f"SELECT * FROM glob('{tmp_path}/*')": disabled,
        f"EXPORT DATABASE '{tmp_path / 'out'}'": disabled,
        "INSTALL httpfs": disabled,
        "SET enable_external_access = true": "the configuration has been locked",
        "RESET lock_configuration": "the configuration has been locked",
        "DROP TABLE internal.rule_flags": "read-only mode",
        "DELETE FROM raw.strength_sets": "read-only mode",
    }
    for sql, reason in attempts.items():
        code, out, err = run_main(monkeypatch, capsys, "--db", str(db), "--config", str(config), "sql", sql)
        assert (code, out) == (1, ""), sql
        assert err.startswith(REFUSED) and err.count("\n") == 1 and reason in err, (sql, err)
        assert "hunter2" not in err
    assert config.read_text() == '[athlete]\nid = "me"\n'
    assert not (tmp_path / "new.duckdb").exists() and not (tmp_path / "out").exists()
    code, out, _ = run_main(monkeypatch, capsys, "--db", str(db), "--config", str(config), "sql",
                            "SELECT count(*) AS n FROM flags", "--format", "json")
    assert (code, json.loads(out)) == (0, [{"n": 1}])  # reading works, and nothing was dropped


def test_readme_says_what_sql_allows() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert ("`runlift sql` runs one query on a read-only connection that cannot attach databases, "
            "COPY to or from files, read or list files (`read_csv`, `read_text`, `glob`), install extensions "
            "or change settings (`SET`)") in " ".join(readme.split())


# ------------------------------------------------------------------ 2. a crashed analyst's WAL

def _tiny_db(path: Path, value: int) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    con.execute("CREATE OR REPLACE TABLE marks AS SELECT ? AS v", [value])
    return con


def test_a_crashed_read_write_analyst_leaves_no_wal_the_next_snapshot_pairs_with(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    con = _tiny_db(db, 1)
    snap = publish_snapshot(con, db)
    # an analyst opens the snapshot read-write, writes without a checkpoint, and is killed
    code = ("import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
            "c.execute(\"SET checkpoint_threshold = '1TB'\"); "
            "c.execute('CREATE TABLE mine AS SELECT 42 AS x'); c.execute('INSERT INTO marks VALUES (2)'); "
            "print('written', flush=True); time.sleep(60)")
    analyst = subprocess.Popen([sys.executable, "-c", code, str(snap)], stdout=subprocess.PIPE, text=True)
    assert analyst.stdout is not None and analyst.stdout.readline() == "written\n"
    analyst.send_signal(signal.SIGKILL)
    analyst.wait()
    assert snap.with_name("x.snapshot.duckdb.wal").stat().st_size > 0
    con.execute("CREATE OR REPLACE TABLE marks AS SELECT 3 AS v")
    publish_snapshot(con, db)
    con.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.duckdb", "x.snapshot.duckdb"]
    with duckdb.connect(str(snap), read_only=True) as reader:
        assert reader.execute("SELECT v FROM marks").fetchall() == [(3,)]
        assert reader.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'mine'").fetchone() == (0,)


# ------------------------------------------------------------------ 3. the lock error

def test_the_lock_error_points_analysts_at_the_snapshot(tmp_path: Path) -> None:
    db = tmp_path / "busy.duckdb"
    _tiny_db(db, 1).close()
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
                               "analysts: open busy.snapshot.duckdb or use `runlift sql`")
    code = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('open', flush=True); time.sleep(60)"
    writer = subprocess.Popen([sys.executable, "-c", code, str(db)], stdout=subprocess.PIPE, text=True)
    try:  # and a reader (`runlift sql`, `flags`) waiting for a writer is told to retry or read the snapshot
        assert writer.stdout is not None and writer.stdout.readline() == "open\n"
        with pytest.raises(DatabaseBusyError) as busy:
            connect(db, read_only=True)
    finally:
        writer.kill()
        writer.wait()
    assert str(busy.value) == (f"{db} is locked by another process (pid {writer.pid}) that writes it; "
                               "retry when it is done, or open busy.snapshot.duckdb")


# ------------------------------------------------------------------ 4. the snapshot's storage version

def _storage_version(path: Path) -> int:
    """The version number in a DuckDB file's main header (after the 8-byte checksum and b"DUCK")."""
    header = path.read_bytes()[:20]
    assert header[8:12] == b"DUCK"
    return int(struct.unpack("<Q", header[12:20])[0])


def test_the_snapshot_opens_in_the_current_and_previous_duckdb_cli(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    con = _tiny_db(db, 1)
    snap = publish_snapshot(con, db)
    con.close()
    # the DuckDB CLI 1.5 reads storage versions 64-68, 1.4 reads 64-67; DuckDB 2.0 writes its own
    assert _storage_version(snap) == 67
    with duckdb.connect(str(snap), read_only=True) as reader:
        assert reader.execute("SELECT tags FROM duckdb_databases() WHERE database_name = current_database()"
                              ).fetchone() == ({"storage_version": "v1.4.0+"},)
        assert reader.execute("SELECT v FROM marks").fetchall() == [(1,)]


def test_the_snapshot_keeps_every_object_and_comment(db: Path) -> None:
    con = duckdb.connect(str(db))
    publish_snapshot(con, db)
    con.close()
    catalog = ("SELECT 'table', schema_name, table_name, comment FROM duckdb_tables() UNION ALL "
               "SELECT 'view', schema_name, view_name, comment FROM duckdb_views() WHERE NOT internal UNION ALL "
               "SELECT 'column', schema_name, table_name || '.' || column_name, comment FROM duckdb_columns() "
               "WHERE NOT internal ORDER BY ALL")
    with duckdb.connect(str(db), read_only=True) as live:
        expected = live.execute(catalog).fetchall()
    with duckdb.connect(str(snapshot_path(db)), read_only=True) as snap:
        assert snap.execute(catalog).fetchall() == expected
    assert len(expected) > 100 and any(row[0] == "view" and row[3] for row in expected)


# ------------------------------------------------------------------ 5. DuckDB's instance cache

def test_the_instance_cache_is_documented_where_analysts_read(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    con = _tiny_db(db, 1)
    snap = publish_snapshot(con, db)
    first = duckdb.connect(str(snap), read_only=True)
    con.execute("CREATE OR REPLACE TABLE marks AS SELECT 2 AS v")
    publish_snapshot(con, db)
    con.close()
    # what the note warns of: while `first` is open, a new connection gets the old data ...
    with duckdb.connect(str(snap), read_only=True) as again:
        assert again.execute("SELECT v FROM marks").fetchall() == [(1,)]
    first.close()
    with duckdb.connect(str(snap), read_only=True) as fresh:  # ... and after closing it, the new
        assert fresh.execute("SELECT v FROM marks").fetchall() == [(2,)]
    note = ("In one Python process, close every connection to the snapshot before reconnecting after a build: "
            "while one is open, DuckDB hands new connections the same, old data.")
    assert note.removesuffix(".") in " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    shown = runner.invoke(cli.app, ["--db", str(db), "--config", str(tmp_path / "none.toml"), "models"])
    assert shown.exit_code == 1  # a named config that is missing is an error for models too
    shown = runner.invoke(cli.app, ["--db", str(db), "models"], catch_exceptions=False)
    where = "Analysts: open x.snapshot.duckdb (every build publishes it; open it read-only) or use `runlift sql`."
    assert f"{where} {note}" in " ".join(shown.output.split())


# ------------------------------------------------------------------ 6. markup and control characters

def test_flags_and_sql_tables_print_markup_and_controls_as_text(db: Path) -> None:
    flags = runner.invoke(cli.app, ["--db", str(db), "flags"], catch_exceptions=False)
    assert flags.exit_code == 0
    assert f"Strength ({HOSTILE_SHOWN}) ended 1.2 h before the run" in flags.output
    assert "\x1b" not in flags.output and "\x07" not in flags.output
    sql = runner.invoke(cli.app, ["--db", str(db), "sql", "SELECT exercise_raw AS \"[b]name\" FROM raw.strength_sets"],
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
