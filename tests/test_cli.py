"""The `runlift` CLI through its runner (typer's CliRunner) and, for exit codes, as a process."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.app.cli import app

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT = Path(__file__).parent / "snapshots" / "demo_flags.json"
runner = CliRunner()


def cli(db: Path, *args: str) -> str:
    result = runner.invoke(app, ["--db", str(db), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    work = tmp_path_factory.mktemp("demo")
    # the user's own DB in the folder (./runlift.duckdb, as `runlift init` makes it) and the --db one:
    # the demo keeps to its folder and never opens either
    theirs = {work / "runlift.duckdb": b"the user's DB", work / "mine.duckdb": b"the --db DB"}
    for path, content in theirs.items():
        path.write_bytes(content)
    here = os.getcwd()
    os.chdir(work)
    try:
        output = cli(work / "mine.duckdb", "demo", "my-demo")
    finally:
        os.chdir(here)
    assert {p: p.read_bytes() for p in theirs} == theirs
    assert sorted(p.name for p in work.iterdir()) == ["mine.duckdb", "my-demo", "runlift.duckdb"]
    return work / "my-demo" / "runlift.duckdb", output


def test_demo_prints_summary_weeks_and_flags(demo_db: tuple[Path, str]) -> None:
    db, output = demo_db
    assert "ingest: 52 new, 1 duplicate, 0 skipped, 1 quarantined, 0 ignored, 3 not activity files" in output
    assert "2026-W35" in output and "build: as of 2026-10-26: 6 errors, 8 warnings, 4 info" in output
    assert "spacing.too_close" in output
    assert "report 2026-W38: my-demo/reports/me-2026-W38.html (and me-2026-W38.md)" in output
    assert (db.parent / "reports" / "me-2026-W38.html").read_text().startswith("<!DOCTYPE html>")


def test_demo_flags_equal_the_snapshot(demo_db: tuple[Path, str]) -> None:
    db, _ = demo_db
    flags = json.loads(cli(db, "flags", "--format", "json"))
    assert flags == json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    # and agree with what the sample-data generator planted, derived independently of the rules
    planted = json.loads((ROOT / "sample_data" / "expected_flags.json").read_text(encoding="utf-8"))["flags"]
    assert [(f["rule"], f["date"], f["week"]) for f in flags] == [(f["rule"], f["date"], f["week"]) for f in planted]


@pytest.mark.parametrize("width", [20, 45, 80, 160, 300])
@pytest.mark.parametrize("colour", [False, True])
def test_the_flag_table_prints_byte_for_byte_as_richs_table(width: int, colour: bool) -> None:
    import io

    from rich.console import Console
    from rich.table import Table

    from pipeline.app.cli import FLAG_TABLE_COLUMNS, _flag_table
    from pipeline.app.terminal import cell

    flags = json.loads(SNAPSHOT.read_text(encoding="utf-8")) + [
        {"date": "2026-01-05", "week": "2026-W02", "severity": "odd", "rule": "r" * 70, "message": "日本語の文 " * 30},
        {"date": "", "week": "", "severity": "info", "rule": "", "message": ""},
        {"date": "[bold]x[/]", "week": "  lead", "severity": "error", "rule": "a\x1bb", "message": "w" * 300 + " a  "}]
    table = Table(*FLAG_TABLE_COLUMNS)  # what `runlift flags` printed before its own layout
    style = {"error": "red", "warning": "yellow", "info": "cyan"}
    for f in flags:
        table.add_row(cell(f["date"]), cell(f["week"]), cell(f["severity"], style.get(f["severity"], "")),
                      cell(f["rule"]), cell(f["message"]))
    printed = []
    for renderable in (table, _flag_table(flags)):
        buffer = io.StringIO()
        Console(file=buffer, width=width, force_terminal=colour, color_system="truecolor" if colour else None
                ).print(renderable)
        printed.append(buffer.getvalue())
    assert printed[1] == printed[0]
    assert ("\x1b[33m" in printed[0]) is colour and ("日本語" in printed[0] or width < 80)


def query(db: Path, sql: str) -> list[list]:
    return [list(r.values()) for r in json.loads(cli(db, "sql", sql, "--format", "json"))]


def test_demo_v2_planted_cases(demo_db: tuple[Path, str]) -> None:
    """The contract v2 cases sample_data/README.md lists, read from the views the rules stand on."""
    db, _ = demo_db
    quality = query(db, "select cast(local_date as varchar), quality_reason from activities where is_quality "
                    "and local_date in ('2026-08-18', '2026-09-22', '2026-09-29', '2026-10-18', '2026-08-11') "
                    "order by local_date")
    assert quality == [["2026-08-11", "title"], ["2026-08-18", "laps"], ["2026-09-22", "threshold_hr"],
                       ["2026-09-29", "threshold_pace"], ["2026-10-18", "race"]]
    warmups = query(db, "select cast(r.local_date as varchar), s.title, sp.gap_hours < 0.1 from spacing as sp "
                    "join activities as r using (activity_id) join strength_sessions as s using (session_id) "
                    "where sp.is_warmup")
    assert warmups == [["2026-08-10", "Lower A", True]]
    not_qualifying = query(db, "select cast(local_date as varchar), title, why_not from strength_sessions "
                           "where not qualifies")
    assert not_qualifying == [["2026-08-26", "Mobility", "mobility_only"]]
    verdicts = query(db, "select iso_week, strength_sessions, verdict from weekly_compliance "
                     "where iso_week in ('2026-W35', '2026-W39', '2026-W41') order by iso_week")
    assert verdicts == [["2026-W35", 1, "short"], ["2026-W39", 2, "met"], ["2026-W41", 2, "over"]]


def test_demo_v2_loads_without_full_heart_rate(demo_db: tuple[Path, str]) -> None:
    """The HR dropout (5 of 60 min) and the run without HR get estimated loads; every other run's is HR-based."""
    db, _ = demo_db
    not_hr = query(db, "select cast(local_date as varchar), load_source from activities "
                       "where sport = 'running' and load_source <> 'hr' order by local_date")
    assert not_hr == [["2026-09-02", "estimated"], ["2026-09-29", "estimated"]]
    dropout = query(db, "select hr_coverage < 0.1, load > 60 from activities where local_date = '2026-09-02'")
    assert dropout == [[True, True]]  # estimated from the athlete's TRIMP per minute, not 5 min of TRIMP


def test_flags_filters_and_formats(demo_db: tuple[Path, str]) -> None:
    db, _ = demo_db
    week = json.loads(cli(db, "flags", "--week", "2026-W41", "--format", "json"))
    assert [(f["rule"], f["date"]) for f in week] == [("taper.long_session", "2026-10-06"),
                                                     ("taper.too_many_sessions", "2026-10-09")]
    spacing = json.loads(cli(db, "flags", "--rule", "spacing", "--format", "json"))
    assert [(f["rule"], f["date"]) for f in spacing] == [
        ("spacing.before_quality", "2026-08-18"), ("spacing.too_close", "2026-09-05"),
        ("spacing.before_quality", "2026-09-08"), ("spacing.suboptimal", "2026-09-16"),
        ("spacing.before_long_run", "2026-09-20"), ("spacing.before_quality", "2026-09-22"),
        ("spacing.before_quality", "2026-09-29")]
    since = json.loads(cli(db, "flags", "--since", "2026-10-01", "--format", "json"))
    assert [f["date"] for f in since] == ["2026-10-06", "2026-10-09"]
    csv_out = cli(db, "flags", "--rule", "taper.long_session", "--format", "csv").splitlines()
    assert csv_out[0] == "date,week,athlete,severity,rule,message,evidence"
    assert csv_out[1].startswith("2026-10-06,2026-W41,me,warning,taper.long_session,")


def test_sql_and_models(demo_db: tuple[Path, str]) -> None:
    db, _ = demo_db
    out = cli(db, "sql", "select iso_week, strength_sessions from weekly_compliance "
                         "where iso_week = '2026-W35'", "--format", "json")
    assert json.loads(out) == [{"iso_week": "2026-W35", "strength_sessions": 1}]
    models = cli(db, "models")
    order = re.findall(r"^\s*\d+\. (\w+) \(", models, flags=re.M)
    assert order.index("stg_activities") < order.index("int_runs") < order.index("daily_load") < order.index(
        "weekly_load")
    assert "grain: one row per athlete per local day" in models


def test_init_writes_a_valid_commented_config_and_db(tmp_path: Path) -> None:
    out = cli(tmp_path / "runlift.duckdb", "init", str(tmp_path))
    cfg = tmp_path / "runlift.toml"
    assert "wrote" in out and cfg.exists() and (tmp_path / "runlift.duckdb").exists()
    assert tomllib.loads(cfg.read_text())["rules"]["min_gap_hours"] == 3
    assert "#" in cfg.read_text()
    cfg.write_text(cfg.read_text() + "\n# mine\n")
    assert "left as it is" in cli(tmp_path / "runlift.duckdb", "init", str(tmp_path))
    assert cfg.read_text().endswith("# mine\n")


def run_process(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline.app.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize(("toml", "needle"), [
    ('[athlete]\nid = "x"\ntimezone = "Mars/Olympus"\n', "'athlete.timezone': unknown time zone 'Mars/Olympus'"),
    ('[athlete]\nmax_heart = 190\n', "unknown key 'athlete.max_heart'"),
    ('[rules]\nmin_gap_hours = "three"\n', "'rules.min_gap_hours'"),
    ('[sources.strong]\nweight_unit = "stone"\n', "'sources.strong.weight_unit'"),
    ('[athlete\n', "not valid TOML"),
])
def test_config_errors_are_one_line_exit_1(tmp_path: Path, toml: str, needle: str) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text(toml)
    r = run_process("--db", str(tmp_path / "x.duckdb"), "--config", str(cfg), "build")
    assert r.returncode == 1
    assert len(r.stderr.strip().splitlines()) == 1 and needle in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("verb", [["build"], ["flags"], ["sql", "select 1"], ["exercises"], ["report"]])
def test_an_alias_to_an_unknown_exercise_is_an_error_from_every_command(tmp_path: Path, verb: list[str]) -> None:
    cfg = tmp_path / "runlift.toml"
    cfg.write_text('[exercise_aliases]\n"Bulgarian SS" = "bulgarian splitsquat"\n')
    r = run_process("--db", str(tmp_path / "x.duckdb"), "--config", str(cfg), *verb)
    assert r.returncode == 1
    assert r.stderr.strip() == (f"runlift: {cfg}: invalid value for 'exercise_aliases.\"Bulgarian SS\"': unknown "
                                "exercise 'bulgarian splitsquat' (did you mean 'bulgarian split squat'? "
                                "`runlift exercises` lists the table)")


def test_user_errors_exit_1_and_usage_errors_exit_2(tmp_path: Path) -> None:
    missing = run_process("--db", str(tmp_path / "x.duckdb"), "ingest", str(tmp_path / "nope"))
    assert missing.returncode == 1 and "no such file or directory" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1
    usage = run_process("flags", "--format", "yaml")
    assert usage.returncode == 2
    bad_week = run_process("flags", "--week", "37")
    assert bad_week.returncode == 2


def test_sql_is_read_only(demo_db: tuple[Path, str]) -> None:
    db, _ = demo_db
    r = run_process("--db", str(db), "sql", "delete from ingest_log")
    assert r.returncode == 1 and "read-only" in r.stderr.lower()
    assert json.loads(cli(db, "sql", "select count(*) as n from ingest_log", "--format", "json"))[0]["n"] == 54


def test_csv_output_neutralises_formulas(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from gpxgen import gpx_run

    for i, title in enumerate(["=HYPERLINK(\"http://x\")", "+1+1", "-2", "@SUM(A1)", "plain"]):
        (tmp_path / f"r{i}.gpx").write_text(gpx_run(datetime(2026, 5, 4 + i, 6, tzinfo=UTC), points=5, name=title))
    db = tmp_path / "f.duckdb"
    cli(db, "ingest", str(tmp_path))
    out = cli(db, "sql", "select title from activities order by start_utc", "--format", "csv").splitlines()
    assert out == ["title", "\"'=HYPERLINK(\"\"http://x\"\")\"", "'+1+1", "'-2", "'@SUM(A1)", "plain"]


def test_more_user_errors_are_one_line(tmp_path: Path) -> None:
    missing_cfg = run_process("--config", str(tmp_path / "nosuch.toml"), "build")
    assert missing_cfg.returncode == 1 and "no such config file" in missing_cfg.stderr
    db = tmp_path / "d.duckdb"
    cli(db, "init", str(tmp_path))
    cli(db, "--config", str(tmp_path / "runlift.toml"), "build", "--as-of", "2026-10-26")
    bad_week = run_process("--db", str(db), "report", "--week", "2026-W54")
    (tmp_path / "file").write_text("x")
    bad_out = run_process("--db", str(db), "report", "--week", "2026-W40", "--out", str(tmp_path / "file"))
    for r in (bad_week, bad_out):
        assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_models_name_prints_its_columns_with_descriptions(tmp_path: Path) -> None:
    out = cli(tmp_path / "x.duckdb", "models", "activities")
    assert "activities (marts, table)" in out
    # the whole description, after its comma (a YAML flow-mapping comma once cut it in half)
    assert "Strava activities.csv); FIT files have none." in out
    res = run_process("models", "nope")
    assert res.returncode == 2 and "no model 'nope'" in res.stderr


def test_flags_severity_is_the_lowest_shown_and_athlete_filters(demo_db: tuple[Path, str]) -> None:
    db, _ = demo_db
    every = json.loads(cli(db, "flags", "--format", "json"))
    by_severity = {s: [f for f in every if f["severity"] == s] for s in ("error", "warning", "info")}
    assert [len(by_severity[s]) for s in ("error", "warning", "info")] == [6, 8, 4]
    assert json.loads(cli(db, "flags", "--severity", "error", "--format", "json")) == by_severity["error"]
    warning_up = json.loads(cli(db, "flags", "--severity", "warning", "--format", "json"))
    assert warning_up == [f for f in every if f["severity"] != "info"]
    assert json.loads(cli(db, "flags", "--severity", "info", "--format", "json")) == every
    assert json.loads(cli(db, "flags", "--athlete", "me", "--format", "json")) == every
    # an athlete the config does not name is a usage error listing the ids, as an unknown --rule is
    other = runner.invoke(app, ["--db", str(db), "flags", "--athlete", "someone-else"])
    assert other.exit_code == 2 and "unknown athlete 'someone-else'; athletes: me" in other.output


def test_flags_usage_and_user_errors(tmp_path: Path, demo_db: tuple[Path, str]) -> None:
    db, _ = demo_db
    unknown = run_process("--db", str(db), "flags", "--rule", "spacing.too_far")
    assert unknown.returncode == 2 and "unknown rule 'spacing.too_far'" in unknown.stderr
    assert "spacing.too_close" in unknown.stderr  # the ids are listed
    assert run_process("--db", str(db), "flags", "--severity", "loud").returncode == 2
    for args in (["flags"], ["sql", "select 1"], ["report"]):
        missing = run_process("--db", str(tmp_path / "none.duckdb"), *args, cwd=tmp_path)
        assert missing.returncode == 1, args
        assert missing.stderr.startswith("runlift: ") and "no such database" in missing.stderr
        assert len(missing.stderr.splitlines()) == 1
        no_config = run_process("--db", str(db), "--config", str(tmp_path / "gone.toml"), *args, cwd=tmp_path)
        assert no_config.returncode == 1
        assert no_config.stderr == f"runlift: {tmp_path / 'gone.toml'}: no such config file\n"


# what a verb that needs none of them must not import: each costs 0.1-1 s of start-up
HEAVY = ("pandas", "pyarrow", "numpy", "prefect", "sqlglot", "jinja2", "matplotlib", "yaml", "pipeline.models",
         "pipeline.analyst", "pipeline.parsers.fit")
_PROBE = ("import atexit, sys\n"
          "heavy = sys.argv.pop().split(',')\n"
          "atexit.register(lambda: print('imported:', sorted(m for m in heavy if m in sys.modules), file=sys.stderr))\n"
          "from pipeline.app.cli import main\n"
          "main()")


def imported_heavy(cwd: Path, *args: str, heavy: tuple[str, ...] = HEAVY) -> tuple[subprocess.CompletedProcess, str]:
    """Run the CLI in a fresh process; the heavy modules it imported (the last stderr line)."""
    done = subprocess.run([sys.executable, "-c", _PROBE, *args, ",".join(heavy)], cwd=cwd, capture_output=True,
                          text=True, timeout=120)
    return done, done.stderr.strip().splitlines()[-1]


def test_help_flags_and_an_unchanged_resync_import_no_heavy_module(tmp_path: Path) -> None:
    import shutil

    inbox = tmp_path / "inbox"
    shutil.copytree(ROOT / "sample_data" / "runs", inbox / "runs")
    shutil.copytree(ROOT / "sample_data" / "strength", inbox / "strength")
    shutil.copy(ROOT / "sample_data" / "runlift.toml", tmp_path / "runlift.toml")
    db = str(tmp_path / "runlift.duckdb")
    first = run_process("--db", db, "ingest", "inbox/runs", "inbox/strength", cwd=tmp_path)
    assert first.returncode == 0, first.stderr

    help_, imported = imported_heavy(tmp_path, "--help", heavy=(*HEAVY, "duckdb", "pydantic"))
    assert help_.returncode == 0 and "ingest" in help_.stdout
    assert imported == "imported: []"
    flags, imported = imported_heavy(tmp_path, "--db", db, "flags")
    assert flags.returncode == 0, flags.stderr
    assert imported == "imported: []"
    again, imported = imported_heavy(tmp_path, "--db", db, "ingest", "inbox/runs", "inbox/strength")
    assert again.returncode == 0, again.stderr
    assert "ingest: 0 new, 0 duplicate, 53 skipped, 0 quarantined" in again.stdout
    assert imported == "imported: []"
    # a changed inbox still refreshes the models: the guard is about the unchanged path only
    (inbox / "runs" / "2026-08-08_0900_easy.fit").rename(inbox / "runs" / "renamed.fit")
    renamed, imported = imported_heavy(tmp_path, "--db", db, "ingest", "inbox/runs", "inbox/strength")
    assert renamed.returncode == 0, renamed.stderr
    assert "pipeline.models" in imported
    # a build imports the models and the rules, but neither pandas nor Prefect (~0.2 s and ~1 s)
    built, imported = imported_heavy(tmp_path, "--db", db, "build", "--as-of", "2026-08-17",
                                     heavy=("pandas", "pyarrow", "numpy", "prefect", "pipeline.models"))
    assert built.returncode == 0, built.stderr
    assert built.stdout.startswith("build: as of 2026-08-17: ")
    assert imported == "imported: ['pipeline.models']"


@pytest.mark.parametrize("file", ["runs/2026-08-08_0900_easy.fit", "runs/2026-08-11_1830_intervals.gpx",
                                  "corpus/tcx/tcxparser__test.tcx", "strength/strong.csv", "strength/hevy.csv"])
def test_ingesting_one_new_file_never_imports_pandas(tmp_path: Path, file: str) -> None:
    """pandas costs an ingest ~0.2 s of start-up: parsers and writer build Arrow directly."""
    from conftest import CORPUS

    source = (CORPUS / file.removeprefix("corpus/")) if file.startswith("corpus/") else ROOT / "sample_data" / file
    if not source.exists():
        pytest.skip("shared corpus not present")
    db = str(tmp_path / "runlift.duckdb")
    done, imported = imported_heavy(tmp_path, "--db", db, "ingest", str(source), heavy=("pandas",))
    assert done.returncode == 0, done.stderr
    assert "ingest: 1 new, 0 duplicate, 0 skipped, 0 quarantined" in done.stdout
    assert imported == "imported: []"
