"""``index.html`` of the report folder: every athlete's week pages, newest first.

The pages are found in the folder itself (``<athlete>-<YYYY-Www>.html``, the names
:func:`pipeline.report.render.write_report` gives them, for the athletes of the config), so the
index links only to pages that exist, whichever run wrote them. Each week's verdict
(``weekly_compliance.verdict``: met / short / over, "in progress" while the week is incomplete,
"not judged" for a short first week) and its error/warning counts are read from the DB when the
index is written: the **last build's** judgement of every week, which is what re-running that
week's report would show (a page written before a later build may show older counts). A week the
DB does not know (pages kept from an older DB) shows "no data". Roster digests
(``roster-<week>.html``) are listed in a section of their own.

Every report run rewrites the index (``commands.write_reports``), atomically.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipeline.report import roster
from pipeline.report.page import CELL, TABLE, badge, count, esc, page, write_atomic
from pipeline.report.text import verdict_of
from pipeline.wording import plural

INDEX_FILE = "index.html"
_PAGE = re.compile(r"(?P<name>[A-Za-z0-9_.-]+)-(?P<week>\d{4}-W\d{2})\.html")


@dataclass(frozen=True)
class WeekEntry:
    athlete: str
    week: str
    file: str  # the page's file name, relative to the index
    verdict: str  # met | short | over | in progress | not judged | no data
    errors: int
    warnings: int


Pages = dict[str, list[tuple[str, str]]]  # athlete -> [(week, file name)]


def find_pages(out_dir: Path, athletes: Sequence[str]) -> tuple[Pages, list[tuple[str, str]]]:
    """``({athlete: [(week, file), ...]}, [(week, roster file), ...])``, weeks newest first."""
    known = set(athletes)
    pages: Pages = {a: [] for a in athletes}
    rosters: list[tuple[str, str]] = []
    for path in Path(out_dir).iterdir() if Path(out_dir).is_dir() else []:
        m = _PAGE.fullmatch(path.name)
        if not m or not path.is_file():
            continue
        if m["name"] in known:
            pages[m["name"]].append((m["week"], path.name))
        elif m["name"] == roster.PREFIX:
            rosters.append((m["week"], path.name))
    for found in pages.values():
        found.sort(reverse=True)
    rosters.sort(reverse=True)
    return pages, rosters


def _judgements(con: duckdb.DuckDBPyConnection) -> tuple[dict[tuple[str, str], str], dict[tuple[str, str], dict]]:
    verdicts: dict[tuple[str, str], str] = {}
    for athlete, week, verdict, first in con.execute(
            "SELECT athlete_id, iso_week, verdict, is_first_week FROM weekly_compliance").fetchall():
        verdicts[(athlete, week)] = verdict_of(verdict, bool(first))
    counts: dict[tuple[str, str], dict] = {}
    has_flags = con.execute("SELECT count(*) FROM information_schema.tables "
                            "WHERE table_schema = 'main' AND table_name = 'flags'").fetchone()
    if has_flags and has_flags[0]:
        for athlete, week, severity, n in con.execute(
                "SELECT athlete_id, week, severity, count(*) FROM flags GROUP BY ALL").fetchall():
            counts.setdefault((athlete, week), {})[severity] = int(n)
    return verdicts, counts


def index_entries(con: duckdb.DuckDBPyConnection, out_dir: Path,
                  athletes: Sequence[str]) -> tuple[dict[str, list[WeekEntry]], list[tuple[str, str]]]:
    pages, rosters = find_pages(out_dir, athletes)
    verdicts, counts = _judgements(con)
    entries = {a: [WeekEntry(a, week, file, verdicts.get((a, week), "no data"),
                             counts.get((a, week), {}).get("error", 0), counts.get((a, week), {}).get("warning", 0))
                   for week, file in found] for a, found in pages.items()}
    return entries, rosters


def render_index(entries: dict[str, list[WeekEntry]], rosters: list[tuple[str, str]]) -> str:
    sections = []
    head = "".join(f'<th style="{CELL}text-align:{align};font-size:12px;color:#6b7280;font-weight:600;">{label}</th>'
                   for label, align in (("Week", "left"), ("Verdict", "left"), ("Errors", "right"),
                                        ("Warnings", "right")))
    for athlete, weeks in entries.items():
        rows = "".join(
            "<tr>"
            f'<td style="{CELL}white-space:nowrap;">'
            f'<a href="{esc(e.file)}" style="color:#1d4ed8;">{esc(e.week)}</a></td>'
            f'<td style="{CELL}">{badge(e.verdict)}</td>'
            f'<td style="{CELL}text-align:right;">{count(e.errors, "#b91c1c")}</td>'
            f'<td style="{CELL}text-align:right;">{count(e.warnings, "#b45309")}</td>'
            "</tr>" for e in weeks)
        table = (f'<table style="{TABLE}"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>' if weeks
                 else '<p style="margin:0;font-size:14px;color:#6b7280;">No weekly report written yet.</p>')
        sections.append(
            f'<h2 id="athlete-{esc(athlete)}" style="font-size:17px;margin:20px 0 6px 0;">{esc(athlete)} '
            f'<span style="font-weight:400;font-size:14px;color:#6b7280;">{esc(plural(len(weeks), "week"))}</span></h2>'
            f'<div style="background:#ffffff;border:1px solid #e5e7eb;border-radius:10px;padding:8px;">{table}</div>')
    if rosters:
        links = "".join(f'<li style="margin:0 0 4px 0;"><a href="{esc(f)}" style="color:#1d4ed8;">{esc(w)}</a></li>'
                        for w, f in rosters)
        sections.append('<h2 style="font-size:17px;margin:20px 0 6px 0;">Roster digests</h2>'
                        f'<ul style="margin:0;padding-left:18px;font-size:14px;">{links}</ul>')
    body = ('<h1 style="font-size:20px;margin:4px 0 4px 0;">runlift reports</h1>'
            '<p style="margin:0 0 8px 0;font-size:13px;color:#6b7280;">Weeks newest first; verdicts and counts '
            "from the last build.</p>" + "".join(sections))
    return page("runlift reports", body)


def write_index(con: duckdb.DuckDBPyConnection, out_dir: Path, athletes: Sequence[str]) -> Path:
    """Rewrite ``out_dir/index.html`` from the pages in ``out_dir`` and the DB's verdicts."""
    entries, rosters = index_entries(con, out_dir, athletes)
    path = Path(out_dir) / INDEX_FILE
    write_atomic(path, render_index(entries, rosters))
    return path
