-- materialized: view
-- Sets of the canonical (kept) strength sessions, classified by the exercise table as it is at
-- this build (internal.exercise_names, loaded by the runner before the models from the logged names).
select
    x.session_id,
    x.set_index,
    n.exercise,
    x.exercise_raw,
    coalesce(n.pattern, 'other') as pattern,
    x.set_type,
    x.reps,
    x.weight_kg,
    x.rpe,
    x.duration_s,
    x.start_utc,
    coalesce(n.is_unilateral, false) as is_unilateral,
    coalesce(n.is_plyometric, false) as is_plyometric,
    coalesce(n.is_lower_body, false) as is_lower_body
from raw.strength_sets as x
left join internal.exercise_names as n on n.exercise_raw = x.exercise_raw
where x.session_id in (select session_id from raw.strength_sessions where duplicate_of is null)
