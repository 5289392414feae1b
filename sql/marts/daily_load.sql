-- Daily running load with rolling 7/28-day sums, ACWR and Banister-style ATL/CTL.
-- ACWR = load of the 7 days ending that day / (load of the 28 days ending that day / 4); judged
-- (non-null) from the day the 28-day window is full of the athlete's history, i.e. from the
-- first activity's date + 27 days on, and only when the chronic load is above zero.
-- ATL/CTL: exponentially weighted (time constants 7 and 42 days),
-- x_t = x_{t-1} + (load_t - x_{t-1}) / T, starting from 0 on the series' first day.
with recursive days as (
    select
        d.athlete_id,
        d.local_date,
        coalesce(sum(r.minutes), 0) as run_minutes,
        coalesce(sum(r.km), 0) as run_km,
        coalesce(sum(r.trimp), 0) as trimp,
        coalesce(sum(r.load), 0) as load
    from int_daily_series as d
    left join int_runs as r using (athlete_id, local_date)
    group by d.athlete_id, d.local_date
),
windows as (
    select
        *,
        sum(load) over w7 as acute_7d,
        sum(load) over w28 as chronic_28d,
        row_number() over (partition by athlete_id order by local_date) as day_no
    from days
    window
        w7 as (partition by athlete_id order by local_date rows between 6 preceding and current row),
        w28 as (partition by athlete_id order by local_date rows between 27 preceding and current row)
),
ewma as (
    select athlete_id, day_no, load / 7.0 as atl, load / 42.0 as ctl
    from windows
    where day_no = 1
    union all
    select w.athlete_id, w.day_no, e.atl + (w.load - e.atl) / 7.0, e.ctl + (w.load - e.ctl) / 42.0
    from ewma as e
    join windows as w on w.athlete_id = e.athlete_id and w.day_no = e.day_no + 1
)
select
    w.athlete_id,
    w.local_date,
    strftime(w.local_date, '%G-W%V') as iso_week,
    w.run_minutes,
    w.run_km,
    w.trimp,
    w.load,
    w.acute_7d,
    w.chronic_28d,
    case
        when w.local_date >= s.first_activity_date + 27 and w.chronic_28d > 0
            then w.acute_7d / (w.chronic_28d / 4.0)
    end as acwr,
    e.atl,
    e.ctl
from windows as w
join int_athlete_spans as s using (athlete_id)
join ewma as e using (athlete_id, day_no)
