-- Runs with their training load (SPEC "Training load of a run") and the long-run mark.
-- load_source hr: HR covers >= hr_min_coverage of the moving time, load = Banister TRIMP.
-- estimated: moving minutes x the athlete's median TRIMP per moving minute of their HR-covered
-- runs that started in the 90 days before this run's start, else of all their HR-covered runs.
-- minutes: the athlete has no HR-covered run at all; load = moving minutes.
-- So one athlete's loads never mix TRIMP and minutes once any HR exists.
-- is_long: moving minutes >= the athlete's long_run_minutes.
with runs as (
    select
        a.activity_id,
        a.athlete_id,
        a.title,
        a.start_utc,
        a.end_utc,
        a.start_local,
        a.local_date,
        a.iso_week,
        coalesce(a.moving_s, a.duration_s) / 60.0 as minutes,
        coalesce(a.distance_m, 0) / 1000.0 as km,
        h.trimp,
        h.hr_coverage,
        coalesce(h.hr_coverage >= r.hr_min_coverage and h.trimp is not null, false) as hr_covered,
        coalesce(a.moving_s, a.duration_s) / 60.0 >= ath.long_run_minutes as is_long
    from stg_activities as a
    join stg_athletes as ath using (athlete_id)
    cross join stg_rules as r
    left join int_activity_hr as h using (activity_id)
    where a.sport = 'running'
),
covered as (  -- the athlete's own TRIMP per moving minute, one row per HR-covered run
    select athlete_id, start_utc, trimp / minutes as trimp_per_min
    from runs
    where hr_covered and minutes > 0
),
rate_before as (
    select u.activity_id, median(c.trimp_per_min) as trimp_per_min
    from runs as u
    join covered as c
        on c.athlete_id = u.athlete_id
        and c.start_utc < u.start_utc
        and c.start_utc >= u.start_utc - interval 90 day
    where not u.hr_covered
    group by u.activity_id
),
rate_all as (
    select athlete_id, median(trimp_per_min) as trimp_per_min
    from covered
    group by athlete_id
)
select
    u.activity_id,
    u.athlete_id,
    u.title,
    u.start_utc,
    u.end_utc,
    u.start_local,
    u.local_date,
    u.iso_week,
    u.minutes,
    u.km,
    u.trimp,
    u.hr_coverage,
    case
        when u.hr_covered then u.trimp
        when ra.trimp_per_min is not null then u.minutes * coalesce(rb.trimp_per_min, ra.trimp_per_min)
        else u.minutes
    end as load,
    case
        when u.hr_covered then 'hr'
        when ra.trimp_per_min is not null then 'estimated'
        else 'minutes'
    end as load_source,
    u.is_long,
    coalesce(q.quality_reason is not null, false) as is_quality,
    q.quality_reason
from runs as u
left join rate_before as rb using (activity_id)
left join rate_all as ra using (athlete_id)
left join int_activity_quality as q using (activity_id)
