"""`runlift report --send` end to end: sample data plus a hostile title, a real SMTP server."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from gpxgen import gpx_run
from test_email import PASSWORD, USER, Handler, authenticator, free_port

from pipeline import commands
from pipeline.config import load_config
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


def _report(db: Path, cfg: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline.app.cli", "--db", str(db), "--config", str(cfg), "report",
                           "--week", "2026-W38", "--send"], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=120)


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
    assert msg["Subject"] == "runlift · 2026-W38 · 2 errors, 2 warnings"
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
    assert "\\<script\\>" in text and "<script>" not in text
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
    assert sorted(p.name for p in (cfg.parent / "reports").iterdir()) == ["me-2026-W38.html", "me-2026-W38.md"]
