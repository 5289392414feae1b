-- Runs with their training load: TRIMP, or minutes where the run has no heart rate (SPEC).
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
    coalesce(h.trimp, coalesce(a.moving_s, a.duration_s) / 60.0) as load,
    coalesce(q.quality_reason is not null, false) as is_quality,
    q.quality_reason
from stg_activities as a
left join int_activity_hr as h using (activity_id)
left join int_activity_quality as q using (activity_id)
where a.sport = 'running'
