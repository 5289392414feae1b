"""The weekly report on the sample data: numbers, flags, compliance block, charts, escaping, files.

One demo DB per module (``pipeline.app.demo.run_demo``: sample_data/ built as of 2026-10-26). The
expected numbers come from sample_data/README.md (weeks table, planted situations) and from SQL
run here against the views, independently of ``pipeline.report.data``.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import struct
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipeline.app.demo import SAMPLE_DIR, run_demo
from pipeline.config import ConfigError, load_config
from pipeline.report import Report
from pipeline.report import render as render_mod
from pipeline.report.data import ReportError, gather
from pipeline.report.render import (
    last_build_as_of,
    last_complete_week,
    md_escape,
    render_report,
    subject_line,
    write_report,
)

WEEK = "2026-W38"
HOSTILE = "<script>alert(1)</script> **x** [a](b)"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("report") / "demo.duckdb"
    run_demo(db)
    return db


@pytest.fixture(scope="module")
def config():
    return load_config(SAMPLE_DIR / "runlift.toml")


@pytest.fixture(scope="module")
def con(demo_db):
    c = duckdb.connect(str(demo_db))
    yield c
    c.close()


@pytest.fixture(scope="module")
def report(con, config) -> Report:
    return render_report(con, config, "me", WEEK)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


# ---------------------------------------------------------------- numbers


def test_week_numbers_match_sql(con, config):
    data = gather(con, config, "me", WEEK)
    runs, km = con.execute("""SELECT count(*), sum(distance_m) / 1000.0 FROM activities
                              WHERE athlete_id = 'me' AND sport = 'running' AND iso_week = ?""", [WEEK]).fetchone()
    wl_runs, wl_km, wl_trimp, wl_long = con.execute(
        "SELECT run_count, run_km, trimp, long_run_km FROM weekly_load WHERE athlete_id = 'me' AND iso_week = ?",
        [WEEK]).fetchone()
    assert runs == wl_runs == data.summary.runs == 4
    assert data.summary.km == pytest.approx(km) == pytest.approx(wl_km)
    assert round(data.summary.km, 1) == 54.2
    assert data.summary.trimp == pytest.approx(wl_trimp)
    assert data.summary.long_run_km == pytest.approx(wl_long)
    assert data.summary.quality_runs == 1
    s = data.summary
    assert (s.strength_done, s.strength_target, s.phase, s.verdict, s.complete) == (2, 2, "build", "met", True)
    assert data.as_of == date(2026, 10, 26) == last_build_as_of(con)
    # timeline: the week's 4 runs and 2 strength sessions, in local time
    kinds = [(i.kind, i.start_local.strftime("%a %H:%M"), i.is_quality) for i in data.timeline]
    assert kinds == [("strength", "Mon 18:00", False), ("run", "Tue 18:30", True), ("run", "Wed 06:45", False),
                     ("strength", "Wed 11:35", False), ("run", "Fri 07:00", False), ("run", "Sun 09:00", False)]
    titles = {i.title for i in data.timeline if i.title}
    assert titles == {"Lower B", "Track session 12x400", "Lower A"}
    # the planted 4.0 h gap of Wed 2026-09-16 (easy run 06:45-07:35, strength 11:35)
    assert [(g.local_date, g.start_local.strftime("%H:%M"), g.end_local.strftime("%H:%M"), round(g.gap_hours, 2))
            for g in data.gaps] == [(date(2026, 9, 16), "07:35", "11:35", 4.0)]


def test_flags_of_the_week_grouped(con, config, report):
    data = gather(con, config, "me", WEEK)
    expected = [
        ("program.to_failure", "warning", date(2026, 9, 14),
         "1 set to failure in the 18:00 session (romanian deadlift): stop 1-2 reps short of failure (RPE 8-9, not 10)"),
        ("spacing.suboptimal", "warning", date(2026, 9, 16),
         "Strength started 4.0 h after the 06:45 run ended (optimal at least 6 h)"),
    ]
    table = con.execute("SELECT rule, severity, date, message FROM flags WHERE athlete_id = 'me' AND week = ? "
                        "ORDER BY date, rule", [WEEK]).fetchall()
    assert table == expected
    assert data.flags["error"] == [] and data.flags["info"] == []
    assert [(f.rule, f.severity, f.date, f.message) for f in data.flags["warning"]] == expected
    assert report.severity_counts == {"error": 0, "warning": 2, "info": 0}
    for rule, _, _, message in expected:
        assert rule in report.markdown and rule in report.html
        assert message in report.html  # no HTML-special characters in these messages
    # Markdown: one list item per flag under "### Warnings (2)"
    assert "### Warnings (2)" in report.markdown
    assert "- **Mon 14 Sep** · `program.to_failure` · 1 set to failure in the 18:00 session" in report.markdown
    assert "### Errors" not in report.markdown


def test_other_weeks_flags_and_subjects(con, config):
    w41 = gather(con, config, "me", "2026-W41")
    assert [(f.rule, f.date) for f in w41.flags["error"]] == [("taper.too_many_sessions", date(2026, 10, 9))]
    assert [(f.rule, f.date) for f in w41.flags["warning"]] == [("taper.long_session", date(2026, 10, 6))]
    assert subject_line("2026-W41", w41.severity_counts) == "runlift · 2026-W41 · 1 error, 1 warning"
    w40 = gather(con, config, "me", "2026-W40")
    assert subject_line("2026-W40", w40.severity_counts) == "runlift · 2026-W40 · 1 error, 1 info"
    w43 = gather(con, config, "me", "2026-W43")
    assert subject_line("2026-W43", w43.severity_counts) == "runlift · 2026-W43 · no flags"
    assert subject_line("2026-W37", {"error": 2, "warning": 1, "info": 0}) == "runlift · 2026-W37 · 2 errors, 1 warning"


def test_compliance_block(con, config):
    def rows(week):
        return [(r.iso_week, r.phase, r.target, r.done, r.verdict) for r in gather(con, config, "me", week).block]

    # W38: the block towards the 2026-10-18 A race starts with its first base week (W32 = first activity)
    assert rows(WEEK) == [
        ("2026-W32", "base", 2, 1, "short"),  # the first week: not judged (no missed_sessions flag)
        ("2026-W33", "base", 2, 2, "met"),
        ("2026-W34", "base", 2, 2, "met"),
        ("2026-W35", "build", 2, 1, "short"),  # planted strength.missed_sessions
        ("2026-W36", "build", 2, 2, "met"),
        ("2026-W37", "build", 2, 2, "met"),
        ("2026-W38", "build", 2, 2, "met"),
    ]
    w41 = rows("2026-W41")
    assert w41[-3:] == [("2026-W39", "sharpen", 1, 2, "met"), ("2026-W40", "sharpen", 1, 1, "met"),
                        ("2026-W41", "taper", 0, 2, "over")]  # 2 sessions in a taper week (at most 1)
    assert len(w41) == 10
    # the recovery week closes the block: W32..W43 = 12 weeks (the cap)
    w43 = rows("2026-W43")
    assert len(w43) == 12 and w43[0][0] == "2026-W32"
    assert w43[-2:] == [("2026-W42", "taper", 0, 0, "met"), ("2026-W43", "recovery", 0, 0, "met")]
    # W44: no A race ahead, a new (off) block; incomplete as of 2026-10-26 -> verdict is None
    assert rows("2026-W44") == [("2026-W44", "off", 2, 0, None)]
    # the same numbers as weekly_compliance, computed here
    mart = con.execute("""SELECT iso_week, phase, strength_target, strength_sessions, verdict FROM weekly_compliance
                          WHERE athlete_id = 'me' AND iso_week BETWEEN '2026-W32' AND '2026-W38'
                          ORDER BY iso_week""").fetchall()
    assert rows(WEEK) == [tuple(r) for r in mart]


def test_rendered_text(report):
    assert report.athlete == "me" and report.week == WEEK
    assert report.subject == "runlift · 2026-W38 · 2 warnings"
    verdict = "2026-W38 · 2 warnings · strength 2 of 2 (build)"
    assert verdict in report.html and verdict in report.html_file
    assert report.markdown.startswith(f"# runlift · {verdict}\n")
    md = report.markdown
    assert "| 2026-W35 | Mon 24 Aug | build | 2 | 1 | short | 4 | 46.1 |" in md
    assert "| **2026-W38** | Mon 14 Sep | build | 2 | 2 | met | 4 | 54.2 |" in md
    assert "| 2026-W32 (first week) | Mon 3 Aug | base | 2 | 1 | not judged | 2 | 22.9 |" in md
    assert "| 2 of 2 (build · met) | 4 (1 quality) | 54.2 km | 502 | 26.0 km | 0.85 |" in md
    assert "## Load: last 7 weeks" in md
    assert "| Wed 16 Sep | 11:35–12:25 | strength | Lower A |" in md


# ---------------------------------------------------------------- images and HTML


def test_images(report):
    assert set(report.images) == {"load_chart", "week_timeline"}
    assert png_size(report.images["load_chart"]) == (640, 380)
    assert png_size(report.images["week_timeline"]) == (640, 290)
    for png in report.images.values():
        assert b"tEXt" not in png and b"iTXt" not in png  # no Software/date metadata


def test_charts_are_deterministic(con, config, report):
    again = render_report(con, config, "me", WEEK)
    assert again.images == report.images
    assert again.html == report.html and again.markdown == report.markdown


def test_html_variants(report):
    html, html_file = report.html, report.html_file
    for name in ("load_chart", "week_timeline"):
        assert f'src="cid:{name}"' in html
        assert f"cid:{name}" not in html_file
    assert "data:image" not in html
    uris = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html_file)
    assert sorted(base64.b64decode(u) for u in uris) == sorted(report.images.values())
    # self-contained e-mail: no stylesheet, script or remote resource
    for needle in ("<script", "<link", "<style", "http://", "https://"):
        assert needle not in html_file
    assert 'max-width:680px' in html


# ---------------------------------------------------------------- escaping


def test_md_escape():
    assert md_escape("**x** [a](b)") == r"\*\*x\*\* \[a\](b)"
    assert md_escape("<script>alert(1)</script>") == r"\<script\>alert(1)\</script\>"
    assert md_escape("a|b_c`d`~e&f") == r"a\|b\_c\`d\`\~e\&f"
    assert md_escape("# title\nsecond line") == r"\# title second line"
    assert md_escape("1. one") == r"1\. one"
    assert md_escape("54.2 km, 1-2 reps") == "54.2 km, 1-2 reps"


def test_hostile_strings_are_escaped(con, config):
    monday_session = con.execute("SELECT session_id FROM strength_sessions WHERE athlete_id = 'me' "
                                 "AND local_date = DATE '2026-09-14'").fetchone()[0]
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("UPDATE strength_sessions SET title = ? WHERE session_id = ?", [HOSTILE, monday_session])
        con.execute("UPDATE activities SET title = ? WHERE athlete_id = 'me' AND local_date = DATE '2026-09-18' "
                    "AND sport = 'running'", ["run " + HOSTILE])
        con.execute("UPDATE strength_sets SET exercise = ? WHERE session_id = ?", ["squat " + HOSTILE, monday_session])
        con.execute("INSERT INTO internal.rule_flags VALUES ('me', 'program.to_failure', 'error', "
                    "DATE '2026-09-15', ?, ?, CAST('{}' AS JSON))", [WEEK, "flag " + HOSTILE])
        rep = render_report(con, config, "me", WEEK)
    finally:
        con.execute("ROLLBACK")
    assert rep.subject == "runlift · 2026-W38 · 1 error, 2 warnings"
    for html in (rep.html, rep.html_file):
        assert "<script>" not in html and "alert(1)</script>" not in html
        assert html.count("&lt;script&gt;alert(1)&lt;/script&gt; **x** [a](b)") == 4  # 2 titles, exercise, flag
    md = rep.markdown
    assert re.search(r"(?<!\\)[<>]", md) is None  # every < and > of the data is backslash-escaped
    assert "**x**" not in md and "[a](b)" not in md
    escaped = r"\<script\>alert(1)\</script\> \*\*x\*\* \[a\](b)"
    assert md.count(escaped) == 4
    assert f"flag {escaped}" in md and f"run {escaped}" in md and f"squat {escaped}" in md
    # the rollback left the demo DB as it was
    assert con.execute("SELECT count(*) FROM flags WHERE message LIKE '%alert%'").fetchone()[0] == 0


def test_read_only_connection(demo_db, config, tmp_path):
    copy = tmp_path / "copy.duckdb"
    shutil.copy(demo_db, copy)
    ro = duckdb.connect(str(copy), read_only=True)
    try:
        rep = render_report(ro, config, "me", "2026-W41")
    finally:
        ro.close()
    assert rep.subject == "runlift · 2026-W41 · 1 error, 1 warning"
    assert "2026-W41 · 1 error, 1 warning · strength 2 of 0 (taper)" in rep.html


def test_week_without_data(con, config):
    rep = render_report(con, config, "me", "2027-W10")  # after the sample's last day
    assert rep.subject == "runlift · 2027-W10 · no flags"
    assert png_size(rep.images["load_chart"]) == (640, 380)
    assert png_size(rep.images["week_timeline"]) == (640, 290)
    assert "No runs or strength sessions this week." in rep.markdown
    assert "2027-W10 · no flags · strength 0 (no training data)" in rep.html


def test_bad_arguments(con, config):
    with pytest.raises(ReportError):
        render_report(con, config, "me", "2026-38")
    with pytest.raises(ReportError):
        render_report(con, config, "me", "2025-W53")  # 2025 has 52 ISO weeks
    with pytest.raises(ConfigError):
        render_report(con, config, "nobody", WEEK)


# ---------------------------------------------------------------- files


def test_write_report(report, tmp_path):
    out = tmp_path / "reports" / "nested"
    paths = write_report(report, out)
    assert paths == {"markdown": out / "me-2026-W38.md", "html": out / "me-2026-W38.html"}
    assert paths["markdown"].read_text(encoding="utf-8") == report.markdown
    assert paths["html"].read_text(encoding="utf-8") == report.html_file
    assert sorted(p.name for p in out.iterdir()) == ["me-2026-W38.html", "me-2026-W38.md"]
    # rewriting replaces the files and leaves no temp files
    write_report(report, out)
    assert sorted(p.name for p in out.iterdir()) == ["me-2026-W38.html", "me-2026-W38.md"]


def test_write_report_failure_leaves_no_temp_file(report, tmp_path, monkeypatch):
    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(render_mod.os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        write_report(report, tmp_path)
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(render_mod.os, "replace", os.replace)


def test_write_report_refuses_odd_names(report, tmp_path):
    bad = Report(athlete="../x", week=WEEK, subject="", markdown="", html="", html_file="")
    with pytest.raises(ReportError):
        write_report(bad, tmp_path)


# ---------------------------------------------------------------- weeks


@pytest.mark.parametrize(("as_of", "week"), [
    (date(2026, 10, 26), "2026-W43"),  # Monday: the week that ended yesterday
    (date(2026, 10, 25), "2026-W42"),  # Sunday: its own week is not complete yet
    (date(2026, 10, 21), "2026-W42"),  # mid-week
    (date(2026, 10, 31), "2026-W43"),  # Saturday
    (date(2027, 1, 4), "2026-W53"),  # across the year end (2026 has 53 ISO weeks)
    (date(2026, 1, 1), "2025-W52"),  # Thursday 1 Jan 2026 is in 2026-W01
])
def test_last_complete_week(as_of, week):
    assert last_complete_week(as_of) == week
