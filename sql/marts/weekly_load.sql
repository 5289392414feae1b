-- Weekly running load per ISO week: counts, distance, TRIMP, Foster monotony and strain,
-- quality runs and the long run. Monotony (Foster 1998) = mean daily load / population SD of the
-- 7 daily loads (zero days included), at most 10 (so 10 when the SD is 0 and the load is not);
-- null when the week's load is 0 or the series holds fewer than its 7 days (the as-of week);
-- strain = weekly load x monotony.
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
        stddev_pop(load) as sd_daily_load,
        count(*) as days
    from daily_load
    group by athlete_id, iso_week
),
monotony as (
    select
        athlete_id,
        iso_week,
        case
            when days < 7 or load <= 0 then null
            when sd_daily_load <= 1e-9 * mean_daily_load then 10.0  -- equal days (float noise aside)
            else least(10.0, mean_daily_load / sd_daily_load)
        end as monotony
    from weeks
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
    m.monotony,
    w.load * m.monotony as strain,
    coalesce(r.quality_runs, 0) as quality_runs,
    coalesce(r.long_run_km, 0) as long_run_km
from weeks as w
join monotony as m using (athlete_id, iso_week)
left join runs as r using (athlete_id, iso_week)
