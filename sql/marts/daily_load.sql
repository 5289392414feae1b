-- Daily running load (SPEC "Training load of a run": int_runs.load) with 7/28-day sums, ACWR,
-- ATL/CTL and TSB, one row per day of the series (int_daily_series).
-- ACWR by rules.acwr_method:
--   rolling   = acute_7d / (chronic_28d / 4)
--   uncoupled = (acute_7d / 7) / (load of the 21 days before those 7 / 21)
--   ewma      = EWMA(lambda 2/8) / EWMA(lambda 2/29) of the daily load (Williams et al. 2017,
--               lambda = 2 / (N + 1), N = 7 and 28): e_t = lambda * load_t + (1 - lambda) * e_{t-1}.
--               Seeding (Williams leaves it open): both start, the day before the first run, at
--               the mean daily load of the 28 days from the first run (the first judged day's own
--               window), so the first judged ratio carries no start-up bias towards 0 or 1.
-- ACWR is judged (non-null) from the athlete's first run + 27 days on, only while
-- chronic_28d / 4 >= rules.acwr_min_weekly_load (and never over an empty denominator).
-- ATL/CTL: x_t = x_{t-1} + (load_t - x_{t-1}) / T, T = 7 and 42, both seeded (x before the first
-- day) with the mean daily load of the series' first 42 days (fewer when shorter).
-- TSB on a day = the previous day's CTL - ATL (null on the first day).
-- strength_load: the sum of the day's strength_sessions.srpe_load (session RPE x minutes, Foster
-- 2001), 0 without one; kept apart: it never enters load, ACWR, ATL or CTL.
-- The four exponential averages are computed set-based, not by a recursion over days: with
-- r = 1 - lambda, e_i = r^i * seed + lambda * sum_{j<=i} r^(i-j) * x_j (i = days since the seed).
-- Powers of r are taken relative to the start of 64-day blocks (r^-63 stays finite), each day
-- adds the carry e at its block's start times r^(days into the block), and a block's carry is
-- the sum over the earlier blocks' ends (a join of blocks, not of days): one pass, any athletes.
with days as (
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
first_runs as (
    select athlete_id, min(local_date) as first_run_date
    from int_runs
    group by athlete_id
),
windows as materialized (
    select
        d.*,
        f.first_run_date,
        coalesce(d.local_date >= f.first_run_date, false) as running_started,
        sum(d.load) over w7 as acute_7d,
        sum(d.load) over w28 as chronic_28d,
        coalesce(sum(d.load) over w21_before, 0) as before_21d,
        row_number() over (partition by d.athlete_id order by d.local_date) as day_no
    from days as d
    left join first_runs as f using (athlete_id)
    window
        w7 as (partition by d.athlete_id order by d.local_date rows between 6 preceding and current row),
        w28 as (partition by d.athlete_id order by d.local_date rows between 27 preceding and current row),
        w21_before as (partition by d.athlete_id order by d.local_date rows between 27 preceding and 7 preceding)
),
seeds as (
    select
        athlete_id,
        cast(avg(load) filter (where day_no <= 42) as double) as atl_ctl_seed,
        cast(coalesce(avg(load) filter (
            where local_date between first_run_date and first_run_date + 27), 0) as double) as ewma_seed,
        min(day_no) filter (where running_started) as first_run_day_no
    from windows
    group by athlete_id
),
series as (  -- one row per athlete, average and updated day: i counts the updates since the seed
    select w.athlete_id, w.day_no, v.name, v.rate, v.seed, v.i, w.load as x
    from windows as w
    join seeds as s using (athlete_id),
    lateral (
        select * from (values
            ('atl', 1 / 7.0, s.atl_ctl_seed, w.day_no),
            ('ctl', 1 / 42.0, s.atl_ctl_seed, w.day_no),
            ('ewma_acute', 2 / 8.0, s.ewma_seed, w.day_no - s.first_run_day_no + 1),
            ('ewma_chronic', 2 / 29.0, s.ewma_seed, w.day_no - s.first_run_day_no + 1)
        ) as t (name, rate, seed, i)
    ) as v
    where v.i >= 1
),
in_block as (
    select
        *,
        (i - 1) // 64 as blk,
        rate * pow(1 - rate, (i - 1) % 64) * sum(x * pow(1 - rate, -((i - 1) % 64)))
            over (partition by athlete_id, name, (i - 1) // 64 order by i rows unbounded preceding) as part
    from series
),
block_ends as (
    select athlete_id, name, blk, any_value(rate) as rate, max(i) as m, arg_max(part, i) as part
    from in_block
    group by athlete_id, name, blk
),
carries as (  -- e on the day before each block: the seed and every earlier block's end, decayed
    select
        b.athlete_id,
        b.name,
        b.blk,
        coalesce(sum(pow(1 - b.rate, b.blk * 64 - p.m) * p.part), 0) as from_blocks
    from block_ends as b
    left join block_ends as p on p.athlete_id = b.athlete_id and p.name = b.name
        and p.blk < b.blk
    group by b.athlete_id, b.name, b.blk
),
averaged as (
    select
        x.athlete_id,
        x.day_no,
        x.name,
        pow(1 - x.rate, x.i) * x.seed + pow(1 - x.rate, (x.i - 1) % 64 + 1) * c.from_blocks + x.part as value
    from in_block as x
    join carries as c using (athlete_id, name, blk)
),
ewma as (
    select
        w.athlete_id,
        w.day_no,
        max(a.value) filter (where a.name = 'atl') as atl,
        max(a.value) filter (where a.name = 'ctl') as ctl,
        coalesce(max(a.value) filter (where a.name = 'ewma_acute'), any_value(s.ewma_seed)) as ewma_acute,
        coalesce(max(a.value) filter (where a.name = 'ewma_chronic'), any_value(s.ewma_seed)) as ewma_chronic
    from windows as w
    join seeds as s using (athlete_id)
    left join averaged as a using (athlete_id, day_no)
    group by w.athlete_id, w.day_no
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
        when w.local_date >= w.first_run_date + 27
            and w.chronic_28d > 0
            and w.chronic_28d / 4.0 >= r.acwr_min_weekly_load
            then case r.acwr_method
                when 'uncoupled' then (w.acute_7d / 7.0) / nullif(w.before_21d / 21.0, 0)
                when 'ewma' then e.ewma_acute / nullif(e.ewma_chronic, 0)
                else w.acute_7d / (w.chronic_28d / 4.0)
            end
    end as acwr,
    e.atl,
    e.ctl,
    lag(e.ctl) over series - lag(e.atl) over series as tsb,
    coalesce(st.strength_load, 0) as strength_load
from windows as w
join ewma as e using (athlete_id, day_no)
cross join stg_rules as r
left join (
    select athlete_id, local_date, sum(srpe_load) as strength_load
    from strength_sessions
    group by athlete_id, local_date
) as st using (athlete_id, local_date)
window series as (partition by w.athlete_id order by w.local_date)
