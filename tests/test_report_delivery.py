"""`runlift report --send` end to end: sample data plus a hostile title, a real SMTP server."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from gpxgen import gpx_run
from test_email import PASSWORD, USER, Handler, RefuseOnce, authenticator, free_port
from test_report_index import two_athletes

from pipeline import commands
from pipeline.config import load_config
from pipeline.report.email import LEDGER_FILE
from pipeline.report.render import IMAGE_NAMES

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
HOSTILE = "<script>alert(1)</script> 6x800"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("deliver")
    cfg = tmp / "runlift.toml"
    cfg.write_text((SAMPLE / "runlift.toml").read_text()
                   + '\n[report]\nout = "reports"\nemail_to = ["coach@example.org", "me@example.org"]\n')
    extra = tmp / "extra"
    extra.mkdir()
    # Wed 2026-09-16 14:00 Berlin: 1.6 h after the 11:35-12:25 strength session, a quality run by title
    (extra / "hostile.gpx").write_text(gpx_run(datetime(2026, 9, 16, 12, 0, tzinfo=UTC), points=300, step_s=5,
                                               name=HOSTILE.replace("<", "&lt;").replace(">", "&gt;")))
    config = load_config(cfg)
    db = tmp / "d.duckdb"
    commands.ingest(db, config, [SAMPLE, extra])
    commands.build(db, config, datetime(2026, 10, 26).date())
    return db, cfg


def _report(db: Path, cfg: Path, env: dict[str, str], week: str = "2026-W38") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline.app.cli", "--db", str(db), "--config", str(cfg), "report",
                           "--week", week, "--send"], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=120)


def smtp_env(port: int) -> dict[str, str]:
    return {"RUNLIFT_SMTP_HOST": "127.0.0.1", "RUNLIFT_SMTP_PORT": str(port), "RUNLIFT_SMTP_STARTTLS": "false",
            "RUNLIFT_SMTP_FROM": "runlift@example.org"}


def test_report_send_delivers_escaped_report_with_images(built: tuple[Path, Path]) -> None:
    db, cfg = built
    handler = Handler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, ready_timeout=5,
                            authenticator=authenticator(), auth_require_tls=False)
    controller.start()
    try:
        r = _report(db, cfg, {"RUNLIFT_SMTP_HOST": "127.0.0.1", "RUNLIFT_SMTP_PORT": str(port),
                              "RUNLIFT_SMTP_STARTTLS": "false", "RUNLIFT_SMTP_USER": USER,
                              "RUNLIFT_SMTP_PASSWORD": PASSWORD, "RUNLIFT_SMTP_FROM": "runlift@example.org"})
    finally:
        controller.stop()
    assert r.returncode == 0, r.stderr
    (got,) = handler.received
    msg = got.message()
    assert msg["Subject"] == "runlift · 2026-W38 · 2 errors, 3 warnings, 1 info"
    assert sorted(got.rcpt_tos) == ["coach@example.org", "me@example.org"] and got.authenticated
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    images = {p["Content-ID"].strip("<>"): p.get_content() for p in msg.walk() if p.get_content_type() == "image/png"}
    # the e1RM trend travels only with the strength section (the v2 strength views)
    assert {"week_timeline", "load_chart", "fitness_chart"} <= set(images) <= set(IMAGE_NAMES)
    assert all(b.startswith(b"\x89PNG") for b in images.values())
    assert all(f"cid:{cid}" in html for cid in images)
    # the hostile title reached the flags and the report, escaped in both parts
    assert "&lt;script&gt;alert(1)&lt;/script&gt; 6x800" in html and "<script" not in html
    # the text part is plain text: the title as it is, no Markdown escapes or table pipes
    assert HOSTILE in text and "\\" not in text and "|" not in text
    assert "spacing.too_close" in text and "spacing.before_quality" in text
    # the password is nowhere: not in output, report files, DB
    written = list((cfg.parent / "reports").glob("me-2026-W38.*"))
    assert len(written) == 2
    for blob in [r.stdout, r.stderr] + [p.read_text() for p in written]:
        assert PASSWORD not in blob
    assert PASSWORD.encode() not in db.read_bytes()


def test_failed_send_is_one_line_and_keeps_the_report(built: tuple[Path, Path], tmp_path: Path) -> None:
    db, cfg = built
    shutil.rmtree(cfg.parent / "reports", ignore_errors=True)
    r = _report(db, cfg, {"RUNLIFT_SMTP_HOST": "127.0.0.1", "RUNLIFT_SMTP_PORT": str(free_port()),
                          "RUNLIFT_SMTP_PASSWORD": PASSWORD, "RUNLIFT_SMTP_USER": USER})
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1
    assert "could not deliver the 2026-W38 report" in r.stderr and PASSWORD not in r.stderr
    reports = cfg.parent / "reports"
    assert sorted(p.name for p in reports.iterdir() if not p.name.startswith(".")) == [
        "index.html", "me-2026-W38.html", "me-2026-W38.md"]
    # the attempt is in the ledger (a retry reuses its Message-ID), with nobody having accepted it
    [entry] = json.loads((reports / LEDGER_FILE).read_text())["deliveries"].values()
    assert entry["accepted"] == {} and entry["message_id"].startswith("<")


# --- two athletes and a coach ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("team")
    db, config = two_athletes(tmp)
    return db, tmp / "runlift.toml"


def copies(handler: Handler) -> dict[tuple[str, str], int]:
    """How many copies each recipient got of each subject."""
    got: dict[tuple[str, str], int] = {}
    for r in handler.received:
        for to in r.rcpt_tos:
            key = (to, r.message()["Subject"])
            got[key] = got.get(key, 0) + 1
    return got


def test_partial_failure_is_retried_by_a_second_process_without_resending(team: tuple[Path, Path]) -> None:
    """`runlift report --send` twice, two separate processes: the coach's mailbox is busy (451) the
    first time; the second run delivers only the roster digest, only to the coach. Each report goes
    to its athlete's email_to (me) or the [report] email_to (ana)."""
    db, cfg = team
    handler = RefuseOnce(flaky="coach@example.org")
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, ready_timeout=5)
    controller.start()
    try:
        first = _report(db, cfg, smtp_env(port))
        after_first = [(r.rcpt_tos, r.message()["Subject"]) for r in handler.received]
        second = _report(db, cfg, smtp_env(port))
        third = _report(db, cfg, smtp_env(port))  # everyone has everything: nothing is sent
    finally:
        controller.stop()
    assert first.returncode == 1 and len(first.stderr.strip().splitlines()) == 1, first.stderr
    assert "could not deliver the 2026-W38 roster digest to 1 recipient" in first.stderr
    assert "coach@example.org (451 4.2.0" in first.stderr
    me_subject, ana_subject = (f"runlift · 2026-W38 · {c}" for c in ("3 warnings, 1 info", "1 warning"))
    roster_subject = "runlift roster · 2026-W38 · 2 athletes · 4 warnings, 1 info"
    assert after_first == [(["me@example.org"], me_subject), (["team@example.org"], ana_subject)]
    assert second.returncode == 0, second.stderr
    assert third.returncode == 0, third.stderr
    assert copies(handler) == {("me@example.org", me_subject): 1, ("team@example.org", ana_subject): 1,
                               ("coach@example.org", roster_subject): 1}

    roster = handler.received[-1].message()
    assert roster["Auto-Submitted"] == "auto-generated" and roster["To"] == "coach@example.org"
    text = roster.get_body(("plain",)).get_content()
    assert "\\" not in text and "|" not in text
    assert re.search(r"^  me +met +0 +3 +3/2 +54\.2 ", text, re.M)
    assert re.search(r"^  ana +short +0 +1 +0/2 +54\.2 ", text, re.M)
    html = roster.get_body(("html",)).get_content()
    assert 'href="#athlete-me"' in html and 'id="athlete-ana"' in html
    assert "-2026-W38.html" not in html  # an e-mail cannot reach the report folder's pages
    for r in handler.received:
        assert r.message()["Auto-Submitted"] == "auto-generated"
    ledger = json.loads((cfg.parent / "reports" / LEDGER_FILE).read_text())["deliveries"]
    assert {k: sorted(v["accepted"]) for k, v in ledger.items()} == {
        "2026-W38/me": ["me@example.org"], "2026-W38/ana": ["team@example.org"],
        "2026-W38/@roster": ["coach@example.org"]}


@pytest.mark.prefect
@pytest.mark.usefixtures("prefect_harness")
def test_weekly_report_flow_sends_per_athlete_and_roster(team: tuple[Path, Path], tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The scheduled flow sends to the same recipients; a rerun (a restarted serve) resends nothing."""
    from flows.report import weekly_report_flow

    db, cfg = team
    handler = Handler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, ready_timeout=5)
    controller.start()
    try:
        for k, v in smtp_env(port).items():
            monkeypatch.setenv(k, v)
        # the flow builds as of today: copy the DB so the module's other tests keep their build
        flow_db = tmp_path / "flow.duckdb"
        shutil.copy(db, flow_db)
        weekly_report_flow(flow_db, cfg, "2026-W37")
        weekly_report_flow(flow_db, cfg, "2026-W37")  # a rerun (a restarted serve): nothing resent
    finally:
        controller.stop()
    got = {(tuple(r.rcpt_tos), r.message()["Subject"].split(" · ")[0]) for r in handler.received}
    assert len(handler.received) == 3
    assert got == {(("me@example.org",), "runlift"), (("team@example.org",), "runlift"),
                   (("coach@example.org",), "runlift roster")}
    assert (cfg.parent / "reports" / "index.html").exists()
