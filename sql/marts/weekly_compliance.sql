-- Strength dose per ISO week against the phase's target (SPEC Definitions).
-- Phase by days from the week's Monday to the next A race: taper < 14, sharpen 14-27, build 28-55,
-- base 56-83, off >= 84 or no race ahead; the week after a race week is recovery.
-- Target: taper 0, recovery 0, sharpen 1, otherwise strength_target_per_week; at most 1 in taper weeks.
-- strength_sessions counts qualifying sessions, at most one per local day.
-- A week is complete when its Sunday is before the as-of date; the verdict (short below the target,
-- over above strength_max, else met) is judged for complete weeks only.
with weeks as (
    select
        d.athlete_id,
        d.iso_week,
        cast(date_trunc('week', min(d.local_date)) as date) as week_start
    from int_daily_series as d
    group by d.athlete_id, d.iso_week
),
counts as (
    select
        w.athlete_id,
        w.iso_week,
        w.week_start,
        (select count(distinct s.local_date) from strength_sessions as s
         where s.athlete_id = w.athlete_id and s.iso_week = w.iso_week and s.qualifies) as strength_sessions,
        (select count(*) from int_runs as r
         where r.athlete_id = w.athlete_id and r.iso_week = w.iso_week) as runs,
        (select min(r.race_date) from stg_races as r
         where r.athlete_id = w.athlete_id and r.priority = 'A' and r.race_date >= w.week_start) as next_race,
        exists (select 1 from stg_races as r
                where r.athlete_id = w.athlete_id and r.priority = 'A'
                  and r.race_date between w.week_start - 7 and w.week_start - 1) as after_race_week
    from weeks as w
),
phased as (
    select
        c.*,
        c.week_start + 6 < b.as_of as complete,
        case
            when c.after_race_week then 'recovery'
            when c.next_race is null or c.next_race - c.week_start >= 84 then 'off'
            when c.next_race - c.week_start < 14 then 'taper'
            when c.next_race - c.week_start < 28 then 'sharpen'
            when c.next_race - c.week_start < 56 then 'build'
            else 'base'
        end as phase
    from counts as c
    cross join stg_build as b
),
targets as (
    select
        p.*,
        case p.phase
            when 'taper' then 0
            when 'recovery' then 0
            when 'sharpen' then 1
            else ath.strength_target_per_week
        end as strength_target,
        case when p.phase = 'taper' then 1 end as strength_max,
        p.week_start = sp.series_start as is_first_week
    from phased as p
    join stg_athletes as ath using (athlete_id)
    join int_athlete_spans as sp using (athlete_id)
),
judged as (
    select
        *,
        case
            when not complete then null
            when strength_sessions < strength_target then 'short'
            when strength_sessions > strength_max then 'over'
            else 'met'
        end as verdict
    from targets
)
select
    athlete_id,
    iso_week,
    week_start,
    phase,
    next_race,
    strength_sessions,
    strength_target,
    strength_max,
    runs,
    complete,
    is_first_week,
    verdict,
    verdict = 'met' as met
from judged
