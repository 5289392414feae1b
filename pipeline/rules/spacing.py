"""Spacing rules: how strength sessions sit around runs (the ``spacing`` mart, one row per pair).

Gap = the later start minus the earlier end, 0 when they overlap; a pair is dated on the local
date of whichever of the two starts later (``spacing.local_date``). Gaps are computed on UTC
instants, so a pair across a daylight-saving change gets its real elapsed gap. Only sessions
with lower-body work are judged, and never against their own warm-up or cool-down jog
(``spacing.is_warmup``): an upper-body day or a short jog to the gym spoils no run.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

from pipeline.rules.base import Evidence, Flag, Row, RuleContext, rule
from pipeline.wording import number

_PAIRS = """
    SELECT session_id, activity_id, gap_hours, which_first, run_is_quality, same_local_day, local_date,
           session_start_local, run_start_local, run_title, quality_reason
    FROM spacing
    WHERE athlete_id = ? AND session_has_lower_body AND NOT is_warmup AND {where}
    ORDER BY local_date, session_start_utc, run_start_utc"""


def _pairs(ctx: RuleContext, where: str, params: list[Any]) -> list[Row]:
    return ctx.rows(_PAIRS.format(where=where), [ctx.athlete.id, *params])


def _gap(hours: float) -> str:
    """Rounded down, so a gap just under a threshold never reads as the threshold."""
    if hours < 1:
        return f"{math.floor(hours * 60 + 1e-9)} min"
    return f"{math.floor(hours * 10 + 1e-9) / 10:.1f} h"


def _clock(ts: datetime, on: date) -> str:
    """``17:30``, or ``Mon 23:10`` when the time is not on the flag's date."""
    return ts.strftime("%H:%M") if ts.date() == on else ts.strftime("%a %H:%M")


def _run(p: Row) -> str:
    kind = "quality run" if p["run_is_quality"] else "run"
    title = f' "{p["run_title"]}"' if p["run_title"] else ""
    return f"the {_clock(p['run_start_local'], p['local_date'])} {kind}{title}"


def _what(p: Row) -> str:
    """What happened between the pair, in the order it happened."""
    if p["gap_hours"] <= 0:
        return f"Strength at {_clock(p['session_start_local'], p['local_date'])} overlapped {_run(p)}"
    if p["which_first"] == "strength_first":
        return f"Strength ended {_gap(p['gap_hours'])} before {_run(p)}"
    return f"Strength started {_gap(p['gap_hours'])} after {_run(p)} ended"


def _evidence(p: Row) -> Evidence:
    return {"session_id": p["session_id"], "activity_id": p["activity_id"],
            "gap_hours": round(float(p["gap_hours"]), 2), "which_first": p["which_first"]}


@rule("spacing.too_close", "error")
def too_close(ctx: RuleContext) -> list[Flag]:
    """A session with lower-body work and a run less than ``min_gap_hours`` apart (one flag per pair).

    Guideline: at least 6 h between strength and running is optimal, 3 h the practical minimum
    (Robineau et al. 2016: concurrent-training interference fades with recovery time).
    Overlapping sessions have a gap of 0. Message:
    ``Strength ended 1.2 h before the 17:30 quality run "6x800 intervals" (minimum 3 h)``.
    """
    limit = ctx.rules.min_gap_hours
    return [
        ctx.flag(p["local_date"], f"{_what(p)} (minimum {number(limit)} h)", _evidence(p))
        for p in _pairs(ctx, "gap_hours < ?", [limit])
    ]


@rule("spacing.suboptimal", "warning")
def suboptimal(ctx: RuleContext) -> list[Flag]:
    """A gap of at least ``min_gap_hours`` but under ``optimal_gap_hours`` (one flag per pair).

    Guideline: >= 6 h between strength and running is optimal, 3 h the practical minimum
    (Robineau et al. 2016). Message:
    ``Strength ended 4.5 h before the 17:30 run (optimal at least 6 h)``.
    """
    low, high = ctx.rules.min_gap_hours, ctx.rules.optimal_gap_hours
    return [
        ctx.flag(p["local_date"], f"{_what(p)} (optimal at least {number(high)} h)", _evidence(p))
        for p in _pairs(ctx, "gap_hours >= ? AND gap_hours < ?", [low, high])
    ]


@rule("spacing.before_quality", "error")
def before_quality(ctx: RuleContext) -> list[Flag]:
    """A session with lower-body work that ends less than ``quality_lead_hours`` before a quality
    run starts, whatever the dates (one flag per pair).

    Guideline: never lift before a quality run (intervals, tempo, race ...): heavy legs spoil the
    key session; strength after it, on the same hard day, is fine. Judged by hours, not dates: a
    lift at 22:30 before intervals at 06:30 is 8 h of recovery, one at 00:30 before intervals at
    18:30 is 17 h. Fires together with ``spacing.too_close`` when the gap is that short too.
    Message: ``Strength ended 8.0 h before the Tue 06:30 quality run "6x800 intervals" (lift at
    least 12 h before a quality run, or after it)``.
    """
    lead = ctx.rules.quality_lead_hours
    return [
        ctx.flag(p["local_date"], f"{_what(p)} (lift at least {number(lead)} h before a quality run, or after it)",
                 _evidence(p) | {"quality_reason": p["quality_reason"]})
        for p in _pairs(ctx, "which_first = 'strength_first' AND run_is_quality AND gap_hours < ?", [lead])
    ]
