-- Per athlete: the first activity's local date, the first strength session's local date, and the
-- span the daily and weekly series cover (Monday of the first week through the as-of date or the
-- last activity, whichever is later).
with firsts as (
    select athlete_id, min(local_date) as first_activity_date, max(local_date) as last_activity_date
    from stg_activities
    group by athlete_id
),
first_strength as (
    select athlete_id, min(local_date) as first_strength_date, max(local_date) as last_strength_date
    from stg_strength_sessions
    group by athlete_id
)
select
    f.athlete_id,
    f.first_activity_date,
    s.first_strength_date,
    cast(date_trunc('week', f.first_activity_date) as date) as series_start,
    greatest(f.last_activity_date, coalesce(s.last_strength_date, f.last_activity_date), b.as_of) as series_end,
    b.as_of
from firsts as f
left join first_strength as s using (athlete_id)
cross join stg_build as b
