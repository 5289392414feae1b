"""Load rule: the acute:chronic workload ratio (the ``daily_load`` mart).

ACWR on a day = load of the 7 days ending that day / (load of the 28 days ending that day / 4);
load = Banister TRIMP of the runs, or run minutes for a run without heart rate. The mart leaves
``acwr`` null until the 28-day window holds the athlete's history (first activity + 27 days).
"""

from __future__ import annotations

from pipeline.rules.base import Flag, RuleContext, rule
from pipeline.wording import number, plural


@rule("load.acwr_high", "warning")
def acwr_high(ctx: RuleContext) -> list[Flag]:
    """ACWR above ``acwr_max`` on some day of an ISO week (one flag per week).

    Guideline: a week's load well above what the last four weeks prepared for (ACWR > 1.5) is
    the spike associated with overuse injuries; build load gradually. Judged only with 28 days
    of history (``daily_load.acwr`` is null before). Dated on the first such day of the week.
    Message: ``Load spike on Sat 2026-07-04: 7-day load 360 is 1.60 times the 4-week average of
    225 per week (ACWR limit 1.5); 2 days over the limit this week``.
    """
    limit = ctx.rules.acwr_max
    cur = ctx.con.execute("""
        SELECT iso_week,
               min(local_date) AS first_day,
               arg_min(acwr, local_date) AS acwr,
               arg_min(acute_7d, local_date) AS acute_7d,
               arg_min(chronic_28d, local_date) AS chronic_28d,
               max(acwr) AS max_acwr,
               count(*) AS days_over
        FROM daily_load
        WHERE athlete_id = ? AND acwr > ? AND local_date <= ?
        GROUP BY iso_week ORDER BY first_day""", [ctx.athlete.id, limit, ctx.as_of])
    flags = []
    for week, day, acwr, acute, chronic, max_acwr, days_over in cur.fetchall():
        flags.append(ctx.flag(
            day,
            f"Load spike on {day.strftime('%a')} {day.isoformat()}: 7-day load {acute:.0f} is {acwr:.2f} times "
            f"the 4-week average of {chronic / 4:.0f} per week (ACWR limit {number(limit)}); "
            f"{plural(days_over, 'day')} over the limit this week",
            {"iso_week": week, "acwr": round(float(acwr), 2), "acute_7d": round(float(acute), 1),
             "chronic_28d": round(float(chronic), 1), "max_acwr": round(float(max_acwr), 2),
             "days_over": int(days_over)}))
    return flags
