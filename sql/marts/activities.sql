-- Every recorded activity (strength ones too), one row each after de-duplication.
-- load / load_source come from int_runs: runs only, null for every other sport (running load is
-- what the load metrics sum; cycling or strength add none). is_long is false for non-runs.
select
    a.activity_id,
    a.athlete_id,
    a.sport,
    a.sub_sport,
    a.title,
    a.start_utc,
    a.end_utc,
    a.start_local,
    a.local_date,
    a.iso_week,
    a.duration_s,
    a.moving_s,
    a.distance_m,
    a.avg_hr,
    a.max_hr,
    h.trimp,
    r.load,
    r.load_source,
    h.hr_coverage,
    coalesce(q.quality_reason is not null, false) as is_quality,
    q.quality_reason,
    coalesce(r.is_long, false) as is_long,
    a.source_format,
    a.source_file
from stg_activities as a
left join int_activity_hr as h using (activity_id)
left join int_activity_quality as q using (activity_id)
left join int_runs as r using (activity_id)
