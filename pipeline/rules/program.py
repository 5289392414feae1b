"""Program rules: what a strength session holds (the ``strength_sets`` of each session).

A working set is a set whose ``set_type`` is not ``warmup`` (working, failure and drop sets);
rep-based rules only look at sets with a rep count. The beginner weeks (``strength_experience =
"new"`` only) are the ``beginner_weeks`` x 7 days starting on the local date of the athlete's first
qualifying session. A session of mobility/cardio sets only is never judged.
"""

from __future__ import annotations

from datetime import date, timedelta

from pipeline.rules.base import Flag, Row, RuleContext, rule
from pipeline.wording import plural

_SESSION = "s.session_id, s.local_date, s.start_local, s.start_utc"


def _beginner_weeks(ctx: RuleContext) -> tuple[date, date] | None:
    """[first qualifying date, first day after the beginner weeks), or None without a qualifying
    session; an empty span for a trained lifter."""
    first: date | None = ctx.con.execute(
        "SELECT min(local_date) FROM strength_sessions WHERE athlete_id = ? AND qualifies",
        [ctx.athlete.id]).fetchall()[0][0]
    if first is None:
        return None
    weeks = ctx.rules.beginner_weeks if ctx.athlete.strength_experience == "new" else 0
    return first, first + timedelta(days=7 * weeks)


def _at(r: Row) -> str:
    return f"the {r['start_local'].strftime('%H:%M')} session"


@rule("program.too_light", "warning")
def too_light(ctx: RuleContext) -> list[Flag]:
    """A qualifying session whose lower-body working sets all have ``light_reps`` or more reps,
    after the beginner weeks.

    Guideline: strength that helps running economy is heavy, 3-6 reps at 70-85 % of 1RM;
    15 or more easy reps per set is endurance work the runs already provide. Beginners are
    exempt during the beginner weeks (they start at 12-15 reps). Plyometric and timed sets (no
    rep count) are set aside: 20 skips or a 60 s wall sit say nothing about load. Message:
    ``All 6 lower-body working sets in the 18:00 session had 15 or more reps (fewest 15): too light
    to build strength; go heavy with 3-6 reps at 70-85 % 1RM``.
    """
    span = _beginner_weeks(ctx)
    if span is None:
        return []
    limit = ctx.rules.light_reps
    rows = ctx.rows(f"""
        SELECT {_SESSION}, count(*) AS working_sets, min(x.reps) AS min_reps
        FROM strength_sessions AS s JOIN strength_sets AS x USING (session_id)
        WHERE s.athlete_id = ? AND s.qualifies AND s.local_date >= ? AND x.set_type <> 'warmup'
          AND x.is_lower_body AND NOT x.is_plyometric AND x.reps IS NOT NULL
        GROUP BY ALL HAVING min(x.reps) >= ?
        ORDER BY s.start_utc""", [ctx.athlete.id, span[1], limit])
    return [
        ctx.flag(r["local_date"],
             f"All {plural(r['working_sets'], 'lower-body working set')} in {_at(r)} had {limit} or more reps "
             f"(fewest {r['min_reps']}): too light to build strength; go heavy with 3-6 reps at 70-85 % 1RM",
             {"session_id": r["session_id"], "working_sets": int(r["working_sets"]),
              "min_reps": int(r["min_reps"])})
        for r in rows
    ]


@rule("program.to_failure", "warning")
def to_failure(ctx: RuleContext) -> list[Flag]:
    """A session with a failure set or a set at RPE 10 or more (one flag per session).

    Guideline: stop 1-2 reps short of failure (RPE 8-9); training to failure adds fatigue that
    spills into the runs without adding strength. Message: ``2 sets to failure in the 18:00
    session (back squat): stop 1-2 reps short of failure (RPE 8-9, not 10)``.
    """
    rows = ctx.rows(f"""
        SELECT {_SESSION}, count(*) AS sets,
               count(*) FILTER (WHERE x.set_type = 'failure') AS failure_sets,
               max(x.rpe) AS max_rpe,
               string_agg(DISTINCT x.exercise, ', ' ORDER BY x.exercise) AS exercises
        FROM strength_sessions AS s JOIN strength_sets AS x USING (session_id)
        WHERE s.athlete_id = ? AND s.why_not IS DISTINCT FROM 'mobility_only'
          AND (x.set_type = 'failure' OR x.rpe >= 10)
        GROUP BY ALL
        ORDER BY s.start_utc""", [ctx.athlete.id])
    return [
        ctx.flag(r["local_date"],
             f"{plural(r['sets'], 'set')} to failure in {_at(r)} ({r['exercises']}): "
             "stop 1-2 reps short of failure (RPE 8-9, not 10)",
             {"session_id": r["session_id"], "sets": int(r["sets"]), "failure_sets": int(r["failure_sets"]),
              "max_rpe": None if r["max_rpe"] is None else float(r["max_rpe"])})
        for r in rows
    ]


@rule("program.no_unilateral", "info")
def no_unilateral(ctx: RuleContext) -> list[Flag]:
    """A qualifying session with no unilateral lower-body exercise.

    Guideline: running is a series of single-leg landings; include at least one unilateral
    exercise (split squat, step-up, single-leg deadlift ...) per session. Only qualifying
    sessions are judged: an upper-body or mobility day needs no split squat. Message: ``No
    unilateral lower-body exercise in the 18:00 session (back squat, romanian deadlift): include
    at least 1, such as split squats or step-ups``.
    """
    rows = ctx.rows(f"""
        SELECT {_SESSION}, count(*) AS sets,
               string_agg(DISTINCT coalesce(x.exercise, x.exercise_raw), ', '
                          ORDER BY coalesce(x.exercise, x.exercise_raw)) AS exercises
        FROM strength_sessions AS s JOIN strength_sets AS x USING (session_id)
        WHERE s.athlete_id = ? AND s.qualifies AND x.is_lower_body
        GROUP BY ALL HAVING NOT bool_or(x.is_unilateral AND x.set_type <> 'warmup')
        ORDER BY s.start_utc""", [ctx.athlete.id])
    return [
        ctx.flag(r["local_date"],
             f"No unilateral lower-body exercise in {_at(r)} ({r['exercises']}): include at least 1, "
             "such as split squats or step-ups",
             {"session_id": r["session_id"], "sets": int(r["sets"])})
        for r in rows
    ]


@rule("program.beginner_too_heavy", "warning")
def beginner_too_heavy(ctx: RuleContext) -> list[Flag]:
    """In the beginner weeks, a loaded squat, hinge or single-leg working set of 6 reps or fewer,
    or any drop or depth jump (one flag per session).

    Guideline: beginners spend their first 3-4 weeks at 12-15 reps to learn the movements and
    prepare tendons before heavy 3-6 rep work; drop jumps are for advanced runners only. Box
    jumps 3 x 5 and bodyweight or timed work are the dose the guideline prescribes, so they do not
    count. The beginner weeks are [first qualifying date, + beginner_weeks x 7), none for a
    trained lifter. Message: ``5-rep loaded set (bulgarian split squat) in the 18:00 session in
    beginner week 4 of 4: stay at 12-15 reps through 2026-06-30, heavy sets of 6 reps or fewer
    after that``.
    """
    span = _beginner_weeks(ctx)
    if span is None or span[0] == span[1]:
        return []
    first, end = span
    rows = ctx.rows(f"""
        SELECT {_SESSION},
               count(*) FILTER (WHERE heavy) AS heavy_sets, min(x.reps) FILTER (WHERE heavy) AS min_reps,
               string_agg(DISTINCT x.exercise, ', ' ORDER BY x.exercise) FILTER (WHERE heavy) AS heavy_exercises,
               count(*) FILTER (WHERE jump) AS jump_sets,
               string_agg(DISTINCT x.exercise, ', ' ORDER BY x.exercise) FILTER (WHERE jump) AS jumps
        FROM strength_sessions AS s JOIN strength_sets AS x USING (session_id),
             LATERAL (SELECT x.pattern IN ('squat', 'hinge', 'single_leg') AND x.weight_kg > 0 AND x.reps <= 6
                             AS heavy,
                             regexp_matches(x.exercise, '\\b(drop|depth) jumps?\\b') AS jump)
        WHERE s.athlete_id = ? AND s.local_date >= ? AND s.local_date < ? AND x.set_type <> 'warmup'
          AND (heavy OR jump)
        GROUP BY ALL
        ORDER BY s.start_utc""", [ctx.athlete.id, first, end])
    flags = []
    for r in rows:
        week = (r["local_date"] - first).days // 7 + 1
        what = [f"{r['min_reps']}-rep loaded set ({r['heavy_exercises']})"] if r["heavy_sets"] else []
        what += [f"{r['jumps']} (for advanced runners only)"] if r["jump_sets"] else []
        flags.append(ctx.flag(
            r["local_date"],
            f"{' and '.join(what)} in {_at(r)} in beginner week {week} of {ctx.rules.beginner_weeks}: "
            f"stay at 12-15 reps through {(end - timedelta(days=1)).isoformat()}, heavy sets of 6 reps or fewer "
            "after that",
            {"session_id": r["session_id"], "heavy_sets": int(r["heavy_sets"]),
             "min_reps": None if r["min_reps"] is None else int(r["min_reps"]), "jump_sets": int(r["jump_sets"]),
             "beginner_week": week}))
    return flags
