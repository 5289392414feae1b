"""Taper rules: strength in the ``taper_days`` before an A race (race day excluded).

The taper window of a race on day R is the local dates [R - taper_days, R - 1]; only A races
(config ``[[races]]`` with priority "A" for the athlete, ``rule_races``) have one. Both rules count every
session with a lower-body working set, qualifying or not: a short leg session is still one
too many in a taper (SPEC Definitions), while mobility and upper-body days are not judged.
"""

from __future__ import annotations

from datetime import date

from pipeline.rules.base import Flag, Row, RuleContext, rule
from pipeline.wording import number, plural


def _windows(ctx: RuleContext) -> list[tuple[str, date, str, list[Row]]]:
    """(athlete, race date, race label, sessions in its taper window ordered by start) per A race
    with at least one session in its window, for every athlete in one query."""
    rows = ctx.rows("""
        SELECT r.athlete_id, r.race_no, r.race_date, r.name,
               s.session_id, s.local_date, s.start_local, s.duration_s
        FROM rule_races AS r
        JOIN strength_sessions AS s
          ON s.athlete_id = r.athlete_id AND s.lower_body_sets > 0
         AND s.local_date BETWEEN r.race_date - CAST(? AS INTEGER) AND r.race_date - 1
        WHERE r.priority = 'A'
        ORDER BY r.athlete_id, r.race_no, s.start_utc""", [ctx.rules.taper_days])
    races: dict[tuple[str, int], list[Row]] = {}
    for r in rows:
        races.setdefault((r["athlete_id"], r["race_no"]), []).append(r)
    out = []
    for (athlete, _), sessions in races.items():
        race, name = sessions[0]["race_date"], sessions[0]["name"]
        label = f"the A race {name} on {race}" if name and name != "Race" else f"the A race on {race}"
        out.append((athlete, race, label, sessions))
    return out


@rule("taper.too_many_sessions", "error")
def too_many_sessions(ctx: RuleContext) -> list[Flag]:
    """More than one session with lower-body work in the taper window of an A race (one flag per race).

    Guideline: in the two-week taper strength drops to 0-1 short maintenance session so the legs
    arrive fresh. Dated on the local date of the second session in the window (the first one
    too many). Message: ``3 strength sessions in the 14 days before the A race Autumn Marathon
    on 2026-10-18 (taper: at most 1)``.
    """
    flags = []
    for athlete, race, label, sessions in _windows(ctx):
        if len(sessions) > 1:
            flags.append(ctx.flag(
                athlete, sessions[1]["local_date"],
                f"{plural(len(sessions), 'strength session')} in the {ctx.rules.taper_days} days before {label} "
                "(taper: at most 1)",
                {"race_date": race.isoformat(), "sessions": len(sessions),
                 "session_ids": [s["session_id"] for s in sessions]}))
    return flags


@rule("taper.long_session", "warning")
def long_session(ctx: RuleContext) -> list[Flag]:
    """A session with lower-body work in the taper window longer than ``taper_max_minutes``.

    Guideline: a taper strength session is short maintenance (0-1 per week in the two-week
    taper); a long session adds fatigue right before the race. One flag per session, dated on
    its local date. Message: ``45-min strength session 9 days before the A race Autumn Marathon
    on 2026-10-18 (taper limit 30 min)``.
    """
    limit = ctx.rules.taper_max_minutes
    flags = []
    for athlete, race, label, sessions in _windows(ctx):
        for s in sessions:
            minutes = float(s["duration_s"]) / 60
            if minutes > limit:
                days = (race - s["local_date"]).days
                flags.append(ctx.flag(
                    athlete, s["local_date"],
                    f"{number(round(minutes, 1))}-min strength session {plural(days, 'day')} before "
                    f"{label} (taper limit {number(limit)} min)",
                    {"session_id": s["session_id"], "race_date": race.isoformat(),
                     "minutes": round(minutes, 1), "days_before_race": days}))
    return flags
