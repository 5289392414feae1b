"""Strength dose rules: enough sessions per week, and no long stretch without strength.

Both read the marts ``weekly_compliance`` and ``strength_sessions`` of every athlete at once.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import date, timedelta

from pipeline.rules.base import Flag, RuleContext, group, rule
from pipeline.wording import iso_week, plural


@rule("strength.missed_sessions", "warning")
def missed_sessions(ctx: RuleContext) -> list[Flag]:
    """A complete week with runs but fewer qualifying strength days than its phase's target.

    Guideline: two strength sessions a week are the minimum effective dose for runners
    (one while sharpening, none to one in the two-week taper, none in the recovery week); the
    target per phase comes from ``weekly_compliance.strength_target`` (SPEC Definitions).

    Decisions: only complete weeks (their Sunday before ``--as-of``) are judged; a week without
    any run is not judged (the athlete is not training); the week of the athlete's first
    activity is never judged (it is usually partial). The flag is dated on the week's Monday.
    Message: ``Week 2026-W37: 1 qualifying strength session, target 2 (build phase)``.
    """
    rows = ctx.rows("""
        SELECT athlete_id, iso_week, week_start, phase, strength_sessions, strength_target, runs
        FROM weekly_compliance
        WHERE athlete_id IN (SELECT athlete_id FROM rule_athletes)
          AND verdict = 'short' AND runs >= 1 AND NOT is_first_week
        ORDER BY athlete_id, week_start""")
    return [
        ctx.flag(
            r["athlete_id"], r["week_start"],
            f"Week {r['iso_week']}: {plural(r['strength_sessions'], 'qualifying strength session')}, "
            f"target {r['strength_target']} ({r['phase']} phase)",
            {"iso_week": r["iso_week"], "strength_sessions": int(r["strength_sessions"]),
             "strength_target": int(r["strength_target"]), "phase": r["phase"], "runs": int(r["runs"])},
        )
        for r in rows
    ]


@rule("strength.detraining", "error")
def detraining(ctx: RuleContext) -> list[Flag]:
    """``detraining_days`` days without a qualifying strength session while running continued.

    Guideline: strength gains fade after 4-6 weeks without strength training (detraining), so
    a runner who keeps running but stops lifting loses the running-economy benefit.

    Decisions (SPEC Definitions): the count starts at the athlete's first qualifying session (an
    athlete who never lifted is not "detraining") and restarts at each qualifying session. Once a
    gap reaches ``detraining_days``, the flag fires on the first day of the gap, up to ``--as-of``,
    that lies outside taper and recovery weeks (``weekly_compliance.phase``: less strength is the
    plan there) and has a run in the 7 days ending on it (an athlete who stopped running is
    resting, not detraining). So a gap whose 28th day falls in a taper still fires after it; at
    most one flag per gap. Message:
    ``30 days without strength since 2026-08-04 (limit 28 days), while running continued: 9 runs``.
    """
    athletes = "athlete_id IN (SELECT athlete_id FROM rule_athletes)"
    lifted = group(ctx.rows(f"""
        SELECT DISTINCT athlete_id, local_date FROM strength_sessions WHERE {athletes} AND qualifies
        ORDER BY athlete_id, local_date"""))
    if not lifted:
        return []
    paused: dict[str, set[str]] = {}
    for r in ctx.rows(f"SELECT athlete_id, iso_week FROM weekly_compliance WHERE {athletes} "
                      "AND phase IN ('taper', 'recovery')"):
        paused.setdefault(r["athlete_id"], set()).add(r["iso_week"])
    runs: dict[str, list[date]] = {}
    for r in ctx.rows(f"SELECT athlete_id, local_date FROM activities WHERE {athletes} AND sport = 'running' "
                      "ORDER BY athlete_id, local_date"):
        runs.setdefault(r["athlete_id"], []).append(r["local_date"])
    flags: list[Flag] = []
    for athlete, rows in lifted.items():
        flags += _gaps(ctx, athlete, [r["local_date"] for r in rows], paused.get(athlete, set()),
                       runs.get(athlete, []))
    return flags


def _gaps(ctx: RuleContext, athlete: str, days: list[date], paused: set[str], runs: list[date]) -> list[Flag]:
    """The detraining flags of one athlete from their qualifying days, paused weeks and run days."""
    limit = ctx.rules.detraining_days
    flags: list[Flag] = []
    for last, following in zip(days, [*days[1:], None], strict=True):
        end = ctx.as_of if following is None else min(ctx.as_of, following - timedelta(days=1))
        fire = next((d for d in _days(last + timedelta(days=limit), end)
                     if iso_week(d) not in paused and _ran(runs, d - timedelta(days=6), d)), None)
        if fire is None:
            continue
        flags.append(ctx.flag(
            athlete, fire,
            f"{(fire - last).days} days without strength since {last.isoformat()} (limit {limit} days), "
            f"while running continued: {plural(_count(runs, last + timedelta(days=1), fire), 'run')}",
            {"last_strength_date": last.isoformat(), "days_without_strength": (fire - last).days,
             "runs_in_gap": _count(runs, last + timedelta(days=1), fire)},
        ))
    return flags


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _count(runs: list[date], first: date, last: date) -> int:
    """Runs on the local dates [first, last] (``runs`` sorted)."""
    return bisect_right(runs, last) - bisect_left(runs, first)


def _ran(runs: list[date], first: date, last: date) -> bool:
    return _count(runs, first, last) > 0
