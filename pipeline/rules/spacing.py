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
from pipeline.wording import number, plural

_PAIRS = """
    SELECT athlete_id, session_id, activity_id, gap_hours, which_first, run_is_quality, same_local_day, local_date,
           session_start_local, run_start_local, run_title, quality_reason
    FROM spacing
    WHERE athlete_id IN (SELECT athlete_id FROM rule_athletes) AND session_has_lower_body AND NOT is_warmup
      AND {where}
    ORDER BY athlete_id, local_date, session_start_utc, run_start_utc"""


def _pairs(ctx: RuleContext, where: str, params: list[Any]) -> list[Row]:
    """The judged (session, run) pairs of every athlete that match ``where``."""
    return ctx.rows(_PAIRS.format(where=where), params)


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
        ctx.flag(p["athlete_id"], p["local_date"], f"{_what(p)} (minimum {number(limit)} h)", _evidence(p))
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
        ctx.flag(p["athlete_id"], p["local_date"], f"{_what(p)} (optimal at least {number(high)} h)", _evidence(p))
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
        ctx.flag(p["athlete_id"], p["local_date"],
                 f"{_what(p)} (lift at least {number(lead)} h before a quality run, or after it)",
                 _evidence(p) | {"quality_reason": p["quality_reason"]})
        for p in _pairs(ctx, "which_first = 'strength_first' AND run_is_quality AND gap_hours < ?", [lead])
    ]


@rule("spacing.before_long_run", "warning")
def before_long_run(ctx: RuleContext) -> list[Flag]:
    """A session with a heavy lower-body set that ends less than ``long_run_gap_hours`` before a
    long run starts (one flag per pair).

    Guideline: heavy leg work leaves the muscles damaged and the tendons tired for about a day;
    a long run on such legs is run with altered mechanics and more injury risk, so heavy squats
    and deadlifts go at least 24 h before it (or after it). A heavy set is
    ``strength_sets.is_heavy`` (at most ``heavy_max_reps`` reps at ``heavy_pct_e1rm`` % of the
    estimated 1RM or more, or RPE 8 or more); a long run is ``spacing.run_is_long``. Read from the
    spacing pairs, never a warm-up jog. Message: ``Heavy lower-body strength (3 sets: back squat)
    ended 14.5 h before the 09:00 long run (at least 24 h between heavy leg work and a long
    run)``.
    """
    limit = ctx.rules.long_run_gap_hours
    rows = ctx.rows("""
        SELECT p.athlete_id, p.session_id, p.activity_id, p.gap_hours, p.which_first, p.local_date, p.run_start_local,
               p.run_title, h.heavy_sets, h.exercises
        FROM spacing AS p
        JOIN (SELECT session_id, count(*) AS heavy_sets,
                     string_agg(DISTINCT exercise, ', ' ORDER BY exercise) AS exercises
              FROM strength_sets WHERE is_heavy AND is_lower_body GROUP BY session_id) AS h USING (session_id)
        WHERE p.athlete_id IN (SELECT athlete_id FROM rule_athletes) AND p.session_has_lower_body
          AND NOT p.is_warmup AND p.run_is_long AND p.which_first = 'strength_first' AND p.gap_hours < ?
        ORDER BY p.athlete_id, p.local_date, p.session_start_utc, p.run_start_utc""", [limit])
    flags = []
    for p in rows:
        title = f' "{p["run_title"]}"' if p["run_title"] else ""
        run = f"the {_clock(p['run_start_local'], p['local_date'])} long run{title}"
        what = (f"overlapped {run}" if p["gap_hours"] <= 0 else f"ended {_gap(p['gap_hours'])} before {run}")
        flags.append(ctx.flag(
            p["athlete_id"], p["local_date"],
            f"Heavy lower-body strength ({plural(p['heavy_sets'], 'set')}: {p['exercises']}) {what} "
            f"(at least {number(limit)} h between heavy leg work and a long run)",
            _evidence(p) | {"heavy_sets": int(p["heavy_sets"])}))
    return flags
