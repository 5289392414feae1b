"""Render the weekly report: :func:`render_report` gathers the week's numbers
(:mod:`pipeline.report.data`; a club's are gathered at once and rendered with :func:`render_data`),
draws the charts (:mod:`pipeline.report.charts`) and fills the jinja2 templates in ``pipeline/report/templates/``:

- ``report.md``: Markdown for the terminal and files. Rendered with a *Markdown autoescape*: every
  ``{{ ... }}`` value is passed through :func:`md_escape` (backslash-escaping Markdown
  metacharacters and ``<``/``>``, collapsing newlines) unless it is already :class:`MdSafe`, so a
  title, exercise name, message or file name can neither format text nor inject raw HTML.
- ``report.html``: a self-contained e-mail (inline CSS, tables for layout, max 680 px, system
  fonts), rendered with jinja2's HTML autoescape; fluid, so it reads on a 390 px phone as on a
  desktop: cards and the two load charts sit side by side where there is room and stack where
  there is not (inline-block, no media queries), tables have few, wrapping columns, images are
  ``max-width:100%``. Images are ``cid:<name>`` (:data:`IMAGE_NAMES`; ``e1rm_chart`` only with the
  strength section) in :attr:`Report.html` and data URIs in :attr:`Report.html_file`.

:func:`write_report` writes ``<athlete>-<week>.md`` and ``.html`` atomically.
"""

from __future__ import annotations

import base64
import os
import re
from datetime import date, datetime
from importlib.resources import files
from pathlib import Path

import duckdb
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from pipeline.config import Config
from pipeline.report import Report, charts
from pipeline.report.data import (
    Measure,
    ReportData,
    ReportError,
    TimelineItem,
    gather,
    last_build_as_of,
    last_complete_week,
)
from pipeline.report.page import write_atomic
from pipeline.wording import SEVERITIES, counts_text, iso_week, plural

__all__ = ["MdSafe", "ReportError", "last_build_as_of", "last_complete_week", "md_escape", "render_data",
           "render_report", "subject_line", "write_report"]

TEMPLATES = Path(str(files("pipeline.report") / "templates"))
IMAGE_NAMES = ("week_timeline", "load_chart", "fitness_chart", "e1rm_chart")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_SAFE_NAME = re.compile(r"[A-Za-z0-9_.-]+")

# ---------------------------------------------------------------- Markdown escaping


class MdSafe(str):
    """A string already safe to place in Markdown (escaped, or written by us)."""


_MD_INLINE = re.compile(r"([\\`*_\[\]<>|~&])")
_MD_LINE_START = re.compile(r"^([#+\-=]|\d+[.)])(?=\s|$)")  # block markers (">" is escaped inline)
_WS = re.compile(r"[\s\x00-\x1f\x7f]+")


def md_escape(value: object) -> MdSafe:
    """``value`` as Markdown text that renders literally: inline metacharacters (``\\ ` * _ [ ] | ~ &``)
    and ``<``/``>`` are backslash-escaped (so no emphasis, links, code, table cells, entities or raw
    HTML), newlines and control characters become one space, and a leading block marker (``#``,
    ``-``, ``+``, ``=``, ``>``, ``1.``) is escaped too."""
    if value is None:
        return MdSafe("")
    if isinstance(value, MdSafe):
        return value
    text = _WS.sub(" ", str(value)).strip()
    text = _MD_INLINE.sub(r"\\\1", text)
    text = _MD_LINE_START.sub(lambda m: m.group(1)[:-1] + "\\" + m.group(1)[-1], text)
    return MdSafe(text)


def _md_finalize(value: object) -> object:
    # the Markdown environment's autoescape: every {{ }} output not marked safe is escaped
    if value is None:
        return ""
    if isinstance(value, str) and not isinstance(value, MdSafe):
        return md_escape(value)
    return value


def _md_code(value: object) -> MdSafe:
    """A rule id as inline code when it is a plain id, else escaped text."""
    text = "" if value is None else str(value)
    return MdSafe(f"`{text}`") if re.fullmatch(r"[A-Za-z0-9_.:-]+", text) else md_escape(text)


# ---------------------------------------------------------------- wording


def subject_line(week: str, counts: dict[str, int]) -> str:
    """E-mail subject, e.g. ``"runlift · 2026-W37 · 2 errors, 1 warning"``."""
    return f"runlift · {week} · {counts_text(counts)}"


def strength_text(data: ReportData) -> str:
    s = data.summary
    if s.strength_target is None:
        return f"strength {s.strength_done} (no training data)"
    return f"strength {s.strength_done} of {s.strength_target} ({s.phase})"


def verdict_line(data: ReportData) -> str:
    """The header: ``"2026-W37 · 2 errors, 1 warning · strength 1 of 2 (build)"``."""
    return f"{data.week} · {counts_text(data.severity_counts)} · {strength_text(data)}"


def _day(d: date) -> str:
    return f"{_DAYS[d.weekday()]} {d.day} {_MONTHS[d.month - 1]}"


def _date_range(start: date, end: date) -> str:
    if start.year != end.year:
        return f"{_day(start)} {start.year} – {_day(end)} {end.year}"
    if start.month != end.month:
        return f"{_day(start)} – {_day(end)} {end.year}"
    return f"{_DAYS[start.weekday()]} {start.day} – {_day(end)} {end.year}"


def _hm(t: datetime) -> str:
    return t.strftime("%H:%M")


def _num(value: float | None, digits: int = 1, unit: str = "") -> str:
    if value is None:
        return "–"
    return f"{value:.{digits}f}{unit}"


def _verdict(verdict: str | None, first_week: bool = False) -> str:
    """met | short | over, "in progress" for an incomplete week, "not judged" for a short first week."""
    if verdict is None:
        return "in progress"
    if first_week and verdict == "short":
        return "not judged"  # strength.missed_sessions never judges the week of the first activity
    return verdict


def _off_target(verdict: str | None, first_week: bool) -> bool:
    return _verdict(verdict, first_week) in ("short", "over")


def _status(data: ReportData) -> tuple[str, str]:
    counts = data.severity_counts
    s = data.summary
    if counts["error"]:
        return "error", f"{plural(counts['error'], 'error')} to fix" + (
            f", {plural(counts['warning'], 'warning')} to look at" if counts["warning"] else "")
    if counts["warning"]:
        return "warning", f"{plural(counts['warning'], 'warning')} to look at"
    if s.strength_target is not None and _off_target(s.verdict, s.is_first_week):
        return "warning", "strength target missed" if s.verdict == "short" else "more strength than the phase allows"
    if counts["info"]:
        return "info", f"{plural(counts['info'], 'info')} note" + ("s" if counts["info"] > 1 else "")
    return "ok", "clean week: nothing flagged"


_QUALITY_REASONS = {"race": "race day", "title": "by title", "laps": "by laps", "threshold_hr": "by heart rate",
                    "threshold_pace": "by pace"}


def _session_row(item: TimelineItem) -> dict:
    start, end = item.start_local, item.end_local
    when = f"{_hm(start)}–{_hm(end)}"
    if end.date() != start.date():
        when += f" (+{(end.date() - start.date()).days}d)"
    if item.kind == "run":
        kind = "long run" if item.is_long else "quality run" if item.is_quality else "run"
        details = f"{_num(item.km, 1, ' km')} · {item.minutes:.0f} min"
        if item.is_quality and item.quality_reason:
            reason = _QUALITY_REASONS.get(item.quality_reason, item.quality_reason)
            details += f" · quality {reason}"
        exercises = ""
    else:
        kind = "strength"
        details = f"{item.minutes:.0f} min · {item.working_sets} working sets"
        if item.qualifies is False:
            details += " · not a qualifying session"
        exercises = ", ".join(item.exercises)
    return {"day": _day(item.local_date), "when": when, "kind": kind, "title": item.title,
            "file": os.path.basename(item.source_file or "") if not item.title else None,
            "details": details, "exercises": exercises}


def _load_of_week(data: ReportData) -> float:
    return next((w.load for w in data.load_weeks if w.iso_week == data.week), 0.0)


def _fmt(m: Measure, value: float | None, extra_digit: bool = False) -> str:
    if value is None:
        return "–"
    digits = m.digits + 1 if extra_digit and m.digits == 0 and value < 100 else m.digits  # 4.5 runs, not 4
    return f"{value:.{digits}f}" + (f" {m.unit}" if m.unit else "")


def _measure_rows(data: ReportData) -> list[dict]:
    rows = []
    for m in data.measures:
        # the trend against the 4-week average, for the eye only (no judgement: more is not better)
        trend = ""
        if m.this is not None and m.avg is not None and round(m.this, m.digits) != round(m.avg, m.digits):
            trend = "▲" if m.this > m.avg else "▼"
        rows.append({"label": m.label, "this": _fmt(m, m.this), "prev": _fmt(m, m.prev),
                     "avg": _fmt(m, m.avg, extra_digit=True), "trend": trend})
    return rows


def _avg_note(data: ReportData) -> str:
    if not data.avg_weeks:
        return "4-week average: no earlier weeks yet"
    n = len(data.avg_weeks)
    span = data.avg_weeks[0] if n == 1 else f"{data.avg_weeks[0]} – {data.avg_weeks[-1]}"
    if n == 4:
        return f"4-week average: the 4 weeks before this one ({span})"
    return f"4-week average: the {plural(n, 'week')} before this one that have data ({span})"


_PATTERN_LABELS = (("squat_sets", "Squat"), ("hinge_sets", "Hinge"), ("single_leg_sets", "Single-leg"),
                   ("calf_sets", "Calf"))


def _strength_context(data: ReportData) -> dict | None:
    st = data.strength
    if st is None:
        return None
    lifts = []
    for lift in data.lifts:
        points = [(w, v) for w, v in zip(lift.weeks, lift.e1rm_kg, strict=True) if v is not None]
        (w0, first), (w1, last) = points[0], points[-1]
        change = last - first
        lifts.append({"exercise": lift.exercise, "first": f"{first:.1f} kg", "first_week": w0,
                      "last": f"{last:.1f} kg", "last_week": w1,
                      "change": f"{change:+.1f} kg ({change / first * 100:+.0f} %)" if first else f"{change:+.1f} kg"})
    weeks = data.lifts[0].weeks if data.lifts else ()
    return {
        "qualifying": st.qualifying_sessions, "heavy": st.heavy_sets, "working": st.working_sets,
        "plyo": st.plyo_contacts, "median_reps": _num(st.median_lower_reps, 0),
        "srpe": _num(st.srpe_load, 0),
        "patterns": [{"label": label, "sets": getattr(st, key)} for key, label in _PATTERN_LABELS],
        "lifts": lifts,
        "trend_caption": (f"Best estimated 1RM (Epley) per week, {weeks[0]} – {weeks[-1]}" if weeks
                          else "No loaded key lift in two or more weeks of the block"),
    }


def _spacing_rows(data: ReportData) -> list[dict]:
    rows = []
    for g in data.gaps:
        run = "long run" if g.run_is_long else "quality run" if g.run_is_quality else ""
        first, second = ("strength", run or "run") if g.which_first == "strength_first" else (run or "run", "strength")
        rows.append({"rule": g.rule, "severity": g.severity, "hours": f"{g.gap_hours:.1f} h", "run": run,
                     "between": f"{first} ended {_day(g.start_local.date())} {_hm(g.start_local)}, "
                                f"{second} started {_day(g.end_local.date())} {_hm(g.end_local)}"})
    return rows


def _context(data: ReportData, images: dict[str, str]) -> dict:
    s = data.summary
    counts = data.severity_counts
    peak = data.peak_acwr
    status, status_text = _status(data)
    if s.strength_target is None:
        strength_sub = "no training data"
    elif s.verdict is None:
        strength_sub = f"{s.phase} · in progress"
    elif s.is_first_week and s.verdict == "short":
        strength_sub = f"{s.phase} · first week"
    else:
        strength_sub = f"{s.phase} · {s.verdict}"
    target = "–" if s.strength_target is None else str(s.strength_target)
    tiles = [
        {"label": "Strength", "value": f"{s.strength_done} of {target}", "sub": strength_sub,
         "alert": _off_target(s.verdict, s.is_first_week)},
        {"label": "Runs", "value": str(s.runs), "sub": f"{s.quality_runs} quality", "alert": False},
        {"label": "Distance", "value": _num(s.km, 1, " km"), "sub": f"long run {_num(s.long_run_km, 1, ' km')}",
         "alert": False},
        {"label": "Load", "value": f"{_load_of_week(data):.0f}", "sub": f"monotony {_num(s.monotony, 2)}",
         "alert": False},
        {"label": "Peak ACWR", "value": _num(peak.acwr if peak else None, 2),
         "sub": f"limit {data.acwr_max:g}" if peak else "not judged yet",
         "alert": bool(peak and peak.acwr is not None and peak.acwr > data.acwr_max)},
    ]
    groups = [{"severity": sev, "count": len(data.flags.get(sev, [])),
               "title": {"error": "Errors", "warning": "Warnings", "info": "Info"}[sev],
               "flags": [{"day": _day(f.date), "date": f.date.isoformat(), "rule": f.rule, "message": f.message}
                         for f in data.flags.get(sev, [])]}
              for sev in SEVERITIES if data.flags.get(sev)]
    block = [{"week": r.iso_week, "monday": _day(r.week_start), "phase": r.phase, "target": r.target,
              "done": r.done, "verdict": _verdict(r.verdict, r.is_first_week), "runs": r.runs, "km": _num(r.km, 1),
              "first": r.is_first_week, "current": r.is_report_week} for r in data.block]
    if data.block:
        span = f"{data.block[0].iso_week} – {data.block[-1].iso_week}" if len(data.block) > 1 \
            else data.block[0].iso_week
        block_note = (f"the block towards {data.block_race}" if data.block_race
                      else "weeks without an A race ahead")
        block_caption = f"{span} · {block_note}"
    else:
        block_caption = "no training data for this week"
    peaks: dict[str, float] = {}
    for d in data.acwr_days:
        if d.acwr is not None:
            wk = iso_week(d.local_date)
            peaks[wk] = max(peaks.get(wk, 0.0), d.acwr)
    last_day = {iso_week(d.local_date): d for d in data.acwr_days}  # days are in date order: the week's last
    load = [{"week": w.iso_week, "km": _num(w.km, 1), "load": f"{w.load:.0f}",
             "peak_acwr": _num(peaks.get(w.iso_week), 2), "current": w.iso_week == data.week,
             "ctl": _num(getattr(last_day.get(w.iso_week), "ctl", None), 0),
             "atl": _num(getattr(last_day.get(w.iso_week), "atl", None), 0),
             "tsb": _num(getattr(last_day.get(w.iso_week), "tsb", None), 0)}
            for w in data.load_weeks]
    end = last_day.get(data.week)
    fitness = ({"ctl": _num(end.ctl, 0), "atl": _num(end.atl, 0), "tsb": _num(end.tsb, 0), "day": _day(end.local_date)}
               if end is not None and end.ctl is not None else None)
    return {
        "d": data, "s": s, "counts": counts, "subject": subject_line(data.week, counts),
        "verdict": verdict_line(data), "counts_text": counts_text(counts), "strength_text": strength_text(data),
        "date_range": _date_range(data.week_start, data.week_end), "status": status, "status_text": status_text,
        "tiles": tiles, "groups": groups, "sessions": [_session_row(i) for i in data.timeline],
        "block": block, "block_caption": block_caption, "first_week_in_block": any(r.is_first_week for r in data.block),
        "load": load, "load_title": "load" + (f": last {len(load)} week{'s' if len(load) > 1 else ''}" if load else ""),
        "peak": {"value": _num(peak.acwr, 2), "day": _day(peak.local_date)} if peak else None,
        "acwr_max": f"{data.acwr_max:g}", "optimal_gap": f"{data.optimal_gap_hours:g}",
        "as_of": data.as_of.isoformat() if data.as_of else None, "complete": s.complete,
        "fitness": fitness, "measures": _measure_rows(data), "prev_week": data.prev_week, "avg_note": _avg_note(data),
        "numbers_note": f"This week beside last week ({data.prev_week}) and the {_avg_note(data)[0].lower()}"
                        f"{_avg_note(data)[1:]}.",
        "strength": _strength_context(data),
        "chart_px": {"pair": charts.DISPLAY_MAX_PX, "wide": charts.TIMELINE_DISPLAY_MAX_PX},
        "flag_marks": len(data.gaps), "spacing": _spacing_rows(data), "img": images,
    }


# ---------------------------------------------------------------- environments

def _environments() -> tuple[Environment, Environment]:
    loader = FileSystemLoader(str(TEMPLATES))
    html = Environment(loader=loader, autoescape=select_autoescape(["html"]), undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True)
    md = Environment(loader=loader, autoescape=False, finalize=_md_finalize, undefined=StrictUndefined,
                     trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    md.filters["md"] = md_escape
    md.filters["code"] = _md_code
    return html, md


_HTML_ENV, _MD_ENV = _environments()


def render_report(con: duckdb.DuckDBPyConnection, config: Config, athlete_id: str, week: str) -> Report:
    """The weekly report of one athlete for one ISO week (``YYYY-Www``) from the last build's marts."""
    return render_data(gather(con, config, athlete_id, week))


def render_data(data: ReportData) -> Report:
    """The weekly report of the gathered ``data`` (charts, Markdown and HTML; no database)."""
    images = {"week_timeline": charts.week_timeline(data), "load_chart": charts.load_chart(data),
              "fitness_chart": charts.fitness_chart(data)}
    if data.strength is not None:
        images["e1rm_chart"] = charts.e1rm_chart(data)
    cid = {name: f"cid:{name}" for name in images}
    inline = {name: "data:image/png;base64," + base64.b64encode(png).decode("ascii") for name, png in images.items()}
    html_tpl = _HTML_ENV.get_template("report.html")
    md_tpl = _MD_ENV.get_template("report.md")
    ctx = _context(data, cid)
    return Report(
        athlete=data.athlete, week=data.week, subject=ctx["subject"],
        markdown=md_tpl.render(ctx),
        html=html_tpl.render(ctx),
        html_file=html_tpl.render({**ctx, "img": inline}),
        images=images, severity_counts=dict(data.severity_counts),
    )


def write_report(report: Report, out_dir: Path) -> dict[str, Path]:
    """Write ``<athlete>-<week>.md`` and ``<athlete>-<week>.html`` (the self-contained variant) into
    ``out_dir`` (created if missing), each atomically; returns ``{"markdown": path, "html": path}``."""
    for part in (report.athlete, report.week):
        if not _SAFE_NAME.fullmatch(part or "") or part.startswith("."):
            raise ReportError(f"cannot name a report file after {part!r}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{report.athlete}-{report.week}"
    paths = {"markdown": out_dir / f"{stem}.md", "html": out_dir / f"{stem}.html"}
    write_atomic(paths["markdown"], report.markdown)
    write_atomic(paths["html"], report.html_file)
    return paths
