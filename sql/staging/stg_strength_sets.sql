-- materialized: view
-- Sets of the canonical (kept) strength sessions.
select
    x.session_id,
    x.set_index,
    x.exercise,
    x.exercise_raw,
    x.set_type,
    x.reps,
    x.weight_kg,
    x.rpe,
    x.duration_s,
    x.is_unilateral,
    x.is_plyometric
from raw.strength_sets as x
where x.session_id in (select session_id from raw.strength_sessions where duplicate_of is null)
