"""The report's charts as PNG bytes: load, fitness, the week's spacing timeline, the e1RM trend.

matplotlib's Agg canvas on standalone :class:`~matplotlib.figure.Figure` objects (no pyplot, no
global backend switch), with fixed sizes and fonts under an ``rc_context`` and no timestamp or
software tag in the PNG, so the same data gives the same bytes.

Every chart is drawn for a phone: :data:`WIDTH_PX` pixels (a 3.4 in figure at :data:`DPI`), shown
at most :data:`DISPLAY_MAX_PX` CSS pixels wide (:data:`TIMELINE_DISPLAY_MAX_PX` for the timeline and
the e1RM trend, alone on their rows), with no text smaller than :data:`MIN_FONT_PT`: even at
320 px its smallest label is :func:`label_px_at` ≈ 10 CSS px, and at the 390 px phone width the
timeline is shown about 360 px wide (labels ≈ 11 px); capped widths keep labels from growing
past body text on a desktop.

- :func:`load_chart`: weekly km and running load as grouped bars (km left axis, load right) for
  the last 12 weeks, and below them the **daily** ACWR line with the band above ``acwr_max``.
- :func:`fitness_chart`: the daily CTL (fitness, 42 d) and ATL (fatigue, 7 d) lines over the
  same days, and below them TSB (form = yesterday's CTL − ATL) as bars.
- :func:`week_timeline`: Monday to Sunday (rows) by 0-24 h; runs, quality runs (hatched), long runs
  (dark, outlined) and strength sessions as bars; every spacing flag of the week as a bracket
  from the end of the earlier one to the start of the later one (red: error, amber: warning),
  across midnight when the pair spans two days.
- :func:`e1rm_chart`: the best e1RM per week of the key lifts over the block.
"""

from __future__ import annotations

import io
import math
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg  # the Agg canvas, without pyplot's global state
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from pipeline.report.data import Gap, ReportData, TimelineItem

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

DPI = 200
WIDTH_PX = 680  # 3.4 in: a phone-sized figure, rendered at twice the density it is shown at
DISPLAY_MAX_PX = 320  # the HTML shows the load and fitness charts at most this wide (side by side)
TIMELINE_DISPLAY_MAX_PX = 480  # the timeline alone on a desktop row: a little larger, still legible
LOAD_HEIGHT_PX = 560
FITNESS_HEIGHT_PX = 560
TIMELINE_HEIGHT_PX = 620
E1RM_HEIGHT_PX = 460
MIN_FONT_PT = 7.5  # the smallest text in any chart


def label_px_at(display_px: float) -> float:
    """CSS px height of the smallest chart label when a chart is shown ``display_px`` wide."""
    return MIN_FONT_PT * DPI / 72.0 * display_px / WIDTH_PX


# palette (also used by the HTML template's legend text)
KM_COLOUR = "#60a5fa"
LOAD_COLOUR = "#c4b5fd"
LOAD_EDGE = "#7c3aed"
ACWR_COLOUR = "#0f172a"
BAND_COLOUR = "#fecaca"
LIMIT_COLOUR = "#dc2626"
HIGHLIGHT = "#fef9c3"
RUN_COLOUR = "#60a5fa"
QUALITY_COLOUR = "#1d4ed8"
LONG_COLOUR = "#0f766e"
STRENGTH_COLOUR = "#f97316"
ERROR_COLOUR = "#dc2626"
WARNING_COLOUR = "#d97706"
CTL_COLOUR = "#2563eb"
ATL_COLOUR = "#db2777"
TSB_POS = "#16a34a"
TSB_NEG = "#f87171"
LIFT_COLOURS = ("#2563eb", "#ea580c", "#16a34a", "#9333ea")
GRID = "#e5e7eb"
TEXT = "#374151"
MUTED = "#6b7280"

_RC: dict[RcKeyType, Any] = {
    "font.family": "DejaVu Sans",  # bundled with matplotlib: the same glyphs everywhere
    "font.size": 8,
    "axes.titlesize": 8.5,
    "axes.labelsize": 8,
    "xtick.labelsize": MIN_FONT_PT,
    "ytick.labelsize": MIN_FONT_PT,
    "legend.fontsize": MIN_FONT_PT,
    "axes.edgecolor": "#9ca3af",
    "axes.labelcolor": TEXT,
    "xtick.color": TEXT,
    "ytick.color": TEXT,
    "text.color": TEXT,
    "axes.spines.top": False,
    "axes.linewidth": 0.6,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.major.size": 2.5,
    "ytick.major.size": 2.5,
    "hatch.linewidth": 0.8,
    "svg.hashsalt": "runlift",
    "path.simplify": True,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
}


def _figure(height_px: int) -> Figure:
    fig = Figure(figsize=(WIDTH_PX / DPI, height_px / DPI), dpi=DPI, layout="constrained")
    fig.get_layout_engine().set(w_pad=0.03, h_pad=0.03)  # type: ignore[union-attr, call-arg]
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def _empty(fig: Figure, text: str) -> bytes:
    fig.text(0.5, 0.5, text, ha="center", va="center", color=MUTED, fontsize=8, wrap=True)
    return _png(fig)


def _week_axis(ax: Axes, data: ReportData, n: int, report_idx: int | None) -> None:
    """Weeks as 7-day slots on the x axis, labelled by week number, the report week highlighted."""
    centres = [7 * i + 3.5 for i in range(n)]
    ax.set_xlim(0, 7 * n)
    ax.set_xticks(centres)
    ax.set_xticklabels([w.iso_week.split("-W")[1] for w in data.load_weeks])
    ax.tick_params(axis="x", length=0)
    for i, label in enumerate(ax.get_xticklabels()):
        if i == report_idx:
            label.set_fontweight("bold")


def _highlight(axes: list[Axes], report_idx: int | None) -> None:
    for ax in axes:
        if report_idx is not None:
            ax.axvspan(7 * report_idx, 7 * report_idx + 7, color=HIGHLIGHT, zorder=0, lw=0)
        ax.grid(axis="y", color=GRID, lw=0.5)
        ax.set_axisbelow(True)


def _report_idx(data: ReportData) -> int | None:
    return next((i for i, w in enumerate(data.load_weeks) if w.iso_week == data.week), None)


def load_chart(data: ReportData) -> bytes:
    """Weekly km/load bars and the daily ACWR line over the load window (PNG)."""
    with matplotlib.rc_context(_RC):
        fig = _figure(LOAD_HEIGHT_PX)
        weeks = data.load_weeks
        if not weeks:
            return _empty(fig, "No running data in the\n12 weeks up to this one")
        top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
        origin, n, report_idx = weeks[0].week_start, len(weeks), _report_idx(data)
        centres = [7 * i + 3.5 for i in range(n)]
        _highlight([top, bottom], report_idx)

        # weekly bars: km on the left axis, load on the right, side by side inside each week
        km_bars = top.bar([c - 1.6 for c in centres], [w.km for w in weeks], width=3.1, color=KM_COLOUR,
                          zorder=2, label="km")
        twin = top.twinx()
        twin.spines["top"].set_visible(False)
        load_bars = twin.bar([c + 1.6 for c in centres], [w.load for w in weeks], width=3.1,
                             color=LOAD_COLOUR, edgecolor=LOAD_EDGE, lw=0.4, zorder=2, label="load")
        top.set_ylabel("km / week")
        twin.set_ylabel("load / week")
        top.set_ylim(0, max([w.km for w in weeks] + [10.0]) * 1.2)
        twin.set_ylim(0, max([w.load for w in weeks] + [100.0]) * 1.2)
        top.legend(handles=[km_bars, load_bars], loc="lower left", ncol=2, frameon=False,
                   bbox_to_anchor=(0, 1.0), borderaxespad=0.1, handlelength=1.2, columnspacing=1.0)

        # daily ACWR with the band above the limit shaded
        xs = [(d.local_date - origin).days + 0.5 for d in data.acwr_days]
        ys = [math.nan if d.acwr is None else d.acwr for d in data.acwr_days]
        judged = [y for y in ys if not math.isnan(y)]
        limit = data.acwr_max
        y_top = max([limit + 0.5] + [y + 0.15 for y in judged])
        bottom.set_ylim(0, y_top)
        bottom.axhspan(limit, y_top, color=BAND_COLOUR, alpha=0.7, lw=0, zorder=1)
        bottom.axhline(limit, color=LIMIT_COLOUR, lw=0.8, ls="--", zorder=2)
        bottom.text(7 * n - 0.3, limit + 0.04, f"> {limit:g}", ha="right", va="bottom", fontsize=MIN_FONT_PT,
                    color=LIMIT_COLOUR, zorder=4)
        bottom.plot(xs, ys, color=ACWR_COLOUR, lw=1.1, zorder=3, solid_capstyle="round")
        if not judged:
            bottom.text(0.5, 0.45, "not judged yet\n(needs 28 days)", ha="center", va="center",
                        transform=bottom.transAxes, color=MUTED, fontsize=MIN_FONT_PT)
        bottom.set_ylabel("ACWR")
        _week_axis(bottom, data, n, report_idx)
        top.tick_params(axis="x", length=0)
        return _png(fig)


def fitness_chart(data: ReportData) -> bytes:
    """Daily CTL and ATL lines, and TSB bars below, over the load window (PNG)."""
    with matplotlib.rc_context(_RC):
        fig = _figure(FITNESS_HEIGHT_PX)
        weeks = data.load_weeks
        days = [d for d in data.acwr_days if d.ctl is not None or d.atl is not None]
        if not weeks or not days:
            return _empty(fig, "No fitness data in the\n12 weeks up to this one")
        top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
        origin, n, report_idx = weeks[0].week_start, len(weeks), _report_idx(data)
        _highlight([top, bottom], report_idx)
        xs = [(d.local_date - origin).days + 0.5 for d in data.acwr_days]

        def series(attr: str) -> list[float]:
            return [math.nan if getattr(d, attr) is None else float(getattr(d, attr)) for d in data.acwr_days]

        ctl, atl, tsb = series("ctl"), series("atl"), series("tsb")
        top.plot(xs, ctl, color=CTL_COLOUR, lw=1.3, zorder=3, label="CTL fitness")
        top.plot(xs, atl, color=ATL_COLOUR, lw=0.9, zorder=3, label="ATL fatigue")
        top.set_ylim(0, max([v for v in ctl + atl if not math.isnan(v)] + [10.0]) * 1.25)
        top.set_ylabel("load / day")
        top.legend(loc="lower left", ncol=2, frameon=False, bbox_to_anchor=(0, 1.0), borderaxespad=0.1,
                   handlelength=1.2, columnspacing=1.0)
        bottom.bar(xs, [0 if math.isnan(v) else v for v in tsb], width=0.9, lw=0, zorder=2,
                   color=[TSB_POS if v >= 0 else TSB_NEG for v in tsb])
        bottom.axhline(0, color="#9ca3af", lw=0.6, zorder=2)
        bottom.set_ylabel("TSB form")
        _week_axis(bottom, data, n, report_idx)
        top.tick_params(axis="x", length=0)
        return _png(fig)


def _hours(t: datetime, day_start: datetime) -> float:
    return (t - day_start).total_seconds() / 3600.0


def _run_style(item: TimelineItem) -> dict[str, Any]:
    if item.kind == "strength":
        return {"color": STRENGTH_COLOUR}
    if item.is_long:
        style: dict[str, Any] = {"facecolor": LONG_COLOUR, "edgecolor": "#042f2e", "lw": 0.8}
        if item.is_quality:
            style["hatch"] = "////"
        return style
    if item.is_quality:
        return {"facecolor": QUALITY_COLOUR, "hatch": "////", "edgecolor": "white", "lw": 0}
    return {"color": RUN_COLOUR, "lw": 0}


def _day_segments(start: datetime, end: datetime, week_start: date) -> list[tuple[int, float, float]]:
    """(row, x0, x1) pieces of [start, end] on the week's rows, split at midnight, clipped to the week."""
    monday = datetime.combine(week_start, datetime.min.time())
    pieces = []
    while start < end:
        day = (start.date() - week_start).days
        day_start = monday + timedelta(days=day)
        seg_end = min(end, day_start + timedelta(days=1))
        if 0 <= day <= 6:
            pieces.append((day, _hours(start, day_start), _hours(seg_end, day_start)))
        start = seg_end
    return pieces


def _gap_label(gap: Gap) -> str:
    return f"{gap.gap_hours:.1f} h"


def week_timeline(data: ReportData) -> bytes:
    """Mon-Sun by 0-24 h: the week's runs and strength sessions with its spacing flags (PNG)."""
    with matplotlib.rc_context(_RC):
        fig = _figure(TIMELINE_HEIGHT_PX)
        ax = fig.subplots()
        ax.set_xlim(0, 24)
        ax.set_ylim(6.55, -0.75)  # Monday on top; room above it for a bracket's label
        ax.set_xticks(range(0, 25, 6))
        ax.set_xticklabels([f"{h:02d}:00" for h in range(0, 25, 6)])
        ax.set_yticks(range(7))
        ax.set_yticklabels([(data.week_start + timedelta(days=i)).strftime("%a %d") for i in range(7)])
        ax.tick_params(axis="y", length=0)
        ax.grid(axis="x", color=GRID, lw=0.5)
        for i in range(0, 7, 2):
            ax.axhspan(i - 0.5, i + 0.5, color="#f9fafb", lw=0, zorder=0)
        ax.set_axisbelow(True)
        ax.spines["right"].set_visible(False)
        ax.spines["left"].set_visible(False)
        height = 0.5
        for item in data.timeline:
            end = max(item.end_local, item.start_local + timedelta(minutes=15))  # a short one stays visible
            for day, x0, x1 in _day_segments(item.start_local, end, data.week_start):
                ax.barh(day, x1 - x0, left=x0, height=height, zorder=3, **_run_style(item))
        # every spacing flag: a bracket just above the row(s), from the earlier end to the later start
        drawn: dict[tuple[int, float], int] = {}
        for gap in data.gaps:
            colour = ERROR_COLOUR if gap.severity == "error" else WARNING_COLOUR
            pieces = _day_segments(gap.start_local, max(gap.end_local, gap.start_local + timedelta(minutes=10)),
                                   data.week_start)
            for k, (day, x0, x1) in enumerate(pieces):
                level = drawn.get((day, round(x0, 2)), 0)  # two flags on one pair: stack the brackets
                drawn[(day, round(x0, 2))] = level + 1
                y = day - height / 2 - 0.07 - 0.2 * level
                left_tick = k == 0 and gap.start_local.date() >= data.week_start
                right_tick = k == len(pieces) - 1
                xs = ([x0, x0] if left_tick else [x0]) + ([x1, x1] if right_tick else [x1])
                ys = ([y + 0.07, y] if left_tick else [y]) + ([y, y + 0.07] if right_tick else [y])
                ax.plot(xs, ys, color=colour, lw=1.1, zorder=4, solid_capstyle="butt")
                if right_tick:  # the label on the piece that ends at the later start
                    ha = "right" if x1 > 18 else ("left" if x1 - x0 < 3 else "center")
                    tx = x1 if ha == "right" else (x0 if ha == "left" else (x0 + x1) / 2)
                    ax.text(tx, y - 0.03, _gap_label(gap), ha=ha, va="bottom", fontsize=MIN_FONT_PT,
                            color=colour, zorder=5, fontweight="bold")
        handles: list[Patch | Line2D] = [Patch(color=RUN_COLOUR, label="run"),
                                         Patch(facecolor=QUALITY_COLOUR, hatch="////", edgecolor="white",
                                               label="quality"),
                                         Patch(facecolor=LONG_COLOUR, edgecolor="#042f2e", label="long run"),
                                         Patch(color=STRENGTH_COLOUR, label="strength")]
        for severity, colour in (("error", ERROR_COLOUR), ("warning", WARNING_COLOUR)):
            if any(g.severity == severity for g in data.gaps):
                handles.append(Line2D([], [], color=colour, lw=1.4, label=f"spacing {severity}"))
        ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0, 1.0), ncol=3, frameon=False,
                  borderaxespad=0.1, handlelength=1.3, columnspacing=0.9, handletextpad=0.4)
        if not data.timeline:
            ax.text(12, 3, "No runs or strength\nsessions this week", ha="center", va="center", color=MUTED)
        return _png(fig)


def e1rm_chart(data: ReportData) -> bytes:
    """Best e1RM per week of the key lifts over the block (PNG)."""
    with matplotlib.rc_context(_RC):
        fig = _figure(E1RM_HEIGHT_PX)
        if not data.lifts:
            return _empty(fig, "No loaded key lift in two\nor more weeks of the block")
        ax = fig.subplots()
        weeks = data.lifts[0].weeks
        xs = list(range(len(weeks)))
        if data.week in weeks:
            i = weeks.index(data.week)
            ax.axvspan(i - 0.5, i + 0.5, color=HIGHLIGHT, zorder=0, lw=0)
        top = 0.0
        for lift, colour in zip(data.lifts, LIFT_COLOURS, strict=False):
            pts = [(x, v) for x, v in zip(xs, lift.e1rm_kg, strict=True) if v is not None]
            ax.plot([p[0] for p in pts], [p[1] for p in pts], color=colour, lw=1.2, marker="o", ms=2.5,
                    zorder=3, label=lift.exercise)
            top = max(top, *(p[1] for p in pts))
        ax.set_ylim(0, top * 1.15 + 5)
        ax.set_xlim(-0.5, len(weeks) - 0.5)
        step = 1 if len(weeks) <= 8 else 2
        ax.set_xticks(xs[::step])
        ax.set_xticklabels([w.split("-W")[1] for w in weeks][::step])
        ax.set_ylabel("e1RM kg")
        ax.grid(axis="y", color=GRID, lw=0.5)
        ax.set_axisbelow(True)
        ax.spines["right"].set_visible(False)
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2, frameon=False, borderaxespad=0.1,
                  handlelength=1.3, columnspacing=0.9)
        return _png(fig)
