"""The report's two charts as PNG bytes: the load chart and the week timeline.

matplotlib's Agg canvas on standalone :class:`~matplotlib.figure.Figure` objects (no pyplot, no
global backend switch), with fixed sizes and fonts under an ``rc_context`` and no timestamp or
software tag in the PNG, so the same data gives the same bytes.

- :func:`load_chart`: weekly km and TRIMP as grouped bars (km on the left axis, TRIMP on the
  right) for the last 12 weeks, and below them the **daily** ACWR line (every day of those
  weeks; gaps where it is not judged yet) with the band above ``acwr_max`` shaded.
- :func:`week_timeline`: Monday to Sunday (rows) by 0-24 h; runs, quality runs (hatched) and
  strength sessions as horizontal bars; a strength/run gap under the optimal gap on the same day
  is drawn as a red bracket with its hours.
"""

from __future__ import annotations

import io
import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg  # the Agg canvas, without pyplot's global state
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from pipeline.report.data import ReportData, TimelineItem

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

DPI = 110
WIDTH_PX = 640
LOAD_HEIGHT_PX = 380
TIMELINE_HEIGHT_PX = 290

# palette (also used by the HTML template's legend text)
KM_COLOUR = "#60a5fa"
TRIMP_COLOUR = "#c4b5fd"
TRIMP_EDGE = "#7c3aed"
ACWR_COLOUR = "#0f172a"
BAND_COLOUR = "#fecaca"
LIMIT_COLOUR = "#dc2626"
HIGHLIGHT = "#fef9c3"
RUN_COLOUR = "#3b82f6"
QUALITY_COLOUR = "#1d4ed8"
STRENGTH_COLOUR = "#f97316"
GAP_COLOUR = "#dc2626"
GRID = "#e5e7eb"
TEXT = "#374151"
MUTED = "#6b7280"

_RC: dict[RcKeyType, Any] = {
    "font.family": "DejaVu Sans",  # bundled with matplotlib: the same glyphs everywhere
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.labelsize": 8,
    "xtick.labelsize": 7.5,
    "ytick.labelsize": 7.5,
    "legend.fontsize": 7.5,
    "axes.edgecolor": "#9ca3af",
    "axes.labelcolor": TEXT,
    "xtick.color": TEXT,
    "ytick.color": TEXT,
    "text.color": TEXT,
    "axes.spines.top": False,
    "hatch.linewidth": 0.8,
    "svg.hashsalt": "runlift",
    "path.simplify": True,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
}


def _figure(height_px: int) -> Figure:
    fig = Figure(figsize=(WIDTH_PX / DPI, height_px / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def load_chart(data: ReportData) -> bytes:
    """Weekly km/TRIMP bars and the daily ACWR line over the load window (PNG, 640 px wide)."""
    with matplotlib.rc_context(_RC):
        fig = _figure(LOAD_HEIGHT_PX)
        top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
        weeks = data.load_weeks
        if not weeks:
            for ax in (top, bottom):
                ax.set_axis_off()
            fig.text(0.5, 0.5, "No running data in the 12 weeks up to this one", ha="center", va="center",
                     color=MUTED, fontsize=9)
            return _png(fig)
        origin = weeks[0].week_start
        n = len(weeks)
        centres = [7 * i + 3.5 for i in range(n)]
        report_idx = next((i for i, w in enumerate(weeks) if w.iso_week == data.week), None)
        for ax in (top, bottom):
            ax.set_xlim(0, 7 * n)
            if report_idx is not None:
                ax.axvspan(7 * report_idx, 7 * report_idx + 7, color=HIGHLIGHT, zorder=0, lw=0)
            ax.grid(axis="y", color=GRID, lw=0.6)
            ax.set_axisbelow(True)

        # weekly bars: km on the left axis, TRIMP on the right, side by side inside each week
        km_bars = top.bar([c - 1.55 for c in centres], [w.km for w in weeks], width=3.0, color=KM_COLOUR,
                          zorder=2, label="km")
        twin = top.twinx()
        twin.spines["top"].set_visible(False)
        trimp_bars = twin.bar([c + 1.55 for c in centres], [w.trimp for w in weeks], width=3.0,
                              color=TRIMP_COLOUR, edgecolor=TRIMP_EDGE, lw=0.6, zorder=2, label="TRIMP")
        top.set_ylabel("km / week")
        twin.set_ylabel("TRIMP / week")
        km_max = max([w.km for w in weeks] + [10.0])
        trimp_max = max([w.trimp for w in weeks] + [100.0])
        top.set_ylim(0, km_max * 1.18)
        twin.set_ylim(0, trimp_max * 1.18)
        if report_idx is not None:
            w = weeks[report_idx]
            top.annotate(f"{w.km:.0f}", (centres[report_idx] - 1.55, w.km), xytext=(0, 2),
                         textcoords="offset points", ha="center", va="bottom", fontsize=7, color=TEXT)
            twin.annotate(f"{w.trimp:.0f}", (centres[report_idx] + 1.55, w.trimp), xytext=(0, 2),
                          textcoords="offset points", ha="center", va="bottom", fontsize=7, color=TRIMP_EDGE)
        top.legend(handles=[km_bars, trimp_bars], loc="upper left", ncol=2, frameon=False,
                   bbox_to_anchor=(0, 1.16), borderaxespad=0)

        # daily ACWR with the band above the limit shaded
        xs, ys = [], []
        for d in data.acwr_days:
            xs.append((d.local_date - origin).days + 0.5)
            ys.append(math.nan if d.acwr is None else d.acwr)
        judged = [y for y in ys if not math.isnan(y)]
        limit = data.acwr_max
        y_top = max([limit + 0.5] + [y + 0.15 for y in judged])
        bottom.set_ylim(0, y_top)
        bottom.axhspan(limit, y_top, color=BAND_COLOUR, alpha=0.7, lw=0, zorder=1)
        bottom.axhline(limit, color=LIMIT_COLOUR, lw=0.9, ls="--", zorder=2)
        bottom.text(7 * n - 0.3, limit + 0.04, f"ACWR > {limit:g}", ha="right", va="bottom", fontsize=7,
                    color=LIMIT_COLOUR, zorder=4)
        bottom.plot(xs, ys, color=ACWR_COLOUR, lw=1.4, zorder=3, solid_capstyle="round")
        if not judged:
            bottom.text(0.5, 0.5, "ACWR not judged yet (needs 28 days of history)", ha="center", va="center",
                        transform=bottom.transAxes, color=MUTED, fontsize=7.5)
        else:
            first = next(x for x, y in zip(xs, ys, strict=True) if not math.isnan(y))
            if first >= 7:  # say why the line starts late
                bottom.text(first / 2, (limit) / 2, "not judged in the\nfirst 28 days", ha="center", va="center",
                            fontsize=7, color=MUTED, linespacing=1.2)
        bottom.set_ylabel("ACWR (daily)")
        bottom.set_xticks(centres)
        bottom.set_xticklabels([w.iso_week.split("-")[1] for w in weeks])
        bottom.tick_params(axis="x", length=0)
        for i, label in enumerate(bottom.get_xticklabels()):
            if i == report_idx:
                label.set_fontweight("bold")
        top.tick_params(axis="x", length=0)
        return _png(fig)


def _hours(t: datetime, day_start: datetime) -> float:
    return (t - day_start).total_seconds() / 3600.0


def week_timeline(data: ReportData) -> bytes:
    """Mon-Sun by 0-24 h: the week's runs and strength sessions (PNG, 640 px wide)."""
    with matplotlib.rc_context(_RC):
        fig = _figure(TIMELINE_HEIGHT_PX)
        ax = fig.subplots()
        monday = datetime.combine(data.week_start, datetime.min.time())
        ax.set_xlim(0, 24)
        ax.set_ylim(6.6, -0.9)  # Monday on top; room above it for the gap labels
        ax.set_xticks(range(0, 25, 3))
        ax.set_xticklabels([f"{h:02d}:00" for h in range(0, 25, 3)])
        ax.set_yticks(range(7))
        ax.set_yticklabels([(data.week_start + timedelta(days=i)).strftime("%a %d") for i in range(7)])
        ax.tick_params(axis="y", length=0)
        ax.grid(axis="x", color=GRID, lw=0.6)
        for i in range(7):
            if i % 2 == 0:
                ax.axhspan(i - 0.5, i + 0.5, color="#f9fafb", lw=0, zorder=0)
        ax.set_axisbelow(True)
        ax.spines["right"].set_visible(False)
        ax.spines["left"].set_visible(False)
        height = 0.56
        segments: list[tuple[int, float, float, TimelineItem]] = []
        for item in data.timeline:
            start, end = item.start_local, max(item.end_local, item.start_local + timedelta(minutes=10))
            # a session that crosses midnight continues on the next row (clipped at Sunday 24:00)
            while start < end:
                day = (start.date() - data.week_start).days
                if day > 6:
                    break
                day_start = monday + timedelta(days=day)
                seg_end = min(end, day_start + timedelta(days=1))
                if day >= 0:
                    x0, x1 = _hours(start, day_start), _hours(seg_end, day_start)
                    style: dict[str, Any]
                    if item.kind == "strength":
                        style = {"color": STRENGTH_COLOUR}
                    elif item.is_quality:
                        style = {"color": QUALITY_COLOUR, "hatch": "////", "edgecolor": "white"}
                    else:
                        style = {"color": RUN_COLOUR}
                    ax.barh(day, x1 - x0, left=x0, height=height, lw=0, zorder=3, **style)
                    segments.append((day, x0, x1, item))
                start = seg_end
        # a short label to the right of a bar when the row has room for it before the next bar
        for day, _x0, x1, item in segments:
            label = f"{item.km:.1f} km" if item.kind == "run" else f"{item.minutes:.0f} min"
            room = min([s[1] for s in segments if s[0] == day and s[1] >= x1] + [24.0]) - x1
            if room >= 0.35 + 0.16 * len(label) and x1 < 24:
                ax.text(x1 + 0.15, day, label, ha="left", va="center", fontsize=6.8, color=MUTED, zorder=4)
        for gap in data.gaps:
            day = (gap.local_date - data.week_start).days
            day_start = monday + timedelta(days=day)
            x0, x1 = _hours(gap.start_local, day_start), _hours(gap.end_local, day_start)
            y = day - height / 2 - 0.08
            ax.plot([x0, x0, x1, x1], [y + 0.06, y, y, y + 0.06], color=GAP_COLOUR, lw=1.0, zorder=4)
            ax.text((x0 + x1) / 2, y - 0.04, f"{gap.gap_hours:.1f} h", ha="center", va="bottom", fontsize=7,
                    color=GAP_COLOUR, zorder=4, fontweight="bold")
        handles = [Patch(color=RUN_COLOUR, label="run"),
                   Patch(facecolor=QUALITY_COLOUR, hatch="////", edgecolor="white", label="quality run"),
                   Patch(color=STRENGTH_COLOUR, label="strength")]
        if data.gaps:
            handles.append(Patch(facecolor="none", edgecolor=GAP_COLOUR,
                                 label=f"gap < {data.optimal_gap_hours:g} h"))
        ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0, 1.0), ncol=len(handles), frameon=False,
                  borderaxespad=0.2, handlelength=1.6)
        if not data.timeline:
            ax.text(12, 3, "No runs or strength sessions this week", ha="center", va="center", color=MUTED)
        return _png(fig)
