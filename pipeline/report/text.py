"""The weekly report as plain text: the text/plain part of its e-mail.

Rendered from the same numbers as the Markdown and HTML (:func:`pipeline.report.data.gather`), but
written for a reader, not a Markdown renderer: no backslash escapes, no table pipes, no ``**``.
Values are printed as they are (a text/plain part is never interpreted), with newlines and
control characters collapsed to one space so a title cannot forge lines; long flag messages
wrap at :data:`WIDTH` columns.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from datetime import date, datetime

from pipeline.report.data import ReportData
from pipeline.wording import SEVERITIES, counts_text

WIDTH = 72
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_TITLES = {"error": "Errors", "warning": "Warnings", "info": "Info"}
_WS = re.compile(r"[\s\x00-\x1f\x7f]+")


def clean(value: object) -> str:
    """One line of text: newlines and control characters become one space."""
    return "" if value is None else _WS.sub(" ", str(value)).strip()


def day(d: date) -> str:
    """``"Wed 16 Sep"``."""
    return f"{_DAYS[d.weekday()]} {d.day} {_MONTHS[d.month - 1]}"


def num(value: float | None, digits: int = 1, unit: str = "") -> str:
    return "–" if value is None else f"{value:.{digits}f}{unit}"


def verdict_of(verdict: str | None, first_week: bool = False) -> str:
    """met | short | over; "in progress" for an incomplete week; "not judged" for a short first
    week (``strength.missed_sessions`` never judges the week of the first activity)."""
    if verdict is None:
        return "in progress"
    if first_week and verdict == "short":
        return "not judged"
    return verdict


def strength_of(data: ReportData) -> str:
    """``"1 of 2"`` (``"1"`` outside the athlete's series)."""
    s = data.summary
    return str(s.strength_done) if s.strength_target is None else f"{s.strength_done} of {s.strength_target}"


def columns(rows: Sequence[Sequence[str]], indent: str = "  ") -> list[str]:
    """Rows as left-aligned columns two spaces apart (the last column is not padded)."""
    if not rows:
        return []
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return [(indent + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + r[-1]).rstrip()
            if len(r) > 1 else (indent + r[0]).rstrip() for r in rows]


def _hm(t: datetime) -> str:
    return t.strftime("%H:%M")


def _heading(title: str) -> list[str]:
    return ["", title.upper(), ""]


def render_text(data: ReportData, subject: str) -> str:
    """The weekly report of ``data`` as plain text; ``subject`` is its first line."""
    s = data.summary
    peak = data.peak_acwr
    when = f"{day(data.week_start)} – {day(data.week_end)} {data.week_end.year}"
    status = [f"athlete {clean(data.athlete)}", when]
    if data.as_of:
        status.append(f"judged as of the build of {data.as_of.isoformat()}")
    if not s.complete:
        status.append("week not complete yet")
    out = [clean(subject), " · ".join(status)]

    out += _heading("The week in numbers")
    strength = strength_of(data)
    if s.strength_target is None:
        strength += " (no training data)"
    else:
        strength += f" ({s.phase} · {verdict_of(s.verdict, s.is_first_week)})"
    peak_text = "not judged yet" if peak is None else \
        f"{num(peak.acwr, 2)} ({day(peak.local_date)}, limit {data.acwr_max:g})"
    out += columns([
        ("Strength", strength),
        ("Runs", f"{s.runs} ({s.quality_runs} quality)"),
        ("Distance", f"{num(s.km, 1, ' km')} (long run {num(s.long_run_km, 1, ' km')})"),
        ("TRIMP", f"{s.trimp:.0f} (monotony {num(s.monotony, 2)})"),
        ("Peak ACWR", peak_text),
    ])

    out += _heading(f"Flags: {counts_text(data.severity_counts)}")
    flagged = [(sev, f) for sev in SEVERITIES for f in data.flags.get(sev, [])]
    if not flagged:
        out.append("  No flags this week.")
    for sev in SEVERITIES:
        items = data.flags.get(sev, [])
        if not items:
            continue
        out.append(f"{_TITLES.get(sev, sev.capitalize())} ({len(items)})")
        for f in items:
            out.append(f"  - {day(f.date)} · {clean(f.rule)}")
            out += textwrap.wrap(clean(f.message), WIDTH, initial_indent="    ", subsequent_indent="    ",
                                 break_on_hyphens=False)
        out.append("")
    if out[-1] == "":
        out.pop()

    out += _heading("Runs and strength sessions")
    if not data.timeline:
        out.append("  No runs or strength sessions this week.")
    heads, details = [], []
    for item in data.timeline:
        times = f"{_hm(item.start_local)}–{_hm(item.end_local)}"
        if item.kind == "run":
            kind = "quality run" if item.is_quality else "run"
            detail = f"{num(item.km, 1, ' km')} · {item.minutes:.0f} min"
        else:
            kind = "strength"
            detail = f"{item.minutes:.0f} min · {item.working_sets} working sets"
            if item.exercises:
                detail += ": " + ", ".join(clean(x) for x in item.exercises)
        title = clean(item.title)
        heads.append((day(item.local_date), times, kind, f"“{title}”" if title else ""))
        details.append(detail)
    for head, detail in zip(columns(heads), details, strict=True):
        out.append(head)
        out += textwrap.wrap(detail, WIDTH, initial_indent="    ", subsequent_indent="    ", break_on_hyphens=False)

    out += _heading("Compliance: training block")
    if data.block:
        out += columns([("week", "phase", "target", "done", "verdict")] + [
            (r.iso_week + (" *" if r.is_report_week else ""), r.phase, str(r.target), str(r.done),
             verdict_of(r.verdict, r.is_first_week)) for r in data.block])
        out.append("  * this week" + (f"; the block towards {clean(data.block_race)}" if data.block_race else ""))
    else:
        out.append("  No training data for this week.")

    out += ["", "The HTML part of this e-mail has the charts: the week's timeline and the load of the last weeks."]
    return "\n".join(out) + "\n"
