"""`runlift` command line: thin wrappers over :mod:`pipeline.commands`.

Exit codes (SPEC): 0 success, 1 user error (one line on stderr, no traceback), 2 usage.
Prefect is imported only when a verb runs as a flow (``--prefect`` or ``PREFECT_API_URL``).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sys
from concurrent.futures import BrokenExecutor
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from pipeline.app.terminal import cell, markup_safe, printable
from pipeline.errors import ConfigError, MissingDatabaseError, QueryError, UserError
from pipeline.wording import SEVERITIES, counts_text, severity_counts

if TYPE_CHECKING:
    import duckdb

    from pipeline.app.table import TextTable
    from pipeline.build import BuildResult
    from pipeline.config import Config

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="runlift: watch exports and strength logs into DuckDB, rules and a weekly report.",
)
# piped output (a file, a CI log) gets wide lines instead of rich's 80-column default
out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True)


DEFAULT_CONFIG = Path("runlift.toml")


class State:
    db: Path = Path("runlift.duckdb")
    config_path: Path = DEFAULT_CONFIG

    @classmethod
    def config(cls) -> Config:
        """The validated config (aliases included); only the implicit ./runlift.toml may be missing
        (defaults then). Commands that need no config call it too: a bad config is an error from
        every command (SPEC Config)."""
        if cls.config_path != DEFAULT_CONFIG and not cls.config_path.exists():
            raise ConfigError(f"{cls.config_path}: no such config file")
        return _validated(cls.config_path)


def _validated(path: Path) -> Config:
    # the config (pydantic) and duckdb are imported by the verbs that use them: `--help` imports neither
    from pipeline.config import check_exercise_aliases, load_config

    config = load_config(path)
    if config.exercise_aliases:  # the table (~20 ms to import, 0.1-0.3 s of regex compiling): only for aliases
        from pipeline.exercises import canonical_names

        check_exercise_aliases(config, canonical_names())
    return config


# OSError covers a missing or unwritable path, a full disk; BrokenExecutor is a parse pool's
# BrokenProcessPool (its module, concurrent.futures.process, is not imported for every verb)
USER_ERRORS = (UserError, OSError, BrokenExecutor)


def main() -> None:
    try:
        app()
    except USER_ERRORS as e:
        _fail(str(e), getattr(e, "exit_code", 1))
    except Exception as e:
        duckdb = sys.modules.get("duckdb")  # not imported: not a DuckDB error
        if duckdb is None or not isinstance(e, duckdb.Error):
            raise
        _fail(f"database error: {str(e).splitlines()[0]}")


def _fail(message: str, code: int = 1) -> None:
    print(f"runlift: {printable(message.splitlines()[0]) if message else 'error'}", file=sys.stderr)
    sys.exit(code)


@app.callback()
def _global(
    db: Annotated[Path, typer.Option(envvar="RUNLIFT_DB", metavar="PATH", help="DuckDB file.")] = Path(
        "runlift.duckdb"
    ),
    config: Annotated[Path, typer.Option(envvar="RUNLIFT_CONFIG", metavar="PATH", help="Config file.")] = Path(
        "runlift.toml"
    ),
) -> None:
    State.db, State.config_path = db, config


def _use_prefect(flag: bool) -> bool:
    """Whether the verb runs as a tracked flow; if so, what it starts (Prefect's temporary server
    when no API is configured) ends with runlift, even a killed one."""
    tracked = flag or bool(os.environ.get("PREFECT_API_URL"))
    if tracked:
        from pipeline.orphans import end_descendants_with_this_process

        end_descendants_with_this_process()
    return tracked


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="Folder for runlift.toml and the DB.")] = Path("."),
) -> None:
    """Write a commented runlift.toml and an empty DB with the schema."""
    from pipeline import commands

    directory.mkdir(parents=True, exist_ok=True)
    cfg_path = directory / "runlift.toml"
    if cfg_path.exists():
        out.print(cell(f"{cfg_path} exists; left as it is"))
    else:
        from pipeline.config import TEMPLATE

        cfg_path.write_text(TEMPLATE, encoding="utf-8")
        out.print(cell(f"wrote {cfg_path}"))
    db = State.db if State.db.is_absolute() or directory == Path(".") else directory / State.db
    commands.init_db(db, _validated(cfg_path))
    out.print(cell(f"created {db}"))


def _progress_ingest(paths: list[Path], athlete: str | None, prefect: bool, refresh_models: bool = True,
                     retry_quarantined: bool = False):
    from pipeline import commands

    config = State.config()
    if _use_prefect(prefect):
        from flows.ingest import ingest_flow

        if retry_quarantined:
            raise ConfigError("--retry-quarantined: run it without Prefect (runlift ingest PATH --retry-quarantined)")
        return ingest_flow(State.db, config, paths, athlete)
    if not err.is_terminal:  # no bar on a pipe or in a log: no per-file update (~15 us each, 40,000 at club scale)
        return commands.ingest(State.db, config, paths, athlete=athlete, refresh_models=refresh_models,
                               retry_quarantined=retry_quarantined)
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed} files"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task("ingesting", total=None)

        def on_item(file: str, status: str) -> None:
            name = file.rsplit("!", 1)[-1].rsplit("/", 1)[-1]
            progress.update(task, advance=1, description=markup_safe(f"{status}: {name}"))

        return commands.ingest(State.db, config, paths, athlete=athlete, on_item=on_item,
                               refresh_models=refresh_models, retry_quarantined=retry_quarantined)


def _print_summary(summary) -> None:
    out.print(
        f"ingest: [bold]{summary.new}[/] new, {summary.duplicate} duplicate, {summary.skipped} skipped, "
        f"{summary.quarantined} quarantined, {summary.ignored} ignored"
        + (f", {summary.unsupported} not activity files" if summary.unsupported else "")
        + f" ({summary.activities} activities, {summary.sessions} strength sessions read)"
    )
    for file, reason in summary.quarantine_reasons:
        out.print(f"  [yellow]quarantined[/] {markup_safe(file)}: {markup_safe(reason)}", highlight=False)
    for file, reason in summary.loaded_with_reasons:
        out.print(f"  [yellow]loaded[/] {markup_safe(file)}: {markup_safe(reason)}", highlight=False)


RetryQuarantined = Annotated[bool, typer.Option(
    "--retry-quarantined", help="Parse files quarantined earlier again (after an upgrade).")]


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(metavar="PATH", help="Files, folders (recursive), .gz or .zip.")],
    athlete: Annotated[str | None, typer.Option(metavar="ID", help="Athlete id the files belong to.")] = None,
    prefect: Annotated[bool, typer.Option("--prefect", help="Run as a tracked Prefect flow.")] = False,
    retry_quarantined: RetryQuarantined = False,
) -> None:
    """Load watch exports and strength logs; idempotent; bad files are quarantined."""
    _print_summary(_progress_ingest(paths, athlete, prefect, retry_quarantined=retry_quarantined))


@app.command()
def models(
    name: Annotated[
        str | None, typer.Argument(metavar="NAME", help="A model: print its columns and their descriptions.")
    ] = None,
) -> None:
    """The SQL models in run order with their grain and description (the analyst's map)."""
    from pipeline.analyst import analyst_dir, catalog_path
    from pipeline.models import discover

    State.config()  # a bad config is an error here too
    found = discover()
    if name is None:
        for i, m in enumerate(found, 1):
            out.print(f"[bold]{i:2}. {m.name}[/] [dim]({m.layer}, {m.materialized})[/]", highlight=False)
            out.print(f"    grain: {escape(m.grain)}", highlight=False)
            out.print(f"    {escape(m.description)}", highlight=False)
        out.print(cell(analyst_note(catalog_path(State.db).name, analyst_dir(State.db).name)), highlight=False)
        return
    model = next((m for m in found if m.name == name), None)
    if model is None:
        raise typer.BadParameter(f"no model {name!r}; `runlift models` lists them", param_hint="NAME")
    out.print(f"[bold]{model.name}[/] [dim]({model.layer}, {model.materialized})[/]", highlight=False)
    out.print(f"grain: {escape(model.grain)}", highlight=False)
    out.print(escape(model.description), highlight=False)
    from rich.table import Table

    table = Table("column", "description")
    for col in model.columns:
        table.add_row(escape(col["name"]), escape(col.get("description", "")))
    out.print(table)


def _query_error(e: duckdb.Error) -> str:
    import duckdb

    first = str(e).splitlines()[0]
    refused = isinstance(e, duckdb.PermissionException) or any(
        s in first for s in ("configuration has been locked", "read-only mode", "Unique file handle conflict"))
    if refused:
        return (f"query refused: `runlift sql` only reads the DB (no writes, ATTACH, COPY, file access or "
                f"SET): {first}")
    return f"query failed: {first}"


def analyst_note(catalog: str, folder: str) -> str:
    """Where analysts read the models, and DuckDB's instance cache (one process reuses a database
    it has open, so a new connection does not see a catalog published since)."""
    return (f"Analysts: open {catalog} read-only (views over the Parquet files in {folder}/, which every "
            f"build republishes where they changed) or use `runlift sql`; any Parquet reader can read "
            f"{folder}/VIEW/ too. A connection keeps the build it opened on (its files are kept an hour): "
            "connect again to see a later build; in one Python process, close every connection to the "
            "catalog first, as while one is open DuckDB hands new connections the old one.")


def _format_rows(columns: list[str], rows: list[tuple], fmt: str, terminal: bool | None = None) -> str:
    """JSON (control characters are escaped by JSON itself) or CSV; CSV printed to a terminal
    shows control characters as escapes, piped it keeps the data as it is."""
    if fmt == "json":
        return json.dumps([dict(zip(columns, r, strict=True)) for r in rows], default=_json_default, indent=1)
    if fmt == "csv":
        shown = printable if (sys.stdout.isatty() if terminal is None else terminal) else (lambda v: v)
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow([shown(c) for c in columns])
        writer.writerows([[_csv_cell(shown(v) if isinstance(v, str) else v) for v in r] for r in rows])
        return buf.getvalue().rstrip("\n")
    raise ValueError(fmt)


def _json_default(value: object) -> object:
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def _csv_cell(value: object) -> object:
    """Neutralise spreadsheet formula injection in user-controlled strings."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@app.command()
def sql(
    query: Annotated[str, typer.Argument(metavar="QUERY", help="A read-only SQL query.")],
    format: Annotated[str, typer.Option("--format", metavar="FORMAT", help="table | csv | json")] = "table",
) -> None:
    """Run a read-only query against the analyst layer (the views of the last build or ingest):
    no writes, ATTACH, COPY, file access or SET."""
    from pipeline import commands

    if format not in ("table", "csv", "json"):
        raise typer.BadParameter("use table, csv or json", param_hint="--format")
    State.config()  # a bad config is an error here too
    if not State.db.exists():
        raise MissingDatabaseError(f"{State.db}: no such database (run `runlift init` or `runlift ingest` first)")
    import duckdb

    try:
        columns, rows = commands.query(State.db, query)
    except duckdb.Error as e:
        raise QueryError(_query_error(e)) from None
    if format == "table":
        from rich.table import Table

        table = Table()
        for c in columns:
            table.add_column(cell(c))
        for r in rows:
            table.add_row(*(cell("" if v is None else v) for v in r))
        out.print(table)
    else:
        print(_format_rows(columns, rows, format))


@app.command()
def exercises(
    unknown: Annotated[
        bool, typer.Option("--unknown", help="Logged exercise names the table does not know, with their set counts.")
    ] = False,
    format: Annotated[str, typer.Option("--format", metavar="FORMAT", help="table | csv | json")] = "table",
) -> None:
    """The exercise table (name, pattern, unilateral, plyometric, lower body); --unknown lists the
    logged names it does not know, so they can be aliased in [exercise_aliases]."""
    from pipeline import commands

    if format not in ("table", "csv", "json"):
        raise typer.BadParameter("use table, csv or json", param_hint="--format")
    if unknown:
        columns, rows = commands.unknown_exercises(State.db, State.config())
    else:
        State.config()  # a bad config is an error here too
        columns, rows = commands.exercise_table()
    if format != "table":
        print(_format_rows(columns, rows, format))
    elif unknown and not rows:
        out.print("every logged exercise has a pattern")
    else:
        from rich.table import Table

        table = Table(*columns)
        for r in rows:
            table.add_row(*(("yes" if v else "") if isinstance(v, bool) else cell(v) for v in r))
        out.print(table)
        if not unknown:
            out.print("Names not listed are classified by the table's keyword rows (docs/exercises.md).",
                      highlight=False)


def _check_week(week: str | None) -> None:
    if week and not re.fullmatch(r"\d{4}-W\d{2}", week):
        raise typer.BadParameter(f"{week!r} is not an ISO week (YYYY-Www)", param_hint="--week")


def _as_of(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint="--as-of") from None


AsOf = Annotated[
    str | None, typer.Option("--as-of", metavar="DATE", help="Judge weeks ending before this date (default: today).")
]
PrefectFlag = Annotated[bool, typer.Option("--prefect", help="Run as a tracked Prefect flow.")]


def _print_build(result: BuildResult) -> None:
    counts = counts_text(severity_counts(f.severity for f in result.flags))
    out.print(f"build: as of {result.as_of}: {counts}")
    for line in result.notices:
        err.print(f"note: {markup_safe(line)}")


FullFlag = Annotated[bool, typer.Option("--full", help="Rebuild every model (default: only what new files touched).")]


@app.command()
def build(as_of: AsOf = None, full: FullFlag = False, prefect: PrefectFlag = False) -> None:
    """Run the SQL models (incrementally) and the rules; replaces the flags table."""
    config = State.config()
    if _use_prefect(prefect):
        from flows.build import build_flow

        result = build_flow(State.db, config, _as_of(as_of), full)
    else:
        from pipeline import commands

        result = commands.build(State.db, config, _as_of(as_of), full=full)
    _print_build(result)


@app.command()
def run(
    paths: Annotated[list[Path], typer.Argument(metavar="PATH", help="Files, folders (recursive), .gz or .zip.")],
    as_of: AsOf = None,
    athlete: Annotated[str | None, typer.Option(metavar="ID", help="Athlete id the files belong to.")] = None,
    prefect: PrefectFlag = False,
    retry_quarantined: RetryQuarantined = False,
) -> None:
    """Ingest, then build (one flow run when Prefect is configured)."""
    config = State.config()
    if _use_prefect(prefect):
        from flows.build import run_flow

        if retry_quarantined:
            raise ConfigError("--retry-quarantined: run it without Prefect (runlift run PATH --retry-quarantined)")
        summary, result = run_flow(State.db, config, paths, athlete, _as_of(as_of))
    else:
        from pipeline import commands

        # the build runs the models
        summary = _progress_ingest(paths, athlete, False, refresh_models=False, retry_quarantined=retry_quarantined)
        result = commands.build(State.db, config, _as_of(as_of), fresh_process=commands.big(summary))
    _print_summary(summary)
    _print_build(result)


def _flag_table(flags: list[dict]) -> TextTable:
    """The flags as rich's Table of these columns prints them (TextTable: ~10x faster on 1,670)."""
    from pipeline.app.table import TextTable

    style = {"error": "red", "warning": "yellow", "info": "cyan"}
    return TextTable(FLAG_TABLE_COLUMNS, [
        (cell(f["date"]), cell(f["week"]), cell(f["severity"], style.get(f["severity"], "")), cell(f["rule"]),
         cell(f["message"])) for f in flags])


FLAG_TABLE_COLUMNS = ("date", "week", "severity", "rule", "message")


@app.command()
def flags(
    week: Annotated[str | None, typer.Option("--week", metavar="YYYY-Www", help="ISO week, e.g. 2026-W37.")] = None,
    since: Annotated[
        str | None, typer.Option("--since", metavar="DATE", help="Only flags dated on or after (YYYY-MM-DD).")
    ] = None,
    rule: Annotated[
        str | None, typer.Option("--rule", metavar="ID", help="Rule id, or a family such as 'spacing'.")
    ] = None,
    severity: Annotated[
        str | None, typer.Option("--severity", metavar="LEVEL", help="Lowest severity shown: error, warning or info.")
    ] = None,
    athlete: Annotated[str | None, typer.Option("--athlete", metavar="ID", help="Only this athlete's flags.")] = None,
    format: Annotated[str, typer.Option("--format", metavar="FORMAT", help="table | json | csv")] = "table",
) -> None:
    """List the flags of the last build (exit 0 whatever it finds)."""
    from pipeline.flag_store import read_flags  # not pipeline.commands: flags imports no ingest or models
    from pipeline.rules import REGISTRY

    if format not in ("table", "json", "csv"):
        raise typer.BadParameter("use table, json or csv", param_hint="--format")
    if severity is not None and severity not in SEVERITIES:
        raise typer.BadParameter(f"use {', '.join(SEVERITIES)}", param_hint="--severity")
    families = {r.split(".")[0] for r in REGISTRY}
    if rule is not None and rule not in REGISTRY and rule not in families:
        raise typer.BadParameter(f"unknown rule {rule!r}; rules: {', '.join(sorted(REGISTRY))}", param_hint="--rule")
    config = State.config()  # a bad config is an error here too
    ids = [a.id for a in config.all_athletes]
    if athlete is not None and athlete not in ids:
        raise typer.BadParameter(f"unknown athlete {athlete!r}; athletes: {', '.join(ids)}", param_hint="--athlete")
    _check_week(week)
    since_date = None
    if since:
        try:
            since_date = date.fromisoformat(since)
        except ValueError:
            raise typer.BadParameter(f"{since!r} is not a date (YYYY-MM-DD)", param_hint="--since") from None
    found = read_flags(State.db, week=week, since=since_date, rule=rule, severity=severity, athlete=athlete)
    if format == "json":
        print(json.dumps(found, indent=1, ensure_ascii=False))
    elif format == "csv":
        cols = ["date", "week", "athlete", "severity", "rule", "message", "evidence"]
        rows = [tuple(json.dumps(f[c]) if c == "evidence" else f[c] for c in cols) for f in found]
        print(_format_rows(cols, rows, "csv"))
    elif found:
        out.print(_flag_table(found))
    else:
        out.print("no flags")


@app.command()
def report(
    week: Annotated[
        str | None, typer.Option("--week", metavar="YYYY-Www", help="ISO week (default: the last complete week).")
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", metavar="DIR", help="Folder for the report files ([report] out).")
    ] = None,
    send: Annotated[bool, typer.Option("--send", help="E-mail it (SMTP from RUNLIFT_SMTP_* variables).")] = False,
    prefect: PrefectFlag = False,
) -> None:
    """Write the weekly report (Markdown + HTML with charts) of the last build; --send e-mails it."""
    from pipeline import commands

    _check_week(week)
    config = State.config()
    if _use_prefect(prefect):
        from flows.report import report_flow

        written = report_flow(State.db, config, week, out_dir, send)
    else:
        written = commands.write_reports(State.db, config, week, out_dir)
        if send:
            commands.send_reports(config, written)
    for w in written:
        out.print(cell(f"{w.report.subject}: " + ", ".join(str(p) for p in w.paths.values())), highlight=False)
    if send:
        sent = sorted({to for w in written for to in config.email_to_for(w.report.athlete)}
                      | set(config.report.coach_email_to))
        out.print(f"sent to {', '.join(sent)}" if sent else "nobody to send to: set email_to in runlift.toml")


@app.command()
def serve() -> None:
    """Long-running: serve the sync-inbox (interval) and weekly-report (cron) deployments."""
    from pipeline.app import serve as serving

    config = State.config()

    def ready(api_url: str) -> None:
        out.print(
            f"Prefect API {api_url}: serving sync-inbox every {config.inbox.interval_minutes:g} min and "
            f"weekly-report on '{config.report.cron}' ({config.all_athletes[0].timezone}); Ctrl-C stops"
        )

    serving.serve(State.db, State.config_path, config, on_ready=ready)


@app.command()
def demo(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="Folder for the demo's own DB and reports.")] = Path(
        "runlift-demo"
    ),
) -> None:
    """Ingest sample_data/ into DIR/runlift.duckdb, build, print the weekly table and the flags, and
    write a report to DIR/reports/ (offline; never touches --db)."""
    from pipeline.app import demo as demo_lib

    directory.mkdir(parents=True, exist_ok=True)
    result = demo_lib.run_demo(directory / "runlift.duckdb", report_dir=directory / "reports")
    _print_summary(result.summary)
    out.print(demo_lib.week_table(result.weeks))
    _print_build(result.build)
    found = [f.as_json() for f in result.build.flags]
    out.print(_flag_table(found) if found else "no flags")
    for w in result.reports:
        out.print(cell(f"report {w.report.week}: {w.paths['html']} (and {w.paths['markdown'].name})"), highlight=False)


if __name__ == "__main__":
    main()
