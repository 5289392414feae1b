-- Every set of the kept sessions with its session's athlete, date and week, and the set-level
-- measures (SPEC Definitions) that strength_sets shows and the weekly marts aggregate:
-- rest_s   = this set's start - (the previous set's start + its duration), within the session;
--            null where the source does not time sets (Strong, Hevy, simple CSV) or a value is missing.
-- e1rm_kg  = Epley, weight x (1 + reps / 30), for working sets (not warm-ups) of 1-10 reps with weight.
-- pct_e1rm = 100 x weight / the best e1rm_kg of that exercise for that athlete over the 42 local days
--            ending on the set's day (that day included); at most 100 (a set of more than 10 reps
--            carries no e1RM of its own, so its weight can exceed the best estimate).
-- is_heavy = a working set of 1..heavy_max_reps reps at pct_e1rm >= heavy_pct_e1rm, or with a logged
--            RPE >= 8 (the RPE alternative for lifters whose history holds no heavier estimate).
with sets as (
    select
        x.*,
        s.athlete_id,
        s.local_date,
        s.iso_week,
        x.set_type <> 'warmup' as is_working,
        case
            when x.set_type <> 'warmup' and x.reps between 1 and 10 and x.weight_kg > 0
                then x.weight_kg * (1 + x.reps / 30.0)
        end as e1rm_kg,
        epoch(x.start_utc - (
            lag(x.start_utc) over in_session + to_seconds(lag(x.duration_s) over in_session)
        )) as rest_s
    from stg_strength_sets as x
    join stg_strength_sessions as s using (session_id)
    window in_session as (partition by x.session_id order by x.set_index)
),
day_best as (
    select athlete_id, exercise, local_date, max(e1rm_kg) as e1rm_kg
    from sets
    where e1rm_kg is not null
    group by athlete_id, exercise, local_date
),
set_days as (
    select distinct athlete_id, exercise, local_date
    from sets
    where weight_kg > 0
),
window_best as (
    select d.athlete_id, d.exercise, d.local_date, max(b.e1rm_kg) as best_e1rm_kg
    from set_days as d
    join day_best as b
        on b.athlete_id = d.athlete_id
        and b.exercise = d.exercise
        and b.local_date between d.local_date - 41 and d.local_date
    group by d.athlete_id, d.exercise, d.local_date
),
measured as (
    select
        x.*,
        case when x.weight_kg > 0 and b.best_e1rm_kg > 0
            then least(100.0, 100.0 * x.weight_kg / b.best_e1rm_kg)
        end as pct_e1rm
    from sets as x
    left join window_best as b using (athlete_id, exercise, local_date)
)
select
    m.session_id,
    m.set_index,
    m.athlete_id,
    m.local_date,
    m.iso_week,
    m.exercise,
    m.exercise_raw,
    m.pattern,
    m.set_type,
    m.is_working,
    m.reps,
    m.weight_kg,
    m.rpe,
    m.duration_s,
    m.start_utc,
    m.rest_s,
    m.is_unilateral,
    m.is_plyometric,
    m.is_lower_body,
    m.e1rm_kg,
    m.pct_e1rm,
    coalesce(
        m.is_working and m.reps between 1 and r.heavy_max_reps
        -- a tolerance, so 70 % computed in floating point (69.99999...) is 70 %
        and (m.pct_e1rm >= r.heavy_pct_e1rm - 1e-9 or m.rpe >= 8),
        false
    ) as is_heavy
from measured as m
cross join stg_rules as r
