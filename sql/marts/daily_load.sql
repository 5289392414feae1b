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
indexed as (  -- i: updates since the seed (ATL/CTL from the first day, the EWMAs from the first run)
    select w.*, w.day_no as i_tl, w.day_no - s.first_run_day_no + 1 as i_ew, s.atl_ctl_seed, s.ewma_seed
    from windows as w
    join seeds as s using (athlete_id)
),
in_block as (  -- the block so far: rate * r^k * sum r^-j * load, k and j days into the block
    select
        *,
        (i_tl - 1) // 64 as blk_tl,
        case when i_ew >= 1 then (i_ew - 1) // 64 end as blk_ew,
        (1 / 7.0) * pow(6 / 7.0, (i_tl - 1) % 64)
            * sum(load * pow(6 / 7.0, -((i_tl - 1) % 64))) over tl as part_atl,
        (1 / 42.0) * pow(41 / 42.0, (i_tl - 1) % 64)
            * sum(load * pow(41 / 42.0, -((i_tl - 1) % 64))) over tl as part_ctl,
        (2 / 8.0) * pow(6 / 8.0, (i_ew - 1) % 64)
            * sum(load * pow(6 / 8.0, -((i_ew - 1) % 64))) over ew as part_acute,
        (2 / 29.0) * pow(27 / 29.0, (i_ew - 1) % 64)
            * sum(load * pow(27 / 29.0, -((i_ew - 1) % 64))) over ew as part_chronic
    from indexed
    window
        -- one row per day, so the block's rows are the (i - 1) % 64 rows before (one sort for both)
        tl as (partition by athlete_id order by day_no rows between (i_tl - 1) % 64 preceding and current row),
        ew as (partition by athlete_id order by day_no
               rows between greatest(coalesce((i_ew - 1) % 64, 0), 0) preceding and current row)
),
ends_tl as (
    select athlete_id, blk_tl as blk, max(i_tl) as m, arg_max(part_atl, i_tl) as atl, arg_max(part_ctl, i_tl) as ctl
    from in_block
    group by athlete_id, blk_tl
),
ends_ew as (
    select athlete_id, blk_ew as blk, max(i_ew) as m, arg_max(part_acute, i_ew) as acute,
        arg_max(part_chronic, i_ew) as chronic
    from in_block
    where blk_ew is not null
    group by athlete_id, blk_ew
),
carries_tl as (  -- every earlier block's end, decayed to the day before the block
    select
        b.athlete_id,
        b.blk,
        coalesce(sum(pow(6 / 7.0, b.blk * 64 - p.m) * p.atl), 0) as atl,
        coalesce(sum(pow(41 / 42.0, b.blk * 64 - p.m) * p.ctl), 0) as ctl
    from ends_tl as b
    left join ends_tl as p on p.athlete_id = b.athlete_id and p.blk < b.blk
    group by b.athlete_id, b.blk
),
carries_ew as (
    select
        b.athlete_id,
        b.blk,
        coalesce(sum(pow(6 / 8.0, b.blk * 64 - p.m) * p.acute), 0) as acute,
        coalesce(sum(pow(27 / 29.0, b.blk * 64 - p.m) * p.chronic), 0) as chronic
    from ends_ew as b
    left join ends_ew as p on p.athlete_id = b.athlete_id and p.blk < b.blk
    group by b.athlete_id, b.blk
),
ewma as (  -- e_i = r^i * seed + r^(days into the block) * carry + the block so far
    select
        x.athlete_id,
        x.day_no,
        pow(6 / 7.0, x.i_tl) * x.atl_ctl_seed + pow(6 / 7.0, (x.i_tl - 1) % 64 + 1) * ct.atl + x.part_atl as atl,
        pow(41 / 42.0, x.i_tl) * x.atl_ctl_seed + pow(41 / 42.0, (x.i_tl - 1) % 64 + 1) * ct.ctl + x.part_ctl as ctl,
        case when x.i_ew >= 1
            then pow(6 / 8.0, x.i_ew) * x.ewma_seed + pow(6 / 8.0, (x.i_ew - 1) % 64 + 1) * ce.acute + x.part_acute
            else x.ewma_seed
        end as ewma_acute,
        case when x.i_ew >= 1
            then pow(27 / 29.0, x.i_ew) * x.ewma_seed + pow(27 / 29.0, (x.i_ew - 1) % 64 + 1) * ce.chronic
                + x.part_chronic
            else x.ewma_seed
        end as ewma_chronic
    from in_block as x
    join carries_tl as ct on ct.athlete_id = x.athlete_id and ct.blk = x.blk_tl
    left join carries_ew as ce on ce.athlete_id = x.athlete_id and ce.blk = x.blk_ew
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
