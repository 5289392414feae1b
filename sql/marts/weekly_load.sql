-- Weekly running load per ISO week: counts, distance, TRIMP, Foster monotony and strain,
-- quality runs and the long run. Monotony = mean daily load / population SD of the 7 daily
-- loads (zero days included; null when the SD is 0); strain = weekly load x monotony.
with runs as (
    select
        athlete_id,
        iso_week,
        count(*) as run_count,
        count(*) filter (where is_quality) as quality_runs,
        max(km) as long_run_km
    from int_runs
    group by athlete_id, iso_week
),
weeks as (
    select
        athlete_id,
        iso_week,
        min(local_date) as week_start,
        sum(run_km) as run_km,
        sum(run_minutes) as run_minutes,
        sum(trimp) as trimp,
        sum(load) as load,
        avg(load) as mean_daily_load,
        stddev_pop(load) as sd_daily_load
    from daily_load
    group by athlete_id, iso_week
)
select
    w.athlete_id,
    w.iso_week,
    w.week_start,
    coalesce(r.run_count, 0) as run_count,
    w.run_km,
    w.run_minutes,
    w.trimp,
    w.load,
    case when w.sd_daily_load > 0 then w.mean_daily_load / w.sd_daily_load end as monotony,
    case when w.sd_daily_load > 0 then w.load * w.mean_daily_load / w.sd_daily_load end as strain,
    coalesce(r.quality_runs, 0) as quality_runs,
    coalesce(r.long_run_km, 0) as long_run_km
from weeks as w
left join runs as r using (athlete_id, iso_week)
