"""What the CLI verbs and the Prefect flows do, as plain functions over a DB path and a config.

The CLI (``pipeline/app/cli.py``) only parses options and prints; the flows (``flows/``) wrap the
same steps in tasks. Nothing here imports Prefect.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from pipeline.config import Config
from pipeline.db import connect, connect_analyst, models_built, open_for_write, refuse_writes, transaction
from pipeline.errors import EmailConfigError, MissingDatabaseError
from pipeline.flag_store import read_flags as read_flags  # its own module: `runlift flags` imports little

# each verb imports what it needs in its function: `runlift flags`, `--help` or a re-sync of an
# unchanged inbox import no models, analyst layer or parsers (tests/test_cli.py guards it)
if TYPE_CHECKING:
    from duckdb import DuckDBPyConnection

    from pipeline.build import BuildResult
    from pipeline.ingest import OnItem, ParseJobs, Summary
    from pipeline.report import Report
    from pipeline.report.data import ReportData

LOCK_WAIT_S = 10.0  # how long a command waits for another process's DuckDB write lock
FLOW_LOCK_WAIT_S = 60.0  # a flow run (often scheduled, nobody watching) waits longer before failing


def init_db(db: Path, config: Config) -> None:
    """Create the DB with the raw schema and every model (empty)."""
    from pipeline.models import build_models

    con = open_for_write(db, config)
    try:
        build_models(con, aliases=config.exercise_aliases)
    finally:
        con.close()


# An ingest of this many new files refreshes the models (and `run` builds) in a fresh process:
# what parsing thousands of files leaves behind in this one (the native buffers of a Dask client,
# DuckDB's and the parsers' heaps; issue 11) would add to the refresh's own peak. The club on Dask
# reached 490 MiB so, against ~280 MiB for its build alone; a fork costs ~0.5 s, nothing beside such an ingest.
FRESH_PROCESS_FILES = 1000


def ingest(db: Path, config: Config, paths: list[Path], athlete: str | None = None,
           on_item: OnItem | None = None, workers: int | None = None, refresh_models: bool = True,
           parse_jobs: ParseJobs | None = None, lock_wait_s: float = LOCK_WAIT_S,
           retry_quarantined: bool = False) -> Summary:
    """Load files into the DB, then refresh the SQL models so the views show them, recomputing only
    what the new files touched (callers that build right after pass ``refresh_models=False``: the
    build runs the models anyway).

    Files are parsed by ``parse_jobs`` (the flows pass Prefect tasks), else in ``workers``
    processes; planning and writing happen here, on the one write connection."""
    from pipeline.ingest import ingest_paths

    con = open_for_write(db, config, wait_s=lock_wait_s)
    try:
        summary = ingest_paths(con, config, paths, athlete, parse_jobs or _parse_jobs(config, workers), on_item,
                               retry_quarantined)
        stale = refresh_models and (summary.changed or not models_built(con))
        if stale and not big(summary):
            _refresh(con, db, config)
    finally:
        con.close()
    if stale and big(summary):
        from pipeline import forkserver

        forkserver.call_in_fresh_process(refresh, db, config, lock_wait_s)
    return summary


def big(summary: Summary) -> bool:
    """Whether what follows this ingest runs in a fresh process (see :data:`FRESH_PROCESS_FILES`)."""
    return summary.new >= FRESH_PROCESS_FILES


def refresh(db: Path, config: Config, lock_wait_s: float = LOCK_WAIT_S) -> None:
    """Run the models on what changed since they last ran, and publish them."""
    con = open_for_write(db, config, wait_s=lock_wait_s)
    try:
        _refresh(con, db, config)
    finally:
        con.close()


def _refresh(con: DuckDBPyConnection, db: Path, config: Config) -> None:
    # the models and the analyst layer are imported only when there is something to refresh
    from pipeline.analyst import publish
    from pipeline.incremental import touched
    from pipeline.models import run_models

    with transaction(con):
        _, scope = run_models(con, aliases=config.exercise_aliases)
    # `runlift sql` reads the analyst layer: it shows what the views show
    athletes, _, changed = touched(scope)
    publish(con, db, athletes, changed)


def _parse_jobs(config: Config, workers: int | None) -> ParseJobs:
    if config.engine.task_runner == "dask":  # SPEC Scale: the same parse tasks, on a Dask cluster
        from pipeline.dask_parse import in_dask

        return in_dask(config.engine.dask_address, workers)
    from pipeline.ingest import in_processes

    return in_processes(workers)


def query(db: Path, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run an analyst's query on the analyst catalog (the last build's views); returns column
    names and rows. The connection is read-only, reads no file outside the analyst folder and
    cannot change its settings (:func:`pipeline.db.connect_analyst`); statements that would write
    a file or change rows are refused first (:func:`pipeline.db.refuse_writes`)."""
    refuse_writes(sql)
    con = connect_analyst(db, wait_s=LOCK_WAIT_S)
    try:
        cur = con.execute(sql)
        return [d[0] for d in cur.description or []], cur.fetchall()
    finally:
        con.close()


def build(db: Path, config: Config, as_of: date | None = None, full: bool = False,
          fresh_process: bool = False) -> BuildResult:
    """Run the SQL models (only what changed since the last build, unless ``full``) and the rules;
    replace the flags table (one transaction). ``fresh_process``: in a fresh process (after a
    :func:`big` ingest, see :data:`FRESH_PROCESS_FILES`)."""
    if fresh_process:
        from pipeline import forkserver

        return forkserver.call_in_fresh_process(build, db, config, as_of, full)
    from pipeline.analyst import publish
    from pipeline.build import build as run_build  # the rules are not needed by ingest

    con = open_for_write(db, config, wait_s=LOCK_WAIT_S)
    try:
        result = run_build(con, config, as_of or today_for(config), full=full)
        publish(con, db, result.touched_athletes, result.touched_models)  # None after a full build: all
        return result
    finally:
        con.close()


def today_for(config: Config) -> date:
    """Today in the (first) athlete's zone: the default --as-of."""
    return datetime.now(ZoneInfo(config.all_athletes[0].timezone)).date()


EXERCISE_COLUMNS = ["exercise", "pattern", "unilateral", "plyometric", "lower_body"]
UNKNOWN_EXERCISE_COLUMNS = ["exercise", "sets", "logged_as"]


def exercise_table() -> tuple[list[str], list[tuple[Any, ...]]]:
    """``runlift exercises``: the exercise table's canonical exercises (no database needed)."""
    from pipeline.exercises import table_exercises

    return EXERCISE_COLUMNS, [tuple(e) for e in table_exercises()]


def unknown_exercises(db: Path, config: Config) -> tuple[list[str], list[tuple[Any, ...]]]:
    """``runlift exercises --unknown``: logged exercise names (after ``[exercise_aliases]``) the table
    does not know, with their set counts, most sets first; read-only."""
    from pipeline.exercises import unknown_exercises as find_unknown

    if not Path(db).exists():
        raise MissingDatabaseError(f"{db}: no such database (run `runlift run PATH` first)")
    con = connect(db, read_only=True, wait_s=LOCK_WAIT_S)
    try:
        return UNKNOWN_EXERCISE_COLUMNS, [tuple(u) for u in find_unknown(con, config.exercise_aliases)]
    finally:
        con.close()


@dataclass
class WrittenReport:
    report: Report
    paths: dict[str, Path]
    text: str = ""  # the plain-text rendering (the e-mail's text part); empty: the Markdown is used
    data: ReportData | None = None  # what the report shows (the roster digest is built from it)


def write_reports(db: Path, config: Config, week: str | None = None, out: Path | None = None) -> list[WrittenReport]:
    """Render and write the weekly report of every athlete (default: the last complete week of
    the last build); with ``[report] coach_email_to`` also the roster digest of the week; then
    rewrite the folder's ``index.html``."""
    from pipeline.report.data import gather_all, last_build_as_of
    from pipeline.report.index import write_index
    from pipeline.report.render import last_complete_week, render_data, write_report
    from pipeline.report.roster import build_roster, write_roster
    from pipeline.report.text import render_text

    if not Path(db).exists():
        raise MissingDatabaseError(f"{db}: no such database (run `runlift run PATH` first)")
    out_dir = Path(out or config.report_dir)
    ids = [a.id for a in config.all_athletes]
    con = connect(db, read_only=True, wait_s=LOCK_WAIT_S)
    try:
        if week is None:
            as_of = last_build_as_of(con)
            if as_of is None:
                raise MissingDatabaseError(f"{db}: no build yet; run `runlift build` (or `runlift run PATH`) first")
            week = last_complete_week(as_of)
        datas = list(gather_all(con, config, ids, week).values())  # a fixed number of queries for the club
        written = []
        for d in datas:
            r = render_data(d)
            written.append(WrittenReport(r, write_report(r, out_dir), render_text(d, r.subject), d))
        if config.report.coach_email_to:
            write_roster(build_roster(week, datas), out_dir, ids)
        write_index(con, out_dir, ids)
    finally:
        con.close()
    return written


def send_reports(config: Config, written: list[WrittenReport]) -> int:
    """E-mail each written report to its athlete's ``email_to`` (else ``[report] email_to``), and
    with ``[report] coach_email_to`` the week's roster digest; SMTP settings from the environment.
    A mail with nobody to send to is skipped. Every mail is tried; recipients that accepted are
    kept in the report folder's delivery ledger (``.runlift-deliveries.json``), so a retry, in this
    process or another, sends only to the others. Returns the number of mails handled; raises the
    failure (a :class:`DeliveryError`, transient when any failure is) after trying them all."""
    from pipeline.errors import DeliveryError
    from pipeline.report.email import (
        LEDGER_FILE,
        ROSTER,
        DeliveryLedger,
        Mail,
        PermanentDeliveryError,
        SmtpSettings,
        send_report,
    )
    from pipeline.report.roster import build_roster

    settings = SmtpSettings.from_env()
    if settings is None:
        raise EmailConfigError("cannot send: SMTP is not configured (set RUNLIFT_SMTP_HOST and friends)")
    if not written:
        return 0
    ledger = DeliveryLedger(written[0].paths["html"].parent / LEDGER_FILE)
    mails: list[tuple[Mail, list[str]]] = [
        (Mail.of_report(w.report, w.text or None), config.email_to_for(w.report.athlete)) for w in written]
    datas = [w.data for w in written if w.data is not None]
    if config.report.coach_email_to and len(datas) == len(written):
        r = build_roster(written[0].report.week, datas)
        mails.append((Mail(r.week, ROSTER, r.subject, r.text, r.html), list(config.report.coach_email_to)))
    failures: list[DeliveryError] = []
    handled = 0
    for mail, recipients in mails:
        if not recipients:
            continue
        try:
            send_report(mail, recipients, settings, ledger)
            handled += 1
        except DeliveryError as err:
            failures.append(err)
    if len(failures) == 1:
        raise failures[0]
    if failures:
        permanent = all(isinstance(f, PermanentDeliveryError) for f in failures)
        kind = PermanentDeliveryError if permanent else DeliveryError
        raise kind(f"{len(failures)} of {len(failures) + handled} e-mails failed: " + "; ".join(map(str, failures)))
    return handled
