-- Strength per athlete and ISO week of the series (zero weeks included), for the weekly program
-- rules and the report. The set counts come from the sets of QUALIFYING sessions only, as the
-- program rules judge them (a mobility or upper-body day adds no squat sets); srpe_load is the
-- week's whole strength load (every session with RPE, like daily_load.strength_load).
-- heavy_sets: heavy lower-body working sets (strength_sets.is_heavy); median_lower_reps: the
-- median reps of the lower-body working sets with a rep count, plyometric ones aside (jumps are
-- contacts, not a load).
with weeks as (
    select distinct athlete_id, iso_week
    from int_daily_series
),
sessions as (
    select
        athlete_id,
        iso_week,
        count(*) filter (where qualifies) as qualifying_sessions,
        count(distinct local_date) filter (where qualifies) as strength_days,
        coalesce(sum(working_sets) filter (where qualifies), 0) as working_sets,
        coalesce(sum(plyo_contacts) filter (where qualifies), 0) as plyo_contacts,
        coalesce(sum(srpe_load), 0) as srpe_load
    from strength_sessions
    group by athlete_id, iso_week
),
sets as (
    select
        x.athlete_id,
        x.iso_week,
        count(*) filter (where x.is_heavy and x.is_lower_body) as heavy_sets,
        count(*) filter (where x.pattern = 'squat') as squat_sets,
        count(*) filter (where x.pattern = 'hinge') as hinge_sets,
        count(*) filter (where x.pattern = 'single_leg') as single_leg_sets,
        count(*) filter (where x.pattern = 'calf') as calf_sets,
        median(x.reps) filter (where x.is_lower_body and not x.is_plyometric and x.reps is not null)
            as median_lower_reps
    from int_strength_sets as x
    join strength_sessions as s using (session_id)
    where s.qualifies and x.is_working
    group by x.athlete_id, x.iso_week
)
select
    w.athlete_id,
    w.iso_week,
    coalesce(s.qualifying_sessions, 0) as qualifying_sessions,
    coalesce(s.strength_days, 0) as strength_days,
    coalesce(s.working_sets, 0) as working_sets,
    coalesce(x.heavy_sets, 0) as heavy_sets,
    coalesce(x.squat_sets, 0) as squat_sets,
    coalesce(x.hinge_sets, 0) as hinge_sets,
    coalesce(x.single_leg_sets, 0) as single_leg_sets,
    coalesce(x.calf_sets, 0) as calf_sets,
    coalesce(s.plyo_contacts, 0) as plyo_contacts,
    x.median_lower_reps,
    coalesce(s.srpe_load, 0) as srpe_load
from weeks as w
left join sessions as s using (athlete_id, iso_week)
left join sets as x using (athlete_id, iso_week)
