"""The `weekly-report` flow: build as of today, write every athlete's report for the last complete
ISO week, and e-mail it when SMTP is configured. Sending is retried with backoff; the written
report stays in place whatever happens to the delivery.

`weekly-report` is a scheduled deployment's entry point and takes the config file's path (see
``flows/inbox.py``); `report` (``runlift report --prefect``) takes the loaded Config."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from flows.build import build_task
from pipeline import commands
from pipeline.config import Config, load_config
from pipeline.errors import EmailConfigError
from pipeline.report.email import SmtpSettings


@task(name="write reports", cache_policy=NO_CACHE)
def write_task(db: Path, config: Config, week: str | None) -> list[commands.WrittenReport]:
    written = commands.write_reports(db, config, week)
    for w in written:
        get_run_logger().info("wrote %s", ", ".join(str(p) for p in w.paths.values()))
    return written


@task(name="send report e-mail", retries=3, retry_delay_seconds=[30, 120, 600], cache_policy=NO_CACHE)
def send_task(config: Config, written: list[commands.WrittenReport]) -> int:
    return commands.send_reports(config, written)


@flow(name="weekly-report", log_prints=True)
def weekly_report_flow(db: Path, config_path: Path | None, week: str | None = None, send: bool = True) -> list[str]:
    """Build, then write (and send) the weekly compliance report of every athlete."""
    config = load_config(config_path)
    build_task(db, config, None)
    written = write_task(db, config, week)
    for w in written:
        create_markdown_artifact(w.report.markdown, key=f"report-{w.report.athlete}".lower().replace("_", "-"),
                                 description=w.report.subject)
    if send and any(config.email_to_for(a.id) for a in config.all_athletes) and SmtpSettings.from_env():
        send_task(config, written)
    elif send:
        get_run_logger().info("not sending: set [report] email_to and RUNLIFT_SMTP_HOST to e-mail the report")
    return [str(p) for w in written for p in w.paths.values()]


@flow(name="report", log_prints=True)
def report_flow(db: Path, config: Config, week: str | None = None, out: Path | None = None,
                send: bool = False) -> list[commands.WrittenReport]:
    """`runlift report` as a tracked run: write (and optionally send) the report of the last build."""
    if send and SmtpSettings.from_env() is None:  # a setup error: no point retrying it
        raise EmailConfigError("cannot send: SMTP is not configured (set RUNLIFT_SMTP_HOST and friends)")
    written = commands.write_reports(db, config, week, out)
    if send:
        send_task(config, written)
    create_markdown_artifact(written[0].report.markdown if written else "no report", key="runlift-report")
    return written
