"""Program rules: what a strength session holds (the ``strength_sets`` of each session).

A working set is a set whose ``set_type`` is not ``warmup`` (working, failure and drop sets);
rep-based rules only look at sets with a rep count. The beginner weeks (``strength_experience =
"new"`` only) are the ``beginner_weeks`` x 7 days starting on the local date of the athlete's first
qualifying session. The weekly rules (``not_heavy``, ``missing_pattern``, ``no_plyometrics``) read
``weekly_strength`` (the sets of the week's qualifying sessions) with ``weekly_compliance`` (phase,
complete, first week). A session of mobility/cardio sets only is never judged.
"""

from __future__ import annotations

import math
from datetime import timedelta

from pipeline.rules.base import Flag, Row, RuleContext, rule
from pipeline.wording import number, plural

_SESSION = "s.athlete_id, s.session_id, s.local_date, s.start_local, s.start_utc"


# Per athlete with a qualifying session: [first_day, beginner_end) are the beginner weeks (empty for
# a trained lifter). Prefix a rule's query with it; an athlete without one has no row.
_SPAN = """
    WITH span AS (
        SELECT s.athlete_id, min(s.local_date) AS first_day, min(s.local_date) + a.beginner_days AS beginner_end
        FROM strength_sessions AS s JOIN rule_athletes AS a USING (athlete_id)
        WHERE s.qualifies GROUP BY s.athlete_id, a.beginner_days)"""
_ATHLETES = "s.athlete_id IN (SELECT athlete_id FROM rule_athletes)"


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
    limit = ctx.rules.light_reps
    rows = ctx.rows(f"""{_SPAN}
        SELECT {_SESSION}, count(*) AS working_sets, min(x.reps) AS min_reps
        FROM strength_sessions AS s JOIN strength_sets AS x USING (session_id)
        JOIN span ON span.athlete_id = s.athlete_id
        WHERE s.qualifies AND s.local_date >= span.beginner_end AND x.set_type <> 'warmup'
          AND x.is_lower_body AND NOT x.is_plyometric AND x.reps IS NOT NULL
        GROUP BY ALL HAVING min(x.reps) >= ?
        ORDER BY s.athlete_id, s.start_utc""", [limit])
    return [
        ctx.flag(r["athlete_id"], r["local_date"],
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
        WHERE {_ATHLETES} AND s.why_not IS DISTINCT FROM 'mobility_only'
          AND (x.set_type = 'failure' OR x.rpe >= 10)
        GROUP BY ALL
        ORDER BY s.athlete_id, s.start_utc""")
    return [
        ctx.flag(r["athlete_id"], r["local_date"],
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
        WHERE {_ATHLETES} AND s.qualifies AND x.is_lower_body
        GROUP BY ALL HAVING NOT bool_or(x.is_unilateral AND x.set_type <> 'warmup')
        ORDER BY s.athlete_id, s.start_utc""")
    return [
        ctx.flag(r["athlete_id"], r["local_date"],
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
    rows = ctx.rows(f"""{_SPAN}
        SELECT {_SESSION}, span.first_day, span.beginner_end,
               count(*) FILTER (WHERE heavy) AS heavy_sets, min(x.reps) FILTER (WHERE heavy) AS min_reps,
               string_agg(DISTINCT x.exercise, ', ' ORDER BY x.exercise) FILTER (WHERE heavy) AS heavy_exercises,
               count(*) FILTER (WHERE jump) AS jump_sets,
               string_agg(DISTINCT x.exercise, ', ' ORDER BY x.exercise) FILTER (WHERE jump) AS jumps
        FROM strength_sessions AS s JOIN strength_sets AS x USING (session_id)
             JOIN span ON span.athlete_id = s.athlete_id,
             LATERAL (SELECT x.pattern IN ('squat', 'hinge', 'single_leg') AND x.weight_kg > 0 AND x.reps <= 6
                             AS heavy,
                             regexp_matches(x.exercise, '\\b(drop|depth) jumps?\\b') AS jump)
        WHERE s.local_date >= span.first_day AND s.local_date < span.beginner_end AND x.set_type <> 'warmup'
          AND (heavy OR jump)
        GROUP BY ALL
        ORDER BY s.athlete_id, s.start_utc""")
    flags = []
    for r in rows:
        first, end = r["first_day"], r["beginner_end"]
        week = (r["local_date"] - first).days // 7 + 1
        what = [f"{r['min_reps']}-rep loaded set ({r['heavy_exercises']})"] if r["heavy_sets"] else []
        what += [f"{r['jumps']} (for advanced runners only)"] if r["jump_sets"] else []
        flags.append(ctx.flag(
            r["athlete_id"], r["local_date"],
            f"{' and '.join(what)} in {_at(r)} in beginner week {week} of {ctx.rules.beginner_weeks}: "
            f"stay at 12-15 reps through {(end - timedelta(days=1)).isoformat()}, heavy sets of 6 reps or fewer "
            "after that",
            {"session_id": r["session_id"], "heavy_sets": int(r["heavy_sets"]),
             "min_reps": None if r["min_reps"] is None else int(r["min_reps"]), "jump_sets": int(r["jump_sets"]),
             "beginner_week": week}))
    return flags


# --- weekly program rules ------------------------------------------------------------------------

_GUIDE_MAX_REPS = {"build": 6, "sharpen": 5}  # the guideline's heavy 3-6 / 3-5 reps per phase


def _judged_weeks(ctx: RuleContext, phases: tuple[str, ...]) -> list[Row]:
    """The complete weeks of ``phases`` with at least one qualifying session that the weekly
    program rules judge, with their ``weekly_strength`` counts. Never the week of the athlete's
    first activity; never a week that holds a day of the beginner weeks (a beginner is meant to
    lift light and without jumps; the week in which they end is still theirs)."""
    return ctx.rows(f"""{_SPAN}
        SELECT c.iso_week, c.week_start, c.phase, w.*
        FROM weekly_compliance AS c JOIN weekly_strength AS w USING (athlete_id, iso_week)
        JOIN span ON span.athlete_id = c.athlete_id
        WHERE c.complete AND NOT c.is_first_week AND w.qualifying_sessions >= 1
          AND c.phase IN ({", ".join("?" * len(phases))})
          AND (span.beginner_end <= span.first_day OR c.week_start >= span.beginner_end)
        ORDER BY c.athlete_id, c.week_start""", phases)


def _week_evidence(w: Row) -> dict[str, object]:
    return {"iso_week": w["iso_week"], "phase": w["phase"], "qualifying_sessions": int(w["qualifying_sessions"])}


def _pct(x: float) -> str:
    """Rounded down, so a set just under the heavy threshold never reads as the threshold."""
    return f"{math.floor(x + 1e-9)} %"


@rule("program.not_heavy", "warning")
def not_heavy(ctx: RuleContext) -> list[Flag]:
    """A complete build or sharpen week with qualifying sessions but no heavy lower-body set.

    Guideline (S2): strength that carries over to running economy is heavy, 3-6 reps at 70-85 %
    of 1RM in build weeks and 3-5 heavy reps while sharpening; the 8-10 moderate reps of base weeks
    no longer do it. A heavy set (SPEC Definitions, ``strength_sets.is_heavy``): a working set of
    at most ``heavy_max_reps`` reps at ``heavy_pct_e1rm`` % or more of the exercise's best estimated
    1RM of the last 42 days, or at RPE 8 or more. Judged from the sets of the week's qualifying
    sessions (``weekly_strength.heavy_sets``), outside the beginner weeks, dated on the Monday.
    Message: ``No heavy lower-body set in week 2026-W37 (build phase): the heaviest was 3x10 back
    squat at 62 % of its estimated 1RM; build weeks want 3-6 reps at 70-85 %``.
    """
    weeks = [w for w in _judged_weeks(ctx, ("build", "sharpen")) if not w["heavy_sets"]]
    if not weeks:
        return []
    # the heaviest lower-body working set of every week without a heavy set, all athletes at once
    tops = {(t["athlete_id"], t["iso_week"]): t for t in ctx.rows("""
        SELECT s.athlete_id, s.iso_week, x.session_id, x.exercise, x.reps, x.weight_kg, x.pct_e1rm,
               count(*) OVER (PARTITION BY x.session_id, x.exercise, x.reps, x.weight_kg) AS sets
        FROM strength_sets AS x JOIN strength_sessions AS s USING (session_id)
        JOIN weekly_strength AS w ON w.athlete_id = s.athlete_id AND w.iso_week = s.iso_week
        WHERE s.athlete_id IN (SELECT athlete_id FROM rule_athletes) AND coalesce(w.heavy_sets, 0) = 0
          AND s.qualifies AND x.set_type <> 'warmup' AND x.is_lower_body AND x.pct_e1rm IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY s.athlete_id, s.iso_week
                                   ORDER BY x.pct_e1rm DESC, x.reps, s.start_utc, x.set_index) = 1""")}
    flags = []
    for w in weeks:
        t = tops.get((w["athlete_id"], w["iso_week"]))
        if t:
            heaviest = (f"the heaviest was {t['sets']}x{t['reps']} {t['exercise']} at {_pct(t['pct_e1rm'])} "
                        "of its estimated 1RM")
            evidence = {"exercise": t["exercise"], "reps": t["reps"], "weight_kg": t["weight_kg"],
                        "pct_e1rm": round(float(t["pct_e1rm"]), 1), "session_id": t["session_id"]}
        else:
            heaviest, evidence = "no lower-body set carried weight", {}
        pct = ctx.rules.heavy_pct_e1rm
        band = f"{number(pct)}-85 %" if pct < 85 else f"{number(pct)} % or more"
        top_reps = min(_GUIDE_MAX_REPS[w["phase"]], ctx.rules.heavy_max_reps)
        reps = f"{min(3, top_reps)}-{top_reps}"
        flags.append(ctx.flag(
            w["athlete_id"], w["week_start"],
            f"No heavy lower-body set in week {w['iso_week']} ({w['phase']} phase): {heaviest}; "
            f"{w['phase']} weeks want {reps} reps at {band}",
            _week_evidence(w) | {"heavy_pct_e1rm": pct, "heavy_max_reps": ctx.rules.heavy_max_reps} | evidence))
    return flags


@rule("program.missing_pattern", "info")
def missing_pattern(ctx: RuleContext) -> list[Flag]:
    """A complete base or build week whose qualifying sessions have no squat, no hinge or no calf
    working set (one flag per week, naming every pattern missing).

    Guideline: squats, Romanian deadlifts (a hinge) and heavy calf raises are the core of a
    runner's strength program: knee, hip and ankle extensors all carry the stride. Sharpen and
    taper weeks are lighter by design, so only base and build weeks are judged; outside the
    beginner weeks, never the athlete's first week, dated on the Monday. Message: ``No hinge or
    calf working set in week 2026-W33 (base phase): the core of the week is a squat, a hinge
    (Romanian deadlift) and heavy calf raises``.
    """
    flags = []
    for w in _judged_weeks(ctx, ("base", "build")):
        missing = [name for name in ("squat", "hinge", "calf") if not w[f"{name}_sets"]]
        if not missing:
            continue
        what = " or ".join([", ".join(missing[:-1]), missing[-1]] if len(missing) > 1 else missing)
        flags.append(ctx.flag(
            w["athlete_id"], w["week_start"],
            f"No {what} working set in week {w['iso_week']} ({w['phase']} phase): the core of the week is a squat, "
            "a hinge (Romanian deadlift) and heavy calf raises",
            _week_evidence(w) | {"missing": missing, "squat_sets": int(w["squat_sets"]),
                                 "hinge_sets": int(w["hinge_sets"]), "calf_sets": int(w["calf_sets"])}))
    return flags


@rule("program.no_plyometrics", "info")
def no_plyometrics(ctx: RuleContext) -> list[Flag]:
    """A complete sharpen week with qualifying sessions and no plyometric contacts.

    Guideline: while sharpening, heavy sets of 3-5 reps go with 1-2 plyometric exercises per
    session (box jumps, pogo jumps, bounds): reactive strength is what the race pace needs.
    ``weekly_strength.plyo_contacts`` counts the reps of plyometric working sets of the
    qualifying sessions (x2 for unilateral ones). Outside the beginner weeks, dated on the Monday.
    Message: ``No plyometric contacts in week 2026-W39 (sharpen phase): add 1-2 plyometric
    exercises per session, such as box jumps, pogo jumps or bounds``.
    """
    return [
        ctx.flag(w["athlete_id"], w["week_start"],
                 f"No plyometric contacts in week {w['iso_week']} ({w['phase']} phase): add 1-2 plyometric "
                 "exercises per session, such as box jumps, pogo jumps or bounds",
                 _week_evidence(w) | {"plyo_contacts": 0})
        for w in _judged_weeks(ctx, ("sharpen",)) if not w["plyo_contacts"]
    ]


_MIN_HEAVY_REST_S = 90  # SPEC catalog: "under 90 s"; the guideline's 2-3 min, with a margin


@rule("program.rushed_rest", "info")
def rushed_rest(ctx: RuleContext) -> list[Flag]:
    """A qualifying session whose median rest between heavy sets is under 90 s (sources that time
    sets: watch FIT files; ``strength_sets.rest_s``).

    Guideline: rest 2-3 minutes between heavy sets, so each set is lifted heavy rather than
    tired. The median is taken over the session's heavy working sets that follow another working
    set (the rest after a warm-up set says nothing about recovery between heavy sets); one flag
    per session. Message: ``Median rest of 62 s before the 4 timed heavy sets of the 18:00 session:
    rest 2-3 min between heavy sets (at least 90 s)``.
    """
    rows = ctx.rows(f"""
        WITH timed AS (
            SELECT session_id, is_heavy, rest_s,
                   lag(set_type) OVER (PARTITION BY session_id ORDER BY set_index) AS previous_type
            FROM strength_sets
        )
        SELECT {_SESSION}, count(*) AS heavy_sets, median(t.rest_s) AS median_rest_s, min(t.rest_s) AS min_rest_s
        FROM strength_sessions AS s JOIN timed AS t USING (session_id)
        WHERE {_ATHLETES} AND s.qualifies AND t.is_heavy AND t.rest_s IS NOT NULL
          AND t.previous_type <> 'warmup'
        GROUP BY ALL HAVING median(t.rest_s) < ?
        ORDER BY s.athlete_id, s.start_utc""", [_MIN_HEAVY_REST_S])
    return [
        ctx.flag(r["athlete_id"], r["local_date"],
                 f"Median rest of {math.floor(r['median_rest_s'] + 1e-9)} s before the "
                 f"{plural(r['heavy_sets'], 'timed heavy set')} of {_at(r)}: rest 2-3 min between heavy sets "
                 f"(at least {_MIN_HEAVY_REST_S} s)",
                 {"session_id": r["session_id"], "heavy_sets": int(r["heavy_sets"]),
                  "median_rest_s": round(float(r["median_rest_s"]), 1), "min_rest_s": round(float(r["min_rest_s"]), 1)})
        for r in rows
    ]
