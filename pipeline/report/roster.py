"""The coach's roster digest: one week of every athlete on one page, one e-mail.

A row per athlete (verdict, errors, warnings, strength done/target, km, peak ACWR) linking to that
athlete's section further down (the week's flags); the file variant links each section to the
athlete's own week page as well (``<athlete>-<week>.html`` beside it; an e-mail cannot reach those
files). Built from the same :class:`~pipeline.report.data.ReportData` as each athlete's report.
Written as ``roster-<week>.md`` and ``roster-<week>.html`` into the report folder and sent to
``[report] coach_email_to`` by ``commands.send_reports``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import ReportError
from pipeline.report.data import ReportData
from pipeline.report.page import CELL, TABLE, badge, count, esc, page, write_atomic
from pipeline.report.render import md_escape
from pipeline.report.text import WIDTH, clean, columns, day, num, verdict_of
from pipeline.wording import counts_text, plural

PREFIX = "roster"


@dataclass(frozen=True)
class Flag:
    severity: str
    day: str
    rule: str
    message: str


@dataclass(frozen=True)
class Row:
    """One athlete's week, as the roster shows it."""

    athlete: str
    verdict: str  # met | short | over | in progress | not judged | no data
    errors: int
    warnings: int
    infos: int
    strength_done: int
    strength_target: int | None
    phase: str | None
    km: float
    runs: int
    peak_acwr: float | None
    acwr_max: float
    flags: tuple[Flag, ...] = ()

    @property
    def strength(self) -> str:
        done, target = self.strength_done, self.strength_target
        return str(done) if target is None else f"{done}/{target}"

    @property
    def peak_over(self) -> bool:
        return self.peak_acwr is not None and self.peak_acwr > self.acwr_max

    @property
    def anchor(self) -> str:
        return f"athlete-{self.athlete}"  # athlete ids are [A-Za-z0-9._-]: a valid fragment as they are


def row_of(data: ReportData) -> Row:
    s = data.summary
    counts = data.severity_counts
    peak = data.peak_acwr
    verdict = "no data" if s.strength_target is None else verdict_of(s.verdict, s.is_first_week)
    flags = tuple(Flag(f.severity, day(f.date), f.rule, f.message) for sev in ("error", "warning", "info")
                  for f in data.flags.get(sev, []))
    return Row(data.athlete, verdict, counts.get("error", 0), counts.get("warning", 0), counts.get("info", 0),
               s.strength_done, s.strength_target, s.phase, s.km, s.runs, None if peak is None else peak.acwr,
               data.acwr_max, flags)


@dataclass
class Roster:
    week: str
    subject: str
    rows: list[Row]
    markdown: str
    text: str
    html: str  # for e-mail: rows link to the sections of this message
    html_file: str  # for the report folder: the sections also link to each athlete's week page
    images: dict[str, bytes] = field(default_factory=dict)


def file_stem(week: str) -> str:
    return f"{PREFIX}-{week}"


def build_roster(week: str, datas: Sequence[ReportData]) -> Roster:
    """The roster digest of ``week`` from every athlete's report data (in config order)."""
    rows = [row_of(d) for d in datas]
    totals = {"error": sum(r.errors for r in rows), "warning": sum(r.warnings for r in rows),
              "info": sum(r.infos for r in rows)}
    subject = f"runlift roster · {week} · {plural(len(rows), 'athlete')} · {counts_text(totals)}"
    return Roster(week, subject, rows, _markdown(week, subject, rows), _text(subject, rows),
                  _html(week, subject, rows, links=False), _html(week, subject, rows, links=True))


def write_roster(roster: Roster, out_dir: Path, athletes: Sequence[str]) -> dict[str, Path]:
    """Write ``roster-<week>.md`` and ``.html`` into ``out_dir``, each atomically."""
    if any(a.casefold() == PREFIX for a in athletes):
        raise ReportError(f"an athlete named {PREFIX!r} would share its report files with the roster digest "
                          f"({file_stem(roster.week)}.html): rename the athlete or leave [report] coach_email_to empty")
    out_dir = Path(out_dir)
    paths = {"markdown": out_dir / f"{file_stem(roster.week)}.md", "html": out_dir / f"{file_stem(roster.week)}.html"}
    write_atomic(paths["markdown"], roster.markdown)
    write_atomic(paths["html"], roster.html_file)
    return paths


# ---------------------------------------------------------------- renderings


def _acwr(row: Row) -> str:
    return num(row.peak_acwr, 2)


def _markdown(week: str, subject: str, rows: list[Row]) -> str:
    out = [f"# {md_escape(subject)}", "",
           "| athlete | verdict | errors | warnings | strength | km | peak ACWR |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        over = f" (over {r.acwr_max:g})" if r.peak_over else ""
        out.append(f"| [{md_escape(r.athlete)}]({r.athlete}-{week}.html) | {md_escape(r.verdict)} | {r.errors} | "
                   f"{r.warnings} | {r.strength} | {num(r.km, 1)} | {_acwr(r)}{over} |")
    for r in rows:
        out += ["", f"## {md_escape(r.athlete)}", ""]
        out += [f"- **{md_escape(f.day)}** · `{f.rule}` · {md_escape(f.message)}" for f in r.flags] \
            or ["No flags this week."]
    return "\n".join(out) + "\n"


def _text(subject: str, rows: list[Row]) -> str:
    out = [clean(subject), ""]
    out += columns([("athlete", "verdict", "errors", "warnings", "strength", "km", "ACWR")] + [
        (clean(r.athlete), r.verdict, str(r.errors), str(r.warnings), r.strength, num(r.km, 1),
         _acwr(r) + (" !" if r.peak_over else "")) for r in rows])
    if any(r.peak_over for r in rows):
        out.append(f"  ! above the ACWR limit ({rows[0].acwr_max:g})")
    for r in rows:
        out += ["", f"{clean(r.athlete).upper()}: {r.verdict}, {plural(r.runs, 'run')}, {num(r.km, 1, ' km')}"]
        if not r.flags:
            out.append("  No flags this week.")
        for f in r.flags:
            out.append(f"  - {f.severity} · {f.day} · {clean(f.rule)}")
            out += textwrap.wrap(clean(f.message), WIDTH, initial_indent="    ", subsequent_indent="    ",
                                 break_on_hyphens=False)
    return "\n".join(out) + "\n"


_SEVERITY_COLOURS = {"error": "#b91c1c", "warning": "#b45309", "info": "#1d4ed8"}


def _html(week: str, subject: str, rows: list[Row], *, links: bool) -> str:
    head = "".join(f'<th style="{CELL}text-align:{align};font-size:12px;color:#6b7280;font-weight:600;">{label}</th>'
                   for label, align in (("Athlete", "left"), ("Verdict", "left"), ("Err", "right"), ("Warn", "right"),
                                        ("Strength", "right"), ("km", "right"), ("ACWR", "right")))
    body = []
    for r in rows:
        acwr_style = "color:#b91c1c;font-weight:600;" if r.peak_over else ""
        body.append(
            "<tr>"
            f'<td style="{CELL}"><a href="#{esc(r.anchor)}" style="color:#1d4ed8;">{esc(r.athlete)}</a></td>'
            f'<td style="{CELL}">{badge(r.verdict)}</td>'
            f'<td style="{CELL}text-align:right;">{count(r.errors, _SEVERITY_COLOURS["error"])}</td>'
            f'<td style="{CELL}text-align:right;">{count(r.warnings, _SEVERITY_COLOURS["warning"])}</td>'
            f'<td style="{CELL}text-align:right;white-space:nowrap;">{esc(r.strength)}</td>'
            f'<td style="{CELL}text-align:right;white-space:nowrap;">{esc(num(r.km, 1))}</td>'
            f'<td style="{CELL}text-align:right;{acwr_style}">{esc(_acwr(r))}</td>'
            "</tr>")
    sections = []
    for r in rows:
        items = "".join(
            f'<li style="margin:0 0 6px 0;"><span style="color:{_SEVERITY_COLOURS.get(f.severity, "#374151")};'
            f'font-weight:600;">{esc(f.severity)}</span> · {esc(f.day)} · <code>{esc(f.rule)}</code><br>'
            f"{esc(f.message)}</li>" for f in r.flags)
        link = (f' · <a href="{esc(r.athlete)}-{esc(week)}.html" style="color:#1d4ed8;">full report</a>'
                if links else "")
        sections.append(
            f'<h2 id="{esc(r.anchor)}" style="font-size:17px;margin:20px 0 6px 0;">{esc(r.athlete)}</h2>'
            f'<p style="margin:0 0 8px 0;font-size:14px;color:#374151;">{badge(r.verdict)} '
            f"{esc(plural(r.runs, 'run'))} · {esc(num(r.km, 1, ' km'))} · strength {esc(r.strength)}"
            f"{' (' + esc(r.phase) + ')' if r.phase else ''}{link}</p>"
            + (f'<ul style="margin:0;padding-left:18px;font-size:14px;line-height:1.4;">{items}</ul>' if items
               else '<p style="margin:0;font-size:14px;color:#6b7280;">No flags this week.</p>'))
    acwr_note = (f'<p style="font-size:12px;color:#6b7280;margin:6px 0 0 0;">ACWR: the week\'s highest daily value; '
                 f'red above the limit ({rows[0].acwr_max:g}).</p>' if rows else "")
    content = (
        f'<h1 style="font-size:20px;margin:4px 0 12px 0;">{esc(subject)}</h1>'
        '<div style="background:#ffffff;border:1px solid #e5e7eb;border-radius:10px;padding:8px;">'
        f'<table role="table" style="{TABLE}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
        f"{acwr_note}</div>"
        + "".join(sections)
    )
    return page(subject, content)
