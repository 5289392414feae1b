"""The weekly report on the sample data: numbers, flags, compliance block, charts, escaping, files.

One demo DB per module (``pipeline.app.demo.run_demo``: sample_data/ built as of 2026-10-26). The
expected numbers come from sample_data/README.md (weeks table, planted situations) and from SQL
run here against the views, independently of ``pipeline.report.data``.
"""

from __future__ import annotations

import base64
import dataclasses
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
from pipeline.report import Report, charts
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
    assert (s.strength_done, s.strength_target, s.phase, s.verdict, s.complete) == (3, 2, "build", "met", True)
    assert data.as_of == date(2026, 10, 26) == last_build_as_of(con)
    # timeline: the week's 4 runs and 3 strength sessions (Sat 17:30: on the watch only), in local time
    kinds = [(i.kind, i.start_local.strftime("%a %H:%M"), i.is_quality) for i in data.timeline]
    assert kinds == [("strength", "Mon 18:00", False), ("run", "Tue 18:30", True), ("run", "Wed 06:45", False),
                     ("strength", "Wed 11:35", False), ("run", "Fri 07:00", False), ("strength", "Sat 17:30", False),
                     ("run", "Sun 09:00", False)]
    titles = {i.title for i in data.timeline if i.title}
    assert titles == {"Lower B", "Track session 12x400", "Lower A"}
    # the planted 4.0 h gap of Wed 2026-09-16 (easy run 06:45-07:35, strength 11:35) and the 14.9 h from the
    # heavy squats of Sat 17:30-18:05 to the Sunday long run (spacing.before_long_run)
    assert [(g.local_date, g.start_local.strftime("%H:%M"), g.end_local.strftime("%H:%M"), round(g.gap_hours, 2))
            for g in data.gaps] == [(date(2026, 9, 16), "07:35", "11:35", 4.0),
                                    (date(2026, 9, 20), "18:05", "09:00", 14.92)]


def test_flags_of_the_week_grouped(con, config, report):
    data = gather(con, config, "me", WEEK)
    expected = [
        ("program.to_failure", "warning", date(2026, 9, 14),
         "1 set to failure in the 18:00 session (romanian deadlift): stop 1-2 reps short of failure (RPE 8-9, not 10)"),
        ("spacing.suboptimal", "warning", date(2026, 9, 16),
         "Strength started 4.0 h after the 06:45 run ended (optimal at least 6 h)"),
        ("spacing.before_long_run", "warning", date(2026, 9, 20),
         "Heavy lower-body strength (4 sets: back squat) ended 14.9 h before the 09:00 long run "
         "(at least 24 h between heavy leg work and a long run)"),
    ]
    info = [("program.rushed_rest", "info", date(2026, 9, 19),
             "Median rest of 60 s before the 3 timed heavy sets of the 17:30 session: rest 2-3 min between heavy "
             "sets (at least 90 s)")]
    table = con.execute("SELECT rule, severity, date, message FROM flags WHERE athlete_id = 'me' AND week = ? "
                        "ORDER BY date, rule", [WEEK]).fetchall()
    assert table == sorted(expected + info, key=lambda f: (f[2], f[0]))
    assert data.flags["error"] == []
    assert [(f.rule, f.severity, f.date, f.message) for f in data.flags["warning"]] == expected
    assert [(f.rule, f.severity, f.date, f.message) for f in data.flags["info"]] == info
    assert report.severity_counts == {"error": 0, "warning": 3, "info": 1}
    for rule, _, _, message in expected:
        assert rule in report.markdown and rule in report.html
        assert message in report.html  # no HTML-special characters in these messages
    # Markdown: one list item per flag under "### Warnings (3)"
    assert "### Warnings (3)" in report.markdown
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
        ("2026-W38", "build", 2, 3, "met"),
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


# the week's numbers, each from its mart, computed here
MEASURE_SQL = {
    "runs": "SELECT iso_week, run_count FROM weekly_load WHERE athlete_id = 'me'",
    "km": "SELECT iso_week, run_km FROM weekly_load WHERE athlete_id = 'me'",
    "minutes": "SELECT iso_week, run_minutes FROM weekly_load WHERE athlete_id = 'me'",
    "load": "SELECT iso_week, load FROM weekly_load WHERE athlete_id = 'me'",
    "quality_runs": "SELECT iso_week, quality_runs FROM weekly_load WHERE athlete_id = 'me'",
    "long_run_km": "SELECT iso_week, long_run_km FROM weekly_load WHERE athlete_id = 'me'",
    "strength_sessions": "SELECT iso_week, strength_sessions FROM weekly_compliance WHERE athlete_id = 'me'",
}
STRENGTH_MEASURE_SQL = {
    "heavy_sets": "SELECT iso_week, heavy_sets FROM weekly_strength WHERE athlete_id = 'me'",
    "plyo_contacts": "SELECT iso_week, plyo_contacts FROM weekly_strength WHERE athlete_id = 'me'",
    "srpe_load": "SELECT iso_week, coalesce(srpe_load, 0) FROM weekly_strength WHERE athlete_id = 'me'",
}


@pytest.mark.parametrize(("week", "prev", "before"), [
    (WEEK, "2026-W37", ["2026-W34", "2026-W35", "2026-W36", "2026-W37"]),
    ("2026-W34", "2026-W33", ["2026-W32", "2026-W33"]),  # the series starts in W32: two weeks to average
    ("2026-W32", "2026-W31", []),  # the first week: nothing to compare with
])
def test_week_beside_last_week_and_4_week_average(con, config, week, prev, before):
    data = gather(con, config, "me", week)
    assert (data.prev_week, data.avg_weeks) == (prev, before)
    sql = dict(MEASURE_SQL)
    if has_strength_views(con):
        sql.update(STRENGTH_MEASURE_SQL)
    assert [m.key for m in data.measures] == list(sql)
    for m in data.measures:
        by_week = {w: float(v or 0) for w, v in con.execute(sql[m.key]).fetchall()}
        assert m.this == pytest.approx(by_week[week])
        assert m.prev == (None if prev not in by_week else pytest.approx(by_week[prev]))
        assert m.avg == (None if not before else pytest.approx(sum(by_week.get(w, 0.0) for w in before) / len(before)))


def test_week_numbers_table(con, report):
    rows = dict(con.execute("SELECT iso_week, run_km FROM weekly_load WHERE athlete_id = 'me'").fetchall())
    avg = sum(rows[w] for w in ("2026-W34", "2026-W35", "2026-W36", "2026-W37")) / 4
    line = f"| Distance | {rows[WEEK]:.1f} km | {rows['2026-W37']:.1f} km | {avg:.1f} km |"
    assert line == "| Distance | 54.2 km | 58.8 km | 53.8 km |"
    assert line in report.markdown
    runs = dict(con.execute("SELECT iso_week, run_count FROM weekly_load WHERE athlete_id = 'me'").fetchall())
    runs_avg = sum(runs[w] for w in ("2026-W34", "2026-W35", "2026-W36", "2026-W37")) / 4
    assert f"| Runs | {runs[WEEK]} | {runs['2026-W37']} | {runs_avg:.1f} |" in report.markdown  # | Runs | 4 | 5 | 4.8 |
    note = "the 4-week average: the 4 weeks before this one (2026-W34 – 2026-W37)"
    assert note in report.markdown and note in report.html
    assert "This week beside last week (2026-W37)" in report.html


@pytest.mark.parametrize("week", ["2026-W34", "2026-W36", "2026-W37", WEEK, "2026-W39", "2026-W40"])
def test_every_spacing_flag_is_marked(con, config, week):
    data = gather(con, config, "me", week)
    expected = con.execute("""
        SELECT f.rule, f.severity, f.date, s.gap_hours,
               CASE WHEN s.which_first = 'strength_first'
                    THEN s.session_start_local + (s.session_end_utc - s.session_start_utc)
                    ELSE s.run_start_local + (s.run_end_utc - s.run_start_utc) END,
               CASE WHEN s.which_first = 'strength_first' THEN s.run_start_local ELSE s.session_start_local END
        FROM flags AS f JOIN spacing AS s
          ON s.session_id = f.evidence ->> 'session_id' AND s.activity_id = f.evidence ->> 'activity_id'
        WHERE f.athlete_id = 'me' AND f.week = ? AND f.rule LIKE 'spacing.%'
        ORDER BY f.date, f.rule""", [week]).fetchall()
    n_flags = con.execute("SELECT count(*) FROM flags WHERE athlete_id = 'me' AND week = ? AND rule LIKE 'spacing.%'",
                          [week]).fetchone()[0]
    assert n_flags == len(expected) >= 1
    assert [(g.rule, g.severity, g.local_date, g.gap_hours, g.start_local, g.end_local) for g in data.gaps] == \
        [(r, sev, d, pytest.approx(h), a, b) for r, sev, d, h, a, b in expected]
    # the brackets are drawn: the timeline without them is another picture
    assert charts.week_timeline(data) != charts.week_timeline(dataclasses.replace(data, gaps=[]))


def test_before_quality_across_midnight(con, config):
    """W39: strength Mon 21:30-22:15, quality run Tue 06:30: an 8.2 h error that no same-day gap showed."""
    data = gather(con, config, "me", "2026-W39")
    (gap,) = data.gaps
    assert (gap.rule, gap.severity, gap.run_is_quality) == ("spacing.before_quality", "error", True)
    assert (gap.start_local.strftime("%a %H:%M"), gap.end_local.strftime("%a %H:%M")) == ("Mon 22:15", "Tue 06:30")
    assert gap.gap_hours == pytest.approx(8.25)
    md = render_report(con, config, "me", "2026-W39").markdown
    assert ("- `spacing.before_quality` (error): strength ended Mon 21 Sep 22:15, quality run started "
            "Tue 22 Sep 06:30, 8.2 h apart, before a quality run") in md


def test_long_runs_marked(con, config):
    for week in (WEEK, "2026-W39"):
        data = gather(con, config, "me", week)
        long_ids = {r[0] for r in con.execute("SELECT activity_id FROM activities WHERE athlete_id = 'me' "
                                              "AND iso_week = ? AND sport = 'running' AND is_long", [week]).fetchall()}
        assert long_ids and {i.item_id for i in data.timeline if i.is_long} == long_ids
    md = render_report(con, config, "me", "2026-W39").markdown
    assert "| Sun 27 Sep | 08:30–11:16 | long run |" in md


def test_fitness_numbers(con, config, report):
    data = gather(con, config, "me", WEEK)
    rows = con.execute("SELECT local_date, atl, ctl, tsb FROM daily_load WHERE athlete_id = 'me' "
                       "AND local_date BETWEEN DATE '2026-08-03' AND DATE '2026-09-20' ORDER BY local_date").fetchall()
    assert [(d.local_date, d.atl, d.ctl, d.tsb) for d in data.acwr_days] == [tuple(r) for r in rows]
    _, atl, ctl, tsb = rows[-1]  # Sunday 20 Sep
    assert f"| **{WEEK}** | 54.2 | 502 | 1.10 | {ctl:.0f} | {atl:.0f} | {tsb:.0f} |" in report.markdown
    assert f"On Sun 20 Sep: CTL <b>{ctl:.0f}</b>, ATL <b>{atl:.0f}</b>, TSB <b>{tsb:.0f}</b>." in report.html


def test_strength_section(con, config, report):
    if not has_strength_views(con):
        pytest.skip("weekly_strength / exercise_progress are not in this build yet")
    data = gather(con, config, "me", WEEK)
    row = con.execute("""SELECT qualifying_sessions, heavy_sets, squat_sets, hinge_sets, single_leg_sets, calf_sets,
                                plyo_contacts, working_sets FROM weekly_strength
                         WHERE athlete_id = 'me' AND iso_week = ?""", [WEEK]).fetchone()
    st = data.strength
    assert (st.qualifying_sessions, st.heavy_sets, st.squat_sets, st.hinge_sets, st.single_leg_sets, st.calf_sets,
            st.plyo_contacts, st.working_sets) == row
    qualifying, heavy, squat, hinge, single, calf, plyo, working = row
    assert (f"{qualifying} qualifying session{'s' if qualifying != 1 else ''} · {heavy} heavy sets of {working} "
            f"working · {plyo} plyometric contacts") in report.markdown
    assert f"| {squat} | {hinge} | {single} | {calf} |" in report.markdown
    # the e1RM trend over the block W32..W38, every value as exercise_progress has it
    assert data.lifts
    for lift in data.lifts:
        assert lift.weeks == tuple(f"2026-W{n}" for n in range(32, 39))
        sql = dict(con.execute("SELECT iso_week, max(best_e1rm_kg) FROM exercise_progress WHERE athlete_id = 'me' "
                               "AND exercise = ? AND best_e1rm_kg IS NOT NULL GROUP BY iso_week",
                               [lift.exercise]).fetchall())
        assert lift.e1rm_kg == tuple(None if w not in sql else pytest.approx(sql[w]) for w in lift.weeks)
        assert lift.pattern in ("squat", "hinge", "single_leg", "calf")
        assert f"| {lift.exercise} | {lift.first:.1f} kg" in report.markdown
    assert "back squat" in [lift.exercise for lift in data.lifts]


def test_strength_section_skipped_without_the_views(con, config):
    con.execute("BEGIN TRANSACTION")
    try:
        for name in ("exercise_progress", "weekly_strength"):  # a view or a materialised table
            kind = con.execute("SELECT table_type FROM information_schema.tables WHERE table_schema = 'main' "
                               "AND table_name = ?", [name]).fetchone()
            if kind:
                con.execute(f"DROP {'VIEW' if kind[0] == 'VIEW' else 'TABLE'} {name}")
        rep = render_report(con, config, "me", WEEK)
        data = gather(con, config, "me", WEEK)
    finally:
        con.execute("ROLLBACK")
    assert data.strength is None and data.lifts == []
    assert "e1rm_chart" not in rep.images
    assert "## Strength\n" not in rep.markdown and "heavy sets and sets by movement" not in rep.html
    assert [m.key for m in data.measures] == list(MEASURE_SQL)


def test_rendered_text(report):
    assert report.athlete == "me" and report.week == WEEK
    assert report.subject == "runlift · 2026-W38 · 3 warnings, 1 info"
    verdict = "2026-W38 · 3 warnings, 1 info · strength 3 of 2 (build)"
    assert verdict in report.html and verdict in report.html_file
    assert report.markdown.startswith(f"# runlift · {verdict}\n")
    md = report.markdown
    assert "| 2026-W35 | Mon 24 Aug | build | 2 | 1 | short | 4 | 46.1 |" in md
    assert "| **2026-W38** | Mon 14 Sep | build | 2 | 3 | met | 4 | 54.2 |" in md
    assert "| 2026-W32 (first week) | Mon 3 Aug | base | 2 | 1 | not judged | 2 | 22.9 |" in md
    assert "| 3 of 2 (build · met) | 4 (1 quality) | 54.2 km | 502 | 26.0 km | 0.85 |" in md
    assert "## Load: last 7 weeks" in md
    assert "| Wed 16 Sep | 11:35–12:25 | strength | Lower A |" in md


# ---------------------------------------------------------------- images and HTML


CHART_SIZES = {"week_timeline": (680, 620), "load_chart": (680, 560), "fitness_chart": (680, 560),
               "e1rm_chart": (680, 460)}


def has_strength_views(con) -> bool:
    return con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' "
                       "AND table_name IN ('weekly_strength', 'exercise_progress')").fetchone()[0] == 2


def test_images(con, report):
    names = {"week_timeline", "load_chart", "fitness_chart"} | ({"e1rm_chart"} if has_strength_views(con) else set())
    assert set(report.images) == names
    for name, png in report.images.items():
        assert png_size(png) == CHART_SIZES[name]
        assert b"tEXt" not in png and b"iTXt" not in png  # no Software/date metadata


def test_charts_are_deterministic(con, config, report):
    again = render_report(con, config, "me", WEEK)
    assert again.images == report.images
    assert again.html == report.html and again.markdown == report.markdown


def test_html_variants(report):
    html, html_file = report.html, report.html_file
    for name in report.images:
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
    assert rep.subject == "runlift · 2026-W38 · 1 error, 3 warnings, 1 info"
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
    for name, png in rep.images.items():
        assert png_size(png) == CHART_SIZES[name]
    assert "No runs or strength sessions this week." in rep.markdown
    assert "| Runs | – | – | – |" in rep.markdown  # outside the athlete's series: no numbers at all
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
