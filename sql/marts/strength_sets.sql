-- Every set of the kept strength sessions, with the exercise normalised and classified (at build).
select
    session_id,
    set_index,
    exercise,
    exercise_raw,
    pattern,
    set_type,
    reps,
    weight_kg,
    rpe,
    duration_s,
    is_unilateral,
    is_plyometric,
    is_lower_body
from stg_strength_sets
