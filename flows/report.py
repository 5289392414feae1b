"""The `weekly-report` flow: build as of today, write every athlete's report for the last complete
ISO week (with ``coach_email_to`` the roster digest too, and the folder's ``index.html``), and
e-mail them when SMTP is configured: each report to its athlete's ``email_to`` (else ``[report]
email_to``), the roster to ``coach_email_to``. A transient delivery failure is retried with
backoff, only to recipients still missing: the delivery ledger in the report folder remembers who
accepted, across task retries and across processes. The written report stays in place whatever
happens.

`weekly-report` is a scheduled deployment's entry point and takes the config file's path (see
``flows/inbox.py``); `report` (``runlift report --prefect``) takes the loaded Config."""

from __future__ import annotations

import re
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State

from flows.build import build_task
from pipeline import commands
from pipeline.config import Config, load_config
from pipeline.errors import EmailConfigError
from pipeline.report.email import SmtpSettings, is_transient


@task(name="write reports", cache_policy=NO_CACHE)
def write_task(db: Path, config: Config, week: str | None) -> list[commands.WrittenReport]:
    written = commands.write_reports(db, config, week)
    for w in written:
        get_run_logger().info("wrote %s", ", ".join(str(p) for p in w.paths.values()))
    return written


def retry_delivery(task: object, task_run: object, state: State) -> bool:
    """Retry only a delivery that may heal (refused connection, timeout, 4xx reply); a wrong password,
    a 5xx reply or a setup error fails the run at once. A retry sends only to recipients still missing."""
    try:
        state.result()
    except Exception as err:
        return is_transient(err)
    return False


@task(name="send report e-mail", retries=3, retry_delay_seconds=[30, 120, 600], retry_condition_fn=retry_delivery,
      cache_policy=NO_CACHE)
def send_task(config: Config, written: list[commands.WrittenReport]) -> int:
    return commands.send_reports(config, written)


def artifact_key(*parts: str) -> str:
    """A Prefect artifact key from free text (an athlete id may hold dots, capitals, underscores):
    keys are slugs of lowercase letters, digits and dashes."""
    return re.sub(r"[^a-z0-9]+", "-", "-".join(parts).lower()).strip("-") or "runlift"


def publish_reports(written: list[commands.WrittenReport]) -> None:
    for w in written:
        create_markdown_artifact(w.report.markdown, key=artifact_key("report", w.report.athlete),
                                 description=w.report.subject)


def has_recipients(config: Config) -> bool:
    """Whether any mail has someone to go to: an athlete's report or the roster digest."""
    return bool(config.report.coach_email_to) or any(config.email_to_for(a.id) for a in config.all_athletes)


@flow(name="weekly-report", log_prints=True)
def weekly_report_flow(db: Path, config_path: Path | None, week: str | None = None, send: bool = True) -> list[str]:
    """Build, then write (and send) the weekly compliance report of every athlete."""
    config = load_config(config_path)
    build_task(db, config, None)
    written = write_task(db, config, week)
    # the e-mail first: publishing the artifacts (an API round-trip each) must not keep it from going
    if send and has_recipients(config) and SmtpSettings.from_env():
        send_task(config, written)
    elif send:
        get_run_logger().info("not sending: set email_to (or coach_email_to) and RUNLIFT_SMTP_HOST to e-mail it")
    publish_reports(written)
    return [str(p) for w in written for p in w.paths.values()]


@flow(name="report", log_prints=True)
def report_flow(db: Path, config: Config, week: str | None = None, out: Path | None = None,
                send: bool = False) -> list[commands.WrittenReport]:
    """`runlift report` as a tracked run: write (and optionally send) the report of the last build."""
    if send and SmtpSettings.from_env() is None:  # a setup error: no point retrying it
        raise EmailConfigError("cannot send: SMTP is not configured (set RUNLIFT_SMTP_HOST and friends)")
    written = commands.write_reports(db, config, week, out)
    if send:
        # someone waits at the terminal: one attempt, its error at once (the scheduled weekly-report
        # retries; a second `report --send` sends only to recipients still missing)
        send_task.with_options(retries=0)(config, written)
    publish_reports(written)
    return written
