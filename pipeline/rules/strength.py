"""Strength dose rules: enough sessions per week, and no long stretch without strength.

Both read the marts ``weekly_compliance`` and ``strength_sessions`` of one athlete.
"""

from __future__ import annotations

from datetime import date, timedelta

from pipeline.rules.base import Flag, RuleContext, rule
from pipeline.wording import plural


@rule("strength.missed_sessions", "warning")
def missed_sessions(ctx: RuleContext) -> list[Flag]:
    """A complete week with runs but fewer strength sessions than its phase's target.

    Guideline: two strength sessions a week are the minimum effective dose for runners
    (one while sharpening, none to one in the two-week taper, none in the recovery week); the
    target per phase comes from ``weekly_compliance.strength_target`` (SPEC Definitions).

    Decisions: only complete weeks (their Sunday before ``--as-of``) are judged; a week without
    any run is not judged (the athlete is not training); the week of the athlete's first
    activity is never judged (it is usually partial). The flag is dated on the week's Monday.
    Message: ``Week 2026-W37: 1 strength session, target 2 (build phase)``.
    """
    rows = ctx.rows("""
        SELECT iso_week, week_start, phase, strength_sessions, strength_target, runs
        FROM weekly_compliance
        WHERE athlete_id = ? AND complete AND runs >= 1 AND NOT is_first_week
          AND strength_sessions < strength_target
        ORDER BY week_start""", [ctx.athlete.id])
    return [
        ctx.flag(
            r["week_start"],
            f"Week {r['iso_week']}: {plural(r['strength_sessions'], 'strength session')}, "
            f"target {r['strength_target']} ({r['phase']} phase)",
            {"iso_week": r["iso_week"], "strength_sessions": int(r["strength_sessions"]),
             "strength_target": int(r["strength_target"]), "phase": r["phase"], "runs": int(r["runs"])},
        )
        for r in rows
    ]


@rule("strength.detraining", "error")
def detraining(ctx: RuleContext) -> list[Flag]:
    """``detraining_days`` days without strength while running continued.

    Guideline: strength gains fade after 4-6 weeks without strength training (detraining), so
    a runner who keeps running but stops lifting loses the running-economy benefit.

    Decisions: the count starts at the athlete's first strength session (an athlete who never
    lifted is not "detraining"). For each gap after a session (the gap after the last session
    included), the flag fires on ``last session's local date + detraining_days`` when
    - that day is on or before ``--as-of``,
    - no strength session happened after the last one up to and including that day,
    - running continued: at least one run in the 7 days ending on that day (an athlete who
      stopped running after a race is resting, not detraining), and
    - that day's ISO week is not in the taper or recovery phase (``weekly_compliance.phase``),
    so at most once per gap. Message:
    ``28 days without strength since 2026-08-04 (limit 28 days), while running continued: 9 runs``.
    """
    limit = ctx.rules.detraining_days
    sessions = ctx.rows("""
        SELECT local_date, any_value(session_id ORDER BY start_utc DESC) AS session_id
        FROM strength_sessions WHERE athlete_id = ?
        GROUP BY local_date ORDER BY local_date""", [ctx.athlete.id])
    flags: list[Flag] = []
    for i, s in enumerate(sessions):
        last: date = s["local_date"]
        fire = last + timedelta(days=limit)
        following = sessions[i + 1]["local_date"] if i + 1 < len(sessions) else None
        if fire > ctx.as_of or (following is not None and following <= fire):
            continue
        runs, recent_runs, phase = ctx.con.execute("""
            SELECT
                (SELECT count(*) FROM activities
                 WHERE athlete_id = $1 AND sport = 'running' AND local_date > $2 AND local_date <= $3),
                (SELECT count(*) FROM activities
                 WHERE athlete_id = $1 AND sport = 'running' AND local_date > greatest($2, $3::DATE - 7)
                   AND local_date <= $3),
                (SELECT any_value(phase) FROM weekly_compliance
                 WHERE athlete_id = $1 AND iso_week = strftime($3::DATE, '%G-W%V'))""",
            [ctx.athlete.id, last, fire]).fetchall()[0]
        if recent_runs == 0 or phase in ("taper", "recovery"):
            continue
        flags.append(ctx.flag(
            fire,
            f"{limit} days without strength since {last.isoformat()} (limit {limit} days), "
            f"while running continued: {plural(runs, 'run')}",
            {"last_session_id": s["session_id"], "last_strength_date": last.isoformat(),
             "days_without_strength": limit, "runs_in_gap": int(runs)},
        ))
    return flags
