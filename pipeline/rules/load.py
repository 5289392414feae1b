"""Load rules: the acute:chronic workload ratio (``daily_load``) and Foster monotony (``weekly_load``).

Load is the v2 training load of the runs (SPEC "Training load of a run"): Banister TRIMP where
HR covers the run, else estimated from the athlete's own TRIMP per minute, minutes only for an
athlete without any HR. ``daily_load.acwr`` follows ``rules.acwr_method`` and is null until the
athlete's first run + 27 days and while the 28-day load / 4 is under ``acwr_min_weekly_load``.
"""

from __future__ import annotations

from datetime import date

from pipeline.rules.base import Flag, RuleContext, rule
from pipeline.wording import number, plural


def load_text(x: float) -> str:
    """A load as a runner reads it: whole numbers from 10 on, two significant digits below
    (``7.9``, ``0.25``), so a non-zero load never prints as ``0``."""
    x = float(x)
    if x == 0:
        return "0"
    return f"{x:.0f}" if abs(x) >= 9.5 else f"{x:.2g}"


def above_text(x: float, limit: float) -> str:
    """``x`` (which is above ``limit``) with 2 decimals, or as many more as it takes for the printed
    number to read above the limit (``1.5004`` against 1.5, not ``1.50``)."""
    for digits in range(2, 7):
        text = f"{x:.{digits}f}"
        if float(text) > limit:
            return text
    return f"{x:g}"


_ACWR_WORDING = {
    "rolling": "7-day load {acute} is {acwr} times the 4-week average of {chronic} per week (ACWR limit {limit})",
    "uncoupled": "7-day load {acute} is {acwr} times the average of {before} per week over the 3 weeks before "
                 "(uncoupled ACWR limit {limit})",
    "ewma": "the exponentially weighted 7-day load is {acwr} times the 28-day one (EWMA ACWR limit {limit}); "
            "7-day load {acute}, 4-week average {chronic} per week",
}


@rule("load.acwr_high", "warning")
def acwr_high(ctx: RuleContext) -> list[Flag]:
    """ACWR above ``acwr_max`` on some day of an ISO week (one flag per week), race days aside.

    Guideline: a week's load well above what the last four weeks prepared for (ACWR > 1.5) is
    the spike associated with overuse injuries (Gabbett 2016); build load gradually. Judged only
    with 28 days of running history and a chronic load of at least ``acwr_min_weekly_load`` per
    week (``daily_load.acwr`` is null otherwise). A race of any priority is a planned spike: its
    date never carries the flag and is skipped when finding the week's first day over the limit.
    Message (rolling): ``Load spike on Sat 2026-07-04: 7-day load 360 is 1.60 times the 4-week
    average of 225 per week (ACWR limit 1.5); 2 days over the limit this week``.
    """
    limit = ctx.rules.acwr_max
    method = ctx.rules.acwr_method
    rows = ctx.rows("""
        SELECT d.athlete_id, d.iso_week,
               min(d.local_date) AS first_day,
               arg_min(d.acwr, d.local_date) AS acwr,
               arg_min(d.acute_7d, d.local_date) AS acute_7d,
               arg_min(d.chronic_28d, d.local_date) AS chronic_28d,
               max(d.acwr) AS max_acwr,
               count(*) AS days_over
        FROM daily_load AS d
        WHERE d.athlete_id IN (SELECT athlete_id FROM rule_athletes) AND d.acwr > ? AND d.local_date <= ?
          AND NOT EXISTS (SELECT 1 FROM rule_races AS r
                          WHERE r.athlete_id = d.athlete_id AND r.race_date = d.local_date)
        GROUP BY d.athlete_id, d.iso_week ORDER BY d.athlete_id, first_day""", [limit, ctx.as_of])
    flags = []
    for r in rows:
        day, acwr, acute, chronic = r["first_day"], r["acwr"], r["acute_7d"], r["chronic_28d"]
        what = _ACWR_WORDING[method].format(
            acute=load_text(acute), acwr=above_text(acwr, limit), chronic=load_text(chronic / 4),
            before=load_text((chronic - acute) / 3), limit=number(limit))
        flags.append(ctx.flag(
            r["athlete_id"], day,
            f"Load spike on {day.strftime('%a')} {day.isoformat()}: {what}; "
            f"{plural(r['days_over'], 'day')} over the limit this week",
            {"iso_week": r["iso_week"], "acwr": round(float(acwr), 2), "acwr_method": method,
             "acute_7d": round(float(acute), 1), "chronic_28d": round(float(chronic), 1),
             "max_acwr": round(float(r["max_acwr"]), 2), "days_over": int(r["days_over"])}))
    return flags


@rule("load.monotony_high", "warning")
def monotony_high(ctx: RuleContext) -> list[Flag]:
    """A complete week with at least 3 runs whose Foster monotony is above ``monotony_max``.

    Guideline: Foster (1998) found that weeks of monotonous training (mean daily load / its SD
    above 2) with high strain (weekly load x monotony) went with most of the athletes' illnesses
    and signs of overtraining; alternate hard and easy days and keep rest days. Judged on complete
    weeks (their Sunday before the as-of date), never the week of the athlete's first activity;
    dated on the week's Monday. Message: ``Monotonous training in 2026-W23: monotony 2.45 is above
    the limit of 2 over 5 runs (strain 1234); the days' loads barely vary ...``.
    """
    limit = ctx.rules.monotony_max
    rows = ctx.rows("""
        SELECT w.athlete_id, w.iso_week, w.run_count, w.load, w.monotony, w.strain
        FROM weekly_load AS w
        JOIN (SELECT athlete_id, strftime(min(local_date), '%G-W%V') AS first_week FROM activities
              WHERE athlete_id IN (SELECT athlete_id FROM rule_athletes) GROUP BY athlete_id) AS a USING (athlete_id)
        WHERE w.run_count >= 3 AND w.monotony > ? AND w.iso_week > a.first_week
        ORDER BY w.athlete_id, w.iso_week""", [limit])
    flags = []
    for row in rows:
        year, week = row["iso_week"].split("-W")
        monday = date.fromisocalendar(int(year), int(week), 1)
        if monday.toordinal() + 6 >= ctx.as_of.toordinal():  # its Sunday is not before as_of
            continue
        monotony = float(row["monotony"])
        shown = "10 (the most it counts: the days barely differ)" if monotony >= 10 else above_text(monotony, limit)
        flags.append(ctx.flag(
            row["athlete_id"], monday,
            f"Monotonous training in {row['iso_week']}: monotony {shown} is above the limit of "
            f"{number(limit)} over {plural(int(row['run_count']), 'run')} (strain {load_text(row['strain'])}); "
            "the days' loads barely vary, so easy and rest days do not let you recover, and high monotony "
            "with high strain goes with illness and overtraining: make easy days easier and keep rest days",
            {"iso_week": row["iso_week"], "monotony": round(monotony, 2), "monotony_max": limit,
             "strain": round(float(row["strain"]), 1), "load": round(float(row["load"]), 1),
             "run_count": int(row["run_count"])}))
    return flags
