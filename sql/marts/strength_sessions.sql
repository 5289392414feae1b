-- One row per strength session after merging sources.
select
    s.session_id,
    s.athlete_id,
    s.title,
    s.start_utc,
    s.end_utc,
    s.start_local,
    s.local_date,
    s.iso_week,
    s.duration_s,
    coalesce(w.working_sets, 0) as working_sets,
    coalesce(w.total_sets, 0) as total_sets,
    s.activity_id,
    s.source_format,
    s.source_file
from stg_strength_sessions as s
left join (
    select session_id, count(*) filter (where set_type <> 'warmup') as working_sets, count(*) as total_sets
    from stg_strength_sets
    group by session_id
) as w using (session_id)
